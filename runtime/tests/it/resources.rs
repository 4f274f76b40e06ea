//! Resources: guest- and host-defined types, own and borrow, handle tables, borrow scopes, destructors, and the
//! instance rules around them (reentrance, `may_leave`).

use std::sync::{Arc, Mutex};

use crate::both;
use crate::common::*;
use component_layer::{ErrorKind, Resource, Trap, Value};

/// A component defining resource `r` (rep `i32`), whose destructor counts drops and remembers the last rep.
pub(crate) const GUEST_RESOURCE: &str = r#"(component
    (core module $state
        (global $drops (mut i32) (i32.const 0))
        (global $last (mut i32) (i32.const 0))
        (func (export "dtor") (param i32)
            (global.set $drops (i32.add (global.get $drops) (i32.const 1)))
            (global.set $last (local.get 0)))
        (func (export "drops") (result i32) (global.get $drops))
        (func (export "last") (result i32) (global.get $last)))
    (core instance $s (instantiate $state))
    (type $r (resource (rep i32) (dtor (func $s "dtor"))))
    (core func $new (canon resource.new $r))
    (core func $rep (canon resource.rep $r))
    (core func $drop (canon resource.drop $r))
    (core module $m
        (import "" "new" (func $new (param i32) (result i32)))
        (import "" "rep" (func $rep (param i32) (result i32)))
        (import "" "drop" (func $drop (param i32)))
        (func (export "ctor") (param i32) (result i32) (call $new (local.get 0)))
        (func (export "rep-of") (param i32) (result i32) (local.get 0))
        (func (export "consume") (param i32) (call $drop (local.get 0)))
        (func (export "use-after-drop") (param i32) (result i32)
            (call $drop (local.get 0))
            (call $rep (local.get 0)))
        (func (export "handles") (result i64)
            (local $a i32) (local $b i32) (local $c i32)
            (local.set $a (call $new (i32.const 1)))
            (local.set $b (call $new (i32.const 2)))
            (call $drop (local.get $a))
            (local.set $c (call $new (i32.const 3)))
            (call $drop (local.get $b))
            (call $drop (local.get $c))
            ;; pack a | b << 8 | c << 16
            (i64.extend_i32_u (i32.or (local.get $a) (i32.or (i32.shl (local.get $b) (i32.const 8)) (i32.shl (local.get $c) (i32.const 16)))))))
    (core instance $i (instantiate $m
        (with "" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (export $re "r" (type $r))
    (func (export "[constructor]r") (param "rep" u32) (result (own $re)) (canon lift (core func $i "ctor")))
    (func (export "[method]r.rep") (param "self" (borrow $re)) (result u32) (canon lift (core func $i "rep-of")))
    (func (export "consume") (param "x" (own $re)) (canon lift (core func $i "consume")))
    (func (export "use-after-drop") (param "x" (own $re)) (result u32) (canon lift (core func $i "use-after-drop")))
    (func (export "handles") (result u64) (canon lift (core func $i "handles")))
    (func (export "drops") (result u32) (canon lift (core func $s "drops")))
    (func (export "last") (result u32) (canon lift (core func $s "last")))
)"#;

fn call1<E: wasm_runtime_layer::backend::WasmEngine>(
    store: &mut component_layer::Store<(), E>,
    inst: &component_layer::Instance,
    name: &str,
    args: &[Value],
) -> component_layer::Result<Value> {
    let f = inst.get_func(name).unwrap_or_else(|| panic!("export {name}"));
    let mut out = vec![Value::Bool(false); usize::from(f.ty().result().is_some())];
    f.call(store, args, &mut out)?;
    Ok(out.pop().unwrap_or(Value::Tuple(Vec::new())))
}

/// Guest resources held by the host: create through the guest's constructor, lend as a borrow (which the
/// defining component receives as the rep), drop from the host (the guest destructor runs), and a handle
/// cannot be used after it is dropped.
#[test]
fn guest_resources_held_by_the_host() {
    both!(|engine| {
        let c = component(&engine, GUEST_RESOURCE);
        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        let Value::Resource(r) = call1(&mut s, &inst, "[constructor]r", &[Value::U32(42)]).unwrap() else {
            panic!("expected a resource")
        };
        assert!(r.owned());
        assert_eq!(Some(r.ty().clone()), inst.get_resource("r"));
        assert_eq!(call1(&mut s, &inst, "[method]r.rep", &[Value::Resource(r.clone())]).unwrap(), Value::U32(42));
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap(), Value::U32(0));
        r.clone().resource_drop(&mut s).unwrap();
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap(), Value::U32(1));
        assert_eq!(call1(&mut s, &inst, "last", &[]).unwrap(), Value::U32(42));
        // The handle is gone: using it again fails, and dropping it again fails.
        let err = call1(&mut s, &inst, "[method]r.rep", &[Value::Resource(r.clone())]).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::ResourceGone));
        assert!(r.resource_drop(&mut s).is_err());
    });
}

