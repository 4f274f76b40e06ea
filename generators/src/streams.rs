//! The stream tier's guests: values of random types carried through `stream<T>` and `future<T>` between two
//! component instances, each with its own memory, string encoding and `realloc`.
//!
//! Each export `e{i}: async func(x: list<T>) -> list<T>` returns `x`, but not by echoing it: a nested *writer*
//! component makes a stream (or a future) and passes its readable end to its sibling, the *reader* component's
//! `s{i}: async func(s: stream<T>) -> list<T>`, through an `async` lower; it then writes `x`'s elements into the
//! stream in chunks of a fixed size, drops its writable end, waits for the reader's subtask to return and returns
//! what the reader collected. The reader reads into a buffer that it grows with its
//! own `realloc`, in chunks of another size, until the writer's end is dropped, and returns the elements it read.
//! The future flavour sends the whole list as one `future<list<T>>`. In half the cases the roles are swapped
//! ([`Direction::Result`]): the exported caller is the reader, and calls the writer's
//! `p{i}: async func(x: list<T>) -> stream<T>`, which returns the readable end with `task.return` and writes after
//! returning, so a stream or a future crosses as a result, and the callee runs on after its caller has its value.
//! A callee writing a returned future finishes (learns that its write completed, drops its writable end, exits)
//! after its caller has read the value, and so possibly after the host's call returned and the next call began:
//! when that last step runs is the executor's choice. Each side keeps one call's state per instance (in
//! globals), so the writing callee holds backpressure from its start to its exit: a second call waits, `STARTING`,
//! until the first is done, its arguments lifted only then.
//!
//! Every copy crosses memories and string encodings with the element type's full lifting and lowering (strings
//! and lists inside elements are allocated in the reader by its `realloc`); the different chunk sizes make partial
//! copies, and a read or write that blocks joins a waitable set, so both the immediate and the event-driven
//! completions run. Some exports cancel their first blocked write or read (`stream.cancel-write`/`cancel-read`,
//! synchronously, which the spec allows only on an end outside any waitable set: the end leaves its set with
//! `waitable.join(end, 0)` and joins it again after) and go on from what the cancelled copy had done.
//!
//! What the spec leaves open — whether a copy completes at once or later, how many elements each completion
//! carries, whether a cancel finds the copy done — cannot change the result: the reader gets the writer's
//! elements in order whatever the chunks were. So every call's expected result is its argument, and engines that
//! schedule differently must still agree.

use wasm_encoder::{
    BlockType, CanonicalOption, CodeSection, ComponentBuilder, ComponentExportKind, ComponentValType, EntityType,
    ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction as I,
    MemArg, MemoryType, Module, ModuleArg, TypeSection, ValType,
};

use crate::encode::TypeEncoder;
use crate::guest::{self, Encoding, ReallocMode, INITIAL_PAGES, RET_AREA};
use crate::ty::{Ty, TypeSet};

/// How a channel's values travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A `stream<T>`, written `write` elements and read `read` elements at a time; `cancel` cancels the first
    /// write (on the writer's side) or read (on the reader's) that blocks.
    Stream {
        /// Elements per `stream.write`.
        write: u32,
        /// Elements per `stream.read`.
        read: u32,
        /// Cancel the first blocked write.
        cancel_write: bool,
        /// Cancel the first blocked read.
        cancel_read: bool,
    },
    /// One `future<list<T>>` carrying the whole list.
    Future,
}

/// Which way the channel runs between the two components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The caller writes and passes the readable end as a parameter: the callee `s{i}: async func(s: stream<T>)
    /// -> list<T>` reads it.
    Param,
    /// The callee `p{i}: async func(x: list<T>) -> stream<T>` returns the readable end with `task.return` and
    /// writes after returning; the caller reads it.
    Result,
}

/// One export's channel: its element type, how the values travel, and the string encodings of both sides.
#[derive(Clone, Debug)]
pub struct Channel {
    /// The element type `T`.
    pub elem: Ty,
    /// Stream or future.
    pub transport: Transport,
    /// The writer's string encoding.
    pub writer: Encoding,
    /// The reader's (nested component's) string encoding.
    pub reader: Encoding,
}

impl Channel {
    /// A short description for a case's note.
    pub fn describe(&self, set: &TypeSet) -> String {
        let how = match self.transport {
            Transport::Stream { write, read, cancel_write, cancel_read } => {
                let mut s = format!("stream<{}> written {write}, read {read} at a time", set.wit(&self.elem));
                if cancel_write {
                    s.push_str(", first blocked write cancelled");
                }
                if cancel_read {
                    s.push_str(", first blocked read cancelled");
                }
                s
            }
            Transport::Future => format!("future<list<{}>>", set.wit(&self.elem)),
        };
        format!("{how}, {} to {}", self.writer.name(), self.reader.name())
    }

    fn list(&self) -> Ty {
        Ty::List(Box::new(self.elem.clone()))
    }

    /// The type the channel carries per element: `T` for a stream, `list<T>` for a future.
    fn payload(&self) -> Ty {
        match self.transport {
            Transport::Stream { .. } => self.elem.clone(),
            Transport::Future => self.list(),
        }
    }
}

/// Whether `ty` is `char`, directly or through aliases: not a valid stream element.
pub fn is_char(set: &TypeSet, ty: &Ty) -> bool {
    match ty {
        Ty::Char => true,
        Ty::Named(i) => matches!(&set.defs[*i].1, crate::ty::Def::Alias(t) if is_char(set, t)),
        _ => false,
    }
}

/// The spec's constants (`definitions.py`).
const BLOCKED: i32 = -1;
pub(crate) const RETURNED: i32 = 2;
const COMPLETED: i32 = 0;
const DROPPED: i32 = 1;
pub(crate) const EVENT_SUBTASK: i32 = 1;
const EVENT_STREAM_READ: i32 = 2;
const EVENT_STREAM_WRITE: i32 = 3;
const EVENT_FUTURE_READ: i32 = 4;
const EVENT_FUTURE_WRITE: i32 = 5;
pub(crate) const EXIT: i32 = 0;
const WAIT: i32 = 2;

