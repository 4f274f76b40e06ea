//! Host ends of streams and futures: a host writer feeding a guest's readable end (written up front, or from
//! another thread while the guest waits), a guest stream returned to the host and read to its end, and futures
//! both ways.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use component_layer::{FutureReader, FutureWriter, StreamReader, StreamWriter, Value};

use crate::both;
use crate::common::{component, linker, store};

/// `sum` reads a `stream<u32>` with synchronous reads of up to 4 elements until it is dropped and returns the sum
/// (and the number of reads, times 1000); `count` (callback-lifted) returns a new `stream<u32>` and writes
/// `0..n` into it with one async write; `get` reads a `future<u32>`; `promise` returns a `future<u32>` and
/// writes `n` into it after returning.
const GUEST: &str = r#"(component
  (type $s (stream u32))
  (type $f (future u32))
  (core module $Mem (memory (export "mem") 5))
  (core instance $mem (instantiate $Mem))
  (core func $read (canon stream.read $s (memory (core memory $mem "mem"))))
  (core func $drop-r (canon stream.drop-readable $s))
  (core func $new (canon stream.new $s))
  (core func $write (canon stream.write $s async (memory (core memory $mem "mem"))))
  (core func $drop-w (canon stream.drop-writable $s))
  (core func $fread (canon future.read $f (memory (core memory $mem "mem"))))
  (core func $fdrop-r (canon future.drop-readable $f))
  (core func $fnew (canon future.new $f))
  (core func $fwrite (canon future.write $f async (memory (core memory $mem "mem"))))
  (core func $fdrop-w (canon future.drop-writable $f))
  (core func $return-s (canon task.return (result $s)))
  (core func $return-f (canon task.return (result $f)))
  (core func $ws.new (canon waitable-set.new))
  (core func $join (canon waitable.join))
  (core func $aread (canon stream.read $s async (memory (core memory $mem "mem"))))
  (core func $return-u32 (canon task.return (result u32)))
  (core module $m
    (import "" "mem" (memory 5))
    (import "" "read" (func $read (param i32 i32 i32) (result i32)))
    (import "" "drop-r" (func $drop-r (param i32)))
    (import "" "new" (func $new (result i64)))
    (import "" "write" (func $write (param i32 i32 i32) (result i32)))
    (import "" "drop-w" (func $drop-w (param i32)))
    (import "" "fread" (func $fread (param i32 i32) (result i32)))
    (import "" "fdrop-r" (func $fdrop-r (param i32)))
    (import "" "fnew" (func $fnew (result i64)))
    (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
    (import "" "fdrop-w" (func $fdrop-w (param i32)))
    (import "" "return-s" (func $return-s (param i32)))
    (import "" "return-f" (func $return-f (param i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    (import "" "aread" (func $aread (param i32 i32 i32) (result i32)))
    (import "" "return-u32" (func $return-u32 (param i32)))
    (global $w (mut i32) (i32.const 0))
    (global $s (mut i32) (i32.const 0))
    (global $ws (mut i32) (i32.const 0))
    (global $sum (mut i32) (i32.const 0))
    ;; Takes the result `r` of a read (its values at 16), then reads on until a read blocks (WAIT) or the stream
    ;; is dropped (EXIT, with the sum).
    (func $step (param $r i32) (result i32) (local $n i32) (local $k i32)
      (loop $again
        (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
        (local.set $k (i32.const 0))
        (block $done (loop $add
          (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
          (global.set $sum (i32.add (global.get $sum)
            (i32.load offset=16 (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $add)))
        (if (i32.eq (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1)) ;; DROPPED
          (then
            (call $join (global.get $s) (i32.const 0))
            (call $drop-r (global.get $s))
            (call $return-u32 (global.get $sum))
            (return (i32.const 0))))
        (local.set $r (call $aread (global.get $s) (i32.const 16) (i32.const 4)))
        (br_if $again (i32.ne (local.get $r) (i32.const -1))))
      (i32.or (i32.const 2) (i32.shl (global.get $ws) (i32.const 4))))
    (func (export "sum-async") (param $s i32) (result i32)
      (global.set $s (local.get $s))
      (global.set $sum (i32.const 0))
      (global.set $ws (call $ws.new))
      (call $join (local.get $s) (global.get $ws))
      (call $step (i32.const 0)))
    (func (export "sum-async-cb") (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
      (if (i32.ne (local.get $ev) (i32.const 2)) (then unreachable)) ;; STREAM_READ
      (call $step (local.get $p2)))
    (global $fw (mut i32) (i32.const 0))
    (func (export "sum") (param $s i32) (result i32)
      (local $r i32) (local $n i32) (local $k i32) (local $sum i32) (local $reads i32)
      (loop $next
        (local.set $r (call $read (local.get $s) (i32.const 16) (i32.const 4)))
        (local.set $reads (i32.add (local.get $reads) (i32.const 1)))
        (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
        (local.set $k (i32.const 0))
        (block $done (loop $add
          (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
          (local.set $sum (i32.add (local.get $sum)
            (i32.load offset=16 (i32.shl (local.get $k) (i32.const 2)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $add)))
        (br_if $next (i32.eqz (i32.and (local.get $r) (i32.const 0xf)))))
      (if (i32.ne (i32.and (local.get $r) (i32.const 0xf)) (i32.const 1)) (then unreachable)) ;; DROPPED
      (call $drop-r (local.get $s))
      (i32.add (local.get $sum) (i32.mul (local.get $reads) (i32.const 1000))))
    (func (export "count") (param $n i32) (result i32) (local $rw i64) (local $k i32) (local $st i32) (local $ws i32)
      (local.set $rw (call $new))
      (block $done (loop $fill
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (i32.store offset=256 (i32.shl (local.get $k) (i32.const 2)) (local.get $k))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $fill)))
      (global.set $w (i32.wrap_i64 (i64.shr_u (local.get $rw) (i64.const 32))))
      (call $return-s (i32.wrap_i64 (local.get $rw)))
      (local.set $st (call $write (global.get $w) (i32.const 256) (local.get $n)))
      (if (i32.ne (local.get $st) (i32.const -1)) ;; not BLOCKED
        (then (call $drop-w (global.get $w)) (return (i32.const 0))))
      (local.set $ws (call $ws.new))
      (call $join (global.get $w) (local.get $ws))
      (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4))))
    (func (export "count-cb") (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
      (if (i32.ne (local.get $ev) (i32.const 3)) (then unreachable)) ;; STREAM_WRITE
      (call $join (global.get $w) (i32.const 0))
      (call $drop-w (global.get $w))
      (i32.const 0))
    (func (export "get") (param $f i32) (result i32)
      (if (i32.ne (call $fread (local.get $f) (i32.const 32)) (i32.const 0)) (then (return (i32.const -1))))
      (call $fdrop-r (local.get $f))
      (i32.load (i32.const 32)))
    (func (export "promise") (param $n i32) (result i32) (local $rw i64) (local $st i32) (local $ws i32)
      (local.set $rw (call $fnew))
      (global.set $fw (i32.wrap_i64 (i64.shr_u (local.get $rw) (i64.const 32))))
      (i32.store (i32.const 48) (local.get $n))
      (call $return-f (i32.wrap_i64 (local.get $rw)))
      (local.set $st (call $fwrite (global.get $fw) (i32.const 48)))
      (if (i32.ne (local.get $st) (i32.const -1))
        (then (call $fdrop-w (global.get $fw)) (return (i32.const 0))))
      (local.set $ws (call $ws.new))
      (call $join (global.get $fw) (local.get $ws))
      (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4))))
    (func (export "promise-cb") (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
      (if (i32.ne (local.get $ev) (i32.const 5)) (then unreachable)) ;; FUTURE_WRITE
      (call $join (global.get $fw) (i32.const 0))
      (call $fdrop-w (global.get $fw))
      (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "read" (func $read)) (export "drop-r" (func $drop-r)) (export "new" (func $new))
    (export "write" (func $write)) (export "drop-w" (func $drop-w))
    (export "fread" (func $fread)) (export "fdrop-r" (func $fdrop-r)) (export "fnew" (func $fnew))
    (export "fwrite" (func $fwrite)) (export "fdrop-w" (func $fdrop-w))
    (export "return-s" (func $return-s)) (export "return-f" (func $return-f))
    (export "ws.new" (func $ws.new)) (export "join" (func $join))
    (export "aread" (func $aread)) (export "return-u32" (func $return-u32))))))
  (func (export "sum-async") async (param "s" $s) (result u32)
    (canon lift (core func $i "sum-async") async (callback (core func $i "sum-async-cb"))))
  (func (export "sum") (param "s" $s) (result u32) (canon lift (core func $i "sum")))
  (func (export "count") async (param "n" u32) (result $s)
    (canon lift (core func $i "count") async (callback (core func $i "count-cb"))))
  (func (export "get") (param "f" $f) (result u32) (canon lift (core func $i "get")))
  (func (export "promise") async (param "n" u32) (result $f)
    (canon lift (core func $i "promise") async (callback (core func $i "promise-cb")))))"#;

#[test]
fn host_writer_to_guest_reader() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let sum = i.get_func("sum").unwrap();
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write((1..=10).map(Value::U32)).unwrap();
        drop(writer);
        let mut out = [Value::Bool(false)];
        sum.call(&mut s, &[Value::Stream(stream)], &mut out).unwrap();
        // Three reads of up to 4 values, and a fourth that finds the writer gone.
        assert_eq!(out[0], Value::U32(55 + 4000));
        // An empty stream: one read, DROPPED.
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.close();
        sum.call(&mut s, &[Value::Stream(stream)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(1000));
        assert!(!s.is_poisoned());
    });
}

#[test]
fn host_writer_on_another_thread_wakes_the_waiting_guest() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let (writer, stream) = StreamWriter::new(&mut s);
        let feeder = std::thread::spawn(move || {
            for k in 0..5u32 {
                std::thread::sleep(Duration::from_millis(5));
                writer.write([Value::U32(k), Value::U32(10)]).unwrap();
            }
        });
        let mut out = [Value::Bool(false)];
        i.get_func("sum").unwrap().call(&mut s, &[Value::Stream(stream)], &mut out).unwrap();
        feeder.join().unwrap();
        let Value::U32(v) = out[0] else { panic!("{:?}", out[0]) };
        assert_eq!(v % 1000, 60, "all values arrived");
        assert!(v / 1000 >= 4, "the guest read at least 3 batches and the end");
    });
}

#[test]
fn a_mistyped_host_value_traps_the_reader() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write([Value::String("x".into())]).unwrap();
        drop(writer);
        let mut out = [Value::Bool(false)];
        assert!(i.get_func("sum").unwrap().call(&mut s, &[Value::Stream(stream)], &mut out).is_err());
    });
}

#[test]
fn guest_stream_read_to_end_by_the_host() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let count = i.get_func("count").unwrap();
        let mut out = [Value::Bool(false)];
        count.call(&mut s, &[Value::U32(6)], &mut out).unwrap();
        let Value::Stream(stream) = out[0].clone() else { panic!("{:?}", out[0]) };
        let mut reader = StreamReader::new(&mut s, stream.clone()).unwrap();
        assert!(StreamReader::new(&mut s, stream).is_err(), "an end is taken once");
        let values = reader.read_to_end(&mut s).unwrap();
        assert_eq!(values, (0..6).map(Value::U32).collect::<Vec<_>>());
        assert_eq!(reader.read(&mut s).unwrap(), None);
        assert!(!s.is_poisoned());
    });
}

