//! Typed calls of `async` exports: `TypedFunc::call` and `call_async` of callback-lifted functions, whose result
//! `task.return` lifts straight into the Rust type — a scalar returned at once, a string after `YIELD`, a list
//! after `WAIT` on a host subtask, an option, a derived record passed to `task.return` through memory, an owned
//! resource, no result, an async function lifted without `async` (its core function returns the result) — and
//! result types that do not match the function's, which are errors.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use component_layer::{ComponentType, Lift, Linker, Lower, ResourceAny, TypedFunc, Value};
use wasm_runtime_layer::backend::WasmEngine;

use crate::both;
use crate::common::*;

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(record)]
struct Origin {
    x: u32,
    y: u32,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq)]
#[component(enum)]
enum Hue {
    Red,
    Green,
    DarkBlue,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(variant)]
enum Form {
    Circle(f32),
    Square(u32),
    Empty,
}

/// 17 flat values, one more than `task.return` takes flat: the guest passes a pointer to it.
#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(record)]
struct Report {
    name: String,
    values: Vec<u32>,
    origin: Origin,
    hue: Hue,
    form: Form,
    counts: (u32, u32, u32, u32, u32, u32, u32, u32),
}

/// Callback-lifted exports, each with its own callback. Every task keeps its state at a fixed address, so
/// calls must not overlap.
fn wat() -> String {
    let pre = r#"
        (type $origin' (record (field "x" u32) (field "y" u32)))
        (export $origin "origin-type" (type $origin'))
        (type $hue' (enum "red" "green" "dark-blue"))
        (export $hue "hue-type" (type $hue'))
        (type $form' (variant (case "circle" f32) (case "square" u32) (case "empty")))
        (export $form "form-type" (type $form'))
        (type $report' (record (field "name" string) (field "values" (list u32)) (field "origin" $origin)
                               (field "hue" $hue) (field "form" $form)
                               (field "counts" (tuple u32 u32 u32 u32 u32 u32 u32 u32))))
        (export $report "report-type" (type $report'))
        (type $thing' (resource (rep i32)))
        (export $thing "thing-type" (type $thing'))
        (import "tick" (func $tick async))
        (core func $tick-c (canon lower (func $tick) async))
        (core func $tr-u32 (canon task.return (result u32)))
        (core func $tr-str (canon task.return (result string) (memory $mem)))
        (core func $tr-list (canon task.return (result (list u32)) (memory $mem)))
        (core func $tr-opt (canon task.return (result (option u32))))
        (core func $tr-report (canon task.return (result $report) (memory $mem)))
        (core func $tr-thing (canon task.return (result (own $thing))))
        (core func $tr-none (canon task.return))
        (core func $thing.new (canon resource.new $thing))
        (core func $ws.new (canon waitable-set.new))
        (core func $join (canon waitable.join))
        (core func $subtask.drop (canon subtask.drop))
        (core instance $host
          (export "tick" (func $tick-c))
          (export "tr-u32" (func $tr-u32))
          (export "tr-str" (func $tr-str))
          (export "tr-list" (func $tr-list))
          (export "tr-opt" (func $tr-opt))
          (export "tr-report" (func $tr-report))
          (export "tr-thing" (func $tr-thing))
          (export "tr-none" (func $tr-none))
          (export "thing.new" (func $thing.new))
          (export "ws.new" (func $ws.new))
          (export "join" (func $join))
          (export "subtask.drop" (func $subtask.drop)))
    "#;
    let core_imports = r#"
        (import "host" "tick" (func $tick (result i32)))
        (import "host" "tr-u32" (func $tr-u32 (param i32)))
        (import "host" "tr-str" (func $tr-str (param i32 i32)))
        (import "host" "tr-list" (func $tr-list (param i32 i32)))
        (import "host" "tr-opt" (func $tr-opt (param i32 i32)))
        (import "host" "tr-report" (func $tr-report (param i32)))
        (import "host" "tr-thing" (func $tr-thing (param i32)))
        (import "host" "tr-none" (func $tr-none))
        (import "host" "thing.new" (func $thing.new (param i32) (result i32)))
        (import "host" "ws.new" (func $ws.new (result i32)))
        (import "host" "join" (func $join (param i32 i32)))
        (import "host" "subtask.drop" (func $subtask.drop (param i32)))
    "#;
    let core = r#"
        (data (i32.const 0x400) "hello, async world")
        ;; scalar(x) = 3x, returned in the first call.
        (func (export "scalar") (param i32) (result i32)
          (call $tr-u32 (i32.mul (local.get 0) (i32.const 3)))
          (i32.const 0)) ;; EXIT
        ;; greet(n): the first n bytes of the text, after one YIELD.
        (func (export "greet") (param i32) (result i32)
          (i32.store (i32.const 0x300) (local.get 0))
          (i32.const 1)) ;; YIELD
        (func (export "greet-cb") (param $event i32) (param i32 i32) (result i32)
          (if (local.get $event) (then unreachable)) ;; NONE
          (call $tr-str (i32.const 0x400) (i32.load (i32.const 0x300)))
          (i32.const 0))
        ;; squares(n) = [0, 1, 4, …], after WAIT for the host's `tick`.
        (func $squares-return
          (local $i i32) (local $n i32)
          (local.set $n (i32.load (i32.const 0x300)))
          (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (i32.store (i32.add (i32.const 0x500) (i32.shl (local.get $i) (i32.const 2)))
              (i32.mul (local.get $i) (local.get $i)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
          (call $tr-list (i32.const 0x500) (local.get $n)))
        (func (export "squares") (param i32) (result i32) (local $st i32) (local $ws i32)
          (i32.store (i32.const 0x300) (local.get 0))
          (local.set $st (call $tick))
          (if (i32.eq (local.get $st) (i32.const 2)) ;; RETURNED: no need to wait
            (then (call $squares-return) (return (i32.const 0))))
          (if (i32.ne (i32.and (local.get $st) (i32.const 0xf)) (i32.const 1)) (then unreachable)) ;; STARTED
          (local.set $ws (call $ws.new))
          (call $join (i32.shr_u (local.get $st) (i32.const 4)) (local.get $ws))
          (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4)))) ;; WAIT
        (func (export "squares-cb") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
          (if (i32.ne (local.get $event) (i32.const 1)) (then unreachable)) ;; SUBTASK
          (if (i32.ne (local.get $state) (i32.const 2)) (then unreachable)) ;; RETURNED
          (call $subtask.drop (local.get $subtask))
          (call $squares-return)
          (i32.const 0))
        ;; opt(x) = none for 0, else some(x + 1).
        (func (export "opt") (param i32) (result i32)
          (call $tr-opt (i32.ne (local.get 0) (i32.const 0)) (i32.add (local.get 0) (i32.const 1)))
          (i32.const 0))
        ;; report(n): a record built at 0x600 (68 bytes), returned through a pointer after one YIELD.
        (func (export "report") (param i32) (result i32)
          (i32.store (i32.const 0x300) (local.get 0))
          (i32.const 1))
        (func (export "report-cb") (param i32 i32 i32) (result i32) (local $n i32) (local $i i32)
          (local.set $n (i32.load (i32.const 0x300)))
          (i32.store (i32.const 0x700) (i32.const 7))
          (i32.store (i32.const 0x704) (i32.const 8))
          (i32.store (i32.const 0x708) (i32.const 9))
          (i32.store (i32.const 0x600) (i32.const 0x400)) ;; name: "hello"
          (i32.store (i32.const 0x604) (i32.const 5))
          (i32.store (i32.const 0x608) (i32.const 0x700)) ;; values: [7, 8, 9]
          (i32.store (i32.const 0x60c) (i32.const 3))
          (i32.store (i32.const 0x610) (local.get $n)) ;; origin
          (i32.store (i32.const 0x614) (i32.add (local.get $n) (i32.const 1)))
          (i32.store8 (i32.const 0x618) (i32.const 2)) ;; hue: dark-blue
          (i32.store8 (i32.const 0x61c) (i32.const 1)) ;; form: square(10n)
          (i32.store (i32.const 0x620) (i32.mul (local.get $n) (i32.const 10)))
          (block $done (loop $next ;; counts: 1..8
            (br_if $done (i32.ge_u (local.get $i) (i32.const 8)))
            (i32.store (i32.add (i32.const 0x624) (i32.shl (local.get $i) (i32.const 2)))
              (i32.add (local.get $i) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
          (call $tr-report (i32.const 0x600))
          (i32.const 0))
        ;; make(x): a new `thing` with rep x.
        (func (export "make") (param i32) (result i32)
          (call $tr-thing (call $thing.new (local.get 0)))
          (i32.const 0))
        ;; nothing(): no result, after one YIELD.
        (func (export "nothing") (result i32) (i32.const 1))
        (func (export "nothing-cb") (param i32 i32 i32) (result i32)
          (call $tr-none)
          (i32.const 0))
        (func (export "no-cb") (param i32 i32 i32) (result i32) unreachable)
        ;; sync-greet(n): `greet` of an async type lifted without `async`: the core function returns the result.
        (func (export "sync-greet") (param i32) (result i32) (call $ret2 (i32.const 0x400) (local.get 0)))
    "#;
    let items = r#"
        (func (export "scalar") async (param "x" u32) (result u32)
          (canon lift (core func $i "scalar") async (callback (core func $i "no-cb"))))
        (func (export "greet") async (param "n" u32) (result string)
          (canon lift (core func $i "greet") async (memory $mem) (callback (core func $i "greet-cb"))))
        (func (export "squares") async (param "n" u32) (result (list u32))
          (canon lift (core func $i "squares") async (memory $mem) (callback (core func $i "squares-cb"))))
        (func (export "opt") async (param "x" u32) (result (option u32))
          (canon lift (core func $i "opt") async (callback (core func $i "no-cb"))))
        (func (export "report") async (param "n" u32) (result $report)
          (canon lift (core func $i "report") async (memory $mem) (callback (core func $i "report-cb"))))
        (func (export "make") async (param "x" u32) (result (own $thing))
          (canon lift (core func $i "make") async (callback (core func $i "no-cb"))))
        (func (export "sync-greet") async (param "n" u32) (result string)
          (canon lift (core func $i "sync-greet") (memory $mem)))
        (func (export "sync-id") async (param "x" u32) (result u32)
          (canon lift (core func $i "id32")))
        (func (export "nothing") async
          (canon lift (core func $i "nothing") async (callback (core func $i "nothing-cb"))))
    "#;
    guest_with_imports(pre, core_imports, core, items)
}

/// A future that becomes ready 5 ms after its first poll, when another thread wakes the latest waker.
#[derive(Default)]
struct Delay(Arc<Mutex<DelayState>>);

#[derive(Default)]
struct DelayState {
    started: bool,
    done: bool,
    waker: Option<Waker>,
}

impl Future for Delay {
    type Output = anyhow::Result<Option<Value>>;
    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.0.lock().unwrap();
        if state.done {
            return Poll::Ready(Ok(None));
        }
        state.waker = Some(cx.waker().clone());
        if !state.started {
            state.started = true;
            let shared = self.0.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                let mut state = shared.lock().unwrap();
                state.done = true;
                if let Some(w) = state.waker.take() {
                    w.wake();
                }
            });
        }
        Poll::Pending
    }
}

/// The guest's imports: `tick` answers 5 ms later, so `squares` has to wait for it.
fn host<E: WasmEngine>() -> Linker<(), E> {
    let mut l = linker::<E>();
    l.root().func_new_async("tick", |_, _| Delay::default()).unwrap();
    l
}

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on this thread, parking while it is pending; returns the output and how many
/// polls returned `Pending`.
fn block_on<F: Future>(fut: F) -> (F::Output, usize) {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut fut = pin!(fut);
    let mut pending = 0;
    loop {
        match fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => return (v, pending),
            Poll::Pending => {
                pending += 1;
                std::thread::park();
            }
        }
    }
}

#[test]
fn typed_call_of_async_scalar_returned_at_once() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (u32,)>("scalar").unwrap();
        assert_eq!(f.call(&mut g.store, (7,)).unwrap(), (21,));
        assert_eq!(f.call_ref(&mut g.store, &(8,)).unwrap(), (24,));
        // The same store serves dynamic and typed calls of the function alike.
        assert_eq!(g.call("scalar", &[Value::U32(2)]), Value::U32(6));
        assert_eq!(f.call(&mut g.store, (100,)).unwrap(), (300,));
        assert!(!g.store.is_poisoned());
    });
}

#[test]
fn typed_call_of_async_string_after_yield() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (String,)>("greet").unwrap();
        assert_eq!(f.call(&mut g.store, (5,)).unwrap(), ("hello".to_string(),));
        assert_eq!(f.call(&mut g.store, (0,)).unwrap(), (String::new(),));
        let boxed = g.inst.get_typed_func::<(u32,), (Box<str>,)>("greet").unwrap();
        assert_eq!(&*boxed.call(&mut g.store, (18,)).unwrap().0, "hello, async world");
    });
}

#[test]
fn typed_call_of_async_list_after_waiting_on_a_subtask() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (Vec<u32>,)>("squares").unwrap();
        assert_eq!(f.call(&mut g.store, (5,)).unwrap(), (vec![0, 1, 4, 9, 16],));
        assert_eq!(f.call(&mut g.store, (0,)).unwrap(), (vec![],));
        let boxed = g.inst.get_typed_func::<(u32,), (Box<[u32]>,)>("squares").unwrap();
        assert_eq!(&*boxed.call(&mut g.store, (3,)).unwrap().0, &[0, 1, 4]);
    });
}

#[test]
fn typed_call_of_async_function_lifted_without_async() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (String,)>("sync-greet").unwrap();
        assert_eq!(f.call(&mut g.store, (11,)).unwrap(), ("hello, asyn".to_string(),));
        let f = g.inst.get_typed_func::<(u32,), (u32,)>("sync-id").unwrap();
        assert_eq!(f.call(&mut g.store, (9,)).unwrap(), (9,));
        assert_eq!(block_on(f.call_async(&mut g.store, (10,))).0.unwrap(), (10,));
    });
}

#[test]
fn typed_call_of_async_option() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (Option<u32>,)>("opt").unwrap();
        assert_eq!(f.call(&mut g.store, (0,)).unwrap(), (None,));
        assert_eq!(f.call(&mut g.store, (41,)).unwrap(), (Some(42),));
    });
}

