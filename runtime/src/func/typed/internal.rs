//! What derived code (and the built-in implementations) need: type checks that name the mismatch, and the
//! record, variant and flags steps of lifting and lowering against the plan's types.
//!
//! Re-exported, hidden, as `component_layer::__internal`. Everything here is safe code: a value is checked
//! against its type where a wrong type could be observed, so even a hand-written implementation that passes the
//! wrong type gets an error, never a wrong read.

use std::sync::Arc;

use wasm_runtime_layer::backend::WasmEngine;

use super::{Lift, Lower};
use crate::abi::layout::discriminant_size;
use crate::abi::lift::FlatSrc;
use crate::abi::lower::FlatBuf;
use crate::abi::types::{Ty, TypeDef, TypeEntry};
use crate::abi::Cx;
use crate::error::{Error, PathSegment, Result, Trap};
use crate::types::ValueType;

/// A type check of one Rust type against a component type.
pub type Typecheck = fn(&ValueType) -> Result<()>;

/// The error of a type check: what the Rust type expects and what the component type is.
#[cold]
pub fn mismatch(rust: &str, want: &str, ty: &ValueType) -> Error {
    Error::usage(format!("type mismatch: Rust type `{rust}` expects {want}, component type is `{ty}`"))
}

/// Checks a record: the same field names in the same order, and each field's type.
pub fn typecheck_record(ty: &ValueType, rust: &str, fields: &[(&str, Typecheck)]) -> Result<()> {
    let ValueType::Record(have) = ty else { return Err(mismatch(rust, "a record", ty)) };
    check_names(rust, "record", "field", have.iter().map(|(n, _)| &**n), fields.iter().map(|(n, _)| *n))?;
    for ((name, check), (_, t)) in fields.iter().zip(have.iter()) {
        check(t).map_err(|e| e.context(format!("in field `{name}` of record `{rust}`")))?;
    }
    Ok(())
}

/// Checks a variant: the same case names in the same order, each with a payload exactly when the Rust case has
/// one, and each payload's type.
pub fn typecheck_variant(ty: &ValueType, rust: &str, cases: &[(&str, Option<Typecheck>)]) -> Result<()> {
    let ValueType::Variant(have) = ty else { return Err(mismatch(rust, "a variant", ty)) };
    check_names(rust, "variant", "case", have.iter().map(|(n, _)| &**n), cases.iter().map(|(n, _)| *n))?;
    for ((name, check), (_, t)) in cases.iter().zip(have.iter()) {
        match (check, t) {
            (Some(check), Some(t)) => {
                check(t).map_err(|e| e.context(format!("in case `{name}` of variant `{rust}`")))?;
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::usage(format!(
                    "type mismatch: case `{name}` of variant `{rust}` has a payload in Rust, none in the component type"
                )))
            }
            (None, Some(t)) => {
                return Err(Error::usage(format!(
                "type mismatch: case `{name}` of variant `{rust}` has no payload in Rust, `{t}` in the component type"
            )))
            }
        }
    }
    Ok(())
}

/// Checks an enum: the same case names in the same order.
pub fn typecheck_enum(ty: &ValueType, rust: &str, cases: &[&str]) -> Result<()> {
    let ValueType::Enum(have) = ty else { return Err(mismatch(rust, "an enum", ty)) };
    check_names(rust, "enum", "case", have.iter().map(|n| &**n), cases.iter().copied())
}

/// Checks flags: the same labels in the same order.
pub fn typecheck_flags(ty: &ValueType, rust: &str, labels: &[&str]) -> Result<()> {
    let ValueType::Flags(have) = ty else { return Err(mismatch(rust, "flags", ty)) };
    check_names(rust, "flags", "flag", have.iter().map(|n| &**n), labels.iter().copied())
}

/// Compares the names of a component type with the Rust type's, position by position.
fn check_names<'a>(
    rust: &str,
    what: &str,
    item: &str,
    have: impl ExactSizeIterator<Item = &'a str>,
    want: impl ExactSizeIterator<Item = &'a str>,
) -> Result<()> {
    let (n_have, n_want) = (have.len(), want.len());
    for (i, (h, w)) in have.zip(want).enumerate() {
        if h != w {
            return Err(Error::usage(format!(
                "type mismatch: {item} {i} of {what} `{rust}` is named `{w}` in Rust, `{h}` in the component type"
            )));
        }
    }
    if n_have != n_want {
        return Err(Error::usage(format!(
            "type mismatch: {what} `{rust}` has {n_want} {item}s in Rust, {n_have} in the component type"
        )));
    }
    Ok(())
}

/// The entry of a defined type.
fn entry<'a, T: 'static, E: WasmEngine>(cx: &Cx<'a, '_, T, E>, ty: Ty) -> Result<&'a TypeEntry> {
    let types = cx.types;
    match ty {
        Ty::Defined(i) => Ok(types.entry(i)),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// A value lowered or lifted against a type it was not checked against (only reachable through a hand-written
/// implementation that passes the wrong type).
#[cold]
pub fn wrong_type<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty) -> Error {
    Error::usage(format!("type mismatch: value does not match component type {}", cx.ty_name(ty)))
}