/// Where the writer stores the `(ptr, len)` of the list it sends through a future.
const SLOT: u32 = RET_AREA + 16;

pub(crate) fn mem(offset: u32, align: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align, memory_index: 0 }
}

/// The core function types both sides' modules use, in one type section.
pub(crate) struct Types {
    pub section: TypeSection,
    pub realloc: u32,
    pub unit: u32,
    pub to_i32: u32,
    pub to_i64: u32,
    pub i32x2: u32,
    pub i32_unit: u32,
    pub i32_i32: u32,
    pub i32x2_i32: u32,
    pub i32x3_i32: u32,
    pub i32x3: u32,
}

impl Types {
    pub fn new() -> Types {
        use ValType::{I32, I64};
        let mut section = TypeSection::new();
        let mut func = |params: &[ValType], results: &[ValType]| {
            let i = section.len();
            section.ty().function(params.iter().copied(), results.iter().copied());
            i
        };
        Types {
            realloc: func(&[I32; 4], &[I32]),
            unit: func(&[], &[]),
            to_i32: func(&[], &[I32]),
            to_i64: func(&[], &[I64]),
            i32x2: func(&[I32, I32], &[]),
            i32_unit: func(&[I32], &[]),
            i32_i32: func(&[I32], &[I32]),
            i32x2_i32: func(&[I32, I32], &[I32]),
            i32x3_i32: func(&[I32; 3], &[I32]),
            i32x3: func(&[I32; 3], &[]),
            section,
        }
    }
}

/// Indices of one channel's functions: its imports start after the lowered callee (a caller's only), its own
/// functions at `own`.
struct Slots {
    lower: Option<u32>,
    imports: u32,
    own: u32,
}

/// The slots of channel `i` in a module with `base` shared imports, `per` imports and `funcs` functions per channel
/// (`per` counts the lowered callee, which only a caller imports).
fn slots(base: u32, per: u32, funcs: u32, i: u32, n_imported: u32, caller: bool) -> Slots {
    let first = base + (per - u32::from(!caller)) * i;
    Slots { lower: caller.then_some(first), imports: first + u32::from(caller), own: n_imported + funcs * i }
}

/// A module of these sections, in order.
pub(crate) fn module(
    t: &Types,
    imports: &ImportSection,
    funcs: &FunctionSection,
    globals: usize,
    exports: &ExportSection,
    code: &CodeSection,
) -> Module {
    let mut g = GlobalSection::new();
    for _ in 0..globals {
        g.global(
            GlobalType { val_type: ValType::I32, mutable: true, shared: false },
            &wasm_encoder::ConstExpr::i32_const(0),
        );
    }
    let mut m = Module::new();
    m.section(&t.section);
    m.section(imports);
    m.section(funcs);
    m.section(&g);
    m.section(exports);
    m.section(code);
    m
}

pub(crate) fn memory_type() -> MemoryType {
    MemoryType { minimum: INITIAL_PAGES, maximum: None, memory64: false, shared: false, page_size_log2: None }
}

/// Leaves `WAIT` on the waitable set in global `set` on the stack.
pub(crate) fn wait(f: &mut Function, set: u32) {
    f.instruction(&I::GlobalGet(set)).instruction(&I::I32Const(4)).instruction(&I::I32Shl);
    f.instruction(&I::I32Const(WAIT)).instruction(&I::I32Or);
}

/// Traps unless local `r` holds a copy result (not `BLOCKED`) whose status is not `DROPPED` (`stream`) or is
/// `COMPLETED` (`future`).
fn check_result(f: &mut Function, r: u32, future: bool) {
    f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(BLOCKED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
    f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(0xf)).instruction(&I::I32And);
    if future {
        f.instruction(&I::I32Const(COMPLETED)).instruction(&I::I32Ne);
    } else {
        f.instruction(&I::I32Const(DROPPED)).instruction(&I::I32Eq);
    }
    f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
}

// The writer's core instance.
//
// Imports: `libc.reset` (0), the built-ins `waitable-set.new` (1), `waitable.join` (2), `waitable-set.drop` (3),
// `subtask.drop` (4), `backpressure.inc` (5), `backpressure.dec` (6) (a callee's), then per channel: a caller's
// async-lowered reader function, `task.return`, `new`, `write`, `cancel-write`, `drop-writable`. Functions per
// channel: `e{i}` (a caller) or `p{i}` (a callee), `cb{i}`, pump, finish, advance.
// Globals: the waitable set, the writable end, the next element's address, the elements (or futures) left to
// write, whether the reader returned, whether the writable end is dropped, whether a write was cancelled.

const W_IMPORTS: u32 = 7;
const W_BACKPRESSURE_INC: u32 = 5;
const W_BACKPRESSURE_DEC: u32 = 6;
const W_PER_CHANNEL: u32 = 6;
const W_FUNCS: u32 = 5;
const W_SET: u32 = 0;
const W_TX: u32 = 1;
const W_PTR: u32 = 2;
const W_LEFT: u32 = 3;
const W_RETURNED: u32 = 4;
const W_DROPPED: u32 = 5;
const W_CANCELLED: u32 = 6;

struct WriterFns {
    /// The lowered callee (the caller's side only).
    lower: Option<u32>,
    task_return: u32,
    new: u32,
    write: u32,
    cancel: u32,
    drop: u32,
    pump: u32,
    finish: u32,
    advance: u32,
}

fn writer_fns(i: u32, n_imported: u32, caller: bool) -> WriterFns {
    let Slots { lower, imports: imp, own } = slots(W_IMPORTS, W_PER_CHANNEL, W_FUNCS, i, n_imported, caller);
    WriterFns {
        lower,
        task_return: imp,
        new: imp + 1,
        write: imp + 2,
        cancel: imp + 3,
        drop: imp + 4,
        pump: own + 2,
        finish: own + 3,
        advance: own + 4,
    }
}