#[test]
fn a_host_reader_takes_a_bounded_chunk_of_one_guest_write() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        // One guest write of 70,000 elements: the host end takes 65,536 of them, and the guest is told so (its
        // write completes with that count; `count` then drops its end).
        i.get_func("count").unwrap().call(&mut s, &[Value::U32(70_000)], &mut out).unwrap();
        let Value::Stream(stream) = out[0].clone() else { panic!("{:?}", out[0]) };
        let values = StreamReader::new(&mut s, stream).unwrap().read_to_end(&mut s).unwrap();
        assert_eq!(values.len(), 65_536);
        assert_eq!(values.last(), Some(&Value::U32(65_535)));
        assert!(!s.is_poisoned());
    });
}

#[test]
fn futures_both_ways() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let mut out = [Value::Bool(false)];
        // Host → guest.
        let (writer, future) = FutureWriter::new(&mut s);
        writer.write(Value::U32(77)).unwrap();
        i.get_func("get").unwrap().call(&mut s, &[Value::Future(future)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(77));
        // Written from another thread while the guest waits.
        let (writer, future) = FutureWriter::new(&mut s);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            writer.write(Value::U32(5)).unwrap();
        });
        i.get_func("get").unwrap().call(&mut s, &[Value::Future(future)], &mut out).unwrap();
        t.join().unwrap();
        assert_eq!(out[0], Value::U32(5));
        // Dropped unwritten: the guest's read is DROPPED.
        let (writer, future) = FutureWriter::new(&mut s);
        drop(writer);
        i.get_func("get").unwrap().call(&mut s, &[Value::Future(future)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(u32::MAX));
        // Guest → host.
        i.get_func("promise").unwrap().call(&mut s, &[Value::U32(9)], &mut out).unwrap();
        let Value::Future(future) = out[0].clone() else { panic!("{:?}", out[0]) };
        let reader = FutureReader::new(&mut s, future).unwrap();
        assert_eq!(reader.read(&mut s).unwrap(), Some(Value::U32(9)));
        assert!(!s.is_poisoned());
    });
}

