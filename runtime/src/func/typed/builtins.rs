//! The built-in implementations: numbers, `bool`, `char`, strings, lists, tuples, `Option`, `Result`, `()` and
//! the pointer types that stand for what they point to.

use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

use super::internal::{self, mismatch, wrong_type};
use super::{ComponentParams, ComponentType, Lift, Lower};
use crate::abi::layout::MAX_BYTE_LENGTH;
use crate::abi::lift::{to_char, FlatSrc};
use crate::abi::lower::FlatBuf;
use crate::abi::types::{Ty, TypeDef};
use crate::abi::Cx;
use crate::error::{Error, PathSegment, Result, Trap};
use crate::types::ValueType;

macro_rules! scalar {
    ($t:ty, $vt:ident, $wit:literal, |$x:ident| $to_bits:expr, |$b:ident| $from_bits:expr, $n:expr $(, $bytes:ident)?) => {
        impl ComponentType for $t {
            fn typecheck(ty: &ValueType) -> Result<()> {
                match ty {
                    ValueType::$vt => Ok(()),
                    other => Err(mismatch(stringify!($t), $wit, other)),
                }
            }
        }
        impl Lower for $t {
            fn lower_flat<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, out: &mut FlatBuf) -> Result<()> {
                let $x = *self;
                out.push($to_bits);
                Ok(())
            }
            fn store<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, buf: &mut [u8], off: usize) -> Result<()> {
                let $x = *self;
                let bits: u64 = $to_bits;
                put(buf, off, &bits.to_le_bytes()[..$n]);
                Ok(())
            }
            scalar_store_list!($t, |$x| $to_bits, $n $(, $bytes)?);
        }
        impl Lift for $t {
            fn lift_flat<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
                let $b = src.next_bits()?;
                $from_bits
            }
            fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, buf: &[u8], off: usize) -> Result<Self> {
                let mut bytes = [0u8; 8];
                if let Some(s) = buf.get(off..off + $n) {
                    bytes[..$n].copy_from_slice(s);
                }
                let $b = u64::from_le_bytes(bytes);
                let v: Result<Self> = $from_bits;
                v.map_err(|e| cx.at_address(buf, off, e))
            }
            scalar_load_list!($t, |$b| $from_bits, $n $(, $bytes)?);
        }
    };
}

/// The bulk list lowering of the numbers: the whole region converted in one host buffer and written once — or,
/// for `u8`, written straight from the slice.
macro_rules! scalar_store_list {
    ($t:ty, |$x:ident| $to_bits:expr, $n:expr, bytes) => {
        fn store_list<T: 'static, E: WasmEngine>(
            items: &[Self],
            cx: &mut Cx<'_, '_, T, E>,
            _: Ty,
        ) -> Result<(u32, u32)> {
            let len = u32::try_from(items.len()).map_err(|_| Error::trap(Trap::TooLong))?;
            let ptr = cx.alloc(1, len)?;
            cx.write(ptr, items)?;
            Ok((ptr, len))
        }
    };
    ($t:ty, |$x:ident| $to_bits:expr, $n:expr) => {
        fn store_list<T: 'static, E: WasmEngine>(
            items: &[Self],
            cx: &mut Cx<'_, '_, T, E>,
            elem: Ty,
        ) -> Result<(u32, u32)> {
            let len = u32::try_from(items.len()).map_err(|_| Error::trap(Trap::TooLong))?;
            let bytes = u32::try_from(u64::from(len) * $n).map_err(|_| Error::trap(Trap::TooLong))?;
            let ptr = cx.alloc(cx.types.layout(elem).align, bytes)?;
            let mut buf = vec![0u8; bytes as usize];
            for (dst, &$x) in buf.chunks_exact_mut($n).zip(items) {
                let bits: u64 = $to_bits;
                dst.copy_from_slice(&bits.to_le_bytes()[..$n]);
            }
            cx.write(ptr, &buf)?;
            Ok((ptr, len))
        }
    };
}

