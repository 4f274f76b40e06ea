//! Errors and traps: [`Error`], [`ErrorKind`], [`Trap`] and the [`Location`] of a failed lift or lower.
//!
//! Traps raised by the runtime inside host trampolines must cross the core engine's call stack. wasmi keeps only
//! the `Display` text of host errors, so the structured error is parked in the store (see
//! `store::RuntimeState::pending`) and picked up again when the core call returns.
//!
//! Where an error happened is gathered on its way out, so the success path pays nothing for it: lifting and
//! lowering add a [`PathSegment`] per level they unwind through (`Error::at`) and the guest address involved
//! (`Error::at_offset`); the function crossing the component boundary then fixes them into a [`Location`]
//! (`Error::in_func`), and every boundary further out adds a line of context.

use std::fmt;
use std::sync::Arc;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from loading, linking, instantiating or calling a component.
///
/// Every failure of the runtime is an `Error`: a typed [`ErrorKind`] plus what says *where* it happened. Traps —
/// failures while a component is running — are [`ErrorKind::Trap`] with a [`Trap`] reason, so callers (and the
/// differential harness) can tell a trap from a link error or an invalid component without parsing messages.
///
/// A failure while lifting or lowering a value has a [`Location`] ([`Error::location`]): the export or import
/// whose parameter or result it was, the path to the value (`arg 2 .items[3] .name`) and the guest memory
/// address involved. Every function boundary the error crosses on its way out adds a line of context
/// ([`Error::contexts`]), so an error in a host import called from an export reads:
///
/// ```text
/// invalid `char` bit pattern
///     in import `log`: arg 0 .name (guest memory offset 0x4010)
///     in export `run`
/// ```
///
/// Here an export returns a `list<char>` whose second element is not a Unicode scalar value:
///
/// ```
/// use component_layer::{Component, Engine, Linker, Store};
///
/// # fn main() -> component_layer::Result<()> {
/// let engine = Engine::new(wasmi_runtime_layer::Engine::default());
/// let component = Component::new(&engine, &wat::parse_str(r#"(component
///   (core module $m
///     (memory (export "mem") 1)
///     (data (i32.const 0) "\10\00\00\00\02\00\00\00")   ;; the list: at 0x10, 2 elements
///     (data (i32.const 16) "a\00\00\00\00\d8\00\00")     ;; 'a', then a surrogate
///     (func (export "run") (result i32) (i32.const 0)))
///   (core instance $i (instantiate $m))
///   (alias core export $i "mem" (core memory $mem))
///   (func (export "run") (result (list char)) (canon lift (core func $i "run") (memory $mem))))"#).unwrap())?;
/// let mut store = Store::new(&engine, ());
/// let instance = Linker::new().instantiate(&mut store, &component)?;
/// let run = instance.get_typed_func::<(), (Vec<char>,)>("run")?;
///
/// let err = run.call(&mut store, ()).unwrap_err();
/// assert!(err.to_string().starts_with("invalid `char` bit pattern"), "{err}");
/// let at = err.location().expect("a lift error says where");
/// assert_eq!((at.func(), at.is_import(), at.offset()), ("run", false, Some(0x14)));
/// # Ok(()) }
/// ```
///
/// An `Error` is one pointer wide.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    context: Vec<String>,
    /// While a lift or lower unwinds: the path to the failed value so far, innermost segment first.
    path: Vec<PathSegment>,
    /// The guest memory address the failure is about, innermost first wins.
    offset: Option<u32>,
    /// Fixed where the error left the function whose value failed.
    location: Option<Location>,
}

/// A step on the path from a function's parameters or result to the value that failed to lift or lower.
///
/// Displayed as in `arg 2 .items[3] .name`: parameters by position (from 0), record fields and case payloads by
/// name, tuple elements by position, list elements by index.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathSegment {
    /// A parameter, by position from 0.
    Arg(u32),
    /// The result.
    Result,
    /// A record field.
    Field(Arc<str>),
    /// A tuple element, by position from 0.
    Element(u32),
    /// A list element, by index.
    Index(u32),
    /// The payload of a variant case.
    Case(Arc<str>),
    /// The payload of an option's `some`.
    Some,
    /// The payload of a result's `ok`.
    Ok,
    /// The payload of a result's `err`.
    Err,
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Arg(i) => write!(f, "arg {i}"),
            PathSegment::Result => f.write_str("result"),
            PathSegment::Field(n) | PathSegment::Case(n) => write!(f, ".{n}"),
            PathSegment::Element(i) => write!(f, ".{i}"),
            PathSegment::Index(i) => write!(f, "[{i}]"),
            PathSegment::Some => f.write_str(".some"),
            PathSegment::Ok => f.write_str(".ok"),
            PathSegment::Err => f.write_str(".err"),
        }
    }
}

/// A function crossing the component boundary, as errors name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// A function a component exports (a nested instance's functions as `instance#name`).
    Export(Arc<str>),
    /// A function a component imports, called through its `canon lower`.
    Import(Arc<str>),
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Site::Export(n) => write!(f, "export `{n}`"),
            Site::Import(n) => write!(f, "import `{n}`"),
        }
    }
}

/// Where a failure happened: the function, the path to the value within its parameters or result, and the guest
/// memory address involved.
///
/// Displayed as `in import `log`: arg 0 .name (guest memory offset 0x4010)`. Errors that are not about a value
/// (a trap in the callee's core code) have a location with an empty path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    site: Site,
    path: Vec<PathSegment>,
    offset: Option<u32>,
}

impl Location {
    /// The name of the function: an export's name (`iface#f` inside an exported instance) or an import's.
    pub fn func(&self) -> &str {
        match &self.site {
            Site::Export(n) | Site::Import(n) => n,
        }
    }

