//! The backpressure tier's guests: concurrent calls into a component that admits one task at a time.
//!
//! Each export `e{i}: async func(x: list<T>) -> list<T>` returns `x`, but in parts: the *caller* component splits
//! `x` into `parts` slices and calls its sibling's `q{i}: async func(x: list<T>) -> list<T>` once per slice, all
//! through an `async` lower and without waiting in between, then waits for every subtask, concatenates their
//! results and returns the whole with `task.return`.
//!
//! The *callee* raises its instance's backpressure (`backpressure.inc`) when a task enters, yields `yields` times
//! (callback code `YIELD`), returns its argument, and lowers the backpressure again (`backpressure.dec`) before it
//! exits. Its state lives in globals, which is sound only because backpressure admits one task at a time: a task
//! that enters while another is active traps (`unreachable`), so an engine that lets a call start under
//! backpressure fails the case. Calls that arrive under backpressure wait (`STARTING`) and start, in some order,
//! as the active task exits.
//!
//! With `cancel`, the caller cancels the first call that comes back `STARTING` (synchronous `subtask.cancel`,
//! before the subtask joins any set), which the spec resolves at once as `CANCELLED_BEFORE_STARTED` without
//! running the callee (anything else traps), drops the subtask and makes the same call again.
//!
//! A call that comes back `STARTING` has not lifted its arguments yet: the spec lifts them when the callee starts
//! (`on_start`). The caller checks it: it swaps the first and last elements of such a slice in its own memory
//! right after the call, and swaps them back in that slice's result. The callee echoes what it was given, so the
//! list comes back whole only if the engine lifted the arguments at the start; one that lifted them at the call
//! gives back a list with those elements swapped.
//!
//! What the spec leaves open — whether a yield suspends the callee or goes on at once (so whether later calls come
//! back `RETURNED`, `STARTED` or `STARTING`, and whether the cancel happens), and the order in which waiting calls
//! start — cannot change the result: every slice comes back into its own return area, and the caller concatenates
//! them in order. So every call's expected result is its argument.

use wasm_encoder::{
    BlockType, CodeSection, ComponentBuilder, ComponentExportKind, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, Instruction as I, ValType,
};

use crate::encode::TypeEncoder;
use crate::guest::{Encoding, RET_AREA};
use crate::streams::{async_func_type, mem, memory_type, module, wait, Side, Types, EVENT_SUBTASK, EXIT, RETURNED};
use crate::ty::{Ty, TypeSet};

/// At most this many slices per call: their return areas fill `RET_AREA..RET_AREA + 8 * MAX_PARTS`.
pub const MAX_PARTS: u32 = 4;

/// The spec's `Subtask.State.STARTING` and `CANCELLED_BEFORE_STARTED`, the callback code `YIELD` and the event
/// code `NONE`.
const STARTING: i32 = 0;
const CANCELLED_BEFORE_STARTED: i32 = 3;
const YIELD: i32 = 1;
const EVENT_NONE: i32 = 0;

/// One export's concurrent calls.
#[derive(Clone, Debug)]
pub struct Concurrent {
    /// The element type `T`.
    pub elem: Ty,
    /// Slices (and calls) per export call, `2..=MAX_PARTS`.
    pub parts: u32,
    /// Times each callee task yields before it returns.
    pub yields: u32,
    /// Cancel the first call that comes back `STARTING`, and make it again.
    pub cancel: bool,
    /// The caller's string encoding.
    pub caller: Encoding,
    /// The callee's string encoding.
    pub callee: Encoding,
}

impl Concurrent {
    /// A short description for a case's note.
    pub fn describe(&self, set: &TypeSet) -> String {
        let cancel = if self.cancel { ", first waiting call cancelled and made again" } else { "" };
        format!(
            "list<{}> in {} calls, callee yields {} times{cancel}, {} to {}",
            set.wit(&self.elem),
            self.parts,
            self.yields,
            self.caller.name(),
            self.callee.name()
        )
    }

    fn list(&self) -> Ty {
        Ty::List(Box::new(self.elem.clone()))
    }
}

/// The return area of slice `j`: the `(ptr, len)` of its result.
fn area(j: u32) -> i32 {
    (RET_AREA + 8 * j) as i32
}

