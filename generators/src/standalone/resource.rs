//! Stand-ins for host resources (the resource tier), so that a multi-call resource case runs as a `.wast` file.
//!
//! The fuzzer's host defines each host resource `R` of a case as a dynamic host resource whose rep is the `u32`
//! the host was given: its imports see a handle argument as its rep, a `u32` answered for an `own<R>` result
//! becomes a new owning handle with that rep, and an export parameter `own<R>`/`borrow<R>` is passed as the rep
//! and the host makes the handle (see the harness's `diff::exec`). A `.wast` file has no such host, so the
//! outer component built here has three children:
//!
//! * `host`, the stand-in: it *defines* every resource `R` (rep `i32`, no destructor: the fuzzer's host
//!   destructor only logs, which a `.wast` file cannot observe) and exports it with one function per case
//!   import (`f0`, `f1`, …) and a maker `mk0`, `mk1`, … per resource (`(v: u32) -> own<R>`, `resource.new`).
//!   Being the implementation of `R`, it receives a `borrow<R>` as the rep itself (`lower_borrow`'s special case)
//!   and turns an `own<R>` into its rep with `resource.rep` (keeping it, as the fuzzer's host keeps what it is
//!   given) — so echoing the first argument answers exactly what the fuzzer's host answers;
//! * `case`, the case's component, with `R` and its imports wired to `host`;
//! * `driver`, only if an export takes handles: for each such export it exports a version taking every handle as
//!   its rep (`u32`), which makes an `own<R>` with `mk`, passes it (moved for `own`, lent for `borrow` — the case
//!   sees the same table entries as with the fuzzer's host), drops what it lent, and returns the result.
//!
//! Every import must have scalar parameters and results (one flat core value each), which keeps the stand-in
//! free of memory. Behaviours a child component cannot reproduce make the case unwritable, with the reason:
//! hashing with a result, queued return values, and reentrance when a call reaches it (a child cannot call its
//! parent's export). A reentering import that no call reaches gets a trapping stand-in instead.
//!
//! Resources the case defines itself (`r` of the resource tier) are left inside `case`: a call of an export
//! that carries one across (returns an `own<r>` the fuzzer's host keeps, or takes one back) makes the case
//! unwritable — a `.wast` script has no way to keep a resource result for a later assertion — and exports that
//! carry one are not re-exported (no call of the written script uses them).

use wasm_encoder::{
    CodeSection, ComponentBuilder, ComponentExportKind, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, ImportSection, Instruction as I, Module, ModuleArg, TypeSection, ValType,
};

use crate::case::{Case, HostBehaviour, PATH_SEPARATOR};
use crate::encode::TypeEncoder;
use crate::guest::Sig;
use crate::resource::REENTER_EXPORT;
use crate::ty::{Ty, TypeSet};
use crate::Tier;

/// What a stand-in function does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StandIn {
    /// Returns its first argument as the host sees it (an `own<R>` as its rep), made into a new `own<R>` if
    /// `new` names the result's resource.
    Echo { rep_of: Option<usize>, new: Option<usize> },
    /// Returns nothing.
    Nothing,
    /// Traps.
    Trap,
}

