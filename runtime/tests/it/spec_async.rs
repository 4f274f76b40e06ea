//! Async scenarios of the specification's executable reference (`design/mvp/canonical-abi/run_tests.py`), ported
//! as components: the Python tests call `canon_*` definitions directly on one instance, these make the same
//! calls from core code through the built-ins and check the same results.
//!
//! Only scenarios that need no stack switching are here: where a Python test suspends a stackful core function
//! (`thread.wait_until` in a `core_func`), the port uses a callback-lifted task that returns `WAIT` instead, or a
//! synchronous wait whose event is already pending. A core function checks every value the Python test asserts
//! and traps with `unreachable` when one differs; the host checks the final result or the trap. One last test
//! pins the other side: where the spec would suspend a frame, the trap is "needs stack switching".

use component_layer::{AsyncTrap, Trap, Value};

use crate::both;
use crate::common::{component, Guest};

/// The built-ins of `self_copy` for element type text `elem` (empty: no payload).
fn self_copy_component(elem: &str) -> String {
    format!(
        r#"(component
  (type $F (future {elem}))
  (type $S (stream {elem}))
  (core module $Mem (memory (export "mem") 1))
  (core instance $mem (instantiate $Mem))
  (core func $ws.new (canon waitable-set.new))
  (core func $ws.wait (canon waitable-set.wait (memory (core memory $mem "mem"))))
  (core func $ws.drop (canon waitable-set.drop))
  (core func $join (canon waitable.join))
  (core func $fnew (canon future.new $F))
  (core func $fread (canon future.read $F async (memory (core memory $mem "mem"))))
  (core func $fwrite (canon future.write $F async (memory (core memory $mem "mem"))))
  (core func $fdrop-r (canon future.drop-readable $F))
  (core func $fdrop-w (canon future.drop-writable $F))
  (core func $snew (canon stream.new $S))
  (core func $sread (canon stream.read $S async (memory (core memory $mem "mem"))))
  (core func $swrite (canon stream.write $S async (memory (core memory $mem "mem"))))
  (core func $sdrop-r (canon stream.drop-readable $S))
  (core func $sdrop-w (canon stream.drop-writable $S))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "ws.wait" (func $ws.wait (param i32 i32) (result i32)))
    (import "" "ws.drop" (func $ws.drop (param i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "fnew" (func $fnew (result i64)))
    (import "" "fread" (func $fread (param i32 i32) (result i32)))
    (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
    (import "" "fdrop-r" (func $fdrop-r (param i32)))
    (import "" "fdrop-w" (func $fdrop-w (param i32)))
    (import "" "snew" (func $snew (result i64)))
    (import "" "sread" (func $sread (param i32 i32 i32) (result i32)))
    (import "" "swrite" (func $swrite (param i32 i32 i32) (result i32)))
    (import "" "sdrop-r" (func $sdrop-r (param i32)))
    (import "" "sdrop-w" (func $sdrop-w (param i32)))
    (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
    (func (export "run") (result i32) (local $ws i32) (local $p i64) (local $r i32) (local $w i32)
      (local.set $ws (call $ws.new))
      (local.set $p (call $fnew))
      (local.set $r (i32.wrap_i64 (local.get $p)))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $p) (i64.const 32))))
      ;; future: the write waits, the read meets it, the writer's event says COMPLETED
      (call $eq (call $fwrite (local.get $w) (i32.const 0)) (i32.const -1))
      (call $eq (call $fread (local.get $r) (i32.const 0)) (i32.const 0))
      (call $fdrop-r (local.get $r))
      (call $join (local.get $w) (local.get $ws))
      (call $eq (call $ws.wait (local.get $ws) (i32.const 0)) (i32.const 5 (; FUTURE_WRITE ;)))
      (call $eq (i32.load (i32.const 0)) (local.get $w))
      (call $eq (i32.load (i32.const 4)) (i32.const 0 (; COMPLETED ;)))
      (call $fdrop-w (local.get $w))
      ;; stream: a write of 3 waits, reads of 1 and then of up to 4 take 1 and 2, dropping the reader ends it
      (local.set $p (call $snew))
      (local.set $r (i32.wrap_i64 (local.get $p)))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $p) (i64.const 32))))
      (call $eq (call $swrite (local.get $w) (i32.const 0) (i32.const 3)) (i32.const -1))
      (call $eq (call $sread (local.get $r) (i32.const 0) (i32.const 1)) (i32.const 0x10))
      (call $eq (call $sread (local.get $r) (i32.const 0) (i32.const 4)) (i32.const 0x20))
      (call $sdrop-r (local.get $r))
      (call $join (local.get $w) (local.get $ws))
      (call $eq (call $ws.wait (local.get $ws) (i32.const 0)) (i32.const 3 (; STREAM_WRITE ;)))
      (call $eq (i32.load (i32.const 0)) (local.get $w))
      (call $eq (i32.load (i32.const 4)) (i32.const 0x31 (; DROPPED | 3 << 4 ;)))
      (call $sdrop-w (local.get $w))
      (call $ws.drop (local.get $ws))
      (i32.const 42))
  )
  (core instance $i (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "ws.new" (func $ws.new)) (export "ws.wait" (func $ws.wait)) (export "ws.drop" (func $ws.drop))
    (export "join" (func $join))
    (export "fnew" (func $fnew)) (export "fread" (func $fread)) (export "fwrite" (func $fwrite))
    (export "fdrop-r" (func $fdrop-r)) (export "fdrop-w" (func $fdrop-w))
    (export "snew" (func $snew)) (export "sread" (func $sread)) (export "swrite" (func $swrite))
    (export "sdrop-r" (func $sdrop-r)) (export "sdrop-w" (func $sdrop-w))))))
  (func (export "run") async (result u32) (canon lift (core func $i "run")))
)"#
    )
}