/// A waker that counts its wakes.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn call_async_yields_while_a_guest_waits_for_a_host_writer() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let f = i.get_func("sum-async").unwrap();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let (writer, stream) = StreamWriter::new(&mut s);
        let mut out = [Value::Bool(false)];
        let args = [Value::Stream(stream)];
        {
            let mut call = Box::pin(f.call_async(&mut s, &args, &mut out));
            assert!(call.as_mut().poll(&mut cx).is_pending(), "nothing written yet");
            writer.write((1..=3).map(Value::U32)).unwrap();
            assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the write woke the call");
            assert!(call.as_mut().poll(&mut cx).is_pending(), "the guest read 3 values and waits again");
            writer.write((4..=9).map(Value::U32)).unwrap();
            drop(writer);
            match Pin::new(&mut call).poll(&mut cx) {
                Poll::Ready(r) => r.unwrap(),
                Poll::Pending => panic!("the stream ended"),
            }
        }
        assert_eq!(out[0], Value::U32(45));
        assert!(!s.is_poisoned());
    });
}

/// `StreamWriter::drained` is a producer's backpressure: it waits, without the store, until the guest has read
/// what was queued, and the guest's reads wake it.
#[test]
fn a_host_writer_waits_for_the_guest_to_drain_its_queue() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let f = i.get_func("sum-async").unwrap();
        let (call_wakes, writer_wakes) =
            (Arc::new(Counter(AtomicUsize::new(0))), Arc::new(Counter(AtomicUsize::new(0))));
        let (call_waker, writer_waker) = (Waker::from(call_wakes.clone()), Waker::from(writer_wakes.clone()));
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write((1..=10).map(Value::U32)).unwrap();
        assert_eq!(writer.queued(), 10);
        let mut drained = Box::pin(writer.drained(0));
        assert!(drained.as_mut().poll(&mut Context::from_waker(&writer_waker)).is_pending());
        let mut out = [Value::Bool(false)];
        let args = [Value::Stream(stream)];
        {
            let mut call = Box::pin(f.call_async(&mut s, &args, &mut out));
            // The guest reads all ten (4 + 4 + 2) and waits for more.
            assert!(call.as_mut().poll(&mut Context::from_waker(&call_waker)).is_pending());
            assert!(writer_wakes.0.load(Ordering::SeqCst) >= 1, "the guest's reads woke the writer");
            assert_eq!(writer.queued(), 0);
            assert!(drained.as_mut().poll(&mut Context::from_waker(&writer_waker)).is_ready());
            writer.write([Value::U32(11), Value::U32(12)]).unwrap();
            let mut room = Box::pin(writer.drained(2));
            assert!(room.as_mut().poll(&mut Context::from_waker(&writer_waker)).is_ready(), "2 queued, 2 allowed");
            drop(room);
            drop(drained);
            drop(writer);
            match call.as_mut().poll(&mut Context::from_waker(&call_waker)) {
                Poll::Ready(r) => r.unwrap(),
                Poll::Pending => panic!("the stream ended"),
            }
        }
        assert_eq!(out[0], Value::U32(78));
        assert!(!s.is_poisoned());
    });
}