/// The case as one component with no imports, its host resources and imports played by a stand-in component.
pub(super) fn wrap(case: &Case) -> Result<Vec<u8>, String> {
    if !case.set.defs.is_empty() {
        return Err("the host-resource stand-in does not support named types".into());
    }
    let standins = case.imports.iter().map(|imp| stand_in(case, &imp.name, &imp.sig, &imp.behaviour));
    let standins = standins.collect::<Result<Vec<_>, _>>()?;
    let case = &without_guest_resources(case)?;
    let set = &case.set;
    let driven = driven_exports(case)?;
    let mut b = ComponentBuilder::default();
    let host_c = b.component(Some("host"), host_component(case, &standins)?);
    let host_i = b.instantiate(Some("host"), host_c, Vec::<(&str, ComponentExportKind, u32)>::new());
    let type_args: Vec<(String, ComponentExportKind, u32)> = set
        .resources
        .iter()
        .map(|r| {
            (r.name.clone(), ComponentExportKind::Type, b.alias_export(host_i, &r.name, ComponentExportKind::Type))
        })
        .collect();
    let mut args = type_args.clone();
    for (i, imp) in case.imports.iter().enumerate() {
        let f = b.alias_export(host_i, &format!("f{i}"), ComponentExportKind::Func);
        args.push((imp.name.clone(), ComponentExportKind::Func, f));
    }
    let case_c = b.component_raw(Some("case"), &case.component);
    let case_i = b.instantiate(Some("case"), case_c, args);
    let driver_i = if driven.is_empty() {
        None
    } else {
        let driver_c = b.component(Some("driver"), driver_component(set, &driven)?);
        let mut args = type_args;
        for r in 0..set.resources.len() {
            let f = b.alias_export(host_i, &format!("mk{r}"), ComponentExportKind::Func);
            args.push((format!("mk{r}"), ComponentExportKind::Func, f));
        }
        for (name, _) in &driven {
            let f = b.alias_export(case_i, name, ComponentExportKind::Func);
            args.push((name.clone(), ComponentExportKind::Func, f));
        }
        Some(b.instantiate(Some("driver"), driver_c, args))
    };
    for (name, _) in &case.exports {
        let from = match driver_i {
            Some(d) if driven.iter().any(|(n, _)| n == name) => d,
            _ => case_i,
        };
        let f = b.alias_export(from, name, ComponentExportKind::Func);
        b.export(name.as_str(), ComponentExportKind::Func, f, None);
    }
    Ok(b.finish())
}

/// Whether `ty` is a handle of a resource the case defines itself.
fn guest_handle(set: &TypeSet, ty: &Ty) -> bool {
    matches!(ty, Ty::Own(r) | Ty::Borrow(r) if set.resources.get(*r).is_some_and(|d| !d.host))
}

/// The case with only its host resources (which must come first in its type set) and only the exports that do
/// not carry its own resources — or why it cannot be written: a call of an export that does.
fn without_guest_resources(case: &Case) -> Result<Case, String> {
    let set = &case.set;
    let n_host = set.resources.iter().take_while(|r| r.host).count();
    if let Some(r) = set.resources[n_host..].iter().find(|r| r.host) {
        return Err(format!("host resource `{}` follows a resource the case defines", r.name));
    }
    let carries = |sig: &Sig| {
        sig.params.iter().any(|(_, t)| guest_handle(set, t))
            || sig.result.as_ref().is_some_and(|t| guest_handle(set, t))
    };
    for (i, call) in case.calls.iter().enumerate() {
        let sig = case.exports.iter().find(|(n, _)| *n == call.export).map(|(_, s)| s);
        if !call.held.is_empty() || sig.is_some_and(carries) {
            return Err(format!(
                "call {i} (`{}`) passes a resource the case defines across the host boundary, which the fuzzer's \
                 host keeps from call to call: a .wast script cannot hold a resource result for a later assertion",
                call.export
            ));
        }
    }
    let mut out = case.clone();
    out.set.resources.truncate(n_host);
    out.exports.retain(|(_, sig)| !carries(sig));
    Ok(out)
}

/// The stand-in for import `name`, or why there can be none.
fn stand_in(case: &Case, name: &str, sig: &Sig, behaviour: &HostBehaviour) -> Result<StandIn, String> {
    let set = &case.set;
    let scalar = |t: &Ty| flat1(set, t).is_some();
    if !sig.params.iter().all(|(_, t)| scalar(t)) || !sig.result.as_ref().is_none_or(scalar) {
        return Err(format!("cannot stand in for import `{name}`: its types are not all scalar"));
    }
    match behaviour {
        HostBehaviour::Trap => Ok(StandIn::Trap),
        HostBehaviour::ReturnQueuedLater
        | HostBehaviour::ReadStream
        | HostBehaviour::WriteStream
        | HostBehaviour::ReadFuture
        | HostBehaviour::WriteFuture => Err(format!("cannot stand in for async import `{name}`")),
        HostBehaviour::Hash if sig.result.is_none() => Ok(StandIn::Nothing),
        HostBehaviour::Hash => Err(format!("cannot stand in for hashing import `{name}`")),
        HostBehaviour::ReturnQueued => {
            Err(format!("cannot stand in for import `{name}`: it returns queued values, per call"))
        }
        HostBehaviour::Reenter(target) => match reentering_call(case) {
            None => Ok(StandIn::Trap),
            Some((i, export)) => Err(format!(
                "call {i} (`{export}`) reaches import `{name}`, which reenters the case's export `{target}`: a \
                 stand-in is a child component and cannot call its parent's exports"
            )),
        },
        HostBehaviour::EchoFirst => echo(name, sig),
    }
}

