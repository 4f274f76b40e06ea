//! The async tier's guests: the async ABI's value paths, with the same values checked end to end as in the echo
//! tier.
//!
//! Each export `e{i}` is an `async func`, lifted with `async` and a `callback`; it forwards its arguments to the
//! host import `i{i}` (an `async func` of the same signature) through an `async` lower, and returns the import's
//! result with `task.return`:
//!
//! * If the host answers at once, the lower returns `RETURNED`: the result is in the return area, and the export
//!   calls `task.return` and exits.
//! * If the host answers later, the lower returns `STARTED` (or `STARTING`) and a subtask: the export joins it to
//!   a new waitable set and returns `WAIT`; its callback gets `SUBTASK` events and, on `RETURNED`, drops the
//!   subtask and the set, calls `task.return` and exits.
//!
//! The host chooses per import which way it answers ([`crate::HostBehaviour::ReturnQueuedLater`]), so both the
//! synchronous and the event-driven paths of every engine carry the values.
//!
//! The guest passes values through without knowing their layout, as the echo tier does, so signatures are those
//! where the core shapes agree: parameters that an async lower takes as they come (at most
//! [`MAX_FLAT_ASYNC_PARAMS`] flat values, or in memory behind one pointer, where the lift left them too), and a
//! result that `task.return` takes from memory (more than [`MAX_FLAT`] flat values) or that the guest loads from
//! the return area into flat values ([`load_flat`]: any type without a variant, whose flat form depends on the
//! case). Async lifts have no `post-return`, so the export rewinds the heap after `task.return` (which lifts its
//! values at once).

use wasm_encoder::{
    BlockType, CanonicalOption, CodeSection, ComponentBuilder, ComponentExportKind, ComponentTypeRef, EntityType,
    ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction as I,
    MemArg, MemoryType, Module, ModuleArg, TypeSection, ValType,
};

use crate::encode::TypeEncoder;
use crate::guest::{self, vals, Encoding, ReallocMode, Sig, INITIAL_PAGES, RET_AREA};
use crate::ty::{Def, Ty, TypeSet, MAX_FLAT};

/// At most this many flat parameters go to an `async` lower as they are; more go behind a pointer.
pub const MAX_FLAT_ASYNC_PARAMS: usize = 4;

/// The spec's subtask state a lower returns when the callee has returned (`Subtask.State.RETURNED`).
const RETURNED: i32 = 2;
/// The event code of a subtask's progress (`EventCode.SUBTASK`).
const EVENT_SUBTASK: i32 = 1;
/// Callback codes (`CallbackCode`).
const EXIT: i32 = 0;
const WAIT: i32 = 2;

/// An async export and the async import it forwards to (same signature and string encoding).
#[derive(Clone, Debug)]
pub struct AsyncPair {
    /// The signature of both.
    pub sig: Sig,
    /// The string encoding of the lift, the lower and `task.return`.
    pub encoding: Encoding,
}

/// Whether an async export of `sig` can forward to an async import of `sig` without knowing the layout (see the
/// module docs).
pub fn forwardable(set: &TypeSet, sig: &Sig) -> bool {
    let params_ok = match set.record_layout(sig.params.iter().map(|(_, t)| t)).0.flat {
        None => true,
        Some(f) => f.len() <= MAX_FLAT_ASYNC_PARAMS,
    };
    let result_ok = match &sig.result {
        None => true,
        Some(t) => set.layout(t).flat.is_none() || loadable(set, t),
    };
    params_ok && result_ok
}

/// Whether [`load_flat`] can load `ty`: it has no variant (whose flat form depends on its case).
fn loadable(set: &TypeSet, ty: &Ty) -> bool {
    match ty {
        Ty::Option(_) | Ty::Result(..) => false,
        Ty::List(_) | Ty::String => true,
        Ty::Tuple(ts) => ts.iter().all(|t| loadable(set, t)),
        Ty::Named(i) => match &set.defs[*i].1 {
            Def::Record(fs) => fs.iter().all(|(_, t)| loadable(set, t)),
            Def::Variant(_) => false,
            Def::Enum(_) | Def::Flags(_) => true,
            Def::Alias(t) => loadable(set, t),
        },
        _ => true,
    }
}

