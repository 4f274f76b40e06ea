//! The resource tier: handle tables, destructors and the resource/instance-rule faults.
//!
//! The component (built with wasm-encoder, the same for every seed) defines its own resource `r` (rep `i32`;
//! its core destructor appends each destroyed rep to a log in guest memory, which `dtor-log` returns; `r` is
//! exported, so the host can hold one) and imports a host resource `h` with `[constructor]h(u32) -> own<h>` and
//! `[method]h.get(borrow<h>) -> u32`. Most exports take and return handle *indices* as plain `u32`s, so the
//! host sees the numbering of the instance's handle table; the last three pass `r` itself across:
//!
//! | export | does | outcome |
//! |---|---|---|
//! | `new-r(rep) -> u32` | `resource.new r` | the new handle |
//! | `rep-r(i) -> u32`, `drop-r(i)` | `resource.rep r` / `resource.drop r` (destructor runs) | rep / — |
//! | `new-h(v) -> u32` | calls `[constructor]h(v)`, the own is lowered into the table | the new handle |
//! | `get-h(i) -> u32` | lends `borrow<h>` of handle `i` to `[method]h.get` | the rep (the host echoes it) |
//! | `drop-h(i)` | `resource.drop h`: the host destructor runs (logged as `[dtor]h`) | — |
//! | `dtor-log() -> list<u32>` | the reps `r`'s destructor saw since instantiation | the log |
//! | `adopt-h(x: own<h>) -> u32` | the host passes a fresh `own<h>`; the guest keeps it | its handle |
//! | `lend-h(x: borrow<h>) -> u64` | passes the borrow on to `[method]h.get`, drops it | `handle << 32 \| rep` |
//! | `merge-h(a, b) -> u32` | `[static]h.merge(borrow a, own b)`: lends `a`, moves `b` to the host | rep of `a` |
//! | `leak-h(x: borrow<h>) -> u32` | returns without dropping the borrow it was lent | trap |
//! | `fault-post-return() -> u32` | its `post-return` calls the import `ping` (`may_leave`) | trap |
//! | `fault-realloc(x: list<u8>) -> u32` | its `realloc` calls `ping` while the argument is lowered | trap |
//! | `reenter(v) -> u32` | calls `reenter-host`, which calls `rep-r` of the same instance | trap |
//! | `make-r(rep) -> own<r>` | `resource.new r`, returned: lifting moves it out of the table to the host | the own |
//! | `take-r(x: own<r>) -> u32` | the host gives back an `own<r>` it holds; the guest keeps it | its handle |
//! | `peek-r(x: borrow<r>) -> u32` | a borrow of the callee's own resource type lowers to the rep itself | the rep |
//!
//! The host keeps every `own<r>` it receives, and later calls pass one back ([`Call::held`]: moved to
//! `take-r`, lent to `peek-r`) or drop it ([`HOST_DROP`]: `r`'s destructor runs, as `dtor-log` shows), so the
//! model also tracks which reps the host holds. A resource result is
//! compared as [`resource_token`] (which call returned it), not by handle value. The script never passes an own
//! already moved, nor one from before a trap (the instance that made it is gone).
//!
//! The random part is the call script: which export, with handles that are live and of the right type, live
//! but of the other resource type, freed (use after drop), 0, or never allocated. [`Model`] simulates the
//! spec's handle table (definitions.py `Table`: index 0 is never valid, `add` reuses the most recently freed
//! slot — wasmtime 48's `HandleTable` free list is LIFO too, one table per component instance for all resource
//! types) and predicts every call's exact result, the host calls it makes, or a trap. After a trap the harness
//! instantiates afresh, so the model starts over too.
//!
//! Removing an own that is lent is reached by `merge-h(i, i)`: lifting the arguments lends handle `i` for the
//! borrow, then lifting the own must trap (`lift_own`: `num_lends != 0`). (A guest `resource.drop` of a lent
//! handle is not reachable synchronously: a handle is lent only while the host runs, and the host cannot make
//! the guest run then without reentering, a trap of its own.)

use arbitrary::{Result, Unstructured};
use component_layer::{List, Value};
use wasm_encoder::{
    BlockType, CanonicalOption, CodeSection, ComponentBuilder, ComponentExportKind, ComponentTypeRef, EntityType,
    ExportKind, ExportSection, Function, FunctionSection, ImportSection, Instruction as I, MemArg, MemoryType, Module,
    ModuleArg, TypeBounds, TypeSection, ValType,
};

