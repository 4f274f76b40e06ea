//! `wasi:io`: errors, pollables and streams.
//!
//! Streams are synchronous: every stream this host makes is always ready (a read or write either completes at
//! once or blocks in the host, as reading an inherited stdin does), so their pollables are ready at once. The
//! only pollables that wait are the monotonic clock's, and `block`/`poll` really wait for their deadline on the
//! context's [`crate::MonotonicClock`] (a virtual clock jumps to it).
//!
//! Sizes are bounded: a read returns at most [`MAX_READ`] bytes whatever the guest asks, `check-write` grants
//! [`WRITE_BUDGET`] bytes, and writing more than granted (or more than 4096 bytes through
//! `blocking-write-and-flush`) traps, as the WIT says.

use std::io::{Read, Write};
use std::sync::PoisonError;

use component_layer::{HostResource, Result};

use crate::bindings::wasi::filesystem::types::ErrorCode;
use crate::bindings::wasi::io::{error, poll, streams};
use crate::ctx::{Sink, StdinSource};
use crate::filesystem::{self, FileHandle};
use crate::table::{trap, Entry};
use crate::WasiCtx;

use streams::StreamError;

/// The most bytes one read returns.
pub const MAX_READ: u64 = 1 << 20;
/// The bytes `check-write` grants at a time.
pub const WRITE_BUDGET: u64 = 1 << 20;
/// The most bytes `blocking-write-and-flush` and `blocking-write-zeroes-and-flush` accept (the WIT's limit).
const BLOCKING_WRITE_MAX: u64 = 4096;

/// An input stream.
pub(crate) enum InputStream {
    Stdin(StdinSource),
    File { file: FileHandle, offset: u64 },
}

/// Where a file output stream writes.
pub(crate) enum FilePos {
    At(u64),
    Append,
}

/// An output stream.
pub(crate) enum OutputStream {
    Sink(Sink),
    File { file: FileHandle, pos: FilePos },
}

/// A pollable: ready now, or when the monotonic clock reaches a deadline.
#[derive(Clone, Copy)]
pub(crate) enum Pollable {
    Ready,
    Deadline(u64),
}

/// A `wasi:io/error`: the message, and the filesystem error code if it came from a file.
pub(crate) struct IoError {
    pub(crate) message: String,
    pub(crate) code: Option<ErrorCode>,
}

impl WasiCtx {
    /// A `last-operation-failed` stream error for `err` (or a trap if the table is full).
    fn failed(&mut self, err: std::io::Error) -> Result<StreamError> {
        let code = filesystem::error_code(&err);
        let e = self.table.push_own(Entry::Error(IoError { message: err.to_string(), code: Some(code) }))?;
        Ok(StreamError::LastOperationFailed(e))
    }

    pub(crate) fn push_pollable(&mut self, p: Pollable) -> Result<HostResource<poll::Pollable>> {
        self.table.push_own(Entry::Pollable(p))
    }

    fn is_ready(&mut self, p: Pollable) -> bool {
        match p {
            Pollable::Ready => true,
            Pollable::Deadline(d) => self.monotonic.now() >= d,
        }
    }

    fn read_input(&mut self, rep: u32, len: u64) -> Result<Result<Vec<u8>, StreamError>> {
        let len = len.min(MAX_READ) as usize;
        let stream = self.table.input(rep)?;
        let result = match stream {
            InputStream::Stdin(StdinSource::Empty) => Ok(Vec::new()),
            InputStream::Stdin(StdinSource::Bytes(cursor)) => {
                let mut buf = vec![0; len];
                let mut c = cursor.lock().unwrap_or_else(PoisonError::into_inner);
                c.read(&mut buf).map(|n| {
                    buf.truncate(n);
                    buf
                })
            }
            InputStream::Stdin(StdinSource::Inherit) => {
                let mut buf = vec![0; len];
                std::io::stdin().lock().read(&mut buf).map(|n| {
                    buf.truncate(n);
                    buf
                })
            }
            InputStream::File { file, offset } => {
                let mut buf = vec![0; len];
                filesystem::read_at(file, &mut buf, *offset).map(|n| {
                    *offset += n as u64;
                    buf.truncate(n);
                    buf
                })
            }
        };
        match result {
            Ok(bytes) if bytes.is_empty() && len > 0 => Ok(Err(StreamError::Closed)),
            Ok(bytes) => Ok(Ok(bytes)),
            Err(e) => Ok(Err(self.failed(e)?)),
        }
    }