/// The first call (index, export) that may reach a reentering import: in the resource tier, a call of
/// [`REENTER_EXPORT`]; in other tiers any call, as which exports reach it is not known.
fn reentering_call(case: &Case) -> Option<(usize, &str)> {
    let reaches = |export: &str| case.tier != Tier::Resource || export == REENTER_EXPORT;
    case.calls.iter().enumerate().find(|(_, c)| reaches(&c.export)).map(|(i, c)| (i, c.export.as_str()))
}

/// An echoing stand-in: the first argument as the host sees it must have the result's type (a `u32` for an
/// `own<R>` result, which the host makes into a handle).
fn echo(name: &str, sig: &Sig) -> Result<StandIn, String> {
    let bad = || Err(format!("cannot stand in for echoing import `{name}`: its first argument is not its result"));
    let Some((_, first)) = sig.params.first() else { return bad() };
    let (seen, rep_of) = match first {
        Ty::Own(r) => (Ty::U32, Some(*r)),
        Ty::Borrow(_) => (Ty::U32, None),
        t => (t.clone(), None),
    };
    match &sig.result {
        Some(Ty::Own(r)) if seen == Ty::U32 => Ok(StandIn::Echo { rep_of, new: Some(*r) }),
        Some(t) if *t == seen && !matches!(t, Ty::Own(_) | Ty::Borrow(_)) => Ok(StandIn::Echo { rep_of, new: None }),
        _ => bad(),
    }
}

/// The exports that take handles (to be called through the driver), checked to be drivable: scalar
/// parameters and result, no resource result, a root function.
fn driven_exports(case: &Case) -> Result<Vec<(String, Sig)>, String> {
    let handles = |sig: &Sig| sig.params.iter().any(|(_, t)| matches!(t, Ty::Own(_) | Ty::Borrow(_)));
    let mut out = Vec::new();
    for (name, sig) in case.exports.iter().filter(|(_, s)| handles(s)) {
        let scalar = |t: &Ty| flat1(&case.set, t).is_some();
        if name.contains(PATH_SEPARATOR)
            || !sig.params.iter().all(|(_, t)| scalar(t))
            || !sig.result.as_ref().is_none_or(|t| scalar(t) && !matches!(t, Ty::Own(_) | Ty::Borrow(_)))
        {
            return Err(format!("cannot drive export `{name}`: handles need scalar root functions"));
        }
        out.push((name.clone(), sig.clone()));
    }
    Ok(out)
}

/// The one flat core type of `ty`, if it has exactly one.
fn flat1(set: &TypeSet, ty: &Ty) -> Option<ValType> {
    let sig = Sig { params: vec![(String::new(), ty.clone())], result: None };
    let flat = set.layout(ty).flat?;
    (flat.len() == 1).then(|| sig.lift_core(set).0.first().copied()).flatten()
}

/// `sig` with every handle parameter replaced by its rep (`u32`).
fn by_rep(sig: &Sig) -> Sig {
    let params = sig
        .params
        .iter()
        .map(|(n, t)| (n.clone(), if matches!(t, Ty::Own(_) | Ty::Borrow(_)) { Ty::U32 } else { t.clone() }));
    Sig { params: params.collect(), result: sig.result.clone() }
}

/// Core modules built here: a type section that adds function types as they are needed.
#[derive(Default)]
struct CoreTypes {
    section: TypeSection,
}

impl CoreTypes {
    fn func(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        let i = self.section.len();
        self.section.ty().function(params.iter().copied(), results.iter().copied());
        i
    }
}