use crate::case::{resource_token, Call, Case, CaseConfig, Expect, Held, HostBehaviour, HostImport, Tier, HOST_DROP};
use crate::encode::TypeEncoder;
use crate::guest::{self, ReallocMode, Sig, HEAP_BASE, INITIAL_PAGES, RAW_BASE, RET_AREA};
use crate::ty::{ResourceDecl, Ty, TypeSet};

/// Where the destructor of `r` keeps the number of reps it logged.
pub const DTOR_COUNT: u32 = RAW_BASE;
/// Where the logged reps start.
pub const DTOR_LOG: u32 = RAW_BASE + 4;
/// At most this many reps are logged (later destructions are not recorded).
pub const DTOR_MAX: u32 = 4096;
/// What `fault-post-return` returns (before its post-return traps).
const POST_RETURN_VALUE: i32 = 7;

/// The host import `reenter` calls back into.
pub const REENTER_TARGET: &str = "rep-r";

/// The only export that calls the reentering host import (`reenter-host`); no other export reaches it.
pub const REENTER_EXPORT: &str = "reenter";

/// The faults a resource case can contain, as they appear in [`Case::note`].
pub const FAULTS: [&str; 9] = [
    "use-after-drop",
    "own-while-lent",
    "zero-handle",
    "unallocated-handle",
    "wrong-type",
    "leaked-borrow",
    "post-return-import",
    "realloc-import",
    "reentrance",
];

/// The exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    NewR,
    RepR,
    DropR,
    NewH,
    GetH,
    DropH,
    DtorLog,
    AdoptH,
    LendH,
    MergeH,
    LeakH,
    FaultPostReturn,
    FaultRealloc,
    Reenter,
    MakeR,
    TakeR,
    PeekR,
}

/// Every export with its weight in the call script.
const OPS: [(Op, u32); 17] = [
    (Op::NewR, 14),
    (Op::RepR, 12),
    (Op::DropR, 10),
    (Op::NewH, 12),
    (Op::GetH, 12),
    (Op::DropH, 10),
    (Op::DtorLog, 5),
    (Op::AdoptH, 6),
    (Op::LendH, 6),
    (Op::MergeH, 6),
    (Op::LeakH, 2),
    (Op::FaultPostReturn, 2),
    (Op::FaultRealloc, 2),
    (Op::Reenter, 2),
    (Op::MakeR, 8),
    (Op::TakeR, 6),
    (Op::PeekR, 6),
];

/// The host resource's index in the case's [`TypeSet`].
const H: usize = 0;
/// The guest resource's index in the case's [`TypeSet`].
const R: usize = 1;

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::NewR => "new-r",
            Op::RepR => "rep-r",
            Op::DropR => "drop-r",
            Op::NewH => "new-h",
            Op::GetH => "get-h",
            Op::DropH => "drop-h",
            Op::DtorLog => "dtor-log",
            Op::AdoptH => "adopt-h",
            Op::LendH => "lend-h",
            Op::MergeH => "merge-h",
            Op::LeakH => "leak-h",
            Op::FaultPostReturn => "fault-post-return",
            Op::FaultRealloc => "fault-realloc",
            Op::Reenter => REENTER_EXPORT,
            Op::MakeR => "make-r",
            Op::TakeR => "take-r",
            Op::PeekR => "peek-r",
        }
    }

    fn sig(self) -> Sig {
        let p = |n: &str, t: Ty| vec![(n.to_owned(), t)];
        let (params, result) = match self {
            Op::NewR => (p("rep", Ty::U32), Some(Ty::U32)),
            Op::RepR | Op::GetH => (p("handle", Ty::U32), Some(Ty::U32)),
            Op::DropR | Op::DropH => (p("handle", Ty::U32), None),
            Op::NewH | Op::Reenter => (p("v", Ty::U32), Some(Ty::U32)),
            Op::DtorLog => (Vec::new(), Some(Ty::List(Box::new(Ty::U32)))),
            Op::AdoptH => (p("x", Ty::Own(H)), Some(Ty::U32)),
            Op::LendH => (p("x", Ty::Borrow(H)), Some(Ty::U64)),
            Op::LeakH => (p("x", Ty::Borrow(H)), Some(Ty::U32)),
            Op::MergeH => (vec![("a".into(), Ty::U32), ("b".into(), Ty::U32)], Some(Ty::U32)),
            Op::FaultPostReturn => (Vec::new(), Some(Ty::U32)),
            Op::FaultRealloc => (p("x", Ty::List(Box::new(Ty::U8))), Some(Ty::U32)),
            Op::MakeR => (p("rep", Ty::U32), Some(Ty::Own(R))),
            Op::TakeR => (p("x", Ty::Own(R)), Some(Ty::U32)),
            Op::PeekR => (p("x", Ty::Borrow(R)), Some(Ty::U32)),
        };
        Sig { params, result }
    }
}

