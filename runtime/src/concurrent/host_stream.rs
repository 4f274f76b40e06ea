//! The host's ends of streams and futures: [`StreamWriter`], [`StreamReader`], [`FutureWriter`],
//! [`FutureReader`].
//!
//! A stream or future between the host and a guest has one end in a guest instance's handle table, as usual,
//! and the other in the host: a *channel* (a queue of [`Value`]s behind a mutex) that the host's reader or
//! writer shares with the store. The host's end needs no access to the store to write, so a writer can be fed
//! from another thread or from a task running next to [`crate::Func::call_async`]; values are type-checked when
//! they are lowered into the guest's buffer (a mistyped value traps the reading guest).
//!
//! The copy protocol on the guest's side is the spec's: a guest `read` from a host writer completes at once
//! with the values queued so far (up to its buffer's length), or, when none are queued, stays pending — the
//! event loop checks such reads before every step and completes them once the host writes or closes (`DROPPED`
//! then). A guest `write` to a host reader completes at once: the values are lifted into the queue, which has no
//! bound. So the host reader sees the guest's writes in order, in the batches the guest wrote.
//!
//! Reading needs the guest to run: [`StreamReader::read`] and [`FutureReader::read`] run the store's event loop
//! until values are there or the guest dropped its end (`_async` variants yield to the executor as
//! [`crate::Func::call_async`] does). Inside an async host function's future, which cannot hold the store, the
//! event loop that polls the future is what runs the guest: there [`StreamReader::next_batch`] and
//! [`FutureReader::into_value`] wait on the channel alone, and a writer's [`StreamWriter::drained`] waits for
//! the guest to read. A guest end waiting for a host writer that nobody will write to keeps the loop waiting
//! (parked, in a synchronous call) until the writer is dropped: drop or close writers you are done with.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::copy::{advance, buffer_of, notify, result};
use super::event_loop::{drive_from_host, Sleep};
use super::values::{FutureAny, StreamAny};
use super::{Awaited, SharedId};
use crate::abi::Cx;
use crate::component::plan::CopyKind;
use crate::error::{Error, Result};
use crate::store::{check_store, AsContextMut, Ctx, RuntimeState};
use crate::values::Value;

/// The channel between the host's end and the store.
#[derive(Default)]
pub(crate) struct Chan {
    queue: VecDeque<Value>,
    /// The host's end is gone (a writer closed, a reader dropped).
    host_closed: bool,
    /// The guest's end is gone.
    guest_dropped: bool,
    /// The event loop waiting for a host writer, or for a host reader to take what it holds.
    waker: Option<Waker>,
    /// The host end's store-less wait for the guest: a reader's [`StreamReader::next_batch`] for its writes, a
    /// writer's [`StreamWriter::drained`] for its reads.
    host_waker: Option<Waker>,
}

impl Chan {
    /// Wakes a store-less wait of the host end: the guest wrote, read or dropped its end.
    fn wake_host(&mut self) {
        if let Some(w) = self.host_waker.take() {
            w.wake();
        }
    }
}

/// The host's end of a stream or future, as the store sees it.
pub(crate) struct HostEnd {
    pub chan: Arc<Mutex<Chan>>,
    /// Whether the host reads (the guest writes).
    pub host_reads: bool,
}

fn lock(chan: &Mutex<Chan>) -> MutexGuard<'_, Chan> {
    chan.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the host's end closed and wakes a loop waiting for it.
fn close(chan: &Mutex<Chan>) {
    let mut c = lock(chan);
    c.host_closed = true;
    if let Some(w) = c.waker.take() {
        w.wake();
    }
}

/// The guest dropped its end of a shared stream or future with a host end.
pub(crate) fn guest_dropped(host: &HostEnd) {
    let mut c = lock(&host.chan);
    c.guest_dropped = true;
    c.wake_host();
}

/// A new stream or future of `kind` whose other end is the host's; its readable end is in flight.
fn new_shared<E: WasmEngine>(
    rt: &mut RuntimeState<E>,
    kind: CopyKind,
    host_reads: bool,
) -> (Arc<Mutex<Chan>>, u64, SharedId) {
    let chan = Arc::new(Mutex::new(Chan::default()));
    let host = HostEnd { chan: chan.clone(), host_reads };
    let shared =
        rt.concurrent.shared.insert(super::copy::Shared { kind, dropped: false, pending: None, host: Some(host) });
    rt.concurrent.in_flight.push(shared);
    (chan, rt.id, shared)
}

