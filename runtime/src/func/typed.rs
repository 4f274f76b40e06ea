//! Typed calls: Rust values lowered and lifted directly, without going through [`Value`].
//!
//! [`TypedFunc<P, R>`] checks the function's type against `P` (a tuple of parameter types) and `R` (`()` or a
//! 1-tuple of the result type) once, when it is created; each call then lowers the Rust values straight into
//! core values and memory. For scalar signatures a call allocates nothing. Lists of numbers are copied in bulk.
//!
//! Implemented for `bool`, the integers, `f32`, `f64`, `char`, `String`, `Vec<T>`, `Option<T>`,
//! `Result<T, E>` (with `()` for an absent payload) and tuples.
//!
//! ```no_run
//! # use component_layer::*;
//! # fn f<E: wasm_runtime_layer::backend::WasmEngine>(store: &mut Store<(), E>, func: &Func) -> Result<()> {
//! let add = func.typed::<(u32, u32), (u32,)>()?;
//! let (sum,) = add.call(&mut *store, (1, 2))?;
//! assert_eq!(sum, 3);
//! # Ok(()) }
//! ```

#![allow(private_interfaces, private_bounds)]

use std::marker::PhantomData;
use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

use super::call::{self, LiftOne, LowerArgs};
use super::Func;
use crate::abi::lift::{to_char, FlatSrc};
use crate::abi::lower::FlatBuf;
use crate::abi::types::{Ty, TypeDef};
use crate::abi::Cx;
use crate::error::{Error, Result};
use crate::store::{check_store, AsContextMut};
use crate::types::ValueType;
use crate::values::{List, Value};

fn mismatch<T>(want: &str, ty: &ValueType) -> Result<T> {
    Err(Error::usage(format!("type mismatch: Rust type expects {want}, component type is {ty}")))
}

/// A Rust type that corresponds to a component value type.
///
/// This trait is sealed: its lifting and lowering methods use the runtime's internal context.
pub trait ComponentType: Sized + 'static {
    /// Checks that `ty` is this Rust type's component type.
    fn typecheck(ty: &ValueType) -> Result<()>;
    /// Converts into a dynamic value.
    fn into_value(self) -> Value;
    /// Converts from a dynamic value.
    fn from_value(v: Value) -> Result<Self>;

    #[doc(hidden)]
    fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, out: &mut FlatBuf)
        -> Result<()>;
    #[doc(hidden)]
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()>;
    #[doc(hidden)]
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self>;
    #[doc(hidden)]
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self>;

    /// Lowers a slice as a list (overridden by numbers for a bulk copy).
    #[doc(hidden)]
    fn store_list<T: 'static, E: WasmEngine>(
        items: &[Self],
        cx: &mut Cx<'_, '_, T, E>,
        elem: Ty,
    ) -> Result<(u32, u32)> {
        let lay = cx.types.layout(elem);
        let (size, align) = (lay.size, lay.align);
        let len = u32::try_from(items.len()).map_err(|_| Error::trap(crate::Trap::TooLong))?;
        let bytes = u32::try_from(u64::from(len) * u64::from(size)).map_err(|_| Error::trap(crate::Trap::TooLong))?;
        let ptr = cx.alloc(align, bytes)?;
        let mut buf = cx.read(ptr, bytes as usize)?;
        for (k, item) in items.iter().enumerate() {
            item.store(cx, elem, &mut buf, k * size as usize)?;
        }
        cx.write(ptr, &buf)?;
        Ok((ptr, len))
    }

    /// Lifts a list (overridden by numbers for a bulk copy).
    #[doc(hidden)]
    fn load_list<T: 'static, E: WasmEngine>(
        cx: &mut Cx<'_, '_, T, E>,
        elem: Ty,
        ptr: u32,
        len: u32,
    ) -> Result<Vec<Self>> {
        let lay = cx.types.layout(elem);
        let (size, align) = (lay.size, lay.align);
        let byte_len = u64::from(len) * u64::from(size);
        if byte_len > crate::abi::layout::MAX_BYTE_LENGTH {
            return Err(Error::trap(crate::Trap::TooLong));
        }
        cx.check_range(ptr, byte_len, align)?;
        let buf = cx.read(ptr, byte_len as usize)?;
        (0..len as usize).map(|k| Self::load(cx, elem, &buf, k * size as usize)).collect()
    }

    /// Whether this is `()`, which stands for an absent payload in `Result`.
    #[doc(hidden)]
    const IS_UNIT: bool = false;
}

