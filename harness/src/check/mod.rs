//! `check`: for a component someone gives us, find every place where the engines disagree on it.
//!
//! Every engine loads the component and instantiates it with the same generic host
//! ([`component_layer::generic`] on component-layer, its exact twin in [`native`] on wasmtime): every import
//! answered deterministically from the seed, every call recorded. Then every export — root and nested — is
//! called `calls` times with seeded, edge-biased arguments ([`plan`]); the resources a call needs come from the
//! host (imported resource types) or from the component's own constructors. After a call that fails anywhere,
//! every engine starts again from a new instance, so the engines stay in step.
//!
//! Each call yields a [`CallRecord`] per engine: the outcome class, the result (engine-neutral, resources as
//! labels with their representations), and the import calls with their arguments. Records are compared by
//! their [`key`]; a difference is a divergence, reduced to the smallest arguments that still diverge on a fresh
//! instance. Loading and instantiating are compared the same way: a component one engine loads and another
//! rejects is a divergence of its own.

pub mod plan;

use component_layer::generic::{mix_seed, ImportCall};
use component_layer::Value;
use serde::{Deserialize, Serialize};

use crate::diff::blame::Blame;
use crate::diff::same_outcome;
use crate::engine::value::{label_number, labels_in};
use crate::engine::{CallSpec, ComponentId, Engine, Failure, Host, InstanceId, ResourceArg};
use crate::wave::to_wave;
use plan::{PlannedCall, Slot, Surface};

/// What one engine did for one call (or instantiation).
#[derive(Clone, Debug)]
pub struct CallRecord {
    /// The result (engine-neutral) or the failure.
    pub outcome: Result<Option<Value>, Failure>,
    /// The host's log during the call.
    pub imports: Vec<ImportCall>,
}

impl CallRecord {
    /// A record of a failure before anything ran.
    pub fn failed(f: Failure) -> Self {
        CallRecord { outcome: Err(f), imports: Vec::new() }
    }

    /// Whether two records are the same: the same outcome ([`same_outcome`]) and the same host calls.
    pub fn agrees_with(&self, other: &CallRecord) -> bool {
        same_outcome(&self.outcome, &other.outcome) && self.imports == other.imports
    }
}

/// An import call as text: `name(args) -> result`.
pub fn import_text(c: &ImportCall) -> String {
    let args: Vec<String> = c.args.iter().map(to_wave).collect();
    let result = match &c.result {
        Ok(None) => String::new(),
        Ok(Some(v)) => format!(" -> {}", to_wave(v)),
        Err(_) => " -> host failure".into(),
    };
    format!("{}({}){result}", c.name, args.join(", "))
}

/// A log of import calls as text, one call per line.
pub fn imports_text(calls: &[ImportCall]) -> String {
    if calls.is_empty() {
        return "no host calls".into();
    }
    calls.iter().map(import_text).collect::<Vec<_>>().join("; ")
}

/// A record for reports: the outcome (with a failure's first line) and the import calls.
pub fn describe(r: &CallRecord) -> String {
    let mut s = match &r.outcome {
        Ok(None) => "ok".to_string(),
        Ok(Some(v)) => format!("ok {}", to_wave(v)),
        Err(f) => format!("{} ({})", f.key(), f.message().lines().next().unwrap_or("")),
    };
    for c in &r.imports {
        s.push_str(&format!("\n  {}", import_text(c)));
    }
    s
}

/// One engine under `check`: the component loaded on it, and its current instance.
pub struct CheckEngine {
    engine: Box<dyn Engine>,
    component: Option<ComponentId>,
    instance: Option<InstanceId>,
}

impl CheckEngine {
    /// `engine`, ready to check components.
    pub fn new(engine: Box<dyn Engine>) -> Self {
        CheckEngine { engine, component: None, instance: None }
    }

    /// The engine's name.
    pub fn name(&self) -> &str {
        self.engine.name()
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.engine.reset();
        self.instance = None;
        self.component = Some(self.engine.compile(bytes)?);
        Ok(())
    }

