//! The host side of the async ABI: async host functions (`func_new_async`, `func_wrap_async`) called through
//! async and synchronous lowers, `Func::call` driving an async export to completion, `Func::call_async` yielding
//! to its executor while only host futures are pending, and `subtask.cancel` of a host call.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::{ErrorKind, Value};

use crate::both;
use crate::common::{component, linker, store};

/// A callback-lifted `run` that calls the async import `double` with an async lower and returns its result
/// (plus 1000 when it had to wait for the subtask); `run-sync` calls `double` with a synchronous lower;
/// `cancel` starts `double`, cancels the subtask and returns what `subtask.cancel` returned.
const GUEST: &str = r#"(component
  (import "double" (func $double async (param "x" u32) (result u32)))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $double-async (canon lower (func $double) async (memory (core memory $mem "mem"))))
  (core func $double-sync (canon lower (func $double)))
  (core func $task.return (canon task.return (result u32)))
  (core func $ws.new (canon waitable-set.new))
  (core func $join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core func $subtask.cancel (canon subtask.cancel))
  (core module $m
    (import "" "mem" (memory 1))
    (import "" "double" (func $double (param i32 i32) (result i32)))
    (import "" "double-sync" (func $double-sync (param i32) (result i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (import "" "subtask.cancel" (func $subtask.cancel (param i32) (result i32)))
    (func (export "run") (param $x i32) (result i32) (local $st i32) (local $ws i32)
      (local.set $st (call $double (local.get $x) (i32.const 16)))
      (if (i32.eq (local.get $st) (i32.const 2)) ;; RETURNED
        (then (call $task.return (i32.load (i32.const 16))) (return (i32.const 0))))
      (if (i32.ne (i32.and (local.get $st) (i32.const 0xf)) (i32.const 1)) (then unreachable)) ;; STARTED
      (local.set $ws (call $ws.new))
      (call $join (i32.shr_u (local.get $st) (i32.const 4)) (local.get $ws))
      (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4)))) ;; WAIT
    (func (export "cb") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
      (if (i32.ne (local.get $event) (i32.const 1)) (then unreachable)) ;; SUBTASK
      (if (i32.ne (local.get $state) (i32.const 2)) (then unreachable)) ;; RETURNED
      (call $subtask.drop (local.get $subtask))
      (call $task.return (i32.add (i32.load (i32.const 16)) (i32.const 1000)))
      (i32.const 0)) ;; EXIT
    (func (export "run-sync") (param $x i32) (result i32)
      (call $double-sync (local.get $x)))
    (func (export "cancel") (param $x i32) (result i32) (local $st i32) (local $r i32)
      (local.set $st (call $double (local.get $x) (i32.const 16)))
      (if (i32.ne (i32.and (local.get $st) (i32.const 0xf)) (i32.const 1)) (then unreachable))
      (local.set $r (call $subtask.cancel (i32.shr_u (local.get $st) (i32.const 4))))
      (call $subtask.drop (i32.shr_u (local.get $st) (i32.const 4)))
      (call $task.return (local.get $r))
      (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "double" (func $double-async))
    (export "double-sync" (func $double-sync))
    (export "task.return" (func $task.return))
    (export "ws.new" (func $ws.new))
    (export "join" (func $join))
    (export "subtask.drop" (func $subtask.drop))
    (export "subtask.cancel" (func $subtask.cancel))))))
  (func (export "run") async (param "x" u32) (result u32)
    (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  (func (export "run-sync") (param "x" u32) (result u32)
    (canon lift (core func $i "run-sync")))
  (func (export "cancel") async (param "x" u32) (result u32)
    (canon lift (core func $i "cancel") async (callback (core func $i "cb")))))"#;

/// A one-shot channel whose receiving end is a future.
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

#[derive(Clone)]
struct Sender<T>(Arc<Mutex<Slot<T>>>);
struct Receiver<T>(Arc<Mutex<Slot<T>>>);

fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let s = Arc::new(Mutex::new(Slot { value: None, waker: None }));
    (Sender(s.clone()), Receiver(s))
}

impl<T> Sender<T> {
    fn send(&self, v: T) {
        let mut s = self.0.lock().unwrap();
        s.value = Some(v);
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut s = self.0.lock().unwrap();
        match s.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A waker that counts its wakes.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// A future that is never ready and records when it is dropped.
struct Never(Arc<AtomicBool>);

impl Future for Never {
    type Output = anyhow::Result<Option<Value>>;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Pending
    }
}

impl Drop for Never {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn u32_arg(params: &[Value]) -> u32 {
    match params {
        [Value::U32(x)] => *x,
        other => panic!("unexpected arguments {other:?}"),
    }
}

/// A linker whose `double` answers 20 ms later, from another thread.
fn delayed_double_linker<E: wasm_runtime_layer::backend::WasmEngine>() -> component_layer::Linker<(), E> {
    let mut l = linker();
    l.root()
        .func_new_async("double", |_, p| {
            let x = u32_arg(p);
            let (tx, rx) = oneshot();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(x * 2);
            });
            async move { Ok(Some(Value::U32(rx.await))) }
        })
        .unwrap();
    l
}