fn writer_module(set: &TypeSet, channels: &[Channel], caller: bool) -> Module {
    let t = Types::new();
    let Types { unit, to_i32, to_i64, i32x2, i32_unit, i32_i32, i32x2_i32, i32x3_i32, .. } = t;

    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "waitable-set.new", EntityType::Function(to_i32));
    imports.import("host", "waitable.join", EntityType::Function(i32x2));
    imports.import("host", "waitable-set.drop", EntityType::Function(i32_unit));
    imports.import("host", "subtask.drop", EntityType::Function(i32_unit));
    imports.import("host", "backpressure.inc", EntityType::Function(unit));
    imports.import("host", "backpressure.dec", EntityType::Function(unit));
    for (i, c) in channels.iter().enumerate() {
        let write = if c.transport == Transport::Future { i32x2_i32 } else { i32x3_i32 };
        if caller {
            imports.import("host", &format!("lower{i}"), EntityType::Function(i32x2_i32));
        }
        // A caller returns the list; a callee returns the channel's readable end.
        let task_return = if caller { i32x2 } else { i32_unit };
        for (name, ty) in [
            ("task.return", task_return),
            ("new", to_i64),
            ("write", write),
            ("cancel-write", i32_i32),
            ("drop-writable", i32_unit),
        ] {
            imports.import("host", &format!("{name}{i}"), EntityType::Function(ty));
        }
    }
    let n_imported = W_IMPORTS + (W_PER_CHANNEL - u32::from(!caller)) * channels.len() as u32;

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, c) in channels.iter().enumerate() {
        let i = i as u32;
        let fns = writer_fns(i, n_imported, caller);
        let size = set.layout(&c.elem).size;
        for ty in [i32x2_i32, i32x3_i32, to_i32, to_i32, i32_unit] {
            funcs.function(ty);
        }
        code.function(&writer_export(c, &fns));
        code.function(&writer_callback(c, &fns));
        code.function(&writer_pump(c, &fns));
        code.function(&writer_finish(&fns));
        code.function(&writer_advance(c, size));
        let name = if caller { format!("e{i}") } else { format!("p{i}") };
        exports.export(&name, ExportKind::Func, n_imported + W_FUNCS * i);
        exports.export(&format!("cb{i}"), ExportKind::Func, n_imported + W_FUNCS * i + 1);
    }
    module(&t, &imports, &funcs, 7, &exports, &code)
}

/// `e{i}(ptr, len)` (a caller): makes the channel, starts the reader with its readable end, and pumps.
/// `p{i}(ptr, len)` (a callee): makes the channel, returns its readable end, and pumps.
fn writer_export(c: &Channel, fns: &WriterFns) -> Function {
    let (ptr, len, both, status) = (0, 1, 2, 3);
    let mut f = Function::new([(1, ValType::I64), (1, ValType::I32)]);
    f.instruction(&I::Call(1)).instruction(&I::GlobalSet(W_SET));
    f.instruction(&I::Call(fns.new)).instruction(&I::LocalSet(both));
    f.instruction(&I::LocalGet(both)).instruction(&I::I64Const(32)).instruction(&I::I64ShrU);
    f.instruction(&I::I32WrapI64).instruction(&I::GlobalSet(W_TX));
    f.instruction(&I::GlobalGet(W_TX)).instruction(&I::GlobalGet(W_SET)).instruction(&I::Call(2));
    match c.transport {
        Transport::Stream { .. } => {
            f.instruction(&I::LocalGet(ptr)).instruction(&I::GlobalSet(W_PTR));
            f.instruction(&I::LocalGet(len)).instruction(&I::GlobalSet(W_LEFT));
        }
        Transport::Future => {
            f.instruction(&I::I32Const(0)).instruction(&I::LocalGet(ptr)).instruction(&I::I32Store(mem(SLOT, 2)));
            f.instruction(&I::I32Const(0)).instruction(&I::LocalGet(len)).instruction(&I::I32Store(mem(SLOT + 4, 2)));
            f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_LEFT));
        }
    }
    for g in [W_RETURNED, W_DROPPED, W_CANCELLED] {
        f.instruction(&I::I32Const(0)).instruction(&I::GlobalSet(g));
    }
    let Some(lower) = fns.lower else {
        // A callee: the task holds backpressure until it exits, returns the readable end at once and writes on.
        f.instruction(&I::Call(W_BACKPRESSURE_INC));
        f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_RETURNED));
        f.instruction(&I::LocalGet(both)).instruction(&I::I32WrapI64).instruction(&I::Call(fns.task_return));
        f.instruction(&I::Call(fns.pump)).instruction(&I::End);
        return f;
    };
    // The reader's subtask: it has returned already, or it joins the set.
    f.instruction(&I::LocalGet(both)).instruction(&I::I32WrapI64).instruction(&I::I32Const(RET_AREA as i32));
    f.instruction(&I::Call(lower)).instruction(&I::LocalTee(status));
    f.instruction(&I::I32Const(0xf)).instruction(&I::I32And).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_RETURNED));
    f.instruction(&I::Else);
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
    f.instruction(&I::GlobalGet(W_SET)).instruction(&I::Call(2));
    f.instruction(&I::End);
    f.instruction(&I::Call(fns.pump)).instruction(&I::End);
    f
}

/// `cb{i}(event, index, payload)`: a write's progress pumps on; the reader's return may finish the task.
fn writer_callback(c: &Channel, fns: &WriterFns) -> Function {
    let (event, index, payload) = (0, 1, 2);
    let write_event = if c.transport == Transport::Future { EVENT_FUTURE_WRITE } else { EVENT_STREAM_WRITE };
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(write_event)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(payload)).instruction(&I::Call(fns.advance));
    f.instruction(&I::Call(fns.pump)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(EVENT_SUBTASK)).instruction(&I::I32Eq);
    f.instruction(&I::LocalGet(payload)).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
    f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(index)).instruction(&I::Call(4));
    f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_RETURNED));
    f.instruction(&I::Call(fns.finish)).instruction(&I::Return);
    f.instruction(&I::End);
    wait(&mut f, W_SET);
    f.instruction(&I::End);
    f
}