/// The case's types: the host resource `h`, then the guest resource `r` (which only `make-r`, `take-r` and
/// `peek-r` carry across the boundary).
fn type_set() -> TypeSet {
    TypeSet {
        defs: Vec::new(),
        resources: vec![ResourceDecl { name: "h".into(), host: true }, ResourceDecl { name: "r".into(), host: false }],
    }
}

/// The host imports, in component import order.
fn host_imports() -> Vec<HostImport> {
    let sig = |params: Vec<(&str, Ty)>, result: Option<Ty>| Sig {
        params: params.into_iter().map(|(n, t)| (n.to_owned(), t)).collect(),
        result,
    };
    vec![
        // Resource arguments reach host behaviours as their rep, and a `u32` answered for an `own<h>` result
        // becomes a new host-owned handle with that rep (see the harness's executors): both echo.
        HostImport {
            name: "[constructor]h".into(),
            sig: sig(vec![("v", Ty::U32)], Some(Ty::Own(H))),
            behaviour: HostBehaviour::EchoFirst,
        },
        HostImport {
            name: "[method]h.get".into(),
            sig: sig(vec![("self", Ty::Borrow(H))], Some(Ty::U32)),
            behaviour: HostBehaviour::EchoFirst,
        },
        HostImport {
            name: "[static]h.merge".into(),
            sig: sig(vec![("a", Ty::Borrow(H)), ("b", Ty::Own(H))], Some(Ty::U32)),
            behaviour: HostBehaviour::EchoFirst,
        },
        HostImport { name: "ping".into(), sig: sig(Vec::new(), None), behaviour: HostBehaviour::Hash },
        HostImport {
            name: "reenter-host".into(),
            sig: sig(vec![("v", Ty::U32)], Some(Ty::U32)),
            behaviour: HostBehaviour::Reenter(REENTER_TARGET.into()),
        },
    ]
}

/// What a handle-table slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `own<r>`.
    R,
    /// `own<h>`.
    H,
    /// A `borrow<h>` lent to the current call.
    Borrow,
}

/// The spec's `Table` of one component instance, the log of `r`'s destructor, and the `own<r>`s the host holds.
#[derive(Clone, Debug)]
struct Model {
    slots: Vec<Option<(Kind, u32)>>,
    free: Vec<u32>,
    dtors: Vec<u32>,
    /// (the call that returned it, its rep) of each `own<r>` the host holds, oldest first.
    held: Vec<(usize, u32)>,
}

impl Model {
    fn new() -> Self {
        Model { slots: vec![None], free: Vec::new(), dtors: Vec::new(), held: Vec::new() }
    }

    /// `Table.add`: the most recently freed slot, else a new one.
    fn add(&mut self, kind: Kind, rep: u32) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some((kind, rep));
                i
            }
            None => {
                self.slots.push(Some((kind, rep)));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn get(&self, i: u32) -> Option<(Kind, u32)> {
        self.slots.get(i as usize).copied().flatten()
    }

    fn remove(&mut self, i: u32) {
        if let Some(slot) = self.slots.get_mut(i as usize) {
            *slot = None;
            self.free.push(i);
        }
    }

    fn live(&self, kind: Kind) -> Vec<u32> {
        (1..self.slots.len() as u32).filter(|&i| self.get(i).is_some_and(|(k, _)| k == kind)).collect()
    }

    /// Why handle `i` is not a live handle of `kind`, if it is not.
    fn fault(&self, i: u32, kind: Kind) -> Option<&'static str> {
        match self.get(i) {
            Some((k, _)) if k == kind => None,
            Some(_) => Some("wrong-type"),
            None if i == 0 => Some("zero-handle"),
            None if (i as usize) < self.slots.len() => Some("use-after-drop"),
            None => Some("unallocated-handle"),
        }
    }
}