/// The bulk list lifting of the numbers: one read of the whole region, converted element by element in host
/// memory — or, for `u8`, no conversion at all.
macro_rules! scalar_load_list {
    ($t:ty, |$b:ident| $from_bits:expr, $n:expr, bytes) => {
        fn load_list<T: 'static, E: WasmEngine>(
            cx: &mut Cx<'_, '_, T, E>,
            _: Ty,
            ptr: u32,
            len: u32,
        ) -> Result<Vec<Self>> {
            if u64::from(len) > MAX_BYTE_LENGTH {
                return Err(Error::trap(Trap::TooLong).at_offset(ptr));
            }
            cx.check_range(ptr, u64::from(len), 1)?;
            cx.read(ptr, len as usize)
        }
    };
    ($t:ty, |$b:ident| $from_bits:expr, $n:expr) => {
        fn load_list<T: 'static, E: WasmEngine>(
            cx: &mut Cx<'_, '_, T, E>,
            elem: Ty,
            ptr: u32,
            len: u32,
        ) -> Result<Vec<Self>> {
            let byte_len = u64::from(len) * $n;
            if byte_len > MAX_BYTE_LENGTH {
                return Err(Error::trap(Trap::TooLong).at_offset(ptr));
            }
            cx.check_range(ptr, byte_len, cx.types.layout(elem).align)?;
            let buf = cx.read(ptr, byte_len as usize)?;
            // A plain loop into a presized vector: collecting `Result`s would go through a shunting adapter that
            // keeps the conversion from being straight-line code.
            let mut out = Vec::with_capacity(len as usize);
            for (k, c) in buf.chunks_exact($n).enumerate() {
                let mut bytes = [0u8; 8];
                bytes[..$n].copy_from_slice(c);
                let $b = u64::from_le_bytes(bytes);
                let v: Result<Self> = $from_bits;
                match v {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        return Err(e.at_offset(ptr.wrapping_add((k * $n) as u32)).at(PathSegment::Index(k as u32)))
                    }
                }
            }
            Ok(out)
        }
    };
}

scalar!(u8, U8, "u8", |x| u64::from(x), |b| Ok(b as u8), 1, bytes);
scalar!(i8, S8, "s8", |x| u64::from(x as i32 as u32), |b| Ok(b as u8 as i8), 1);
scalar!(u16, U16, "u16", |x| u64::from(x), |b| Ok(b as u16), 2);
scalar!(i16, S16, "s16", |x| u64::from(x as i32 as u32), |b| Ok(b as u16 as i16), 2);
scalar!(u32, U32, "u32", |x| u64::from(x), |b| Ok(b as u32), 4);
scalar!(i32, S32, "s32", |x| u64::from(x as u32), |b| Ok(b as u32 as i32), 4);
scalar!(u64, U64, "u64", |x| x, |b| Ok(b), 8);
scalar!(i64, S64, "s64", |x| x as u64, |b| Ok(b as i64), 8);
scalar!(f32, F32, "f32", |x| u64::from(x.to_bits()), |b| Ok(f32::from_bits(b as u32)), 4);
scalar!(f64, F64, "f64", |x| x.to_bits(), |b| Ok(f64::from_bits(b)), 8);
scalar!(bool, Bool, "bool", |x| u64::from(x), |b| Ok((b as u32) != 0), 1);
scalar!(char, Char, "char", |x| u64::from(x as u32), |b| to_char(b as u32), 4);

/// Writes `bytes` at `off` (the caller sized `buf` from the type's layout).
pub(super) fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(off..off + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

/// Reads a little-endian `u32` at `off`.
pub(super) fn get4(buf: &[u8], off: usize) -> u32 {
    internal::get_uint(buf, off, 4)
}

/// Appends a `(ptr, len)` pair.
fn push_pair(out: &mut FlatBuf, (p, l): (u32, u32)) {
    out.push(u64::from(p));
    out.push(u64::from(l));
}

/// Stores a `(ptr, len)` pair.
fn put_pair(buf: &mut [u8], off: usize, (p, l): (u32, u32)) {
    put(buf, off, &p.to_le_bytes());
    put(buf, off + 4, &l.to_le_bytes());
}

/// `()` stands for an absent payload (in `Result<(), E>`), for "no result" in [`super::TypedFunc`] and for an
/// empty parameter list.
impl ComponentType for () {
    fn typecheck(ty: &ValueType) -> Result<()> {
        Err(mismatch("()", "no value", ty))
    }
    const IS_UNIT: bool = true;
}

impl Lower for () {
    fn lower_flat<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut FlatBuf) -> Result<()> {
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(&self, _: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut [u8], _: usize) -> Result<()> {
        Ok(())
    }
}

impl Lift for () {
    fn lift_flat<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, _: &mut FlatSrc<'_>) -> Result<Self> {
        Ok(())
    }
    fn load<T: 'static, E: WasmEngine>(_: &mut Cx<'_, '_, T, E>, _: Ty, _: &[u8], _: usize) -> Result<Self> {
        Ok(())
    }
}