fn mem(offset: u32, align: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align, memory_index: 0 }
}

/// Pushes the flat values of a `ty` stored at absolute address `at` (a [`loadable`] type).
fn load_flat(set: &TypeSet, ty: &Ty, at: u32, f: &mut Function) {
    let base = |f: &mut Function| {
        f.instruction(&I::I32Const(0));
    };
    let by_size = |f: &mut Function, size: u32| {
        base(f);
        f.instruction(&match size {
            1 => I::I32Load8U(mem(at, 0)),
            2 => I::I32Load16U(mem(at, 1)),
            _ => I::I32Load(mem(at, 2)),
        });
    };
    match ty {
        Ty::Bool | Ty::U8 => by_size(f, 1),
        Ty::S8 => {
            base(f);
            f.instruction(&I::I32Load8S(mem(at, 0)));
        }
        Ty::U16 => by_size(f, 2),
        Ty::S16 => {
            base(f);
            f.instruction(&I::I32Load16S(mem(at, 1)));
        }
        Ty::S32 | Ty::U32 | Ty::Char | Ty::Own(_) | Ty::Borrow(_) => by_size(f, 4),
        Ty::S64 | Ty::U64 => {
            base(f);
            f.instruction(&I::I64Load(mem(at, 3)));
        }
        Ty::F32 => {
            base(f);
            f.instruction(&I::F32Load(mem(at, 2)));
        }
        Ty::F64 => {
            base(f);
            f.instruction(&I::F64Load(mem(at, 3)));
        }
        Ty::String | Ty::List(_) => {
            by_size(f, 4);
            base(f);
            f.instruction(&I::I32Load(mem(at + 4, 2)));
        }
        Ty::Tuple(ts) => load_fields(set, ts.iter(), at, f),
        Ty::Named(i) => match &set.defs[*i].1 {
            Def::Record(fs) => load_fields(set, fs.iter().map(|(_, t)| t), at, f),
            Def::Enum(_) | Def::Flags(_) => by_size(f, set.layout(ty).size),
            Def::Alias(t) => load_flat(set, t, at, f),
            // `forwardable` keeps variants out.
            Def::Variant(_) => {
                f.instruction(&I::Unreachable);
            }
        },
        Ty::Option(_) | Ty::Result(..) => {
            f.instruction(&I::Unreachable);
        }
    }
}

fn load_fields<'t>(set: &TypeSet, fields: impl Iterator<Item = &'t Ty> + Clone, at: u32, f: &mut Function) {
    let (_, offsets) = set.record_layout(fields.clone());
    for (t, off) in fields.zip(offsets) {
        load_flat(set, t, at + off, f);
    }
}

/// The core signatures of one pair: (the lift, the async lower, `task.return`).
struct CoreSigs {
    lift: Vec<ValType>,
    lower: Vec<ValType>,
    task_return: Vec<ValType>,
    /// Whether `task.return` takes the result in the return area (behind a pointer) rather than loaded.
    return_by_pointer: bool,
}

fn core_sigs(set: &TypeSet, sig: &Sig) -> CoreSigs {
    let params = set.record_layout(sig.params.iter().map(|(_, t)| t)).0.flat;
    let lift = match &params {
        Some(f) => vals(f.clone()),
        None => vec![ValType::I32],
    };
    let mut lower = match &params {
        Some(f) if f.len() <= MAX_FLAT_ASYNC_PARAMS => vals(f.clone()),
        _ => vec![ValType::I32],
    };
    if sig.result.is_some() {
        lower.push(ValType::I32);
    }
    let result_flat = sig.result.as_ref().map(|t| set.layout(t).flat);
    let (task_return, return_by_pointer) = match result_flat {
        None => (Vec::new(), false),
        Some(Some(f)) if f.len() <= MAX_FLAT => (vals(f), false),
        Some(_) => (vec![ValType::I32], true),
    };
    CoreSigs { lift, lower, task_return, return_by_pointer }
}