// The caller's core instance.
//
// Imports: `libc.realloc` (0), `libc.reset` (1), `waitable-set.new` (2), `waitable.join` (3), `waitable-set.drop`
// (4), `subtask.drop` (5), `subtask.cancel` (6), then per export the async-lowered `q{i}` and `task.return`.
// Functions: `swap` (shared), then per export: `e{i}`, `cb{i}`, issue, track, finish. Globals: the waitable set, the
// argument's pointer and length, the subtasks that returned, whether a call was cancelled, the slices swapped (a
// bit per slice).

const C_IMPORTS: u32 = 7;
const C_PER_EXPORT: u32 = 2;
const C_FUNCS: u32 = 5;
const C_SET: u32 = 0;
const C_PTR: u32 = 1;
const C_LEN: u32 = 2;
const C_DONE: u32 = 3;
const C_CANCELLED: u32 = 4;
const C_SWAPPED: u32 = 5;

/// Indices of one export's functions in the caller.
struct CallerFns {
    lower: u32,
    task_return: u32,
    issue: u32,
    track: u32,
    finish: u32,
    /// The shared `swap(ptr, len, size)`.
    swap: u32,
}

/// The index of export `i`'s first function: after the shared `swap`.
fn caller_own(i: u32, n_imported: u32) -> u32 {
    n_imported + 1 + C_FUNCS * i
}

fn caller_fns(i: u32, n_imported: u32) -> CallerFns {
    let imp = C_IMPORTS + C_PER_EXPORT * i;
    let own = caller_own(i, n_imported);
    CallerFns { lower: imp, task_return: imp + 1, issue: own + 2, track: own + 3, finish: own + 4, swap: n_imported }
}

fn caller_module(set: &TypeSet, exports: &[Concurrent]) -> wasm_encoder::Module {
    let t = Types::new();
    let Types { realloc, unit, to_i32, i32x2, i32_unit, i32_i32, i32x3_i32, .. } = t;
    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "realloc", EntityType::Function(realloc));
    imports.import("libc", "reset", EntityType::Function(unit));
    for (name, ty) in [
        ("waitable-set.new", to_i32),
        ("waitable.join", i32x2),
        ("waitable-set.drop", i32_unit),
        ("subtask.drop", i32_unit),
        ("subtask.cancel", i32_i32),
    ] {
        imports.import("host", name, EntityType::Function(ty));
    }
    for i in 0..exports.len() {
        imports.import("host", &format!("lower{i}"), EntityType::Function(i32x3_i32));
        imports.import("host", &format!("task.return{i}"), EntityType::Function(i32x2));
    }
    let n_imported = C_IMPORTS + C_PER_EXPORT * exports.len() as u32;
    let mut funcs = FunctionSection::new();
    let mut out = ExportSection::new();
    let mut code = CodeSection::new();
    funcs.function(t.i32x3);
    code.function(&caller_swap());
    for (i, c) in exports.iter().enumerate() {
        let i = i as u32;
        let fns = caller_fns(i, n_imported);
        let layout = set.layout(&c.elem);
        for ty in [t.i32x2_i32, i32x3_i32, i32_i32, i32x2, to_i32] {
            funcs.function(ty);
        }
        code.function(&caller_export(c, &fns));
        code.function(&caller_callback(&fns));
        code.function(&caller_issue(c, &fns, layout.size));
        code.function(&caller_track(c, &fns, layout.size));
        code.function(&caller_finish(c, &fns, layout.size, layout.align));
        out.export(&format!("e{i}"), ExportKind::Func, caller_own(i, n_imported));
        out.export(&format!("cb{i}"), ExportKind::Func, caller_own(i, n_imported) + 1);
    }
    module(&t, &imports, &funcs, 6, &out, &code)
}

/// `e{i}(ptr, len)`: makes every call, then finishes (if all returned at once) or waits.
fn caller_export(c: &Concurrent, fns: &CallerFns) -> Function {
    let (ptr, len) = (0, 1);
    let mut f = Function::new([]);
    f.instruction(&I::Call(2)).instruction(&I::GlobalSet(C_SET));
    f.instruction(&I::LocalGet(ptr)).instruction(&I::GlobalSet(C_PTR));
    f.instruction(&I::LocalGet(len)).instruction(&I::GlobalSet(C_LEN));
    for g in [C_DONE, C_CANCELLED, C_SWAPPED] {
        f.instruction(&I::I32Const(0)).instruction(&I::GlobalSet(g));
    }
    for j in 0..c.parts {
        f.instruction(&I::I32Const(j as i32));
        f.instruction(&I::I32Const(j as i32)).instruction(&I::Call(fns.issue));
        f.instruction(&I::Call(fns.track));
    }
    f.instruction(&I::Call(fns.finish)).instruction(&I::End);
    f
}