/// The field types and offsets of a record (or a tuple), borrowed from the plan.
pub struct Fields<'a> {
    tys: FieldTys<'a>,
    offsets: &'a [u32],
}

enum FieldTys<'a> {
    Record(&'a [(Arc<str>, Ty)]),
    Tuple(&'a [Ty]),
}

impl Fields<'_> {
    /// Field `i`'s type and offset in the record's memory.
    pub fn field(&self, i: usize) -> Result<(Ty, usize)> {
        let ty = match self.tys {
            FieldTys::Record(fs) => fs.get(i).map(|(_, t)| *t),
            FieldTys::Tuple(ts) => ts.get(i).copied(),
        };
        match (ty, self.offsets.get(i)) {
            (Some(t), Some(o)) => Ok((t, *o as usize)),
            _ => Err(Error::usage(format!("type mismatch: the component type has no field {i}"))),
        }
    }

    /// Adds field `i` (a record field's name, a tuple element's position) to the path of `e`, which lifting or
    /// lowering that field failed with.
    #[cold]
    pub fn locate(&self, i: usize, e: Error) -> Error {
        match self.tys {
            FieldTys::Record(fs) => match fs.get(i) {
                Some((name, _)) => e.at(PathSegment::Field(name.clone())),
                None => e,
            },
            FieldTys::Tuple(_) => e.at(PathSegment::Element(i as u32)),
        }
    }
}

/// The fields of record type `ty`.
pub fn record<'a, T: 'static, E: WasmEngine>(cx: &Cx<'a, '_, T, E>, ty: Ty) -> Result<Fields<'a>> {
    let e = entry(cx, ty)?;
    match &e.def {
        TypeDef::Record(fs) => Ok(Fields { tys: FieldTys::Record(fs), offsets: &e.offsets }),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// The fields of tuple type `ty`, which must have `n` of them.
pub fn tuple<'a, T: 'static, E: WasmEngine>(cx: &Cx<'a, '_, T, E>, ty: Ty, n: usize) -> Result<Fields<'a>> {
    let e = entry(cx, ty)?;
    match &e.def {
        TypeDef::Tuple(ts) if ts.len() == n => Ok(Fields { tys: FieldTys::Tuple(ts), offsets: &e.offsets }),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// A variant-like type's cases: (number of cases, payload type of case `case`, payload offset, flat length).
fn case_info<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty, case: u32) -> Result<CaseInfo> {
    let e = entry(cx, ty)?;
    let flat_len = e.layout.flat.as_ref().map_or(0, |f| f.len());
    let c = case as usize;
    let (n, payload) = match &e.def {
        TypeDef::Variant(cases) => (cases.len(), cases.get(c).and_then(|(_, t)| *t)),
        TypeDef::Enum(cases) => (cases.len(), None),
        TypeDef::Option(t) => (2, (c == 1).then_some(*t)),
        TypeDef::Result { ok, err } => (2, if c == 0 { *ok } else { *err }),
        _ => return Err(wrong_type(cx, ty)),
    };
    let payload_off = e.offsets.first().copied().unwrap_or(0) as usize;
    Ok(CaseInfo { cases: n, payload, payload_off, flat_len })
}

struct CaseInfo {
    cases: usize,
    payload: Option<Ty>,
    payload_off: usize,
    flat_len: usize,
}

/// `lower_flat_variant`: the case index, the payload (if the case has one), then zeros for the joined slots this
/// case does not use.
pub fn lower_case_flat<P: Lower + ?Sized, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    case: u32,
    payload: Option<&P>,
    out: &mut FlatBuf,
) -> Result<()> {
    let info = case_info(cx, ty, case)?;
    out.push(u64::from(case));
    let start = out.len();
    if let (Some(p), Some(t)) = (payload, info.payload) {
        if !P::IS_UNIT {
            p.lower_flat(cx, t, out).map_err(|e| locate_payload(cx, ty, case, e))?;
        }
    }
    out.resize(start + info.flat_len.saturating_sub(1), 0);
    Ok(())
}

/// `store_variant`: the case index in the discriminant's width, then the payload at the payload offset.
pub fn store_case<P: Lower + ?Sized, T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    case: u32,
    payload: Option<&P>,
    buf: &mut [u8],
    off: usize,
) -> Result<()> {
    let info = case_info(cx, ty, case)?;
    put_uint(buf, off, discriminant_size(info.cases), case);
    if let (Some(p), Some(t)) = (payload, info.payload) {
        if !P::IS_UNIT {
            p.store(cx, t, buf, off + info.payload_off).map_err(|e| locate_payload(cx, ty, case, e))?;
        }
    }
    Ok(())
}

/// A case read by [`lift_case_flat`] or [`load_case`], whose payload is still to be lifted.
pub struct Case {
    /// The variant-like type.
    ty: Ty,
    index: u32,
    payload: Option<Ty>,
    /// Flat: the position after the variant's last joined slot; memory: the payload's offset.
    at: usize,
}