/// The main module's imports from the component, in order (indices of functions).
const WS_NEW: u32 = 1;
const WS_JOIN: u32 = 2;
const WS_DROP: u32 = 3;
const SUBTASK_DROP: u32 = 4;
/// The first lowered host import; `task.return` of pair `i` follows all of them.
const FIRST_IMPORT: u32 = 5;

/// The main module: per pair, the export `e{i}` and its callback `cb{i}`; imports `libc` (`memory`, `reset`) and
/// the lowered functions and built-ins under `host`.
fn main_module(set: &TypeSet, pairs: &[AsyncPair]) -> Module {
    let sigs: Vec<CoreSigs> = pairs.iter().map(|p| core_sigs(set, &p.sig)).collect();
    let mut types = TypeSection::new();
    let mut ty = |params: Vec<ValType>, results: Vec<ValType>| {
        let i = types.len();
        types.ty().function(params, results);
        i
    };
    let unit = ty(vec![], vec![]);
    let ws_new = ty(vec![], vec![ValType::I32]);
    let join = ty(vec![ValType::I32, ValType::I32], vec![]);
    let drop = ty(vec![ValType::I32], vec![]);
    let callback = ty(vec![ValType::I32; 3], vec![ValType::I32]);
    let lowers: Vec<u32> = sigs.iter().map(|s| ty(s.lower.clone(), vec![ValType::I32])).collect();
    let returns: Vec<u32> = sigs.iter().map(|s| ty(s.task_return.clone(), vec![])).collect();
    let lifts: Vec<u32> = sigs.iter().map(|s| ty(s.lift.clone(), vec![ValType::I32])).collect();

    let mut imports = ImportSection::new();
    let memory =
        MemoryType { minimum: INITIAL_PAGES, maximum: None, memory64: false, shared: false, page_size_log2: None };
    imports.import("libc", "memory", EntityType::Memory(memory));
    imports.import("libc", "reset", EntityType::Function(unit));
    imports.import("host", "waitable-set.new", EntityType::Function(ws_new));
    imports.import("host", "waitable.join", EntityType::Function(join));
    imports.import("host", "waitable-set.drop", EntityType::Function(drop));
    imports.import("host", "subtask.drop", EntityType::Function(drop));
    for (i, t) in lowers.iter().enumerate() {
        imports.import("host", &format!("i{i}"), EntityType::Function(*t));
    }
    for (i, t) in returns.iter().enumerate() {
        imports.import("host", &format!("task.return{i}"), EntityType::Function(*t));
    }
    let n_imported = FIRST_IMPORT + 2 * pairs.len() as u32;

    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, (pair, s)) in pairs.iter().zip(&sigs).enumerate() {
        let (lower, task_return) = (FIRST_IMPORT + i as u32, FIRST_IMPORT + (pairs.len() + i) as u32);
        let done = |f: &mut Function| finish(set, pair, s, task_return, f);
        funcs.function(lifts[i]);
        code.function(&export_body(s, lower, &done));
        exports.export(&format!("e{i}"), ExportKind::Func, n_imported + 2 * i as u32);
        funcs.function(callback);
        code.function(&callback_body(&done));
        exports.export(&format!("cb{i}"), ExportKind::Func, n_imported + 2 * i as u32 + 1);
    }
    // Global 0: the waitable set of the call in progress (the harness makes one call at a time per instance).
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType { val_type: ValType::I32, mutable: true, shared: false },
        &wasm_encoder::ConstExpr::i32_const(0),
    );

    let mut m = Module::new();
    m.section(&types);
    m.section(&imports);
    m.section(&funcs);
    m.section(&globals);
    m.section(&exports);
    m.section(&code);
    m
}

