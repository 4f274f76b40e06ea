//! Lifting: core values and linear memory → [`Value`]s (the spec's `lift_flat`, `load` and friends).
//!
//! Flat values arrive as raw bits ([`super::Bits`]), so the variant `join` coercions of `CoerceValueIter` are
//! plain truncations and reinterpretations. Values in memory are read with one copy per region and decoded from
//! the host buffer; a list is bounds-checked as a whole (length × element size, against the 2^28 − 1 limit and
//! the memory size) before its buffer is allocated.

use std::sync::Arc;

use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::layout::MAX_BYTE_LENGTH;
use super::types::{Ty, TypeDef};
use super::{Bits, Cx};
use crate::error::{trap, Error, PathSegment, Result, Trap};
use crate::resources::handle::Handle;
use crate::resources::ResourceAny;
use crate::values::{List, Value};

/// An iterator over flat core values (as bits).
pub struct FlatSrc<'v> {
    vals: &'v [Bits],
    pos: usize,
}

impl<'v> FlatSrc<'v> {
    /// Iterates over `vals`.
    pub fn new(vals: &'v [Bits]) -> Self {
        FlatSrc { vals, pos: 0 }
    }

    /// The next core value's bits.
    pub fn next_bits(&mut self) -> Result<Bits> {
        let v = self.vals.get(self.pos).copied().ok_or_else(|| Error::internal("too few core values"))?;
        self.pos += 1;
        Ok(v)
    }

    fn next(&mut self) -> Result<Bits> {
        self.next_bits()
    }

    /// The current position.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Moves to a position (after a variant's payload, to skip its unused joined slots).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos;
    }
}

