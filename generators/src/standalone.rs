//! Self-contained versions of cases, for regression files that any `.wast` runner can execute.
//!
//! A case's host imports are implemented by the test host in the fuzzer; a `.wast` file has no such host. So
//! [`wrap`] builds an outer component that instantiates a *stand-in* component — a guest whose exports behave
//! as the case's host imports do for one call (return the queued value from a data segment, echo the argument,
//! or trap) — and the case's component with its imports wired to the stand-in, and re-exports the case's
//! exports. [`wrap_case`] does so for a whole call script; cases with host resources get stand-ins of their
//! own (see [`resource`]).

mod resource;

use wasm_encoder::{ComponentBuilder, ComponentExportKind};

use crate::case::{Call, Case, HostBehaviour, Tier};
use crate::encode::{self, Design, ExportDecl};
use crate::guest::{Body, Encoding, ReallocMode, HEAP_BASE, RAW_BASE};
use crate::image;
use crate::ty::{Def, Flat, Ty, TypeSet};

/// The case as one component with no imports, behaving as the fuzzer's host does for every call of the case:
/// host resources and their imports are played by [`resource`]'s stand-in; other imports by [`wrap`]'s, which
/// answers the same for every call, so the calls must queue the same host return values.
pub fn wrap_case(case: &Case) -> Result<Vec<u8>, String> {
    if matches!(case.tier, Tier::Async | Tier::HostStream) {
        return Err(format!(
            "the {} tier's imports are `async func`s answered by the host's executor; no stand-in yet",
            case.tier
        ));
    }
    if case.stub_imports {
        return Err("the case's unknown imports are trapping stubs, which a .wast host does not define".into());
    }
    if case.set.resources.iter().any(|r| r.host) {
        return resource::wrap(case);
    }
    let first = case.calls.first().ok_or("the case has no call")?;
    if let Some(i) = case.calls.iter().position(|c| c.host_returns != first.host_returns) {
        return Err(format!(
            "call {i} queues other host return values than call 0, and a stand-in answers the same for every call"
        ));
    }
    wrap(case, first)
}

/// The case as one component with no imports, behaving as the fuzzer's host does for `call`.
pub fn wrap(case: &Case, call: &Call) -> Result<Vec<u8>, String> {
    if case.stub_imports {
        return Err("the case's unknown imports are trapping stubs, which a .wast host does not define".into());
    }
    if case.set.resources.iter().any(|r| r.host) {
        return Err("the case's host resources need `wrap_case`, which stands in for them over all its calls".into());
    }
    if case.imports.is_empty() {
        return Ok(case.component.clone());
    }
    let mut queued = call.host_returns.iter().peekable();
    let mut exports = Vec::new();
    let mut data = Vec::new();
    let mut next = RAW_BASE;
    for imp in &case.imports {
        let body = match &imp.behaviour {
            HostBehaviour::Trap => Body::Trap,
            HostBehaviour::ReturnQueuedLater => {
                return Err(format!("cannot stand in for async import `{}` (it answers later)", imp.name))
            }
            HostBehaviour::Hash => return Err(format!("cannot stand in for hashing import `{}`", imp.name)),
            HostBehaviour::Reenter(_) => return Err(format!("cannot stand in for reentering import `{}`", imp.name)),
            HostBehaviour::ReadStream
            | HostBehaviour::WriteStream
            | HostBehaviour::ReadFuture
            | HostBehaviour::WriteFuture => {
                return Err(format!("cannot stand in for host stream import `{}`", imp.name))
            }
            HostBehaviour::EchoFirst => match (&imp.sig.params.first(), &imp.sig.result) {
                (Some((_, Ty::List(_))), Some(Ty::List(_))) => Body::EchoFirstList,
                _ => return Err(format!("cannot stand in for echoing import `{}`", imp.name)),
            },
            HostBehaviour::ReturnQueued => match &imp.sig.result {
                None => Body::Constant { at: 0, flat: None },
                // A call reaches only some of the imports (an echo export forwards to one): the queued values
                // belong to those, in order. An import whose type the next value does not fit is not reached, and
                // its stand-in traps if it is called after all.
                Some(ty) if queued.peek().is_none_or(|v| crate::values::check(&case.set, ty, v).is_err()) => Body::Trap,
                Some(ty) => {
                    let v = queued.next().cloned().ok_or("no queued value for the stand-in")?;
                    let image = |at: u32| {
                        image::build(&case.set, ty, &v, at, Encoding::Utf8)
                            .map_err(|e| format!("the value queued for import `{}`: {e}", imp.name))
                    };
                    match single_flat(&case.set, ty) {
                        Some((off, size, flat)) => {
                            let img = image(0)?;
                            let mut bits = [0u8; 8];
                            let (o, n) = (off as usize, size as usize);
                            let src = o.checked_add(n).and_then(|end| img.bytes.get(o..end));
                            match (bits.get_mut(..n), src) {
                                (Some(dst), Some(src)) => dst.copy_from_slice(src),
                                _ => {
                                    return Err(format!("the flat value of import `{}` is not in its image", imp.name))
                                }
                            }
                            Body::Constant { at: 0, flat: Some((flat, u64::from_le_bytes(bits))) }
                        }
                        None => {
                            let img = image(next)?;
                            let at = next;
                            next = u32::try_from(img.bytes.len())
                                .ok()
                                .and_then(|n| n.checked_next_multiple_of(8))
                                .and_then(|n| next.checked_add(n)?.checked_add(8))
                                .filter(|n| *n <= HEAP_BASE)
                                .ok_or("stand-in constants are too large")?;
                            data.push((at, img.bytes));
                            Body::Constant { at, flat: None }
                        }
                    }
                }
            },
        };
        exports.push(ExportDecl { name: imp.name.clone(), sig: imp.sig.clone(), encoding: Encoding::Utf8, body });
    }
    let standin = Design { set: case.set.clone(), imports: Vec::new(), exports, realloc: ReallocMode::Good, data };
    Ok(outer(&case.set, &standin, case))
}