/// Generates a resource case.
pub fn generate(u: &mut Unstructured<'_>, seed: u64, config: &CaseConfig) -> Result<Case> {
    let set = type_set();
    let component = encode(&set);
    let n_calls = match config.calls {
        Some(n) => n,
        None => u.int_in_range(8..=24)?,
    };
    let mut model = Model::new();
    let mut faults: Vec<&'static str> = Vec::new();
    let mut calls = Vec::with_capacity(n_calls);
    for k in 0..n_calls {
        let (call, fault) = if !model.held.is_empty() && u.ratio(1, 10)? {
            (host_drop(u, &mut model)?, None)
        } else {
            let op = pick_op(u, &model)?;
            predict(u, &mut model, op, k)?
        };
        if call.expect == Expect::Trap {
            model = Model::new();
        }
        faults.extend(fault);
        calls.push(call);
    }
    let ops: Vec<Op> = OPS.iter().map(|(op, _)| *op).collect();
    let mut note = String::from("resource r (guest, logging dtor, host-held), h (host)");
    if !faults.is_empty() {
        faults.sort_unstable();
        let mut counted: Vec<String> = Vec::new();
        for f in FAULTS {
            let n = faults.iter().filter(|x| **x == f).count();
            if n > 0 {
                counted.push(format!("{f}×{n}"));
            }
        }
        note.push_str(&format!("; faults: {}", counted.join(" ")));
    }
    Ok(Case {
        seed,
        tier: Tier::Resource,
        exports: ops.iter().map(|op| (op.name().to_owned(), op.sig())).collect(),
        imports: host_imports(),
        set,
        component,
        calls,
        note,
        stub_imports: false,
        wit_source: None,
    })
}

/// An export, favouring constructors while the table is nearly empty and operations on handles that exist (so
/// scripts build up state rather than trap at once; faults stay likely enough).
fn pick_op(u: &mut Unstructured<'_>, model: &Model) -> Result<Op> {
    let live = model.slots.iter().filter(|s| s.is_some()).count();
    if live < 2 && u.ratio(1, 2)? {
        return Ok(*u.choose(&[Op::NewR, Op::NewH, Op::AdoptH, Op::MakeR])?);
    }
    let total: u32 = OPS.iter().map(|(_, w)| w).sum();
    let mut op = Op::DtorLog;
    for _ in 0..3 {
        let mut x = u.int_in_range(0..=total - 1)?;
        for (o, w) in OPS {
            if x < w {
                op = o;
                break;
            }
            x -= w;
        }
        let needs = match op {
            Op::RepR | Op::DropR => Some(Kind::R),
            Op::GetH | Op::DropH | Op::MergeH => Some(Kind::H),
            _ => None,
        };
        if needs.is_none_or(|k| !model.live(k).is_empty()) {
            break;
        }
    }
    // Only resources the host holds are passed back: never a moved own (see the module docs).
    if matches!(op, Op::TakeR | Op::PeekR) && model.held.is_empty() {
        op = Op::MakeR;
    }
    Ok(op)
}

/// A rep or host value: edge values, small numbers, anything.
fn rep(u: &mut Unstructured<'_>) -> Result<u32> {
    Ok(match u.int_in_range(0..=3)? {
        0 => *u.choose(&[0, 1, u32::MAX, 0x8000_0000, 0x0fff_ffff])?,
        1 | 2 => u.int_in_range(0..=100)?,
        _ => u.arbitrary()?,
    })
}

/// A handle argument for an operation on `kind`: usually live and of that kind, sometimes not.
fn handle(u: &mut Unstructured<'_>, model: &Model, kind: Kind) -> Result<u32> {
    let right = model.live(kind);
    let other = model.live(if kind == Kind::R { Kind::H } else { Kind::R });
    let freed: Vec<u32> = (1..model.slots.len() as u32).filter(|&i| model.get(i).is_none()).collect();
    let len = model.slots.len() as u32;
    Ok(match u.int_in_range(0..=99)? {
        0..=69 if !right.is_empty() => *u.choose(&right)?,
        70..=79 if !other.is_empty() => *u.choose(&other)?,
        80..=91 if !freed.is_empty() => *u.choose(&freed)?,
        92..=93 => 0,
        94..=97 => len + u.int_in_range(0..=3)?,
        98..=99 => u.arbitrary::<u32>()?.max(len),
        _ if !right.is_empty() => *u.choose(&right)?,
        _ if !freed.is_empty() && u.ratio(1, 2)? => *u.choose(&freed)?,
        _ if !other.is_empty() && u.ratio(1, 2)? => *u.choose(&other)?,
        _ => len,
    })
}