impl Case {
    /// The case index (already checked to be in range).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Lifts the payload from flat values (`lift_flat_variant`'s coercions are plain bit truncations here) and
    /// skips the joined slots the case does not use.
    pub fn payload_flat<P: Lift, T: 'static, E: WasmEngine>(
        &self,
        cx: &mut Cx<'_, '_, T, E>,
        src: &mut FlatSrc<'_>,
    ) -> Result<P> {
        let p = match self.payload {
            Some(t) => P::lift_flat(cx, t, src).map_err(|e| locate_payload(cx, self.ty, self.index, e))?,
            None => unit_payload(cx)?,
        };
        src.seek(self.at);
        Ok(p)
    }

    /// Loads the payload from a host copy of memory.
    pub fn payload_load<P: Lift, T: 'static, E: WasmEngine>(&self, cx: &mut Cx<'_, '_, T, E>, buf: &[u8]) -> Result<P> {
        match self.payload {
            Some(t) => P::load(cx, t, buf, self.at).map_err(|e| locate_payload(cx, self.ty, self.index, e)),
            None => unit_payload(cx),
        }
    }

    /// Moves past a flat case without a payload.
    pub fn finish_flat(&self, src: &mut FlatSrc<'_>) {
        src.seek(self.at);
    }
}

/// Adds the payload of case `case` of variant-like type `ty` to the path of `e`.
#[cold]
fn locate_payload<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty, case: u32, e: Error) -> Error {
    let Ty::Defined(i) = ty else { return e };
    match cx.types.def(i) {
        TypeDef::Variant(cases) => match cases.get(case as usize) {
            Some((name, _)) => e.at(PathSegment::Case(name.clone())),
            None => e,
        },
        TypeDef::Option(_) => e.at(PathSegment::Some),
        TypeDef::Result { .. } if case == 0 => e.at(PathSegment::Ok),
        TypeDef::Result { .. } => e.at(PathSegment::Err),
        _ => e,
    }
}

/// `()` for a case without a payload (`Result<(), E>`); any other Rust type is a mismatch.
fn unit_payload<P: Lift, T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>) -> Result<P> {
    if !P::IS_UNIT {
        return Err(Error::usage("type mismatch: the case has no payload"));
    }
    P::lift_flat(cx, Ty::Bool, &mut FlatSrc::new(&[]))
}

/// `lift_flat_variant`: reads and checks the case index.
pub fn lift_case_flat<T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    src: &mut FlatSrc<'_>,
) -> Result<Case> {
    let disc = src.next_bits()? as u32;
    let info = case_info(cx, ty, disc)?;
    if disc as usize >= info.cases {
        return Err(Error::trap(Trap::InvalidDiscriminant));
    }
    Ok(Case { ty, index: disc, payload: info.payload, at: src.position() + info.flat_len.saturating_sub(1) })
}

/// `load_variant`: reads and checks the case index.
pub fn load_case<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Case> {
    let n = case_info(cx, ty, 0)?.cases;
    let disc = get_uint(buf, off, discriminant_size(n));
    if disc as usize >= n {
        return Err(cx.at_address(buf, off, Error::trap(Trap::InvalidDiscriminant)));
    }
    let info = case_info(cx, ty, disc)?;
    Ok(Case { ty, index: disc, payload: info.payload, at: off + info.payload_off })
}

/// The trap for a case index a derived type does not know (after [`lift_case_flat`] checked it against the
/// component type, whose cases the Rust type matches: not reachable after a successful type check).
#[cold]
pub fn invalid_discriminant() -> Error {
    Error::trap(Trap::InvalidDiscriminant)
}

/// The size in bytes of flags type `ty`.
fn flags_size<T: 'static, E: WasmEngine>(cx: &Cx<'_, '_, T, E>, ty: Ty) -> Result<usize> {
    let e = entry(cx, ty)?;
    match &e.def {
        TypeDef::Flags(_) => Ok(e.layout.size as usize),
        _ => Err(wrong_type(cx, ty)),
    }
}

/// Stores flags (`pack_flags_into_int`) in their width.
pub fn store_flags<T: 'static, E: WasmEngine>(
    cx: &mut Cx<'_, '_, T, E>,
    ty: Ty,
    bits: u32,
    buf: &mut [u8],
    off: usize,
) -> Result<()> {
    let size = flags_size(cx, ty)?;
    put_uint(buf, off, size as u32, bits);
    Ok(())
}

/// Loads flags in their width.
pub fn load_flags<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ty: Ty, buf: &[u8], off: usize) -> Result<u32> {
    let size = flags_size(cx, ty)?;
    Ok(get_uint(buf, off, size as u32))
}

/// Writes the low `size` bytes of `v`, little-endian.
pub(crate) fn put_uint(buf: &mut [u8], off: usize, size: u32, v: u32) {
    let n = size as usize;
    if let Some(dst) = buf.get_mut(off..off + n) {
        dst.copy_from_slice(&v.to_le_bytes()[..n]);
    }
}

/// Reads a `size`-byte little-endian unsigned integer.
pub(crate) fn get_uint(buf: &[u8], off: usize, size: u32) -> u32 {
    let mut b = [0u8; 4];
    let n = size as usize;
    if let Some(s) = buf.get(off..off + n) {
        b[..n].copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}
