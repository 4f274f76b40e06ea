//! The runtime bounds its own depth: guest calls nested inside host calls trap with
//! `Trap::CallStackExhausted` instead of overflowing the native stack, types nested beyond wasmparser's limit are
//! refused at load time, host values deeper than their type are errors, and a panic in host code reaches the
//! embedder's `catch_unwind` instead of aborting the process.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::both;
use crate::common::*;
use component_layer::types::{FuncType, ValueType, MAX_TYPE_DEPTH};
use component_layer::{
    Component, Engine, Error, ErrorKind, Func, Linker, ResourceAny, ResourceType, Store, Trap, Value,
};
use wasm_runtime_layer::backend::WasmEngine;

/// Export `f(n)` returns `n` by calling itself `n` times through a lowered copy of its own lifted export
/// (reached through a table, since the lowered function exists only after the module is instantiated). The
/// spec allows this re-entrance: the `entering_set` of a call from an instance into itself is empty. `f(n)`
/// nests `n + 1` guest calls.
const SELF_RECURSIVE: &str = r#"(component
  (core module $m
    (table (export "t") 1 funcref)
    (type $ft (func (param i32) (result i32)))
    (func (export "f") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (i32.const 1)
          (call_indirect (type $ft) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))))
  (core instance $i (instantiate $m))
  (func $f (param "n" u32) (result u32) (canon lift (core func $i "f")))
  (core func $f-lowered (canon lower (func $f)))
  (alias core export $i "t" (core table $t))
  (core module $patch
    (import "i" "t" (table 1 funcref))
    (import "i" "f" (func $f (param i32) (result i32)))
    (elem (i32.const 0) func $f))
  (core instance $targets (export "t" (table $t)) (export "f" (func $f-lowered)))
  (core instance (instantiate $patch (with "i" (instance $targets))))
  (export "f" (func $f)))"#;

/// Export `f(n)` calls import `again(n + 1)` and returns its result.
const CALLS_HOST: &str = r#"(component
  (import "again" (func $again (param "n" u32) (result u32)))
  (core func $again (canon lower (func $again)))
  (core module $m
    (import "host" "again" (func $again (param i32) (result i32)))
    (func (export "f") (param i32) (result i32) (call $again (i32.add (local.get 0) (i32.const 1)))))
  (core instance $host (export "again" (func $again)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func (export "f") (param "n" u32) (result u32) (canon lift (core func $i "f"))))"#;

fn call_u32<E: WasmEngine>(store: &mut Store<(), E>, f: &Func, n: u32) -> Result<u32, Error> {
    let mut out = [Value::Bool(false)];
    f.call(store, &[Value::U32(n)], &mut out)?;
    match out[0] {
        Value::U32(x) => Ok(x),
        ref other => panic!("expected u32, got {other:?}"),
    }
}

fn exhausted(e: &Error) -> bool {
    e.as_trap() == Some(&Trap::CallStackExhausted)
}

/// A component re-entering its own export through a lowered import nests exactly as deep as the store allows,
/// on both backends: `f(19)` (20 guest calls) succeeds and `f(20)` traps when the bound is 20. (The bound is
/// small enough for wasmtime's own stack limit not to be met first even at opt-level 0.)
#[test]
fn reentering_own_export_stops_at_the_depth_bound() {
    both!(|engine| {
        let c = component(&engine, SELF_RECURSIVE);
        let mut s = store(&engine);
        s.set_max_call_depth(20);
        let f = linker().instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        assert_eq!(call_u32(&mut s, &f, 19).unwrap(), 19);
        let e = call_u32(&mut s, &f, 20).unwrap_err();
        assert!(exhausted(&e), "expected call stack exhausted, got {e}");
        assert_eq!(e.as_trap().unwrap().to_string(), "call stack exhausted");
        assert!(s.is_poisoned());
    });
}

/// Endless re-entrance with the default bound traps without overflowing the stack (this test runs on a thread
/// with Rust's default 2 MiB stack). On wasmi, which does not bound the native stack a host call takes, the
/// runtime's bound is what stops it; wasmtime's own stack limit may stop it first, with the same message.
#[test]
fn endless_reentrance_traps_with_the_default_bound() {
    both!(|engine| {
        let c = component(&engine, SELF_RECURSIVE);
        let mut s = store(&engine);
        let f = linker().instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        let e = call_u32(&mut s, &f, u32::MAX).unwrap_err();
        assert!(e.to_string().contains("call stack exhausted"), "{e}");
        if engine_name(&engine) == "wasmi" {
            assert!(exhausted(&e), "{e}");
        }
        assert!(s.is_poisoned());
    });
}