fn ty_mismatch(cx_name: String) -> Error {
    Error::usage(format!("type mismatch: value does not match component type {cx_name}"))
}

macro_rules! scalar {
    ($t:ty, $vt:ident, $ty:ident, |$x:ident| $to_bits:expr, |$b:ident| $from_bits:expr, $n:expr $(, $bytes:ident)?) => {
        impl ComponentType for $t {
            fn typecheck(ty: &ValueType) -> Result<()> {
                match ty {
                    ValueType::$vt => Ok(()),
                    other => mismatch(stringify!($t), other),
                }
            }
            fn into_value(self) -> Value {
                Value::$vt(self)
            }
            fn from_value(v: Value) -> Result<Self> {
                match v {
                    Value::$vt(x) => Ok(x),
                    other => Err(Error::usage(format!("expected {}, found {}", stringify!($t), other.kind_name()))),
                }
            }
            fn lower_flat<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, out: &mut FlatBuf) -> Result<()> {
                let $x = *self;
                out.push($to_bits);
                Ok(())
            }
            fn store<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, buf: &mut [u8], off: usize) -> Result<()> {
                let $x = *self;
                let bits: u64 = $to_bits;
                if let Some(dst) = buf.get_mut(off..off + $n) {
                    dst.copy_from_slice(&bits.to_le_bytes()[..$n]);
                }
                Ok(())
            }
            fn lift_flat<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
                let $b = src.next_bits()?;
                $from_bits
            }
            fn load<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, buf: &[u8], off: usize) -> Result<Self> {
                let mut bytes = [0u8; 8];
                if let Some(s) = buf.get(off..off + $n) {
                    bytes[..$n].copy_from_slice(s);
                }
                let $b = u64::from_le_bytes(bytes);
                $from_bits
            }
            scalar_lists!($t, |$x| $to_bits, |$b| $from_bits, $n $(, $bytes)?);
        }
    };
}