    /// A new instance with a generic host seeded by `seed`.
    fn instantiate(&mut self, seed: u64) -> CallRecord {
        if let Some(i) = self.instance.take() {
            self.engine.drop_instance(i);
        }
        let Some(c) = self.component else { return CallRecord::failed(Failure::invalid("not loaded")) };
        let outcome = self.engine.instantiate(c, &Host::generic(seed));
        let imports = self.engine.take_log();
        match outcome {
            Ok(i) => {
                self.instance = Some(i);
                CallRecord { outcome: Ok(None), imports }
            }
            Err(f) => CallRecord { outcome: Err(f), imports },
        }
    }

    /// Calls an export in the current instance (a failed call drops the instance): the resources the call needs
    /// are minted by the host or made by the component's constructors first, and the component's resources in
    /// the result, and the ones lent to the call, are dropped after it.
    fn call(&mut self, call: &PlannedCall) -> CallRecord {
        let Some(instance) = self.instance else { return CallRecord::failed(Failure::trap("no instance")) };
        let outcome = self.call_in(instance, call);
        let imports = self.engine.take_log();
        if outcome.is_err() {
            self.engine.drop_instance(instance);
            self.instance = None;
        }
        CallRecord { outcome, imports }
    }

    fn call_in(&mut self, instance: InstanceId, call: &PlannedCall) -> Result<Option<Value>, Failure> {
        let mut resources = Vec::with_capacity(call.slots.len());
        let mut lent = Vec::new();
        for slot in &call.slots {
            resources.push(match slot {
                Slot::Host { import, .. } => ResourceArg::Mint { import: import.clone() },
                Slot::Guest { ctor, args, own } => {
                    let made = self
                        .engine
                        .call(instance, &CallSpec { path: ctor.clone(), args: args.clone(), ..CallSpec::default() })?;
                    let n = made
                        .as_ref()
                        .and_then(label_number)
                        .ok_or_else(|| Failure::trap("a constructor returned no resource"))?;
                    if !own {
                        lent.push(n);
                    }
                    ResourceArg::Held(n)
                }
            });
        }
        let spec = CallSpec { path: call.path.clone(), args: call.args.clone(), resources, ..CallSpec::default() };
        let result = self.engine.call(instance, &spec)?;
        // The component's own resources go back: their destructors run, and the imports they call are part of
        // this call's record. (Resources of the host's types stay with the host.)
        let mut returned = Vec::new();
        if let Some(v) = &result {
            guest_labels(v, &mut returned);
        }
        for n in returned.into_iter().chain(lent) {
            self.engine.drop_resource(instance, n)?;
        }
        Ok(result)
    }
}

/// The numbers of the component's own resources (`own<guest>#N`) in a result.
fn guest_labels(v: &Value, out: &mut Vec<u32>) {
    let mut all = Vec::new();
    labels_in(v, &mut all);
    let mut guest = Vec::new();
    collect_guest(v, &mut guest);
    out.extend(all.into_iter().filter(|n| guest.contains(n)));
}

fn collect_guest(v: &Value, out: &mut Vec<u32>) {
    match v {
        Value::Enum(s) if s.starts_with("own<guest>#") => out.extend(label_number(v)),
        Value::List(l) => l.iter().for_each(|x| collect_guest(&x, out)),
        Value::Record(fs) => fs.iter().for_each(|(_, x)| collect_guest(x, out)),
        Value::Tuple(xs) => xs.iter().for_each(|x| collect_guest(x, out)),
        Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
            collect_guest(p, out)
        }
        _ => {}
    }
}

/// The engines named by `specs`, ready to check components.
pub fn engines(specs: &[crate::engine::EngineSpec]) -> Vec<CheckEngine> {
    specs.iter().map(|s| CheckEngine::new(s.open())).collect()
}

/// Settings of a check.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckConfig {
    /// The seed of arguments and host results.
    pub seed: u64,
    /// Calls per export.
    pub calls: u64,
    /// Divergences per export that are reduced and reported in full (the rest are counted).
    pub max_reported: usize,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig { seed: 0, calls: 100, max_reported: 3 }
    }
}

/// One export's tally.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExportRow {
    /// The export (`iface#func`).
    pub export: String,
    /// Calls made.
    pub calls: u64,
    /// Calls that returned on the first engine.
    pub ok: u64,
    /// Calls that failed on the first engine.
    pub trap: u64,
    /// Calls whose records differ between engines.
    pub divergences: u64,
}