#[test]
fn reflection_shows_which_functions_are_async() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let imports = c.imports();
        let double = imports.iter().find(|(n, _)| n == "double").map(|(_, t)| t.clone());
        let Some(ItemType::Func(double)) = double else { panic!("no import `double`: {imports:?}") };
        assert!(double.is_async());
        assert_eq!(double.to_string(), "async func(x: u32) -> u32");
        let exports = c.exports();
        let run = exports.iter().find(|(n, _)| n == "run").map(|(_, t)| t.clone());
        let Some(ItemType::Func(run)) = run else { panic!("no export `run`: {exports:?}") };
        assert!(run.is_async());
        assert!(!FuncType::new([("x", ValueType::U32)], None).is_async());
    });
}

#[test]
fn ready_at_once_returns_without_a_subtask() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        l.root()
            .func_new_async("double", |_, p| {
                let x = u32_arg(p);
                async move { Ok(Some(Value::U32(x * 2))) }
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        i.get_func("run").unwrap().call(&mut s, &[Value::U32(21)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(42));
    });
}

#[test]
fn pending_host_call_is_a_subtask_and_call_waits_for_it() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let l = delayed_double_linker();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let run = i.get_func("run").unwrap();
        for x in [1, 21] {
            let mut out = [Value::Bool(false)];
            run.call(&mut s, &[Value::U32(x)], &mut out).unwrap();
            // 1000: the guest saw STARTED and got the result with the SUBTASK event.
            assert_eq!(out[0], Value::U32(1000 + 2 * x));
        }
    });
}

#[test]
fn call_async_yields_while_the_host_future_is_pending() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        let senders: Arc<Mutex<Vec<Sender<u32>>>> = Arc::default();
        let keep = senders.clone();
        l.root()
            .func_new_async("double", move |_, p| {
                let x = u32_arg(p);
                let (tx, rx) = oneshot();
                keep.lock().unwrap().push(tx);
                async move { Ok(Some(Value::U32(rx.await * x))) }
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let run = i.get_func("run").unwrap();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut out = [Value::Bool(false)];
        {
            let mut call = Box::pin(run.call_async(&mut s, &[Value::U32(5)], &mut out));
            assert!(poll_once(&mut call, &waker).is_pending());
            assert!(poll_once(&mut call, &waker).is_pending(), "nothing changed: still pending");
            assert_eq!(counter.0.load(Ordering::SeqCst), 0);
            let tx = senders.lock().unwrap().pop().expect("the host function was called");
            tx.send(3);
            assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the host future woke the call's waker");
            match poll_once(&mut call, &waker) {
                Poll::Ready(r) => r.unwrap(),
                Poll::Pending => panic!("the call should be done"),
            }
        }
        assert_eq!(out[0], Value::U32(1015));
        assert!(!s.is_poisoned());
    });
}

#[test]
fn typed_async_host_function() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        l.root()
            .func_wrap_async("double", |_, (x,): (u32,)| async move {
                std::thread::sleep(Duration::from_millis(1));
                Ok((x * 2,))
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        i.get_func("run").unwrap().call(&mut s, &[Value::U32(4)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(8));
        // Typed: pending on its first poll.
        let mut l = linker();
        l.root()
            .func_wrap_async("double", |_, (x,): (u32,)| {
                let (tx, rx) = oneshot();
                std::thread::spawn(move || tx.send(x * 2));
                async move { Ok((rx.await,)) }
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let typed = i.get_typed_func::<(u32,), (u32,)>("run-sync").unwrap();
        assert_eq!(typed.call(&mut s, (7,)).unwrap(), (14,));
        // A mistyped definition is refused at instantiation.
        let mut l = linker();
        l.root().func_wrap_async("double", |_, (x,): (u64,)| async move { Ok((x,)) }).unwrap();
        let err = l.instantiate(&mut store(&engine), &c).unwrap_err();
        assert!(err.to_string().contains("double"), "{err}");
    });
}

#[test]
fn sync_lower_blocks_until_the_host_future_is_ready() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let l = delayed_double_linker();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        let f = i.get_func("run-sync").unwrap();
        f.call(&mut s, &[Value::U32(50)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(100));
        // `call_async` of a synchronous function is the synchronous call.
        let waker = Waker::from(Arc::new(Counter(AtomicUsize::new(0))));
        let mut call = Box::pin(f.call_async(&mut s, &[Value::U32(3)], &mut out));
        assert!(matches!(poll_once(&mut call, &waker), Poll::Ready(Ok(()))));
        drop(call);
        assert_eq!(out[0], Value::U32(6));
    });
}

