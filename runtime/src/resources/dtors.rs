//! The store's one registry of resource destructors, and the code that runs them.
//!
//! A resource type's destructor comes from whoever defines the type: a component instance gives a core
//! function (`(resource (rep i32) (dtor $f))`, registered when the instance is made), a host gives a closure
//! (registered from the linker's definitions at instantiation). Both are looked up by resource type here when
//! an owning handle is dropped — by a component (`canon resource.drop`, [`resource_drop`]) or by the host
//! ([`crate::ResourceAny::resource_drop`]) — and [`run_dtor`] enters the defining instance as the spec's
//! `canon_resource_drop` does, or calls the host.

use std::collections::HashMap;
use std::sync::Arc;

use wasm_runtime_layer::backend::{Val, WasmEngine, WasmStoreContextMut as _};

use super::ResourceType;
use crate::error::{trap, Result, Trap};
use crate::func::call::{check_may_leave, entering_set, host_error};
use crate::func::nesting::call_core;
use crate::store::{check_not_poisoned, Ctx, StoreContextMut};

/// A host destructor: receives the resource's representation.
pub type HostDtor<T, E> = Arc<dyn Fn(StoreContextMut<'_, T, E>, u32) -> anyhow::Result<()> + Send + Sync>;

/// The destructors of a store's resource types.
pub(crate) struct Dtors<T: 'static, E: WasmEngine> {
    /// Guest-defined resource types, by their unique id: the core function, if the type has one.
    guest: HashMap<u64, Option<E::Func>>,
    /// Host resource types, from the linkers used to instantiate.
    host: HashMap<ResourceType, HostDtor<T, E>>,
}

impl<T: 'static, E: WasmEngine> Default for Dtors<T, E> {
    fn default() -> Self {
        Dtors { guest: HashMap::new(), host: HashMap::new() }
    }
}

impl<T: 'static, E: WasmEngine> Dtors<T, E> {
    /// Registers the destructor of a resource type a component instance defines (`rt` must be a guest type).
    pub fn add_guest(&mut self, rt: &ResourceType, dtor: Option<E::Func>) {
        if let Some(id) = rt.guest_id() {
            self.guest.insert(id, dtor);
        }
    }

    /// Registers a host destructor, unless the type has one already (the first linker's stays).
    pub fn add_host(&mut self, rt: &ResourceType, dtor: &HostDtor<T, E>) {
        self.host.entry(rt.clone()).or_insert_with(|| dtor.clone());
    }
}

/// `canon resource.drop`: removes the handle; an owning handle's destructor runs in the resource's instance.
pub(crate) fn resource_drop<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    inst: u32,
    rt: &ResourceType,
    i: u32,
) -> Result<()> {
    let state = &mut ctx.data_mut().rt;
    check_may_leave(state, inst)?;
    let table = &mut state.instances[inst as usize].handles;
    let h = table.get(i)?;
    if h.rt != *rt {
        return trap(Trap::HandleType);
    }
    if h.num_lends != 0 {
        return trap(Trap::HandleLent);
    }
    let h = table.remove(i)?;
    state.live_handles = state.live_handles.saturating_sub(1);
    if !h.own {
        if let Some(n) = h.borrow_scope.and_then(|s| state.num_borrows_mut(s)) {
            *n = n.saturating_sub(1);
        }
        return Ok(());
    }
    run_dtor::<T, E>(ctx, Some(inst), &h.rt, h.rep)
}

/// Calls a resource's destructor, entering its defining instance from `caller` (`None` = the host).
pub(crate) fn run_dtor<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    caller: Option<u32>,
    rt: &ResourceType,
    rep: u32,
) -> Result<()> {
    if rt.is_host() {
        return run_host_dtor::<T, E>(ctx, rt, rep);
    }
    let data = ctx.data_mut();
    // A guest resource of another store (only reachable through a linker definition): nothing to run here.
    let Some(impl_inst) = rt.guest_instance(data.rt.id) else { return Ok(()) };
    let dtor = match rt.guest_id().and_then(|id| data.dtors.guest.get(&id)) {
        Some(Some(f)) => f.clone(),
        _ => return Ok(()),
    };
    let state = &mut data.rt;
    check_not_poisoned(state)?;
    let entering = entering_set(state, impl_inst, caller);
    if entering.iter().any(|&i| !state.instances[i as usize].may_enter) {
        return trap(Trap::CannotEnter);
    }
    for &i in &entering {
        state.instances[i as usize].may_enter = false;
    }
    let r = call_core::<T, E>(ctx, &dtor, &[Val::I32(rep as i32)], &mut []);
    let state = &mut ctx.data_mut().rt;
    for &i in &entering {
        state.instances[i as usize].may_enter = true;
    }
    r
}

/// Runs the host destructor of a host resource type, if a linker gave one.
fn run_host_dtor<T: 'static, E: WasmEngine>(ctx: &mut Ctx<'_, T, E>, rt: &ResourceType, rep: u32) -> Result<()> {
    let Some(dtor) = ctx.data_mut().dtors.host.get(rt).cloned() else {
        // No destructor registered in this store: still free the state of a typed host resource.
        if let Some(t) = rt.host_type_id() {
            ctx.data_mut().rt.host.values.take(t, rep);
        }
        return Ok(());
    };
    dtor(StoreContextMut { inner: wasm_runtime_layer::backend::AsContextMut::as_context_mut(ctx) }, rep)
        .map_err(host_error)
}
