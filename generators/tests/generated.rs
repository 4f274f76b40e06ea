//! Properties of generated cases: they validate, they reproduce bit for bit, and their WIT renders.

use component_gen::{generate_case, Tier};

fn validate(bytes: &[u8]) -> Result<(), String> {
    let features = component_layer::default_features();
    wasmparser::Validator::new_with_features(features).validate_all(bytes).map(|_| ()).map_err(|e| e.to_string())
}

fn seeds() -> u64 {
    std::env::var("GEN_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000)
}

#[test]
fn every_tier_validates_and_reproduces() {
    for tier in Tier::ALL {
        let mut failures = Vec::new();
        for seed in 0..seeds() {
            let case = generate_case(seed, tier);
            if let Err(e) = validate(&case.component) {
                failures.push(format!("{tier} seed {seed}: {e}\n{}", case.wit()));
            }
            assert!(
                tier == Tier::Compose || case.calls.iter().all(|c| c.reference_deviation.is_none()),
                "{tier} seed {seed}: only trace cases know wasmtime's deviations"
            );
            if seed % 50 == 0 {
                assert_eq!(
                    case.component,
                    generate_case(seed, tier).component,
                    "{tier} seed {seed} is not reproducible"
                );
            }
        }
        assert!(failures.is_empty(), "{} invalid components, first:\n{}", failures.len(), failures[0]);
    }
}

#[test]
fn structure_cases_call_every_export_they_can() {
    let (mut fallbacks, mut calls, mut nested) = (0, 0, 0);
    let n = seeds().min(500);
    for seed in 0..n {
        let case = generate_case(seed, Tier::Structure);
        assert!(case.stub_imports, "structure seed {seed} must stub its imports");
        assert!(case.wit_source.is_some());
        fallbacks += u64::from(case.note.contains("fallback"));
        for call in &case.calls {
            assert_eq!(call.expect, component_gen::Expect::Trap, "structure seed {seed}: dummy bodies trap");
            let sig = &case.exports.iter().find(|(n, _)| *n == call.export).expect("calls name exports").1;
            assert_eq!(call.args.len(), sig.params.len());
            assert!(
                !sig.params.iter().any(|(_, t)| case.set.contains_resource(t)),
                "structure seed {seed}: no handles yet"
            );
            nested += u64::from(component_gen::case::export_path(&call.export).len() > 1);
        }
        calls += case.calls.len() as u64;
        // Every export that can be called is called at least once.
        for (name, sig) in &case.exports {
            if !sig.params.iter().any(|(_, t)| case.set.contains_resource(t)) {
                assert!(
                    case.calls.iter().any(|c| c.export == *name),
                    "structure seed {seed}: `{name}` is never called"
                );
            }
        }
    }
    assert!(fallbacks * 20 < n, "{fallbacks} of {n} structure cases fell back to the trivial world");
    assert!(calls > n && nested > 0, "structure cases make {calls} calls, {nested} into exported interfaces");
}

#[test]
fn compute_cases_answer_their_imports_with_hashes() {
    for seed in 0..seeds().min(500) {
        let case = generate_case(seed, Tier::Compute);
        assert!(!case.stub_imports);
        assert!((1..=4).contains(&case.exports.len()) && case.imports.len() <= 3);
        assert!(!case.note.contains("failed"), "compute seed {seed}: {}", case.note);
        for imp in &case.imports {
            assert_eq!(imp.behaviour, component_gen::HostBehaviour::Hash);
        }
        for call in &case.calls {
            assert_eq!(call.expect, component_gen::Expect::Agree);
        }
    }
}

/// Cases on wasmtime: a minimal host (the harness's conventions: host-resource handles cross as reps, the host
/// destructor is logged as `[dtor]h`, `reenter-host` calls back into the instance, resource results are kept by
/// call index and compared as `resource_token`s).
mod wasmtime_host {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use component_gen::{Case, HostBehaviour};
    use component_layer::{List, Value};
    use wasmtime::component::{Component, Func, Instance, Linker, ResourceAny, ResourceDynamic, ResourceType, Val};
    use wasmtime::{Engine, Store, StoreContextMut};

    type Log = Arc<Mutex<Vec<(String, Vec<Value>)>>>;

    pub struct Host {
        engine: Engine,
        component: Component,
        linker: Linker<()>,
        log: Log,
        slot: Arc<Mutex<Option<Instance>>>,
        current: Option<(Store<()>, Instance)>,
        /// Resources returned by calls of the current instance, by call index.
        held: HashMap<usize, ResourceAny>,
    }

    fn func(store: &mut StoreContextMut<'_, ()>, inst: &Instance, name: &str) -> wasmtime::Result<Func> {
        inst.get_func(&mut *store, name).ok_or_else(|| wasmtime::format_err!("no export `{name}`"))
    }

    /// A value without resources, from wasmtime's.
    pub fn value(v: &Val) -> Value {
        let boxed = |p: &Option<Box<Val>>| p.as_deref().map(|x| Box::new(value(x)));
        match v {
            Val::Bool(x) => Value::Bool(*x),
            Val::S8(x) => Value::S8(*x),
            Val::U8(x) => Value::U8(*x),
            Val::S16(x) => Value::S16(*x),
            Val::U16(x) => Value::U16(*x),
            Val::S32(x) => Value::S32(*x),
            Val::U32(x) => Value::U32(*x),
            Val::S64(x) => Value::S64(*x),
            Val::U64(x) => Value::U64(*x),
            Val::Float32(x) => Value::F32(*x),
            Val::Float64(x) => Value::F64(*x),
            Val::Char(x) => Value::Char(*x),
            Val::String(x) => Value::String(x.clone()),
            Val::List(vs) => Value::List(List::Values(vs.iter().map(value).collect())),
            Val::Record(fs) => Value::Record(fs.iter().map(|(n, x)| (Arc::from(n.as_str()), value(x))).collect()),
            Val::Tuple(vs) => Value::Tuple(vs.iter().map(value).collect()),
            Val::Variant(c, p) => Value::Variant(Arc::from(c.as_str()), boxed(p)),
            Val::Enum(c) => Value::Enum(Arc::from(c.as_str())),
            Val::Option(p) => Value::Option(boxed(p)),
            Val::Result(Ok(p)) => Value::Result(Ok(boxed(p))),
            Val::Result(Err(p)) => Value::Result(Err(boxed(p))),
            Val::Flags(fs) => Value::Flags(fs.iter().map(|f| Arc::from(f.as_str())).collect()),
            other => panic!("unexpected value {other:?}"),
        }
    }

    /// wasmtime's value of one without resources.
    pub fn val(v: &Value) -> Val {
        let boxed = |p: &Option<Box<Value>>| p.as_deref().map(|x| Box::new(val(x)));
        match v {
            Value::Bool(x) => Val::Bool(*x),
            Value::S8(x) => Val::S8(*x),
            Value::U8(x) => Val::U8(*x),
            Value::S16(x) => Val::S16(*x),
            Value::U16(x) => Val::U16(*x),
            Value::S32(x) => Val::S32(*x),
            Value::U32(x) => Val::U32(*x),
            Value::S64(x) => Val::S64(*x),
            Value::U64(x) => Val::U64(*x),
            Value::F32(x) => Val::Float32(*x),
            Value::F64(x) => Val::Float64(*x),
            Value::Char(x) => Val::Char(*x),
            Value::String(x) => Val::String(x.clone()),
            Value::List(l) => Val::List(l.iter().map(|x| val(&x)).collect()),
            Value::Record(fs) => Val::Record(fs.iter().map(|(n, x)| (n.to_string(), val(x))).collect()),
            Value::Tuple(vs) => Val::Tuple(vs.iter().map(val).collect()),
            Value::Variant(c, p) => Val::Variant(c.to_string(), boxed(p)),
            Value::Enum(c) => Val::Enum(c.to_string()),
            Value::Option(p) => Val::Option(boxed(p)),
            Value::Result(Ok(p)) => Val::Result(Ok(boxed(p))),
            Value::Result(Err(p)) => Val::Result(Err(boxed(p))),
            Value::Flags(fs) => Val::Flags(fs.iter().map(|f| f.to_string()).collect()),
            other => panic!("unexpected argument {other:?}"),
        }
    }

    impl Host {
        pub fn new(case: &Case) -> Host {
            let engine = Engine::default();
            let component = Component::new(&engine, &case.component).expect("wasmtime compiles it");
            let mut linker = Linker::new(&engine);
            let log: Log = Arc::default();
            let slot: Arc<Mutex<Option<Instance>>> = Arc::default();
            let l = log.clone();
            linker
                .root()
                .resource("h", ResourceType::host_dynamic(0), move |_, rep| {
                    l.lock().unwrap().push(("[dtor]h".into(), vec![Value::U32(rep)]));
                    Ok(())
                })
                .unwrap();
            for imp in &case.imports {
                let (imp, l, slot) = (imp.clone(), log.clone(), slot.clone());
                linker
                    .root()
                    .func_new(&imp.name.clone(), move |mut store, _, args, results| {
                        let mut plain = Vec::new();
                        for a in args {
                            plain.push(match a {
                                Val::Resource(r) => {
                                    Value::U32(ResourceDynamic::try_from_resource_any(*r, &mut store)?.rep())
                                }
                                v => value(v),
                            });
                        }
                        l.lock().unwrap().push((imp.name.clone(), plain.clone()));
                        match &imp.behaviour {
                            HostBehaviour::Reenter(export) => {
                                let inst = slot.lock().unwrap().expect("instantiated");
                                let f = func(&mut store, &inst, export)?;
                                f.call(&mut store, args, results)?;
                            }
                            HostBehaviour::EchoFirst if imp.name.starts_with("[constructor]") => {
                                let Value::U32(rep) = plain[0] else { unreachable!() };
                                results[0] =
                                    Val::Resource(ResourceDynamic::new_own(rep, 0).try_into_resource_any(&mut store)?);
                            }
                            HostBehaviour::EchoFirst => {
                                results[0] = Val::U32(if let Value::U32(x) = plain[0] { x } else { 0 })
                            }
                            _ => {}
                        }
                        Ok(())
                    })
                    .unwrap();
            }
            Host { engine, component, linker, log, slot, current: None, held: HashMap::new() }
        }

        /// Calls an export as call `k` of the script; its result (or `Err` for a trap) and the host calls it made.
        pub fn call(
            &mut self,
            k: usize,
            call: &component_gen::Call,
        ) -> (Result<Option<Value>, String>, Vec<Vec<Value>>) {
            self.log.lock().unwrap().clear();
            if self.current.is_none() {
                self.held.clear();
                let mut store = Store::new(&self.engine, ());
                let inst = self.linker.instantiate(&mut store, &self.component).expect("instantiates");
                *self.slot.lock().unwrap() = Some(inst);
                self.current = Some((store, inst));
            }
            let (store, inst) = self.current.as_mut().unwrap();
            if call.export == component_gen::case::HOST_DROP {
                let r = self.held.remove(&call.held[0].call).expect("the script drops only resources the host holds");
                let r = r.resource_drop(&mut *store).map(|()| None);
                if r.is_err() {
                    self.current = None;
                }
                let log = self.log.lock().unwrap().iter().map(|(_, a)| a.clone()).collect();
                return (r.map_err(|e| format!("{e:?}")), log);
            }
            let f = inst.get_func(&mut *store, &call.export).expect("export");
            let r = match call.export.as_str() {
                // Host borrows only go through the typed API in wasmtime 48.
                "lend-h" | "leak-h" => {
                    let Value::U32(rep) = call.args[0] else { unreachable!() };
                    let borrow = (ResourceDynamic::new_borrow(rep, 0),);
                    if call.export == "lend-h" {
                        f.typed::<(ResourceDynamic,), (u64,)>(&*store)
                            .unwrap()
                            .call(&mut *store, borrow)
                            .map(|(v,)| Some(Value::U64(v)))
                    } else {
                        f.typed::<(ResourceDynamic,), (u32,)>(&*store)
                            .unwrap()
                            .call(&mut *store, borrow)
                            .map(|(v,)| Some(Value::U32(v)))
                    }
                }
                _ => {
                    let mut args: Vec<Val> = call
                        .args
                        .iter()
                        .enumerate()
                        .map(|(i, v)| if call.held.iter().any(|h| h.arg == i) { Val::Bool(false) } else { val(v) })
                        .collect();
                    for h in &call.held {
                        // Moved to `take-r`, lent to `peek-r`.
                        let r = if call.export == "take-r" {
                            self.held.remove(&h.call)
                        } else {
                            self.held.get(&h.call).copied()
                        };
                        args[h.arg] = Val::Resource(r.expect("the script passes only resources the host holds"));
                    }
                    if call.export == "adopt-h" {
                        let Val::U32(rep) = args[0] else { unreachable!() };
                        args[0] =
                            Val::Resource(ResourceDynamic::new_own(rep, 0).try_into_resource_any(&mut *store).unwrap());
                    }
                    let mut results = vec![Val::Bool(false); f.ty(&*store).results().len()];
                    let held = &mut self.held;
                    f.call(&mut *store, &args, &mut results).map(|()| {
                        results.first().map(|v| match v {
                            Val::Resource(r) => {
                                held.insert(k, *r);
                                component_gen::case::resource_token(k)
                            }
                            v => value(v),
                        })
                    })
                }
            };
            if r.is_err() {
                self.current = None;
            }
            let log = self.log.lock().unwrap().iter().map(|(_, a)| a.clone()).collect();
            (r.map_err(|e| format!("{e:?}")), log)
        }
    }
}

#[test]
fn resource_cases_do_on_wasmtime_exactly_what_the_model_predicts() {
    use component_gen::Expect;
    let (mut calls, mut traps, mut faults) = (0, 0, std::collections::BTreeMap::<&str, u32>::new());
    // Host-held guest resources: calls of each export that carries `r` across, and held arguments passed.
    let mut held_ops = std::collections::BTreeMap::<&str, u32>::from([
        ("make-r", 0),
        ("take-r", 0),
        ("peek-r", 0),
        (component_gen::case::HOST_DROP, 0),
    ]);
    let mut held_args = 0;
    for seed in 0..seeds().min(60) {
        let case = generate_case(seed, Tier::Resource);
        validate(&case.component).unwrap_or_else(|e| panic!("resource seed {seed}: {e}"));
        assert_eq!(case.component, generate_case(seed, Tier::Resource).component);
        for f in component_gen::resource::FAULTS {
            *faults.entry(f).or_default() += u32::from(case.note.contains(f));
        }
        let mut host = wasmtime_host::Host::new(&case);
        for (i, call) in case.calls.iter().enumerate() {
            let (got, imports) = host.call(i, call);
            let at = format!("resource seed {seed} call {i} {}({:?})", call.export, call.args);
            match &call.expect {
                Expect::Returns(v) => assert_eq!(got.as_ref(), Ok(v), "{at}"),
                Expect::Trap => {
                    traps += 1;
                    assert!(got.is_err(), "{at}: expected a trap, got {got:?}");
                }
                Expect::Agree => panic!("{at}: resource calls have exact expectations"),
            }
            if let Some(expected) = &call.expect_import_args {
                assert_eq!(&imports, expected, "{at}: host calls");
            }
            calls += 1;
            if let Some(n) = held_ops.get_mut(call.export.as_str()) {
                *n += 1;
            }
            held_args += call.held.len();
        }
    }
    assert!(calls > 500 && traps > 50, "{calls} calls, {traps} traps");
    assert!(faults.values().all(|n| *n > 0), "every fault kind occurs: {faults:?}");
    assert!(held_ops.values().all(|n| *n > 10) && held_args > 20, "host-held `r`: {held_ops:?}, {held_args} passed");
}

/// The words of a `list<u32>` value.
fn words(v: &component_layer::Value) -> Vec<u32> {
    match v {
        component_layer::Value::List(l) => l
            .iter()
            .map(|w| if let component_layer::Value::U32(w) = w { w } else { panic!("{w:?} is no u32") })
            .collect(),
        other => panic!("{other:?} is no list"),
    }
}

/// A trace call's spec expectation and wasmtime 48's known deviation differ in nothing but the alignment of the
/// Latin-1 shrinks of `store_probably_utf16_to_latin1_or_utf16` in the caller's log (`[p, 2n, 1, n]` right after
/// `[0, 0, 2, 2n]`, which wasmtime makes `[p, 2n, 2, n]`), of a function from `latin1+utf16` to `latin1+utf16`.
fn check_deviation_shape(case: &component_gen::Case, call: &component_gen::Call, at: &str) {
    use component_gen::Expect;
    use component_layer::Value;
    let deviation = call.reference_deviation.as_ref().expect("a deviation");
    assert_eq!(deviation.reason, component_gen::trace::WASMTIME_48_DEVIATION, "{at}");
    let (Expect::Returns(Some(Value::Tuple(spec))), Some(Value::Tuple(wasmtime))) = (&call.expect, &deviation.returns)
    else {
        panic!("{at}: trace results are triples")
    };
    assert_eq!(spec[..2], wasmtime[..2], "{at}: the result and the callee's log are the spec's");
    let (spec, wasmtime) = (words(&spec[2]), words(&wasmtime[2]));
    assert_eq!(spec.len(), wasmtime.len(), "{at}: the caller's logs have as many entries");
    let differ: Vec<usize> = (0..spec.len()).filter(|&i| spec[i] != wasmtime[i]).collect();
    assert!(!differ.is_empty(), "{at}: a deviation that is none");
    for i in differ {
        let entry = &spec[i - 2..i + 2];
        assert!(i % 4 == 2 && spec[i] == 1 && wasmtime[i] == 2, "{at}: word {i} is no alignment 1 → 2");
        assert_eq!(entry[1], 2 * entry[3], "{at}: entry {entry:?} shrinks 2n bytes to n");
        assert_eq!(spec[i - 6..i - 2], [0, 0, 2, entry[1]], "{at}: entry {entry:?} follows a UTF-16 allocation");
    }
    let k = call.export.strip_prefix('e').expect("trace exports are e{k}");
    assert!(case.note.contains(&format!("e{k} latin1+utf16->latin1+utf16")), "{at}: {}", case.note);
}

/// Compose trace cases on wasmtime 48: a call returns exactly its spec expectation where it has no
/// `reference_deviation`, and exactly the deviation where it has one — which differs from the spec only in the
/// documented alignment. Runs every case with a deviation, and the first trace cases of each configuration.
#[test]
fn wasmtime_returns_the_spec_trace_or_exactly_the_known_deviation() {
    use component_gen::{CaseConfig, Expect};
    const CONTROLS: usize = 10;
    let fuzz = CaseConfig { calls: Some(48), ..CaseConfig::default() };
    for (name, config) in [("default", CaseConfig::default()), ("48 calls", fuzz)] {
        let (mut traces, mut deviating_seeds, mut deviating_calls, mut run) = (0, Vec::new(), 0, 0);
        for seed in 0..seeds().min(1_000) {
            let case = component_gen::generate_case_with(seed, Tier::Compose, &config);
            let deviating = case.calls.iter().filter(|c| c.reference_deviation.is_some()).count();
            if !case.note.contains("; trace [") {
                assert_eq!(deviating, 0, "{name} compose seed {seed}: forwarding cases expect no trace");
                continue;
            }
            traces += 1;
            if deviating > 0 {
                deviating_seeds.push(seed);
                deviating_calls += deviating;
            } else if traces > CONTROLS {
                continue;
            }
            run += 1;
            let mut host = wasmtime_host::Host::new(&case);
            for (i, call) in case.calls.iter().enumerate() {
                let at = format!("{name} compose seed {seed} call {i} ({})", call.export);
                let Expect::Returns(spec) = &call.expect else { panic!("{at}: trace calls expect values") };
                let want = match &call.reference_deviation {
                    Some(d) => {
                        check_deviation_shape(&case, call, &at);
                        &d.returns
                    }
                    None => spec,
                };
                let (got, imports) = host.call(i, call);
                assert_eq!(got.as_ref(), Ok(want), "{at}");
                assert_eq!(Some(&imports), call.expect_import_args.as_ref(), "{at}: host calls");
            }
        }
        assert!(
            !deviating_seeds.is_empty() && deviating_calls > deviating_seeds.len() && run > CONTROLS,
            "{name}: {deviating_calls} deviating calls in seeds {deviating_seeds:?} of {traces} trace cases"
        );
    }
}

/// Values an engine returned reach the generator's renderers (regression writer, shrinker, stand-ins): every
/// (type, value) pair must be answered — a value that is not of its type with an error — never with a panic.
mod mismatched_values {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Arc;

    use component_gen::guest::{Encoding, RAW_BASE};
    use component_gen::ty::{Def, ResourceDecl, Ty, TypeSet};
    use component_gen::{coverage, image, standalone, values, wave, Expect};
    use component_layer::{List, Value};

    /// A set with one named type of every kind (and a resource for handles).
    fn set() -> TypeSet {
        let mut set = TypeSet::default();
        set.resources.push(ResourceDecl { name: "r".into(), host: true });
        set.defs.push(("rec".into(), Def::Record(vec![("a".into(), Ty::U8), ("b".into(), Ty::String)])));
        // The shape of the divergence that made the regression writer panic: a variant whose joined slot is i64.
        set.defs.push((
            "var".into(),
            Def::Variant(vec![("a".into(), Some(Ty::F32)), ("b".into(), Some(Ty::S64)), ("c".into(), None)]),
        ));
        set.defs.push(("en".into(), Def::Enum(vec!["x".into(), "y".into()])));
        set.defs.push(("fl".into(), Def::Flags((0..17).map(|i| format!("g{i}")).collect())));
        set.defs.push(("al".into(), Def::Alias(Ty::List(Box::new(Ty::Named(0))))));
        set
    }

    /// Every type kind of the type model.
    fn types() -> Vec<Ty> {
        let mut ts = component_gen::ty::PRIMITIVES.to_vec();
        ts.extend([
            Ty::List(Box::new(Ty::U8)),
            Ty::List(Box::new(Ty::String)),
            Ty::Tuple(vec![Ty::U8, Ty::F64]),
            Ty::Option(Box::new(Ty::U32)),
            Ty::Result(None, None),
            Ty::Result(Some(Box::new(Ty::String)), None),
            Ty::Result(None, Some(Box::new(Ty::U8))),
            Ty::Result(Some(Box::new(Ty::F32)), Some(Box::new(Ty::S64))),
            Ty::Named(0),
            Ty::Named(1),
            Ty::Named(2),
            Ty::Named(3),
            Ty::Named(4),
            Ty::Own(0),
            Ty::Borrow(0),
        ]);
        ts
    }

    fn boxed(v: Value) -> Option<Box<Value>> {
        Some(Box::new(v))
    }

    /// The length of the absurdly long list.
    const HUGE: usize = 70_000;

    /// Values of every kind, right and wrong in their details.
    fn values() -> Vec<Value> {
        let s = |x: &str| Arc::<str>::from(x);
        let mut vs = vec![
            Value::Bool(true),
            Value::S8(-1),
            Value::U8(7),
            Value::S16(-2),
            Value::U16(9),
            Value::S32(-3),
            Value::U32(11),
            Value::S64(i64::MIN),
            Value::U64(u64::MAX),
            Value::F32(f32::NAN),
            Value::F64(-0.0),
            Value::Char('\u{10ffff}'),
            Value::String("aé日😀".into()),
            Value::String(String::new()),
            Value::List(List::Values(vec![Value::U8(1), Value::String("x".into())])),
            Value::List(List::U8(vec![1, 2, 3])),
            Value::List(List::F64(vec![1.5])),
            Value::List(List::S64(vec![-1])),
            Value::List(List::Values(Vec::new())),
            Value::Record(vec![(s("a"), Value::U8(1)), (s("b"), Value::String("x".into()))]),
            Value::Record(vec![(s("b"), Value::String("x".into())), (s("a"), Value::U8(1))]),
            Value::Record(vec![(s("a"), Value::U8(1))]),
            Value::Record(vec![(s("a"), Value::F64(1.0)), (s("b"), Value::U64(1))]),
            Value::Tuple(vec![Value::U8(1), Value::F64(2.0)]),
            Value::Tuple(vec![Value::U8(1)]),
            Value::Tuple(vec![Value::U64(1), Value::F32(2.0), Value::Bool(false)]),
            Value::Variant(s("a"), boxed(Value::F32(1.0))),
            Value::Variant(s("a"), boxed(Value::U64(1 << 40))),
            Value::Variant(s("b"), boxed(Value::F32(1.0))),
            Value::Variant(s("b"), boxed(Value::F64(1.0))),
            Value::Variant(s("b"), None),
            Value::Variant(s("c"), boxed(Value::U8(1))),
            Value::Variant(s("zz"), None),
            Value::Enum(s("y")),
            Value::Enum(s("nope")),
            Value::Option(None),
            Value::Option(boxed(Value::U32(1))),
            Value::Option(boxed(Value::String("x".into()))),
            Value::Result(Ok(None)),
            Value::Result(Ok(boxed(Value::U8(1)))),
            Value::Result(Err(None)),
            Value::Result(Err(boxed(Value::String("e".into())))),
            Value::Flags(vec![s("g0"), s("g16")]),
            Value::Flags(vec![s("g99")]),
            Value::Flags(Vec::new()),
        ];
        // Deep nesting, in every container.
        let deep = |wrap: &dyn Fn(Value) -> Value| (0..1_000).fold(Value::U8(0), |v, _| wrap(v));
        vs.push(deep(&|v| Value::Option(boxed(v))));
        vs.push(deep(&|v| Value::List(List::Values(vec![v]))));
        vs.push(deep(&|v| Value::Tuple(vec![v])));
        vs.push(deep(&|v| Value::Record(vec![(s("a"), v)])));
        vs.push(deep(&|v| Value::Variant(s("a"), boxed(v))));
        vs.push(deep(&|v| Value::Result(Ok(boxed(v)))));
        // Absurd lengths.
        vs.push(Value::List(List::U8(vec![0xde; 1 << 18])));
        vs.push(Value::String("😀".repeat(1 << 16)));
        vs.push(Value::List(List::Values(vec![Value::Option(None); HUGE])));
        vs
    }

    /// Calls every renderer on `(ty, v)`, and checks that a value `check` rejects is an error for the others.
    fn render(set: &TypeSet, ty: &Ty, v: &Value) {
        let matched = values::check(set, ty, v).is_ok();
        let img = image::build(set, ty, v, RAW_BASE, Encoding::Latin1Utf16);
        let wide = image::build_with(set, ty, v, u32::MAX - 16, Encoding::Utf16, &|_| true);
        let transformed = values::transform(set, ty, v);
        let wave = wave::to_wave(set, ty, v);
        let _ = wave::value_type(set, ty);
        let _ = values::hash_answer(std::slice::from_ref(v), ty);
        let _ = values::describe(v);
        assert!(wave.len() < 1 << 24 || matched, "a mismatched value renders bounded");
        if !matched {
            assert!(img.is_err() && wide.is_err() && transformed.is_err(), "{}: accepted", values::describe_kind(v));
        }
    }

    #[test]
    fn every_renderer_answers_every_type_and_value() {
        let set = set();
        set.well_formed().unwrap();
        // 70 000 elements of 4 KiB: an image beyond `image::MAX_IMAGE`.
        let big = Ty::List(Box::new(Ty::Option(Box::new(Ty::Tuple(vec![Ty::U64; 512])))));
        let deep_ty = (0..200).fold(Ty::U8, |t, _| Ty::Option(Box::new(t)));
        let deep_v = (0..200).fold(Value::U8(0), |v, _| Value::Option(boxed(v)));
        let mut failures = Vec::new();
        let mut pairs = 0;
        let all_types: Vec<Ty> = types().into_iter().chain([big.clone(), deep_ty.clone()]).collect();
        let all_values: Vec<Value> = values().into_iter().chain([deep_v.clone()]).collect();
        for ty in &all_types {
            for v in &all_values {
                pairs += 1;
                if catch_unwind(AssertUnwindSafe(|| render(&set, ty, v))).is_err() {
                    failures.push(format!("{} with {}", set.wit(ty), values::describe_kind(v)));
                }
            }
        }
        assert!(failures.is_empty(), "{} of {pairs} pairs panicked: {failures:#?}", failures.len());
        // Matched values still render: the deep option, and an image that would be too large is an error.
        assert!(image::build(&set, &deep_ty, &deep_v, 0, Encoding::Utf8).is_ok());
        let huge = Value::List(List::Values(vec![Value::Option(None); HUGE]));
        assert!(values::check(&set, &big, &huge).is_ok());
        assert!(image::build(&set, &big, &huge, 0, Encoding::Utf8).unwrap_err().contains("bytes"));
        // A hand-made set that breaks the type model's invariants is an error too.
        let mut bad = TypeSet::default();
        bad.defs.push(("loop".into(), Def::Alias(Ty::Named(0))));
        bad.defs.push(("none".into(), Def::Enum(Vec::new())));
        assert!(values::check(&bad, &Ty::Named(0), &Value::U8(0)).is_err());
        assert!(values::transform(&bad, &Ty::Named(1), &Value::Enum("x".into())).is_err());
        assert!(image::build(&set, &Ty::Named(9), &Value::U8(0), 0, Encoding::Utf8).is_err());
        assert!(!wave::to_wave(&bad, &Ty::Named(0), &Value::U8(0)).is_empty());
    }

    /// The shrinker and the regression writer on generated cases whose values an engine got wrong: host returns
    /// and arguments of the wrong shape.
    #[test]
    fn cases_with_wrong_values_render_or_refuse() {
        let wrong = values();
        for tier in [component_gen::Tier::Echo, component_gen::Tier::Compose, component_gen::Tier::Transform] {
            for seed in 0..20 {
                let case = component_gen::generate_case(seed, tier);
                for v in wrong.iter().take(48) {
                    let mut c = case.clone();
                    c.calls.truncate(1);
                    for r in &mut c.calls[0].host_returns {
                        *r = v.clone();
                    }
                    for a in &mut c.calls[0].args {
                        *a = v.clone();
                    }
                    c.calls[0].expect = Expect::Returns(Some(v.clone()));
                    let outcome = catch_unwind(AssertUnwindSafe(|| {
                        let _ = standalone::wrap_case(&c);
                        let _ = standalone::wrap(&c, &c.calls[0]);
                        let _ = coverage::calls_text(&c);
                        let _ = c.calls[0].rebased(3);
                        for (_, sig) in &c.exports {
                            for (_, t) in &sig.params {
                                let _ = values::transform(&c.set, t, v);
                            }
                        }
                    }));
                    assert!(outcome.is_ok(), "{tier} seed {seed} with {} panicked", values::describe_kind(v));
                }
            }
        }
    }
}

/// The guests' `realloc` at the edges of memory, run on wasmtime: where each mode places its blocks.
mod realloc_modes {
    use component_gen::guest::{libc, ReallocMode, HEAP_BASE, LOG, LOG_COUNT, TRACE_HEAP};
    use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

    struct Libc {
        store: Store<()>,
        memory: Memory,
        realloc: TypedFunc<(u32, u32, u32, u32), u32>,
        reset: TypedFunc<(), ()>,
        rebase: TypedFunc<(), ()>,
    }

    impl Libc {
        fn new(mode: ReallocMode) -> Libc {
            let engine = Engine::default();
            let module = Module::new(&engine, libc(mode).finish()).expect("libc compiles");
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, &module, &[]).expect("libc instantiates");
            let memory = inst.get_memory(&mut store, "memory").unwrap();
            let realloc = inst.get_typed_func(&mut store, "realloc").unwrap();
            let reset = inst.get_typed_func(&mut store, "reset").unwrap();
            let rebase = inst.get_typed_func(&mut store, "rebase").unwrap();
            Libc { store, memory, realloc, reset, rebase }
        }

        fn realloc(&mut self, old: u32, old_size: u32, align: u32, new: u32) -> Result<u32, String> {
            self.realloc.call(&mut self.store, (old, old_size, align, new)).map_err(|e| e.to_string())
        }

        fn end(&self) -> u32 {
            self.memory.data_size(&self.store) as u32
        }

        fn bytes(&self, at: u32, n: u32) -> Vec<u8> {
            self.memory.data(&self.store)[at as usize..(at + n) as usize].to_vec()
        }

        fn log(&self) -> Vec<[u32; 4]> {
            let word = |a: u32| u32::from_le_bytes(self.bytes(a, 4).try_into().unwrap());
            (0..word(LOG_COUNT)).map(|i| std::array::from_fn(|k| word(LOG + 16 * i + 4 * k as u32))).collect()
        }
    }

    #[test]
    fn good_realloc_bumps_shrinks_in_place_and_rebases() {
        let mut l = Libc::new(ReallocMode::Good);
        assert_eq!(l.realloc(0, 0, 1, 3), Ok(HEAP_BASE));
        assert_eq!(l.realloc(0, 0, 8, 8), Ok(HEAP_BASE + 8));
        assert_eq!(l.realloc(HEAP_BASE + 8, 8, 8, 4), Ok(HEAP_BASE + 8), "shrinks in place");
        assert_eq!(l.log(), [[0, 0, 1, 3], [0, 0, 8, 8], [HEAP_BASE + 8, 8, 8, 4]]);
        l.rebase.call(&mut l.store, ()).unwrap();
        assert_eq!(l.realloc(0, 0, 4, 4), Ok(TRACE_HEAP));
        l.reset.call(&mut l.store, ()).unwrap();
        assert_eq!(l.realloc(0, 0, 2, 2), Ok(HEAP_BASE));
        assert_eq!(l.log(), [[0, 0, 2, 2]]);
    }

    #[test]
    fn at_zero_serves_one_block_at_address_zero_and_resizes_it() {
        let mut l = Libc::new(ReallocMode::AtZero(1));
        assert_eq!(l.realloc(0, 0, 4, 8), Ok(HEAP_BASE));
        assert_eq!(l.realloc(0, 0, 2, 6), Ok(0), "the second call is served at 0");
        l.memory.data_mut(&mut l.store)[..6].copy_from_slice(b"abcdef");
        // The block at 0 is resized: old pointer 0 with a nonzero size is a block, not a fresh allocation.
        assert_eq!(l.realloc(0, 6, 2, 4), Ok(0), "shrinks in place");
        let grown = l.realloc(0, 4, 2, 12).unwrap();
        assert_eq!(grown, HEAP_BASE + 8);
        assert_eq!(l.bytes(grown, 4), b"abcd", "the block at 0 is copied");
        l.reset.call(&mut l.store, ()).unwrap();
        assert_eq!(l.realloc(0, 0, 1, 1), Ok(HEAP_BASE));
        assert_eq!(l.realloc(0, 0, 1, 70_000), Ok(HEAP_BASE + 1), "too large for the zero slot");
    }

    #[test]
    fn at_end_places_a_block_at_the_end_of_memory() {
        let mut l = Libc::new(ReallocMode::AtEnd(0));
        let p = l.realloc(0, 0, 4, 100).unwrap();
        assert_eq!(p + 100, l.end(), "ends exactly at the end");
        let q = l.realloc(0, 0, 1, 10).unwrap();
        assert!(q >= p + 100, "later blocks do not overlap it");
        l.reset.call(&mut l.store, ()).unwrap();
        assert_eq!(l.realloc(0, 0, 4, 0), Ok(l.end()), "an empty block starts at the end");
        l.reset.call(&mut l.store, ()).unwrap();
        let p = l.realloc(0, 0, 2, 7).unwrap();
        assert!(p.is_multiple_of(2) && l.end() - p == 8, "as close to the end as the alignment allows");
        // A block larger than what is left makes memory grow first.
        l.reset.call(&mut l.store, ()).unwrap();
        let before = l.end();
        let p = l.realloc(0, 0, 8, 3 << 20).unwrap();
        assert!(l.end() > before && p + (3 << 20) == l.end() && p >= HEAP_BASE);
    }

    #[test]
    fn past_end_returns_a_block_one_past_the_end() {
        let mut l = Libc::new(ReallocMode::PastEnd(0));
        let p = l.realloc(0, 0, 1, 10).unwrap();
        assert_eq!(p + 10, l.end() + 1);
        l.reset.call(&mut l.store, ()).unwrap();
        let p = l.realloc(0, 0, 4, 8).unwrap();
        assert!(p.is_multiple_of(4) && p + 8 > l.end() && p + 8 <= l.end() + 4);
    }
}