/// Leaves slice `j`'s `(ptr, len)` on the stack: elements `[len * j / parts, len * (j + 1) / parts)` of the
/// argument (`j` and `start` are locals).
fn slice(f: &mut Function, c: &Concurrent, size: u32, j: u32, start: u32) {
    let bound = |f: &mut Function, plus: i32| {
        f.instruction(&I::GlobalGet(C_LEN)).instruction(&I::LocalGet(j));
        f.instruction(&I::I32Const(plus)).instruction(&I::I32Add).instruction(&I::I32Mul);
        f.instruction(&I::I32Const(c.parts as i32)).instruction(&I::I32DivU);
    };
    bound(f, 0);
    f.instruction(&I::LocalSet(start));
    f.instruction(&I::GlobalGet(C_PTR));
    f.instruction(&I::LocalGet(start)).instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul);
    f.instruction(&I::I32Add);
    bound(f, 1);
    f.instruction(&I::LocalGet(start)).instruction(&I::I32Sub);
}

/// `swap(ptr, len, size)`: swaps the first and last of `len` elements of `size` bytes at `ptr` (through a scratch
/// block from `realloc`), if there are two or more.
fn caller_swap() -> Function {
    let (ptr, len, size, scratch, last) = (0, 1, 2, 3, 4);
    let mut f = Function::new([(2, ValType::I32)]);
    f.instruction(&I::LocalGet(len)).instruction(&I::I32Const(2)).instruction(&I::I32GeU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I32Const(0)).instruction(&I::I32Const(0)).instruction(&I::I32Const(8));
    f.instruction(&I::LocalGet(size)).instruction(&I::Call(0)).instruction(&I::LocalSet(scratch));
    f.instruction(&I::LocalGet(ptr))
        .instruction(&I::LocalGet(len))
        .instruction(&I::I32Const(1))
        .instruction(&I::I32Sub);
    f.instruction(&I::LocalGet(size)).instruction(&I::I32Mul).instruction(&I::I32Add).instruction(&I::LocalSet(last));
    for (dst, src) in [(scratch, ptr), (ptr, last), (last, scratch)] {
        f.instruction(&I::LocalGet(dst)).instruction(&I::LocalGet(src)).instruction(&I::LocalGet(size));
        f.instruction(&I::MemoryCopy { src_mem: 0, dst_mem: 0 });
    }
    f.instruction(&I::End).instruction(&I::End);
    f
}

/// `issue(j) -> status`: calls `q{i}` with slice `j`, its result going to the slice's return area.
fn caller_issue(c: &Concurrent, fns: &CallerFns, size: u32) -> Function {
    let (j, start) = (0, 1);
    let mut f = Function::new([(1, ValType::I32)]);
    slice(&mut f, c, size, j, start);
    f.instruction(&I::LocalGet(j)).instruction(&I::I32Const(8)).instruction(&I::I32Mul);
    f.instruction(&I::I32Const(area(0))).instruction(&I::I32Add);
    f.instruction(&I::Call(fns.lower)).instruction(&I::End);
    f
}