#[test]
fn typed_call_of_async_derived_record_through_memory() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (Report,)>("report").unwrap();
        let want = Report {
            name: "hello".into(),
            values: vec![7, 8, 9],
            origin: Origin { x: 4, y: 5 },
            hue: Hue::DarkBlue,
            form: Form::Square(40),
            counts: (1, 2, 3, 4, 5, 6, 7, 8),
        };
        assert_eq!(f.call(&mut g.store, (4,)).unwrap(), (want,));
        // The dynamic call of the same function sees the same record.
        let v = g.call("report", &[Value::U32(4)]);
        let Value::Record(fields) = v else { panic!("not a record: {v:?}") };
        assert_eq!(fields[0].1, s("hello"));
        assert_eq!(fields[4].1, case("square", Value::U32(40)));
    });
}

#[test]
fn typed_call_of_async_resource() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(u32,), (ResourceAny,)>("make").unwrap();
        let (thing,) = f.call(&mut g.store, (77,)).unwrap();
        assert!(thing.owned());
        assert!(!thing.ty().is_host());
        thing.resource_drop(&mut g.store).unwrap();
        assert!(!g.store.is_poisoned());
    });
}

#[test]
fn typed_call_of_async_function_without_result() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_typed_func::<(), ()>("nothing").unwrap();
        f.call(&mut g.store, ()).unwrap();
        f.call(&mut g.store, ()).unwrap();
        let (r, _) = block_on(f.call_async(&mut g.store, ()));
        r.unwrap();
        assert!(!g.store.is_poisoned());
    });
}

