//! The table of WASI resources a store's guests hold, indexed by rep.
//!
//! Every WASI resource the host hands out (a stream, a descriptor, a pollable, an error, …) gets a rep here;
//! the component's handle table maps the guest's handles to these reps and checks the resource *type* of each
//! handle, so a rep that reaches the host names an entry of the right kind unless the host itself is wrong.
//! The table still checks the kind and answers a mismatch or a missing entry with a trap, never a panic.
//!
//! Entries do not point at each other: a pollable or a stream keeps what it needs (a deadline, a file handle)
//! by value, so resources may be dropped in any order. (wasmtime-wasi instead refuses to drop a stream while
//! its pollables live; here such a pollable simply stays ready.)
//!
//! The table is bounded ([`MAX_ENTRIES`]): a guest that creates resources without dropping them traps instead
//! of exhausting the host's memory.

use component_layer::{Error, ErrorKind, HostResource};

use crate::filesystem::{Descriptor, DirEntries};
use crate::io::{InputStream, IoError, OutputStream, Pollable};

/// The most WASI resources one store may hold at once.
pub const MAX_ENTRIES: usize = 1 << 20;

/// One WASI resource.
pub(crate) enum Entry {
    Input(InputStream),
    Output(OutputStream),
    Pollable(Pollable),
    Error(IoError),
    Descriptor(Descriptor),
    DirEntries(DirEntries),
    /// A terminal, network or similar resource with no state.
    Unit,
}

/// Reps are indices + 1 (so that 0 is never a rep), reused most recently freed first.
#[derive(Default)]
pub(crate) struct Table {
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    live: usize,
}

/// A trap raised by the WASI host: a host bug or a guest that broke WASI's rules (such as an oversized write).
pub(crate) fn trap(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Host(anyhow::anyhow!("wasi: {msg}")))
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    pub(crate) fn push(&mut self, entry: Entry) -> component_layer::Result<u32> {
        if self.live >= MAX_ENTRIES {
            return Err(trap(format!("too many WASI resources (at most {MAX_ENTRIES} at once)")));
        }
        self.live += 1;
        if let Some(rep) = self.free.pop() {
            self.slots[rep as usize - 1] = Some(entry);
            return Ok(rep);
        }
        self.slots.push(Some(entry));
        Ok(self.slots.len() as u32)
    }

    pub(crate) fn push_own<R>(&mut self, entry: Entry) -> component_layer::Result<HostResource<R>> {
        self.push(entry).map(HostResource::new_own)
    }

    pub(crate) fn get_mut(&mut self, rep: u32) -> component_layer::Result<&mut Entry> {
        rep.checked_sub(1)
            .and_then(|i| self.slots.get_mut(i as usize))
            .and_then(Option::as_mut)
            .ok_or_else(|| trap(format!("unknown WASI resource {rep}")))
    }

    pub(crate) fn remove(&mut self, rep: u32) -> component_layer::Result<Entry> {
        let entry = rep
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i as usize))
            .and_then(Option::take)
            .ok_or_else(|| trap(format!("unknown WASI resource {rep}")))?;
        self.live -= 1;
        self.free.push(rep);
        Ok(entry)
    }
}

/// Typed access to the entries of one kind.
macro_rules! accessors {
    ($($get:ident $variant:ident $ty:ty;)*) => {
        impl Table {
            $(
                pub(crate) fn $get(&mut self, rep: u32) -> component_layer::Result<&mut $ty> {
                    match self.get_mut(rep)? {
                        Entry::$variant(x) => Ok(x),
                        _ => Err(trap(format!("WASI resource {rep} is not a {}", stringify!($variant)))),
                    }
                }
            )*
        }
    };
}

accessors! {
    input Input InputStream;
    output Output OutputStream;
    pollable Pollable Pollable;
    error Error IoError;
    descriptor Descriptor Descriptor;
    dir_entries DirEntries DirEntries;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reps_start_at_one_and_are_reused() {
        let mut t = Table::default();
        let a = t.push(Entry::Unit).unwrap();
        let b = t.push(Entry::Unit).unwrap();
        assert_eq!((a, b), (1, 2));
        t.remove(a).unwrap();
        assert!(t.remove(a).is_err());
        assert!(t.get_mut(0).is_err());
        assert!(t.get_mut(u32::MAX).is_err());
        assert_eq!(t.push(Entry::Unit).unwrap(), 1);
        assert!(t.input(1).is_err());
        assert_eq!(t.len(), 2);
    }
}