/// An owned handle passed back to its defining component moves into it; the guest's `resource.drop` runs the
/// destructor; using a dropped handle in the guest traps; handles are numbered from 1 and reused LIFO.
#[test]
fn guest_resources_move_and_drop() {
    both!(|engine| {
        let c = component(&engine, GUEST_RESOURCE);
        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        let r = call1(&mut s, &inst, "[constructor]r", &[Value::U32(7)]).unwrap();
        call1(&mut s, &inst, "consume", std::slice::from_ref(&r)).unwrap();
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap(), Value::U32(1));
        assert_eq!(call1(&mut s, &inst, "last", &[]).unwrap(), Value::U32(7));
        // Moved out of the host: passing it again fails.
        assert!(call1(&mut s, &inst, "consume", &[r]).is_err());

        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        // new → 1, new → 2, drop 1, new → 1 (most recently freed first).
        assert_eq!(call1(&mut s, &inst, "handles", &[]).unwrap(), Value::U64(1 | 2 << 8 | 1 << 16));
        let r = call1(&mut s, &inst, "[constructor]r", &[Value::U32(9)]).unwrap();
        let err = call1(&mut s, &inst, "use-after-drop", &[r]).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::UnknownHandle));
        // The trap poisoned the store.
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap_err().as_trap(), Some(&Trap::Poisoned));
    });
}

/// A component using a host resource implemented with typed state in the store.
const HOST_RESOURCE: &str = r#"(component
    (import "counter" (type $h (sub resource)))
    (import "make" (func $make (param "v" u32) (result (own $h))))
    (import "peek" (func $peek (param "x" (borrow $h)) (result u32)))
    (core func $make (canon lower (func $make)))
    (core func $peek (canon lower (func $peek)))
    (core func $drop (canon resource.drop $h))
    (core module $m
        (import "" "make" (func $make (param i32) (result i32)))
        (import "" "peek" (func $peek (param i32) (result i32)))
        (import "" "drop" (func $drop (param i32)))
        (func (export "roundtrip") (param i32) (result i32) (local $r i32)
            (local.set $r (call $peek (local.get 0)))
            (call $drop (local.get 0))
            (local.get $r))
        (func (export "make-and-return") (param i32) (result i32) (call $make (local.get 0)))
        (func (export "leak") (param i32))
        (func (export "borrow-ok") (param i32) (call $drop (local.get 0)))
        (func (export "drop-twice") (param i32) (call $drop (local.get 0)) (call $drop (local.get 0))))
    (core instance $i (instantiate $m
        (with "" (instance (export "make" (func $make)) (export "peek" (func $peek)) (export "drop" (func $drop))))))
    (func (export "roundtrip") (param "x" (own $h)) (result u32) (canon lift (core func $i "roundtrip")))
    (func (export "make-and-return") (param "v" u32) (result (own $h)) (canon lift (core func $i "make-and-return")))
    (func (export "leak") (param "x" (borrow $h)) (canon lift (core func $i "leak")))
    (func (export "borrow-ok") (param "x" (borrow $h)) (canon lift (core func $i "borrow-ok")))
    (func (export "drop-twice") (param "x" (own $h)) (canon lift (core func $i "drop-twice")))
)"#;

struct Counter(u32);

fn host_linker<E: wasm_runtime_layer::backend::WasmEngine>(
    drops: Arc<Mutex<Vec<u32>>>,
) -> component_layer::Linker<(), E> {
    let mut l = linker::<E>();
    l.root()
        .resource_typed::<Counter>("counter", move |_, c| {
            drops.lock().unwrap().push(c.0);
            Ok(())
        })
        .unwrap();
    l.root().func_wrap("make", |ctx, (v,): (u32,)| Ok((Resource::new(ctx, Counter(v))?,))).unwrap();
    l.root()
        .func_wrap("peek", |ctx, (x,): (Resource<Counter>,)| {
            assert!(!x.owned(), "a borrow");
            Ok((x.get(&ctx)?.0,))
        })
        .unwrap();
    l
}