/// With the depth bound out of the way, the stack check stops endless re-entrance before the native stack
/// overflows: on a thread of Rust's default size, and on a thread of 1 MiB.
#[test]
fn the_stack_check_stops_what_the_depth_bound_allows() {
    fn run<E: WasmEngine>(engine: &Engine<E>) {
        let c = component(engine, SELF_RECURSIVE);
        let mut s = store(engine);
        s.set_max_call_depth(u32::MAX);
        let f = linker().instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        let e = call_u32(&mut s, &f, u32::MAX).unwrap_err();
        assert!(e.to_string().contains("call stack exhausted"), "{e}");
    }
    both!(|engine| {
        run(&engine);
        let small = std::thread::Builder::new().stack_size(1 << 20);
        small.spawn(move || run(&engine)).unwrap().join().unwrap();
    });
}

/// On wasmi nothing but the stack check stops it: the trap is the runtime's.
#[test]
fn the_stack_check_traps_on_wasmi() {
    let engine = Engine::new(wasmi_runtime_layer::Engine::default());
    let c = component(&engine, SELF_RECURSIVE);
    let mut s = store(&engine);
    s.set_max_call_depth(u32::MAX);
    let f = linker().instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
    let e = call_u32(&mut s, &f, u32::MAX).unwrap_err();
    assert!(exhausted(&e), "{e}");
}

fn engine_name<E: WasmEngine>(_: &Engine<E>) -> &'static str {
    if std::any::type_name::<E>().contains("wasmi") {
        "wasmi"
    } else {
        "wasmtime"
    }
}

/// Store data for a host function that calls back into a fresh instance of the component that called it.
struct Again<E: WasmEngine> {
    again: Option<(Linker<Again<E>, E>, Component)>,
    calls: u32,
}

impl<E: WasmEngine> Again<E> {
    fn linker(_: &Engine<E>) -> Linker<Again<E>, E> {
        Linker::new()
    }
}

/// A host function answering a component's import calls the component's export again, endlessly (a new
/// instance each time: the instance that is calling may not be entered again, `may_enter`). Each level is a
/// host call with a typed call nested in it; the bound stops it after exactly `max` guest calls.
#[test]
fn host_calling_back_into_guests_stops_at_the_depth_bound() {
    both!(|engine| {
        let c = component(&engine, CALLS_HOST);
        let mut s: Store<Again<_>, _> = Store::new(&engine, Again { again: None, calls: 0 });
        s.set_max_call_depth(20);
        let mut l = Again::linker(&engine);
        l.root()
            .func_wrap("again", |mut ctx, (n,): (u32,)| {
                ctx.data_mut().calls += 1;
                let (l, c) = ctx.data().again.clone().expect("set before the call");
                let f = l.instantiate(&mut ctx, &c)?.get_func("f").expect("export f");
                let (r,) = f.typed::<(u32,), (u32,)>()?.call(&mut ctx, (n,))?;
                Ok((r,))
            })
            .unwrap();
        s.data_mut().again = Some((l.clone(), c.clone()));
        let f = l.instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        let mut out = [Value::Bool(false)];
        let e = f.call(&mut s, &[Value::U32(0)], &mut out).unwrap_err();
        assert!(exhausted(&e), "expected call stack exhausted, got {e}");
        assert_eq!(s.data().calls, 20, "one host call per guest call in progress");
        assert!(s.is_poisoned());
    });
}

/// A guest resource whose destructor drops the handle its rep names: `chain(n)` makes `n` resources, each
/// holding the previous one's handle, so dropping the last runs `n` destructors nested in each other.
const RESOURCE_CHAIN: &str = r#"(component
  (core module $state
    (table (export "t") 1 funcref)
    (type $drop (func (param i32)))
    (func (export "dtor") (param i32)
      (if (local.get 0) (then (call_indirect (type $drop) (local.get 0) (i32.const 0))))))
  (core instance $s (instantiate $state))
  (type $r (resource (rep i32) (dtor (func $s "dtor"))))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (alias core export $s "t" (core table $t))
  (core module $patch
    (import "i" "t" (table 1 funcref))
    (import "i" "drop" (func $drop (param i32)))
    (elem (i32.const 0) func $drop))
  (core instance (instantiate $patch (with "i" (instance (export "t" (table $t)) (export "drop" (func $drop))))))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (func (export "chain") (param $n i32) (result i32) (local $h i32)
      (loop $more
        (local.set $h (call $new (local.get $h)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $more (local.get $n)))
      (local.get $h)))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
  (export $re "r" (type $r))
  (func (export "chain") (param "n" u32) (result (own $re)) (canon lift (core func $i "chain"))))"#;