/// Attaches a host reader to the shared state of a readable end held by the host.
fn attach_reader<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, shared: SharedId) -> Result<Arc<Mutex<Chan>>> {
    let rt = &mut ctx.data_mut().rt;
    let Some(pos) = rt.concurrent.in_flight.iter().position(|s| *s == shared) else {
        return Err(Error::usage("the stream or future was already taken"));
    };
    rt.concurrent.in_flight.swap_remove(pos);
    let chan = Arc::new(Mutex::new(Chan::default()));
    let s = rt.concurrent.shared.get_mut(shared)?;
    if s.host.is_some() {
        return Err(Error::usage("the host holds both ends of this stream or future"));
    }
    if s.dropped {
        // The guest dropped its writable end already.
        lock(&chan).guest_dropped = true;
        rt.concurrent.shared.remove(shared);
        return Ok(chan);
    }
    s.host = Some(HostEnd { chan: chan.clone(), host_reads: true });
    // A guest write may be waiting already.
    if s.pending.is_some() && !service::<T, E>(ctx, shared, None)? {
        ctx.data_mut().rt.concurrent.host_waits.push(shared);
    }
    Ok(chan)
}

/// The most elements a host end takes from one guest write, and holds unread.
const HOST_CHUNK: u32 = 1 << 16;

/// Serves the guest copy pending on `shared` against its host end, if it can finish now; else registers
/// `waker` to be woken when it can. Returns whether nothing waits on the host end any more.
pub(crate) fn service<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    shared: SharedId,
    waker: Option<&Waker>,
) -> Result<bool> {
    let rt = &mut ctx.data_mut().rt;
    let Ok(s) = rt.concurrent.shared.get(shared) else { return Ok(true) };
    let (Some(host), Some(w)) = (&s.host, s.pending) else { return Ok(true) };
    let (chan, host_reads, kind) = (host.chan.clone(), host.host_reads, s.kind);
    let buffer = buffer_of(rt, w)?;
    let (remain, elem) = {
        let b = rt.concurrent.buffers.get(buffer)?;
        (b.length - b.progress, b.elem)
    };
    let want = if kind == CopyKind::Future { 1 } else { remain };
    if host_reads {
        {
            let mut c = lock(&chan);
            if c.host_closed {
                drop(c);
                return finish(rt, shared, w, result::DROPPED, 0);
            }
            // The host end takes at most HOST_CHUNK elements at a time and holds at most that many unread: a
            // guest write of 2^28 payload-less elements, or one write after another, cannot make the host
            // allocate without bound. The guest's write completes with what was taken, or waits while the host
            // has not read (the host's next read wakes the loop).
            if c.queue.len() >= HOST_CHUNK as usize {
                if let Some(waker) = waker {
                    c.waker = Some(waker.clone());
                }
                return Ok(false);
            }
        }
        let values = read_guest::<T, E>(ctx, buffer, elem, want.min(HOST_CHUNK))?;
        let n = values.len() as u32;
        let mut c = lock(&chan);
        c.queue.extend(values);
        c.wake_host();
        drop(c);
        return finish(&mut ctx.data_mut().rt, shared, w, result::COMPLETED, n);
    }
    let mut c = lock(&chan);
    if c.queue.is_empty() {
        if c.host_closed {
            drop(c);
            return finish(rt, shared, w, result::DROPPED, 0);
        }
        if let Some(waker) = waker {
            c.waker = Some(waker.clone());
        }
        return Ok(false);
    }
    let n = (want as usize).min(c.queue.len());
    let values: Vec<Value> = c.queue.drain(..n).collect();
    c.wake_host();
    drop(c);
    write_guest::<T, E>(ctx, buffer, elem, &values)?;
    finish(&mut ctx.data_mut().rt, shared, w, result::COMPLETED, values.len() as u32)
}

/// Ends the pending copy of guest end `w` with `result` after `n` elements.
fn finish<E: WasmEngine>(rt: &mut RuntimeState<E>, shared: SharedId, w: u32, result: u32, n: u32) -> Result<bool> {
    if n > 0 {
        advance(rt, &[w], n)?;
    }
    rt.concurrent.shared.get_mut(shared)?.pending = None;
    notify(rt, w, result, false)?;
    Ok(true)
}

