//! Shrinking a diverging case: fewer calls, a smaller type, smaller values — while the same engines still
//! disagree.
//!
//! 1. Keep only the call that diverged (calls are independent: every export's post-return resets the guest heap,
//!    and a trap gets a fresh instance) — in the resource tier, the calls up to it (handles live across calls)
//!    since the last trap.
//! 2. Regenerate the case from the same seed with smaller type and value budgets.
//! 3. Simplify the arguments and the host's return values greedily (shorter lists and strings, zeros),
//!    recomputing what the case expects.

use component_gen::values::transform;
use component_gen::{Call, Case, CaseConfig, Expect, Tier};
use component_layer::{List, Value};

use super::CaseRef;
use crate::diff::{run_case, Divergence};
use crate::engine::Engine;

/// A shrunk case and its divergence.
pub struct Shrunk {
    /// How the case is made from its seed (without the value simplifications of step 3), if it can be.
    pub case_ref: Option<CaseRef>,
    /// The case.
    pub case: Case,
    /// Its divergence.
    pub divergence: Divergence,
}

/// At most this many candidate runs per shrink.
const MAX_ATTEMPTS: usize = 300;

/// The smaller budgets tried in step 2, smallest last: (type depth, type fuel, parts, value budget).
pub const BUDGETS: [(u32, u32, usize, usize); 4] = [(2, 10, 4, 512), (2, 4, 3, 128), (1, 2, 2, 64), (1, 1, 1, 16)];

/// Applies step `b` of [`BUDGETS`] to a generation configuration.
pub fn apply_budget(cfg: &mut CaseConfig, b: usize) {
    let Some(&(depth, fuel, parts, budget)) = BUDGETS.get(b) else { return };
    cfg.types.max_depth = cfg.types.max_depth.min(depth);
    cfg.types.fuel = cfg.types.fuel.min(fuel);
    cfg.types.max_parts = cfg.types.max_parts.min(parts);
    cfg.values.budget = cfg.values.budget.min(budget);
}

/// The size of a case for reports: its calls, and the value nodes of their arguments.
pub fn size(case: &Case) -> (usize, usize) {
    fn nodes(v: &Value) -> usize {
        1 + match v {
            Value::List(l) => l.iter().map(|x| nodes(&x)).sum(),
            Value::Record(fs) => fs.iter().map(|(_, x)| nodes(x)).sum(),
            Value::Tuple(xs) => xs.iter().map(nodes).sum(),
            Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => nodes(p),
            Value::String(s) => s.chars().count(),
            _ => 0,
        }
    }
    (case.calls.len(), case.calls.iter().flat_map(|c| c.args.iter()).map(nodes).sum())
}

/// Shrinks `case` (made as `case_ref` says, if it is made from a seed), whose first divergence is `d`, on
/// `engines`.
pub fn shrink(case_ref: Option<&CaseRef>, case: &Case, d: &Divergence, engines: &mut [Box<dyn Engine>]) -> Shrunk {
    let mut best = Shrunk { case_ref: case_ref.copied(), case: case.clone(), divergence: d.clone() };
    let mut attempts = 0;
    let still = |c: &Case, engines: &mut [Box<dyn Engine>], attempts: &mut usize| -> Option<Divergence> {
        *attempts += 1;
        let r = run_case(c, engines);
        r.divergences.into_iter().find(|x| x.wrong == d.wrong)
    };

    // 1. Only the diverging call.
    if let Some(i) = d.call {
        let mut c = case.clone();
        c.calls = only(case, i);
        if let Some(dd) = still(&c, engines, &mut attempts) {
            best = Shrunk { case_ref: case_ref.map(|r| CaseRef { only: Some(i), ..*r }), case: c, divergence: dd };
        }
    }

    // 2. Smaller budgets, same seed.
    for b in 0..BUDGETS.len() {
        let Some(case_ref) = case_ref else { break };
        if attempts >= MAX_ATTEMPTS {
            break;
        }
        let whole = CaseRef { budget: Some(b), only: None, ..*case_ref };
        let candidate = whole.build();
        let Some(dd) = still(&candidate, engines, &mut attempts) else { continue };
        best = Shrunk { case_ref: Some(whole), case: candidate, divergence: dd.clone() };
        if let Some(i) = dd.call {
            let r = CaseRef { only: Some(i), ..whole };
            let c = r.build();
            if let Some(d2) = still(&c, engines, &mut attempts) {
                best = Shrunk { case_ref: Some(r), case: c, divergence: d2 };
            }
        }
    }

    // 3. Simpler arguments, for tiers whose expectations can be recomputed from them.
    if best.case.calls.len() == 1
        && matches!(best.case.tier, Tier::Echo | Tier::Compose | Tier::Transform | Tier::Probe)
    {
        let mut improved = true;
        while improved && attempts < MAX_ATTEMPTS {
            improved = false;
            let call = best.case.calls[0].clone();
            // Candidates: each argument, then each value the host returns (echo tiers expect it back).
            let candidates = (0..call.args.len())
                .flat_map(|k| smaller(&call.args[k]).into_iter().map(move |v| (false, k, v)))
                .chain(
                    (0..call.host_returns.len())
                        .flat_map(|j| smaller(&call.host_returns[j]).into_iter().map(move |v| (true, j, v))),
                );
            for (is_return, k, v) in candidates {
                if attempts >= MAX_ATTEMPTS {
                    break;
                }
                let mut c = best.case.clone();
                c.calls[0] = if is_return {
                    with_host_return(&best.case, &call, k, v)
                } else {
                    with_arg(&best.case, &call, k, v)
                };
                if let Some(dd) = still(&c, engines, &mut attempts) {
                    best = Shrunk { case_ref: best.case_ref, case: c, divergence: dd };
                    improved = true;
                    break;
                }
            }
        }
    }
    best
}

