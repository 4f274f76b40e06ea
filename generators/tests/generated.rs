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

/// Resource-tier cases on wasmtime: a minimal host (the harness's conventions: host-resource handles cross as
/// reps, the host destructor is logged as `[dtor]h`, `reenter-host` calls back into the instance, resource
/// results are kept by call index and compared as `resource_token`s).
mod resource_host {
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

    pub fn value(v: &Val) -> Value {
        match v {
            Val::U32(x) => Value::U32(*x),
            Val::U64(x) => Value::U64(*x),
            Val::List(vs) => {
                Value::List(List::U32(vs.iter().map(|v| if let Val::U32(x) = v { *x } else { 0 }).collect()))
            }
            other => panic!("unexpected value {other:?}"),
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
            let arg = |v: &Value| match v {
                Value::U32(x) => Val::U32(*x),
                Value::List(l) => {
                    Val::List(l.iter().map(|v| if let Value::U8(b) = v { Val::U8(b) } else { Val::U8(0) }).collect())
                }
                other => panic!("unexpected argument {other:?}"),
            };
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
                        .map(|(i, v)| if call.held.iter().any(|h| h.arg == i) { Val::Bool(false) } else { arg(v) })
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
        let mut host = resource_host::Host::new(&case);
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
