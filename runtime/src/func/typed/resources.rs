//! Resources in typed calls: [`Resource<R>`] for a host type `R`, [`ResourceAny`] for any resource.
//!
//! Both lower and lift through the handle tables directly (`lower_own`/`lower_borrow`, `lift_own`/`lift_borrow`),
//! with the same checks as dynamic values: the handle's resource type is compared with the function's when the
//! value crosses, since resource types are runtime identities that a type check by name cannot settle for
//! `ResourceAny`.

use wasm_runtime_layer::backend::WasmEngine;

use super::builtins::{get4, put};
use super::internal::{mismatch, wrong_type};
use super::{ComponentType, Lift, Lower};
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::types::Ty;
use crate::abi::Cx;
use crate::error::Result;
use crate::resources::{Resource, ResourceAny, ResourceType};
use crate::types::ValueType;

/// Lowers a handle as `own` or `borrow`, whichever `ty` is.
fn lower_handle<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, any: &ResourceAny) -> Result<u32> {
    match ty {
        Ty::Own(r) => cx.lower_own(r, any),
        Ty::Borrow(r) => cx.lower_borrow(r, any),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// Lifts an `own` or `borrow` handle into the host table.
fn lift_handle<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, index: u32) -> Result<ResourceAny> {
    match ty {
        Ty::Own(r) => cx.lift_own(r, index),
        Ty::Borrow(r) => cx.lift_borrow(r, index),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// `own<R>` or `borrow<R>` of any resource type; the handle's type is checked when it crosses.
impl ComponentType for ResourceAny {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::Own(_) | ValueType::Borrow(_) => Ok(()),
            other => Err(mismatch("ResourceAny", "own<_> or borrow<_>", other)),
        }
    }
}

impl Lower for ResourceAny {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        out.push(u64::from(lower_handle(cx, ty, self)?));
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        put(buf, off, &lower_handle(cx, ty, self)?.to_le_bytes());
        Ok(())
    }
}

impl Lift for ResourceAny {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let index = src.next_bits()? as u32;
        lift_handle(cx, ty, index)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        lift_handle(cx, ty, get4(buf, off)).map_err(|e| cx.at_address(buf, off, e))
    }
}

/// `own<R>` or `borrow<R>` of the host resource type of Rust type `R`.
impl<R: std::any::Any + Send> ComponentType for Resource<R> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        let want = ResourceType::host::<R>();
        match ty {
            ValueType::Own(r) | ValueType::Borrow(r) if *r == want => Ok(()),
            other => Err(mismatch(std::any::type_name::<Self>(), &format!("own<{want}> or borrow<{want}>"), other)),
        }
    }
}

impl<R: std::any::Any + Send> Lower for Resource<R> {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        self.as_any().lower_flat(cx, ty, out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        self.as_any().store(cx, ty, buf, off)
    }
}

impl<R: std::any::Any + Send> Lift for Resource<R> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        Resource::try_from_any(ResourceAny::lift_flat(cx, ty, src)?)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Resource::try_from_any(ResourceAny::load(cx, ty, buf, off)?)
    }
}