/// The address of element `k` of a buffer at `ptr` (checked against the memory when the buffer was made).
fn position(ptr: u32, k: u32, size: u32) -> Result<u32> {
    k.checked_mul(size)
        .and_then(|o| ptr.checked_add(o))
        .ok_or_else(|| Error::internal("a stream buffer past the memory"))
}

/// Lifts `n` elements from a guest buffer.
fn read_guest<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    buffer: u32,
    elem: Option<crate::abi::types::Ty>,
    n: u32,
) -> Result<Vec<Value>> {
    let b = ctx.data_mut().rt.concurrent.buffers.get(buffer)?;
    let Some(elem) = elem else { return Ok(vec![Value::Tuple(Vec::new()); n as usize]) };
    let (opts, plan, res) = (b.opts.clone(), b.plan.clone(), b.resources.clone());
    let size = plan.types.layout(elem).size;
    let ptr = position(b.ptr, b.progress, size)?;
    let bytes = n.checked_mul(size).ok_or_else(|| Error::internal("a stream buffer past the memory"))?;
    let mut cx = Cx::new(ctx, &opts, &plan.types, &res);
    let data = cx.read(ptr, bytes as usize)?;
    cx.view(&data, ptr);
    (0..n).map(|k| cx.load(elem, &data, (k * size) as usize)).collect()
}

/// Lowers `values` into a guest buffer, at its current position.
fn write_guest<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    buffer: u32,
    elem: Option<crate::abi::types::Ty>,
    values: &[Value],
) -> Result<()> {
    let b = ctx.data_mut().rt.concurrent.buffers.get(buffer)?;
    let Some(elem) = elem else { return Ok(()) };
    let (opts, plan, res, b_progress) = (b.opts.clone(), b.plan.clone(), b.resources.clone(), b.progress);
    let size = plan.types.layout(elem).size;
    let ptr = b.ptr;
    let mut cx = Cx::new(ctx, &opts, &plan.types, &res);
    for (k, v) in values.iter().enumerate() {
        let at = position(ptr, b_progress + k as u32, size)?;
        cx.store_values(&[elem], &[0], std::slice::from_ref(v), at, size)?;
    }
    Ok(())
}

/// Serves the guest copies waiting on host ends; returns whether one finished.
pub(crate) fn poll_host_ends<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, waker: &Waker) -> Result<bool> {
    let waits = std::mem::take(&mut ctx.data_mut().rt.concurrent.host_waits);
    let mut progressed = false;
    let mut still = Vec::new();
    for (k, shared) in waits.iter().enumerate() {
        match service::<T, E>(ctx, *shared, Some(waker)) {
            Ok(true) => progressed = true,
            Ok(false) => still.push(*shared),
            Err(e) => {
                still.extend_from_slice(&waits[k + 1..]);
                ctx.data_mut().rt.concurrent.host_waits.extend(still);
                return Err(e);
            }
        }
    }
    ctx.data_mut().rt.concurrent.host_waits.extend(still);
    Ok(progressed)
}

/// Whether the host end of `shared` has something for the host to read (or the guest's end is gone).
pub(crate) fn readable<E: WasmEngine>(rt: &RuntimeState<E>, shared: SharedId) -> bool {
    match rt.concurrent.shared.get(shared) {
        Ok(s) => s.host.as_ref().is_none_or(|h| {
            let c = lock(&h.chan);
            !c.queue.is_empty() || c.guest_dropped
        }),
        Err(_) => true,
    }
}

/// Runs the event loop until the host end of `shared` is readable.
fn drive_read<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    shared: SharedId,
    sleep: Sleep<'_>,
) -> Result<Poll<()>> {
    if readable(&ctx.data_mut().rt, shared) {
        return Ok(Poll::Ready(()));
    }
    drive_from_host::<T, E>(ctx, Awaited::HostReadable(shared), sleep)
}

