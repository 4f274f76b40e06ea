//! Resources: their types, the handles the host holds, the handles components hold, and their destructors — all
//! in this module (documented on [`ResourceType`], [`ResourceAny`] and [`Resource`]).
//!
//! * [`ResourceType`] is a runtime identity (a fresh one per instantiation for a component's own resources);
//! * the host's handles live in the store's host table ([`host_table`]), with the state of typed host resources;
//! * a component instance's handles ([`handle::Handle`]) live in its one handle table ([`crate::abi::table`]),
//!   beside its waitables;
//! * destructors, of guest and host resource types alike, are in the store's one registry ([`dtors`]), which
//!   also runs them: for `resource.drop` in a component and for [`ResourceAny::resource_drop`] on the host.

use std::any::{Any, TypeId};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use crate::error::{Error, Result, Trap};
use crate::store::{AsContextMut, RuntimeAccess};

pub(crate) mod dtors;
pub(crate) mod handle;
pub(crate) mod host_table;

pub use dtors::HostDtor;
pub(crate) use host_table::HostTable;

/// The identity of a resource type.
///
/// A `ResourceType` is a runtime identity: each instantiation of a component makes fresh types for the resources
/// it defines; host resource types are identified by a Rust type ([`ResourceType::host`]) or a number, for
/// dynamic hosts ([`ResourceType::host_dynamic`]). Equality is identity, never the name.
///
/// `Display` shows the name the component knows the resource by (the import or export that first names it,
/// `output-stream`), the Rust type's name for typed host resources, and `host#N` for dynamic ones; so function
/// types read `func(s: borrow<output-stream>) -> own<output-stream>`.
#[derive(Clone)]
pub struct ResourceType {
    kind: ResourceKind,
    name: Option<Arc<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ResourceKind {
    /// Implemented by the host with Rust type `T` (its `TypeId`).
    Host(TypeId),
    /// Implemented by the host, identified by a number chosen at run time.
    HostDynamic(u32),
    /// Defined by a component instance: unique id, and the store and store-level index of the defining
    /// instance.
    Guest { id: u64, store: u64, instance: u32 },
    /// A resource of a component that has not been instantiated (for reflection on a `Component`).
    Abstract { component: u64, index: u32 },
}

impl ResourceType {
    /// The resource type implemented by the host with Rust type `T`.
    pub fn host<T: 'static>() -> Self {
        ResourceType { kind: ResourceKind::Host(TypeId::of::<T>()), name: Some(std::any::type_name::<T>().into()) }
    }

    /// A host resource type identified by a number, for hosts that choose their types at run time.
    pub fn host_dynamic(id: u32) -> Self {
        ResourceType { kind: ResourceKind::HostDynamic(id), name: None }
    }

    pub(crate) fn guest(store: u64, instance: u32, name: Option<Arc<str>>) -> Self {
        ResourceType { kind: ResourceKind::Guest { id: crate::store::next_id(), store, instance }, name }
    }

    pub(crate) fn abstract_(component: u64, index: u32, name: Option<Arc<str>>) -> Self {
        ResourceType { kind: ResourceKind::Abstract { component, index }, name }
    }

    /// The component and index of an abstract resource type (from reflection on a component).
    #[cfg(feature = "generic-host")]
    pub(crate) fn abstract_index(&self) -> Option<(u64, u32)> {
        match self.kind {
            ResourceKind::Abstract { component, index } => Some((component, index)),
            _ => None,
        }
    }

    /// The component instance (of store `store`) that defines this resource, for guest resources.
    pub(crate) fn guest_instance(&self, store: u64) -> Option<u32> {
        match self.kind {
            ResourceKind::Guest { instance, store: s, .. } if s == store => Some(instance),
            _ => None,
        }
    }