/// Destructors that drop further resources nest too: a chain as long as the bound is dropped, one longer traps.
#[test]
fn nested_destructors_count_as_nested_calls() {
    both!(|engine| {
        let c = component(&engine, RESOURCE_CHAIN);
        for (n, ok) in [(20, true), (21, false)] {
            let mut s = store(&engine);
            s.set_max_call_depth(20);
            let inst = linker().instantiate(&mut s, &c).unwrap();
            let mut out = [Value::Bool(false)];
            inst.get_func("chain").unwrap().call(&mut s, &[Value::U32(n)], &mut out).unwrap();
            let Value::Resource(r) = out[0].clone() else { panic!("expected a resource, got {:?}", out[0]) };
            match r.resource_drop(&mut s) {
                Ok(()) => assert!(ok, "a chain of {n} should not fit in 20 nested calls"),
                Err(e) => assert!(!ok && exhausted(&e), "chain of {n}: {e}"),
            }
        }
    });
}

/// A `realloc` the runtime calls while a host function's result is lowered into the calling component is a
/// guest call nested in that host call.
#[test]
fn realloc_inside_a_host_call_is_a_nested_call() {
    let pre = r#"
        (import "name" (func $name (result string)))
        (core func $name (canon lower (func $name) (memory $mem) (realloc $realloc)))
        (core instance $host (export "name" (func $name)))"#;
    let core_imports = r#"(import "host" "name" (func $name (param i32)))"#;
    let core = r#"(func (export "len") (result i32) (call $name (i32.const 0x40)) (i32.load (i32.const 0x44)))"#;
    let items = r#"(func (export "len") (result u32) (canon lift (core func $i "len")))"#;
    let wat = guest_with_imports(pre, core_imports, core, items);
    both!(|engine| {
        let c = component(&engine, &wat);
        for (max, ok) in [(2, true), (1, false)] {
            let mut l = linker();
            l.root().func_wrap("name", |_, ()| Ok(("hello".to_string(),))).unwrap();
            let mut g = Guest::with_linker(&engine, &c, &l);
            g.store.set_max_call_depth(max);
            match g.try_call("len", &[]) {
                Ok(v) => assert!(ok && v == Some(Value::U32(5)), "bound {max}: {v:?}"),
                Err(e) => assert!(!ok && exhausted(&e), "bound {max}: {e}"),
            }
        }
    });
}

/// `n` value types, each nesting the previous one (a record, an option, a list in turn, `u32` innermost),
/// each exported so that functions may use it; returns the definitions and the outermost type's name.
fn type_chain(n: usize) -> (String, String) {
    let mut types = String::new();
    let mut prev = "u32".to_string();
    for i in 0..n {
        let def = match i % 3 {
            0 => format!(r#"(record (field "x" {prev}))"#),
            1 => format!("(option {prev})"),
            _ => format!("(list {prev})"),
        };
        types.push_str(&format!("(type $t{i} {def}) (export $e{i} \"t{i}\" (type $t{i}))\n"));
        prev = format!("$e{i}");
    }
    (types, prev)
}

/// A guest whose export `id` returns its argument, of the outermost type of `type_chain(n)` (a list when
/// `n` ≡ 2 mod 3: `ret2` returns the `(ptr, len)` pair it is given).
fn deep_guest(n: usize) -> String {
    let (types, top) = type_chain(n);
    let id = format!(
        r#"(func (export "id") (param "x" {top}) (result {top})
             (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))"#
    );
    guest("", &format!("{types}\n{id}"))
}

/// A value of the outermost type of `type_chain(n)` (with `leaf` innermost), built without recursion. Its
/// outer levels follow those of `type_chain(m)` when `n` ≡ `m` mod 3.
fn deep_value(n: usize, leaf: u32) -> Value {
    let mut v = Value::U32(leaf);
    for i in 0..n {
        v = match i % 3 {
            0 => Value::Record(vec![("x".into(), v)]),
            1 => Value::Option(Some(Box::new(v))),
            _ => Value::List(vec![v].into()),
        };
    }
    v
}

