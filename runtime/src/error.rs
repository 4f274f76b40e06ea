//! Errors and traps.
//!
//! Every failure of the runtime is an [`Error`]: a typed [`ErrorKind`] plus a chain of context strings that say
//! *where* it happened (which export, which parameter path, which byte offset). Traps — failures that happen
//! while a component is running — are [`ErrorKind::Trap`] with a [`Trap`] reason, so callers (and the
//! differential harness) can tell a trap from a link error or an invalid component without parsing messages.
//!
//! Traps raised by the runtime inside host trampolines must cross the core engine's call stack. wasmi keeps only
//! the `Display` text of host errors, so the structured error is parked in the store (see
//! `store::RuntimeState::pending`) and picked up again when the core call returns.

use std::fmt;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from loading, linking, instantiating or calling a component.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    context: Vec<String>,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not a valid component (parse or validation error, with its byte offset).
    Invalid {
        /// The validator's message.
        message: String,
        /// Byte offset in the component binary.
        offset: usize,
    },
    /// The component uses a feature this runtime does not support yet (async, threads, GC ABI, maps, …).
    Unsupported(String),
    /// A core module could not be compiled by the backend.
    Compile(String),
    /// An import could not be satisfied by the linker, or was defined with the wrong type.
    Link(String),
    /// The host used the API wrongly: a value of the wrong type, a wrong number of arguments, a handle from
    /// another store. These never poison the store when they are detected before a call starts.
    Usage(String),
    /// A trap: the component (or the canonical ABI on its behalf) failed while running.
    Trap(Trap),
    /// An error returned by a host function.
    Host(anyhow::Error),
}

/// Why a component trapped.
///
/// The canonical ABI's checks each have their own reason; traps raised by the core engine (an `unreachable`,
/// an out-of-bounds access in core code, stack exhaustion in wasm code) are [`Trap::Core`] with the backend's
/// message. Guest calls nested too deeply through the runtime (host callbacks, composed components,
/// re-entrance) are [`Trap::CallStackExhausted`], whose message is the one both backends give for their own stack
/// exhaustion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trap {
    /// A trap raised by core wasm code, with the backend's message.
    Core(String),
    /// The store was poisoned by an earlier trap; no component in it may be entered again.
    Poisoned,
    /// Entering this component instance would reenter an instance that is already on the call stack.
    CannotEnter,
    /// A component called an import (or a `resource.*` built-in) while it may not leave: from inside `realloc`
    /// or `post-return`.
    CannotLeave,
    /// A pointer (or pointer + length) is outside linear memory.
    OutOfBounds,
    /// A pointer is not aligned as its type requires.
    Misaligned,
    /// A list's or string's byte length exceeds the canonical ABI limit (2^28 − 1 bytes) or 32-bit memory.
    TooLong,
    /// A variant, enum, option or result discriminant is out of range.
    InvalidDiscriminant,
    /// An `i32` is not a Unicode scalar value.
    InvalidChar,
    /// A string is not valid in its encoding (UTF-8, UTF-16 or Latin-1).
    InvalidString,
    /// `realloc` returned a pointer that is not aligned as the allocation requires.
    ReallocMisaligned,
    /// `realloc` returned a pointer whose region does not fit in linear memory.
    ReallocOutOfBounds,
    /// A handle index is not in the component instance's handle table.
    UnknownHandle,
    /// A handle refers to a resource of another type, or to a borrow where an own is needed.
    HandleType,
    /// An own handle was dropped or moved while it is lent out as a borrow.
    HandleLent,
    /// Borrowed handles lent to a call were not dropped before it returned.
    BorrowsRemain,
    /// A handle table is full.
    TableFull,
    /// A host-held resource handle was used after it was dropped or moved.
    ResourceGone,
    /// A host function trapped (returned an error); the message is kept.
    Host(String),
    /// Entering a guest call would exceed the store's bound on nested guest calls
    /// ([`crate::Store::set_max_call_depth`]) or leave too little native stack: a component (or a host function
    /// calling back into one) recursed too deeply.
    CallStackExhausted,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trap::Core(msg) => write!(f, "wasm trap: {msg}"),
            Trap::Poisoned => f.write_str("cannot enter component instance: the store was poisoned by a trap"),
            Trap::CannotEnter => f.write_str("cannot enter component instance"),
            Trap::CannotLeave => f.write_str("cannot leave component instance"),
            Trap::OutOfBounds => f.write_str("pointer out of bounds of memory"),
            Trap::Misaligned => f.write_str("unaligned pointer"),
            Trap::TooLong => f.write_str("list or string byte length exceeds the canonical ABI limit"),
            Trap::InvalidDiscriminant => f.write_str("invalid variant discriminant"),
            Trap::InvalidChar => f.write_str("invalid `char` bit pattern"),
            Trap::InvalidString => f.write_str("invalid string encoding"),
            Trap::ReallocMisaligned => f.write_str("realloc return: result not aligned"),
            Trap::ReallocOutOfBounds => f.write_str("realloc return: beyond end of memory"),
            Trap::UnknownHandle => f.write_str("unknown handle index"),
            Trap::HandleType => f.write_str("handle used with the wrong type or ownership"),
            Trap::HandleLent => f.write_str("cannot remove owned resource while borrowed"),
            Trap::BorrowsRemain => f.write_str("borrow handles still remain at the end of the call"),
            Trap::TableFull => f.write_str("handle table is full"),
            Trap::ResourceGone => f.write_str("resource handle was already dropped or moved"),
            Trap::Host(msg) => write!(f, "host function failed: {msg}"),
            Trap::CallStackExhausted => f.write_str("call stack exhausted"),
        }
    }
}

