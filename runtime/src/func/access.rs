//! [`Access`]: what a host function generated with `bindgen!`'s `store` flag reaches.
//!
//! A host function normally gets `&mut self`, the host that `add_to_linker`'s `get` projects out of the store's
//! data; it cannot reach anything else in the store. Some hosts need more: the rest of the store's data, or the
//! store itself (to call back into a component, or to hand the store to code that takes `AsContextMut`). With
//! `imports: { "…": store }`, `bindgen!` moves such functions into a `…WithStore` trait whose functions take an
//! `Access` instead of `&mut self`: the store context of the call, with the projection at hand.

use wasm_runtime_layer::backend::WasmEngine;

use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut};

/// The store of a host function's call, and the projection from its data to the host `U` (as wasmtime's
/// `Access`).
pub struct Access<'a, T: 'static, E: WasmEngine, U: ?Sized> {
    store: StoreContextMut<'a, T, E>,
    get: &'a (dyn Fn(&mut T) -> &mut U + Send + Sync),
}

impl<'a, T: 'static, E: WasmEngine, U: ?Sized> Access<'a, T, E, U> {
    /// The store context `store` with the projection `get` (what the generated host functions pass).
    pub fn new(store: StoreContextMut<'a, T, E>, get: &'a (dyn Fn(&mut T) -> &mut U + Send + Sync)) -> Self {
        Access { store, get }
    }

    /// The host: `get` applied to the store's data.
    pub fn get(&mut self) -> &mut U {
        (self.get)(self.store.data_mut())
    }

    /// The store's whole data.
    pub fn data(&self) -> &T {
        self.store.data()
    }

    /// The store's whole data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }
}

impl<T: 'static, E: WasmEngine, U: ?Sized> AsContext for Access<'_, T, E, U> {
    type Data = T;
    type Engine = E;
    fn as_context(&self) -> StoreContext<'_, T, E> {
        self.store.as_context()
    }
}

impl<T: 'static, E: WasmEngine, U: ?Sized> AsContextMut for Access<'_, T, E, U> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T, E> {
        self.store.as_context_mut()
    }
}