/// The bulk list paths of the numbers: one write (or read) of the whole region, converted element by element in
/// host memory — or, for `u8`, no conversion at all.
macro_rules! scalar_lists {
    ($t:ty, |$x:ident| $to_bits:expr, |$b:ident| $from_bits:expr, $n:expr, bytes) => {
        fn store_list<T: 'static, E: WasmEngine>(
            items: &[Self],
            cx: &mut Cx<'_, '_, T, E>,
            _: Ty,
        ) -> Result<(u32, u32)> {
            let len = u32::try_from(items.len()).map_err(|_| Error::trap(crate::Trap::TooLong))?;
            let ptr = cx.alloc(1, len)?;
            cx.write(ptr, items)?;
            Ok((ptr, len))
        }
        fn load_list<T: 'static, E: WasmEngine>(
            cx: &mut Cx<'_, '_, T, E>,
            _: Ty,
            ptr: u32,
            len: u32,
        ) -> Result<Vec<Self>> {
            if u64::from(len) > crate::abi::layout::MAX_BYTE_LENGTH {
                return Err(Error::trap(crate::Trap::TooLong));
            }
            cx.check_range(ptr, u64::from(len), 1)?;
            cx.read(ptr, len as usize)
        }
    };
    ($t:ty, |$x:ident| $to_bits:expr, |$b:ident| $from_bits:expr, $n:expr) => {
        fn store_list<T: 'static, E: WasmEngine>(
            items: &[Self],
            cx: &mut Cx<'_, '_, T, E>,
            elem: Ty,
        ) -> Result<(u32, u32)> {
            let len = u32::try_from(items.len()).map_err(|_| Error::trap(crate::Trap::TooLong))?;
            let bytes = u32::try_from(u64::from(len) * $n).map_err(|_| Error::trap(crate::Trap::TooLong))?;
            let ptr = cx.alloc(cx.types.layout(elem).align, bytes)?;
            let mut buf = vec![0u8; bytes as usize];
            for (dst, &$x) in buf.chunks_exact_mut($n).zip(items) {
                let bits: u64 = $to_bits;
                dst.copy_from_slice(&bits.to_le_bytes()[..$n]);
            }
            cx.write(ptr, &buf)?;
            Ok((ptr, len))
        }
        fn load_list<T: 'static, E: WasmEngine>(
            cx: &mut Cx<'_, '_, T, E>,
            elem: Ty,
            ptr: u32,
            len: u32,
        ) -> Result<Vec<Self>> {
            let byte_len = u64::from(len) * $n;
            if byte_len > crate::abi::layout::MAX_BYTE_LENGTH {
                return Err(Error::trap(crate::Trap::TooLong));
            }
            cx.check_range(ptr, byte_len, cx.types.layout(elem).align)?;
            let buf = cx.read(ptr, byte_len as usize)?;
            buf.chunks_exact($n)
                .map(|c| {
                    let mut bytes = [0u8; 8];
                    bytes[..$n].copy_from_slice(c);
                    let $b = u64::from_le_bytes(bytes);
                    $from_bits
                })
                .collect()
        }
    };
}

scalar!(u8, U8, U8, |x| u64::from(x), |b| Ok(b as u8), 1, bytes);
scalar!(i8, S8, S8, |x| u64::from(x as i32 as u32), |b| Ok(b as u8 as i8), 1);
scalar!(u16, U16, U16, |x| u64::from(x), |b| Ok(b as u16), 2);
scalar!(i16, S16, S16, |x| u64::from(x as i32 as u32), |b| Ok(b as u16 as i16), 2);
scalar!(u32, U32, U32, |x| u64::from(x), |b| Ok(b as u32), 4);
scalar!(i32, S32, S32, |x| u64::from(x as u32), |b| Ok(b as u32 as i32), 4);
scalar!(u64, U64, U64, |x| x, |b| Ok(b), 8);
scalar!(i64, S64, S64, |x| x as u64, |b| Ok(b as i64), 8);
scalar!(f32, F32, F32, |x| u64::from(x.to_bits()), |b| Ok(f32::from_bits(b as u32)), 4);
scalar!(f64, F64, F64, |x| x.to_bits(), |b| Ok(f64::from_bits(b)), 8);
scalar!(bool, Bool, Bool, |x| u64::from(x), |b| Ok((b as u32) != 0), 1);
scalar!(char, Char, Char, |x| u64::from(x as u32), |b| to_char(b as u32), 4);

impl ComponentType for String {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::String => Ok(()),
            other => mismatch("string", other),
        }
    }
    fn into_value(self) -> Value {
        Value::String(self)
    }
    fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::String(s) => Ok(s),
            other => Err(Error::usage(format!("expected string, found {}", other.kind_name()))),
        }
    }
    fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, _: Ty, out: &mut FlatBuf) -> Result<()> {
        let hint = cx.next_hint(self);
        let (p, l) = cx.store_string(self, hint)?;
        out.push(u64::from(p));
        out.push(u64::from(l));
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        _: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        let hint = cx.next_hint(self);
        let (p, l) = cx.store_string(self, hint)?;
        put(buf, off, &p.to_le_bytes());
        put(buf, off + 4, &l.to_le_bytes());
        Ok(())
    }
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let p = src.next_bits()? as u32;
        let l = src.next_bits()? as u32;
        Ok(cx.load_string(p, l)?.0)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let p = u32::from_le_bytes(get4(buf, off));
        let l = u32::from_le_bytes(get4(buf, off + 4));
        Ok(cx.load_string(p, l)?.0)
    }
}

