//! Handle tables: the spec's `Table` of `ResourceHandle`s, one per component instance.
//!
//! Index 0 is never valid; indices are 1-based and freed slots are reused most-recent-first, so the handle
//! numbers a guest observes are the ones the spec (and wasmtime) give. The free list lives in the free slots
//! themselves, so a table costs one vector.

use crate::error::{trap, Result, Trap};
use crate::resources::ResourceType;

/// `Table.MAX_LENGTH`: handle indices stay below 2^28 so guests can use the high bits.
pub const MAX_TABLE_LENGTH: usize = (1 << 28) - 1;

/// A resource handle in a component instance's table (the spec's `ResourceHandle`).
#[derive(Clone, Debug)]
pub struct Handle {
    /// The resource type.
    pub rt: ResourceType,
    /// The representation (`rep`) chosen by the implementer.
    pub rep: u32,
    /// Whether this is an owning handle (otherwise a borrow).
    pub own: bool,
    /// For borrows: the index (in the store's task stack) of the task the borrow was lent to.
    pub borrow_scope: Option<u32>,
    /// How many borrows of this handle are currently lent out.
    pub num_lends: u32,
}

#[derive(Debug)]
enum Slot {
    /// A free slot, with the next free slot (0 = none).
    Free(u32),
    Used(Handle),
}

/// One component instance's handle table.
#[derive(Debug)]
pub struct HandleTable {
    slots: Vec<Slot>,
    /// The most recently freed slot (0 = none).
    free_head: u32,
}

impl Default for HandleTable {
    fn default() -> Self {
        HandleTable { slots: vec![Slot::Free(0)], free_head: 0 }
    }
}

impl HandleTable {
    /// `Table.add`: stores a handle and returns its index.
    pub fn add(&mut self, h: Handle) -> Result<u32> {
        if self.free_head != 0 {
            let i = self.free_head;
            let Slot::Free(next) = self.slots[i as usize] else { unreachable!("free list points at a used slot") };
            self.free_head = next;
            self.slots[i as usize] = Slot::Used(h);
            return Ok(i);
        }
        let i = self.slots.len();
        if i > MAX_TABLE_LENGTH {
            return trap(Trap::TableFull);
        }
        self.slots.push(Slot::Used(h));
        Ok(i as u32)
    }

    /// `Table.get`: the handle at `i`, or an "unknown handle" trap.
    pub fn get(&self, i: u32) -> Result<&Handle> {
        match self.slots.get(i as usize) {
            Some(Slot::Used(h)) if i != 0 => Ok(h),
            _ => trap(Trap::UnknownHandle),
        }
    }

    /// Mutable `Table.get`.
    pub fn get_mut(&mut self, i: u32) -> Result<&mut Handle> {
        match self.slots.get_mut(i as usize) {
            Some(Slot::Used(h)) if i != 0 => Ok(h),
            _ => trap(Trap::UnknownHandle),
        }
    }

    /// `Table.remove`: takes the handle at `i` out and frees the slot.
    pub fn remove(&mut self, i: u32) -> Result<Handle> {
        self.get(i)?;
        let slot = std::mem::replace(&mut self.slots[i as usize], Slot::Free(self.free_head));
        self.free_head = i;
        let Slot::Used(h) = slot else { unreachable!("checked above") };
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(rep: u32) -> Handle {
        Handle { rt: ResourceType::host_dynamic(0), rep, own: true, borrow_scope: None, num_lends: 0 }
    }

    #[test]
    fn indices_start_at_one_and_reuse_lifo() {
        let mut t = HandleTable::default();
        assert_eq!(t.add(h(10)).unwrap(), 1);
        assert_eq!(t.add(h(11)).unwrap(), 2);
        assert_eq!(t.add(h(12)).unwrap(), 3);
        t.remove(1).unwrap();
        t.remove(3).unwrap();
        // Most recently freed first.
        assert_eq!(t.add(h(13)).unwrap(), 3);
        assert_eq!(t.add(h(14)).unwrap(), 1);
        assert_eq!(t.add(h(15)).unwrap(), 4);
        assert_eq!(t.get(1).unwrap().rep, 14);
    }

    #[test]
    fn index_zero_and_freed_slots_are_unknown() {
        let mut t = HandleTable::default();
        assert_eq!(t.get(0).unwrap_err().as_trap(), Some(&Trap::UnknownHandle));
        let i = t.add(h(1)).unwrap();
        t.remove(i).unwrap();
        assert!(t.get(i).is_err());
        assert!(t.remove(i).is_err());
        assert!(t.get(u32::MAX).is_err());
    }
}
