//! The stream tier's guests: values of random types carried through `stream<T>` and `future<T>` between two
//! component instances, each with its own memory, string encoding and `realloc`.
//!
//! Each export `e{i}: async func(x: list<T>) -> list<T>` returns `x`, but not by echoing it: a nested *writer*
//! component makes a stream (or a future) and passes its readable end to its sibling, the *reader* component's
//! `s{i}: async func(s: stream<T>) -> list<T>`, through an `async` lower; it then writes `x`'s elements into the
//! stream in chunks of a fixed size, drops its writable end, waits for the reader's subtask to return and returns
//! what the reader collected. The reader reads into a buffer that it grows with its
//! own `realloc`, in chunks of another size, until the writer's end is dropped, and returns the elements it read.
//! The future flavour sends the whole list as one `future<list<T>>`.
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
const RETURNED: i32 = 2;
const COMPLETED: i32 = 0;
const DROPPED: i32 = 1;
const EVENT_SUBTASK: i32 = 1;
const EVENT_STREAM_READ: i32 = 2;
const EVENT_STREAM_WRITE: i32 = 3;
const EVENT_FUTURE_READ: i32 = 4;
const EVENT_FUTURE_WRITE: i32 = 5;
const EXIT: i32 = 0;
const WAIT: i32 = 2;

/// Where the writer stores the `(ptr, len)` of the list it sends through a future.
const SLOT: u32 = RET_AREA + 16;

fn mem(offset: u32, align: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align, memory_index: 0 }
}

/// A module's type section, handing out indices.
struct Types(TypeSection);

impl Types {
    fn func(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let i = self.0.len();
        self.0.ty().function(params.iter().copied(), results.iter().copied());
        i
    }
}

fn globals(n: usize) -> GlobalSection {
    let mut g = GlobalSection::new();
    for _ in 0..n {
        g.global(
            GlobalType { val_type: ValType::I32, mutable: true, shared: false },
            &wasm_encoder::ConstExpr::i32_const(0),
        );
    }
    g
}

fn memory_type() -> MemoryType {
    MemoryType { minimum: INITIAL_PAGES, maximum: None, memory64: false, shared: false, page_size_log2: None }
}

/// Leaves `WAIT` on the waitable set in global `set` on the stack.
fn wait(f: &mut Function, set: u32) {
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
// `subtask.drop` (4), then per channel `i` from `5 + 6 i`: the async-lowered reader function, `task.return`,
// `new`, `write`, `cancel-write`, `drop-writable`. Functions per channel: `e{i}`, `cb{i}`, pump, finish, advance.
// Globals: the waitable set, the writable end, the next element's address, the elements (or futures) left to
// write, whether the reader returned, whether the writable end is dropped, whether a write was cancelled.

const W_IMPORTS: u32 = 5;
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
    lower: u32,
    task_return: u32,
    new: u32,
    write: u32,
    cancel: u32,
    drop: u32,
    pump: u32,
    finish: u32,
    advance: u32,
}

fn writer_fns(i: u32, n_imported: u32) -> WriterFns {
    let imp = W_IMPORTS + W_PER_CHANNEL * i;
    let own = n_imported + W_FUNCS * i;
    WriterFns {
        lower: imp,
        task_return: imp + 1,
        new: imp + 2,
        write: imp + 3,
        cancel: imp + 4,
        drop: imp + 5,
        pump: own + 2,
        finish: own + 3,
        advance: own + 4,
    }
}