/// The calls needed to reproduce call `i`: that call alone, or, for the resource tier (whose calls depend on the
/// handles earlier calls made), the calls up to it since the last expected trap — a trap gives every engine a
/// fresh instance (and the model starts over), so what came before it cannot matter. (If the calls before `i`
/// did not all behave as expected, the shortened case may not diverge the same way; the caller checks.)
pub fn only(case: &Case, i: usize) -> Vec<Call> {
    match case.tier {
        Tier::Resource if !case.calls.is_empty() => {
            let end = i.min(case.calls.len().saturating_sub(1));
            let start = case.calls[..end].iter().rposition(|c| c.expect == Expect::Trap).map_or(0, |t| t + 1);
            // Resources held across calls never cross a trap, so the cut keeps every call they refer to.
            case.calls[start..=end].iter().map(|c| c.rebased(start)).collect()
        }
        _ => case.calls.get(i).cloned().into_iter().collect(),
    }
}

/// The call with argument `k` replaced, and the expectations recomputed.
fn with_arg(case: &Case, call: &Call, k: usize, v: Value) -> Call {
    let mut c = call.clone();
    c.args[k] = v;
    // What the reference engine is known to return instead was computed for the old arguments.
    c.reference_deviation = None;
    match case.tier {
        Tier::Echo | Tier::Compose => c.expect_import_args = Some(vec![c.args.clone()]),
        Tier::Transform => {
            let ty = &case.exports[0].1.params[0].1;
            let Ok(t) = transform(&case.set, ty, &c.args[0]) else { return c };
            c.expect_import_args = Some(vec![vec![t.clone()]]);
            c.expect = Expect::Returns(Some(t));
        }
        _ => {}
    }
    c
}

/// The call with host return value `j` replaced: in the echo tiers the export returns what the host returned.
fn with_host_return(case: &Case, call: &Call, j: usize, v: Value) -> Call {
    let mut c = call.clone();
    c.host_returns[j] = v.clone();
    if matches!(case.tier, Tier::Echo | Tier::Compose) && j == 0 {
        c.expect = Expect::Returns(Some(v));
    }
    c
}

/// Simpler values of the same type.
pub fn smaller(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) if !l.is_empty() => {
            let items: Vec<Value> = l.iter().collect();
            let mut out = vec![Value::List(List::Values(Vec::new()))];
            if items.len() > 1 {
                out.push(Value::List(List::Values(items[..items.len() / 2].to_vec())));
                out.push(Value::List(List::Values(items[1..].to_vec())));
            }
            for s in smaller(&items[0]) {
                let mut it = items.clone();
                it[0] = s;
                out.push(Value::List(List::Values(it)));
            }
            out
        }
        Value::String(s) if !s.is_empty() => {
            let chars: Vec<char> = s.chars().collect();
            let mut out = vec![Value::String(String::new())];
            if chars.len() > 1 {
                out.push(Value::String(chars[..chars.len() / 2].iter().collect()));
                out.push(Value::String(chars[1..].iter().collect()));
            }
            out
        }
        Value::Record(fs) => (0..fs.len())
            .flat_map(|i| {
                smaller(&fs[i].1).into_iter().map(move |s| {
                    let mut f = fs.clone();
                    f[i].1 = s;
                    Value::Record(f)
                })
            })
            .collect(),
        Value::Tuple(vs) => (0..vs.len())
            .flat_map(|i| {
                smaller(&vs[i]).into_iter().map(move |s| {
                    let mut t = vs.clone();
                    t[i] = s;
                    Value::Tuple(t)
                })
            })
            .collect(),
        Value::Option(Some(p)) => {
            let mut out = vec![Value::Option(None)];
            out.extend(smaller(p).into_iter().map(|s| Value::Option(Some(Box::new(s)))));
            out
        }
        Value::Variant(c, Some(p)) => {
            smaller(p).into_iter().map(|s| Value::Variant(c.clone(), Some(Box::new(s)))).collect()
        }
        Value::Result(Ok(Some(p))) => smaller(p).into_iter().map(|s| Value::Result(Ok(Some(Box::new(s))))).collect(),
        Value::Result(Err(Some(p))) => smaller(p).into_iter().map(|s| Value::Result(Err(Some(Box::new(s))))).collect(),
        Value::Flags(fs) if !fs.is_empty() => vec![Value::Flags(Vec::new())],
        Value::U8(x) if *x != 0 => vec![Value::U8(0)],
        Value::S8(x) if *x != 0 => vec![Value::S8(0)],
        Value::U16(x) if *x != 0 => vec![Value::U16(0)],
        Value::S16(x) if *x != 0 => vec![Value::S16(0)],
        Value::U32(x) if *x != 0 => vec![Value::U32(0)],
        Value::S32(x) if *x != 0 => vec![Value::S32(0)],
        Value::U64(x) if *x != 0 => vec![Value::U64(0)],
        Value::S64(x) if *x != 0 => vec![Value::S64(0)],
        Value::F32(x) if x.to_bits() != 0 => vec![Value::F32(0.0)],
        Value::F64(x) if x.to_bits() != 0 => vec![Value::F64(0.0)],
        Value::Char(c) if *c != 'a' => vec![Value::Char('a')],
        _ => Vec::new(),
    }
}