/// A typed host resource's life: created by the host with state in the store, lent to a host function by the
/// guest, dropped by the guest (the host destructor receives the state), created through an import and handed
/// back to the host, dropped by the host. Destructors run once each, in order.
#[test]
fn host_resource_lifecycle() {
    both!(|engine| {
        let drops = Arc::new(Mutex::new(Vec::new()));
        let c = component(&engine, HOST_RESOURCE);
        let mut s = store(&engine);
        let inst = host_linker(drops.clone()).instantiate(&mut s, &c).unwrap();
        let five = Resource::new(&mut s, Counter(5)).unwrap();
        assert_eq!(five.get(&s).unwrap().0, 5);
        let out = call1(&mut s, &inst, "roundtrip", &[Value::Resource(five.into_any())]).unwrap();
        assert_eq!(out, Value::U32(5));
        assert_eq!(*drops.lock().unwrap(), vec![5]);

        let Value::Resource(nine) = call1(&mut s, &inst, "make-and-return", &[Value::U32(9)]).unwrap() else {
            panic!("expected a resource")
        };
        let nine = Resource::<Counter>::try_from_any(nine).unwrap();
        assert!(nine.owned());
        nine.get_mut(&mut s).unwrap().0 += 1;
        assert_eq!(nine.get(&s).unwrap().0, 10);
        // Lending it keeps it alive; the guest drops its borrow properly.
        call1(&mut s, &inst, "borrow-ok", &[Value::Resource(nine.as_any().clone())]).unwrap();
        assert_eq!(*drops.lock().unwrap(), vec![5]);
        nine.resource_drop(&mut s).unwrap();
        assert_eq!(*drops.lock().unwrap(), vec![5, 10]);
    });
}

/// A borrow the callee does not drop before returning traps at the end of the call.
#[test]
fn leaked_borrow_traps() {
    both!(|engine| {
        let c = component(&engine, HOST_RESOURCE);
        let mut s = store(&engine);
        let inst = host_linker(Arc::default()).instantiate(&mut s, &c).unwrap();
        let r = Resource::new(&mut s, Counter(1)).unwrap();
        let err = call1(&mut s, &inst, "leak", &[Value::Resource(r.into_any())]).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::BorrowsRemain));
    });
}

/// Dropping a handle twice traps: the second drop names an empty slot.
#[test]
fn double_drop_traps() {
    both!(|engine| {
        let c = component(&engine, HOST_RESOURCE);
        let mut s = store(&engine);
        let inst = host_linker(Arc::default()).instantiate(&mut s, &c).unwrap();
        let r = Resource::new(&mut s, Counter(1)).unwrap();
        let err = call1(&mut s, &inst, "drop-twice", &[Value::Resource(r.into_any())]).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::UnknownHandle));
    });
}

/// Host handles are RAII-safe: dropping every `ResourceAny` of a handle frees its table entry (and its state),
/// so the host table does not grow without bound.
#[test]
fn dropped_host_handles_are_reclaimed() {
    both!(|engine| {
        let mut s = store(&engine);
        for i in 0..5000 {
            let r = Resource::new(&mut s, Counter(i)).unwrap();
            drop(r);
        }
        assert!(s.host_handles() < 100, "host table holds {} handles", s.host_handles());
        let keep = Resource::new(&mut s, Counter(1)).unwrap();
        assert_eq!(s.host_handles(), 1);
        drop(keep);
        assert_eq!(s.host_handles(), 0);
    });
}

/// Reentrance: a host function called by a component calls back into the same component instance — the
/// `may_enter` check traps (`CannotEnter`).
#[test]
fn reentrance_traps() {
    both!(|engine| {
        let c = component(
            &engine,
            r#"(component
                (import "callback" (func $cb))
                (core func $cb (canon lower (func $cb)))
                (core module $m
                    (import "" "cb" (func $cb))
                    (func (export "outer") (call $cb))
                    (func (export "inner")))
                (core instance $i (instantiate $m (with "" (instance (export "cb" (func $cb))))))
                (func (export "outer") (canon lift (core func $i "outer")))
                (func (export "inner") (canon lift (core func $i "inner"))))"#,
        );
        let mut s = store(&engine);
        let inner_slot: Arc<Mutex<Option<component_layer::Func>>> = Arc::default();
        let mut l = linker();
        {
            let slot = inner_slot.clone();
            l.root()
                .func_new("callback", move |mut ctx, _, _| {
                    let f = slot.lock().unwrap().clone().expect("inner is set");
                    f.call(&mut ctx, &[], &mut [])?;
                    Ok(())
                })
                .unwrap();
        }
        let inst = l.instantiate(&mut s, &c).unwrap();
        *inner_slot.lock().unwrap() = inst.get_func("inner");
        // Calling `inner` directly is fine.
        inst.get_func("inner").unwrap().call(&mut s, &[], &mut []).unwrap();
        let err = inst.get_func("outer").unwrap().call(&mut s, &[], &mut []).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::CannotEnter), "{err}");
    });
}