/// The host's writable end of a stream (wasmtime's `StreamWriter`/producer side): values written here are read
/// by the guest that holds the stream's readable end.
///
/// Create one with [`StreamWriter::new`], pass the [`StreamAny`] it returns to a guest (as a
/// [`Value::Stream`] argument of an export, or a host function's result), and write. Writing needs no access to
/// the store. Dropping the writer (or [`StreamWriter::close`]) ends the stream: the guest reads what was written,
/// then `DROPPED`.
///
/// ```
/// # use component_layer::{Component, Engine, Linker, Store, StreamWriter, Value};
/// # fn main() -> component_layer::Result<()> {
/// # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
/// // `sum` reads a `stream<u32>` to its end (synchronous reads of up to 4 elements) and returns the sum.
/// let component = Component::new(&engine, &wat::parse_str(r#"(component
///   (type $s (stream u32))
///   (core module $Mem (memory (export "mem") 1))
///   (core instance $mem (instantiate $Mem))
///   (core func $read (canon stream.read $s (memory (core memory $mem "mem"))))
///   (core func $drop (canon stream.drop-readable $s))
///   (core module $m
///     (import "" "mem" (memory 1))
///     (import "" "read" (func $read (param i32 i32 i32) (result i32)))
///     (import "" "drop" (func $drop (param i32)))
///     (func (export "sum") (param $s i32) (result i32) (local $r i32) (local $n i32) (local $k i32) (local $sum i32)
///       (loop $next
///         (local.set $r (call $read (local.get $s) (i32.const 16) (i32.const 4)))
///         (local.set $n (i32.shr_u (local.get $r) (i32.const 4)))
///         (local.set $k (i32.const 0))
///         (block $done (loop $add
///           (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
///           (local.set $sum (i32.add (local.get $sum)
///             (i32.load offset=16 (i32.shl (local.get $k) (i32.const 2)))))
///           (local.set $k (i32.add (local.get $k) (i32.const 1)))
///           (br $add)))
///         (br_if $next (i32.eqz (i32.and (local.get $r) (i32.const 0xf))))) ;; COMPLETED: read on
///       (call $drop (local.get $s))
///       (local.get $sum)))
///   (core instance $i (instantiate $m (with "" (instance
///     (export "mem" (memory $mem "mem")) (export "read" (func $read)) (export "drop" (func $drop))))))
///   (func (export "sum") (param "s" $s) (result u32) (canon lift (core func $i "sum"))))"#).unwrap())?;
///
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::<(), _>::new().instantiate(&mut store, &component)?;
/// let (writer, stream) = StreamWriter::new(&mut store);
/// writer.write((1..=10).map(Value::U32))?;
/// writer.close();
/// let mut sum = [Value::Bool(false)];
/// instance.get_func("sum").unwrap().call(&mut store, &[Value::Stream(stream)], &mut sum)?;
/// assert_eq!(sum[0], Value::U32(55));
/// # Ok(()) }
/// ```
pub struct StreamWriter {
    chan: Arc<Mutex<Chan>>,
}

impl StreamWriter {
    /// A new stream in `store` whose writable end is the host's: returns the writer and the readable end, which
    /// can be lowered into a guest once (as a [`Value::Stream`]).
    pub fn new<S: AsContextMut>(mut store: S) -> (StreamWriter, StreamAny) {
        let (chan, store, shared) = new_shared(store.as_context_mut().rt(), CopyKind::Stream, false);
        (StreamWriter { chan }, StreamAny { store, shared })
    }

    /// Queues `values` for the guest; a pending guest read gets them when the event loop next runs. Fails when
    /// the guest has dropped its readable end (nothing is queued then).
    pub fn write(&self, values: impl IntoIterator<Item = Value>) -> Result<()> {
        let mut c = lock(&self.chan);
        if c.guest_dropped {
            return Err(Error::usage("the guest dropped the stream's readable end"));
        }
        c.queue.extend(values);
        if let Some(w) = c.waker.take() {
            w.wake();
        }
        Ok(())
    }

    /// Queues the bytes of a `stream<u8>` ([`StreamWriter::write`] of [`Value::U8`]s).
    pub fn write_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.write(bytes.iter().copied().map(Value::U8))
    }

    /// Whether the guest has dropped its readable end.
    pub fn is_closed(&self) -> bool {
        lock(&self.chan).guest_dropped
    }

    /// How many of the values written so far the guest has not read yet.
    pub fn queued(&self) -> usize {
        lock(&self.chan).queue.len()
    }

    /// Waits until the guest has read all but `max_queued` of the values written so far, or dropped its end: a
    /// producer's backpressure, since [`StreamWriter::write`] itself never waits. It needs no store, so it can
    /// run inside an async host function's future or on another thread while the event loop runs the guest.
    pub fn drained(&self, max_queued: usize) -> impl Future<Output = ()> + Send + '_ {
        std::future::poll_fn(move |cx| {
            let mut c = lock(&self.chan);
            if c.queue.len() <= max_queued || c.guest_dropped {
                return Poll::Ready(());
            }
            c.host_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Ends the stream, as dropping the writer does.
    pub fn close(self) {}
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        close(&self.chan);
    }
}