/// Call `k` of the script: `op` with random arguments, what it must do (updating `model`) and the fault it
/// contains.
fn predict(u: &mut Unstructured<'_>, model: &mut Model, op: Op, k: usize) -> Result<(Call, Option<&'static str>)> {
    let u32v = Value::U32;
    let ok = |args: Vec<Value>, result: Option<Value>, imports: Vec<Vec<Value>>| Call {
        expect_import_args: Some(imports),
        ..Call::new(op.name(), args, Expect::Returns(result))
    };
    // A trapping call's host calls are compared across engines instead.
    let trap = |args: Vec<Value>| Call::new(op.name(), args, Expect::Trap);
    let checked = |model: &Model, i: u32, kind: Kind| model.fault(i, kind).map(|f| (trap(vec![u32v(i)]), Some(f)));
    Ok(match op {
        Op::NewR => {
            let rep = rep(u)?;
            let i = model.add(Kind::R, rep);
            (ok(vec![u32v(rep)], Some(u32v(i)), Vec::new()), None)
        }
        Op::NewH | Op::AdoptH => {
            let v = rep(u)?;
            let i = model.add(Kind::H, v);
            let imports = if op == Op::NewH { vec![vec![u32v(v)]] } else { Vec::new() };
            (ok(vec![u32v(v)], Some(u32v(i)), imports), None)
        }
        Op::RepR | Op::DropR | Op::GetH | Op::DropH => {
            let kind = if matches!(op, Op::RepR | Op::DropR) { Kind::R } else { Kind::H };
            let i = handle(u, model, kind)?;
            if let Some(t) = checked(model, i, kind) {
                return Ok(t);
            }
            let rep = model.get(i).map_or(0, |(_, rep)| rep);
            match op {
                Op::RepR => (ok(vec![u32v(i)], Some(u32v(rep)), Vec::new()), None),
                Op::GetH => (ok(vec![u32v(i)], Some(u32v(rep)), vec![vec![u32v(rep)]]), None),
                Op::DropR => {
                    model.remove(i);
                    if (model.dtors.len() as u32) < DTOR_MAX {
                        model.dtors.push(rep);
                    }
                    (ok(vec![u32v(i)], None, Vec::new()), None)
                }
                _ => {
                    // The host destructor runs and is logged as a host call.
                    model.remove(i);
                    (ok(vec![u32v(i)], None, vec![vec![u32v(rep)]]), None)
                }
            }
        }
        Op::DtorLog => (ok(Vec::new(), Some(Value::List(List::U32(model.dtors.clone()))), Vec::new()), None),
        Op::LendH => {
            // The borrow takes a slot for the duration of the call, which is freed again when the guest drops it.
            let v = rep(u)?;
            let b = model.add(Kind::Borrow, v);
            model.remove(b);
            let packed = (u64::from(b) << 32) | u64::from(v);
            (ok(vec![u32v(v)], Some(Value::U64(packed)), vec![vec![u32v(v)]]), None)
        }
        Op::MergeH => {
            // Arguments are lifted in order: the borrow of `a` (lent), then the own `b` (moved out of the table).
            let a = handle(u, model, Kind::H)?;
            let b = if u.ratio(1, 4)? { a } else { handle(u, model, Kind::H)? };
            let args = vec![u32v(a), u32v(b)];
            if let Some(f) = model.fault(a, Kind::H).or_else(|| model.fault(b, Kind::H)) {
                return Ok((trap(args), Some(f)));
            }
            if a == b {
                return Ok((trap(args), Some("own-while-lent")));
            }
            let (rep_a, rep_b) = (model.get(a).map_or(0, |x| x.1), model.get(b).map_or(0, |x| x.1));
            model.remove(b);
            (ok(args, Some(u32v(rep_a)), vec![vec![u32v(rep_a), u32v(rep_b)]]), None)
        }
        Op::LeakH => (trap(vec![u32v(rep(u)?)]), Some("leaked-borrow")),
        Op::FaultPostReturn => (trap(Vec::new()), Some("post-return-import")),
        Op::FaultRealloc => {
            let n = u.int_in_range(0..=3)?;
            let bytes = (0..n).map(|_| u.arbitrary()).collect::<Result<Vec<u8>>>()?;
            (trap(vec![Value::List(List::U8(bytes))]), Some("realloc-import"))
        }
        Op::Reenter => (trap(vec![u32v(rep(u)?)]), Some("reentrance")),
        Op::MakeR => {
            // `resource.new` takes a slot, and lifting the own result frees it again: the host holds `r` now.
            let rep = rep(u)?;
            let i = model.add(Kind::R, rep);
            model.remove(i);
            model.held.push((k, rep));
            (ok(vec![u32v(rep)], Some(resource_token(k)), Vec::new()), None)
        }
        Op::TakeR | Op::PeekR => {
            let j = u.choose_index(model.held.len())?;
            let (from, rep) = model.held[j];
            let result = if op == Op::TakeR {
                // Moved into the table: the guest keeps the handle.
                model.held.remove(j);
                model.add(Kind::R, rep)
            } else {
                rep
            };
            let mut call = ok(vec![resource_token(from)], Some(u32v(result)), Vec::new());
            call.held = vec![Held { arg: 0, call: from }];
            (call, None)
        }
    })
}