impl<C: ComponentType> ComponentType for Vec<C> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::List(e) => C::typecheck(e),
            other => mismatch("list", other),
        }
    }
    fn into_value(self) -> Value {
        Value::List(List::Values(self.into_iter().map(C::into_value).collect()))
    }
    fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::List(l) => l.into_values().into_iter().map(C::from_value).collect(),
            other => Err(Error::usage(format!("expected list, found {}", other.kind_name()))),
        }
    }
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        let (p, l) = C::store_list(self, cx, list_elem(cx, ty)?)?;
        out.push(u64::from(p));
        out.push(u64::from(l));
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        let (p, l) = C::store_list(self, cx, list_elem(cx, ty)?)?;
        put(buf, off, &p.to_le_bytes());
        put(buf, off + 4, &l.to_le_bytes());
        Ok(())
    }
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let p = src.next_bits()? as u32;
        let l = src.next_bits()? as u32;
        C::load_list(cx, list_elem(cx, ty)?, p, l)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let p = u32::from_le_bytes(get4(buf, off));
        let l = u32::from_le_bytes(get4(buf, off + 4));
        C::load_list(cx, list_elem(cx, ty)?, p, l)
    }
}

fn list_elem<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty) -> Result<Ty> {
    match ty {
        Ty::Defined(i) => match cx.types.def(i) {
            TypeDef::List(e) => Ok(*e),
            _ => Err(ty_mismatch(cx.ty_name(ty))),
        },
        _ => Err(ty_mismatch(cx.ty_name(ty))),
    }
}

/// The payload types of a variant-like type: (discriminant size, payload offset, flat length, case payloads).
fn variant_parts<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty) -> Result<(u32, usize, [Option<Ty>; 2])> {
    let Ty::Defined(i) = ty else { return Err(ty_mismatch(cx.ty_name(ty))) };
    let entry = cx.types.entry(i);
    let flat_len = entry.layout.flat.as_ref().map_or(0, |f| f.len());
    let cases = match &entry.def {
        TypeDef::Option(t) => [None, Some(*t)],
        TypeDef::Result { ok, err } => [*ok, *err],
        _ => return Err(ty_mismatch(cx.ty_name(ty))),
    };
    Ok((entry.offsets[0], flat_len, cases))
}

fn lower_case<T: 'static, E: WasmEngine, P: ComponentType>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    case: u32,
    payload: Option<&P>,
    out: &mut FlatBuf,
) -> Result<()> {
    let (_, flat_len, cases) = variant_parts(cx, ty)?;
    out.push(u64::from(case));
    let start = out.len();
    if let (Some(p), Some(t)) = (payload, cases[case as usize]) {
        if !P::IS_UNIT {
            p.lower_flat(cx, t, out)?;
        }
    }
    out.resize(start + flat_len.saturating_sub(1), 0);
    Ok(())
}

fn store_case<T: 'static, E: WasmEngine, P: ComponentType>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    case: u32,
    payload: Option<&P>,
    buf: &mut [u8],
    off: usize,
) -> Result<()> {
    let (payload_off, _, cases) = variant_parts(cx, ty)?;
    if let Some(b) = buf.get_mut(off) {
        *b = case as u8;
    }
    if let (Some(p), Some(t)) = (payload, cases[case as usize]) {
        if !P::IS_UNIT {
            p.store(cx, t, buf, off + payload_off as usize)?;
        }
    }
    Ok(())
}