/// Writes until a write blocks (`WAIT`) or everything is written (the writable end dropped, then finish).
fn writer_pump(c: &Channel, fns: &WriterFns) -> Function {
    let r = 0;
    let mut f = Function::new([(1, ValType::I32)]);
    f.instruction(&I::Loop(BlockType::Empty));
    // Done writing: drop the writable end (once) and finish when the reader has returned.
    f.instruction(&I::GlobalGet(W_LEFT)).instruction(&I::I32Eqz).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::GlobalGet(W_DROPPED)).instruction(&I::I32Eqz).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::GlobalGet(W_TX)).instruction(&I::Call(fns.drop));
    f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_DROPPED));
    f.instruction(&I::End);
    f.instruction(&I::Call(fns.finish)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::GlobalGet(W_TX));
    match c.transport {
        Transport::Stream { write, .. } => {
            // min(write, left)
            f.instruction(&I::GlobalGet(W_PTR));
            f.instruction(&I::I32Const(write as i32)).instruction(&I::GlobalGet(W_LEFT));
            f.instruction(&I::I32Const(write as i32)).instruction(&I::GlobalGet(W_LEFT)).instruction(&I::I32LtU);
            f.instruction(&I::Select);
        }
        Transport::Future => {
            f.instruction(&I::I32Const(SLOT as i32));
        }
    }
    f.instruction(&I::Call(fns.write)).instruction(&I::LocalSet(r));
    f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(BLOCKED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    if let Transport::Stream { cancel_write: true, .. } = c.transport {
        // The first blocked write is cancelled at once, and writing goes on from what it did.
        f.instruction(&I::GlobalGet(W_CANCELLED)).instruction(&I::I32Eqz).instruction(&I::If(BlockType::Empty));
        f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(W_CANCELLED));
        // A synchronous cancel traps on an end in a waitable set: leave the set, cancel, join again.
        f.instruction(&I::GlobalGet(W_TX)).instruction(&I::I32Const(0)).instruction(&I::Call(2));
        f.instruction(&I::GlobalGet(W_TX)).instruction(&I::Call(fns.cancel)).instruction(&I::LocalSet(r));
        f.instruction(&I::GlobalGet(W_TX)).instruction(&I::GlobalGet(W_SET)).instruction(&I::Call(2));
        f.instruction(&I::LocalGet(r)).instruction(&I::Call(fns.advance));
        f.instruction(&I::Br(2)); // the loop
        f.instruction(&I::End);
    }
    wait(&mut f, W_SET);
    f.instruction(&I::Return).instruction(&I::End);
    f.instruction(&I::LocalGet(r)).instruction(&I::Call(fns.advance));
    f.instruction(&I::Br(0)).instruction(&I::End);
    f.instruction(&I::Unreachable).instruction(&I::End);
    f
}

/// Once the reader returned and the writable end is dropped: a caller returns the reader's result, a callee (which
/// returned already) lets its backpressure go; both rewind the heap and exit (`EXIT`). `WAIT` before.
fn writer_finish(fns: &WriterFns) -> Function {
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(W_RETURNED)).instruction(&I::GlobalGet(W_DROPPED)).instruction(&I::I32And);
    f.instruction(&I::If(BlockType::Result(ValType::I32)));
    f.instruction(&I::GlobalGet(W_SET)).instruction(&I::Call(3));
    if fns.lower.is_some() {
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(RET_AREA, 2)));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(RET_AREA + 4, 2)));
        f.instruction(&I::Call(fns.task_return));
    } else {
        f.instruction(&I::Call(W_BACKPRESSURE_DEC));
    }
    f.instruction(&I::Call(0)).instruction(&I::I32Const(EXIT));
    f.instruction(&I::Else);
    wait(&mut f, W_SET);
    f.instruction(&I::End).instruction(&I::End);
    f
}

/// `advance(result)`: a write's (or cancel's) result moves the writer on by the elements it copied; a future's
/// write must have completed, and the reader must not have dropped its end.
fn writer_advance(c: &Channel, size: u32) -> Function {
    let r = 0;
    let mut f = Function::new([]);
    match c.transport {
        Transport::Stream { .. } => {
            check_result(&mut f, r, false);
            f.instruction(&I::GlobalGet(W_PTR));
            f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
            f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul).instruction(&I::I32Add);
            f.instruction(&I::GlobalSet(W_PTR));
            f.instruction(&I::GlobalGet(W_LEFT));
            f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
            f.instruction(&I::I32Sub).instruction(&I::GlobalSet(W_LEFT));
        }
        Transport::Future => {
            check_result(&mut f, r, true);
            f.instruction(&I::I32Const(0)).instruction(&I::GlobalSet(W_LEFT));
        }
    }
    f.instruction(&I::End);
    f
}

// The reader's core instance.
//
// Imports: `libc.realloc` (0), `libc.reset` (1), `waitable-set.new` (2), `waitable.join` (3),
// `waitable-set.drop` (4), `subtask.drop` (5), then per channel: a caller's async-lowered writer function,
// `task.return`, `read`, `cancel-read`, `drop-readable`. Functions per channel: `s{i}` (a callee) or `e{i}` (a
// caller), `cb{i}`, pump, finish, got, start. Globals: the waitable set, the
// readable end, the buffer, its capacity and length in elements, whether a read was cancelled.

const R_IMPORTS: u32 = 6;
const R_PER_CHANNEL: u32 = 5;
const R_FUNCS: u32 = 6;
const R_SET: u32 = 0;
const R_RX: u32 = 1;
const R_BUF: u32 = 2;
const R_CAP: u32 = 3;
const R_LEN: u32 = 4;
const R_CANCELLED: u32 = 5;

struct ReaderFns {
    /// The lowered callee (the caller's side only).
    lower: Option<u32>,
    task_return: u32,
    read: u32,
    cancel: u32,
    drop: u32,
    pump: u32,
    finish: u32,
    got: u32,
    /// A caller's: takes the readable end from the return area, joins it and pumps.
    start: u32,
}