/// `task.return` with the import's result (loaded from the return area, or behind a pointer to it), then the heap
/// rewound (`reset`: `task.return` has lifted everything), leaving `EXIT` on the stack.
fn finish(set: &TypeSet, pair: &AsyncPair, s: &CoreSigs, task_return: u32, f: &mut Function) {
    match &pair.sig.result {
        Some(_) if s.return_by_pointer => {
            f.instruction(&I::I32Const(RET_AREA as i32));
        }
        Some(t) => load_flat(set, t, RET_AREA, f),
        None => {}
    }
    f.instruction(&I::Call(task_return));
    f.instruction(&I::Call(0)); // libc.reset
    f.instruction(&I::I32Const(EXIT));
}

/// Leaves `WAIT` on the waitable set of global 0 on the stack.
fn wait(f: &mut Function) {
    f.instruction(&I::GlobalGet(0)).instruction(&I::I32Const(4)).instruction(&I::I32Shl);
    f.instruction(&I::I32Const(WAIT)).instruction(&I::I32Or);
}

fn export_body(s: &CoreSigs, lower: u32, finish: &dyn Fn(&mut Function)) -> Function {
    let status = s.lift.len() as u32;
    let mut f = Function::new([(1, ValType::I32)]);
    for i in 0..s.lift.len() as u32 {
        f.instruction(&I::LocalGet(i));
    }
    if s.lower.len() > s.lift.len() {
        f.instruction(&I::I32Const(RET_AREA as i32));
    }
    f.instruction(&I::Call(lower)).instruction(&I::LocalTee(status));
    f.instruction(&I::I32Const(0xf)).instruction(&I::I32And).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq);
    f.instruction(&I::If(BlockType::Result(ValType::I32)));
    finish(&mut f);
    f.instruction(&I::Else);
    // The subtask (`status >> 4`) joins a new waitable set, which the task waits on.
    f.instruction(&I::Call(WS_NEW)).instruction(&I::GlobalSet(0));
    f.instruction(&I::LocalGet(status)).instruction(&I::I32Const(4)).instruction(&I::I32ShrU);
    f.instruction(&I::GlobalGet(0)).instruction(&I::Call(WS_JOIN));
    wait(&mut f);
    f.instruction(&I::End).instruction(&I::End);
    f
}

/// `callback(event, index, payload)`: on the subtask's `RETURNED` it finishes the task; on any other event it
/// waits again.
fn callback_body(finish: &dyn Fn(&mut Function)) -> Function {
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(0)).instruction(&I::I32Const(EVENT_SUBTASK)).instruction(&I::I32Eq);
    f.instruction(&I::LocalGet(2)).instruction(&I::I32Const(RETURNED)).instruction(&I::I32Eq).instruction(&I::I32And);
    f.instruction(&I::If(BlockType::Result(ValType::I32)));
    f.instruction(&I::LocalGet(1)).instruction(&I::Call(SUBTASK_DROP));
    f.instruction(&I::GlobalGet(0)).instruction(&I::Call(WS_DROP));
    finish(&mut f);
    f.instruction(&I::Else);
    wait(&mut f);
    f.instruction(&I::End).instruction(&I::End);
    f
}