impl<C: ComponentType> ComponentType for Option<C> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::Option(t) => C::typecheck(t),
            other => mismatch("option", other),
        }
    }
    fn into_value(self) -> Value {
        Value::Option(self.map(|v| Box::new(v.into_value())))
    }
    fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::Option(o) => o.map(|v| C::from_value(*v)).transpose(),
            other => Err(Error::usage(format!("expected option, found {}", other.kind_name()))),
        }
    }
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        lower_case(cx, ty, u32::from(self.is_some()), self.as_ref(), out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        store_case(cx, ty, u32::from(self.is_some()), self.as_ref(), buf, off)
    }
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let (_, flat_len, cases) = variant_parts(cx, ty)?;
        let disc = src.next_bits()? as u32;
        let start = src.position();
        let v = match (disc, cases[1]) {
            (0, _) => None,
            (1, Some(t)) => Some(C::lift_flat(cx, t, src)?),
            _ => return Err(Error::trap(crate::Trap::InvalidDiscriminant)),
        };
        src.seek(start + flat_len.saturating_sub(1));
        Ok(v)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let (payload_off, _, cases) = variant_parts(cx, ty)?;
        match (buf.get(off).copied().unwrap_or(0), cases[1]) {
            (0, _) => Ok(None),
            (1, Some(t)) => Ok(Some(C::load(cx, t, buf, off + payload_off as usize)?)),
            _ => Err(Error::trap(crate::Trap::InvalidDiscriminant)),
        }
    }
}

impl<A: ComponentType, B: ComponentType> ComponentType for std::result::Result<A, B> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        let check = |t: &Option<Arc<ValueType>>, unit: bool, f: fn(&ValueType) -> Result<()>| match (t, unit) {
            (None, true) => Ok(()),
            (Some(t), false) => f(t),
            _ => mismatch("result payload", ty),
        };
        match ty {
            ValueType::Result { ok, err } => {
                check(ok, A::IS_UNIT, A::typecheck)?;
                check(err, B::IS_UNIT, B::typecheck)
            }
            other => mismatch("result", other),
        }
    }
    fn into_value(self) -> Value {
        let wrap = |unit: bool, v: Value| if unit { None } else { Some(Box::new(v)) };
        Value::Result(match self {
            Ok(a) => Ok(wrap(A::IS_UNIT, a.into_value())),
            Err(b) => Err(wrap(B::IS_UNIT, b.into_value())),
        })
    }
    fn from_value(v: Value) -> Result<Self> {
        fn payload<P: ComponentType>(p: Option<Box<Value>>) -> Result<P> {
            match p {
                Some(v) => P::from_value(*v),
                None => P::from_value(Value::Tuple(Vec::new())),
            }
        }
        match v {
            Value::Result(Ok(p)) => Ok(Ok(payload::<A>(p)?)),
            Value::Result(Err(p)) => Ok(Err(payload::<B>(p)?)),
            other => Err(Error::usage(format!("expected result, found {}", other.kind_name()))),
        }
    }
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        match self {
            Ok(a) => lower_case(cx, ty, 0, Some(a), out),
            Err(b) => lower_case(cx, ty, 1, Some(b), out),
        }
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        match self {
            Ok(a) => store_case(cx, ty, 0, Some(a), buf, off),
            Err(b) => store_case(cx, ty, 1, Some(b), buf, off),
        }
    }
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let (_, flat_len, cases) = variant_parts(cx, ty)?;
        let disc = src.next_bits()? as u32;
        let start = src.position();
        let v = match disc {
            0 => Ok(lift_payload::<A, T, E>(cx, cases[0], src)?),
            1 => Err(lift_payload::<B, T, E>(cx, cases[1], src)?),
            _ => return Err(Error::trap(crate::Trap::InvalidDiscriminant)),
        };
        src.seek(start + flat_len.saturating_sub(1));
        Ok(v)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let (payload_off, _, cases) = variant_parts(cx, ty)?;
        let at = off + payload_off as usize;
        match buf.get(off).copied().unwrap_or(0) {
            0 => Ok(Ok(load_payload::<A, T, E>(cx, cases[0], buf, at)?)),
            1 => Ok(Err(load_payload::<B, T, E>(cx, cases[1], buf, at)?)),
            _ => Err(Error::trap(crate::Trap::InvalidDiscriminant)),
        }
    }
}