fn writer_module(set: &TypeSet, channels: &[Channel]) -> Module {
    use ValType::{I32, I64};
    let mut t = Types(TypeSection::new());
    let unit = t.func(&[], &[]);
    let to_i32 = t.func(&[], &[I32]);
    let i32x2 = t.func(&[I32, I32], &[]);
    let i32_unit = t.func(&[I32], &[]);
    let i32_i32 = t.func(&[I32], &[I32]);
    let i32x2_i32 = t.func(&[I32, I32], &[I32]);
    let i32x3_i32 = t.func(&[I32; 3], &[I32]);
    let to_i64 = t.func(&[], &[I64]);

    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "waitable-set.new", EntityType::Function(to_i32));
    imports.import("host", "waitable.join", EntityType::Function(i32x2));
    imports.import("host", "waitable-set.drop", EntityType::Function(i32_unit));
    imports.import("host", "subtask.drop", EntityType::Function(i32_unit));
    for (i, c) in channels.iter().enumerate() {
        let write = if c.transport == Transport::Future { i32x2_i32 } else { i32x3_i32 };
        for (name, ty) in [
            ("lower", i32x2_i32),
            ("task.return", i32x2),
            ("new", to_i64),
            ("write", write),
            ("cancel-write", i32_i32),
            ("drop-writable", i32_unit),
        ] {
            imports.import("host", &format!("{name}{i}"), EntityType::Function(ty));
        }
    }
    let n_imported = W_IMPORTS + W_PER_CHANNEL * channels.len() as u32;

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, c) in channels.iter().enumerate() {
        let i = i as u32;
        let fns = writer_fns(i, n_imported);
        let size = set.layout(&c.elem).size;
        for ty in [i32x2_i32, i32x3_i32, to_i32, to_i32, i32_unit] {
            funcs.function(ty);
        }
        code.function(&writer_export(c, &fns));
        code.function(&writer_callback(c, &fns));
        code.function(&writer_pump(c, &fns));
        code.function(&writer_finish(&fns));
        code.function(&writer_advance(c, size));
        exports.export(&format!("e{i}"), ExportKind::Func, n_imported + W_FUNCS * i);
        exports.export(&format!("cb{i}"), ExportKind::Func, n_imported + W_FUNCS * i + 1);
    }
    let mut m = Module::new();
    m.section(&t.0);
    m.section(&imports);
    m.section(&funcs);
    m.section(&globals(7));
    m.section(&exports);
    m.section(&code);
    m
}

/// `e{i}(ptr, len)`: makes the channel, starts the reader with its readable end, and pumps.
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
    // The reader's subtask: it has returned already, or it joins the set.
    f.instruction(&I::LocalGet(both)).instruction(&I::I32WrapI64).instruction(&I::I32Const(RET_AREA as i32));
    f.instruction(&I::Call(fns.lower)).instruction(&I::LocalTee(status));
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

/// Returns the reader's result once it returned and the writable end is dropped (`EXIT`); `WAIT` before.
fn writer_finish(fns: &WriterFns) -> Function {
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(W_RETURNED)).instruction(&I::GlobalGet(W_DROPPED)).instruction(&I::I32And);
    f.instruction(&I::If(BlockType::Result(ValType::I32)));
    f.instruction(&I::GlobalGet(W_SET)).instruction(&I::Call(3));
    f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(RET_AREA, 2)));
    f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(RET_AREA + 4, 2)));
    f.instruction(&I::Call(fns.task_return)).instruction(&I::Call(0)).instruction(&I::I32Const(EXIT));
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
// `waitable-set.drop` (4), then per channel `i` from `5 + 4 i`: `task.return`, `read`, `cancel-read`,
// `drop-readable`. Functions per channel: `s{i}`, `cb{i}`, pump, finish, got. Globals: the waitable set, the
// readable end, the buffer, its capacity and length in elements, whether a read was cancelled.

const R_IMPORTS: u32 = 5;
const R_PER_CHANNEL: u32 = 4;
const R_FUNCS: u32 = 5;
const R_SET: u32 = 0;
const R_RX: u32 = 1;
const R_BUF: u32 = 2;
const R_CAP: u32 = 3;
const R_LEN: u32 = 4;
const R_CANCELLED: u32 = 5;

struct ReaderFns {
    task_return: u32,
    read: u32,
    cancel: u32,
    drop: u32,
    pump: u32,
    finish: u32,
    got: u32,
}

fn reader_fns(i: u32, n_imported: u32) -> ReaderFns {
    let imp = R_IMPORTS + R_PER_CHANNEL * i;
    let own = n_imported + R_FUNCS * i;
    ReaderFns {
        task_return: imp,
        read: imp + 1,
        cancel: imp + 2,
        drop: imp + 3,
        pump: own + 2,
        finish: own + 3,
        got: own + 4,
    }
}

