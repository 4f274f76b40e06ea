//! Evidence that a core backend, not component-layer, is wrong.
//!
//! component-layer runs the same code over every backend, so when component-layer over wasmi and over
//! wasmtime's core engine disagree, either a core engine computes differently or component-layer itself behaves
//! differently on the two. Only the first is a backend's bug, and only the core level can show it:
//!
//! 1. the case runs on component-layer over each core engine, each wrapped in a [`trace::TraceEngine`] that
//!    records every core-level interaction ([`trace`]);
//! 2. each trace is replayed, without component-layer, on the *other* core engine and on its own
//!    ([`replay`]): where the other engine, given the same modules, calls, arguments and host answers, computes
//!    something else while the engine's own replay is faithful, the two core engines differ;
//! 3. the call where they differ is cut out into a script — its module, stubs for its imports, the steps taken on
//!    its instance — checked on both engines, and shrunk with `wasm-shrink` ([`reduce`]).
//!
//! The [`Evidence`] carries the result: what differs, the reduced module and the call, each engine's outcome,
//! and where possible a self-contained component `.wast` that reproduces it.

pub mod reduce;
pub mod replay;
pub mod trace;

use std::sync::{Arc, OnceLock};

use component_gen::Case;
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineKind};
use replay::{Mismatch, Replayed};
use trace::{Event, Ext, TraceEngine};

/// What shows that two core engines compute different results from the same inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// One line: what differs.
    pub summary: String,
    /// The core engine whose trace was replayed, and the one it was replayed on.
    pub engines: (String, String),
    /// The steps of the (reduced) script, the last being the call whose outcome differs.
    pub steps: Vec<String>,
    /// Each core engine's outcome of that call.
    pub outcomes: Vec<(String, String)>,
    /// The (reduced) core module, as WAT.
    pub module: Option<String>,
    /// Stub modules for its imports, by namespace, as WAT.
    pub stubs: Vec<(String, String)>,
    /// Whether `wasm-shrink` reduced the module.
    pub reduced: bool,
    /// A self-contained component `.wast` asserting the right engine's outcomes, where one can be written.
    pub repro: Option<String>,
}

impl Evidence {
    /// Evidence that is a statement only (a panic located in a core engine's sources, say).
    pub fn statement(summary: String, engine: &str) -> Evidence {
        Evidence {
            summary,
            engines: (engine.to_owned(), String::new()),
            steps: Vec::new(),
            outcomes: Vec::new(),
            module: None,
            stubs: Vec::new(),
            reduced: false,
            repro: None,
        }
    }

    /// The evidence as lines for a regression's header.
    pub fn report_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("core-level evidence: {}", self.summary)];
        lines.push(format!(
            "  (the trace of component-layer over {} replayed without component-layer on {} and on itself)",
            self.engines.0, self.engines.1
        ));
        if !self.steps.is_empty() {
            lines.push("  steps on the instance:".into());
            lines.extend(self.steps.iter().map(|s| format!("    {s}")));
        }
        for (e, o) in &self.outcomes {
            lines.push(format!("  {e}: {o}"));
        }
        if let Some(m) = &self.module {
            let n = m.lines().count();
            if n <= 120 {
                lines
                    .push(format!("  the core module{}:", if self.reduced { " (reduced by wasm-shrink)" } else { "" }));
                lines.extend(m.lines().map(|l| format!("    {l}")));
            } else {
                lines.push(format!(
                    "  the core module has {n} lines of WAT{}",
                    if self.repro.is_some() { ": see the reproduction at the end of the file" } else { "" }
                ));
            }
        }
        lines
    }
}

/// The core engine behind `layer-wasmi` (one per process).
pub fn wasmi_backend() -> wasmi_runtime_layer::Engine {
    static E: OnceLock<wasmi_runtime_layer::Engine> = OnceLock::new();
    E.get_or_init(wasmi_runtime_layer::Engine::default).clone()
}

/// The core engine behind `layer-wasmtime` (one per process).
pub fn wasmtime_backend() -> wasmtime_runtime_layer::Engine {
    static E: OnceLock<wasmtime_runtime_layer::Engine> = OnceLock::new();
    E.get_or_init(wasmtime_runtime_layer::Engine::default).clone()
}

/// What is run on each traced engine: a scenario that uses the engine it is given.
pub type Scenario<'a> = dyn Fn(Box<dyn Engine>) + 'a;

/// Runs `scenario` on component-layer over the traced core engine `kind`: its trace.
fn traced(scenario: &Scenario<'_>, kind: EngineKind) -> Arc<Vec<Event>> {
    crate::worker::protocol::heartbeat(&format!("evidence: trace the case on {}", kind.name()));
    let events = match kind {
        EngineKind::LayerWasmi => {
            let backend = TraceEngine::new(wasmi_backend());
            let log = backend.log().clone();
            scenario(Box::new(crate::engine::LayerEngine::over("layer-wasmi (traced)", backend)));
            log.events()
        }
        _ => {
            let backend = TraceEngine::new(wasmtime_backend());
            let log = backend.log().clone();
            scenario(Box::new(crate::engine::LayerEngine::over("layer-wasmtime (traced)", backend)));
            log.events()
        }
    };
    Arc::new(events)
}

/// Replays `events` on the core engine of `kind`.
fn replay_on(kind: EngineKind, events: Arc<Vec<Event>>) -> Result<Replayed, Mismatch> {
    crate::worker::protocol::heartbeat(&format!("evidence: replay a trace on {}", core_name(kind)));
    match kind {
        EngineKind::LayerWasmi => replay::replay(wasmi_backend(), events, None, &[]),
        _ => replay::replay(wasmtime_backend(), events, None, &[]),
    }
}

