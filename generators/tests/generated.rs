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

// Resource cases and compose trace cases are held against wasmtime by the harness's `model/…` trials
// (harness/tests/model), through its engine layer.

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
