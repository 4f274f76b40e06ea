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

/// The typed traits of `$t`, the [`Value`] case `$case` of component type `$ty` (`$want` in messages): each
/// crossing goes through a `Value`, as dynamic values do, so both take the same checks.
macro_rules! async_value_traits {
    ($($t:ident: Value::$case:ident, $ty:pat, $want:literal;)*) => {$(
        impl ComponentType for $t {
            fn typecheck(ty: &ValueType) -> Result<()> {
                match ty {
                    $ty => Ok(()),
                    other => Err(mismatch(stringify!($t), $want, other)),
                }
            }
        }

        impl $t {
            fn lower_handle<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty) -> Result<u32> {
                let def = async_def(cx, ty)?;
                cx.lower_async_value(def, &Value::$case(self.clone()))
            }

            fn lift_handle<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, index: u32) -> Result<Self> {
                let def = async_def(cx, ty)?;
                match cx.lift_async_value(def, index)? {
                    Value::$case(v) => Ok(v),
                    _ => Err(Error::usage(format!("type mismatch: `{}` lifted from `{def:?}`", stringify!($t)))),
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

        impl Lift for $t {
            fn lift_flat<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                src: &mut FlatSrc<'_>,
            ) -> Result<Self> {
                let index = src.next_bits()? as u32;
                Self::lift_handle(cx, ty, index)
            }
            fn load<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                buf: &[u8],
                off: usize,
            ) -> Result<Self> {
                Self::lift_handle(cx, ty, get4(buf, off)).map_err(|e| cx.at_address(buf, off, e))
            }
        }
    )*};
}

async_value_traits! {
    StreamAny: Value::Stream, ValueType::Stream(_), "a stream";
    FutureAny: Value::Future, ValueType::Future(_), "a future";
    ErrorContextAny: Value::ErrorContext, ValueType::ErrorContext, "an error-context";
}