/// `test_self_copy(None)`, `test_self_copy(U8Type())`, `test_self_copy(F64Type())`: both ends of a future and of
/// a stream of a number type (or of no payload) in one instance copy to each other.
#[test]
fn self_copy_of_no_payload_u8_and_f64() {
    both!(|engine| {
        for elem in ["", "u8", "f64"] {
            let c = component(&engine, &self_copy_component(elem));
            let mut g = Guest::new(&engine, &c);
            assert_eq!(g.call("run", &[]), Value::U32(42), "element type `{elem}`");
        }
    });
}

/// The same copies of a non-number element type trap (`SharedStreamImpl.write`/`SharedFutureImpl.read` in
/// definitions.py: `trap_if(inst is self.pending_inst and not none_or_number_type(self.t))`), where
/// `test_self_copy` stops at number types.
#[test]
fn self_copy_of_a_non_number_element_traps() {
    both!(|engine| {
        let c = component(&engine, &self_copy_component("(tuple u8 u8)"));
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.trap("run", &[]), Trap::Async(AsyncTrap::IntraInstanceCopy));
    });
}

/// `test_async_flat_params`: async lowers pass at most 4 flat parameters (`MAX_FLAT_ASYNC_PARAMS`), mixed core
/// types included; a fifth parameter sends them all through memory. The callees (synchronously lifted, so the
/// calls return `RETURNED`) check the values they get.
const FLAT_PARAMS: &str = r#"(component
  (component $Callee
    (core module $M
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "f1") (param f32 f64 i32 i64)
        (if (f32.ne (local.get 0) (f32.const 1.1)) (then unreachable))
        (if (f64.ne (local.get 1) (f64.const 2.2)) (then unreachable))
        (call $eq (local.get 2) (i32.const 3))
        (if (i64.ne (local.get 3) (i64.const 4)) (then unreachable)))
      (func (export "f2") (param i32 i32 i32 i32)
        (call $eq (local.get 0) (i32.const 1)) (call $eq (local.get 1) (i32.const 2))
        (call $eq (local.get 2) (i32.const 3)) (call $eq (local.get 3) (i32.const 4)))
      (func (export "f3") (param i32 i32 i32 i32 i32)
        (call $eq (local.get 0) (i32.const 1)) (call $eq (local.get 1) (i32.const 2))
        (call $eq (local.get 2) (i32.const 3)) (call $eq (local.get 3) (i32.const 4))
        (call $eq (local.get 4) (i32.const 5))))
    (core instance $i (instantiate $M))
    (func (export "f1") async (param "a" f32) (param "b" f64) (param "c" u32) (param "d" s64)
      (canon lift (core func $i "f1")))
    (func (export "f2") async (param "a" u32) (param "b" u8) (param "c" u8) (param "d" u8)
      (canon lift (core func $i "f2")))
    (func (export "f3") async (param "a" u32) (param "b" u8) (param "c" u8) (param "d" u8) (param "e" u8)
      (canon lift (core func $i "f3")))
  )
  (instance $callee (instantiate $Callee))
  (component $Caller
    (import "f1" (func $f1 async (param "a" f32) (param "b" f64) (param "c" u32) (param "d" s64)))
    (import "f2" (func $f2 async (param "a" u32) (param "b" u8) (param "c" u8) (param "d" u8)))
    (import "f3" (func $f3 async (param "a" u32) (param "b" u8) (param "c" u8) (param "d" u8) (param "e" u8)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $f1' (canon lower (func $f1) async (memory (core memory $mem "mem"))))
    (core func $f2' (canon lower (func $f2) async (memory (core memory $mem "mem"))))
    (core func $f3' (canon lower (func $f3) async (memory (core memory $mem "mem"))))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "f1" (func $f1 (param f32 f64 i32 i64) (result i32)))
      (import "" "f2" (func $f2 (param i32 i32 i32 i32) (result i32)))
      (import "" "f3" (func $f3 (param i32) (result i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "run") (result i32)
        (call $eq (call $f1 (f32.const 1.1) (f64.const 2.2) (i32.const 3) (i64.const 4)) (i32.const 2 (; RETURNED ;)))
        (call $eq (call $f2 (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)) (i32.const 2))
        (i64.store (i32.const 12) (i64.const 0x0504030200000001))
        (call $eq (call $f3 (i32.const 12)) (i32.const 2))
        (i32.const 42)))
    (core instance $i (instantiate $M (with "" (instance
      (export "mem" (memory $mem "mem")) (export "f1" (func $f1')) (export "f2" (func $f2')) (export "f3" (func $f3'))))))
    (func (export "run") async (result u32) (canon lift (core func $i "run")))
  )
  (instance $caller (instantiate $Caller
    (with "f1" (func $callee "f1")) (with "f2" (func $callee "f2")) (with "f3" (func $callee "f3"))))
  (export "run" (func $caller "run"))
)"#;

#[test]
fn async_flat_params() {
    both!(|engine| {
        let c = component(&engine, FLAT_PARAMS);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("run", &[]), Value::U32(42));
    });
}

/// `test_async_backpressure`: `p1` raises its instance's backpressure and waits for a future; a second call,
/// `p2`, cannot start meanwhile (its subtask is `STARTING`) and starts only after `p1` lowered backpressure
/// again and returned, which `p2` checks. The consumer sees both subtasks return and gets 84 through.
const BACKPRESSURE: &str = r#"(component
  (type $FT (future))
  (component $P
    (type $FT (future))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $bp.inc (canon backpressure.inc))
    (core func $bp.dec (canon backpressure.dec))
    (core func $ret (canon task.return))
    (core func $fread (canon future.read $FT async (memory (core memory $mem "mem"))))
    (core func $fdrop (canon future.drop-readable $FT))
    (core func $ws.new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core module $M
      (import "" "bp.inc" (func $bp.inc))
      (import "" "bp.dec" (func $bp.dec))
      (import "" "ret" (func $ret))
      (import "" "fread" (func $fread (param i32 i32) (result i32)))
      (import "" "fdrop" (func $fdrop (param i32)))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "join" (func $join (param i32 i32)))
      (global $done1 (mut i32) (i32.const 0))
      (global $fut (mut i32) (i32.const 0))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "p1") (param $f i32) (result i32) (local $ws i32)
        (call $bp.inc)
        (global.set $fut (local.get $f))
        (call $eq (call $fread (local.get $f) (i32.const 0)) (i32.const -1 (; BLOCKED ;)))
        (local.set $ws (call $ws.new))
        (call $join (local.get $f) (local.get $ws))
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (local.get $ws) (i32.const 4))))
      (func (export "p1-cb") (param $code i32) (param $i i32) (param $payload i32) (result i32)
        (call $eq (local.get $code) (i32.const 4 (; FUTURE_READ ;)))
        (call $eq (local.get $i) (global.get $fut))
        (call $eq (local.get $payload) (i32.const 0 (; COMPLETED ;)))
        (call $join (global.get $fut) (i32.const 0))
        (call $fdrop (global.get $fut))
        (call $bp.dec)
        (call $ret)
        (global.set $done1 (i32.const 1))
        (i32.const 0 (; EXIT ;)))
      (func (export "p2") (result i32)
        (call $eq (global.get $done1) (i32.const 1))
        (call $ret)
        (i32.const 0 (; EXIT ;)))
      (func (export "no-cb") (param i32 i32 i32) (result i32) unreachable))
    (core instance $i (instantiate $M (with "" (instance
      (export "bp.inc" (func $bp.inc)) (export "bp.dec" (func $bp.dec)) (export "ret" (func $ret))
      (export "fread" (func $fread)) (export "fdrop" (func $fdrop)) (export "ws.new" (func $ws.new))
      (export "join" (func $join))))))
    (func (export "p1") async (param "f" $FT) (canon lift (core func $i "p1") async (callback (core func $i "p1-cb"))))
    (func (export "p2") async (canon lift (core func $i "p2") async (callback (core func $i "no-cb"))))
  )
  (instance $p (instantiate $P))
  (component $C
    (type $FT (future))
    (import "p1" (func $p1 async (param "f" $FT)))
    (import "p2" (func $p2 async))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $p1' (canon lower (func $p1) async (memory (core memory $mem "mem"))))
    (core func $p2' (canon lower (func $p2) async (memory (core memory $mem "mem"))))
    (core func $fnew (canon future.new $FT))
    (core func $fwrite (canon future.write $FT async (memory (core memory $mem "mem"))))
    (core func $fdrop-w (canon future.drop-writable $FT))
    (core func $ws.new (canon waitable-set.new))
    (core func $ws.wait (canon waitable-set.wait (memory (core memory $mem "mem"))))
    (core func $ws.drop (canon waitable-set.drop))
    (core func $join (canon waitable.join))
    (core func $sdrop (canon subtask.drop))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "p1" (func $p1 (param i32) (result i32)))
      (import "" "p2" (func $p2 (result i32)))
      (import "" "fnew" (func $fnew (result i64)))
      (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
      (import "" "fdrop-w" (func $fdrop-w (param i32)))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "ws.wait" (func $ws.wait (param i32 i32) (result i32)))
      (import "" "ws.drop" (func $ws.drop (param i32)))
      (import "" "join" (func $join (param i32 i32)))
      (import "" "sdrop" (func $sdrop (param i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      ;; Waits for the next event of `ws`, a subtask's return; drops that subtask and returns its index.
      (func $returned (param $ws i32) (result i32) (local $s i32)
        (call $eq (call $ws.wait (local.get $ws) (i32.const 8)) (i32.const 1 (; SUBTASK ;)))
        (call $eq (i32.load (i32.const 12)) (i32.const 2 (; RETURNED ;)))
        (local.set $s (i32.load (i32.const 8)))
        (call $join (local.get $s) (i32.const 0))
        (call $sdrop (local.get $s))
        (local.get $s))
      (func (export "run") (result i32)
        (local $p i64) (local $w i32) (local $ret i32) (local $s1 i32) (local $s2 i32) (local $ws i32)
        (local.set $p (call $fnew))
        (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $ret (call $p1 (i32.wrap_i64 (local.get $p))))
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
        (local.set $s1 (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ret (call $p2))
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
        (local.set $s2 (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ws (call $ws.new))
        (call $join (local.get $s1) (local.get $ws))
        (call $join (local.get $s2) (local.get $ws))
        (call $eq (call $fwrite (local.get $w) (i32.const 0)) (i32.const 0 (; COMPLETED ;)))
        (call $fdrop-w (local.get $w))
        (call $eq (call $returned (local.get $ws)) (local.get $s1))
        (call $eq (call $returned (local.get $ws)) (local.get $s2))
        (call $ws.drop (local.get $ws))
        (i32.const 84)))
    (core instance $i (instantiate $M (with "" (instance
      (export "mem" (memory $mem "mem")) (export "p1" (func $p1')) (export "p2" (func $p2'))
      (export "fnew" (func $fnew)) (export "fwrite" (func $fwrite)) (export "fdrop-w" (func $fdrop-w))
      (export "ws.new" (func $ws.new)) (export "ws.wait" (func $ws.wait)) (export "ws.drop" (func $ws.drop))
      (export "join" (func $join)) (export "sdrop" (func $sdrop))))))
    (func (export "run") async (result u8) (canon lift (core func $i "run")))
  )
  (instance $c (instantiate $C (with "p1" (func $p "p1")) (with "p2" (func $p "p2"))))
  (export "run" (func $c "run"))
)"#;

#[test]
fn async_backpressure() {
    both!(|engine| {
        let c = component(&engine, BACKPRESSURE);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("run", &[]), Value::U8(84));
    });
}

/// `test_cancel_subtask` (its first step): with the callee's backpressure up, two async calls stay `STARTING`;
/// cancelling them, synchronously and asynchronously, gives `CANCELLED_BEFORE_STARTED` at once, and the callee
/// (whose core function would trap) never runs.
const CANCEL_BEFORE_START: &str = r#"(component
  (component $Q
    (core func $bp.inc (canon backpressure.inc))
    (core func $bp.dec (canon backpressure.dec))
    (core module $M
      (import "" "bp.inc" (func $bp.inc))
      (import "" "bp.dec" (func $bp.dec))
      (func (export "inc") (call $bp.inc))
      (func (export "dec") (call $bp.dec))
      (func (export "f") (param i32) (result i32) unreachable)
      (func (export "f-cb") (param i32 i32 i32) (result i32) unreachable))
    (core instance $i (instantiate $M (with "" (instance
      (export "bp.inc" (func $bp.inc)) (export "bp.dec" (func $bp.dec))))))
    (func (export "inc") (canon lift (core func $i "inc")))
    (func (export "dec") (canon lift (core func $i "dec")))
    (func (export "f") async (param "x" u32) (canon lift (core func $i "f") async (callback (core func $i "f-cb"))))
  )
  (instance $q (instantiate $Q))
  (component $C
    (import "inc" (func $inc))
    (import "dec" (func $dec))
    (import "f" (func $f async (param "x" u32)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $inc' (canon lower (func $inc)))
    (core func $dec' (canon lower (func $dec)))
    (core func $f' (canon lower (func $f) async (memory (core memory $mem "mem"))))
    (core func $cancel (canon subtask.cancel))
    (core func $cancel-async (canon subtask.cancel async))
    (core func $sdrop (canon subtask.drop))
    (core module $M
      (import "" "inc" (func $inc))
      (import "" "dec" (func $dec))
      (import "" "f" (func $f (param i32) (result i32)))
      (import "" "cancel" (func $cancel (param i32) (result i32)))
      (import "" "cancel-async" (func $cancel-async (param i32) (result i32)))
      (import "" "sdrop" (func $sdrop (param i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "run") (result i32) (local $ret i32) (local $s1 i32) (local $s2 i32)
        (call $inc)
        (local.set $ret (call $f (i32.const 13)))
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
        (local.set $s1 (i32.shr_u (local.get $ret) (i32.const 4)))
        (local.set $ret (call $f (i32.const 13)))
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
        (local.set $s2 (i32.shr_u (local.get $ret) (i32.const 4)))
        (call $eq (call $cancel (local.get $s2)) (i32.const 3 (; CANCELLED_BEFORE_STARTED ;)))
        (call $eq (call $cancel-async (local.get $s1)) (i32.const 3 (; CANCELLED_BEFORE_STARTED ;)))
        (call $sdrop (local.get $s1))
        (call $sdrop (local.get $s2))
        (call $dec)
        (i32.const 42)))
    (core instance $i (instantiate $M (with "" (instance
      (export "inc" (func $inc')) (export "dec" (func $dec')) (export "f" (func $f'))
      (export "cancel" (func $cancel)) (export "cancel-async" (func $cancel-async)) (export "sdrop" (func $sdrop))))))
    (func (export "run") async (result u32) (canon lift (core func $i "run")))
  )
  (instance $c (instantiate $C (with "inc" (func $q "inc")) (with "dec" (func $q "dec")) (with "f" (func $q "f"))))
  (export "run" (func $c "run"))
)"#;

#[test]
fn cancel_subtask_before_it_starts() {
    both!(|engine| {
        let c = component(&engine, CANCEL_BEFORE_START);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("run", &[]), Value::U32(42));
    });
}

/// `test_futures` (its last step): dropping the writable end of a future that was never written traps.
const FUTURE_DROP_UNWRITTEN: &str = r#"(component
  (type $F (future u8))
  (core func $fnew (canon future.new $F))
  (core func $fdrop-w (canon future.drop-writable $F))
  (core module $M
    (import "" "fnew" (func $fnew (result i64)))
    (import "" "fdrop-w" (func $fdrop-w (param i32)))
    (func (export "run")
      (call $fdrop-w (i32.wrap_i64 (i64.shr_u (call $fnew) (i64.const 32))))))
  (core instance $i (instantiate $M (with "" (instance
    (export "fnew" (func $fnew)) (export "fdrop-w" (func $fdrop-w))))))
  (func (export "run") (canon lift (core func $i "run")))
)"#;

#[test]
fn dropping_an_unwritten_future_writer_traps() {
    both!(|engine| {
        let c = component(&engine, FUTURE_DROP_UNWRITTEN);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.trap("run", &[]), Trap::Async(AsyncTrap::FutureNotWritten));
    });
}

/// `test_async_callback`: a callback-lifted consumer starts two producers (each waits for a future the consumer
/// writes, where the Python producers wait for a flag), waits for the first, yields, releases the second and
/// waits for it, keeping its state in `context` slot 0 between callbacks (42, 52, 62), and returns 83.
const ASYNC_CALLBACK: &str = r#"(component
  (type $FT (future))
  (component $P
    (type $FT (future))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $ret (canon task.return))
    (core func $fread (canon future.read $FT async (memory (core memory $mem "mem"))))
    (core func $fdrop (canon future.drop-readable $FT))
    (core func $ws.new (canon waitable-set.new))
    (core func $ws.drop (canon waitable-set.drop))
    (core func $join (canon waitable.join))
    (core func $get (canon context.get i32 0))
    (core func $set (canon context.set i32 0))
    (core module $M
      (import "" "ret" (func $ret))
      (import "" "fread" (func $fread (param i32 i32) (result i32)))
      (import "" "fdrop" (func $fdrop (param i32)))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "ws.drop" (func $ws.drop (param i32)))
      (import "" "join" (func $join (param i32 i32)))
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "p") (param $f i32) (result i32)
        (call $eq (call $fread (local.get $f) (i32.const 0)) (i32.const -1 (; BLOCKED ;)))
        (call $set (call $ws.new))
        (call $join (local.get $f) (call $get))
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $get) (i32.const 4))))
      (func (export "p-cb") (param $code i32) (param $i i32) (param $payload i32) (result i32)
        (call $eq (local.get $code) (i32.const 4 (; FUTURE_READ ;)))
        (call $eq (local.get $payload) (i32.const 0 (; COMPLETED ;)))
        (call $join (local.get $i) (i32.const 0))
        (call $fdrop (local.get $i))
        (call $ws.drop (call $get))
        (call $ret)
        (i32.const 0 (; EXIT ;))))
    (core instance $i (instantiate $M (with "" (instance
      (export "ret" (func $ret)) (export "fread" (func $fread)) (export "fdrop" (func $fdrop))
      (export "ws.new" (func $ws.new)) (export "ws.drop" (func $ws.drop)) (export "join" (func $join))
      (export "get" (func $get)) (export "set" (func $set))))))
    (func (export "p") async (param "f" $FT) (canon lift (core func $i "p") async (callback (core func $i "p-cb"))))
  )
  (instance $p (instantiate $P))
  (component $C
    (type $FT (future))
    (import "p" (func $p async (param "f" $FT)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $p' (canon lower (func $p) async (memory (core memory $mem "mem"))))
    (core func $fnew (canon future.new $FT))
    (core func $fwrite (canon future.write $FT async (memory (core memory $mem "mem"))))
    (core func $fdrop-w (canon future.drop-writable $FT))
    (core func $ws.new (canon waitable-set.new))
    (core func $join (canon waitable.join))
    (core func $sdrop (canon subtask.drop))
    (core func $ret (canon task.return (result u32)))
    (core func $get (canon context.get i32 0))
    (core func $set (canon context.set i32 0))
    (core module $M
      (import "" "p" (func $p (param i32) (result i32)))
      (import "" "fnew" (func $fnew (result i64)))
      (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
      (import "" "fdrop-w" (func $fdrop-w (param i32)))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "join" (func $join (param i32 i32)))
      (import "" "sdrop" (func $sdrop (param i32)))
      (import "" "ret" (func $ret (param i32)))
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      (global $ws (mut i32) (i32.const 0))
      (global $s1 (mut i32) (i32.const 0))
      (global $s2 (mut i32) (i32.const 0))
      (global $w2 (mut i32) (i32.const 0))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      ;; Starts a producer on a new future; returns the subtask, keeps the writer in $w2.
      (func $start (result i32) (local $p i64) (local $ret i32)
        (local.set $p (call $fnew))
        (global.set $w2 (i32.wrap_i64 (i64.shr_u (local.get $p) (i64.const 32))))
        (local.set $ret (call $p (i32.wrap_i64 (local.get $p))))
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
        (i32.shr_u (local.get $ret) (i32.const 4)))
      (func $release (param $w i32)
        (call $eq (call $fwrite (local.get $w) (i32.const 0)) (i32.const 0 (; COMPLETED ;)))
        (call $fdrop-w (local.get $w)))
      (func $wait (result i32) (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (global.get $ws) (i32.const 4))))
      (func (export "run") (result i32) (local $w1 i32)
        (global.set $s1 (call $start))
        (local.set $w1 (global.get $w2))
        (global.set $s2 (call $start))
        (global.set $ws (call $ws.new))
        (call $join (global.get $s1) (global.get $ws))
        (call $join (global.get $s2) (global.get $ws))
        (call $release (local.get $w1))
        (call $set (i32.const 42))
        (call $wait))
      (func (export "cb") (param $code i32) (param $i i32) (param $payload i32) (result i32)
        (if (i32.eq (call $get) (i32.const 42)) (then
          (call $eq (local.get $code) (i32.const 1 (; SUBTASK ;)))
          (call $eq (local.get $i) (global.get $s1))
          (call $eq (local.get $payload) (i32.const 2 (; RETURNED ;)))
          (call $join (local.get $i) (i32.const 0))
          (call $sdrop (local.get $i))
          (call $set (i32.const 52))
          (return (i32.const 1 (; YIELD ;)))))
        (if (i32.eq (call $get) (i32.const 52)) (then
          (call $eq (local.get $code) (i32.const 0 (; NONE ;)))
          (call $eq (local.get $i) (i32.const 0))
          (call $eq (local.get $payload) (i32.const 0))
          (call $release (global.get $w2))
          (call $set (i32.const 62))
          (return (call $wait))))
        (call $eq (call $get) (i32.const 62))
        (call $eq (local.get $code) (i32.const 1 (; SUBTASK ;)))
        (call $eq (local.get $i) (global.get $s2))
        (call $eq (local.get $payload) (i32.const 2 (; RETURNED ;)))
        (call $join (local.get $i) (i32.const 0))
        (call $sdrop (local.get $i))
        (call $ret (i32.const 83))
        (i32.const 0 (; EXIT ;))))
    (core instance $i (instantiate $M (with "" (instance
      (export "p" (func $p')) (export "fnew" (func $fnew)) (export "fwrite" (func $fwrite))
      (export "fdrop-w" (func $fdrop-w)) (export "ws.new" (func $ws.new)) (export "join" (func $join))
      (export "sdrop" (func $sdrop)) (export "ret" (func $ret)) (export "get" (func $get)) (export "set" (func $set))))))
    (func (export "run") async (result u32) (canon lift (core func $i "run") async (callback (core func $i "cb"))))
  )
  (instance $c (instantiate $C (with "p" (func $p "p"))))
  (export "run" (func $c "run"))
)"#;

#[test]
fn async_callback() {
    both!(|engine| {
        let c = component(&engine, ASYNC_CALLBACK);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("run", &[]), Value::U32(83));
    });
}

/// `test_cancel_subtask` (`callee2` with `x` = 1 and 2): a started callee waiting on an empty waitable set gets
/// `TASK_CANCELLED` when its caller cancels it (here through its callback, where the Python callee waits in its
/// core function); returning anyway gives `RETURNED` with the result stored, `task.cancel` gives
/// `CANCELLED_BEFORE_RETURNED` with the caller's memory untouched.
const CANCEL_STARTED: &str = r#"(component
  (component $Q
    (core func $ret (canon task.return (result u8)))
    (core func $cancel (canon task.cancel))
    (core func $ws.new (canon waitable-set.new))
    (core func $get (canon context.get i32 0))
    (core func $set (canon context.set i32 0))
    (core module $M
      (import "" "ret" (func $ret (param i32)))
      (import "" "cancel" (func $cancel))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "get" (func $get (result i32)))
      (import "" "set" (func $set (param i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func (export "f") (param $x i32) (result i32)
        (call $set (local.get $x))
        (i32.or (i32.const 2 (; WAIT ;)) (i32.shl (call $ws.new) (i32.const 4))))
      (func (export "f-cb") (param $code i32) (param $i i32) (param $payload i32) (result i32)
        (call $eq (local.get $code) (i32.const 6 (; TASK_CANCELLED ;)))
        (call $eq (local.get $i) (i32.const 0))
        (call $eq (local.get $payload) (i32.const 0))
        (if (i32.eq (call $get) (i32.const 1))
          (then (call $ret (i32.const 42)))
          (else (call $cancel)))
        (i32.const 0 (; EXIT ;))))
    (core instance $i (instantiate $M (with "" (instance
      (export "ret" (func $ret)) (export "cancel" (func $cancel)) (export "ws.new" (func $ws.new))
      (export "get" (func $get)) (export "set" (func $set))))))
    (func (export "f") async (param "x" u8) (result u8)
      (canon lift (core func $i "f") async (callback (core func $i "f-cb"))))
  )
  (instance $q (instantiate $Q))
  (component $C
    (import "f" (func $f async (param "x" u8) (result u8)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $f' (canon lower (func $f) async (memory (core memory $mem "mem"))))
    (core func $cancel (canon subtask.cancel))
    (core func $cancel-async (canon subtask.cancel async))
    (core func $sdrop (canon subtask.drop))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "f" (func $f (param i32 i32) (result i32)))
      (import "" "cancel" (func $cancel (param i32) (result i32)))
      (import "" "cancel-async" (func $cancel-async (param i32) (result i32)))
      (import "" "sdrop" (func $sdrop (param i32)))
      (func $eq (param i32 i32) (if (i32.ne (local.get 0) (local.get 1)) (then unreachable)))
      (func $started (param $ret i32) (result i32)
        (call $eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1 (; STARTED ;)))
        (i32.shr_u (local.get $ret) (i32.const 4)))
      (func (export "run") (result i32) (local $s1 i32) (local $s2 i32)
        (local.set $s1 (call $started (call $f (i32.const 1) (i32.const 0))))
        (local.set $s2 (call $started (call $f (i32.const 2) (i32.const 0))))
        (i32.store8 (i32.const 0) (i32.const 13))
        (call $eq (call $cancel (local.get $s1)) (i32.const 2 (; RETURNED ;)))
        (call $eq (i32.load8_u (i32.const 0)) (i32.const 42))
        (call $sdrop (local.get $s1))
        (i32.store8 (i32.const 0) (i32.const 13))
        (call $eq (call $cancel-async (local.get $s2)) (i32.const 4 (; CANCELLED_BEFORE_RETURNED ;)))
        (call $eq (i32.load8_u (i32.const 0)) (i32.const 13))
        (call $sdrop (local.get $s2))
        (i32.const 42)))
    (core instance $i (instantiate $M (with "" (instance
      (export "mem" (memory $mem "mem")) (export "f" (func $f')) (export "cancel" (func $cancel))
      (export "cancel-async" (func $cancel-async)) (export "sdrop" (func $sdrop))))))
    (func (export "run") async (result u32) (canon lift (core func $i "run")))
  )
  (instance $c (instantiate $C (with "f" (func $q "f"))))
  (export "run" (func $c "run"))
)"#;

#[test]
fn cancel_subtask_after_it_started() {
    both!(|engine| {
        let c = component(&engine, CANCEL_STARTED);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.call("run", &[]), Value::U32(42));
    });
}

/// Not a port: where the spec needs a suspended frame, the trap says so. `g` (synchronously lifted) waits in its
/// core function for a future its caller writes only after the async call returns (definitions.py `canon_lower`
/// with `async` returns `STARTED` as soon as the callee blocks); the callee's frame is above the caller's on the
/// native stack, so the runtime traps "needs stack switching" — not "deadlock", which the spec would not reach.
const BLOCKED_ABOVE_ASYNC_CALLER: &str = r#"(component
  (component $A
    (type $FT (future))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $fread (canon future.read $FT async (memory (core memory $mem "mem"))))
    (core func $ws.new (canon waitable-set.new))
    (core func $ws.wait (canon waitable-set.wait (memory (core memory $mem "mem"))))
    (core func $join (canon waitable.join))
    (core module $M
      (import "" "fread" (func $fread (param i32 i32) (result i32)))
      (import "" "ws.new" (func $ws.new (result i32)))
      (import "" "ws.wait" (func $ws.wait (param i32 i32) (result i32)))
      (import "" "join" (func $join (param i32 i32)))
      (func (export "g") (param $f i32) (local $ws i32)
        (drop (call $fread (local.get $f) (i32.const 0)))
        (local.set $ws (call $ws.new))
        (call $join (local.get $f) (local.get $ws))
        (drop (call $ws.wait (local.get $ws) (i32.const 0)))))
    (core instance $i (instantiate $M (with "" (instance
      (export "fread" (func $fread)) (export "ws.new" (func $ws.new)) (export "ws.wait" (func $ws.wait))
      (export "join" (func $join))))))
    (func (export "g") async (param "f" $FT) (canon lift (core func $i "g")))
  )
  (instance $a (instantiate $A))
  (component $B
    (type $FT (future))
    (import "g" (func $g async (param "f" $FT)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $g' (canon lower (func $g) async (memory (core memory $mem "mem"))))
    (core func $fnew (canon future.new $FT))
    (core func $fwrite (canon future.write $FT async (memory (core memory $mem "mem"))))
    (core module $M
      (import "" "g" (func $g (param i32) (result i32)))
      (import "" "fnew" (func $fnew (result i64)))
      (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
      (func (export "run") (local $p i64)
        (local.set $p (call $fnew))
        (drop (call $g (i32.wrap_i64 (local.get $p))))
        (drop (call $fwrite (i32.wrap_i64 (i64.shr_u (local.get $p) (i64.const 32))) (i32.const 0)))))
    (core instance $i (instantiate $M (with "" (instance
      (export "g" (func $g')) (export "fnew" (func $fnew)) (export "fwrite" (func $fwrite))))))
    (func (export "run") async (canon lift (core func $i "run")))
  )
  (instance $b (instantiate $B (with "g" (func $a "g"))))
  (export "run" (func $b "run"))
)"#;

#[test]
fn a_callee_blocked_above_its_async_caller_needs_stack_switching() {
    both!(|engine| {
        let c = component(&engine, BLOCKED_ABOVE_ASYNC_CALLER);
        let mut g = Guest::new(&engine, &c);
        assert_eq!(g.trap("run", &[]), Trap::NeedsStackSwitching);
    });
}
