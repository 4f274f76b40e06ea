//! A component instance's resource handle: the spec's `ResourceHandle`, the resource kind of element in the
//! instance's one handle table ([`crate::abi::table`]).

use super::ResourceType;

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