fn core_name(kind: EngineKind) -> &'static str {
    match kind {
        EngineKind::LayerWasmi => "wasmi",
        _ => "wasmtime",
    }
}

/// Seeks core-level evidence for a divergence of `case` (at `call`) in which the layer engine `wrong` alone is
/// wrong: a difference between the two core engines on the same core-level inputs.
pub fn seek(case: &Case, call: Option<usize>, wrong: EngineKind) -> Option<Evidence> {
    let mut cut = case.clone();
    if let Some(i) = call {
        cut.calls.truncate(i + 1);
    }
    seek_with(
        &|mut engine| {
            let _ = crate::fuzz::run_on(&cut, engine.as_mut());
        },
        wrong,
    )
}

/// Seeks core-level evidence for a divergence that `scenario` shows, in which the layer engine `wrong` alone is
/// wrong (see [`seek`]).
pub fn seek_with(scenario: &Scenario<'_>, wrong: EngineKind) -> Option<Evidence> {
    // Only a layer engine has a core backend to blame: wasmtime and jco run their own core engines.
    if !wrong.is_layer() {
        return None;
    }
    let right = match wrong {
        EngineKind::LayerWasmi => EngineKind::LayerWasmtime,
        _ => EngineKind::LayerWasmi,
    };
    for (own, other) in [(wrong, right), (right, wrong)] {
        let events = traced(scenario, own);
        let Err(m) = replay_on(other, events.clone()) else { continue };
        if !m.engines_differ {
            continue;
        }
        // The engine's own replay must get past the same point: else the replay, not the engines, differs.
        if let Err(own_m) = replay_on(own, events.clone()) {
            if own_m.at <= m.at {
                continue;
            }
        }
        return Some(evidence(&events, &m, own, other, wrong));
    }
    None
}

/// The evidence of mismatch `m` of the trace `events` recorded on `own` and replayed on `other`. With
/// `COMPONENT_HARNESS_EVIDENCE_TRACE` set, the trace up to the mismatch is printed to stderr.
fn evidence(events: &[Event], m: &Mismatch, own: EngineKind, other: EngineKind, wrong: EngineKind) -> Evidence {
    if std::env::var_os("COMPONENT_HARNESS_EVIDENCE_TRACE").is_some() {
        for (i, e) in events.iter().enumerate().take(m.at + 1) {
            let text = format!("{e:?}");
            eprintln!("{i:5} {}", text.chars().take(200).collect::<String>());
        }
        eprintln!("mismatch: {m:?}");
    }
    let call_text = m.call.and_then(|c| call_text(events, c)).unwrap_or_else(|| "a core call".into());
    let mut ev = Evidence::statement(format!("{call_text}: on {} {}", core_name(other), m.what), core_name(own));
    ev.engines.1 = core_name(other).into();
    let script = match (m.call, events.get(m.at)) {
        (_, Some(Event::Instance { .. })) => reduce::script_for_start(events, m.at),
        (Some(c), _) => reduce::script(events, c),
        _ => None,
    };
    let Some(script) = script else { return ev };
    if reduce::differs(&script, &script.main).is_none() {
        ev.module = Some(reduce::wat(&script.main));
        return ev;
    }
    let shrunk = reduce::shrink(script.clone(), std::time::Duration::from_secs(10));
    ev.reduced = shrunk.main.len() < script.main.len();
    let (on_wasmi, on_wasmtime) = reduce::differs(&shrunk, &shrunk.main).unwrap_or((Err(()), Err(())));
    let show = |o: &reduce::Outcome| match o {
        Ok(v) => format!("({})", v.iter().map(trace::Raw::wast).collect::<Vec<_>>().join(") (")),
        Err(()) => "trap".into(),
    };
    ev.outcomes = vec![("wasmi".into(), show(&on_wasmi)), ("wasmtime".into(), show(&on_wasmtime))];
    ev.steps = shrunk.steps.iter().map(step_text).collect();
    ev.module = Some(reduce::wat(&shrunk.main));
    ev.stubs = shrunk.stubs.iter().map(|(ns, b)| (ns.clone(), reduce::wat(b))).collect();
    // The assertions are the right engine's outcomes: the core engine under the layer engine that agreed with
    // the others at the component level.
    let right = match wrong {
        EngineKind::LayerWasmi => reduce::run(wasmtime_backend(), &shrunk, &shrunk.main),
        _ => reduce::run(wasmi_backend(), &shrunk, &shrunk.main),
    };
    ev.repro = right.and_then(|r| reduce::component_wast(&shrunk, &r));
    ev.summary = format!(
        "{}: wasmi gives {}, wasmtime gives {}",
        ev.steps.last().cloned().unwrap_or(call_text),
        show(&on_wasmi),
        show(&on_wasmtime)
    );
    ev
}

fn step_text(s: &reduce::Step) -> String {
    match s {
        reduce::Step::Call { export, args } => {
            format!("call `{export}`({})", args.iter().map(trace::Raw::wast).collect::<Vec<_>>().join(", "))
        }
        reduce::Step::Write { memory, offset, bytes } => {
            format!("write {} bytes at {offset:#x} into {memory:?}", bytes.len())
        }
    }
}

/// The call event `c` as text: `core function `name` (…)`.
fn call_text(events: &[Event], c: usize) -> Option<String> {
    let Event::Call { func, args, .. } = events.get(c)? else { return None };
    let name = events
        .iter()
        .find_map(|e| match e {
            Event::Export { name, ext: Ext::Func(f), .. } if f == func => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| format!("#{func}"));
    Some(format!("core function `{name}`({})", args.iter().map(trace::Raw::wast).collect::<Vec<_>>().join(", ")))
}