    fn write_output(&mut self, rep: u32, bytes: &[u8]) -> Result<Result<(), StreamError>> {
        let result = match self.table.output(rep)? {
            OutputStream::Sink(Sink::Null) => Ok(()),
            OutputStream::Sink(Sink::Capture(buf)) => {
                buf.write(bytes);
                Ok(())
            }
            OutputStream::Sink(Sink::Stdout) => std::io::stdout().lock().write_all(bytes),
            OutputStream::Sink(Sink::Stderr) => std::io::stderr().lock().write_all(bytes),
            OutputStream::File { file, pos } => {
                let at = match pos {
                    FilePos::At(at) => *at,
                    FilePos::Append => file.metadata().map(|m| m.len()).unwrap_or(0),
                };
                let r = filesystem::write_all_at(file, bytes, at);
                if let (Ok(()), FilePos::At(at)) = (&r, pos) {
                    *at += bytes.len() as u64;
                }
                r
            }
        };
        match result {
            Ok(()) => Ok(Ok(())),
            Err(e) => Ok(Err(self.failed(e)?)),
        }
    }

    fn flush_output(&mut self, rep: u32) -> Result<Result<(), StreamError>> {
        let result = match self.table.output(rep)? {
            OutputStream::Sink(Sink::Stdout) => std::io::stdout().flush(),
            OutputStream::Sink(Sink::Stderr) => std::io::stderr().flush(),
            _ => Ok(()),
        };
        match result {
            Ok(()) => Ok(Ok(())),
            Err(e) => Ok(Err(self.failed(e)?)),
        }
    }
}

impl error::HostError for WasiCtx {
    fn to_debug_string(&mut self, self_: HostResource<error::Error>) -> Result<String> {
        Ok(self.table.error(self_.rep())?.message.clone())
    }