/// The component: imports `i{i}: async func(…)` and exports `e{i}: async func(…)` for each pair.
pub fn encode(set: &TypeSet, pairs: &[AsyncPair]) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let funcs: Vec<u32> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ft = types.func_async(&mut b, &p.sig, true);
            b.import(format!("i{i}").as_str(), ComponentTypeRef::Func(ft))
        })
        .collect();
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
    for (i, p) in pairs.iter().enumerate() {
        let opts = [
            p.encoding.option(),
            CanonicalOption::Memory(memory),
            CanonicalOption::Realloc(realloc),
            CanonicalOption::Async,
        ];
        host.push((format!("i{i}"), b.lower_func(Some(&format!("i{i}")), funcs[i], opts)));
    }
    for (i, p) in pairs.iter().enumerate() {
        let result = p.sig.result.as_ref().map(|t| types.val(&mut b, t));
        let opts = [p.encoding.option(), CanonicalOption::Memory(memory)];
        host.push((format!("task.return{i}"), b.task_return(result, opts)));
    }
    let host_inst = b.core_instantiate_exports(
        Some("host"),
        host.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let main = b.core_module(Some("main"), &main_module(set, pairs));
    let main_inst = b.core_instantiate(
        Some("main"),
        main,
        [("libc", ModuleArg::Instance(libc_inst)), ("host", ModuleArg::Instance(host_inst))],
    );
    for (i, p) in pairs.iter().enumerate() {
        let name = format!("e{i}");
        let core = b.core_alias_export(Some(&name), main_inst, &name, ExportKind::Func);
        let callback = b.core_alias_export(None, main_inst, &format!("cb{i}"), ExportKind::Func);
        let ft = types.func_async(&mut b, &p.sig, true);
        let opts = [
            p.encoding.option(),
            CanonicalOption::Memory(memory),
            CanonicalOption::Realloc(realloc),
            CanonicalOption::Async,
            CanonicalOption::Callback(callback),
        ];
        let lifted = b.lift_func(Some(&name), core, ft, opts);
        b.export(&name, ComponentExportKind::Func, lifted, None);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{HostBehaviour, Tier};
    use crate::generate_case;

    fn sig(params: Vec<Ty>, result: Option<Ty>) -> Sig {
        Sig { params: params.into_iter().enumerate().map(|(i, t)| (format!("p{i}"), t)).collect(), result }
    }

    #[test]
    fn forwardable_signatures_are_those_whose_core_shapes_agree() {
        let set = TypeSet::default();
        // Up to four flat parameters go to the async lower as they come; 5..=16 would need the guest to store
        // them; more than 16 arrive behind a pointer, as the lower takes them.
        assert!(forwardable(&set, &sig(vec![Ty::U32; 4], None)));
        assert!(!forwardable(&set, &sig(vec![Ty::U32; 5], None)));
        assert!(!forwardable(&set, &sig(vec![Ty::U64; 16], None)));
        assert!(forwardable(&set, &sig(vec![Ty::U32; 17], None)));
        // Results the guest loads must have no variant; those beyond 16 flat values go by pointer.
        assert!(forwardable(&set, &sig(vec![], Some(Ty::Tuple(vec![Ty::String, Ty::F64, Ty::S8])))));
        assert!(!forwardable(&set, &sig(vec![], Some(Ty::Option(Box::new(Ty::U32))))));
        let wide = Ty::Tuple(vec![Ty::Option(Box::new(Ty::U64)); 9]);
        assert!(forwardable(&set, &sig(vec![], Some(wide))));
    }

    #[test]
    fn cases_are_async_both_ways_and_valid() {
        let mut behaviours = Vec::new();
        for seed in 0..16 {
            let case = generate_case(seed, Tier::Async);
            assert!(case.wit().contains(": async func("), "seed {seed}: {}", case.wit());
            let mut features = wasmparser::WasmFeatures::default();
            features.insert(wasmparser::WasmFeatures::CM_ASYNC);
            wasmparser::Validator::new_with_features(features)
                .validate_all(&case.component)
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            for (_, s) in &case.exports {
                assert!(forwardable(&case.set, s), "seed {seed}: {s:?}");
            }
            behaviours.extend(case.imports.iter().map(|i| i.behaviour.clone()));
        }
        assert!(behaviours.contains(&HostBehaviour::ReturnQueued));
        assert!(behaviours.contains(&HostBehaviour::ReturnQueuedLater));
    }
}