/// The stand-in component: defines and exports every resource, then `f<i>` per import and `mk<r>` per resource.
fn host_component(case: &Case, standins: &[StandIn]) -> Result<ComponentBuilder, String> {
    let set = &case.set;
    let mut b = ComponentBuilder::default();
    let mut resources = Vec::new();
    for r in &set.resources {
        let defined = b.type_resource(Some(&r.name), ValType::I32, None);
        resources.push(b.export(r.name.as_str(), ComponentExportKind::Type, defined, None));
    }
    let mut types = TypeEncoder::with_resources(set, resources.clone());
    let builtins: Vec<(String, ExportKind, u32)> = resources
        .iter()
        .enumerate()
        .flat_map(|(r, &ty)| [(format!("new{r}"), b.resource_new(ty)), (format!("rep{r}"), b.resource_rep(ty))])
        .map(|(n, f)| (n, ExportKind::Func, f))
        .collect();
    let builtins_i = b.core_instantiate_exports(
        Some("builtins"),
        builtins.iter().map(|(n, k, f)| (n.as_str(), *k, *f)).collect::<Vec<_>>(),
    );
    let module = host_module(case, standins);
    let m = b.core_module(Some("host"), &module);
    let main = b.core_instantiate(Some("host"), m, [("builtins", ModuleArg::Instance(builtins_i))]);
    let mut lifted = Vec::new();
    for (i, imp) in case.imports.iter().enumerate() {
        lifted.push((format!("f{i}"), imp.sig.clone()));
    }
    for r in 0..set.resources.len() {
        lifted.push((format!("mk{r}"), Sig { params: vec![("v".into(), Ty::U32)], result: Some(Ty::Own(r)) }));
    }
    for (name, sig) in &lifted {
        let core = b.core_alias_export(Some(name), main, name, ExportKind::Func);
        let ft = types.func(&mut b, sig);
        let f = b.lift_func(Some(name), core, ft, Vec::new());
        b.export(name.as_str(), ComponentExportKind::Func, f, None);
    }
    Ok(b)
}

/// The stand-in's core module: imports `builtins.new<r>`/`rep<r>` (functions `2r`, `2r + 1`); exports `f<i>`
/// and `mk<r>`.
fn host_module(case: &Case, standins: &[StandIn]) -> Module {
    let set = &case.set;
    let mut types = CoreTypes::default();
    let mut imports = ImportSection::new();
    let i32_i32 = types.func(&[ValType::I32], &[ValType::I32]);
    for r in 0..set.resources.len() {
        imports.import("builtins", &format!("new{r}"), EntityType::Function(i32_i32));
        imports.import("builtins", &format!("rep{r}"), EntityType::Function(i32_i32));
    }
    let (new, rep) = (|r: usize| 2 * r as u32, |r: usize| 2 * r as u32 + 1);
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let mut next = 2 * set.resources.len() as u32;
    for (i, (imp, standin)) in case.imports.iter().zip(standins).enumerate() {
        let (params, results) = imp.sig.lift_core(set);
        funcs.function(types.func(&params, &results));
        let mut f = Function::new([]);
        match *standin {
            StandIn::Trap => {
                f.instruction(&I::Unreachable);
            }
            StandIn::Nothing => {}
            StandIn::Echo { rep_of, new: made } => {
                f.instruction(&I::LocalGet(0));
                if let Some(r) = rep_of {
                    f.instruction(&I::Call(rep(r)));
                }
                if let Some(r) = made {
                    f.instruction(&I::Call(new(r)));
                }
            }
        }
        f.instruction(&I::End);
        code.function(&f);
        exports.export(&format!("f{i}"), ExportKind::Func, next);
        next += 1;
    }
    for r in 0..set.resources.len() {
        funcs.function(i32_i32);
        let mut f = Function::new([]);
        f.instruction(&I::LocalGet(0)).instruction(&I::Call(new(r))).instruction(&I::End);
        code.function(&f);
        exports.export(&format!("mk{r}"), ExportKind::Func, next);
        next += 1;
    }
    let mut m = Module::new();
    m.section(&types.section).section(&imports).section(&funcs).section(&exports).section(&code);
    m
}