/// The host drops an `own<r>` it holds: the guest destructor runs (logging the rep), no handle table changes.
fn host_drop(u: &mut Unstructured<'_>, model: &mut Model) -> Result<Call> {
    let (from, rep) = model.held.remove(u.choose_index(model.held.len())?);
    if (model.dtors.len() as u32) < DTOR_MAX {
        model.dtors.push(rep);
    }
    Ok(Call {
        export: HOST_DROP.into(),
        args: vec![resource_token(from)],
        host_returns: Vec::new(),
        expect_import_args: Some(Vec::new()),
        expect: Expect::Returns(None),
        held: vec![Held { arg: 0, call: from }],
        reference_deviation: None,
        about: String::new(),
    })
}

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg { offset, align, memory_index: 0 }
}

fn memory_type() -> MemoryType {
    MemoryType { minimum: INITIAL_PAGES, maximum: None, memory64: false, shared: false, page_size_log2: None }
}

/// The component.
pub fn encode(set: &TypeSet) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    // `h` is imported; `r` is defined (and exported) below, before any function type refers to it.
    let h = b.import("h", ComponentTypeRef::Type(TypeBounds::SubResource));
    let mut types = TypeEncoder::with_resources(set, vec![h]);
    let imported: Vec<u32> = host_imports()
        .iter()
        .map(|i| {
            let ft = types.func(&mut b, &i.sig);
            b.import(i.name.as_str(), ComponentTypeRef::Func(ft))
        })
        .collect();
    let (ctor_h, get_h, merge_h, ping, reenter) = (imported[0], imported[1], imported[2], imported[3], imported[4]);

    let libc = b.core_module(Some("libc"), &guest::libc(ReallocMode::Good));
    let libc_inst = b.core_instantiate(Some("libc"), libc, Vec::<(&str, ModuleArg)>::new());
    let memory = b.core_alias_export(Some("memory"), libc_inst, "memory", ExportKind::Memory);
    let realloc = b.core_alias_export(Some("realloc"), libc_inst, "realloc", ExportKind::Func);

    // A `realloc` that calls an import: only `fault-realloc` uses it.
    let ping_core = b.lower_func(Some("ping"), ping, []);
    let ping_inst = b.core_instantiate_exports(Some("ping"), [("ping", ExportKind::Func, ping_core)]);
    let bad = b.core_module(Some("bad-realloc"), &bad_realloc_module());
    let bad_inst = b.core_instantiate(Some("bad-realloc"), bad, [("host", ModuleArg::Instance(ping_inst))]);
    let bad_realloc = b.core_alias_export(Some("bad-realloc"), bad_inst, "realloc", ExportKind::Func);

    // `r`'s destructor lives in its own module, instantiated before `r` is defined.
    let dtor = b.core_module(Some("dtor"), &dtor_module());
    let dtor_inst = b.core_instantiate(Some("dtor"), dtor, [("libc", ModuleArg::Instance(libc_inst))]);
    let dtor_fn = b.core_alias_export(Some("dtor"), dtor_inst, "dtor", ExportKind::Func);
    let r = b.type_resource(Some("r"), ValType::I32, Some(dtor_fn));
    // Exported, so the exports that carry `r` may name it.
    types.set_resource(R, b.export("r", ComponentExportKind::Type, r, None));

    let host_funcs = [
        ("ctor-h", b.lower_func(Some("[constructor]h"), ctor_h, [])),
        ("get-h", b.lower_func(Some("[method]h.get"), get_h, [])),
        ("merge-h", b.lower_func(Some("[static]h.merge"), merge_h, [])),
        ("ping", ping_core),
        ("reenter", b.lower_func(Some("reenter-host"), reenter, [])),
        ("drop-h", b.resource_drop(h)),
        ("new-r", b.resource_new(r)),
        ("rep-r", b.resource_rep(r)),
        ("drop-r", b.resource_drop(r)),
    ];
    let host = b.core_instantiate_exports(
        Some("host"),
        host_funcs.iter().map(|(n, f)| (*n, ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let main = b.core_module(Some("main"), &main_module());
    let main_inst = b.core_instantiate(
        Some("main"),
        main,
        [("libc", ModuleArg::Instance(libc_inst)), ("host", ModuleArg::Instance(host))],
    );
    for (op, _) in OPS {
        let name = op.name();
        let core = b.core_alias_export(Some(name), main_inst, name, ExportKind::Func);
        let post = b.core_alias_export(None, main_inst, &format!("post-{name}"), ExportKind::Func);
        let ft = types.func(&mut b, &op.sig());
        let opts = [
            CanonicalOption::UTF8,
            CanonicalOption::Memory(memory),
            CanonicalOption::Realloc(if op == Op::FaultRealloc { bad_realloc } else { realloc }),
            CanonicalOption::PostReturn(post),
        ];
        let f = b.lift_func(Some(name), core, ft, opts);
        b.export(name, ComponentExportKind::Func, f, None);
    }
    b.finish()
}

/// `realloc` that calls `host.ping` first (which must trap: `may_leave` is clear while arguments are lowered).
fn bad_realloc_module() -> Module {
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    types.ty().function([ValType::I32; 4], [ValType::I32]);
    m.section(&types);
    let mut imports = ImportSection::new();
    imports.import("host", "ping", EntityType::Function(0));
    m.section(&imports);
    let mut funcs = FunctionSection::new();
    funcs.function(1);
    m.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("realloc", ExportKind::Func, 1);
    m.section(&exports);
    let mut code = CodeSection::new();
    let mut f = Function::new([]);
    f.instruction(&I::Call(0)).instruction(&I::I32Const(HEAP_BASE as i32)).instruction(&I::End);
    code.function(&f);
    m.section(&code);
    m
}

/// `dtor(rep)`: appends `rep` to the log at [`DTOR_LOG`] (up to [`DTOR_MAX`] entries).
fn dtor_module() -> Module {
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32], []);
    m.section(&types);
    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    m.section(&imports);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    m.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("dtor", ExportKind::Func, 0);
    m.section(&exports);
    let mut code = CodeSection::new();
    let mut f = Function::new([(1, ValType::I32)]);
    let (rep, n) = (0, 1);
    f.instruction(&I::I32Const(DTOR_COUNT as i32)).instruction(&I::I32Load(mem(0, 2))).instruction(&I::LocalSet(n));
    f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(DTOR_MAX as i32)).instruction(&I::I32LtU);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(4)).instruction(&I::I32Mul);
    f.instruction(&I::LocalGet(rep)).instruction(&I::I32Store(mem(u64::from(DTOR_LOG), 2)));
    f.instruction(&I::I32Const(DTOR_COUNT as i32));
    f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(1)).instruction(&I::I32Add);
    f.instruction(&I::I32Store(mem(0, 2)));
    f.instruction(&I::End).instruction(&I::End);
    code.function(&f);
    m.section(&code);
    m
}

