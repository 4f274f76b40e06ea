//! What a set of generated cases covers: tiers, type kinds, string encodings, fault kinds, flat-vs-memory
//! passing. `component-harness gen` prints this summary.

use std::collections::BTreeMap;

use crate::case::{Case, Expect, Tier};
use crate::ty::{Def, Ty, TypeSet};
use crate::wave::to_wave;

/// Counters over generated cases.
#[derive(Default, Debug)]
pub struct Coverage {
    cases: BTreeMap<String, u64>,
    kinds: BTreeMap<String, u64>,
    features: BTreeMap<String, u64>,
}

impl Coverage {
    /// Counts a case.
    pub fn add(&mut self, case: &Case) {
        *self.cases.entry(case.tier.name().to_owned()).or_default() += 1;
        let mut seen = BTreeMap::new();
        for (_, sig) in &case.exports {
            for (_, t) in &sig.params {
                kinds(&case.set, t, &mut seen);
            }
            if let Some(t) = &sig.result {
                kinds(&case.set, t, &mut seen);
            }
            let (flat_params, flat_result) = sig.flat(&case.set);
            *self
                .features
                .entry(if flat_params.is_some() { "params: flat" } else { "params: spilled (>16 flat)" }.into())
                .or_default() += 1;
            if sig.result.is_some() {
                *self
                    .features
                    .entry(if flat_result.is_some() { "result: flat" } else { "result: through memory" }.into())
                    .or_default() += 1;
            }
        }
        for (k, _) in seen {
            *self.kinds.entry(k).or_default() += 1;
        }
        for word in case.note.split([' ', ',', '[', ']', ';']) {
            for enc in ["utf8", "utf16", "latin1+utf16"] {
                if word.ends_with(&format!(":{enc}")) || word == enc {
                    *self.features.entry(format!("encoding {enc}")).or_default() += 1;
                }
            }
        }
        if case.tier == Tier::Resource {
            self.add_resource(case);
            return;
        }
        self.add_reallocs(case);
        self.add_trace(case);
        // Corruptions of lift images, one per call (realloc misbehaviours are counted above).
        for fault in
            ["BadDiscriminant", "Surrogate", "CharTooBig", "InvalidString", "OutOfBounds", "Misaligned", "HugeLength"]
        {
            if case.calls.iter().any(|c| c.about.contains(fault)) {
                *self.features.entry(format!("fault {fault}")).or_default() += 1;
            }
        }
        if case.calls.iter().any(|c| c.expect == Expect::Trap) {
            *self.features.entry("expects a trap".into()).or_default() += 1;
        }
    }

    /// Realloc modes from the note (`, callee realloc AtEnd(1)`): edges of memory a correct realloc serves, and
    /// the fault tier's misbehaviours.
    fn add_reallocs(&mut self, case: &Case) {
        let mut seen = BTreeMap::new();
        for part in case.note.split(", ") {
            let Some((who, mode)) = part.split_once("realloc ") else { continue };
            let kind = mode.split('(').next().unwrap_or(mode);
            let key = if matches!(kind, "AtZero" | "AtEnd") {
                format!("realloc {kind} ({})", if who.is_empty() { case.tier.name() } else { who.trim() })
            } else {
                format!("fault realloc {kind}")
            };
            seen.insert(key, ());
        }
        for (k, _) in seen {
            *self.features.entry(k).or_default() += 1;
        }
    }

    /// The compose tier's trace cases: the encoding pairs (`trace utf8->latin1+utf16`) and the spec's string
    /// algorithms their expected traces go through.
    fn add_trace(&mut self, case: &Case) {
        let Some((_, trace)) = case.note.split_once("; trace [") else { return };
        *self.features.entry("compose: realloc trace".into()).or_default() += 1;
        let pairs = trace.split(']').next().unwrap_or_default();
        let mut seen = BTreeMap::new();
        for pair in pairs.split(", ").filter_map(|p| p.split_once(' ')) {
            seen.insert(format!("trace {}", pair.1), ());
        }
        if let Some((_, algos)) = case.note.split_once("; spec algorithms [") {
            for a in algos.split(']').next().unwrap_or_default().split_whitespace() {
                seen.insert(format!("trace algorithm {a}"), ());
            }
        }
        for (k, _) in seen {
            *self.features.entry(k).or_default() += 1;
        }
    }