/// One divergence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Divergence {
    /// What diverged: `load`, `instantiate`, or the export.
    pub what: String,
    /// The arguments, in WAVE text (resources shown by where they come from).
    pub args: String,
    /// The smallest arguments that still diverge on a fresh instance, if reduction succeeded.
    pub reduced: Option<String>,
    /// Each engine's outcome (for the reduced call when there is one).
    pub outcomes: Vec<(String, String)>,
    /// Engines outside the largest group of engines that agree (see [`crate::diff::outliers`]).
    pub wrong: Vec<String>,
    /// Who the divergence is attributed to (see [`crate::diff::blame`]).
    pub blame: Blame,
}

impl Divergence {
    /// Where one layer engine alone is wrong, seeks core-level evidence that its backend is (replaying the
    /// component's instantiation and `call` on traced core engines, see [`crate::evidence`]).
    fn seek_evidence(&mut self, bytes: &[u8], call: &PlannedCall, seed: u64, engines: &[CheckEngine]) {
        let names: Vec<String> = engines.iter().map(|e| e.name().to_owned()).collect();
        let crate::diff::blame::Suspect::Backend(kind) = Blame::suspect(&self.wrong, &names) else { return };
        let scenario = |engine: Box<dyn Engine>| {
            let mut e = CheckEngine::new(engine);
            if e.load(bytes).is_ok() && e.instantiate(seed).outcome.is_ok() {
                e.call(call);
            }
        };
        if let Some(evidence) = crate::evidence::seek_with(&scenario, kind) {
            self.blame = Blame::Backend { engine: kind.name().to_owned(), evidence: Box::new(evidence) };
        }
    }

    /// A divergence with its wrong engines (outside the largest group that agrees) and attribution.
    fn new(what: &str, args: String, reduced: Option<String>, engines: &[CheckEngine], records: &[CallRecord]) -> Self {
        let names: Vec<String> = engines.iter().map(|e| e.name().to_owned()).collect();
        let wrong = crate::diff::outliers(&names, records, CallRecord::agrees_with);
        let outcomes = names.iter().cloned().zip(records.iter().map(describe)).collect();
        let blame = Blame::without_evidence(&wrong, &names);
        Divergence { what: what.to_owned(), args, reduced, outcomes, wrong, blame }
    }
}

/// The verdict on a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "kebab-case")]
pub enum Verdict {
    /// No divergence.
    Passed,
    /// At least one divergence.
    Failed,
    /// Nothing could be compared, with the reason.
    Skipped(String),
}

/// The report on one component.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComponentReport {
    /// Where it came from.
    pub component: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Per export.
    pub rows: Vec<ExportRow>,
    /// The divergences found.
    pub divergences: Vec<Divergence>,
    /// Exports that could not be called, with the reason.
    pub not_callable: Vec<plan::NotCallable>,
}

impl ComponentReport {
    fn new(component: &str) -> Self {
        ComponentReport {
            component: component.into(),
            verdict: Verdict::Passed,
            rows: Vec::new(),
            divergences: Vec::new(),
            not_callable: Vec::new(),
        }
    }

    fn skipped(mut self, reason: impl Into<String>) -> Self {
        self.verdict = Verdict::Skipped(reason.into());
        self
    }

    /// The per-export table, in Markdown.
    pub fn table(&self) -> String {
        let mut s = String::from("| export | calls | ok | trap | divergences |\n|---|---:|---:|---:|---:|\n");
        for r in &self.rows {
            s.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.export, r.calls, r.ok, r.trap, r.divergences));
        }
        s
    }
}

/// Whether the records of all engines agree.
fn agree(records: &[CallRecord]) -> bool {
    records.windows(2).all(|w| w[0].agrees_with(&w[1]))
}

fn instantiate_all(engines: &mut [CheckEngine], seed: u64) -> Vec<CallRecord> {
    engines.iter_mut().map(|e| e.instantiate(seed)).collect()
}