fn lift_payload<P: ComponentType, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    t: Option<Ty>,
    src: &mut FlatSrc<'_>,
) -> Result<P> {
    match t {
        Some(t) => P::lift_flat(cx, t, src),
        None => P::from_value(Value::Tuple(Vec::new())),
    }
}

fn load_payload<P: ComponentType, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    t: Option<Ty>,
    buf: &[u8],
    off: usize,
) -> Result<P> {
    match t {
        Some(t) => P::load(cx, t, buf, off),
        None => P::from_value(Value::Tuple(Vec::new())),
    }
}

/// `()` stands for an absent payload (in `Result<(), E>`) and for "no result" in [`TypedFunc`].
impl ComponentType for () {
    fn typecheck(ty: &ValueType) -> Result<()> {
        mismatch("no value", ty)
    }
    fn into_value(self) -> Value {
        Value::Tuple(Vec::new())
    }
    fn from_value(_: Value) -> Result<Self> {
        Ok(())
    }
    fn lower_flat<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut FlatBuf) -> Result<()> {
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut [u8], _: usize) -> Result<()> {
        Ok(())
    }
    fn lift_flat<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut FlatSrc<'_>) -> Result<Self> {
        Ok(())
    }
    fn load<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, _: &[u8], _: usize) -> Result<Self> {
        Ok(())
    }
    const IS_UNIT: bool = true;
}

fn tuple_types<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty, n: usize) -> Result<(Vec<Ty>, Vec<u32>)> {
    if let Ty::Defined(i) = ty {
        let entry = cx.types.entry(i);
        if let TypeDef::Tuple(ts) = &entry.def {
            if ts.len() == n {
                return Ok((ts.to_vec(), entry.offsets.to_vec()));
            }
        }
    }
    Err(ty_mismatch(cx.ty_name(ty)))
}

macro_rules! tuples {
    ($( ($($n:tt $t:ident),+) )*) => {$(
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            fn typecheck(ty: &ValueType) -> Result<()> {
                match ty {
                    ValueType::Tuple(ts) if ts.len() == [$($n),+].len() => {
                        $( $t::typecheck(&ts[$n])?; )+
                        Ok(())
                    }
                    other => mismatch("tuple", other),
                }
            }
            fn into_value(self) -> Value {
                Value::Tuple(vec![$(self.$n.into_value()),+])
            }
            fn from_value(v: Value) -> Result<Self> {
                match v {
                    Value::Tuple(vs) if vs.len() == [$($n),+].len() => {
                        let mut it = vs.into_iter();
                        Ok(($($t::from_value(it.next().expect("length checked"))?,)+))
                    }
                    other => Err(Error::usage(format!("expected tuple, found {}", other.kind_name()))),
                }
            }
            fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, out: &mut FlatBuf) -> Result<()> {
                let (ts, _) = tuple_types(cx, ty, [$($n),+].len())?;
                $( self.$n.lower_flat(cx, ts[$n], out)?; )+
                Ok(())
            }
            fn store<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &mut [u8], off: usize) -> Result<()> {
                let (ts, offs) = tuple_types(cx, ty, [$($n),+].len())?;
                $( self.$n.store(cx, ts[$n], buf, off + offs[$n] as usize)?; )+
                Ok(())
            }
            fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
                let (ts, _) = tuple_types(cx, ty, [$($n),+].len())?;
                Ok(($($t::lift_flat(cx, ts[$n], src)?,)+))
            }
            fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
                let (ts, offs) = tuple_types(cx, ty, [$($n),+].len())?;
                Ok(($($t::load(cx, ts[$n], buf, off + offs[$n] as usize)?,)+))
            }
        }

        impl<$($t: ComponentType),+> ComponentParams for ($($t,)+) {
            fn typecheck(params: &[ValueType]) -> Result<()> {
                if params.len() != [$($n),+].len() {
                    return Err(Error::usage(format!("expected {} parameters, the function has {}", [$($n),+].len(), params.len())));
                }
                $( $t::typecheck(&params[$n])?; )+
                Ok(())
            }
            fn into_values(self) -> Vec<Value> {
                vec![$(self.$n.into_value()),+]
            }
            fn from_values(vs: &[Value]) -> Result<Self> {
                if vs.len() != [$($n),+].len() {
                    return Err(Error::usage("wrong number of values"));
                }
                Ok(($($t::from_value(vs[$n].clone())?,)+))
            }
            fn lower_each<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, tys: &[Ty], out: &mut FlatBuf) -> Result<()> {
                $( self.$n.lower_flat(cx, tys[$n], out)?; )+
                Ok(())
            }
            fn store_each<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, tys: &[Ty], offs: &[u32], buf: &mut [u8]) -> Result<()> {
                $( self.$n.store(cx, tys[$n], buf, offs[$n] as usize)?; )+
                Ok(())
            }
        }
    )*};
}