/// Takes a value apart without recursion: the compiler's drop of a value nested 100 000 deep would overflow the
/// test thread's stack.
fn dismantle(v: Value) {
    let mut pending = vec![v];
    while let Some(v) = pending.pop() {
        match v {
            Value::List(l) => pending.extend(l.into_values()),
            Value::Tuple(vs) => pending.extend(vs),
            Value::Record(fs) => pending.extend(fs.into_iter().map(|(_, v)| v)),
            Value::Option(Some(p)) | Value::Variant(_, Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
                pending.push(*p)
            }
            _ => {}
        }
    }
}

/// The deepest value type wasmparser accepts (99 compound levels around a `u32`, 100 in all) loads, and values
/// of it cross the canonical ABI both ways on both backends; its type and value print in full.
#[test]
fn the_deepest_valid_type_round_trips() {
    let wat = deep_guest(MAX_TYPE_DEPTH - 1);
    both!(|engine| {
        let c = component(&engine, &wat);
        let mut g = Guest::new(&engine, &c);
        let v = deep_value(MAX_TYPE_DEPTH - 1, 7);
        assert_eq!(g.call("id", std::slice::from_ref(&v)), v);
        let ty = g.inst.get_func("id").unwrap().ty();
        assert!(!ty.to_string().contains('…') && !format!("{ty:?}").contains('…'), "{ty}");
        assert!(!format!("{v:?}").contains('…'));
    });
}

/// One level more is refused when the component is loaded, with wasmparser's error — the one wasmtime gives.
#[test]
fn deeper_types_are_refused_at_load_time() {
    for n in [MAX_TYPE_DEPTH, 5000] {
        let bytes = wat::parse_str(deep_guest(n)).unwrap();
        let reference = wasmtime::component::Component::new(&wasmtime::Engine::default(), &bytes).map(|_| ());
        let reference = format!("{:#}", reference.expect_err("wasmtime refuses it"));
        assert!(reference.contains("type nesting is too deep"), "{reference}");
        both!(|engine| {
            let e = Component::new(&engine, &bytes).expect_err("too deep");
            match e.kind() {
                ErrorKind::Invalid { message, .. } => assert_eq!(message, "type nesting is too deep"),
                other => panic!("expected an invalid component, got {other:?}"),
            }
        });
    }
}

/// Instance types nested through outer aliases are not checked against wasmparser's depth limit, and beyond
/// 127 levels wasmparser 0.254 panics (so does `wasmtime::component::Component::new`); the runtime reports an
/// invalid component. (The validator's panic message appears on stderr.)
#[test]
fn instance_types_nested_too_deep_are_refused() {
    let mut wat = String::from(r#"(component (type (instance (export "f" (func))))"#);
    for i in 1..1000 {
        wat.push_str(&format!(
            r#"(type (instance (alias outer 1 {} (type)) (export "a" (instance (type 0)))))"#,
            i - 1
        ));
    }
    wat.push_str(r#"(import "a" (instance (type 999))))"#);
    let bytes = wat::parse_str(&wat).unwrap();
    both!(|engine| {
        let e = Component::new(&engine, &bytes).expect_err("too deep");
        match e.kind() {
            ErrorKind::Invalid { message, .. } => assert!(message.contains("type nesting is too deep"), "{message}"),
            other => panic!("expected an invalid component, got {other:?}"),
        }
    });
}

/// A host value nested far deeper than its type is a type-mismatch error where it outgrows the type, not a
/// stack overflow — passed as an argument (matching the type for all its 99 levels), or returned by a host
/// function (which the runtime then drops without recursion).
#[test]
fn host_values_deeper_than_their_type_are_errors() {
    let wat = deep_guest(MAX_TYPE_DEPTH - 1);
    both!(|engine| {
        let c = component(&engine, &wat);
        let mut g = Guest::new(&engine, &c);
        let deep = deep_value(99_999, 7);
        let e = g.try_call("id", std::slice::from_ref(&deep)).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(m) if m.contains("type mismatch")), "{e}");
        dismantle(deep);
    });
    let pre = r#"
        (import "deep" (func $deep (result (list u32))))
        (core func $deep (canon lower (func $deep) (memory $mem) (realloc $realloc)))
        (core instance $host (export "deep" (func $deep)))"#;
    let core_imports = r#"(import "host" "deep" (func $deep (param i32)))"#;
    let core = r#"(func (export "run") (call $deep (i32.const 0x40)))"#;
    let items = r#"(func (export "run") (canon lift (core func $i "run")))"#;
    let wat = guest_with_imports(pre, core_imports, core, items);
    both!(|engine| {
        let c = component(&engine, &wat);
        let mut l = linker();
        l.root()
            .func_new("deep", |_, _, results| {
                results[0] = Value::List(vec![deep_value(100_000, 7)].into());
                Ok(())
            })
            .unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        let e = g.try_call("run", &[]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(m) if m.contains("type mismatch")), "{e}");
    });
}

