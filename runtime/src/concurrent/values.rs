//! Streams, futures and error-contexts as values: what a readable end or an error-context is while it crosses a
//! call (`lift_stream`, `lower_future`, `lift_error_context`, … in the spec).
//!
//! Lifting a stream or future *moves* its readable end out of the instance's table; lowering puts a new readable
//! end of the same shared stream into the receiving instance's table. In between, the value is a
//! [`StreamAny`] or [`FutureAny`] naming the shared state; the store remembers which ones are held outside every
//! table, so that one lifted end is lowered at most once. An error-context is copied: lifting leaves the handle in
//! place, lowering makes a new one.

use std::sync::Arc;

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::copy::{add_end, CopyState, End};
use super::waitable::WaitableKind;
use super::{AsyncTrap, ErrorContext, SharedId};
use crate::abi::table::Element;
use crate::abi::types::TypeDef;
use crate::abi::Cx;
use crate::component::plan::CopyKind;
use crate::error::{trap, Error, Result, Trap};
use crate::values::Value;

/// The readable end of a stream, lifted out of a component instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamAny {
    pub(crate) store: u64,
    pub(crate) shared: SharedId,
}

/// The readable end of a future, lifted out of a component instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FutureAny {
    pub(crate) store: u64,
    pub(crate) shared: SharedId,
}

/// An error-context value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorContextAny {
    debug_message: Arc<str>,
}

impl ErrorContextAny {
    /// The debug message.
    pub fn debug_message(&self) -> &str {
        &self.debug_message
    }
}

impl<T: 'static, E: WasmEngine> Cx<'_, '_, T, E> {
    /// `lift_stream` / `lift_future` / `lift_error_context` of handle `i` of type `def`.
    pub(crate) fn lift_async_value(&mut self, def: &TypeDef, i: u32) -> Result<Value> {
        let inst = self.opts.instance;
        let rt = &mut self.store.data_mut().rt;
        let kind = match def {
            TypeDef::Stream(_) => CopyKind::Stream,
            TypeDef::Future(_) => CopyKind::Future,
            _ => {
                return match rt.instances[inst as usize].handles.element(i)? {
                    Element::ErrorContext(e) => {
                        Ok(Value::ErrorContext(ErrorContextAny { debug_message: e.debug_message.clone() }))
                    }
                    _ => trap(Trap::HandleType),
                };
            }
        };
        let w = rt.instances[inst as usize].handles.waitable(i)?;
        let waitable = rt.concurrent.waitables.get(w)?;
        let in_set = waitable.wset.is_some();
        let WaitableKind::End(End { shared, readable: true, state, .. }) = &waitable.kind else {
            return trap(Trap::HandleType);
        };
        let shared = *shared;
        if rt.concurrent.shared.get(shared)?.kind != kind {
            return trap(Trap::HandleType);
        }
        if *state != CopyState::Idle || in_set {
            return trap(Trap::Async(AsyncTrap::LiftBusy));
        }
        rt.instances[inst as usize].handles.remove_element(i)?;
        rt.concurrent.waitables.remove(w);
        rt.concurrent.in_flight.push(shared);
        let store = rt.id;
        Ok(match kind {
            CopyKind::Stream => Value::Stream(StreamAny { store, shared }),
            CopyKind::Future => Value::Future(FutureAny { store, shared }),
        })
    }

    /// `lower_stream` / `lower_future` / `lower_error_context`: a new handle in this instance's table.
    pub(crate) fn lower_async_value(&mut self, def: &TypeDef, v: &Value) -> Result<u32> {
        let inst = self.opts.instance;
        let rt = &mut self.store.data_mut().rt;
        let (store, shared) = match (def, v) {
            (TypeDef::ErrorContext, Value::ErrorContext(e)) => {
                let e = ErrorContext { debug_message: e.debug_message.clone() };
                return rt.instances[inst as usize].handles.add_element(Element::ErrorContext(e));
            }
            (TypeDef::Stream(_), Value::Stream(s)) => (s.store, s.shared),
            (TypeDef::Future(_), Value::Future(f)) => (f.store, f.shared),
            (_, v) => {
                return Err(Error::usage(format!("type mismatch: expected a handle value, found {}", v.kind_name())))
            }
        };
        if store != rt.id {
            return Err(Error::usage("stream or future used with the wrong store"));
        }
        let Some(pos) = rt.concurrent.in_flight.iter().position(|s| *s == shared) else {
            return trap(Trap::ResourceGone);
        };
        rt.concurrent.in_flight.swap_remove(pos);
        add_end(rt, inst, shared, true)
    }
}