/// Checks one component (`bytes`, `.wasm` or `.wat`) on `engines`; `progress` is told of every call.
pub fn check_component(
    name: &str,
    bytes: &[u8],
    engines: &mut [CheckEngine],
    config: &CheckConfig,
    progress: &mut dyn FnMut(u64),
) -> ComponentReport {
    let report = ComponentReport::new(name);
    if name.ends_with(".wast") {
        return report.skipped("a .wast script, not a component: `repro <file>` runs it on every engine");
    }
    let bytes = match wat::parse_bytes(bytes) {
        Ok(b) => b.into_owned(),
        Err(e) => return report.skipped(format!("not a component: {e}")),
    };
    let loads: Vec<CallRecord> = engines
        .iter_mut()
        .map(|e| match e.load(&bytes) {
            Ok(()) => CallRecord { outcome: Ok(None), imports: Vec::new() },
            Err(f) => CallRecord::failed(f),
        })
        .collect();
    if !agree(&loads) {
        let mut report = report;
        report.verdict = Verdict::Failed;
        report.divergences.push(Divergence::new("load", String::new(), None, engines, &loads));
        return report;
    }
    if let Some(Err(f)) = loads.first().map(|r| &r.outcome) {
        return report.skipped(f.to_string());
    }
    // The types: reflected by component-layer (the same on every backend).
    let reflect = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
    let component = match component_layer::Component::new(&reflect, &bytes) {
        Ok(c) => c,
        Err(e) => return report.skipped(format!("component-layer cannot reflect on it: {e}")),
    };
    let imports = component.imports();
    // The generic hosts answer imports with seeded values; a stream or future they would have to read, write or
    // make (and the two hosts' engines disagree on what an unread one means), so such components are skipped.
    if let Some(name) = plan::unserved_import(&imports, &[]) {
        return report.skipped(format!(
            "import `{name}` passes a stream, future or error-context, which the generic host does not serve yet"
        ));
    }
    let surface = Surface::of(&imports, &component.exports());
    run_calls(report, &bytes, &surface, engines, config, progress)
}

fn run_calls(
    mut report: ComponentReport,
    bytes: &[u8],
    surface: &Surface,
    engines: &mut [CheckEngine],
    config: &CheckConfig,
    progress: &mut dyn FnMut(u64),
) -> ComponentReport {
    report.not_callable = surface.not_callable.clone();
    report.rows =
        surface.funcs.iter().map(|f| ExportRow { export: f.path.join("#"), ..ExportRow::default() }).collect();
    let mut instance_no = 0u64;
    let mut inst_seed = mix_seed(config.seed, &[instance_no]);
    let first = instantiate_all(engines, inst_seed);
    if !agree(&first) {
        report.verdict = Verdict::Failed;
        report.divergences.push(Divergence::new("instantiate", String::new(), None, engines, &first));
        return report;
    }
    if let Some(Err(f)) = first.first().map(|r| &r.outcome) {
        return report.skipped(format!("instantiation fails on every engine: {f}"));
    }
    if surface.funcs.is_empty() {
        let why = match surface.not_callable.first() {
            Some(n) => format!("nothing callable ({}: {})", n.export, n.reason),
            None => "nothing callable: no exported functions".into(),
        };
        return report.skipped(why);
    }
    let mut fresh = true;
    for n in 0..config.calls {
        for (i, func) in surface.funcs.iter().enumerate() {
            if !fresh {
                instance_no += 1;
                inst_seed = mix_seed(config.seed, &[instance_no]);
                let records = instantiate_all(engines, inst_seed);
                if !agree(&records) {
                    report.verdict = Verdict::Failed;
                    report.divergences.push(Divergence::new("instantiate", String::new(), None, engines, &records));
                    return report;
                }
                fresh = true;
            }
            let call = surface.plan(func, config.seed, n);
            let records: Vec<CallRecord> = engines.iter_mut().map(|e| e.call(&call)).collect();
            progress(1);
            let row = &mut report.rows[i];
            row.calls += 1;
            match records.first().map(|r| r.outcome.is_ok()) {
                Some(true) => row.ok += 1,
                _ => row.trap += 1,
            }
            if records.iter().any(|r| r.outcome.is_err()) {
                fresh = false;
            }
            if !agree(&records) {
                row.divergences += 1;
                report.verdict = Verdict::Failed;
                fresh = false;
                let reported = report.divergences.iter().filter(|d| d.what == row.export).count();
                if reported < config.max_reported {
                    let d = reduce(engines, bytes, &call, inst_seed, records);
                    report.divergences.push(d);
                }
            }
        }
    }
    report
}