impl ComponentParams for () {
    fn typecheck(params: &[ValueType]) -> Result<()> {
        if !params.is_empty() {
            return Err(Error::usage(format!("expected no parameters, the function has {}", params.len())));
        }
        Ok(())
    }
}

impl ComponentType for str {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::String => Ok(()),
            other => Err(mismatch("str", "string", other)),
        }
    }
}

/// Lowers straight from the borrowed text, without an owned copy on the host.
impl Lower for str {
    fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, _: Ty, out: &mut FlatBuf) -> Result<()> {
        let hint = cx.next_hint(self);
        push_pair(out, cx.store_string(self, hint)?);
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
        put_pair(buf, off, cx.store_string(self, hint)?);
        Ok(())
    }
}

impl ComponentType for String {
    fn typecheck(ty: &ValueType) -> Result<()> {
        <str as ComponentType>::typecheck(ty)
    }
}

impl Lower for String {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        self.as_str().lower_flat(cx, ty, out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        self.as_str().store(cx, ty, buf, off)
    }
}

impl Lift for String {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let p = src.next_bits()? as u32;
        let l = src.next_bits()? as u32;
        Ok(cx.load_string(p, l)?.0)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Ok(cx.load_string(get4(buf, off), get4(buf, off + 4))?.0)
    }
}

impl Lift for Box<str> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        String::lift_flat(cx, ty, src).map(String::into_boxed_str)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        String::load(cx, ty, buf, off).map(String::into_boxed_str)
    }
}

/// The element type of list type `ty`.
pub(super) fn list_elem<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty) -> Result<Ty> {
    match ty {
        Ty::Defined(i) => match cx.types.def(i) {
            TypeDef::List(e) => Ok(*e),
            _ => Err(wrong_type(cx, ty)),
        },
        _ => Err(wrong_type(cx, ty)),
    }
}

/// Checks a list type's element type with `C`.
pub(super) fn typecheck_list<C: ComponentType + ?Sized>(rust: &str, ty: &ValueType) -> Result<()> {
    match ty {
        ValueType::List(e) => C::typecheck(e).map_err(|e| e.context("in the list's elements")),
        other => Err(mismatch(rust, "a list", other)),
    }
}

impl<C: ComponentType> ComponentType for [C] {
    fn typecheck(ty: &ValueType) -> Result<()> {
        typecheck_list::<C>("[T]", ty)
    }
}

/// Lowers straight from the borrowed elements (in bulk for numbers), without an owned copy on the host.
impl<C: Lower> Lower for [C] {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        let elem = list_elem(cx, ty)?;
        push_pair(out, C::store_list(self, cx, elem)?);
        Ok(())
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        let elem = list_elem(cx, ty)?;
        put_pair(buf, off, C::store_list(self, cx, elem)?);
        Ok(())
    }
}

impl<C: ComponentType> ComponentType for Vec<C> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        typecheck_list::<C>("Vec<T>", ty)
    }
}

impl<C: Lower> Lower for Vec<C> {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        self.as_slice().lower_flat(cx, ty, out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        self.as_slice().store(cx, ty, buf, off)
    }
}

impl<C: Lift> Lift for Vec<C> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let p = src.next_bits()? as u32;
        let l = src.next_bits()? as u32;
        let elem = list_elem(cx, ty)?;
        C::load_list(cx, elem, p, l)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let elem = list_elem(cx, ty)?;
        C::load_list(cx, elem, get4(buf, off), get4(buf, off + 4))
    }
}