fn reader_fns(i: u32, n_imported: u32, caller: bool) -> ReaderFns {
    let Slots { lower, imports: imp, own } = slots(R_IMPORTS, R_PER_CHANNEL, R_FUNCS, i, n_imported, caller);
    ReaderFns {
        lower,
        task_return: imp,
        read: imp + 1,
        cancel: imp + 2,
        drop: imp + 3,
        pump: own + 2,
        finish: own + 3,
        got: own + 4,
        start: own + 5,
    }
}

fn reader_module(set: &TypeSet, channels: &[Channel], caller: bool) -> Module {
    let t = Types::new();
    let Types { realloc, unit, to_i32, i32x2, i32_unit, i32_i32, i32x2_i32, i32x3_i32, .. } = t;

    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "realloc", EntityType::Function(realloc));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "waitable-set.new", EntityType::Function(to_i32));
    imports.import("host", "waitable.join", EntityType::Function(i32x2));
    imports.import("host", "waitable-set.drop", EntityType::Function(i32_unit));
    imports.import("host", "subtask.drop", EntityType::Function(i32_unit));
    for (i, c) in channels.iter().enumerate() {
        let read = if c.transport == Transport::Future { i32x2_i32 } else { i32x3_i32 };
        if caller {
            imports.import("host", &format!("lower{i}"), EntityType::Function(i32x3_i32));
        }
        for (name, ty) in
            [("task.return", i32x2), ("read", read), ("cancel-read", i32_i32), ("drop-readable", i32_unit)]
        {
            imports.import("host", &format!("{name}{i}"), EntityType::Function(ty));
        }
    }
    let n_imported = R_IMPORTS + (R_PER_CHANNEL - u32::from(!caller)) * channels.len() as u32;

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, c) in channels.iter().enumerate() {
        let i = i as u32;
        let fns = reader_fns(i, n_imported, caller);
        let layout = set.layout(&c.payload());
        let export = if caller { i32x2_i32 } else { i32_i32 };
        for ty in [export, i32x3_i32, to_i32, to_i32, i32_i32, to_i32] {
            funcs.function(ty);
        }
        code.function(&reader_export(c, &fns));
        code.function(&reader_callback(c, &fns));
        code.function(&reader_pump(c, &fns, layout.size, layout.align));
        code.function(&reader_finish(c, &fns));
        code.function(&reader_got(c));
        code.function(&reader_start(&fns));
        let name = if caller { format!("e{i}") } else { format!("s{i}") };
        exports.export(&name, ExportKind::Func, n_imported + R_FUNCS * i);
        exports.export(&format!("cb{i}"), ExportKind::Func, n_imported + R_FUNCS * i + 1);
    }
    module(&t, &imports, &funcs, 6, &exports, &code)
}

/// `s{i}(rx)` (a callee): joins the readable end to a new set and pumps. `e{i}(ptr, len)` (a caller): calls the
/// writer with the list and, once it returned the readable end, joins that and pumps.
fn reader_export(c: &Channel, fns: &ReaderFns) -> Function {
    let (rx, ptr, len, status) = (0, 0, 1, 2);
    let mut f = Function::new([(1, ValType::I32)]);
    f.instruction(&I::Call(2)).instruction(&I::GlobalSet(R_SET));
    if fns.lower.is_none() {
        f.instruction(&I::LocalGet(rx)).instruction(&I::GlobalSet(R_RX));
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(3));
    }
    for g in [R_BUF, R_CAP, R_LEN, R_CANCELLED] {
        f.instruction(&I::I32Const(0)).instruction(&I::GlobalSet(g));
    }
    if c.transport == Transport::Future {
        // The future's `(ptr, len)` lands in an 8-byte buffer.
        for v in [0, 0, 4, 8] {
            f.instruction(&I::I32Const(v));
        }
        f.instruction(&I::Call(0)).instruction(&I::GlobalSet(R_BUF));
    }
    let Some(lower) = fns.lower else {
        f.instruction(&I::Call(fns.pump)).instruction(&I::End);
        return f;
    };
    f.instruction(&I::LocalGet(ptr)).instruction(&I::LocalGet(len)).instruction(&I::I32Const(RET_AREA as i32));
    f.instruction(&I::Call(lower)).instruction(&I::LocalTee(status));
    f.instruction(&I::I32Const(0xf)).instruction(&I::I32And).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Call(fns.start)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
    f.instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(3));
    wait(&mut f, R_SET);
    f.instruction(&I::End);
    f
}

/// A caller's `start()`: the writer returned the readable end into the return area.
fn reader_start(fns: &ReaderFns) -> Function {
    let mut f = Function::new([]);
    if fns.lower.is_some() {
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(RET_AREA, 2))).instruction(&I::GlobalSet(R_RX));
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(3));
        f.instruction(&I::Call(fns.pump));
    } else {
        f.instruction(&I::Unreachable);
    }
    f.instruction(&I::End);
    f
}

/// `cb{i}(event, index, payload)`: a read's progress finishes or pumps on; a caller starts reading when the
/// writer's subtask returns.
fn reader_callback(c: &Channel, fns: &ReaderFns) -> Function {
    let (event, index, payload) = (0, 1, 2);
    let read_event = if c.transport == Transport::Future { EVENT_FUTURE_READ } else { EVENT_STREAM_READ };
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(read_event)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(payload)).instruction(&I::Call(fns.got)).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Call(fns.finish)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::Call(fns.pump)).instruction(&I::Return);
    f.instruction(&I::End);
    if fns.lower.is_some() {
        f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(EVENT_SUBTASK)).instruction(&I::I32Eq);
        f.instruction(&I::LocalGet(payload)).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
        f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(index)).instruction(&I::Call(5));
        f.instruction(&I::Call(fns.start)).instruction(&I::Return);
        f.instruction(&I::End);
    }
    wait(&mut f, R_SET);
    f.instruction(&I::End);
    f
}