    /// The unique id of a guest-defined resource type.
    pub(crate) fn guest_id(&self) -> Option<u64> {
        match self.kind {
            ResourceKind::Guest { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The Rust type of a typed host resource.
    pub(crate) fn host_type_id(&self) -> Option<TypeId> {
        match self.kind {
            ResourceKind::Host(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the host implements this resource type.
    pub fn is_host(&self) -> bool {
        matches!(self.kind, ResourceKind::Host(_) | ResourceKind::HostDynamic(_))
    }
}

impl PartialEq for ResourceType {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}
impl Eq for ResourceType {}
impl Hash for ResourceType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind.hash(state)
    }
}

impl fmt::Debug for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.name) {
            (_, Some(n)) => write!(f, "{n}"),
            (ResourceKind::Host(_), None) => f.write_str("host"),
            (ResourceKind::HostDynamic(i), None) => write!(f, "host#{i}"),
            (ResourceKind::Guest { id, .. }, None) => write!(f, "resource#{id}"),
            (ResourceKind::Abstract { index, .. }, None) => write!(f, "resource{index}"),
        }
    }
}

/// A resource handle held by the host: an `own` (which the host must pass on or drop) or a `borrow` (valid
/// only during the host call that received it).
///
/// When a resource handle leaves a component for the host (an `own` result, or a `borrow` parameter of a host
/// function), the host receives a `ResourceAny`: an entry in the store's host table, like wasmtime's. Passing
/// an owned `ResourceAny` back into a component moves it out of the host table; dropping the last clone of a
/// `ResourceAny` frees its table entry (without running a destructor — call [`ResourceAny::resource_drop`] for
/// that), so a forgotten handle can never leak a table slot or keep its owner borrowed.
#[derive(Clone)]
pub struct ResourceAny {
    pub(crate) store: u64,
    pub(crate) index: u32,
    pub(crate) ty: ResourceType,
    pub(crate) own: bool,
    pub(crate) token: Arc<()>,
}

impl ResourceAny {
    /// The resource's type.
    pub fn ty(&self) -> &ResourceType {
        &self.ty
    }

    /// Whether this is an owning handle.
    pub fn owned(&self) -> bool {
        self.own
    }

    /// Creates an owning handle to a host-implemented resource with representation `rep`, held by the host (as
    /// wasmtime's `Resource::new_own`). Passing it to a component moves it into the component's table.
    pub fn new_own<S: AsContextMut>(mut store: S, ty: ResourceType, rep: u32) -> Result<ResourceAny> {
        Self::new_host(&mut store, ty, rep, true)
    }

    /// Creates a borrowed handle to a host-implemented resource with representation `rep`.
    pub fn new_borrow<S: AsContextMut>(mut store: S, ty: ResourceType, rep: u32) -> Result<ResourceAny> {
        Self::new_host(&mut store, ty, rep, false)
    }

    fn new_host<S: AsContextMut>(store: &mut S, ty: ResourceType, rep: u32, own: bool) -> Result<ResourceAny> {
        if !ty.is_host() {
            return Err(Error::usage("only host resource types can be created by the host"));
        }
        let mut ctx = store.as_context_mut();
        let rt = ctx.rt();
        Ok(rt.host.insert(rt.id, ty, rep, own))
    }

    /// The representation of a host-implemented resource (guest resources keep theirs private).
    pub fn rep<S: AsContextMut>(&self, mut store: S) -> Result<u32> {
        if !self.ty.is_host() {
            return Err(Error::usage("the representation of a guest resource is private to its component"));
        }
        let mut ctx = store.as_context_mut();
        let rt = ctx.rt();
        rt.host.get(self).map(|e| e.rep).ok_or_else(|| Error::trap(Trap::ResourceGone))
    }

    /// Drops the handle: an owning handle's destructor runs (in the defining component instance, or the host's
    /// destructor for host resources); a borrow simply ends.
    pub fn resource_drop<S: AsContextMut>(self, mut store: S) -> Result<()> {
        let mut ctx = store.as_context_mut();
        let rt = ctx.rt();
        crate::store::check_store(rt, self.store)?;
        let entry = rt.host.get(&self).ok_or_else(|| Error::trap(Trap::ResourceGone))?;
        if entry.lends != 0 {
            return Err(Error::trap(Trap::HandleLent));
        }
        let entry = rt.host.remove(&self).ok_or_else(|| Error::internal("a live host handle has no entry"))?;
        if !entry.own {
            return Ok(());
        }
        let r = dtors::run_dtor::<S::Data, S::Engine>(&mut ctx.inner, None, &entry.rt, entry.rep);
        crate::func::nesting::resume_panic(ctx.rt());
        r
    }