impl<T: 'static, E: WasmEngine> Cx<'_, '_, T, E> {
    /// `lift_flat`.
    pub fn lift_flat(&mut self, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Value> {
        Ok(match ty {
            Ty::Bool => Value::Bool(src.next()? as u32 != 0),
            Ty::U8 => Value::U8(src.next()? as u8),
            Ty::S8 => Value::S8(src.next()? as u8 as i8),
            Ty::U16 => Value::U16(src.next()? as u16),
            Ty::S16 => Value::S16(src.next()? as u16 as i16),
            Ty::U32 => Value::U32(src.next()? as u32),
            Ty::S32 => Value::S32(src.next()? as u32 as i32),
            Ty::U64 => Value::U64(src.next()?),
            Ty::S64 => Value::S64(src.next()? as i64),
            Ty::F32 => Value::F32(f32::from_bits(src.next()? as u32)),
            Ty::F64 => Value::F64(f64::from_bits(src.next()?)),
            Ty::Char => Value::Char(to_char(src.next()? as u32)?),
            Ty::String => {
                let ptr = src.next()? as u32;
                let len = src.next()? as u32;
                self.lift_string(ptr, len)?
            }
            Ty::Own(r) => Value::Resource(self.lift_own(r, src.next()? as u32)?),
            Ty::Borrow(r) => Value::Resource(self.lift_borrow(r, src.next()? as u32)?),
            Ty::Defined(i) => {
                let types = self.types;
                match types.def(i) {
                    TypeDef::List(elem) => {
                        let ptr = src.next()? as u32;
                        let len = src.next()? as u32;
                        Value::List(self.load_list(*elem, ptr, len)?)
                    }
                    TypeDef::Record(fields) => {
                        let mut out = Vec::with_capacity(fields.len());
                        for (name, t) in fields.iter() {
                            let v = self.lift_flat(*t, src).map_err(|e| e.at(PathSegment::Field(name.clone())))?;
                            out.push((name.clone(), v));
                        }
                        Value::Record(out)
                    }
                    TypeDef::Tuple(ts) => {
                        let mut out = Vec::with_capacity(ts.len());
                        for (k, t) in ts.iter().enumerate() {
                            out.push(self.lift_flat(*t, src).map_err(|e| e.at(PathSegment::Element(k as u32)))?);
                        }
                        Value::Tuple(out)
                    }
                    TypeDef::Flags(labels) => flags_value(labels, src.next()? as u32),
                    def @ (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext) => {
                        self.lift_async_value(def, src.next()? as u32)?
                    }
                    def => {
                        let flat_len = types.entry(i).layout.flat.as_ref().map_or(0, |f| f.len());
                        let disc = src.next()? as u32;
                        let start = src.pos;
                        let (case, payload) = case_of(def, disc)?;
                        let payload = match payload {
                            Some(t) => {
                                Some(Box::new(self.lift_flat(t, src).map_err(|e| e.at(payload_segment(def, case)))?))
                            }
                            None => None,
                        };
                        // Skip the joined slots this case does not use.
                        src.pos = start + flat_len.saturating_sub(1);
                        variant_value(def, case, payload)
                    }
                }
            }
        })
    }

    /// `load`: decodes a value of type `ty` at `off` in `buf`, a host copy of guest memory. Failures name the
    /// guest address when `buf` is the buffer given to [`Cx::view`].
    pub fn load(&mut self, ty: Ty, buf: &[u8], off: usize) -> Result<Value> {
        let view = self.view;
        let at = |e: Error| match super::view_address(view, buf, off) {
            Some(a) => e.at_offset(a),
            None => e,
        };
        Ok(match ty {
            Ty::Bool => Value::Bool(buf[off] != 0),
            Ty::U8 => Value::U8(buf[off]),
            Ty::S8 => Value::S8(buf[off] as i8),
            Ty::U16 => Value::U16(u16::from_le_bytes(bytes(buf, off))),
            Ty::S16 => Value::S16(i16::from_le_bytes(bytes(buf, off))),
            Ty::U32 => Value::U32(u32::from_le_bytes(bytes(buf, off))),
            Ty::S32 => Value::S32(i32::from_le_bytes(bytes(buf, off))),
            Ty::U64 => Value::U64(u64::from_le_bytes(bytes(buf, off))),
            Ty::S64 => Value::S64(i64::from_le_bytes(bytes(buf, off))),
            Ty::F32 => Value::F32(f32::from_le_bytes(bytes(buf, off))),
            Ty::F64 => Value::F64(f64::from_le_bytes(bytes(buf, off))),
            Ty::Char => Value::Char(to_char(u32::from_le_bytes(bytes(buf, off))).map_err(at)?),
            Ty::String => {
                let ptr = u32::from_le_bytes(bytes(buf, off));
                let len = u32::from_le_bytes(bytes(buf, off + 4));
                self.lift_string(ptr, len)?
            }
            Ty::Own(r) => Value::Resource(self.lift_own(r, u32::from_le_bytes(bytes(buf, off))).map_err(at)?),
            Ty::Borrow(r) => Value::Resource(self.lift_borrow(r, u32::from_le_bytes(bytes(buf, off))).map_err(at)?),
            Ty::Defined(i) => {
                let types = self.types;
                let entry = types.entry(i);
                match &entry.def {
                    TypeDef::List(elem) => {
                        let ptr = u32::from_le_bytes(bytes(buf, off));
                        let len = u32::from_le_bytes(bytes(buf, off + 4));
                        Value::List(self.load_list(*elem, ptr, len)?)
                    }
                    TypeDef::Record(fields) => {
                        let mut out = Vec::with_capacity(fields.len());
                        for ((name, t), o) in fields.iter().zip(entry.offsets.iter()) {
                            let v = self
                                .load(*t, buf, off + *o as usize)
                                .map_err(|e| e.at(PathSegment::Field(name.clone())))?;
                            out.push((name.clone(), v));
                        }
                        Value::Record(out)
                    }
                    TypeDef::Tuple(ts) => {
                        let mut out = Vec::with_capacity(ts.len());
                        for (k, (t, o)) in ts.iter().zip(entry.offsets.iter()).enumerate() {
                            out.push(
                                self.load(*t, buf, off + *o as usize)
                                    .map_err(|e| e.at(PathSegment::Element(k as u32)))?,
                            );
                        }
                        Value::Tuple(out)
                    }
                    TypeDef::Flags(labels) => {
                        let bits = match entry.layout.size {
                            1 => u32::from(buf[off]),
                            2 => u32::from(u16::from_le_bytes(bytes(buf, off))),
                            _ => u32::from_le_bytes(bytes(buf, off)),
                        };
                        flags_value(labels, bits)
                    }
                    def @ (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext) => {
                        self.lift_async_value(def, u32::from_le_bytes(bytes(buf, off))).map_err(at)?
                    }
                    def => {
                        let disc = match disc_size(def) {
                            1 => u32::from(buf[off]),
                            2 => u32::from(u16::from_le_bytes(bytes(buf, off))),
                            _ => u32::from_le_bytes(bytes(buf, off)),
                        };
                        let (case, payload) = case_of(def, disc).map_err(at)?;
                        let payload = match payload {
                            Some(t) => Some(Box::new(
                                self.load(t, buf, off + entry.offsets[0] as usize)
                                    .map_err(|e| e.at(payload_segment(def, case)))?,
                            )),
                            None => None,
                        };
                        variant_value(def, case, payload)
                    }
                }
            }
        })
    }

    /// Lifts a string and records its source hint when a composition needs it.
    fn lift_string(&mut self, ptr: u32, len: u32) -> Result<Value> {
        let (s, hint) = self.load_string(ptr, len)?;
        if let Some(h) = self.hints.as_mut() {
            h.push(hint);
        }
        Ok(Value::String(s))
    }

    /// `load_list_from_range`: checks the whole range, reads it once and decodes the elements.
    pub fn load_list(&mut self, elem: Ty, ptr: u32, len: u32) -> Result<List> {
        let layout = self.types.layout(elem);
        let (size, align) = (layout.size, layout.align);
        let byte_len = u64::from(len) * u64::from(size);
        if byte_len > MAX_BYTE_LENGTH {
            return Err(Error::trap(Trap::TooLong).at_offset(ptr));
        }
        self.check_range(ptr, byte_len, align)?;
        let buf = self.read(ptr, byte_len as usize)?;
        macro_rules! prim {
            ($variant:ident, $t:ty, $n:expr) => {
                List::$variant(
                    buf.chunks_exact($n).map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or_default())).collect(),
                )
            };
        }
        Ok(match elem {
            Ty::U8 => List::U8(buf),
            Ty::S8 => List::S8(buf.into_iter().map(|b| b as i8).collect()),
            Ty::U16 => prim!(U16, u16, 2),
            Ty::S16 => prim!(S16, i16, 2),
            Ty::U32 => prim!(U32, u32, 4),
            Ty::S32 => prim!(S32, i32, 4),
            Ty::U64 => prim!(U64, u64, 8),
            Ty::S64 => prim!(S64, i64, 8),
            Ty::F32 => prim!(F32, f32, 4),
            Ty::F64 => prim!(F64, f64, 8),
            _ => {
                let mut out = Vec::with_capacity(len as usize);
                let outer = self.view(&buf, ptr);
                for k in 0..len as usize {
                    out.push(self.load(elem, &buf, k * size as usize).map_err(|e| e.at(PathSegment::Index(k as u32)))?);
                }
                self.view_restore(outer);
                List::Values(out)
            }
        })
    }

    /// `lift_own`: moves the handle out of the instance's table into the host table.
    pub(crate) fn lift_own(&mut self, r: u32, index: u32) -> Result<ResourceAny> {
        let expected = self.resource_type(r)?;
        let inst = self.opts.instance;
        let rt = &mut self.store.data_mut().rt;
        let table = &mut rt.instances[inst as usize].handles;
        let h = table.get(index)?;
        if h.rt != expected || !h.own {
            return trap(Trap::HandleType);
        }
        if h.num_lends != 0 {
            return trap(Trap::HandleLent);
        }
        let h: Handle = table.remove(index)?;
        rt.live_handles = rt.live_handles.saturating_sub(1);
        let id = rt.id;
        Ok(rt.host.insert(id, h.rt, h.rep, true))
    }

    /// `lift_borrow`: lends the handle for the duration of the call.
    pub(crate) fn lift_borrow(&mut self, r: u32, index: u32) -> Result<ResourceAny> {
        let expected = self.resource_type(r)?;
        let inst = self.opts.instance;
        let rt = &mut self.store.data_mut().rt;
        let h = rt.instances[inst as usize].handles.get_mut(index)?;
        if h.rt != expected {
            return trap(Trap::HandleType);
        }
        h.num_lends += 1;
        let rep = h.rep;
        self.lenders.push((inst, index));
        let id = rt.id;
        let any = rt.host.insert(id, expected, rep, false);
        self.host_borrows.push(any.clone());
        Ok(any)
    }

    pub(crate) fn resource_type(&self, r: u32) -> Result<crate::ResourceType> {
        self.resources.get(r as usize).cloned().ok_or_else(|| Error::internal("resource type index out of range"))
    }
}