fn reader_module(set: &TypeSet, channels: &[Channel]) -> Module {
    use ValType::I32;
    let mut t = Types(TypeSection::new());
    let realloc = t.func(&[I32; 4], &[I32]);
    let unit = t.func(&[], &[]);
    let to_i32 = t.func(&[], &[I32]);
    let i32x2 = t.func(&[I32, I32], &[]);
    let i32_unit = t.func(&[I32], &[]);
    let i32_i32 = t.func(&[I32], &[I32]);
    let i32x2_i32 = t.func(&[I32, I32], &[I32]);
    let i32x3_i32 = t.func(&[I32; 3], &[I32]);

    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "realloc", EntityType::Function(realloc));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "waitable-set.new", EntityType::Function(to_i32));
    imports.import("host", "waitable.join", EntityType::Function(i32x2));
    imports.import("host", "waitable-set.drop", EntityType::Function(i32_unit));
    for (i, c) in channels.iter().enumerate() {
        let read = if c.transport == Transport::Future { i32x2_i32 } else { i32x3_i32 };
        for (name, ty) in
            [("task.return", i32x2), ("read", read), ("cancel-read", i32_i32), ("drop-readable", i32_unit)]
        {
            imports.import("host", &format!("{name}{i}"), EntityType::Function(ty));
        }
    }
    let n_imported = R_IMPORTS + R_PER_CHANNEL * channels.len() as u32;

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, c) in channels.iter().enumerate() {
        let i = i as u32;
        let fns = reader_fns(i, n_imported);
        let layout = set.layout(&c.payload());
        for ty in [i32_i32, i32x3_i32, to_i32, to_i32, i32_i32] {
            funcs.function(ty);
        }
        code.function(&reader_export(c, &fns));
        code.function(&reader_callback(c, &fns));
        code.function(&reader_pump(c, &fns, layout.size, layout.align));
        code.function(&reader_finish(c, &fns));
        code.function(&reader_got(c));
        exports.export(&format!("s{i}"), ExportKind::Func, n_imported + R_FUNCS * i);
        exports.export(&format!("cb{i}"), ExportKind::Func, n_imported + R_FUNCS * i + 1);
    }
    let mut m = Module::new();
    m.section(&t.0);
    m.section(&imports);
    m.section(&funcs);
    m.section(&globals(6));
    m.section(&exports);
    m.section(&code);
    m
}

/// `s{i}(rx)`: joins the readable end to a new set and pumps.
fn reader_export(c: &Channel, fns: &ReaderFns) -> Function {
    let rx = 0;
    let mut f = Function::new([]);
    f.instruction(&I::Call(2)).instruction(&I::GlobalSet(R_SET));
    f.instruction(&I::LocalGet(rx)).instruction(&I::GlobalSet(R_RX));
    f.instruction(&I::GlobalGet(R_RX)).instruction(&I::GlobalGet(R_SET)).instruction(&I::Call(3));
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
    f.instruction(&I::Call(fns.pump)).instruction(&I::End);
    f
}

/// `cb{i}(event, index, payload)`: a read's progress finishes or pumps on.
fn reader_callback(c: &Channel, fns: &ReaderFns) -> Function {
    let (event, payload) = (0, 2);
    let read_event = if c.transport == Transport::Future { EVENT_FUTURE_READ } else { EVENT_STREAM_READ };
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(read_event)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(payload)).instruction(&I::Call(fns.got)).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Call(fns.finish)).instruction(&I::Return);
    f.instruction(&I::End);
    f.instruction(&I::Call(fns.pump)).instruction(&I::Return);
    f.instruction(&I::End);
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