/// Formatting and comparing values and types of any depth is bounded: what lies deeper than any component
/// type prints as `…`, and equality compares without recursion.
#[test]
fn deep_values_and_types_format_and_compare() {
    let deep = deep_value(100_000, 7);
    let debug = format!("{deep:?}");
    assert!(debug.contains('…') && debug.len() < 10_000, "{} bytes", debug.len());
    let (same, other) = (deep_value(100_000, 7), deep_value(100_000, 8));
    assert!(deep == same);
    assert!(deep != other);
    for v in [deep, same, other] {
        dismantle(v);
    }

    let mut ty = ValueType::U32;
    for _ in 0..100_000 {
        ty = ValueType::Option(Arc::new(ty));
    }
    let f = FuncType::new([("x", ty)], None);
    let (shown, debug) = (f.to_string(), format!("{f:?}"));
    assert!(shown.contains('…') && shown.len() < 10_000, "{} bytes", shown.len());
    assert!(debug.contains('…') && debug.len() < 10_000, "{} bytes", debug.len());
    // Dropping the type is the compiler's recursion: take it apart from the outside in.
    let mut ty = f.params()[0].1.clone();
    drop(f);
    while let ValueType::Option(inner) = ty {
        ty = Arc::try_unwrap(inner).unwrap_or_else(|shared| (*shared).clone());
    }
}

/// A panic payload only these tests raise.
#[derive(Debug, PartialEq)]
struct Boom(u32);

fn payload(p: Box<dyn std::any::Any + Send>) -> Boom {
    match p.downcast::<Boom>() {
        Ok(b) => *b,
        Err(p) => panic!("not the original payload: {:?}", p.downcast_ref::<&str>()),
    }
}

/// A panic in a host function called by a guest unwinds the guest as a trap, poisons the store, and is resumed
/// with its original payload where the embedder called in — by `Func::call` and by `TypedFunc::call`. On wasmi
/// it used to abort the process: the interpreter's handlers are `extern "sysv64"` and cannot unwind.
#[test]
fn host_function_panics_reach_the_caller() {
    both!(|engine| {
        let c = component(&engine, CALLS_HOST);
        let mut l = linker();
        l.root()
            .func_wrap("again", |_, (n,): (u32,)| -> anyhow::Result<(u32,)> { std::panic::panic_any(Boom(n)) })
            .unwrap();
        for typed in [false, true] {
            let mut s = store(&engine);
            let f = l.instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
            let caught = catch_unwind(AssertUnwindSafe(|| match typed {
                false => call_u32(&mut s, &f, 41).map(drop),
                true => f.typed::<(u32,), (u32,)>().unwrap().call(&mut s, (41,)).map(drop),
            }));
            assert_eq!(payload(caught.expect_err("the panic is resumed")), Boom(42));
            assert!(s.is_poisoned());
            assert_eq!(call_u32(&mut s, &f, 1).unwrap_err().as_trap(), Some(&Trap::Poisoned));
        }
    });
}