/// The driver component: imports the resources, `mk<r>` and the driven exports; exports each driven export
/// taking reps.
fn driver_component(set: &TypeSet, driven: &[(String, Sig)]) -> Result<ComponentBuilder, String> {
    use wasm_encoder::ComponentTypeRef;
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut b, true);
    let mut lowered = Vec::new();
    for r in 0..set.resources.len() {
        let ft = types.func(&mut b, &Sig { params: vec![("v".into(), Ty::U32)], result: Some(Ty::Own(r)) });
        let f = b.import(format!("mk{r}").as_str(), ComponentTypeRef::Func(ft));
        lowered.push((format!("mk{r}"), b.lower_func(Some(&format!("mk{r}")), f, [])));
        lowered.push((format!("drop{r}"), b.resource_drop(types.resource(r))));
    }
    for (k, (name, sig)) in driven.iter().enumerate() {
        let ft = types.func(&mut b, sig);
        let f = b.import(name.as_str(), ComponentTypeRef::Func(ft));
        lowered.push((format!("e{k}"), b.lower_func(Some(name), f, [])));
    }
    let imports_i = b.core_instantiate_exports(
        Some("imports"),
        lowered.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let m = b.core_module(Some("driver"), &driver_module(set, driven)?);
    let main = b.core_instantiate(Some("driver"), m, [("imports", ModuleArg::Instance(imports_i))]);
    for (k, (name, sig)) in driven.iter().enumerate() {
        let core = b.core_alias_export(Some(name), main, &format!("d{k}"), ExportKind::Func);
        let ft = types.func(&mut b, &by_rep(sig));
        let f = b.lift_func(Some(name), core, ft, Vec::new());
        b.export(name.as_str(), ComponentExportKind::Func, f, None);
    }
    Ok(b)
}

/// The driver's core module: imports `mk<r>`, `drop<r>` (functions `2r`, `2r + 1`) and `e<k>` (the driven
/// exports); exports `d<k>`: make a handle per handle parameter, call, drop the lent ones, return.
fn driver_module(set: &TypeSet, driven: &[(String, Sig)]) -> Result<Module, String> {
    let mut types = CoreTypes::default();
    let mut imports = ImportSection::new();
    for r in 0..set.resources.len() {
        let t = types.func(&[ValType::I32], &[ValType::I32]);
        imports.import("imports", &format!("mk{r}"), EntityType::Function(t));
        let t = types.func(&[ValType::I32], &[]);
        imports.import("imports", &format!("drop{r}"), EntityType::Function(t));
    }
    let (mk, drop) = (|r: usize| 2 * r as u32, |r: usize| 2 * r as u32 + 1);
    let first_driven = 2 * set.resources.len() as u32;
    for (k, (_, sig)) in driven.iter().enumerate() {
        let (params, results) = sig.lower_core(set);
        let t = types.func(&params, &results);
        imports.import("imports", &format!("e{k}"), EntityType::Function(t));
    }
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (k, (_, sig)) in driven.iter().enumerate() {
        let (params, results) = by_rep(sig).lift_core(set);
        if params.len() != sig.params.len() || results.len() > 1 {
            return Err(format!("cannot drive export `{}`: not one core value per parameter", driven[k].0));
        }
        funcs.function(types.func(&params, &results));
        // Locals after the parameters: one handle per parameter, then the result.
        let n = params.len() as u32;
        let mut locals = vec![(n, ValType::I32)];
        locals.extend(results.first().map(|t| (1, *t)));
        let mut f = Function::new(locals);
        let handle = |j: usize| n + j as u32;
        for (j, (_, t)) in sig.params.iter().enumerate() {
            if let Ty::Own(r) | Ty::Borrow(r) = t {
                f.instruction(&I::LocalGet(j as u32))
                    .instruction(&I::Call(mk(*r)))
                    .instruction(&I::LocalSet(handle(j)));
            }
        }
        for (j, (_, t)) in sig.params.iter().enumerate() {
            let from = if matches!(t, Ty::Own(_) | Ty::Borrow(_)) { handle(j) } else { j as u32 };
            f.instruction(&I::LocalGet(from));
        }
        f.instruction(&I::Call(first_driven + k as u32));
        if !results.is_empty() {
            f.instruction(&I::LocalSet(2 * n));
        }
        for (j, (_, t)) in sig.params.iter().enumerate() {
            if let Ty::Borrow(r) = t {
                f.instruction(&I::LocalGet(handle(j))).instruction(&I::Call(drop(*r)));
            }
        }
        if !results.is_empty() {
            f.instruction(&I::LocalGet(2 * n));
        }
        f.instruction(&I::End);
        code.function(&f);
        exports.export(&format!("d{k}"), ExportKind::Func, first_driven + driven.len() as u32 + k as u32);
    }
    let mut m = Module::new();
    m.section(&types.section).section(&imports).section(&funcs).section(&exports).section(&code);
    Ok(m)
}