/// The host's readable end of a stream (wasmtime's `StreamReader`/consumer side): reads what the guest that holds
/// the writable end writes.
pub struct StreamReader {
    store: u64,
    shared: SharedId,
    chan: Arc<Mutex<Chan>>,
}

impl StreamReader {
    /// Takes the readable end of a stream that a guest returned (or passed to a host function). Fails if `stream`
    /// belongs to another store or was taken already.
    pub fn new<S: AsContextMut>(mut store: S, stream: StreamAny) -> Result<StreamReader> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), stream.store)?;
        let chan = attach_reader::<S::Data, S::Engine>(&mut ctx.inner, stream.shared)?;
        Ok(StreamReader { store: stream.store, shared: stream.shared, chan })
    }

    /// The next values the guest wrote, running the store's event loop (parking the thread while only host
    /// futures can make progress) until there are some; `None` once the guest dropped its writable end and
    /// everything was read. Fails as the event loop does (a trap in a guest, or [`crate::Trap::Deadlock`] when
    /// no guest can go on and the guest's end is still open).
    pub fn read<S: AsContextMut>(&mut self, mut store: S) -> Result<Option<Vec<Value>>> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        match drive_read::<S::Data, S::Engine>(&mut ctx.inner, self.shared, Sleep::Park)? {
            Poll::Ready(()) => Ok(self.take()),
            Poll::Pending => Err(Error::internal("a parking loop returned pending")),
        }
    }

    /// [`StreamReader::read`] as a future, which returns `Poll::Pending` while only host futures can make
    /// progress.
    pub async fn read_async<S: AsContextMut>(&mut self, mut store: S) -> Result<Option<Vec<Value>>> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        let shared = self.shared;
        std::future::poll_fn(|cx| {
            match drive_read::<S::Data, S::Engine>(&mut ctx.inner, shared, Sleep::Yield(cx.waker())) {
                Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
                Ok(Poll::Pending) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .await?;
        Ok(self.take())
    }

    /// Reads until the guest drops its writable end.
    pub fn read_to_end<S: AsContextMut>(&mut self, mut store: S) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        while let Some(values) = self.read(&mut store)? {
            all.extend(values);
        }
        Ok(all)
    }

    /// Reads a `stream<u8>` until the guest drops its writable end.
    pub fn read_bytes_to_end<S: AsContextMut>(&mut self, store: S) -> Result<Vec<u8>> {
        self.read_to_end(store)?
            .into_iter()
            .map(|v| match v {
                Value::U8(b) => Ok(b),
                v => Err(Error::usage(format!("expected a `u8`, found {}", v.kind_name()))),
            })
            .collect()
    }

    /// The values queued, or `None` at the end. Wakes an event loop whose guest write waits for room.
    fn take(&self) -> Option<Vec<Value>> {
        let mut c = lock(&self.chan);
        if c.queue.is_empty() && c.guest_dropped {
            return None;
        }
        if let Some(w) = c.waker.take() {
            w.wake();
        }
        Some(c.queue.drain(..).collect())
    }

    /// The next values the guest wrote, without the store: for an async host function's future, which cannot
    /// hold the store ([`crate::LinkerInstance::func_new_async`]), while the event loop that polls it runs the
    /// guest. Ready with the values queued so far once there are some, `None` once the guest dropped its
    /// writable end and everything was read; pending otherwise. Outside the event loop nothing runs the guest:
    /// use [`StreamReader::read_async`] there. A guest that waits for this host call while it holds the
    /// stream's writable end open without writing deadlocks with it, as with any host future that waits for the
    /// guest it serves.
    ///
    /// ```
    /// # use component_layer::{Linker, StreamReader, Value};
    /// let mut linker = Linker::<(), wasmi_runtime_layer::Engine>::new();
    /// // `sink: async func(s: stream<u8>) -> u32` counts the bytes a guest sends it.
    /// linker.root().func_new_async("sink", |store, args| {
    ///     let reader = match &args[0] {
    ///         Value::Stream(s) => StreamReader::new(store, s.clone()),
    ///         _ => unreachable!("checked against the import's type"),
    ///     };
    ///     async move {
    ///         let mut reader = reader?;
    ///         let mut n = 0;
    ///         while let Some(values) = reader.next_batch().await {
    ///             n += values.len() as u32;
    ///         }
    ///         Ok(Some(Value::U32(n)))
    ///     }
    /// })?;
    /// # Ok::<(), component_layer::Error>(())
    /// ```
    pub fn next_batch(&mut self) -> impl Future<Output = Option<Vec<Value>>> + Send + '_ {
        std::future::poll_fn(|cx| {
            let mut c = lock(&self.chan);
            if c.queue.is_empty() && !c.guest_dropped {
                c.host_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            drop(c);
            Poll::Ready(self.take())
        })
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        close(&self.chan);
    }
}