    /// Whether the function is one the component imports (its arguments come from the component and its result
    /// goes back to it) rather than one it exports.
    pub fn is_import(&self) -> bool {
        matches!(self.site, Site::Import(_))
    }

    /// The path to the failed value, outermost first; empty when the failure is not about a value.
    pub fn path(&self) -> &[PathSegment] {
        &self.path
    }

    /// The guest memory address the failure is about (the pointer of a list or string, the address of a
    /// character, discriminant or handle in memory, an address `realloc` returned), if any.
    pub fn offset(&self) -> Option<u32> {
        self.offset
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in {}", self.site)?;
        let mut previous: Option<&PathSegment> = None;
        for seg in &self.path {
            // An index follows the value it indexes (`.items[3]`), except a whole parameter or result (`arg 0 [3]`).
            let sep = match (previous, seg) {
                (None, _) => ": ",
                (Some(PathSegment::Arg(_) | PathSegment::Result), _) => " ",
                (Some(_), PathSegment::Index(_)) => "",
                _ => " ",
            };
            write!(f, "{sep}{seg}")?;
            previous = Some(seg);
        }
        if let Some(o) = self.offset {
            write!(f, " (guest memory offset {o:#x})")?;
        }
        Ok(())
    }
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
    /// A bug in this crate: an invariant the runtime relies on did not hold. Please report it.
    Internal(String),
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
    /// An async built-in or the event loop found a rule of the async ABI broken.
    Async(crate::concurrent::AsyncTrap),
    /// A synchronous task blocked while no other task of its instance could run (the spec's trap for a task that
    /// blocks before it returns without other work to switch to).
    CannotBlockSync,
    /// No task can make progress while what the caller waits for has not happened: a deadlock as the spec
    /// defines it.
    Deadlock,
    /// The spec would suspend a core frame here and run another (a frame below a blocked one, or an instance such
    /// a frame occupies): this runtime cannot suspend core calls, so it stops instead of deadlocking.
    NeedsStackSwitching,
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
            Trap::Async(t) => write!(f, "{t}"),
            Trap::CannotBlockSync => f.write_str("cannot block a synchronous task before returning"),
            Trap::Deadlock => f.write_str("deadlock detected: event loop cannot make further progress"),
            Trap::NeedsStackSwitching => {
                f.write_str("needs stack switching: the async ABI would suspend a blocked core frame here")
            }
        }
    }
}

impl Error {
    /// Creates an error of the given kind.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { kind, context: Vec::new(), path: Vec::new(), offset: None, location: None }))
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

    #[cold]
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal(message.into()))
    }

    /// Adds a step to the path of the value being lifted or lowered, on the way out (until a function boundary
    /// fixes the location).
    #[cold]
    pub(crate) fn at(mut self, segment: PathSegment) -> Self {
        if self.0.location.is_none() {
            self.0.path.push(segment);
        }
        self
    }

    /// Renames the outermost step of the path from a tuple element to a parameter: the typed API lowers and lifts
    /// a function's parameters as one tuple.
    #[cold]
    pub(crate) fn element_as_arg(mut self) -> Self {
        if let (None, Some(last)) = (&self.0.location, self.0.path.last_mut()) {
            if let PathSegment::Element(i) = *last {
                *last = PathSegment::Arg(i);
            }
        }
        self
    }

    /// Records the guest memory address the failure is about, unless a more precise one was recorded already.
    #[cold]
    pub(crate) fn at_offset(mut self, address: u32) -> Self {
        if self.0.location.is_none() && self.0.offset.is_none() {
            self.0.offset = Some(address);
        }
        self
    }

    /// The error leaves `site`: the path and offset gathered so far become its [`Location`]; an error located
    /// further in gets a line of context instead.
    #[cold]
    pub(crate) fn in_func(mut self, site: &Site) -> Self {
        let inner = &mut *self.0;
        if inner.location.is_some() {
            inner.context.push(format!("in {site}"));
        } else {
            let mut path = std::mem::take(&mut inner.path);
            path.reverse();
            inner.location = Some(Location { site: site.clone(), path, offset: inner.offset.take() });
        }
        self
    }

    /// Adds a line of context (outermost last), e.g. `"while instantiating a core module"`.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.0.context.push(context.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The context lines, innermost first (the [`Location`] is not among them).
    pub fn contexts(&self) -> &[String] {
        &self.0.context
    }

    /// Where a failure to lift or lower a value happened, or the function a trap left first.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
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
            ErrorKind::Internal(m) => write!(f, "internal error (a bug in component-layer): {m}")?,
        }
        if let Some(l) = &self.0.location {
            write!(f, "\n    {l}")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Result<()>>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn the_innermost_function_gets_the_location_and_outer_ones_a_line() {
        let e = Error::trap(Trap::InvalidChar)
            .at_offset(0x4010)
            .at(PathSegment::Field("name".into()))
            .at(PathSegment::Index(3))
            .at_offset(0x4000)
            .at(PathSegment::Field("items".into()))
            .at(PathSegment::Arg(2))
            .in_func(&Site::Import("log".into()))
            .at(PathSegment::Arg(0))
            .in_func(&Site::Export("run".into()));
        let l = e.location().unwrap();
        assert_eq!((l.func(), l.is_import(), l.offset()), ("log", true, Some(0x4010)));
        assert_eq!(
            e.to_string(),
            "invalid `char` bit pattern\n    in import `log`: arg 2 .items[3] .name (guest memory offset 0x4010)\n    \
             in export `run`"
        );
    }
}