/// Reads until a read blocks (`WAIT`) or the writer's end is dropped (finish). A stream's buffer grows (a new
/// block from `realloc`, the elements read so far copied over) so that a whole chunk always fits.
fn reader_pump(c: &Channel, fns: &ReaderFns, size: u32, align: u32) -> Function {
    let (r, cap, buf) = (0, 1, 2);
    let mut f = Function::new([(3, ValType::I32)]);
    let Transport::Stream { read, cancel_read, .. } = c.transport else {
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::GlobalGet(R_BUF));
        f.instruction(&I::Call(fns.read)).instruction(&I::LocalTee(r));
        f.instruction(&I::I32Const(BLOCKED)).instruction(&I::I32Eq).instruction(&I::If(BlockType::Empty));
        wait(&mut f, R_SET);
        f.instruction(&I::Return).instruction(&I::End);
        f.instruction(&I::LocalGet(r)).instruction(&I::Call(fns.got)).instruction(&I::Drop);
        f.instruction(&I::Call(fns.finish)).instruction(&I::End);
        return f;
    };
    let read = read as i32;
    let bytes = |f: &mut Function| {
        f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul);
    };
    f.instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::GlobalGet(R_LEN)).instruction(&I::I32Const(read)).instruction(&I::I32Add);
    f.instruction(&I::GlobalGet(R_CAP)).instruction(&I::I32GtU).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::GlobalGet(R_CAP)).instruction(&I::I32Const(1)).instruction(&I::I32Shl);
    f.instruction(&I::I32Const(read)).instruction(&I::I32Add).instruction(&I::LocalSet(cap));
    f.instruction(&I::I32Const(0)).instruction(&I::I32Const(0)).instruction(&I::I32Const(align as i32));
    f.instruction(&I::LocalGet(cap));
    bytes(&mut f);
    f.instruction(&I::Call(0)).instruction(&I::LocalSet(buf));
    f.instruction(&I::LocalGet(buf)).instruction(&I::GlobalGet(R_BUF)).instruction(&I::GlobalGet(R_LEN));
    bytes(&mut f);
    f.instruction(&I::MemoryCopy { src_mem: 0, dst_mem: 0 });
    f.instruction(&I::LocalGet(buf)).instruction(&I::GlobalSet(R_BUF));
    f.instruction(&I::LocalGet(cap)).instruction(&I::GlobalSet(R_CAP));
    f.instruction(&I::End);
    f.instruction(&I::GlobalGet(R_RX));
    f.instruction(&I::GlobalGet(R_BUF)).instruction(&I::GlobalGet(R_LEN));
    bytes(&mut f);
    f.instruction(&I::I32Add).instruction(&I::I32Const(read));
    f.instruction(&I::Call(fns.read)).instruction(&I::LocalSet(r));
    f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(BLOCKED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    if cancel_read {
        f.instruction(&I::GlobalGet(R_CANCELLED)).instruction(&I::I32Eqz).instruction(&I::If(BlockType::Empty));
        f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(R_CANCELLED));
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::I32Const(0)).instruction(&I::Call(3));
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::Call(fns.cancel)).instruction(&I::LocalSet(r));
        f.instruction(&I::GlobalGet(R_RX)).instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(3));
        f.instruction(&I::LocalGet(r)).instruction(&I::Call(fns.got));
        f.instruction(&I::If(BlockType::Empty)).instruction(&I::Call(fns.finish)).instruction(&I::Return);
        f.instruction(&I::End);
        f.instruction(&I::Br(2)); // the loop
        f.instruction(&I::End);
    }
    wait(&mut f, R_SET);
    f.instruction(&I::Return).instruction(&I::End);
    f.instruction(&I::LocalGet(r)).instruction(&I::Call(fns.got)).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Call(fns.finish)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::Br(0)).instruction(&I::End);
    f.instruction(&I::Unreachable).instruction(&I::End);
    f
}

/// Drops the readable end and the set, returns the elements read, rewinds the heap: `EXIT`.
fn reader_finish(c: &Channel, fns: &ReaderFns) -> Function {
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(R_RX)).instruction(&I::Call(fns.drop));
    f.instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(4));
    match c.transport {
        Transport::Stream { .. } => {
            f.instruction(&I::GlobalGet(R_BUF)).instruction(&I::GlobalGet(R_LEN));
        }
        Transport::Future => {
            f.instruction(&I::GlobalGet(R_BUF)).instruction(&I::I32Load(mem(0, 2)));
            f.instruction(&I::GlobalGet(R_BUF)).instruction(&I::I32Load(mem(4, 2)));
        }
    }
    f.instruction(&I::Call(fns.task_return)).instruction(&I::Call(1)).instruction(&I::I32Const(EXIT));
    f.instruction(&I::End);
    f
}

/// `got(result) -> done`: a read's (or cancel's) result adds the elements it copied; done when the writer's end
/// is dropped (a stream) or the value is in (a future, whose read must complete).
fn reader_got(c: &Channel) -> Function {
    let r = 0;
    let mut f = Function::new([]);
    match c.transport {
        Transport::Stream { .. } => {
            f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(BLOCKED)).instruction(&I::I32Eq);
            f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
            f.instruction(&I::GlobalGet(R_LEN));
            f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
            f.instruction(&I::I32Add).instruction(&I::GlobalSet(R_LEN));
            f.instruction(&I::LocalGet(r)).instruction(&I::I32Const(0xf)).instruction(&I::I32And);
            f.instruction(&I::I32Const(DROPPED)).instruction(&I::I32Eq);
        }
        Transport::Future => {
            check_result(&mut f, r, true);
            f.instruction(&I::I32Const(1));
        }
    }
    f.instruction(&I::End);
    f
}