/// `may_leave`: a component whose `realloc` calls an import traps with `CannotLeave` when the runtime calls
/// that `realloc` to lower an argument.
#[test]
fn import_called_from_realloc_traps() {
    both!(|engine| {
        let c = component(
            &engine,
            r#"(component
                (import "log" (func $log))
                (core func $log (canon lower (func $log)))
                (core module $m
                    (import "" "log" (func $log))
                    (memory (export "mem") 1)
                    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (call $log) (i32.const 64))
                    (func (export "f") (param i32 i32)))
                (core instance $i (instantiate $m (with "" (instance (export "log" (func $log))))))
                (func (export "f") (param "s" string)
                    (canon lift (core func $i "f") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))"#,
        );
        let mut s = store(&engine);
        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        let inst = l.instantiate(&mut s, &c).unwrap();
        let err = inst.get_func("f").unwrap().call(&mut s, &[Value::String("x".into())], &mut []).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::CannotLeave), "{err}");
    });
}

/// A host resource type mismatched with the component's import is a link error.
#[test]
fn resource_import_needs_a_resource() {
    both!(|engine| {
        let c = component(&engine, HOST_RESOURCE);
        let mut s = store(&engine);
        let mut l = linker();
        l.root().func_new("counter", |_, _, _| Ok(())).unwrap();
        let err = l.instantiate(&mut s, &c).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
    });
}

/// Resources across composed components: component B (a sibling of A in one outer component) creates A's
/// resource through A's constructor, lends it back to A as a borrow (A receives the rep), moves it into A (A's
/// destructor runs in A), and drops another handle itself (A's destructor is called across the boundary).
#[test]
fn resources_between_composed_components() {
    both!(|engine| {
        let wat = format!(
            r#"(component
                (component $A {a})
                (instance $a (instantiate $A))
                (component $B
                    (import "a" (instance $ai
                        (export "r" (type $r (sub resource)))
                        (export "[constructor]r" (func (param "rep" u32) (result (own $r))))
                        (export "[method]r.rep" (func (param "self" (borrow $r)) (result u32)))
                        (export "consume" (func (param "x" (own $r))))))
                    (alias export $ai "r" (type $r))
                    (alias export $ai "[constructor]r" (func $ctor))
                    (alias export $ai "[method]r.rep" (func $repm))
                    (alias export $ai "consume" (func $consume))
                    (core func $ctor (canon lower (func $ctor)))
                    (core func $repm (canon lower (func $repm)))
                    (core func $consume (canon lower (func $consume)))
                    (core func $drop (canon resource.drop $r))
                    (core module $m
                        (import "" "ctor" (func $ctor (param i32) (result i32)))
                        (import "" "repm" (func $repm (param i32) (result i32)))
                        (import "" "consume" (func $consume (param i32)))
                        (import "" "drop" (func $drop (param i32)))
                        (func (export "run") (param i32) (result i32) (local $h i32) (local $v i32)
                            (local.set $h (call $ctor (local.get 0)))
                            (local.set $v (call $repm (local.get $h)))
                            (call $consume (local.get $h))
                            (local.get $v))
                        (func (export "make-drop") (param i32) (call $drop (call $ctor (local.get 0)))))
                    (core instance $i (instantiate $m (with "" (instance
                        (export "ctor" (func $ctor)) (export "repm" (func $repm))
                        (export "consume" (func $consume)) (export "drop" (func $drop))))))
                    (func (export "run") (param "x" u32) (result u32) (canon lift (core func $i "run")))
                    (func (export "make-drop") (param "x" u32) (canon lift (core func $i "make-drop"))))
                (instance $b (instantiate $B (with "a" (instance $a))))
                (export "run" (func $b "run"))
                (export "make-drop" (func $b "make-drop"))
                (export "drops" (func $a "drops"))
                (export "last" (func $a "last")))"#,
            a = GUEST_RESOURCE.trim_start_matches("(component").trim_end_matches(')')
        );
        let c = component(&engine, &wat);
        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        assert_eq!(call1(&mut s, &inst, "run", &[Value::U32(11)]).unwrap(), Value::U32(11));
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap(), Value::U32(1));
        assert_eq!(call1(&mut s, &inst, "last", &[]).unwrap(), Value::U32(11));
        call1(&mut s, &inst, "make-drop", &[Value::U32(12)]).unwrap();
        assert_eq!(call1(&mut s, &inst, "drops", &[]).unwrap(), Value::U32(2));
        assert_eq!(call1(&mut s, &inst, "last", &[]).unwrap(), Value::U32(12));
    });
}
