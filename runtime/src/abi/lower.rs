//! Lowering: [`Value`]s → core values and linear memory (the spec's `lower_flat`, `store` and friends).
//!
//! Values are type-checked against the function's type while they are lowered (as wasmtime's dynamic API
//! does). A list or a spilled tuple is built in a host buffer and written with one copy after its elements'
//! own allocations (strings, nested lists) have been made through `realloc`, in the spec's order: the outer
//! allocation first, then each element's in element order.

use smallvec::SmallVec;
use wasm_runtime_layer::backend::{WasmEngine, WasmStoreContextMut};

use super::layout::MAX_FLAT_PARAMS;
use super::types::{Ty, TypeDef};
use super::{Bits, Cx};
use crate::error::{trap, Error, PathSegment, Result, Trap};
use crate::resources::handle::Handle;
use crate::resources::ResourceAny;
use crate::values::{List, Value};

/// Flat core values (as bits) produced by lowering.
pub type FlatBuf = SmallVec<[Bits; MAX_FLAT_PARAMS]>;

fn mismatch(expected: &str, v: &Value) -> Error {
    Error::usage(format!("type mismatch: expected {expected}, found {}", v.kind_name()))
}

impl<T: 'static, E: WasmEngine> Cx<'_, '_, T, E> {
    /// `lower_flat`.
    pub fn lower_flat(&mut self, ty: Ty, v: &Value, out: &mut FlatBuf) -> Result<()> {
        match (ty, v) {
            (Ty::Bool, Value::Bool(b)) => out.push(u64::from(*b)),
            (Ty::U8, Value::U8(x)) => out.push(u64::from(*x)),
            (Ty::S8, Value::S8(x)) => out.push(u64::from(*x as i32 as u32)),
            (Ty::U16, Value::U16(x)) => out.push(u64::from(*x)),
            (Ty::S16, Value::S16(x)) => out.push(u64::from(*x as i32 as u32)),
            (Ty::U32, Value::U32(x)) => out.push(u64::from(*x)),
            (Ty::S32, Value::S32(x)) => out.push(u64::from(*x as u32)),
            (Ty::U64, Value::U64(x)) => out.push(*x),
            (Ty::S64, Value::S64(x)) => out.push(*x as u64),
            (Ty::F32, Value::F32(x)) => out.push(u64::from(x.to_bits())),
            (Ty::F64, Value::F64(x)) => out.push(x.to_bits()),
            (Ty::Char, Value::Char(c)) => out.push(u64::from(*c as u32)),
            (Ty::String, Value::String(s)) => {
                let hint = self.next_hint(s);
                let (ptr, len) = self.store_string(s, hint)?;
                out.push(u64::from(ptr));
                out.push(u64::from(len));
            }
            (Ty::Own(r), Value::Resource(any)) => out.push(u64::from(self.lower_own(r, any)?)),
            (Ty::Borrow(r), Value::Resource(any)) => out.push(u64::from(self.lower_borrow(r, any)?)),
            (Ty::Defined(i), v) => {
                let types = self.types;
                let entry = types.entry(i);
                match (&entry.def, v) {
                    (TypeDef::List(elem), Value::List(list)) => {
                        let (ptr, len) = self.store_list(*elem, list)?;
                        out.push(u64::from(ptr));
                        out.push(u64::from(len));
                    }
                    (TypeDef::Record(fields), Value::Record(vals)) => {
                        check_fields(fields.iter().map(|(n, _)| &**n), vals)?;
                        for ((name, t), (_, v)) in fields.iter().zip(vals) {
                            self.lower_flat(*t, v, out).map_err(|e| e.at(PathSegment::Field(name.clone())))?;
                        }
                    }
                    (TypeDef::Tuple(ts), Value::Tuple(vals)) => {
                        check_tuple(ts.len(), vals.len())?;
                        for (k, (t, v)) in ts.iter().zip(vals).enumerate() {
                            self.lower_flat(*t, v, out).map_err(|e| e.at(PathSegment::Element(k as u32)))?;
                        }
                    }
                    (TypeDef::Flags(labels), Value::Flags(set)) => out.push(u64::from(flags_bits(labels, set)?)),
                    (def @ (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext), v) => {
                        out.push(u64::from(self.lower_async_value(def, v)?))
                    }
                    (def, v) => {
                        let (case, payload) = match_case(def, v)?;
                        let flat_len = entry.layout.flat.as_ref().map_or(0, |f| f.len());
                        out.push(u64::from(case));
                        let start = out.len();
                        if let Some((t, pv)) = payload {
                            self.lower_flat(t, pv, out).map_err(|e| e.at(payload_segment(v)))?;
                        }
                        out.resize(start + flat_len.saturating_sub(1), 0);
                    }
                }
            }
            (ty, v) => return Err(mismatch(&self.ty_name(ty), v)),
        }
        Ok(())
    }

    /// `store`: writes a value of type `ty` at `off` in `buf`, a host image of guest memory that the caller
    /// writes back in one copy.
    pub fn store(&mut self, ty: Ty, v: &Value, buf: &mut [u8], off: usize) -> Result<()> {
        match (ty, v) {
            (Ty::Bool, Value::Bool(b)) => buf[off] = u8::from(*b),
            (Ty::U8, Value::U8(x)) => buf[off] = *x,
            (Ty::S8, Value::S8(x)) => buf[off] = *x as u8,
            (Ty::U16, Value::U16(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::S16, Value::S16(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::U32, Value::U32(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::S32, Value::S32(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::U64, Value::U64(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::S64, Value::S64(x)) => put(buf, off, &x.to_le_bytes()),
            (Ty::F32, Value::F32(x)) => put(buf, off, &x.to_bits().to_le_bytes()),
            (Ty::F64, Value::F64(x)) => put(buf, off, &x.to_bits().to_le_bytes()),
            (Ty::Char, Value::Char(c)) => put(buf, off, &(*c as u32).to_le_bytes()),
            (Ty::String, Value::String(s)) => {
                let hint = self.next_hint(s);
                let (ptr, len) = self.store_string(s, hint)?;
                put(buf, off, &ptr.to_le_bytes());
                put(buf, off + 4, &len.to_le_bytes());
            }
            (Ty::Own(r), Value::Resource(any)) => {
                let h = self.lower_own(r, any)?;
                put(buf, off, &h.to_le_bytes());
            }
            (Ty::Borrow(r), Value::Resource(any)) => {
                let h = self.lower_borrow(r, any)?;
                put(buf, off, &h.to_le_bytes());
            }
            (Ty::Defined(i), v) => {
                let types = self.types;
                let entry = types.entry(i);
                match (&entry.def, v) {
                    (TypeDef::List(elem), Value::List(list)) => {
                        let (ptr, len) = self.store_list(*elem, list)?;
                        put(buf, off, &ptr.to_le_bytes());
                        put(buf, off + 4, &len.to_le_bytes());
                    }
                    (TypeDef::Record(fields), Value::Record(vals)) => {
                        check_fields(fields.iter().map(|(n, _)| &**n), vals)?;
                        for (((name, t), (_, v)), o) in fields.iter().zip(vals).zip(entry.offsets.iter()) {
                            self.store(*t, v, buf, off + *o as usize)
                                .map_err(|e| e.at(PathSegment::Field(name.clone())))?;
                        }
                    }
                    (TypeDef::Tuple(ts), Value::Tuple(vals)) => {
                        check_tuple(ts.len(), vals.len())?;
                        for (k, ((t, v), o)) in ts.iter().zip(vals).zip(entry.offsets.iter()).enumerate() {
                            self.store(*t, v, buf, off + *o as usize)
                                .map_err(|e| e.at(PathSegment::Element(k as u32)))?;
                        }
                    }
                    (TypeDef::Flags(labels), Value::Flags(set)) => {
                        let bits = flags_bits(labels, set)?;
                        match entry.layout.size {
                            1 => buf[off] = bits as u8,
                            2 => put(buf, off, &(bits as u16).to_le_bytes()),
                            _ => put(buf, off, &bits.to_le_bytes()),
                        }
                    }
                    (def @ (TypeDef::Stream(_) | TypeDef::Future(_) | TypeDef::ErrorContext), v) => {
                        let h = self.lower_async_value(def, v)?;
                        put(buf, off, &h.to_le_bytes());
                    }
                    (def, v) => {
                        let (case, payload) = match_case(def, v)?;
                        match disc_size(def) {
                            1 => buf[off] = case as u8,
                            2 => put(buf, off, &(case as u16).to_le_bytes()),
                            _ => put(buf, off, &case.to_le_bytes()),
                        }
                        if let Some((t, pv)) = payload {
                            self.store(t, pv, buf, off + entry.offsets[0] as usize)
                                .map_err(|e| e.at(payload_segment(v)))?;
                        }
                    }
                }
            }
            (ty, v) => return Err(mismatch(&self.ty_name(ty), v)),
        }
        Ok(())
    }

    /// `store_list_into_range`: one allocation, the elements built in a host buffer, one write.
    pub fn store_list(&mut self, elem: Ty, list: &List) -> Result<(u32, u32)> {
        let layout = self.types.layout(elem);
        let (size, align) = (layout.size, layout.align);
        let len = u32::try_from(list.len()).map_err(|_| Error::trap(Trap::TooLong))?;
        let byte_len = u32::try_from(u64::from(len) * u64::from(size)).map_err(|_| Error::trap(Trap::TooLong))?;
        // Type-check specialised lists before calling into the guest.
        // Bytes are written straight from the host's vector; other numbers are converted in one host buffer.
        let bulk: Option<std::borrow::Cow<'_, [u8]>> = match (elem, list) {
            (Ty::U8, List::U8(v)) => Some(std::borrow::Cow::Borrowed(v.as_slice())),
            (Ty::S8, List::S8(v)) => Some(v.iter().map(|x| *x as u8).collect::<Vec<u8>>().into()),
            (Ty::U16, List::U16(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::S16, List::S16(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::U32, List::U32(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::S32, List::S32(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::U64, List::U64(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::S64, List::S64(v)) => Some(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()),
            (Ty::F32, List::F32(v)) => {
                Some(v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect::<Vec<u8>>().into())
            }
            (Ty::F64, List::F64(v)) => {
                Some(v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect::<Vec<u8>>().into())
            }
            (_, List::Values(_)) => None,
            (_, _) => return Err(Error::usage(format!("type mismatch: expected list<{}>", self.ty_name(elem)))),
        };
        let ptr = self.alloc(align, byte_len)?;
        match (bulk, list) {
            (Some(bytes), _) => self.write(ptr, &bytes)?,
            (None, List::Values(vals)) => {
                // Start from the memory as it is, so padding bytes keep their contents (the spec writes fields only).
                let mut buf = self.read(ptr, byte_len as usize)?;
                for (k, v) in vals.iter().enumerate() {
                    self.store(elem, v, &mut buf, k * size as usize).map_err(|e| e.at(PathSegment::Index(k as u32)))?;
                }
                self.write(ptr, &buf)?;
            }
            (None, _) => return Err(Error::internal("a specialised list must be lowered in bulk")),
        }
        Ok((ptr, len))
    }

    /// Writes a spilled parameter tuple or a result into memory at `ptr` (already allocated and checked).
    pub fn store_values(&mut self, tys: &[Ty], offsets: &[u32], vals: &[Value], ptr: u32, size: u32) -> Result<()> {
        let mut buf = self.read(ptr, size as usize)?;
        for ((t, v), o) in tys.iter().zip(vals).zip(offsets) {
            self.store(*t, v, &mut buf, *o as usize)?;
        }
        self.write(ptr, &buf)
    }

    /// `lower_own`: moves a host-held own handle into this instance's table.
    pub(crate) fn lower_own(&mut self, r: u32, any: &ResourceAny) -> Result<u32> {
        let expected = self.resource_type(r)?;
        let inst = self.opts.instance;
        let rt = &mut self.store.data_mut().rt;
        if any.store != rt.id {
            return Err(Error::usage("resource handle used with the wrong store"));
        }
        let entry = rt.host.get(any).ok_or_else(|| Error::trap(Trap::ResourceGone))?;
        if !entry.own || entry.rt != expected {
            return trap(Trap::HandleType);
        }
        if entry.lends != 0 {
            return trap(Trap::HandleLent);
        }
        let entry = rt.host.remove(any).expect("checked above");
        add_handle(rt, inst, Handle { rt: entry.rt, rep: entry.rep, own: true, borrow_scope: None, num_lends: 0 })
    }

    /// `lower_borrow`: a component's own resource lowers to its rep; anything else to a borrow handle counted
    /// against the callee's task.
    pub(crate) fn lower_borrow(&mut self, r: u32, any: &ResourceAny) -> Result<u32> {
        let expected = self.resource_type(r)?;
        let inst = self.opts.instance;
        let task = self.task;
        let rt = &mut self.store.data_mut().rt;
        if any.store != rt.id {
            return Err(Error::usage("resource handle used with the wrong store"));
        }
        let entry = rt.host.get(any).ok_or_else(|| Error::trap(Trap::ResourceGone))?;
        if entry.rt != expected {
            return trap(Trap::HandleType);
        }
        let rep = entry.rep;
        if expected.guest_instance(rt.id) == Some(inst) {
            return Ok(rep);
        }
        let h = add_handle(rt, inst, Handle { rt: expected, rep, own: false, borrow_scope: task, num_lends: 0 })?;
        if let Some(n) = task.and_then(|t| rt.num_borrows_mut(t)) {
            *n += 1;
        }
        Ok(h)
    }

    /// A short description of a type for error messages.
    pub fn ty_name(&self, ty: Ty) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::S8 => "s8".into(),
            Ty::U8 => "u8".into(),
            Ty::S16 => "s16".into(),
            Ty::U16 => "u16".into(),
            Ty::S32 => "s32".into(),
            Ty::U32 => "u32".into(),
            Ty::S64 => "s64".into(),
            Ty::U64 => "u64".into(),
            Ty::F32 => "f32".into(),
            Ty::F64 => "f64".into(),
            Ty::Char => "char".into(),
            Ty::String => "string".into(),
            Ty::Own(r) => self.resources.get(r as usize).map_or_else(|| "own".into(), |t| format!("own<{t}>")),
            Ty::Borrow(r) => self.resources.get(r as usize).map_or_else(|| "borrow".into(), |t| format!("borrow<{t}>")),
            Ty::Defined(i) => match self.types.def(i) {
                TypeDef::List(_) => "list",
                TypeDef::Record(_) => "record",
                TypeDef::Tuple(_) => "tuple",
                TypeDef::Variant(_) => "variant",
                TypeDef::Enum(_) => "enum",
                TypeDef::Option(_) => "option",
                TypeDef::Result { .. } => "result",
                TypeDef::Flags(_) => "flags",
                TypeDef::Stream(_) => "stream",
                TypeDef::Future(_) => "future",
                TypeDef::ErrorContext => "error-context",
            }
            .into(),
        }
    }
}

/// Adds a handle to an instance's table, enforcing the store's handle limit.
pub(crate) fn add_handle<E: WasmEngine>(rt: &mut crate::store::RuntimeState<E>, inst: u32, h: Handle) -> Result<u32> {
    if rt.live_handles >= rt.max_handles {
        return trap(Trap::TableFull);
    }
    let i = rt
        .instances
        .get_mut(inst as usize)
        .ok_or_else(|| Error::internal("component instance index out of range"))?
        .handles
        .add(h)?;
    rt.live_handles += 1;
    Ok(i)
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(off..off + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn disc_size(def: &TypeDef) -> u32 {
    let n = match def {
        TypeDef::Variant(c) => c.len(),
        TypeDef::Enum(c) => c.len(),
        _ => 2,
    };
    super::layout::discriminant_size(n)
}

fn check_tuple(want: usize, got: usize) -> Result<()> {
    if want != got {
        return Err(Error::usage(format!("type mismatch: expected a tuple of {want} values, found {got}")));
    }
    Ok(())
}

/// The path segment of a variant-like value's payload.
#[cold]
fn payload_segment(v: &Value) -> PathSegment {
    match v {
        Value::Variant(name, _) => PathSegment::Case(name.clone()),
        Value::Option(_) => PathSegment::Some,
        Value::Result(Ok(_)) => PathSegment::Ok,
        _ => PathSegment::Err,
    }
}

fn check_fields<'a>(
    names: impl ExactSizeIterator<Item = &'a str>,
    vals: &[(std::sync::Arc<str>, Value)],
) -> Result<()> {
    if names.len() != vals.len() {
        return Err(Error::usage(format!("expected {} record fields, got {}", names.len(), vals.len())));
    }
    for (n, (vn, _)) in names.zip(vals) {
        if n != &**vn {
            return Err(Error::usage(format!("expected record field `{n}`, got `{vn}`")));
        }
    }
    Ok(())
}

/// The case index of a variant-like value and its payload (type and value), checking that the payload is
/// present exactly when the case has one.
fn match_case<'v>(def: &TypeDef, v: &'v Value) -> Result<(u32, Option<(Ty, &'v Value)>)> {
    let payload = |t: Option<Ty>, p: &'v Option<Box<Value>>| -> Result<Option<(Ty, &'v Value)>> {
        match (t, p) {
            (Some(t), Some(p)) => Ok(Some((t, &**p))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(Error::usage("variant case requires a payload")),
            (None, Some(_)) => Err(Error::usage("variant case has no payload")),
        }
    };
    match (def, v) {
        (TypeDef::Variant(cases), Value::Variant(name, p)) => {
            let i = cases
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| Error::usage(format!("unknown variant case `{name}`")))?;
            Ok((i as u32, payload(cases[i].1, p)?))
        }
        (TypeDef::Enum(cases), Value::Enum(name)) => {
            let i = cases
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| Error::usage(format!("unknown enum case `{name}`")))?;
            Ok((i as u32, None))
        }
        (TypeDef::Option(t), Value::Option(p)) => match p {
            None => Ok((0, None)),
            Some(p) => Ok((1, Some((*t, &**p)))),
        },
        (TypeDef::Result { ok, err }, Value::Result(r)) => match r {
            Ok(p) => Ok((0, payload(*ok, p)?)),
            Err(p) => Ok((1, payload(*err, p)?)),
        },
        (def, v) => {
            let expected = match def {
                TypeDef::Variant(_) => "variant",
                TypeDef::Enum(_) => "enum",
                TypeDef::Option(_) => "option",
                TypeDef::Result { .. } => "result",
                TypeDef::List(_) => "list",
                TypeDef::Record(_) => "record",
                TypeDef::Tuple(_) => "tuple",
                TypeDef::Flags(_) => "flags",
                TypeDef::Stream(_) => "stream",
                TypeDef::Future(_) => "future",
                TypeDef::ErrorContext => "error-context",
            };
            Err(mismatch(expected, v))
        }
    }
}

/// `pack_flags_into_int`.
fn flags_bits(labels: &[std::sync::Arc<str>], set: &[std::sync::Arc<str>]) -> Result<u32> {
    let mut bits = 0u32;
    for l in set {
        let i = labels.iter().position(|x| x == l).ok_or_else(|| Error::usage(format!("unknown flag `{l}`")))?;
        bits |= 1 << i;
    }
    Ok(bits)
}