#[test]
fn typed_call_async_of_async_exports() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let squares = g.inst.get_typed_func::<(u32,), (Vec<u32>,)>("squares").unwrap();
        let (r, pending) = block_on(squares.call_async(&mut g.store, (4,)));
        assert_eq!(r.unwrap(), (vec![0, 1, 4, 9],));
        assert!(pending > 0, "the call waits for the host's `tick`, so it must have been pending");
        let report = g.inst.get_typed_func::<(u32,), (Report,)>("report").unwrap();
        let (r, _) = block_on(report.call_async(&mut g.store, (1,)));
        assert_eq!(r.unwrap().0.origin, Origin { x: 1, y: 2 });
        let scalar = g.inst.get_typed_func::<(u32,), (u32,)>("scalar").unwrap();
        assert_eq!(block_on(scalar.call_async(&mut g.store, (5,))).0.unwrap(), (15,));
        // The typed future is `Send`, as the dynamic one.
        fn assert_send<F: Send>(_: &F) {}
        let fut = squares.call_async(&mut g.store, (1,));
        assert_send(&fut);
        assert_eq!(block_on(fut).0.unwrap(), (vec![0],));
        assert!(!g.store.is_poisoned());
    });
}

#[test]
fn typed_async_result_type_mismatch_is_an_error() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        // Checked once, when the typed function is made.
        assert!(g.inst.get_typed_func::<(u32,), (String,)>("scalar").is_err());
        assert!(g.inst.get_typed_func::<(u32,), (u64,)>("scalar").is_err());
        assert!(g.inst.get_typed_func::<(u32,), ()>("greet").is_err());
        assert!(g.inst.get_typed_func::<(u32,), (Origin,)>("report").is_err());
        assert!(g.inst.get_typed_func::<(), (u32,)>("nothing").is_err());
        // Unchecked (as generated bindings make them), a wrong result type fails when `task.return` lifts it:
        // an error, not a panic.
        let func = g.inst.get_func("scalar").unwrap();
        let wrong = TypedFunc::<(u32,), (String,)>::new_unchecked(func.clone());
        let err = wrong.call(&mut g.store, (1,)).unwrap_err();
        assert!(err.to_string().contains("scalar"), "{err}");
        // A record where `task.return` gave a string, after a `YIELD`.
        let mut g = Guest::with_linker(&engine, &c, &host());
        let func = g.inst.get_func("greet").unwrap();
        let wrong = TypedFunc::<(u32,), (Report,)>::new_unchecked(func);
        let (r, _) = block_on(wrong.call_async(&mut g.store, (3,)));
        let err = r.unwrap_err();
        assert!(err.to_string().contains("greet"), "{err}");
    });
}