/// `send` passes the readable end of a new `stream<u32>` to the async host import `sink` (async lower), writes
/// `0..n` into the writable end with synchronous writes (each completes with what the host end takes), drops
/// it, and returns what `sink` returns. `fsend` does the same with a `future<u32>` holding `n` and `fsink`.
const SENDER: &str = r#"(component
  (type $s (stream u32))
  (type $f (future u32))
  (import "sink" (func $sink async (param "s" $s) (result u32)))
  (import "fsink" (func $fsink async (param "f" $f) (result u32)))
  (core module $Mem (memory (export "mem") 5))
  (core instance $mem (instantiate $Mem))
  (core func $sink (canon lower (func $sink) async (memory (core memory $mem "mem"))))
  (core func $fsink (canon lower (func $fsink) async (memory (core memory $mem "mem"))))
  (core func $new (canon stream.new $s))
  (core func $write (canon stream.write $s (memory (core memory $mem "mem"))))
  (core func $drop-w (canon stream.drop-writable $s))
  (core func $fnew (canon future.new $f))
  (core func $fwrite (canon future.write $f (memory (core memory $mem "mem"))))
  (core func $return-u32 (canon task.return (result u32)))
  (core func $ws.new (canon waitable-set.new))
  (core func $join (canon waitable.join))
  (core module $m
    (import "" "mem" (memory 5))
    (import "" "sink" (func $sink (param i32 i32) (result i32)))
    (import "" "fsink" (func $fsink (param i32 i32) (result i32)))
    (import "" "new" (func $new (result i64)))
    (import "" "write" (func $write (param i32 i32 i32) (result i32)))
    (import "" "drop-w" (func $drop-w (param i32)))
    (import "" "fnew" (func $fnew (result i64)))
    (import "" "fwrite" (func $fwrite (param i32 i32) (result i32)))
    (import "" "return-u32" (func $return-u32 (param i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "join" (func $join (param i32 i32)))
    ;; Returns the host's answer now if the call returned, else waits for the subtask.
    (func $finish (param $st i32) (result i32) (local $ws i32)
      (if (i32.eq (local.get $st) (i32.const 2)) ;; RETURNED
        (then (call $return-u32 (i32.load (i32.const 16))) (return (i32.const 0))))
      (local.set $ws (call $ws.new))
      (call $join (i32.shr_u (local.get $st) (i32.const 4)) (local.get $ws))
      (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4)))) ;; WAIT
    (func (export "send") (param $n i32) (result i32)
      (local $rw i64) (local $w i32) (local $st i32) (local $k i32) (local $r i32)
      (block $filled (loop $fill
        (br_if $filled (i32.ge_u (local.get $k) (local.get $n)))
        (i32.store offset=256 (i32.shl (local.get $k) (i32.const 2)) (local.get $k))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $fill)))
      (local.set $rw (call $new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $rw) (i64.const 32))))
      (local.set $st (call $sink (i32.wrap_i64 (local.get $rw)) (i32.const 16)))
      (local.set $k (i32.const 0))
      (block $written (loop $more
        (br_if $written (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $r (call $write (local.get $w)
          (i32.add (i32.const 256) (i32.shl (local.get $k) (i32.const 2))) (i32.sub (local.get $n) (local.get $k))))
        (if (i32.ne (i32.and (local.get $r) (i32.const 0xf)) (i32.const 0)) (then unreachable)) ;; COMPLETED
        (local.set $k (i32.add (local.get $k) (i32.shr_u (local.get $r) (i32.const 4))))
        (br $more)))
      (call $drop-w (local.get $w))
      (call $finish (local.get $st)))
    (func (export "fsend") (param $n i32) (result i32) (local $rw i64) (local $st i32)
      (local.set $rw (call $fnew))
      (local.set $st (call $fsink (i32.wrap_i64 (local.get $rw)) (i32.const 16)))
      (i32.store (i32.const 32) (local.get $n))
      (if (i32.ne (call $fwrite (i32.wrap_i64 (i64.shr_u (local.get $rw) (i64.const 32))) (i32.const 32))
                  (i32.const 0)) ;; COMPLETED
        (then unreachable))
      (call $finish (local.get $st)))
    (func (export "cb") (param $ev i32) (param $p1 i32) (param $p2 i32) (result i32)
      (if (i32.ne (local.get $ev) (i32.const 1)) (then unreachable)) ;; SUBTASK
      (call $return-u32 (i32.load (i32.const 16)))
      (i32.const 0)))
  (core instance $i (instantiate $m (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "sink" (func $sink)) (export "fsink" (func $fsink)) (export "new" (func $new))
    (export "write" (func $write)) (export "drop-w" (func $drop-w))
    (export "fnew" (func $fnew)) (export "fwrite" (func $fwrite))
    (export "return-u32" (func $return-u32)) (export "ws.new" (func $ws.new)) (export "join" (func $join))))))
  (func (export "send") async (param "n" u32) (result u32)
    (canon lift (core func $i "send") async (callback (core func $i "cb"))))
  (func (export "fsend") async (param "n" u32) (result u32)
    (canon lift (core func $i "fsend") async (callback (core func $i "cb")))))"#;