impl Error {
    /// Creates an error of the given kind.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { kind, context: Vec::new() }))
    }

    /// A trap with the given reason.
    pub fn trap(trap: Trap) -> Self {
        Self::new(ErrorKind::Trap(trap))
    }

    pub(crate) fn invalid(message: impl Into<String>, offset: usize) -> Self {
        Self::new(ErrorKind::Invalid { message: message.into(), offset })
    }

    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported(message.into()))
    }

    pub(crate) fn link(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Link(message.into()))
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage(message.into()))
    }

    /// Adds a line of context (outermost last), e.g. `"in export `f`"` or `"param 2 .x [3]"`.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.0.context.push(context.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The context lines, innermost first.
    pub fn contexts(&self) -> &[String] {
        &self.0.context
    }

    /// The trap reason, if this error is a trap.
    pub fn as_trap(&self) -> Option<&Trap> {
        match &self.0.kind {
            ErrorKind::Trap(t) => Some(t),
            _ => None,
        }
    }

    /// Whether this error is a trap (including a failed host function called by a component).
    pub fn is_trap(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Trap(_) | ErrorKind::Host(_))
    }

    /// Converts an error coming back from the core engine into an [`Error`]: errors of this crate are passed
    /// through (wasmtime keeps them), anything else is a core trap carrying the backend's message.
    pub(crate) fn from_core(err: anyhow::Error) -> Self {
        match err.downcast::<Error>() {
            Ok(e) => e,
            Err(err) => Error::trap(Trap::Core(format!("{err:#}"))),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.kind {
            ErrorKind::Invalid { message, offset } => {
                write!(f, "invalid component: {message} (at offset {offset:#x})")?
            }
            ErrorKind::Unsupported(m) => write!(f, "unsupported feature: {m}")?,
            ErrorKind::Compile(m) => write!(f, "failed to compile core module: {m}")?,
            ErrorKind::Link(m) => write!(f, "link error: {m}")?,
            ErrorKind::Usage(m) => write!(f, "{m}")?,
            ErrorKind::Trap(t) => write!(f, "{t}")?,
            ErrorKind::Host(e) => write!(f, "{e:#}")?,
        }
        for c in &self.0.context {
            write!(f, "\n    {c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Host(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Self {
        Error::trap(t)
    }
}

/// Shorthand for returning a trap.
pub(crate) fn trap<T>(t: Trap) -> Result<T> {
    Err(Error::trap(t))
}