/// A tuple of parameter types.
pub trait ComponentParams: Sized + 'static {
    /// Checks the parameter types.
    fn typecheck(params: &[ValueType]) -> Result<()>;
    /// Converts into dynamic values.
    fn into_values(self) -> Vec<Value>;
    /// Converts from dynamic values.
    fn from_values(vs: &[Value]) -> Result<Self>;
    #[doc(hidden)]
    fn lower_each<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        tys: &[Ty],
        out: &mut FlatBuf,
    ) -> Result<()>;
    #[doc(hidden)]
    fn store_each<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        tys: &[Ty],
        offs: &[u32],
        buf: &mut [u8],
    ) -> Result<()>;
}

impl ComponentParams for () {
    fn typecheck(params: &[ValueType]) -> Result<()> {
        if !params.is_empty() {
            return Err(Error::usage(format!("expected no parameters, the function has {}", params.len())));
        }
        Ok(())
    }
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
    fn from_values(vs: &[Value]) -> Result<Self> {
        if !vs.is_empty() {
            return Err(Error::usage("wrong number of values"));
        }
        Ok(())
    }
    fn lower_each<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: &[Ty], _: &mut FlatBuf) -> Result<()> {
        Ok(())
    }
    fn store_each<T: 'static, E: WasmEngine>(
        &self,
        _: &mut Cx<'_, '_, T, E>,
        _: &[Ty],
        _: &[u32],
        _: &mut [u8],
    ) -> Result<()> {
        Ok(())
    }
}

tuples! {
    (0 A)
    (0 A, 1 B)
    (0 A, 1 B, 2 C)
    (0 A, 1 B, 2 C, 3 D)
    (0 A, 1 B, 2 C, 3 D, 4 F)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L)
    (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L, 11 M)
}

/// The results of a typed function: `()` for none, `(T,)` for one.
pub trait ComponentResults: Sized + 'static {
    /// The single result's Rust type (`()` when there is none).
    type One: ComponentType;
    /// Checks the result type.
    fn typecheck(result: Option<&ValueType>) -> Result<()>;
    /// Wraps the lifted result.
    fn wrap(v: Option<Self::One>) -> Result<Self>;
    /// The single result, for host functions.
    fn into_one(self) -> Option<Self::One>;
}

impl ComponentResults for () {
    type One = ();
    fn typecheck(result: Option<&ValueType>) -> Result<()> {
        match result {
            None => Ok(()),
            Some(t) => mismatch("no result", t),
        }
    }
    fn wrap(_: Option<()>) -> Result<Self> {
        Ok(())
    }
    fn into_one(self) -> Option<()> {
        None
    }
}