fn outer(set: &TypeSet, standin: &Design, case: &Case) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = encode::TypeEncoder::new(set);
    types.declare(&mut b, true);
    let standin_c = b.component(Some("host"), encode::inner(set, standin));
    let case_c = b.component_raw(Some("case"), &case.component);
    let type_args: Vec<(String, ComponentExportKind, u32)> =
        types.imported.iter().map(|(n, i)| (n.clone(), ComponentExportKind::Type, *i)).collect();
    let host_i = b.instantiate(Some("host"), standin_c, type_args.clone());
    let mut args = type_args;
    for imp in &case.imports {
        let f = b.alias_export(host_i, &imp.name, ComponentExportKind::Func);
        args.push((imp.name.clone(), ComponentExportKind::Func, f));
    }
    let case_i = b.instantiate(Some("case"), case_c, args);
    for (name, _) in &case.exports {
        let f = b.alias_export(case_i, name, ComponentExportKind::Func);
        b.export(name.as_str(), ComponentExportKind::Func, f, None);
    }
    b.finish()
}

/// For a type with exactly one flat core value: where that value's scalar lives in its memory image (offset,
/// size) and its flat type.
fn single_flat(set: &TypeSet, ty: &Ty) -> Option<(u32, u32, Flat)> {
    let flat = set.layout(ty).flat?;
    if flat.len() != 1 {
        return None;
    }
    match set.resolve(ty) {
        Ty::Tuple(ts) => {
            let (_, offs) = set.record_layout(ts.iter());
            ts.iter().zip(offs).find_map(|(t, o)| single_flat(set, t).map(|(x, s, f)| (o + x, s, f)))
        }
        Ty::Named(i) => match &set.defs[*i].1 {
            Def::Record(fs) => {
                let (_, offs) = set.record_layout(fs.iter().map(|(_, t)| t));
                fs.iter().zip(offs).find_map(|((_, t), o)| single_flat(set, t).map(|(x, s, f)| (o + x, s, f)))
            }
            _ => Some((0, set.layout(ty).size, flat[0])),
        },
        _ => Some((0, set.layout(ty).size, flat[0])),
    }
}