/// The host's writable end of a future: the value written here is read by the guest that holds the future's
/// readable end. Dropping the writer without writing makes the guest's read `DROPPED`.
pub struct FutureWriter {
    chan: Arc<Mutex<Chan>>,
}

impl FutureWriter {
    /// A new future in `store` whose writable end is the host's: returns the writer and the readable end, which
    /// can be lowered into a guest once (as a [`Value::Future`]).
    pub fn new<S: AsContextMut>(mut store: S) -> (FutureWriter, FutureAny) {
        let (chan, store, shared) = new_shared(store.as_context_mut().rt(), CopyKind::Future, false);
        (FutureWriter { chan }, FutureAny { store, shared })
    }

    /// Writes the future's value. Fails when the guest has dropped its readable end.
    pub fn write(self, value: Value) -> Result<()> {
        let mut c = lock(&self.chan);
        if c.guest_dropped {
            return Err(Error::usage("the guest dropped the future's readable end"));
        }
        c.queue.push_back(value);
        Ok(())
    }
}

impl Drop for FutureWriter {
    fn drop(&mut self) {
        close(&self.chan);
    }
}

/// The host's readable end of a future that a guest returned (or passed to a host function).
pub struct FutureReader {
    store: u64,
    shared: SharedId,
    chan: Arc<Mutex<Chan>>,
}

impl FutureReader {
    /// Takes the readable end of `future`. Fails if it belongs to another store or was taken already.
    pub fn new<S: AsContextMut>(mut store: S, future: FutureAny) -> Result<FutureReader> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), future.store)?;
        let chan = attach_reader::<S::Data, S::Engine>(&mut ctx.inner, future.shared)?;
        Ok(FutureReader { store: future.store, shared: future.shared, chan })
    }

    /// The future's value, running the store's event loop until the guest writes it; `None` if the guest dropped
    /// its writable end without writing (which traps that guest). Fails as [`StreamReader::read`].
    pub fn read<S: AsContextMut>(self, mut store: S) -> Result<Option<Value>> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        match drive_read::<S::Data, S::Engine>(&mut ctx.inner, self.shared, Sleep::Park)? {
            Poll::Ready(()) => Ok(lock(&self.chan).queue.pop_front()),
            Poll::Pending => Err(Error::internal("a parking loop returned pending")),
        }
    }

    /// The future's value without the store, as [`StreamReader::next_batch`]: for an async host function's
    /// future, while the event loop that polls it runs the guest. `None` if the guest dropped its writable end
    /// without writing.
    pub fn into_value(self) -> impl Future<Output = Option<Value>> + Send + 'static {
        std::future::poll_fn(move |cx| {
            let mut c = lock(&self.chan);
            if let Some(v) = c.queue.pop_front() {
                return Poll::Ready(Some(v));
            }
            if c.guest_dropped {
                return Poll::Ready(None);
            }
            c.host_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// [`FutureReader::read`] as a future.
    pub async fn read_async<S: AsContextMut>(self, mut store: S) -> Result<Option<Value>> {
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.store)?;
        let shared = self.shared;
        std::future::poll_fn(|cx| {
            match drive_read::<S::Data, S::Engine>(&mut ctx.inner, shared, Sleep::Yield(cx.waker())) {
                Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
                Ok(Poll::Pending) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            }
        })
        .await?;
        Ok(lock(&self.chan).queue.pop_front())
    }
}

impl Drop for FutureReader {
    fn drop(&mut self) {
        close(&self.chan);
    }
}
