//! Pre-instantiation: a component whose imports were resolved against a linker and type-checked once, ready
//! to be instantiated many times (as wasmtime's `InstancePre`).

use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

use super::Instance;
use crate::component::Component;
use crate::error::Result;
use crate::linker::Definition;
use crate::resources::HostDtor;
use crate::resources::ResourceType;
use crate::store::AsContextMut;

/// A component with its imports resolved and type-checked, from [`crate::Linker::instantiate_pre`].
///
/// [`InstancePre::instantiate`] only runs the component's plan: it neither looks up names in the linker nor
/// compares types again. The definitions are taken when the `InstancePre` is made; later changes to the linker
/// do not affect it. It is cheap to clone and not bound to a store.
pub struct InstancePre<T: 'static, E: WasmEngine> {
    component: Component,
    /// The definition of each root import (`None` where nothing needs to be provided).
    imports: Arc<[Option<Definition<T, E>>]>,
    /// Per resource of the plan: its type if the host provides it (`None` for the component's own).
    imported_resources: Arc<[Option<ResourceType>]>,
    /// Destructors of the linker's host resource types, registered in each store instantiated in.
    host_dtors: Arc<[(ResourceType, HostDtor<T, E>)]>,
}

impl<T: 'static, E: WasmEngine> Clone for InstancePre<T, E> {
    fn clone(&self) -> Self {
        InstancePre {
            component: self.component.clone(),
            imports: self.imports.clone(),
            imported_resources: self.imported_resources.clone(),
            host_dtors: self.host_dtors.clone(),
        }
    }
}

impl<T: 'static, E: WasmEngine> std::fmt::Debug for InstancePre<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre").field("component", &self.component).finish()
    }
}

impl<T: 'static, E: WasmEngine> InstancePre<T, E> {
    pub(super) fn new(
        component: Component,
        imports: Arc<[Option<Definition<T, E>>]>,
        imported_resources: Arc<[Option<ResourceType>]>,
        host_dtors: Arc<[(ResourceType, HostDtor<T, E>)]>,
    ) -> Self {
        InstancePre { component, imports, imported_resources, host_dtors }
    }

    /// The component this pre-instantiates.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// Instantiates the component in `store`: runs its plan (core instantiations and start functions, then
    /// the exports). Fails if the store is poisoned, if an import is a function of another store's instance, or
    /// if a start function traps.
    pub fn instantiate<S>(&self, store: S) -> Result<Instance>
    where
        S: AsContextMut<Data = T, Engine = E>,
    {
        super::instantiate(self, store)
    }

    pub(super) fn imports(&self) -> &[Option<Definition<T, E>>] {
        &self.imports
    }

    pub(super) fn imported_resources(&self) -> &[Option<ResourceType>] {
        &self.imported_resources
    }

    pub(super) fn host_dtors(&self) -> &[(ResourceType, HostDtor<T, E>)] {
        &self.host_dtors
    }
}