/// Bindings of some of the guest's async exports: `call_*` runs the event loop to the end, `call_*_async` is a
/// future.
mod async_world {
    component_layer::bindgen!({
        inline: "
            package test:typed-async;
            world exports {
                export scalar: async func(x: u32) -> u32;
                export greet: async func(n: u32) -> string;
                export squares: async func(n: u32) -> list<u32>;
                export opt: async func(x: u32) -> option<u32>;
                export nothing: async func();
            }
        ",
    });
}

#[test]
fn bindgen_calls_async_exports() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut store = store(&engine);
        let w = async_world::Exports::instantiate(&mut store, &c, &host()).unwrap();
        assert_eq!(w.call_scalar(&mut store, 4).unwrap(), 12);
        assert_eq!(w.call_greet(&mut store, 5).unwrap(), "hello");
        assert_eq!(w.call_squares(&mut store, 3).unwrap(), vec![0, 1, 4]);
        w.call_nothing(&mut store).unwrap();
        let (r, pending) = block_on(w.call_squares_async(&mut store, 4));
        assert_eq!(r.unwrap(), vec![0, 1, 4, 9]);
        assert!(pending > 0, "`squares` waits for the host's `tick`");
        assert_eq!(block_on(w.call_scalar_async(&mut store, 5)).0.unwrap(), 15);
        assert_eq!(block_on(w.call_greet_async(&mut store, 18)).0.unwrap(), "hello, async world");
        block_on(w.call_nothing_async(&mut store)).0.unwrap();
        assert_eq!(w.call_opt(&mut store, 0).unwrap(), block_on(w.call_opt_async(&mut store, 0)).0.unwrap());
        assert!(!store.is_poisoned());
    });
}