fn bytes<const N: usize>(buf: &[u8], off: usize) -> [u8; N] {
    let mut b = [0; N];
    if let Some(s) = buf.get(off..off + N) {
        b.copy_from_slice(s);
    }
    b
}

/// `convert_i32_to_char`.
pub fn to_char(i: u32) -> Result<char> {
    char::from_u32(i).ok_or_else(|| Error::trap(Trap::InvalidChar))
}

fn disc_size(def: &TypeDef) -> u32 {
    let n = match def {
        TypeDef::Variant(c) => c.len(),
        TypeDef::Enum(c) => c.len(),
        _ => 2,
    };
    super::layout::discriminant_size(n)
}

/// The case index `disc` selects (trapping if out of range) and its payload type.
fn case_of(def: &TypeDef, disc: u32) -> Result<(u32, Option<Ty>)> {
    let d = disc as usize;
    let bad = || Error::trap(Trap::InvalidDiscriminant);
    Ok(match def {
        TypeDef::Variant(cases) => (disc, cases.get(d).ok_or_else(bad)?.1),
        TypeDef::Enum(cases) => {
            if d >= cases.len() {
                return Err(bad());
            }
            (disc, None)
        }
        TypeDef::Option(t) => match d {
            0 => (0, None),
            1 => (1, Some(*t)),
            _ => return Err(bad()),
        },
        TypeDef::Result { ok, err } => match d {
            0 => (0, *ok),
            1 => (1, *err),
            _ => return Err(bad()),
        },
        _ => unreachable!("not a variant-like type"),
    })
}

/// The path segment of case `case`'s payload.
#[cold]
fn payload_segment(def: &TypeDef, case: u32) -> PathSegment {
    match def {
        TypeDef::Variant(cases) => PathSegment::Case(cases[case as usize].0.clone()),
        TypeDef::Option(_) => PathSegment::Some,
        _ if case == 0 => PathSegment::Ok,
        _ => PathSegment::Err,
    }
}

fn variant_value(def: &TypeDef, case: u32, payload: Option<Box<Value>>) -> Value {
    match def {
        TypeDef::Variant(cases) => Value::Variant(cases[case as usize].0.clone(), payload),
        TypeDef::Enum(cases) => Value::Enum(cases[case as usize].clone()),
        TypeDef::Option(_) => Value::Option(payload),
        TypeDef::Result { .. } => Value::Result(if case == 0 { Ok(payload) } else { Err(payload) }),
        _ => unreachable!("not a variant-like type"),
    }
}

/// `unpack_flags_from_int`; bits beyond the labels are ignored.
fn flags_value(labels: &[Arc<str>], bits: u32) -> Value {
    Value::Flags(labels.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, l)| l.clone()).collect())
}