/// The main module's imports from `host`, in order (function indices 1…, after `libc.reset`), with their core
/// signatures.
const MAIN_IMPORTS: [(&str, &[ValType], &[ValType]); 9] = [
    ("ctor-h", &[ValType::I32], &[ValType::I32]),
    ("get-h", &[ValType::I32], &[ValType::I32]),
    ("merge-h", &[ValType::I32, ValType::I32], &[ValType::I32]),
    ("ping", &[], &[]),
    ("reenter", &[ValType::I32], &[ValType::I32]),
    ("drop-h", &[ValType::I32], &[]),
    ("new-r", &[ValType::I32], &[ValType::I32]),
    ("rep-r", &[ValType::I32], &[ValType::I32]),
    ("drop-r", &[ValType::I32], &[]),
];

/// The function index of a `host` import of the main module.
fn import_index(name: &str) -> u32 {
    1 + MAIN_IMPORTS.iter().position(|(n, _, _)| *n == name).unwrap_or(0) as u32
}

/// The main module: every export's body and its post-return.
fn main_module() -> Module {
    let mut types = TypeSection::new();
    let type_of = |params: &[ValType], results: &[ValType], types: &mut TypeSection| -> u32 {
        let i = types.len();
        types.ty().function(params.iter().copied(), results.iter().copied());
        i
    };
    let mut imports = ImportSection::new();
    imports.import("libc", "memory", EntityType::Memory(memory_type()));
    let reset_ty = type_of(&[], &[], &mut types);
    imports.import("libc", "reset", EntityType::Function(reset_ty));
    for (name, params, results) in MAIN_IMPORTS {
        let t = type_of(params, results, &mut types);
        imports.import("host", name, EntityType::Function(t));
    }
    let first = 1 + MAIN_IMPORTS.len() as u32;
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let mut next = first;
    for (op, _) in OPS {
        let (params, results) = op.sig().lift_core(&type_set());
        let t = type_of(&params, &results, &mut types);
        funcs.function(t);
        code.function(&export_body(op));
        exports.export(op.name(), ExportKind::Func, next);
        next += 1;
        let pt = type_of(&results, &[], &mut types);
        funcs.function(pt);
        let mut post = Function::new([]);
        if op == Op::FaultPostReturn {
            post.instruction(&I::Call(import_index("ping")));
        }
        post.instruction(&I::Call(0)).instruction(&I::End);
        code.function(&post);
        exports.export(&format!("post-{}", op.name()), ExportKind::Func, next);
        next += 1;
    }
    let mut m = Module::new();
    m.section(&types);
    m.section(&imports);
    m.section(&funcs);
    m.section(&exports);
    m.section(&code);
    m
}

