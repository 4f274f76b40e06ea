//! Streams, futures and error-contexts in typed calls: [`StreamAny`], [`FutureAny`] and [`ErrorContextAny`].
//!
//! They lift and lower through the same `lift_async_value` / `lower_async_value` as dynamic values, so a typed
//! call moves a readable end out of (or into) an instance's table with the same checks: a busy end, an end of
//! the other kind or an end already lowered once trap or fail alike. Any element type is accepted: like
//! `ResourceAny`, the value names the shared stream, whose element type the plan checks where it is read.

use wasm_runtime_layer::backend::WasmEngine;

use super::builtins::{get4, put};
use super::internal::{mismatch, wrong_type};
use super::{ComponentType, Lift, Lower};
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::types::{Ty, TypeDef};
use crate::abi::Cx;
use crate::concurrent::values::{ErrorContextAny, FutureAny, StreamAny};
use crate::error::{Error, Result};
use crate::types::ValueType;
use crate::values::Value;

/// One of the three handle values of the async ABI, as the typed traits see it.
trait AsyncValue: Sized {
    /// What the type is called in mismatch messages, and the component type it stands for.
    const RUST: &'static str;
    const WANT: &'static str;
    fn fits(ty: &ValueType) -> bool;
    fn to_value(&self) -> Value;
    fn from_value(v: Value) -> Option<Self>;
}

impl AsyncValue for StreamAny {
    const RUST: &'static str = "StreamAny";
    const WANT: &'static str = "a stream";
    fn fits(ty: &ValueType) -> bool {
        matches!(ty, ValueType::Stream(_))
    }
    fn to_value(&self) -> Value {
        Value::Stream(self.clone())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Stream(s) => Some(s),
            _ => None,
        }
    }
}

impl AsyncValue for FutureAny {
    const RUST: &'static str = "FutureAny";
    const WANT: &'static str = "a future";
    fn fits(ty: &ValueType) -> bool {
        matches!(ty, ValueType::Future(_))
    }
    fn to_value(&self) -> Value {
        Value::Future(self.clone())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Future(f) => Some(f),
            _ => None,
        }
    }
}

impl AsyncValue for ErrorContextAny {
    const RUST: &'static str = "ErrorContextAny";
    const WANT: &'static str = "an error-context";
    fn fits(ty: &ValueType) -> bool {
        matches!(ty, ValueType::ErrorContext)
    }
    fn to_value(&self) -> Value {
        Value::ErrorContext(self.clone())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::ErrorContext(e) => Some(e),
            _ => None,
        }
    }
}

/// The plan's definition behind `ty`, when it is a stream, future or error-context type.
fn async_def<'t, T: 'static, E: WasmEngine>(cx: &Cx<'t, '_, T, E>, ty: Ty) -> Result<&'t TypeDef> {
    let types = cx.types;
    match ty {
        Ty::Defined(i) => match types.def(i) {
            def @ (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext) => Ok(def),
            _ => Err(wrong_type(cx, ty)),
        },
        _ => Err(wrong_type(cx, ty)),
    }
}

fn lower_handle<V: AsyncValue, T: 'static, E: WasmEngine>(v: &V, cx: &mut Cx<'_, '_, T, E>, ty: Ty) -> Result<u32> {
    let def = async_def(cx, ty)?;
    cx.lower_async_value(def, &v.to_value())
}

fn lift_handle<V: AsyncValue, T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, index: u32) -> Result<V> {
    let def = async_def(cx, ty)?;
    V::from_value(cx.lift_async_value(def, index)?)
        .ok_or_else(|| Error::usage(format!("type mismatch: `{}` lifted from `{def:?}`", V::RUST)))
}

macro_rules! async_value_traits {
    ($($t:ty),*) => {$(
        impl ComponentType for $t {
            fn typecheck(ty: &ValueType) -> Result<()> {
                if <$t as AsyncValue>::fits(ty) {
                    Ok(())
                } else {
                    Err(mismatch(<$t as AsyncValue>::RUST, <$t as AsyncValue>::WANT, ty))
                }
            }
        }

        impl Lower for $t {
            fn lower_flat<T: 'static, E: WasmEngine>(
                &self,
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                out: &mut FlatBuf,
            ) -> Result<()> {
                out.push(u64::from(lower_handle(self, cx, ty)?));
                Ok(())
            }
            fn store<T: 'static, E: WasmEngine>(
                &self,
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                buf: &mut [u8],
                off: usize,
            ) -> Result<()> {
                put(buf, off, &lower_handle(self, cx, ty)?.to_le_bytes());
                Ok(())
            }
        }

        impl Lift for $t {
            fn lift_flat<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                src: &mut FlatSrc<'_>,
            ) -> Result<Self> {
                let index = src.next_bits()? as u32;
                lift_handle(cx, ty, index)
            }
            fn load<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                buf: &[u8],
                off: usize,
            ) -> Result<Self> {
                lift_handle(cx, ty, get4(buf, off)).map_err(|e| cx.at_address(buf, off, e))
            }
        }
    )*};
}

async_value_traits!(StreamAny, FutureAny, ErrorContextAny);