    fn drop(&mut self, rep: HostResource<error::Error>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl error::Host for WasiCtx {}

impl poll::HostPollable for WasiCtx {
    fn ready(&mut self, self_: HostResource<poll::Pollable>) -> Result<bool> {
        let p = *self.table.pollable(self_.rep())?;
        Ok(self.is_ready(p))
    }

    fn block(&mut self, self_: HostResource<poll::Pollable>) -> Result<()> {
        if let Pollable::Deadline(d) = *self.table.pollable(self_.rep())? {
            self.monotonic.sleep_until(d);
        }
        Ok(())
    }

    fn drop(&mut self, rep: HostResource<poll::Pollable>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl poll::Host for WasiCtx {
    fn poll(&mut self, list: Vec<HostResource<poll::Pollable>>) -> Result<Vec<u32>> {
        if list.is_empty() {
            return Err(trap("poll: the list of pollables is empty"));
        }
        let mut pollables = Vec::with_capacity(list.len());
        for p in &list {
            pollables.push(*self.table.pollable(p.rep())?);
        }
        loop {
            let ready: Vec<u32> =
                (0..pollables.len()).filter(|i| self.is_ready(pollables[*i])).map(|i| i as u32).collect();
            if !ready.is_empty() {
                return Ok(ready);
            }
            let earliest = pollables
                .iter()
                .filter_map(|p| match p {
                    Pollable::Deadline(d) => Some(*d),
                    Pollable::Ready => None,
                })
                .min();
            match earliest {
                Some(d) => self.monotonic.sleep_until(d),
                None => return Err(trap("poll: nothing can become ready")),
            }
        }
    }
}

impl streams::HostInputStream for WasiCtx {
    fn read(&mut self, self_: HostResource<streams::InputStream>, len: u64) -> Result<Result<Vec<u8>, StreamError>> {
        self.read_input(self_.rep(), len)
    }

    fn blocking_read(
        &mut self,
        self_: HostResource<streams::InputStream>,
        len: u64,
    ) -> Result<Result<Vec<u8>, StreamError>> {
        self.read_input(self_.rep(), len)
    }

    fn skip(&mut self, self_: HostResource<streams::InputStream>, len: u64) -> Result<Result<u64, StreamError>> {
        Ok(self.read_input(self_.rep(), len)?.map(|b| b.len() as u64))
    }

    fn blocking_skip(
        &mut self,
        self_: HostResource<streams::InputStream>,
        len: u64,
    ) -> Result<Result<u64, StreamError>> {
        self.skip(self_, len)
    }

    fn subscribe(&mut self, self_: HostResource<streams::InputStream>) -> Result<HostResource<poll::Pollable>> {
        self.table.input(self_.rep())?;
        self.push_pollable(Pollable::Ready)
    }

    fn drop(&mut self, rep: HostResource<streams::InputStream>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl streams::HostOutputStream for WasiCtx {
    fn check_write(&mut self, self_: HostResource<streams::OutputStream>) -> Result<Result<u64, StreamError>> {
        self.table.output(self_.rep())?;
        Ok(Ok(WRITE_BUDGET))
    }

    fn write(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        contents: Vec<u8>,
    ) -> Result<Result<(), StreamError>> {
        if contents.len() as u64 > WRITE_BUDGET {
            return Err(trap(format!("write of {} bytes exceeds check-write's {WRITE_BUDGET}", contents.len())));
        }
        self.write_output(self_.rep(), &contents)
    }

    fn blocking_write_and_flush(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        contents: Vec<u8>,
    ) -> Result<Result<(), StreamError>> {
        if contents.len() as u64 > BLOCKING_WRITE_MAX {
            return Err(trap(format!(
                "blocking-write-and-flush of {} bytes (at most {BLOCKING_WRITE_MAX})",
                contents.len()
            )));
        }
        match self.write_output(self_.rep(), &contents)? {
            Ok(()) => self.flush_output(self_.rep()),
            err => Ok(err),
        }
    }

    fn flush(&mut self, self_: HostResource<streams::OutputStream>) -> Result<Result<(), StreamError>> {
        self.flush_output(self_.rep())
    }

    fn blocking_flush(&mut self, self_: HostResource<streams::OutputStream>) -> Result<Result<(), StreamError>> {
        self.flush_output(self_.rep())
    }

    fn subscribe(&mut self, self_: HostResource<streams::OutputStream>) -> Result<HostResource<poll::Pollable>> {
        self.table.output(self_.rep())?;
        self.push_pollable(Pollable::Ready)
    }

    fn write_zeroes(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        len: u64,
    ) -> Result<Result<(), StreamError>> {
        if len > WRITE_BUDGET {
            return Err(trap(format!("write-zeroes of {len} bytes exceeds check-write's {WRITE_BUDGET}")));
        }
        self.write_output(self_.rep(), &vec![0; len as usize])
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        len: u64,
    ) -> Result<Result<(), StreamError>> {
        if len > BLOCKING_WRITE_MAX {
            return Err(trap(format!("blocking-write-zeroes-and-flush of {len} bytes (at most {BLOCKING_WRITE_MAX})")));
        }
        match self.write_output(self_.rep(), &vec![0; len as usize])? {
            Ok(()) => self.flush_output(self_.rep()),
            err => Ok(err),
        }
    }

    fn splice(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        src: HostResource<streams::InputStream>,
        len: u64,
    ) -> Result<Result<u64, StreamError>> {
        self.table.output(self_.rep())?;
        let bytes = match self.read_input(src.rep(), len.min(WRITE_BUDGET))? {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.write_output(self_.rep(), &bytes)?.map(|()| bytes.len() as u64))
    }

    fn blocking_splice(
        &mut self,
        self_: HostResource<streams::OutputStream>,
        src: HostResource<streams::InputStream>,
        len: u64,
    ) -> Result<Result<u64, StreamError>> {
        self.splice(self_, src, len)
    }

    fn drop(&mut self, rep: HostResource<streams::OutputStream>) -> Result<()> {
        if let Entry::Output(OutputStream::Sink(Sink::Stdout | Sink::Stderr)) = self.table.remove(rep.rep())? {
            let _ = std::io::stdout().flush();
        }
        Ok(())
    }
}

impl streams::Host for WasiCtx {}