#[test]
fn subtask_cancel_drops_the_host_future() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = dropped.clone();
        l.root().func_new_async("double", move |_, _| Never(flag.clone())).unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        i.get_func("cancel").unwrap().call(&mut s, &[Value::U32(1)], &mut out).unwrap();
        // CANCELLED_BEFORE_RETURNED, synchronously.
        assert_eq!(out[0], Value::U32(4));
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn a_failing_host_future_traps_the_caller() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        l.root()
            .func_new_async("double", |_, _| async {
                std::thread::yield_now();
                Err(anyhow::anyhow!("no doubling today"))
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        let err = i.get_func("run").unwrap().call(&mut s, &[Value::U32(1)], &mut out).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Host(_)), "{err}");
        assert!(err.to_string().contains("no doubling today"), "{err}");
        assert!(s.is_poisoned());
        // A result of the wrong type is refused when it is lowered.
        let mut l = linker();
        l.root().func_new_async("double", |_, _| async { Ok(Some(Value::String("no".into()))) }).unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        assert!(i.get_func("run-sync").unwrap().call(&mut s, &[Value::U32(1)], &mut out).is_err());
    });
}

#[test]
fn call_async_future_is_send() {
    fn assert_send<F: Send>(_: &F) {}
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = linker();
        l.root().func_new_async("double", |_, _| async { Ok(Some(Value::U32(0))) }).unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let run = i.get_func("run").unwrap();
        let mut out = [Value::Bool(false)];
        let call = run.call_async(&mut s, &[Value::U32(1)], &mut out);
        assert_send(&call);
    });
}

/// `bindgen!` over the guest's world: `double` is an `async func` import, so its host method returns a future.
mod doubling {
    component_layer::bindgen!({
        inline: "
            package test:async-host;
            world doubling {
                import double: async func(x: u32) -> u32;
                export run: async func(x: u32) -> u32;
                export run-sync: func(x: u32) -> u32;
                export cancel: async func(x: u32) -> u32;
            }
        ",
    });
}

/// The same world with `double` trappable and reaching the store.
mod doubling_store {
    component_layer::bindgen!({
        inline: "
            package test:async-host;
            world doubling {
                import double: async func(x: u32) -> u32;
                export run: async func(x: u32) -> u32;
            }
        ",
        imports: { default: trappable | store },
    });
}

/// A host whose `double` answers 10 ms later from another thread, or never; it counts its calls.
#[derive(Default)]
struct Doubler {
    calls: u32,
    never: Option<Arc<AtomicBool>>,
}

impl doubling::DoublingImports for Doubler {
    fn double(&mut self, x: u32) -> component_layer::BoxFuture<u32> {
        self.calls += 1;
        let never = self.never.clone().map(Never);
        let (tx, rx) = oneshot();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(x * 2);
        });
        Box::pin(async move {
            if let Some(n) = never {
                let _ = n.await;
            }
            rx.await
        })
    }
}

#[test]
fn bindgen_async_import_host_returns_a_future() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = component_layer::Linker::new();
        doubling::Doubling::add_to_linker(&mut l, |h: &mut Doubler| h).unwrap();
        let pre = doubling::Doubling::instantiate_pre(&c, &l).unwrap();
        let mut s = component_layer::Store::new(&engine, Doubler::default());
        let w = pre.instantiate(&mut s).unwrap();
        // Pending at first, so `run` waits for the subtask (+1000).
        assert_eq!(w.call_run(&mut s, 4).unwrap(), 1008);
        // A synchronous lower of the async import blocks until the future is ready.
        assert_eq!(w.call_run_sync(&mut s, 21).unwrap(), 42);
        assert_eq!(s.data().calls, 2);
        // `subtask.cancel` drops the pending future: CANCELLED_BEFORE_RETURNED.
        let dropped = Arc::new(AtomicBool::new(false));
        s.data_mut().never = Some(dropped.clone());
        assert_eq!(w.call_cancel(&mut s, 1).unwrap(), 4);
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(s.data().calls, 3);
        assert!(!s.is_poisoned());
    });
}

/// A store-reaching, trappable `double`: it reads its factor from the store before the future runs, and an
/// `Err` from the future traps the caller.
struct Factor(u32);

impl<E: wasm_runtime_layer::backend::WasmEngine> doubling_store::DoublingImportsWithStore<Factor, E> for Factor {
    fn double(
        mut host: component_layer::Access<'_, Factor, E, Self>,
        x: u32,
    ) -> component_layer::BoxFuture<component_layer::Result<u32>> {
        let factor = host.get().0;
        Box::pin(async move {
            std::thread::yield_now();
            if factor == 0 {
                return Err(component_layer::Error::new(component_layer::ErrorKind::Unsupported("factor 0".into())));
            }
            Ok(x * factor)
        })
    }
}

impl doubling_store::DoublingImports for Factor {}

#[test]
fn bindgen_async_import_with_store_and_trap() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut l = component_layer::Linker::new();
        doubling_store::Doubling::add_to_linker(&mut l, |h: &mut Factor| h).unwrap();
        let mut s = component_layer::Store::new(&engine, Factor(3));
        let w = doubling_store::Doubling::instantiate(&mut s, &c, &l).unwrap();
        assert_eq!(w.call_run(&mut s, 5).unwrap(), 15);
        s.data_mut().0 = 0;
        let err = w.call_run(&mut s, 5).unwrap_err();
        assert!(err.to_string().contains("factor 0"), "{err}");
        assert!(s.is_poisoned());
    });
}