impl<C: ComponentType> ComponentResults for (C,) {
    type One = C;
    fn typecheck(result: Option<&ValueType>) -> Result<()> {
        match result {
            Some(t) => C::typecheck(t),
            None => Err(Error::usage("type mismatch: the function has no result")),
        }
    }
    fn wrap(v: Option<C>) -> Result<Self> {
        v.map(|v| (v,)).ok_or_else(|| Error::usage("missing result"))
    }
    fn into_one(self) -> Option<C> {
        Some(self.0)
    }
}

/// A function whose parameter and result types were checked against `P` and `R` once.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        TypedFunc { func: self.func.clone(), _marker: PhantomData }
    }
}

impl<P: ComponentParams, R: ComponentResults> TypedFunc<P, R> {
    pub(crate) fn new(func: Func) -> Result<Self> {
        let ty = func.ty();
        let params: Vec<ValueType> = ty.params().iter().map(|(_, t)| t.clone()).collect();
        P::typecheck(&params)?;
        R::typecheck(ty.result())?;
        Ok(TypedFunc { func, _marker: PhantomData })
    }

    /// The underlying dynamic function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. Nesting and panics in host functions are handled as by [`Func::call`].
    pub fn call<S: AsContextMut>(&self, store: S, params: P) -> Result<R> {
        self.call_ref(store, &params)
    }

    /// Calls the function with borrowed arguments (lowering only reads them), so large arguments can be passed
    /// again without cloning.
    pub fn call_ref<S: AsContextMut>(&self, mut store: S, params: &P) -> Result<R> {
        let f = self.func.data::<S::Engine>()?;
        let mut ctx = store.as_context_mut();
        check_store(ctx.rt(), self.func.store)?;
        let one =
            call::call_lifted(&mut ctx.inner, f, None, &TypedArgs(params), None, false, |_, r: Option<R::One>, _| {
                Ok(r)
            });
        super::nesting::resume_panic(ctx.rt());
        R::wrap(one?)
    }
}

/// Typed parameters, lowered without going through `Value`.
struct TypedArgs<'a, P>(&'a P);

impl<P: ComponentParams> LowerArgs for TypedArgs<'_, P> {
    fn lower_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        tys: &[Ty],
        out: &mut FlatBuf,
    ) -> Result<()> {
        self.0.lower_each(cx, tys, out)
    }
    fn store_args<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        tys: &[Ty],
        offs: &[u32],
        buf: &mut [u8],
    ) -> Result<()> {
        self.0.store_each(cx, tys, offs, buf)
    }
}

impl<C: ComponentType> LiftOne for C {
    fn lift_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        C::lift_flat(cx, ty, src)
    }
    fn load_one<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        C::load(cx, ty, buf, off)
    }
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(off..off + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn get4(buf: &[u8], off: usize) -> [u8; 4] {
    let mut b = [0; 4];
    if let Some(s) = buf.get(off..off + 4) {
        b.copy_from_slice(s);
    }
    b
}

/// `own<R>` or `borrow<R>` of a typed host resource.
impl<R: std::any::Any + Send> ComponentType for crate::resources::Resource<R> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        let want = crate::ResourceType::host::<R>();
        match ty {
            ValueType::Own(r) | ValueType::Borrow(r) if *r == want => Ok(()),
            other => mismatch(std::any::type_name::<R>(), other),
        }
    }
    fn into_value(self) -> Value {
        Value::Resource(self.into_any())
    }
    fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::Resource(any) => Self::try_from_any(any),
            other => Err(Error::usage(format!("expected a resource, found {}", other.kind_name()))),
        }
    }
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        cx.lower_flat(ty, &Value::Resource(self.as_any().clone()), out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        cx.store(ty, &Value::Resource(self.as_any().clone()), buf, off)
    }
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        Self::from_value(cx.lift_flat(ty, src)?)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Self::from_value(cx.load(ty, buf, off)?)
    }
}