/// The core body of an export.
fn export_body(op: Op) -> Function {
    let call = |f: &mut Function, name: &str| {
        f.instruction(&I::LocalGet(0)).instruction(&I::Call(import_index(name)));
    };
    let mut f = Function::new(if op == Op::LendH { vec![(1, ValType::I32)] } else { Vec::new() });
    match op {
        Op::NewR | Op::MakeR => call(&mut f, "new-r"),
        Op::RepR => call(&mut f, "rep-r"),
        Op::DropR => call(&mut f, "drop-r"),
        Op::NewH => call(&mut f, "ctor-h"),
        Op::GetH => call(&mut f, "get-h"),
        Op::DropH => call(&mut f, "drop-h"),
        Op::Reenter => call(&mut f, "reenter"),
        Op::MergeH => {
            f.instruction(&I::LocalGet(0)).instruction(&I::LocalGet(1)).instruction(&I::Call(import_index("merge-h")));
        }
        Op::AdoptH | Op::LeakH | Op::TakeR | Op::PeekR => {
            f.instruction(&I::LocalGet(0));
        }
        Op::DtorLog => {
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::I32Const(DTOR_LOG as i32));
            f.instruction(&I::I32Store(mem(0, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::I32Const(DTOR_COUNT as i32));
            f.instruction(&I::I32Load(mem(0, 2))).instruction(&I::I32Store(mem(4, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32));
        }
        Op::LendH => {
            // v = get(b); drop(b); (b << 32) | v
            call(&mut f, "get-h");
            f.instruction(&I::LocalSet(1));
            call(&mut f, "drop-h");
            f.instruction(&I::LocalGet(0)).instruction(&I::I64ExtendI32U);
            f.instruction(&I::I64Const(32)).instruction(&I::I64Shl);
            f.instruction(&I::LocalGet(1)).instruction(&I::I64ExtendI32U).instruction(&I::I64Or);
        }
        Op::FaultPostReturn => {
            f.instruction(&I::I32Const(POST_RETURN_VALUE));
        }
        Op::FaultRealloc => {
            f.instruction(&I::LocalGet(1));
        }
    }
    f.instruction(&I::End);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_reuses_the_most_recently_freed_slot() {
        let mut m = Model::new();
        assert_eq!((m.add(Kind::R, 10), m.add(Kind::H, 11), m.add(Kind::R, 12)), (1, 2, 3));
        m.remove(1);
        m.remove(3);
        assert_eq!(m.add(Kind::H, 13), 3);
        assert_eq!(m.add(Kind::R, 14), 1);
        assert_eq!(m.add(Kind::R, 15), 4);
        assert_eq!(m.fault(0, Kind::R), Some("zero-handle"));
        assert_eq!(m.fault(2, Kind::R), Some("wrong-type"));
        assert_eq!(m.fault(9, Kind::R), Some("unallocated-handle"));
        m.remove(4);
        assert_eq!(m.fault(4, Kind::R), Some("use-after-drop"));
        assert_eq!(m.fault(1, Kind::R), None);
    }
}