/// `track(j, status)`: counts a call that returned at once; cancels the first one that waits to start (with
/// `cancel`) and makes it again; joins any other subtask to the set, and swaps the first and last elements of a
/// slice whose call waits to start (its arguments are not lifted yet).
fn caller_track(c: &Concurrent, fns: &CallerFns, size: u32) -> Function {
    let (j, status, handle, start) = (0, 1, 2, 3);
    let mut f = Function::new([(2, ValType::I32)]);
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
    f.instruction(&I::LocalSet(handle));
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(0xf)).instruction(&I::I32And);
    f.instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::GlobalGet(C_DONE)).instruction(&I::I32Const(1)).instruction(&I::I32Add);
    f.instruction(&I::GlobalSet(C_DONE)).instruction(&I::Return);
    f.instruction(&I::End);
    if c.cancel {
        f.instruction(&I::GlobalGet(C_CANCELLED)).instruction(&I::I32Eqz);
        f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(0xf)).instruction(&I::I32And);
        f.instruction(&I::I32Const(STARTING)).instruction(&I::I32Eq);
        f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
        f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(C_CANCELLED));
        f.instruction(&I::LocalGet(handle)).instruction(&I::Call(6));
        f.instruction(&I::I32Const(CANCELLED_BEFORE_STARTED)).instruction(&I::I32Ne);
        f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
        f.instruction(&I::LocalGet(handle)).instruction(&I::Call(5));
        f.instruction(&I::LocalGet(j));
        f.instruction(&I::LocalGet(j)).instruction(&I::Call(fns.issue));
        f.instruction(&I::Call(fns.track)).instruction(&I::Return);
        f.instruction(&I::End);
    }
    f.instruction(&I::LocalGet(handle)).instruction(&I::GlobalGet(C_SET)).instruction(&I::Call(3));
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(0xf)).instruction(&I::I32And);
    f.instruction(&I::I32Const(STARTING)).instruction(&I::I32Eq).instruction(&I::If(BlockType::Empty));
    slice(&mut f, c, size, j, start);
    f.instruction(&I::I32Const(size as i32)).instruction(&I::Call(fns.swap));
    f.instruction(&I::GlobalGet(C_SWAPPED));
    f.instruction(&I::I32Const(1)).instruction(&I::LocalGet(j)).instruction(&I::I32Shl);
    f.instruction(&I::I32Or).instruction(&I::GlobalSet(C_SWAPPED));
    f.instruction(&I::End);
    f.instruction(&I::End);
    f
}

/// `cb{i}(event, index, payload)`: a subtask that returned is dropped and counted; then finish or wait.
fn caller_callback(fns: &CallerFns) -> Function {
    let (event, index, payload) = (0, 1, 2);
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(EVENT_SUBTASK)).instruction(&I::I32Eq);
    f.instruction(&I::LocalGet(payload)).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
    f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(index)).instruction(&I::Call(5));
    f.instruction(&I::GlobalGet(C_DONE)).instruction(&I::I32Const(1)).instruction(&I::I32Add);
    f.instruction(&I::GlobalSet(C_DONE));
    f.instruction(&I::End);
    f.instruction(&I::Call(fns.finish)).instruction(&I::End);
    f
}

/// `finish() -> code`: once every call returned, concatenates the slices' results into a new list, returns it and
/// rewinds the heap (`EXIT`); `WAIT` before.
fn caller_finish(c: &Concurrent, fns: &CallerFns, size: u32, align: u32) -> Function {
    let (total, dst) = (0, 1);
    let mut f = Function::new([(2, ValType::I32)]);
    f.instruction(&I::GlobalGet(C_DONE)).instruction(&I::I32Const(c.parts as i32)).instruction(&I::I32Ne);
    f.instruction(&I::If(BlockType::Empty));
    wait(&mut f, C_SET);
    f.instruction(&I::Return).instruction(&I::End);
    f.instruction(&I::GlobalGet(C_SET)).instruction(&I::Call(4));
    // The slices swapped before their calls started come back swapped: swap them back.
    for j in 0..c.parts {
        f.instruction(&I::GlobalGet(C_SWAPPED)).instruction(&I::I32Const(1 << j)).instruction(&I::I32And);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(area(j) as u32, 2)));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(area(j) as u32 + 4, 2)));
        f.instruction(&I::I32Const(size as i32)).instruction(&I::Call(fns.swap));
        f.instruction(&I::End);
    }
    f.instruction(&I::I32Const(0));
    for j in 0..c.parts {
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(mem(area(j) as u32 + 4, 2)));
        f.instruction(&I::I32Add);
    }
    f.instruction(&I::LocalSet(total));
    f.instruction(&I::I32Const(0)).instruction(&I::I32Const(0)).instruction(&I::I32Const(align as i32));
    f.instruction(&I::LocalGet(total)).instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul);
    f.instruction(&I::Call(0)).instruction(&I::LocalSet(dst));
    // The slices' elements, copied shallowly: their strings and lists stay where the lowering put them.
    f.instruction(&I::LocalGet(dst));
    for j in 0..c.parts {
        let (ptr, len) = (mem(area(j) as u32, 2), mem(area(j) as u32 + 4, 2));
        f.instruction(&I::LocalTee(dst));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(ptr));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(len));
        f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul);
        f.instruction(&I::MemoryCopy { src_mem: 0, dst_mem: 0 });
        f.instruction(&I::LocalGet(dst));
        f.instruction(&I::I32Const(0)).instruction(&I::I32Load(len));
        f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul).instruction(&I::I32Add);
    }
    // Back to the start of the new list.
    f.instruction(&I::LocalGet(total)).instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul);
    f.instruction(&I::I32Sub);
    f.instruction(&I::LocalGet(total)).instruction(&I::Call(fns.task_return));
    f.instruction(&I::Call(1)).instruction(&I::I32Const(EXIT)).instruction(&I::End);
    f
}