/// A panic two host calls deep unwinds the outer host function (its locals are dropped) and reaches the
/// outermost caller with its payload.
#[test]
fn host_panics_unwind_through_outer_host_functions() {
    struct Dropped(Arc<AtomicU32>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    both!(|engine| {
        let c = component(&engine, CALLS_HOST);
        let drops = Arc::new(AtomicU32::new(0));
        let mut s: Store<Again<_>, _> = Store::new(&engine, Again { again: None, calls: 0 });
        let mut l = Again::linker(&engine);
        let d = drops.clone();
        l.root()
            .func_wrap("again", move |mut ctx, (n,): (u32,)| -> anyhow::Result<(u32,)> {
                let _guard = Dropped(d.clone());
                if n == 3 {
                    std::panic::panic_any(Boom(n));
                }
                let (l, c) = ctx.data().again.clone().expect("set before the call");
                let f = l.instantiate(&mut ctx, &c)?.get_func("f").expect("export f");
                let mut out = [Value::Bool(false)];
                f.call(&mut ctx, &[Value::U32(n)], &mut out)?;
                unreachable!("the nested call resumes the panic")
            })
            .unwrap();
        s.data_mut().again = Some((l.clone(), c.clone()));
        let f = l.instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        let caught = catch_unwind(AssertUnwindSafe(|| f.call(&mut s, &[Value::U32(0)], &mut [Value::Bool(false)])));
        assert_eq!(payload(caught.expect_err("the panic is resumed")), Boom(3));
        assert_eq!(drops.load(Ordering::SeqCst), 3, "every host function on the way unwound");
        assert!(s.is_poisoned());
    });
}

/// A panic in a host resource destructor, run because a guest dropped its handle, reaches the caller too.
#[test]
fn host_destructor_panics_reach_the_caller() {
    let wat = r#"(component
        (import "r" (type $r (sub resource)))
        (core func $drop (canon resource.drop $r))
        (core module $m
            (import "" "drop" (func $drop (param i32)))
            (func (export "consume") (param i32) (call $drop (local.get 0))))
        (core instance $i (instantiate $m (with "" (instance (export "drop" (func $drop))))))
        (func (export "consume") (param "x" (own $r)) (canon lift (core func $i "consume"))))"#;
    both!(|engine| {
        let c = component(&engine, wat);
        let ty = ResourceType::host_dynamic(7);
        let mut l = linker();
        l.root().resource("r", ty.clone(), |_, rep| std::panic::panic_any(Boom(rep))).unwrap();
        let mut s = store(&engine);
        let f = l.instantiate(&mut s, &c).unwrap().get_func("consume").unwrap();
        let r = ResourceAny::new_own(&mut s, ty, 5).unwrap();
        let caught = catch_unwind(AssertUnwindSafe(|| f.call(&mut s, &[Value::Resource(r)], &mut [])));
        assert_eq!(payload(caught.expect_err("the panic is resumed")), Boom(5));
        assert!(s.is_poisoned());
    });
}

/// A panic in a host function that a start function calls reaches the caller of instantiation.
#[test]
fn host_panics_during_instantiation_reach_the_caller() {
    let wat = r#"(component
        (import "init" (func $init))
        (core func $init (canon lower (func $init)))
        (core module $m
            (import "" "init" (func $init))
            (start $init))
        (core instance (instantiate $m (with "" (instance (export "init" (func $init)))))))"#;
    both!(|engine| {
        let c = component(&engine, wat);
        let mut l = linker();
        l.root().func_wrap("init", |_, ()| -> anyhow::Result<()> { std::panic::panic_any(Boom(1)) }).unwrap();
        let mut s = store(&engine);
        let caught = catch_unwind(AssertUnwindSafe(|| l.instantiate(&mut s, &c).map(drop)));
        assert_eq!(payload(caught.expect_err("the panic is resumed")), Boom(1));
        assert!(s.is_poisoned());
    });
}

/// A host function may catch a panic of a nested call itself; the store stays poisoned.
#[test]
fn a_caught_nested_panic_leaves_the_store_poisoned() {
    both!(|engine| {
        let c = component(&engine, CALLS_HOST);
        let seen: Arc<Mutex<Option<Boom>>> = Arc::default();
        let mut s: Store<Again<_>, _> = Store::new(&engine, Again { again: None, calls: 0 });
        let mut l = Again::linker(&engine);
        let seen2 = seen.clone();
        l.root()
            .func_wrap("again", move |mut ctx, (n,): (u32,)| {
                if n == 2 {
                    std::panic::panic_any(Boom(n));
                }
                let (l, c) = ctx.data().again.clone().expect("set before the call");
                let f = l.instantiate(&mut ctx, &c)?.get_func("f").expect("export f");
                let nested =
                    catch_unwind(AssertUnwindSafe(|| f.call(&mut ctx, &[Value::U32(n)], &mut [Value::Bool(false)])));
                *seen2.lock().unwrap() = nested.err().map(payload);
                Ok((0u32,))
            })
            .unwrap();
        s.data_mut().again = Some((l.clone(), c.clone()));
        let f = l.instantiate(&mut s, &c).unwrap().get_func("f").unwrap();
        let mut out = [Value::Bool(false)];
        f.call(&mut s, &[Value::U32(0)], &mut out).unwrap();
        assert_eq!(seen.lock().unwrap().take(), Some(Boom(2)));
        assert!(s.is_poisoned());
    });
}