#[test]
fn an_async_host_function_reads_a_guest_stream_without_the_store() {
    both!(|engine| {
        let c = component(&engine, SENDER);
        let mut l = linker();
        // How many values `sink` read, in how many batches.
        let seen: Arc<std::sync::Mutex<(usize, usize)>> = Arc::default();
        let record = seen.clone();
        l.root()
            .func_new_async("sink", move |store, args| {
                let reader = match &args[0] {
                    Value::Stream(s) => StreamReader::new(store, s.clone()),
                    other => panic!("{other:?}"),
                };
                let record = record.clone();
                async move {
                    let mut reader = reader?;
                    let mut sum = 0u32;
                    while let Some(values) = reader.next_batch().await {
                        let mut r = record.lock().unwrap();
                        r.0 += values.len();
                        r.1 += 1;
                        for v in values {
                            let Value::U32(x) = v else { panic!("{v:?}") };
                            sum = sum.wrapping_add(x);
                        }
                    }
                    Ok(Some(Value::U32(sum)))
                }
            })
            .unwrap();
        l.root()
            .func_new_async("fsink", |store, args| {
                let reader = match &args[0] {
                    Value::Future(f) => FutureReader::new(store, f.clone()),
                    other => panic!("{other:?}"),
                };
                async move {
                    match reader?.into_value().await {
                        Some(Value::U32(n)) => Ok(Some(Value::U32(n + 1))),
                        other => panic!("{other:?}"),
                    }
                }
            })
            .unwrap();
        let mut s = store(&engine);
        let i = l.instantiate(&mut s, &c).unwrap();
        let send = i.get_func("send").unwrap();
        let mut out = [Value::Bool(false)];
        for n in [0u32, 1, 10, 70_000] {
            *seen.lock().unwrap() = (0, 0);
            send.call(&mut s, &[Value::U32(n)], &mut out).unwrap();
            assert_eq!(out[0], Value::U32((0..n).fold(0u32, u32::wrapping_add)), "n = {n}");
            let (values, batches) = *seen.lock().unwrap();
            assert_eq!(values, n as usize);
            // 70,000 values in one write: the host end takes 65,536, the guest's next write waits until the
            // host function has read them.
            assert_eq!(batches, usize::from(n > 0) + usize::from(n > 65_536), "n = {n}");
        }
        i.get_func("fsend").unwrap().call(&mut s, &[Value::U32(41)], &mut out).unwrap();
        assert_eq!(out[0], Value::U32(42));
        assert!(!s.is_poisoned());
    });
}

