//! wasmtime's host ends of the host-stream tier's `stream<u8>`s and `future<list<u8>>`s: a consumer that collects
//! what the guest writes ([`Collect`]) and a producer from the answer ([`write`]).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use component_gen::HostImport;
use component_layer::Value;
use wasmtime::component::{FutureConsumer, FutureReader, Source, StreamConsumer, StreamReader, StreamResult, Val};
use wasmtime::StoreContextMut;

use super::super::host::{Answer, HostFailure, HostFault, SharedState};

/// The bytes collected so far, whether the stream ended, and the future waiting for the end.
#[derive(Default)]
struct Shared {
    bytes: Vec<u8>,
    ended: bool,
    waker: Option<Waker>,
}

/// A consumer of a `stream<u8>` that collects every byte; dropped when the stream ends, which completes its
/// [`Read`].
pub struct Collect(Arc<Mutex<Shared>>);

/// The bytes a [`Collect`] read, once the stream ended.
pub struct Read(Arc<Mutex<Shared>>);

impl Collect {
    /// A consumer and the future of what it reads.
    pub fn new() -> (Collect, Read) {
        let shared = Arc::new(Mutex::new(Shared::default()));
        (Collect(shared.clone()), Read(shared))
    }
}

impl StreamConsumer<()> for Collect {
    type Item = u8;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, ()>,
        mut source: Source<'_, u8>,
        _: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let mut buf: Vec<u8> = Vec::with_capacity(source.remaining(&mut store));
        source.read(&mut store, &mut buf)?;
        self.0.lock().unwrap_or_else(PoisonError::into_inner).bytes.extend(buf);
        Poll::Ready(Ok(StreamResult::Completed))
    }
}

impl FutureConsumer<()> for Collect {
    type Item = Vec<u8>;

    fn poll_consume(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        mut store: StoreContextMut<'_, ()>,
        mut source: Source<'_, Vec<u8>>,
        _: bool,
    ) -> Poll<wasmtime::Result<()>> {
        let mut value: Option<Vec<u8>> = None;
        source.read(&mut store, &mut value)?;
        self.0.lock().unwrap_or_else(PoisonError::into_inner).bytes.extend(value.unwrap_or_default());
        Poll::Ready(Ok(()))
    }
}

impl Drop for Collect {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        s.ended = true;
        if let Some(w) = s.waker.take() {
            w.wake();
        }
    }
}

impl std::future::Future for Read {
    type Output = Vec<u8>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<u8>> {
        let mut s = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if s.ended {
            return Poll::Ready(std::mem::take(&mut s.bytes));
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The answer of a reading import (`ReadStream`, `ReadFuture`): the bytes it read, logged as its argument, into
/// the result slot.
pub fn answer_read(
    imp: &HostImport,
    state: &SharedState,
    fault: Option<HostFault>,
    bytes: Vec<u8>,
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let answer = state
        .lock()
        .answer(imp, vec![Value::List(component_layer::List::U8(bytes))], fault)
        .map_err(|e| wasmtime::Error::new(HostFailure(e.to_string())))?;
    match (answer, results.first_mut()) {
        (Answer::Return(Some(v)), Some(slot)) => *slot = super::to_val(&v).map_err(wasmtime::Error::msg)?,
        _ => return Err(wasmtime::Error::new(HostFailure("a stream import answers a list".into()))),
    }
    Ok(())
}

/// A [`component_gen::HostBehaviour::WriteStream`] (or `WriteFuture`) import: its answer (the argument) as a new
/// stream's bytes (or a future's value).
pub fn write(
    imp: &HostImport,
    state: &SharedState,
    fault: Option<HostFault>,
    mut store: StoreContextMut<'_, ()>,
    args: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let plain = args
        .iter()
        .map(|a| super::from_val(a, &mut |_| String::new()).map_err(wasmtime::Error::msg))
        .collect::<wasmtime::Result<Vec<_>>>()?;
    let answer =
        state.lock().answer(imp, plain, fault).map_err(|e| wasmtime::Error::new(HostFailure(e.to_string())))?;
    let bytes: Vec<u8> = match answer {
        Answer::Return(Some(Value::List(l))) => l
            .iter()
            .map(|v| match v {
                Value::U8(b) => Ok(b),
                v => Err(wasmtime::Error::new(HostFailure(format!("a stream<u8> cannot carry {v:?}")))),
            })
            .collect::<wasmtime::Result<_>>()?,
        _ => return Err(wasmtime::Error::new(HostFailure(format!("`{}` streams a list", imp.name)))),
    };
    let slot = results.first_mut().ok_or_else(|| wasmtime::Error::new(HostFailure("no result slot".into())))?;
    *slot = match imp.behaviour {
        component_gen::HostBehaviour::WriteFuture => {
            let reader = FutureReader::new(&mut store, async move { Ok::<_, wasmtime::Error>(bytes) })?;
            Val::Future(reader.try_into_future_any(&mut store)?)
        }
        _ => Val::Stream(StreamReader::new(&mut store, bytes)?.try_into_stream_any(&mut store)?),
    };
    Ok(())
}