/// The channel's `stream<T>` or `future<list<T>>` type in `b`.
fn channel_type(b: &mut ComponentBuilder, types: &mut TypeEncoder<'_>, c: &Channel) -> u32 {
    let payload = types.val(b, &c.payload());
    let (i, enc) = b.type_defined(None);
    match c.transport {
        Transport::Stream { .. } => enc.stream(Some(payload)),
        Transport::Future => enc.future(Some(payload)),
    }
    i
}

/// An `async func` type.
pub(crate) fn async_func_type(
    b: &mut ComponentBuilder,
    param: (&str, ComponentValType),
    result: ComponentValType,
) -> u32 {
    let (ft, mut enc) = b.type_function(None);
    enc.async_(true);
    enc.params([param]);
    enc.result(Some(result));
    ft
}

/// The callee's function, which the caller imports: `s{i}: async func(s: stream<T>) -> list<T>` (the callee
/// reads) or `p{i}: async func(x: list<T>) -> stream<T>` (the callee writes); `future<list<T>>` for a future.
fn callee_func(
    b: &mut ComponentBuilder,
    dir: Direction,
    i: usize,
    channel: u32,
    list: ComponentValType,
) -> (String, u32) {
    match dir {
        Direction::Param => (format!("s{i}"), async_func_type(b, ("s", ComponentValType::Type(channel)), list)),
        Direction::Result => (format!("p{i}"), async_func_type(b, ("x", list), ComponentValType::Type(channel))),
    }
}

/// The parts every side's component starts with: the named types, the libc instance (memory and `realloc`), and
/// the built-ins both sides use.
pub(crate) struct Side<'a> {
    pub b: ComponentBuilder,
    pub types: TypeEncoder<'a>,
    libc: u32,
    pub memory: u32,
    pub realloc: u32,
    pub host: Vec<(String, u32)>,
}

impl<'a> Side<'a> {
    pub fn new(set: &'a TypeSet) -> Side<'a> {
        let mut b = ComponentBuilder::default();
        let mut types = TypeEncoder::new(set);
        types.declare(&mut b, true);
        let module = b.core_module(Some("libc"), &guest::libc(ReallocMode::Good));
        let libc = b.core_instantiate(Some("libc"), module, Vec::<(&str, ModuleArg)>::new());
        let memory = b.core_alias_export(Some("memory"), libc, "memory", ExportKind::Memory);
        let realloc = b.core_alias_export(Some("realloc"), libc, "realloc", ExportKind::Func);
        let host = vec![
            ("waitable-set.new".into(), b.waitable_set_new()),
            ("waitable.join".into(), b.waitable_join()),
            ("waitable-set.drop".into(), b.waitable_set_drop()),
            ("subtask.drop".into(), b.subtask_drop()),
        ];
        Side { b, types, libc, memory, realloc, host }
    }

    /// For a caller: imports the callee's function of channel `i` and lowers it (async) into the host instance.
    fn import_callee(&mut self, dir: Direction, i: usize, channel: u32, list: ComponentValType, enc: Encoding) {
        let (name, ft) = callee_func(&mut self.b, dir, i, channel, list);
        let f = self.b.import(name.as_str(), wasm_encoder::ComponentTypeRef::Func(ft));
        let opts = [
            enc.option(),
            CanonicalOption::Memory(self.memory),
            CanonicalOption::Realloc(self.realloc),
            CanonicalOption::Async,
        ];
        let lowered = self.b.lower_func(None, f, opts);
        self.host.push((format!("lower{i}"), lowered));
    }

    /// Instantiates the main module `m` and lifts its exports `names[i]` (with callbacks `cb{i}`) as `types[i]`.
    pub fn finish(mut self, name: &str, m: &Module, lifts: Vec<(String, u32, Encoding)>) -> ComponentBuilder {
        let b = &mut self.b;
        let host_inst = b.core_instantiate_exports(
            Some("host"),
            self.host.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
        );
        let main = b.core_module(Some(name), m);
        let main_inst = b.core_instantiate(
            Some(name),
            main,
            [("libc", ModuleArg::Instance(self.libc)), ("host", ModuleArg::Instance(host_inst))],
        );
        for (i, (export, ft, enc)) in lifts.into_iter().enumerate() {
            let core = b.core_alias_export(Some(&export), main_inst, &export, ExportKind::Func);
            let callback = b.core_alias_export(None, main_inst, &format!("cb{i}"), ExportKind::Func);
            let opts = [
                enc.option(),
                CanonicalOption::Memory(self.memory),
                CanonicalOption::Realloc(self.realloc),
                CanonicalOption::Async,
                CanonicalOption::Callback(callback),
            ];
            let lifted = b.lift_func(Some(&export), core, ft, opts);
            b.export(&export, ComponentExportKind::Func, lifted, None);
        }
        self.b
    }
}

/// The reader's component: the callee `s{i}` ([`Direction::Param`]) or the caller `e{i}`, which imports `p{i}`
/// ([`Direction::Result`]).
fn reader_component(set: &TypeSet, channels: &[Channel], dir: Direction) -> ComponentBuilder {
    let caller = dir == Direction::Result;
    let mut side = Side::new(set);
    let mut lifts = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let (b, memory, realloc) = (&mut side.b, side.memory, side.realloc);
        let ty = channel_type(b, &mut side.types, c);
        let list = side.types.val(b, &c.list());
        let enc = c.reader.option();
        let task_return = b.task_return(Some(list), [enc, CanonicalOption::Memory(memory)]);
        let opts = [enc, CanonicalOption::Memory(memory), CanonicalOption::Realloc(realloc), CanonicalOption::Async];
        let (read, cancel, drop) = match c.transport {
            Transport::Stream { .. } => {
                (b.stream_read(ty, opts), b.stream_cancel_read(ty, false), b.stream_drop_readable(ty))
            }
            Transport::Future => (b.future_read(ty, opts), b.future_cancel_read(ty, false), b.future_drop_readable(ty)),
        };
        let lift = if caller {
            side.import_callee(dir, i, ty, list, c.reader);
            (format!("e{i}"), async_func_type(&mut side.b, ("x", list), list), c.reader)
        } else {
            let (name, ft) = callee_func(&mut side.b, dir, i, ty, list);
            (name, ft, c.reader)
        };
        lifts.push(lift);
        side.host.push((format!("task.return{i}"), task_return));
        side.host.push((format!("read{i}"), read));
        side.host.push((format!("cancel-read{i}"), cancel));
        side.host.push((format!("drop-readable{i}"), drop));
    }
    side.finish("reader", &reader_module(set, channels, caller), lifts)
}