/// Whether `call` diverges on fresh instances; the records if it does.
fn diverges(engines: &mut [CheckEngine], call: &PlannedCall, seed: u64) -> Option<Vec<CallRecord>> {
    let inst = instantiate_all(engines, seed);
    if !agree(&inst) || inst.iter().any(|r| r.outcome.is_err()) {
        return None;
    }
    let records: Vec<CallRecord> = engines.iter_mut().map(|e| e.call(call)).collect();
    (!agree(&records)).then_some(records)
}

/// Reduces a divergent call to the smallest arguments that still diverge on a fresh instance.
fn reduce(
    engines: &mut [CheckEngine],
    bytes: &[u8],
    call: &PlannedCall,
    seed: u64,
    records: Vec<CallRecord>,
) -> Divergence {
    let what = call.name();
    let args = plan::render_args(call);
    let Some(mut best_records) = diverges(engines, call, seed) else {
        // Not reproducible alone: it depends on earlier calls in the same instance.
        return Divergence::new(&what, args, None, engines, &records);
    };
    let mut best = call.clone();
    let mut attempts = 0;
    'outer: loop {
        for i in 0..best.args.len() {
            let ty = best.ty.params()[i].1.clone();
            for candidate in plan::shrink_value(&best.args[i], &ty) {
                attempts += 1;
                if attempts > 300 {
                    break 'outer;
                }
                let mut next = best.clone();
                next.args[i] = candidate;
                if let Some(r) = diverges(engines, &next, seed) {
                    best = next;
                    best_records = r;
                    continue 'outer;
                }
            }
        }
        break;
    }
    let mut d = Divergence::new(&what, args, Some(plan::render_args(&best)), engines, &best_records);
    d.seek_evidence(bytes, &best, seed, engines);
    d
}

/// The report on a component whose check killed its worker: a failure, blamed on the engine that was running.
pub fn crashed_report(
    name: &str,
    death: &crate::worker::supervisor::DeathReport,
    engines: &[String],
) -> ComponentReport {
    let mut report = ComponentReport::new(name);
    report.verdict = Verdict::Failed;
    let engine = death.step.as_ref().map_or_else(|| "?".to_owned(), |s| s.engine.clone());
    let op = death.step.as_ref().map_or_else(|| "?".to_owned(), |s| s.op.clone());
    let wrong = vec![engine.clone()];
    let blame = Blame::without_evidence(&wrong, engines);
    report.divergences.push(Divergence {
        what: format!("crash of {engine} in `{op}`"),
        args: String::new(),
        reduced: None,
        outcomes: vec![(engine, format!("died: {} ({})", death.death.name(), death.reason()))],
        wrong,
        blame,
    });
    report
}

/// Marks a failed report as an expected divergence when `corpus/expectations.txt` has a rule for the component
/// (by its `label`, the path relative to the conformance root) on one of `engines`; the reason is kept.
pub fn apply_expectations(
    report: &mut ComponentReport,
    label: &str,
    engines: &[&str],
    exp: &crate::expectations::Expectations,
) {
    if report.verdict != Verdict::Failed {
        return;
    }
    if let Some(reason) = engines.iter().find_map(|e| exp.file_skip(label, e)) {
        report.verdict = Verdict::Skipped(format!("expected divergence: {reason}"));
    }
}

/// The label of a component file for the expectations: its path relative to the conformance root, if it is
/// under it (wit-component's components are labelled `wit-component/<name>`, as in their conformance trials),
/// however the path is written (see [`crate::conform::label_of`]).
pub fn expectation_label(path: &std::path::Path) -> Option<String> {
    let label = crate::conform::label_of(path);
    Some(label.replacen("wit-component/components/", "wit-component/", 1))
}

/// The closing line over many components: `N passed, M failed, K skipped`.
pub fn summary_line(reports: &[ComponentReport]) -> String {
    let count = |f: &dyn Fn(&Verdict) -> bool| reports.iter().filter(|r| f(&r.verdict)).count();
    format!(
        "{} passed, {} failed, {} skipped",
        count(&|v| *v == Verdict::Passed),
        count(&|v| *v == Verdict::Failed),
        count(&|v| matches!(v, Verdict::Skipped(_)))
    )
}