impl<C: Lift> Lift for Box<[C]> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        Vec::lift_flat(cx, ty, src).map(Vec::into_boxed_slice)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Vec::load(cx, ty, buf, off).map(Vec::into_boxed_slice)
    }
}

/// Pointers stand for what they point to.
macro_rules! pointer {
    ($p:ident) => {
        impl<C: ComponentType + ?Sized> ComponentType for $p<C> {
            fn typecheck(ty: &ValueType) -> Result<()> {
                C::typecheck(ty)
            }
            const IS_UNIT: bool = C::IS_UNIT;
        }
        impl<C: Lower + ?Sized> Lower for $p<C> {
            fn lower_flat<T: 'static, E: WasmEngine>(
                &self,
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                out: &mut FlatBuf,
            ) -> Result<()> {
                (**self).lower_flat(cx, ty, out)
            }
            fn store<T: 'static, E: WasmEngine>(
                &self,
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                buf: &mut [u8],
                off: usize,
            ) -> Result<()> {
                (**self).store(cx, ty, buf, off)
            }
        }
        impl<C: Lift> Lift for $p<C> {
            fn lift_flat<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                src: &mut FlatSrc<'_>,
            ) -> Result<Self> {
                C::lift_flat(cx, ty, src).map($p::new)
            }
            fn load<T: 'static, E: WasmEngine>(
                cx: &mut Cx<'_, '_, T, E>,
                ty: Ty,
                buf: &[u8],
                off: usize,
            ) -> Result<Self> {
                C::load(cx, ty, buf, off).map($p::new)
            }
        }
    };
}

pointer!(Box);
pointer!(Arc);

impl<C: ComponentType + ?Sized> ComponentType for &C {
    fn typecheck(ty: &ValueType) -> Result<()> {
        C::typecheck(ty)
    }
    const IS_UNIT: bool = C::IS_UNIT;
}

impl<C: Lower + ?Sized> Lower for &C {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        (**self).lower_flat(cx, ty, out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        (**self).store(cx, ty, buf, off)
    }
}

impl<C: ComponentType> ComponentType for Option<C> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::Option(t) => C::typecheck(t).map_err(|e| e.context("in the option's payload")),
            other => Err(mismatch("Option<T>", "an option", other)),
        }
    }
}

impl<C: Lower> Lower for Option<C> {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        internal::lower_case_flat(cx, ty, u32::from(self.is_some()), self.as_ref(), out)
    }
    fn store<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        buf: &mut [u8],
        off: usize,
    ) -> Result<()> {
        internal::store_case(cx, ty, u32::from(self.is_some()), self.as_ref(), buf, off)
    }
}

impl<C: Lift> Lift for Option<C> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let case = internal::lift_case_flat(cx, ty, src)?;
        match case.index() {
            0 => {
                case.finish_flat(src);
                Ok(None)
            }
            _ => case.payload_flat(cx, src).map(Some),
        }
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let case = internal::load_case(cx, ty, buf, off)?;
        match case.index() {
            0 => Ok(None),
            _ => case.payload_load(cx, buf).map(Some),
        }
    }
}

impl<A: ComponentType, B: ComponentType> ComponentType for std::result::Result<A, B> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        let ValueType::Result { ok, err } = ty else { return Err(mismatch("Result<T, E>", "a result", ty)) };
        let check =
            |t: &Option<Arc<ValueType>>, unit: bool, f: fn(&ValueType) -> Result<()>, side: &str| match (t, unit) {
                (None, true) => Ok(()),
                (Some(t), false) => f(t).map_err(|e| e.context(format!("in the result's {side} payload"))),
                (None, false) => Err(Error::usage(format!(
                    "type mismatch: the result `{ty}` has no {side} payload, the Rust type has one (use `()`)"
                ))),
                (Some(t), true) => Err(Error::usage(format!(
                    "type mismatch: the result `{ty}` has an {side} payload `{t}`, the Rust type has `()`"
                ))),
            };
        check(ok, A::IS_UNIT, A::typecheck, "ok")?;
        check(err, B::IS_UNIT, B::typecheck, "error")
    }
}

