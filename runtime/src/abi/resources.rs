//! Resource handles: the spec's `ResourceHandle`, the resource kind of element in a component instance's
//! handle table ([`super::table`]).

use crate::resources::ResourceType;

pub use super::table::HandleTable;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Trap;

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