// The callee's core instance.
//
// Imports: `libc.reset` (0), `backpressure.inc` (1), `backpressure.dec` (2), then per export `task.return`.
// Functions per export: `q{i}`, `cb{i}`, finish. Globals: whether a task is active, its argument's pointer and
// length, the yields left.

const Q_IMPORTS: u32 = 3;
const Q_FUNCS: u32 = 3;
const Q_ACTIVE: u32 = 0;
const Q_PTR: u32 = 1;
const Q_LEN: u32 = 2;
const Q_LEFT: u32 = 3;

fn callee_module(exports: &[Concurrent]) -> wasm_encoder::Module {
    let t = Types::new();
    let Types { unit, i32x2, i32x2_i32, i32x3_i32, to_i32, .. } = t;
    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "backpressure.inc", EntityType::Function(unit));
    imports.import("host", "backpressure.dec", EntityType::Function(unit));
    for i in 0..exports.len() {
        imports.import("host", &format!("task.return{i}"), EntityType::Function(i32x2));
    }
    let n_imported = Q_IMPORTS + exports.len() as u32;
    let mut funcs = FunctionSection::new();
    let mut out = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, c) in exports.iter().enumerate() {
        let i = i as u32;
        let finish = n_imported + Q_FUNCS * i + 2;
        for ty in [i32x2_i32, i32x3_i32, to_i32] {
            funcs.function(ty);
        }
        code.function(&callee_export(c, finish));
        code.function(&callee_callback(finish));
        code.function(&callee_finish(Q_IMPORTS + i));
        out.export(&format!("q{i}"), ExportKind::Func, n_imported + Q_FUNCS * i);
        out.export(&format!("cb{i}"), ExportKind::Func, n_imported + Q_FUNCS * i + 1);
    }
    module(&t, &imports, &funcs, 4, &out, &code)
}

/// `q{i}(ptr, len)`: traps if another task is active, raises the backpressure, and yields (or finishes at once).
fn callee_export(c: &Concurrent, finish: u32) -> Function {
    let (ptr, len) = (0, 1);
    let mut f = Function::new([]);
    f.instruction(&I::GlobalGet(Q_ACTIVE));
    f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
    f.instruction(&I::I32Const(1)).instruction(&I::GlobalSet(Q_ACTIVE));
    f.instruction(&I::Call(1));
    f.instruction(&I::LocalGet(ptr)).instruction(&I::GlobalSet(Q_PTR));
    f.instruction(&I::LocalGet(len)).instruction(&I::GlobalSet(Q_LEN));
    f.instruction(&I::I32Const(c.yields as i32)).instruction(&I::GlobalSet(Q_LEFT));
    if c.yields == 0 {
        f.instruction(&I::Call(finish));
    } else {
        f.instruction(&I::I32Const(YIELD));
    }
    f.instruction(&I::End);
    f
}

/// `cb{i}(event, _, _)`: only yields resume the task (`NONE`); the last one finishes it.
fn callee_callback(finish: u32) -> Function {
    let event = 0;
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(event)).instruction(&I::I32Const(EVENT_NONE)).instruction(&I::I32Ne);
    f.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
    f.instruction(&I::GlobalGet(Q_LEFT)).instruction(&I::I32Const(1)).instruction(&I::I32Sub);
    f.instruction(&I::GlobalSet(Q_LEFT));
    f.instruction(&I::GlobalGet(Q_LEFT)).instruction(&I::I32Eqz);
    f.instruction(&I::If(BlockType::Result(ValType::I32)));
    f.instruction(&I::Call(finish));
    f.instruction(&I::Else).instruction(&I::I32Const(YIELD)).instruction(&I::End);
    f.instruction(&I::End);
    f
}