impl<A: Lower, B: Lower> Lower for std::result::Result<A, B> {
    fn lower_flat<T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        ty: Ty,
        out: &mut FlatBuf,
    ) -> Result<()> {
        match self {
            Ok(a) => internal::lower_case_flat(cx, ty, 0, Some(a), out),
            Err(b) => internal::lower_case_flat(cx, ty, 1, Some(b), out),
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
            Ok(a) => internal::store_case(cx, ty, 0, Some(a), buf, off),
            Err(b) => internal::store_case(cx, ty, 1, Some(b), buf, off),
        }
    }
}

impl<A: Lift, B: Lift> Lift for std::result::Result<A, B> {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let case = internal::lift_case_flat(cx, ty, src)?;
        match case.index() {
            0 => case.payload_flat(cx, src).map(Ok),
            _ => case.payload_flat(cx, src).map(Err),
        }
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        let case = internal::load_case(cx, ty, buf, off)?;
        match case.index() {
            0 => case.payload_load(cx, buf).map(Ok),
            _ => case.payload_load(cx, buf).map(Err),
        }
    }
}

macro_rules! tuples {
    ($( $n:literal: ($($i:tt $t:ident),+) )*) => {$(
        impl<$($t: ComponentType),+> ComponentType for ($($t,)+) {
            fn typecheck(ty: &ValueType) -> Result<()> {
                match ty {
                    ValueType::Tuple(ts) if ts.len() == $n => {
                        $( $t::typecheck(&ts[$i]).map_err(|e| e.context(concat!("in tuple element ", $i)))?; )+
                        Ok(())
                    }
                    other => Err(mismatch(concat!("tuple of ", $n), concat!("a tuple of ", $n), other)),
                }
            }
        }

        impl<$($t: Lower),+> Lower for ($($t,)+) {
            fn lower_flat<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, out: &mut FlatBuf) -> Result<()> {
                let fields = internal::tuple(cx, ty, $n)?;
                $( self.$i.lower_flat(cx, fields.field($i)?.0, out).map_err(|e| fields.locate($i, e))?; )+
                Ok(())
            }
            fn store<T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &mut [u8], off: usize) -> Result<()> {
                let fields = internal::tuple(cx, ty, $n)?;
                $( {
                    let (t, o) = fields.field($i)?;
                    self.$i.store(cx, t, buf, off + o).map_err(|e| fields.locate($i, e))?;
                } )+
                Ok(())
            }
        }

        impl<$($t: Lift),+> Lift for ($($t,)+) {
            fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
                let fields = internal::tuple(cx, ty, $n)?;
                Ok(($($t::lift_flat(cx, fields.field($i)?.0, src).map_err(|e| fields.locate($i, e))?,)+))
            }
            fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
                let fields = internal::tuple(cx, ty, $n)?;
                Ok(($({
                    let (t, o) = fields.field($i)?;
                    $t::load(cx, t, buf, off + o).map_err(|e| fields.locate($i, e))?
                },)+))
            }
        }

        impl<$($t: ComponentType),+> ComponentParams for ($($t,)+) {
            fn typecheck(params: &[ValueType]) -> Result<()> {
                if params.len() != $n {
                    return Err(Error::usage(format!("expected {} parameters, the function has {}", $n, params.len())));
                }
                $( $t::typecheck(&params[$i]).map_err(|e| e.context(concat!("in parameter ", $i)))?; )+
                Ok(())
            }
        }
    )*};
}

tuples! {
    1: (0 A)
    2: (0 A, 1 B)
    3: (0 A, 1 B, 2 C)
    4: (0 A, 1 B, 2 C, 3 D)
    5: (0 A, 1 B, 2 C, 3 D, 4 F)
    6: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G)
    7: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H)
    8: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I)
    9: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J)
    10: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K)
    11: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L)
    12: (0 A, 1 B, 2 C, 3 D, 4 F, 5 G, 6 H, 7 I, 8 J, 9 K, 10 L, 11 M)
}