/// `bindgen!` over the guest's world: streams and futures cross as `StreamAny` and `FutureAny`, which the host
/// ends (`StreamWriter`, `StreamReader`, …) make and take.
mod stream_world {
    component_layer::bindgen!({
        inline: "
            package test:streams;
            world streams {
                export sum: func(s: stream<u32>) -> u32;
                export sum-async: async func(s: stream<u32>) -> u32;
                export count: async func(n: u32) -> stream<u32>;
                export get: func(f: future<u32>) -> u32;
                export promise: async func(n: u32) -> future<u32>;
            }
        ",
    });
}

#[test]
fn bindgen_and_typed_calls_pass_streams_and_futures() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let w = stream_world::Streams::instantiate(&mut s, &c, &linker()).unwrap();
        // Host → guest: a stream written up front, then an empty one read by the callback-lifted `sum-async`.
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write((1..=10).map(Value::U32)).unwrap();
        drop(writer);
        let moved = stream.clone();
        assert_eq!(w.call_sum(&mut s, stream).unwrap(), 55 + 4000);
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write((1..=3).map(Value::U32)).unwrap();
        drop(writer);
        assert_eq!(w.call_sum_async(&mut s, stream).unwrap() % 1000, 6);
        // Guest → host.
        let stream = w.call_count(&mut s, 5).unwrap();
        let values = StreamReader::new(&mut s, stream).unwrap().read_to_end(&mut s).unwrap();
        assert_eq!(values, (0..5).map(Value::U32).collect::<Vec<_>>());
        let (writer, future) = FutureWriter::new(&mut s);
        writer.write(Value::U32(77)).unwrap();
        assert_eq!(w.call_get(&mut s, future).unwrap(), 77);
        let future = w.call_promise(&mut s, 9).unwrap();
        assert_eq!(FutureReader::new(&mut s, future).unwrap().read(&mut s).unwrap(), Some(Value::U32(9)));
        assert!(!s.is_poisoned());
        // The first end moved into the guest with its call: passing it again traps, as a dropped resource does.
        let err = w.call_sum(&mut s, moved).unwrap_err();
        assert!(err.to_string().contains("resource") || err.to_string().contains("gone"), "{err}");
    });
}

