//! The handle table of a component instance: the spec's `ComponentInstance.handles`, one `Table` per instance
//! holding every kind of handle a guest sees as an `i32` — resources, waitables (subtasks and the ends of
//! streams and futures), waitable sets and error-contexts — in one index space, as the spec has it: a guest
//! observes the same handle numbers as under the reference and wasmtime, whatever mix of kinds it creates.
//!
//! Index 0 is never valid; indices are 1-based and freed slots are reused most-recent-first. The free list lives
//! in the free slots themselves, so a table costs one vector.
//!
//! Resources keep the typed accessors the synchronous hot path uses ([`HandleTable::get`], [`HandleTable::add`],
//! …): a slot that holds another kind of handle is a type error for them ("handle used with the wrong type"), as
//! `trap_if(not isinstance(h, ResourceHandle))` in the spec. The async ABI's handles go through
//! [`HandleTable::element`] and friends; their state lives in the store (see `crate::concurrent`), the table
//! only names it.

use crate::concurrent::{ErrorContext, WaitableId, WaitableSet};
use crate::error::{trap, Error, Result, Trap};
use crate::resources::handle::Handle;

/// `Table.MAX_LENGTH`: handle indices stay below 2^28 so guests can use the high bits.
pub const MAX_TABLE_LENGTH: usize = (1 << 28) - 1;

/// What a handle names.
#[derive(Debug)]
pub enum Element {
    /// A resource handle (`own` or `borrow`).
    Resource(Handle),
    /// A subtask or an end of a stream or future: its state is in the store's waitables.
    Waitable(WaitableId),
    /// A waitable set.
    WaitableSet(WaitableSet),
    /// An error-context.
    ErrorContext(ErrorContext),
}

#[derive(Debug)]
enum Slot {
    /// A free slot, with the next free slot (0 = none).
    Free(u32),
    Used(Element),
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
    /// `Table.add` of a resource handle.
    pub fn add(&mut self, h: Handle) -> Result<u32> {
        self.add_element(Element::Resource(h))
    }

    /// `Table.get` of a resource handle: an "unknown handle" trap for a free slot, a type trap for another kind.
    pub fn get(&self, i: u32) -> Result<&Handle> {
        match self.element(i)? {
            Element::Resource(h) => Ok(h),
            _ => trap(Trap::HandleType),
        }
    }

    /// Mutable [`HandleTable::get`].
    pub fn get_mut(&mut self, i: u32) -> Result<&mut Handle> {
        match self.element_mut(i)? {
            Element::Resource(h) => Ok(h),
            _ => trap(Trap::HandleType),
        }
    }

    /// `Table.remove` of a resource handle.
    pub fn remove(&mut self, i: u32) -> Result<Handle> {
        self.get(i)?;
        match self.remove_element(i)? {
            Element::Resource(h) => Ok(h),
            _ => Err(Error::internal("a resource slot held another element after the check")),
        }
    }

    /// `Table.add`: stores an element and returns its index.
    pub fn add_element(&mut self, e: Element) -> Result<u32> {
        if self.free_head != 0 {
            let i = self.free_head;
            let Some(&Slot::Free(next)) = self.slots.get(i as usize) else {
                return Err(Error::internal("the free list points at a used slot"));
            };
            self.free_head = next;
            self.slots[i as usize] = Slot::Used(e);
            return Ok(i);
        }
        let i = self.slots.len();
        if i > MAX_TABLE_LENGTH {
            return trap(Trap::TableFull);
        }
        self.slots.push(Slot::Used(e));
        Ok(i as u32)
    }

    /// `Table.get`: the element at `i`, or an "unknown handle" trap.
    pub fn element(&self, i: u32) -> Result<&Element> {
        match self.slots.get(i as usize) {
            Some(Slot::Used(e)) if i != 0 => Ok(e),
            _ => trap(Trap::UnknownHandle),
        }
    }

    /// Mutable [`HandleTable::element`].
    pub fn element_mut(&mut self, i: u32) -> Result<&mut Element> {
        match self.slots.get_mut(i as usize) {
            Some(Slot::Used(e)) if i != 0 => Ok(e),
            _ => trap(Trap::UnknownHandle),
        }
    }

    /// `Table.remove`: takes the element at `i` out and frees the slot.
    pub fn remove_element(&mut self, i: u32) -> Result<Element> {
        self.element(i)?;
        let slot = std::mem::replace(&mut self.slots[i as usize], Slot::Free(self.free_head));
        self.free_head = i;
        let Slot::Used(e) = slot else { return Err(Error::internal("a checked slot was free")) };
        Ok(e)
    }

    /// The waitable at `i`, or a trap if `i` is free or names something else.
    pub fn waitable(&self, i: u32) -> Result<WaitableId> {
        match self.element(i)? {
            Element::Waitable(w) => Ok(*w),
            _ => trap(Trap::HandleType),
        }
    }

    /// The waitable set at `i`, or a trap if `i` is free or names something else.
    pub fn waitable_set(&mut self, i: u32) -> Result<&mut WaitableSet> {
        match self.element_mut(i)? {
            Element::WaitableSet(s) => Ok(s),
            _ => trap(Trap::HandleType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::ResourceType;

    fn resource(rep: u32) -> Handle {
        Handle { rt: ResourceType::host_dynamic(0), rep, own: true, borrow_scope: None, num_lends: 0 }
    }

    #[test]
    fn every_kind_shares_one_index_space() {
        let mut t = HandleTable::default();
        assert_eq!(t.add(resource(7)).unwrap(), 1);
        assert_eq!(t.add_element(Element::WaitableSet(WaitableSet::default())).unwrap(), 2);
        assert_eq!(t.add_element(Element::Waitable(9)).unwrap(), 3);
        // A resource accessor on another kind is a type error, not an unknown handle.
        assert_eq!(t.get(2).unwrap_err().as_trap(), Some(&Trap::HandleType));
        assert_eq!(t.waitable(1).unwrap_err().as_trap(), Some(&Trap::HandleType));
        assert_eq!(t.waitable(3).unwrap(), 9);
        assert!(t.waitable_set(2).is_ok());
        // Freed slots are reused most-recent-first, whatever kind held them.
        t.remove_element(2).unwrap();
        t.remove(1).unwrap();
        assert_eq!(t.add_element(Element::Waitable(4)).unwrap(), 1);
        assert_eq!(t.add(resource(8)).unwrap(), 2);
        assert_eq!(t.element(0).unwrap_err().as_trap(), Some(&Trap::UnknownHandle));
    }

    #[test]
    fn indices_start_at_one_and_reuse_lifo() {
        let mut t = HandleTable::default();
        assert_eq!(t.add(resource(10)).unwrap(), 1);
        assert_eq!(t.add(resource(11)).unwrap(), 2);
        assert_eq!(t.add(resource(12)).unwrap(), 3);
        t.remove(1).unwrap();
        t.remove(3).unwrap();
        // Most recently freed first.
        assert_eq!(t.add(resource(13)).unwrap(), 3);
        assert_eq!(t.add(resource(14)).unwrap(), 1);
        assert_eq!(t.add(resource(15)).unwrap(), 4);
        assert_eq!(t.get(1).unwrap().rep, 14);
    }

    #[test]
    fn index_zero_and_freed_slots_are_unknown() {
        let mut t = HandleTable::default();
        assert_eq!(t.get(0).unwrap_err().as_trap(), Some(&Trap::UnknownHandle));
        let i = t.add(resource(1)).unwrap();
        t.remove(i).unwrap();
        assert!(t.get(i).is_err());
        assert!(t.remove(i).is_err());
        assert!(t.get(u32::MAX).is_err());
    }
}