    /// The resource tier's counters: its fault kinds (from the note), calls per export and outcome.
    fn add_resource(&mut self, case: &Case) {
        for fault in crate::resource::FAULTS {
            if case.note.contains(fault) {
                *self.features.entry(format!("fault {fault}")).or_default() += 1;
            }
        }
        for call in &case.calls {
            let outcome = if call.expect == Expect::Trap { "trap" } else { "ok" };
            *self.features.entry(format!("resource call {} ({outcome})", call.export)).or_default() += 1;
        }
        if case.calls.iter().any(|c| c.expect == Expect::Trap) {
            *self.features.entry("expects a trap".into()).or_default() += 1;
        }
    }

    /// The summary, one counter per line.
    pub fn report(&self) -> String {
        let mut s = String::from("cases per tier:\n");
        for (k, v) in &self.cases {
            s.push_str(&format!("  {k:<12} {v}\n"));
        }
        s.push_str("cases using each type kind:\n");
        for (k, v) in &self.kinds {
            s.push_str(&format!("  {k:<24} {v}\n"));
        }
        s.push_str("features:\n");
        for (k, v) in &self.features {
            s.push_str(&format!("  {k:<44} {v}\n"));
        }
        s
    }
}

fn kinds(set: &TypeSet, ty: &Ty, seen: &mut BTreeMap<String, ()>) {
    let mut add = |k: &str| {
        seen.insert(k.to_owned(), ());
    };
    match ty {
        Ty::List(t) => {
            add("list");
            kinds(set, t, seen);
        }
        Ty::Tuple(ts) => {
            add("tuple");
            ts.iter().for_each(|t| kinds(set, t, seen));
        }
        Ty::Option(t) => {
            add("option");
            kinds(set, t, seen);
        }
        Ty::Result(o, e) => {
            add(match (o, e) {
                (None, None) => "result",
                (Some(_), None) => "result<T>",
                (None, Some(_)) => "result<_, E>",
                (Some(_), Some(_)) => "result<T, E>",
            });
            o.iter().chain(e.iter()).for_each(|t| kinds(set, t, seen));
        }
        Ty::Named(i) => match &set.defs[*i].1 {
            Def::Record(fs) => {
                add("record");
                fs.iter().for_each(|(_, t)| kinds(set, t, seen));
            }
            Def::Variant(cs) => {
                add("variant");
                cs.iter().filter_map(|(_, t)| t.as_ref()).for_each(|t| kinds(set, t, seen));
            }
            Def::Enum(cs) => add(if cs.len() > 256 { "enum (>256 cases)" } else { "enum" }),
            Def::Flags(ls) => add(&format!(
                "flags ({} bytes)",
                if ls.len() <= 8 {
                    1
                } else if ls.len() <= 16 {
                    2
                } else {
                    4
                }
            )),
            Def::Alias(t) => {
                add("alias");
                kinds(set, t, seen);
            }
        },
        Ty::Own(_) => add("own"),
        Ty::Borrow(_) => add("borrow"),
        other => add(&set.wit(other)),
    }
}

/// The calls of a case, with arguments and expectations in WAVE.
pub fn calls_text(case: &Case) -> String {
    let mut s = String::new();
    for (i, call) in case.calls.iter().enumerate() {
        let sig = &case.exports.iter().find(|(n, _)| *n == call.export).map(|(_, s)| s.clone());
        let args: Vec<String> = match sig {
            Some(sig) => call.args.iter().zip(&sig.params).map(|(v, (_, t))| to_wave(&case.set, t, v)).collect(),
            None => call.args.iter().map(|v| format!("{v:?}")).collect(),
        };
        let expect = match (&call.expect, sig.as_ref().and_then(|s| s.result.as_ref())) {
            (Expect::Returns(Some(v)), Some(t)) => format!("returns {}", to_wave(&case.set, t, v)),
            (Expect::Returns(_), _) => "returns".into(),
            (Expect::Trap, _) => "traps".into(),
            (Expect::Agree, _) => "engines agree".into(),
        };
        s.push_str(&format!("call {i}: {}({}) {expect}\n", call.export, args.join(", ")));
    }
    s
}