#[test]
fn typed_stream_and_future_types_are_checked() {
    both!(|engine| {
        let c = component(&engine, GUEST);
        let mut s = store(&engine);
        let i = linker().instantiate(&mut s, &c).unwrap();
        let sum = i.get_typed_func::<(component_layer::StreamAny,), (u32,)>("sum").unwrap();
        let (writer, stream) = StreamWriter::new(&mut s);
        writer.write([Value::U32(4), Value::U32(5)]).unwrap();
        drop(writer);
        assert_eq!(sum.call(&mut s, (stream,)).unwrap(), (9 + 2000,));
        let err = i.get_typed_func::<(component_layer::FutureAny,), (u32,)>("sum").unwrap_err();
        assert!(err.to_string().contains("FutureAny"), "{err}");
        let err = i.get_typed_func::<(u32,), (component_layer::FutureAny,)>("count").unwrap_err();
        assert!(err.to_string().contains("FutureAny"), "{err}");
        assert!(i.get_typed_func::<(u32,), (component_layer::ErrorContextAny,)>("promise").is_err());
        assert!(!s.is_poisoned());
    });
}

/// `bindgen!` over `SENDER`'s world: the async imports get the streams and futures as `StreamAny` and
/// `FutureAny`; with the `store` flag the host method makes its reader from the `Access` and reads it, store-less,
/// in the future it returns.
mod sender_world {
    component_layer::bindgen!({
        inline: "
            package test:sender;
            world sender {
                import sink: async func(s: stream<u32>) -> u32;
                import fsink: async func(f: future<u32>) -> u32;
                export send: async func(n: u32) -> u32;
                export fsend: async func(n: u32) -> u32;
            }
        ",
        imports: { default: store | trappable },
    });
}