/// The nested reader component: exports `s{i}: async func(s: stream<T>) -> list<T>` (or `future<list<T>>`).
fn reader_component(set: &TypeSet, channels: &[Channel]) -> ComponentBuilder {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let libc = b.core_module(Some("libc"), &guest::libc(ReallocMode::Good));
    let libc_inst = b.core_instantiate(Some("libc"), libc, Vec::<(&str, ModuleArg)>::new());
    let memory = b.core_alias_export(Some("memory"), libc_inst, "memory", ExportKind::Memory);
    let realloc = b.core_alias_export(Some("realloc"), libc_inst, "realloc", ExportKind::Func);
    let mut host: Vec<(String, u32)> = vec![
        ("waitable-set.new".into(), b.waitable_set_new()),
        ("waitable.join".into(), b.waitable_join()),
        ("waitable-set.drop".into(), b.waitable_set_drop()),
    ];
    let mut funcs = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let ty = channel_type(&mut b, &mut types, c);
        let list = types.val(&mut b, &c.list());
        let enc = c.reader.option();
        host.push((format!("task.return{i}"), b.task_return(Some(list), [enc, CanonicalOption::Memory(memory)])));
        let opts = [enc, CanonicalOption::Memory(memory), CanonicalOption::Realloc(realloc), CanonicalOption::Async];
        let (read, cancel, drop) = match c.transport {
            Transport::Stream { .. } => {
                (b.stream_read(ty, opts), b.stream_cancel_read(ty, false), b.stream_drop_readable(ty))
            }
            Transport::Future => (b.future_read(ty, opts), b.future_cancel_read(ty, false), b.future_drop_readable(ty)),
        };
        host.push((format!("read{i}"), read));
        host.push((format!("cancel-read{i}"), cancel));
        host.push((format!("drop-readable{i}"), drop));
        funcs.push(reader_func_type(&mut b, ty, list));
    }
    let host_inst = b.core_instantiate_exports(
        Some("host"),
        host.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let main = b.core_module(Some("reader"), &reader_module(set, channels));
    let main_inst = b.core_instantiate(
        Some("reader"),
        main,
        [("libc", ModuleArg::Instance(libc_inst)), ("host", ModuleArg::Instance(host_inst))],
    );
    for (i, (c, ft)) in channels.iter().zip(funcs).enumerate() {
        let name = format!("s{i}");
        let core = b.core_alias_export(Some(&name), main_inst, &name, ExportKind::Func);
        let callback = b.core_alias_export(None, main_inst, &format!("cb{i}"), ExportKind::Func);
        let opts = [
            c.reader.option(),
            CanonicalOption::Memory(memory),
            CanonicalOption::Realloc(realloc),
            CanonicalOption::Async,
            CanonicalOption::Callback(callback),
        ];
        let lifted = b.lift_func(Some(&name), core, ft, opts);
        b.export(&name, ComponentExportKind::Func, lifted, None);
    }
    b
}

/// The type of the reader's `s{i}`: `async func(s: stream<T>) -> list<T>` (or `future<list<T>>`).
fn reader_func_type(b: &mut ComponentBuilder, channel: u32, list: ComponentValType) -> u32 {
    let (ft, mut enc) = b.type_function(None);
    enc.async_(true);
    enc.params([("s", ComponentValType::Type(channel))]);
    enc.result(Some(list));
    ft
}