/// `finish() -> EXIT`: lowers the backpressure, returns the argument and rewinds the heap (the next task's
/// arguments are lowered when it starts, after this one exits).
fn callee_finish(task_return: u32) -> Function {
    let mut f = Function::new([]);
    f.instruction(&I::I32Const(0)).instruction(&I::GlobalSet(Q_ACTIVE));
    f.instruction(&I::Call(2));
    f.instruction(&I::GlobalGet(Q_PTR)).instruction(&I::GlobalGet(Q_LEN)).instruction(&I::Call(task_return));
    f.instruction(&I::Call(0)).instruction(&I::I32Const(EXIT)).instruction(&I::End);
    f
}

/// The callee's component: exports `q{i}`.
fn callee_component(set: &TypeSet, exports: &[Concurrent]) -> ComponentBuilder {
    let mut side = Side::new(set);
    let inc = side.b.backpressure_inc();
    let dec = side.b.backpressure_dec();
    side.host.push(("backpressure.inc".into(), inc));
    side.host.push(("backpressure.dec".into(), dec));
    let mut lifts = Vec::new();
    for (i, c) in exports.iter().enumerate() {
        let list = side.types.val(&mut side.b, &c.list());
        let enc = c.callee.option();
        let task_return = side.b.task_return(Some(list), [enc, wasm_encoder::CanonicalOption::Memory(side.memory)]);
        side.host.push((format!("task.return{i}"), task_return));
        let ft = async_func_type(&mut side.b, ("x", list), list);
        lifts.push((format!("q{i}"), ft, c.callee));
    }
    side.finish("callee", &callee_module(exports), lifts)
}

/// The caller's component: imports `q{i}`, exports `e{i}`.
fn caller_component(set: &TypeSet, exports: &[Concurrent]) -> ComponentBuilder {
    use wasm_encoder::CanonicalOption as O;
    let mut side = Side::new(set);
    let cancel = side.b.subtask_cancel(false);
    side.host.push(("subtask.cancel".into(), cancel));
    let mut lifts = Vec::new();
    for (i, c) in exports.iter().enumerate() {
        let list = side.types.val(&mut side.b, &c.list());
        let enc = c.caller.option();
        let ft = async_func_type(&mut side.b, ("x", list), list);
        let q = side.b.import(format!("q{i}"), wasm_encoder::ComponentTypeRef::Func(ft));
        let lowered = side.b.lower_func(None, q, [enc, O::Memory(side.memory), O::Realloc(side.realloc), O::Async]);
        side.host.push((format!("lower{i}"), lowered));
        let task_return = side.b.task_return(Some(list), [enc, O::Memory(side.memory)]);
        side.host.push((format!("task.return{i}"), task_return));
        let ft = async_func_type(&mut side.b, ("x", list), list);
        lifts.push((format!("e{i}"), ft, c.caller));
    }
    side.finish("caller", &caller_module(set, exports), lifts)
}

/// The component: the callee and the caller side by side (see [`crate::streams::encode`] for why siblings);
/// exports the caller's `e{i}: async func(x: list<T>) -> list<T>` and imports nothing but the named types.
pub fn encode(set: &TypeSet, exports: &[Concurrent]) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let callee = b.component(Some("callee"), callee_component(set, exports));
    let caller = b.component(Some("caller"), caller_component(set, exports));
    let type_args: Vec<(String, ComponentExportKind, u32)> =
        types.imported.iter().map(|(n, i)| (n.clone(), ComponentExportKind::Type, *i)).collect();
    let callee_inst = b.instantiate(Some("callee"), callee, type_args.clone());
    let mut args = type_args;
    for i in 0..exports.len() {
        let name = format!("q{i}");
        let f = b.alias_export(callee_inst, &name, ComponentExportKind::Func);
        args.push((name, ComponentExportKind::Func, f));
    }
    let caller_inst = b.instantiate(Some("caller"), caller, args);
    for i in 0..exports.len() {
        let name = format!("e{i}");
        let f = b.alias_export(caller_inst, &name, ComponentExportKind::Func);
        b.export(&name, ComponentExportKind::Func, f, None);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use crate::case::Tier;

    #[test]
    fn cases_split_lists_into_concurrent_calls_and_are_valid() {
        let notes = crate::async_tests::echo_cases_notes(Tier::Backpressure, |seed, case| {
            assert!(case.imports.is_empty(), "seed {seed}")
        });
        for flavour in ["in 2 calls", "in 4 calls", "yields 0 times", "yields 3 times", "cancelled"] {
            assert!(notes.contains(flavour), "no case has {flavour}: {notes}");
        }
    }
}