/// The writer's component: the caller `e{i}`, which imports `s{i}` ([`Direction::Param`]), or the callee `p{i}`
/// ([`Direction::Result`]).
fn writer_component(set: &TypeSet, channels: &[Channel], dir: Direction) -> ComponentBuilder {
    let caller = dir == Direction::Param;
    let mut side = Side::new(set);
    let (inc, dec) = (side.b.backpressure_inc(), side.b.backpressure_dec());
    side.host.push(("backpressure.inc".into(), inc));
    side.host.push(("backpressure.dec".into(), dec));
    let mut lifts = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let ty = channel_type(&mut side.b, &mut side.types, c);
        let list = side.types.val(&mut side.b, &c.list());
        let lift = if caller {
            side.import_callee(dir, i, ty, list, c.writer);
            (format!("e{i}"), async_func_type(&mut side.b, ("x", list), list), c.writer)
        } else {
            let (name, ft) = callee_func(&mut side.b, dir, i, ty, list);
            (name, ft, c.writer)
        };
        lifts.push(lift);
        let (b, memory) = (&mut side.b, side.memory);
        let enc = c.writer.option();
        // A caller returns the list; a callee the channel's readable end (with the lift's options all the same,
        // as `task.return` must).
        let result = if caller { list } else { ComponentValType::Type(ty) };
        let task_return = b.task_return(Some(result), [enc, CanonicalOption::Memory(memory)]);
        let opts = [enc, CanonicalOption::Memory(memory), CanonicalOption::Async];
        let (new, write, cancel, drop) = match c.transport {
            Transport::Stream { .. } => (
                b.stream_new(ty),
                b.stream_write(ty, opts),
                b.stream_cancel_write(ty, false),
                b.stream_drop_writable(ty),
            ),
            Transport::Future => (
                b.future_new(ty),
                b.future_write(ty, opts),
                b.future_cancel_write(ty, false),
                b.future_drop_writable(ty),
            ),
        };
        for (name, f) in [("task.return", task_return), ("new", new), ("write", write)] {
            side.host.push((format!("{name}{i}"), f));
        }
        side.host.push((format!("cancel-write{i}"), cancel));
        side.host.push((format!("drop-writable{i}"), drop));
    }
    side.finish("writer", &writer_module(set, channels, caller), lifts)
}

/// The component: the callee and the caller side by side (wasmtime 48 traps any call between a component
/// instance and its ancestor, which the spec allows, so neither is the outer component); exports the caller's
/// `e{i}: async func(x: list<T>) -> list<T>` and imports nothing but the named types.
pub fn encode(set: &TypeSet, channels: &[Channel], dir: Direction) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let (callee, caller) = match dir {
        Direction::Param => (reader_component(set, channels, dir), writer_component(set, channels, dir)),
        Direction::Result => (writer_component(set, channels, dir), reader_component(set, channels, dir)),
    };
    let callee = b.component(Some("callee"), callee);
    let caller = b.component(Some("caller"), caller);
    let type_args: Vec<(String, ComponentExportKind, u32)> =
        types.imported.iter().map(|(n, i)| (n.clone(), ComponentExportKind::Type, *i)).collect();
    let callee_inst = b.instantiate(Some("callee"), callee, type_args.clone());
    let mut args = type_args;
    for i in 0..channels.len() {
        let name = match dir {
            Direction::Param => format!("s{i}"),
            Direction::Result => format!("p{i}"),
        };
        let f = b.alias_export(callee_inst, &name, ComponentExportKind::Func);
        args.push((name, ComponentExportKind::Func, f));
    }
    let caller_inst = b.instantiate(Some("caller"), caller, args);
    for i in 0..channels.len() {
        let name = format!("e{i}");
        let f = b.alias_export(caller_inst, &name, ComponentExportKind::Func);
        b.export(&name, ComponentExportKind::Func, f, None);
    }
    b.finish()
}

/// The host-stream tier's component: the caller side alone, its callee's functions (`s{i}` or `p{i}`) imported
/// from the host; exports `e{i}: async func(x: list<T>) -> list<T>`.
pub fn encode_host(set: &TypeSet, channels: &[Channel], dir: Direction) -> Vec<u8> {
    match dir {
        Direction::Param => writer_component(set, channels, dir),
        Direction::Result => reader_component(set, channels, dir),
    }
    .finish()
}

#[cfg(test)]
mod tests {
    use crate::case::Tier;

    #[test]
    fn cases_carry_values_through_streams_and_futures_and_are_valid() {
        let future_results = std::cell::Cell::new(0);
        let notes = crate::async_tests::echo_cases_notes(Tier::Stream, |seed, case| {
            assert!(case.imports.is_empty(), "seed {seed}");
            if case.note.contains("future<list<") && case.note.contains("the caller reads") {
                future_results.set(future_results.get() + 1);
            }
        });
        assert!(future_results.get() > 0, "no case returns a future: {notes}");
        for flavour in ["stream<", "future<list<", "write cancelled", "read cancelled", "caller writes", "caller reads"]
        {
            assert!(notes.contains(flavour), "no case has {flavour}: {notes}");
        }
    }

    #[test]
    fn host_stream_cases_import_the_callee_from_the_host_and_are_valid() {
        let notes = crate::async_tests::echo_cases_notes(Tier::HostStream, |seed, case| {
            assert_eq!(case.imports.len(), case.exports.len(), "seed {seed}")
        });
        for flavour in ["host reads", "host returns", "future<list<u8>>", "write cancelled", "read cancelled"] {
            assert!(notes.contains(flavour), "no case has {flavour}: {notes}");
        }
    }
}