/// The nested writer component: imports the reader's `s{i}` and exports `e{i}: async func(x: list<T>) ->
/// list<T>`. (Writer and reader are siblings: wasmtime 48 traps any call between a component instance and its
/// ancestor, which the spec allows.)
fn writer_component(set: &TypeSet, channels: &[Channel]) -> ComponentBuilder {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let mut imported = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let ty = channel_type(&mut b, &mut types, c);
        let list = types.val(&mut b, &c.list());
        let ft = reader_func_type(&mut b, ty, list);
        let f = b.import(format!("s{i}").as_str(), wasm_encoder::ComponentTypeRef::Func(ft));
        imported.push((ty, list, f));
    }
    let libc = b.core_module(Some("libc"), &guest::libc(ReallocMode::Good));
    let libc_inst = b.core_instantiate(Some("libc"), libc, Vec::<(&str, ModuleArg)>::new());
    let memory = b.core_alias_export(Some("memory"), libc_inst, "memory", ExportKind::Memory);
    let realloc = b.core_alias_export(Some("realloc"), libc_inst, "realloc", ExportKind::Func);
    let mut host: Vec<(String, u32)> = vec![
        ("waitable-set.new".into(), b.waitable_set_new()),
        ("waitable.join".into(), b.waitable_join()),
        ("waitable-set.drop".into(), b.waitable_set_drop()),
        ("subtask.drop".into(), b.subtask_drop()),
    ];
    for (i, (c, &(ty, list, callee))) in channels.iter().zip(&imported).enumerate() {
        let enc = c.writer.option();
        let lower_opts =
            [enc, CanonicalOption::Memory(memory), CanonicalOption::Realloc(realloc), CanonicalOption::Async];
        host.push((format!("lower{i}"), b.lower_func(None, callee, lower_opts)));
        host.push((format!("task.return{i}"), b.task_return(Some(list), [enc, CanonicalOption::Memory(memory)])));
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
        host.push((format!("new{i}"), new));
        host.push((format!("write{i}"), write));
        host.push((format!("cancel-write{i}"), cancel));
        host.push((format!("drop-writable{i}"), drop));
    }
    let host_inst = b.core_instantiate_exports(
        Some("host"),
        host.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let main = b.core_module(Some("writer"), &writer_module(set, channels));
    let main_inst = b.core_instantiate(
        Some("writer"),
        main,
        [("libc", ModuleArg::Instance(libc_inst)), ("host", ModuleArg::Instance(host_inst))],
    );
    for (i, (c, &(_, list, _))) in channels.iter().zip(&imported).enumerate() {
        let name = format!("e{i}");
        let core = b.core_alias_export(Some(&name), main_inst, &name, ExportKind::Func);
        let callback = b.core_alias_export(None, main_inst, &format!("cb{i}"), ExportKind::Func);
        let (ft, mut enc_ft) = b.type_function(None);
        enc_ft.async_(true);
        enc_ft.params([("x", list)]);
        enc_ft.result(Some(list));
        let opts = [
            c.writer.option(),
            CanonicalOption::Memory(memory),
            CanonicalOption::Realloc(realloc),
            CanonicalOption::Async,
            CanonicalOption::Callback(callback),
        ];
        let lifted = b.lift_func(Some(&name), core, ft, opts);
        b.export(&name, ComponentExportKind::Func, lifted, None);
    }
    b
}

/// The component: the reader and the writer side by side; exports the writer's `e{i}: async func(x: list<T>)
/// -> list<T>` and imports nothing but the named types.
pub fn encode(set: &TypeSet, channels: &[Channel]) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let reader = b.component(Some("reader"), reader_component(set, channels));
    let writer = b.component(Some("writer"), writer_component(set, channels));
    let type_args: Vec<(String, ComponentExportKind, u32)> =
        types.imported.iter().map(|(n, i)| (n.clone(), ComponentExportKind::Type, *i)).collect();
    let reader_inst = b.instantiate(Some("reader"), reader, type_args.clone());
    let mut args = type_args;
    for i in 0..channels.len() {
        let f = b.alias_export(reader_inst, &format!("s{i}"), ComponentExportKind::Func);
        args.push((format!("s{i}"), ComponentExportKind::Func, f));
    }
    let writer_inst = b.instantiate(Some("writer"), writer, args);
    for i in 0..channels.len() {
        let name = format!("e{i}");
        let f = b.alias_export(writer_inst, &name, ComponentExportKind::Func);
        b.export(&name, ComponentExportKind::Func, f, None);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use crate::case::Tier;
    use crate::generate_case;

    #[test]
    fn cases_carry_values_through_streams_and_futures_and_are_valid() {
        let mut notes = String::new();
        for seed in 0..24 {
            let case = generate_case(seed, Tier::Stream);
            let mut features = wasmparser::WasmFeatures::default();
            features.insert(wasmparser::WasmFeatures::CM_ASYNC);
            wasmparser::Validator::new_with_features(features)
                .validate_all(&case.component)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{}", case.wit()));
            assert!(case.imports.is_empty(), "seed {seed}");
            for call in &case.calls {
                assert_eq!(call.expect, crate::Expect::Returns(Some(call.args[0].clone())), "seed {seed}");
            }
            notes.push_str(&case.note);
        }
        for flavour in ["stream<", "future<list<", "write cancelled", "read cancelled"] {
            assert!(notes.contains(flavour), "no case has {flavour}: {notes}");
        }
    }
}
