//! How a step failed, as data: the class of failure and, for traps, the class of trap.
//!
//! Engines word their errors differently, so messages are kept for reports but never compared. Classes are: a
//! component is invalid, needs an unsupported feature, does not link, or traps. Where the specification fixes
//! *why* a component traps — an out-of-bounds or misaligned pointer, an invalid string, discriminant or `char`,
//! core `unreachable`, a resource-handle rule, the reentrance and may-leave rules — engines must agree on that
//! too, as wasmtime's own `.wast` runner insists by comparing messages. [`TrapClass`] is that reason, read from
//! component-layer's typed [`component_layer::Trap`] or from wasmtime's messages; [`TrapClass::Other`] is a
//! trap whose reason the specification leaves to the implementation (or that is not recognised), and agrees
//! with any trap.

use serde::{Deserialize, Serialize};

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "kebab-case")]
pub enum Failure {
    /// The component failed validation (or did not parse).
    Invalid {
        /// The engine's message.
        message: String,
    },
    /// The component needs a feature the engine does not support.
    Unsupported {
        /// The engine's message.
        message: String,
    },
    /// Instantiation failed to resolve or type-check an import.
    Link {
        /// The engine's message.
        message: String,
    },
    /// A trap, at instantiation (a start function) or during a call.
    Trap {
        /// Why, where the specification fixes it.
        reason: TrapClass,
        /// The engine's message.
        message: String,
    },
}

/// Why a component trapped, where the specification fixes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrapClass {
    /// A pointer or pointer + length outside linear memory (canonical ABI), or a core out-of-bounds access.
    OutOfBounds,
    /// A pointer not aligned as its type requires.
    Misaligned,
    /// A string that is not valid UTF-8, UTF-16 or Latin-1+UTF-16.
    InvalidString,
    /// A variant, enum, option or result discriminant out of range.
    InvalidDiscriminant,
    /// An `i32` that is not a Unicode scalar value where a `char` is lifted.
    InvalidChar,
    /// Core `unreachable`.
    Unreachable,
    /// A handle-table rule: an unknown or dropped handle, the wrong type or ownership, an own dropped while
    /// lent, borrows outstanding at return.
    Resource,
    /// Entering an instance that may not be entered (reentrance, a poisoned instance).
    CannotEnter,
    /// Calling an import while the instance may not leave (inside `realloc` or `post-return`).
    CannotLeave,
    /// A host function failed.
    Host,
    /// Stack or fuel exhaustion: where it happens depends on the engine, so cases that meet it are discarded.
    Exhausted,
    /// Any other trap: its reason is the implementation's (integer division by zero, …) or not recognised.
    Other,
}

impl TrapClass {
    /// Whether two engines' traps agree: the same class, or at least one whose reason the specification does
    /// not fix.
    pub fn agrees_with(self, other: TrapClass) -> bool {
        self == other || self == TrapClass::Other || other == TrapClass::Other
    }

    /// The class's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            TrapClass::OutOfBounds => "out of bounds",
            TrapClass::Misaligned => "misaligned",
            TrapClass::InvalidString => "invalid string",
            TrapClass::InvalidDiscriminant => "invalid discriminant",
            TrapClass::InvalidChar => "invalid char",
            TrapClass::Unreachable => "unreachable",
            TrapClass::Resource => "resource",
            TrapClass::CannotEnter => "cannot enter",
            TrapClass::CannotLeave => "cannot leave",
            TrapClass::Host => "host failure",
            TrapClass::Exhausted => "exhausted",
            TrapClass::Other => "trap",
        }
    }

    /// A message for `assert_trap` that names this class: wasmtime's text where it has one, so that
    /// [`TrapClass::from_message`] reads the class back and wasmtime's own runner accepts it.
    pub fn wast_message(self) -> &'static str {
        match self {
            TrapClass::OutOfBounds => "out of bounds",
            TrapClass::Misaligned => "unaligned pointer",
            TrapClass::InvalidString => "invalid string",
            TrapClass::InvalidDiscriminant => "invalid variant discriminant",
            TrapClass::InvalidChar => "invalid `char` bit pattern",
            TrapClass::Unreachable => "wasm `unreachable` instruction executed",
            TrapClass::Resource => "handle",
            TrapClass::CannotEnter => "cannot enter component instance",
            TrapClass::CannotLeave => "cannot leave component instance",
            TrapClass::Exhausted => "call stack exhausted",
            TrapClass::Host | TrapClass::Other => "",
        }
    }

    /// The class of a trap from its message, as wasmtime 48 (host side, fused adapters and core code), the core
    /// engines behind component-layer and jco's generated JavaScript (`not a valid char`, a `DataView` read
    /// `outside the bounds`) word them.
    pub fn from_message(message: &str) -> TrapClass {
        let m = message.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
        if has(&["call stack exhausted", "stack overflow", "all fuel consumed", "out of fuel"]) {
            TrapClass::Exhausted
        } else if has(&["cannot enter component instance"]) {
            TrapClass::CannotEnter
        } else if has(&["cannot leave component instance"]) {
            TrapClass::CannotLeave
        } else if has(&["unreachable"]) {
            TrapClass::Unreachable
        } else if has(&["not aligned", "unaligned", "misaligned"]) {
            TrapClass::Misaligned
        } else if has(&["out of bounds", "out-of-bounds", "beyond end of memory", "outside the bounds"]) {
            TrapClass::OutOfBounds
        } else if has(&["invalid utf", "invalid string", "invalid latin"]) {
            TrapClass::InvalidString
        } else if has(&["discriminant"]) {
            TrapClass::InvalidDiscriminant
        } else if has(&["`char`", "invalid char", "not a valid char"]) {
            TrapClass::InvalidChar
        } else if has(&[
            "handle",
            "resource",
            "borrow",
            "cannot remove owned",
            "host resource already consumed",
            "table has no free keys",
        ]) {
            TrapClass::Resource
        } else {
            TrapClass::Other
        }
    }
}