    /// The index of the handle in the store's host table (stable while the handle lives; useful to compare
    /// handle numbering across engines).
    pub fn index(&self) -> u32 {
        self.index
    }
}

impl PartialEq for ResourceAny {
    fn eq(&self, other: &Self) -> bool {
        self.store == other.store && self.index == other.index && Arc::ptr_eq(&self.token, &other.token)
    }
}

impl fmt::Debug for ResourceAny {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}#{})", if self.own { "own" } else { "borrow" }, self.ty, self.index)
    }
}

/// A host resource of Rust type `R` whose state lives in the store: an owning handle held by the host.
///
/// Create one with [`Resource::new`], pass it to a component (as `own<R>` or `borrow<R>`), read its state with
/// [`Resource::get`]. When a component drops its owning handle, the destructor given to
/// [`crate::LinkerInstance::resource_typed`] receives the state. Dropping the last host handle without passing it
/// on frees the state (without calling the destructor); [`Resource::resource_drop`] calls it.
pub struct Resource<R> {
    any: ResourceAny,
    _marker: PhantomData<fn() -> R>,
}

impl<R> Clone for Resource<R> {
    fn clone(&self) -> Self {
        Resource { any: self.any.clone(), _marker: PhantomData }
    }
}

impl<R> std::fmt::Debug for Resource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.any.fmt(f)
    }
}

impl<R: Any + Send> Resource<R> {
    /// Moves `value` into the store and returns an owning handle to it.
    pub fn new<S: AsContextMut>(mut store: S, value: R) -> Result<Resource<R>> {
        let mut ctx = store.as_context_mut();
        let rt = ctx.rt();
        let rep = rt.host.values.insert(value)?;
        let any = rt.host.insert(rt.id, ResourceType::host::<R>(), rep, true);
        Ok(Resource { any, _marker: PhantomData })
    }

    /// The resource's state (from a store or, in a host function, its context).
    pub fn get<'a, S: RuntimeAccess>(&self, store: &'a S) -> Result<&'a R> {
        let rt = store.runtime();
        let rep = rt.host.get(&self.any).ok_or_else(|| Error::trap(Trap::ResourceGone))?.rep;
        rt.host.values.get(rep).ok_or_else(|| Error::trap(Trap::ResourceGone))
    }

    /// The resource's state, mutably.
    pub fn get_mut<'a, S: RuntimeAccess>(&self, store: &'a mut S) -> Result<&'a mut R> {
        let rt = store.runtime_mut();
        let rep = rt.host.get(&self.any).ok_or_else(|| Error::trap(Trap::ResourceGone))?.rep;
        rt.host.values.get_mut(rep).ok_or_else(|| Error::trap(Trap::ResourceGone))
    }

    /// Runs the destructor (through a component's `resource.drop` semantics) and frees the state.
    pub fn resource_drop<S: AsContextMut>(self, store: S) -> Result<()> {
        self.any.resource_drop(store)
    }

    /// The dynamic handle.
    pub fn into_any(self) -> ResourceAny {
        self.any
    }

    /// The dynamic handle, borrowed.
    pub fn as_any(&self) -> &ResourceAny {
        &self.any
    }

    /// A typed view of a dynamic handle, if it is a resource of type `R`.
    pub fn try_from_any(any: ResourceAny) -> Result<Resource<R>> {
        if any.ty != ResourceType::host::<R>() {
            return Err(Error::usage(format!("resource of type {} is not a {}", any.ty, std::any::type_name::<R>())));
        }
        Ok(Resource { any, _marker: PhantomData })
    }

    /// Whether this handle owns the resource.
    pub fn owned(&self) -> bool {
        self.any.own
    }
}
