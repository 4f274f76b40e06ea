//! [`HostResource<R>`]: a handle to a host-implemented resource that the host identifies by a number of its own
//! choosing (its *rep*), as wasmtime's `Resource<T>`.
//!
//! [`crate::Resource<R>`] keeps the resource's state in the store; a `HostResource<R>` keeps nothing but the rep,
//! so it can be made and read without a store — which is what a `bindgen!` `Host` trait method needs, since it
//! only sees its own state (`&mut self`). The state lives wherever the host keeps it (a table indexed by the
//! rep, typically), and `R` is a marker type that names the resource type (`ResourceType::host::<R>()`).
//!
//! Crossing the canonical ABI goes through the store's host table like every other handle, with the same
//! checks; the table entry only lives for the duration of the crossing:
//! * lifting an `own` moves the guest's handle out and yields its rep (the host now owns it);
//! * lifting a `borrow` lends the guest's handle for the call, as any borrow;
//! * lowering an `own` gives the guest a new owning handle with the rep; lowering a `borrow` a borrow handle.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut as _};

use super::builtins::{get4, put};
use super::internal::{mismatch, wrong_type};
use super::{ComponentType, Lift, Lower};
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::types::Ty;
use crate::abi::Cx;
use crate::error::{Error, Result, Trap};
use crate::resources::{ResourceAny, ResourceType};
use crate::types::ValueType;

/// A handle to a resource of the host resource type `ResourceType::host::<R>()`, identified by its rep.
///
/// `R` is only a name (`bindgen!` generates an uninhabited marker type per imported resource); the host keeps
/// the state itself, keyed by [`HostResource::rep`]. Define the resource type in a linker with
/// [`crate::LinkerInstance::resource`] and `ResourceType::host::<R>()`: its destructor receives the rep.
pub struct HostResource<R: 'static> {
    rep: u32,
    own: bool,
    _marker: PhantomData<fn() -> R>,
}

impl<R: 'static> HostResource<R> {
    /// An owning handle to the resource with representation `rep`; passing it to a component moves ownership
    /// there.
    pub fn new_own(rep: u32) -> Self {
        HostResource { rep, own: true, _marker: PhantomData }
    }

    /// A borrowed handle to the resource with representation `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        HostResource { rep, own: false, _marker: PhantomData }
    }

    /// The representation the host chose.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether this is an owning handle.
    pub fn owned(&self) -> bool {
        self.own
    }

    /// The resource type this handle belongs to.
    pub fn ty() -> ResourceType {
        ResourceType::host::<R>()
    }

    fn lower_handle<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty) -> Result<u32> {
        let (r, own) = match ty {
            Ty::Own(r) => (r, true),
            Ty::Borrow(r) => (r, false),
            _ => return Err(wrong_type(cx, ty)),
        };
        if own && !self.own {
            return Err(Error::trap(Trap::HandleType));
        }
        let rt = &mut cx.store.data_mut().rt;
        let id = rt.id;
        let any = rt.host.insert(id, Self::ty(), self.rep, own);
        let index = if own { cx.lower_own(r, &any) } else { cx.lower_borrow(r, &any) };
        // A borrow's entry has served its purpose; an own's was moved out by `lower_own` (or stays on failure).
        cx.store.data_mut().rt.host.remove(&any);
        index
    }

    fn lift_handle<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, index: u32) -> Result<Self> {
        let any: ResourceAny = match ty {
            Ty::Own(r) => cx.lift_own(r, index)?,
            Ty::Borrow(r) => cx.lift_borrow(r, index)?,
            _ => return Err(wrong_type(cx, ty)),
        };
        if *any.ty() != Self::ty() {
            return Err(Error::trap(Trap::HandleType));
        }
        let rt = &mut cx.store.data_mut().rt;
        let rep = rt.host.get(&any).map(|e| e.rep).ok_or_else(|| Error::trap(Trap::ResourceGone))?;
        if any.owned() {
            // The host owns it now, by rep: the table entry is not needed.
            rt.host.remove(&any);
        }
        Ok(HostResource { rep, own: any.owned(), _marker: PhantomData })
    }
}

impl<R: 'static> fmt::Debug for HostResource<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.own { "own" } else { "borrow" };
        write!(f, "{kind}<{}>(rep {})", std::any::type_name::<R>(), self.rep)
    }
}

impl<R: 'static> PartialEq for HostResource<R> {
    fn eq(&self, other: &Self) -> bool {
        self.rep == other.rep && self.own == other.own
    }
}

impl<R: 'static> Eq for HostResource<R> {}

impl<R: 'static> Hash for HostResource<R> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.rep, self.own).hash(state)
    }
}

/// `own<R>` or `borrow<R>` of the host resource type of marker `R`.
impl<R: 'static> ComponentType for HostResource<R> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        let want = Self::ty();
        match ty {
            ValueType::Own(r) | ValueType::Borrow(r) if *r == want => Ok(()),
            other => Err(mismatch(std::any::type_name::<Self>(), &format!("own<{want}> or borrow<{want}>"), other)),
        }
    }
}

impl<R: 'static> Lower for HostResource<R> {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        out.push(u64::from(self.lower_handle(cx, ty)?));
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        put(buf, off, &self.lower_handle(cx, ty)?.to_le_bytes());
        Ok(())
    }
}

impl<R: 'static> Lift for HostResource<R> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let index = src.next_bits()? as u32;
        Self::lift_handle(cx, ty, index)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Self::lift_handle(cx, ty, get4(buf, off))
    }
}