/// A host of `sender_world` that counts the batches it read.
#[derive(Default)]
struct Sink {
    batches: Arc<AtomicUsize>,
}

impl sender_world::SenderImports for Sink {}

impl<E: wasm_runtime_layer::backend::WasmEngine> sender_world::SenderImportsWithStore<Sink, E> for Sink {
    fn sink(
        mut host: component_layer::Access<'_, Sink, E, Self>,
        s: component_layer::StreamAny,
    ) -> component_layer::BoxFuture<component_layer::Result<u32>> {
        let batches = host.get().batches.clone();
        let reader = StreamReader::new(&mut host, s);
        Box::pin(async move {
            let mut reader = reader?;
            let mut sum = 0u32;
            while let Some(values) = reader.next_batch().await {
                batches.fetch_add(1, Ordering::SeqCst);
                for v in values {
                    let Value::U32(x) = v else {
                        return Err(component_layer::Error::new(component_layer::ErrorKind::Unsupported(
                            "not a u32".into(),
                        )));
                    };
                    sum = sum.wrapping_add(x);
                }
            }
            Ok(sum)
        })
    }

    fn fsink(
        mut host: component_layer::Access<'_, Sink, E, Self>,
        f: component_layer::FutureAny,
    ) -> component_layer::BoxFuture<component_layer::Result<u32>> {
        let reader = FutureReader::new(&mut host, f);
        Box::pin(async move {
            match reader?.into_value().await {
                Some(Value::U32(n)) => Ok(n + 1),
                _ => Err(component_layer::Error::new(component_layer::ErrorKind::Unsupported("not a u32".into()))),
            }
        })
    }
}

#[test]
fn bindgen_async_imports_read_streams_and_futures() {
    both!(|engine| {
        let c = component(&engine, SENDER);
        let mut l = component_layer::Linker::new();
        sender_world::Sender::add_to_linker(&mut l, |h: &mut Sink| h).unwrap();
        let mut s = component_layer::Store::new(&engine, Sink::default());
        let w = sender_world::Sender::instantiate(&mut s, &c, &l).unwrap();
        assert_eq!(w.call_send(&mut s, 10).unwrap(), 45);
        assert_eq!(w.call_send(&mut s, 70_000).unwrap(), (0..70_000u32).fold(0, u32::wrapping_add));
        assert_eq!(s.data().batches.load(Ordering::SeqCst), 3, "one batch of 10, two of 70,000 (65,536 at most)");
        assert_eq!(w.call_fsend(&mut s, 41).unwrap(), 42);
        assert!(!s.is_poisoned());
    });
}