impl Failure {
    /// A trap whose class is read from its message.
    pub fn trap(message: impl Into<String>) -> Failure {
        let message = message.into();
        Failure::Trap { reason: TrapClass::from_message(&message), message }
    }

    /// A trap of a known class.
    pub fn trap_of(reason: TrapClass, message: impl Into<String>) -> Failure {
        Failure::Trap { reason, message: message.into() }
    }

    /// An invalid component.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::Invalid { message: message.into() }
    }

    /// An unsupported feature.
    pub fn unsupported(message: impl Into<String>) -> Failure {
        Failure::Unsupported { message: message.into() }
    }

    /// A link error.
    pub fn link(message: impl Into<String>) -> Failure {
        Failure::Link { message: message.into() }
    }

    /// The class name.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Invalid { .. } => "invalid",
            Failure::Unsupported { .. } => "unsupported",
            Failure::Link { .. } => "link error",
            Failure::Trap { .. } => "trap",
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            Failure::Invalid { message }
            | Failure::Unsupported { message }
            | Failure::Link { message }
            | Failure::Trap { message, .. } => message,
        }
    }

    /// The trap class, if this is a trap.
    pub fn trap_class(&self) -> Option<TrapClass> {
        match self {
            Failure::Trap { reason, .. } => Some(*reason),
            _ => None,
        }
    }

    /// Whether this is a trap.
    pub fn is_trap(&self) -> bool {
        matches!(self, Failure::Trap { .. })
    }

    /// Whether two failures are the same outcome: the same class, and for traps agreeing trap classes.
    pub fn agrees_with(&self, other: &Failure) -> bool {
        match (self, other) {
            (Failure::Trap { reason: a, .. }, Failure::Trap { reason: b, .. }) => a.agrees_with(*b),
            (a, b) => a.class() == b.class(),
        }
    }

    /// The outcome as compared: the class, and a trap's class where it is fixed (`trap (out of bounds)`).
    pub fn key(&self) -> String {
        match self {
            Failure::Trap { reason: TrapClass::Other, .. } => "trap".into(),
            Failure::Trap { reason, .. } => format!("trap ({})", reason.name()),
            other => other.class().into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key(), self.message().lines().next().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasmtime_messages_have_their_classes() {
        for (m, c) in [
            ("wasm trap: wasm `unreachable` instruction executed", TrapClass::Unreachable),
            ("string pointer/length out of bounds of memory", TrapClass::OutOfBounds),
            ("wasm trap: list content out-of-bounds", TrapClass::OutOfBounds),
            ("realloc return: beyond end of memory", TrapClass::OutOfBounds),
            ("realloc return: result not aligned", TrapClass::Misaligned),
            ("wasm trap: unaligned pointer", TrapClass::Misaligned),
            ("list pointer is not aligned", TrapClass::Misaligned),
            ("invalid utf8 encoding", TrapClass::InvalidString),
            ("invalid utf16 encoding", TrapClass::InvalidString),
            ("wasm trap: invalid variant discriminant", TrapClass::InvalidDiscriminant),
            ("invalid option discriminant", TrapClass::InvalidDiscriminant),
            ("wasm trap: invalid `char` bit pattern", TrapClass::InvalidChar),
            // jco's generated JavaScript.
            ("TypeError: not a valid char", TrapClass::InvalidChar),
            ("RangeError: Offset is outside the bounds of the DataView", TrapClass::OutOfBounds),
            ("TypeError: list pointer [131433] is not aligned to 4", TrapClass::Misaligned),
            ("unknown handle index 3", TrapClass::Resource),
            ("wasm trap: cannot enter component instance", TrapClass::CannotEnter),
            ("wasm trap: cannot leave component instance", TrapClass::CannotLeave),
            ("wasm trap: call stack exhausted", TrapClass::Exhausted),
            ("wasm trap: integer divide by zero", TrapClass::Other),
        ] {
            assert_eq!(TrapClass::from_message(m), c, "{m}");
        }
    }

    #[test]
    fn wast_messages_name_their_classes() {
        for c in [
            TrapClass::OutOfBounds,
            TrapClass::Misaligned,
            TrapClass::InvalidString,
            TrapClass::InvalidDiscriminant,
            TrapClass::InvalidChar,
            TrapClass::Unreachable,
            TrapClass::Resource,
            TrapClass::CannotEnter,
            TrapClass::CannotLeave,
            TrapClass::Exhausted,
        ] {
            assert_eq!(TrapClass::from_message(c.wast_message()), c);
        }
        assert_eq!(TrapClass::from_message(TrapClass::Host.wast_message()), TrapClass::Other);
    }

    #[test]
    fn traps_agree_by_class() {
        let oob = Failure::trap_of(TrapClass::OutOfBounds, "a");
        let mis = Failure::trap_of(TrapClass::Misaligned, "b");
        let other = Failure::trap("integer divide by zero");
        assert!(oob.agrees_with(&oob.clone()));
        assert!(!oob.agrees_with(&mis));
        assert!(oob.agrees_with(&other) && other.agrees_with(&mis));
        assert!(!oob.agrees_with(&Failure::link("x")));
        assert_eq!(oob.key(), "trap (out of bounds)");
        assert_eq!(other.key(), "trap");
    }
}
