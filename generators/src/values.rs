//! Values of generated types, biased to the edges the canonical ABI gets wrong: NaN payloads, ±0, integer
//! extremes, chars next to the surrogate range, empty and long strings and lists, non-Latin-1 text and strings
//! that change encoding partway. Also the host-side mirror of the transform guests ([`transform`]).

use std::sync::Arc;

use arbitrary::{Result, Unstructured};
use component_layer::{List, Value};

use crate::ty::{Def, Ty, TypeSet};

/// Limits for value generation.
#[derive(Clone, Debug)]
pub struct ValueConfig {
    /// Total budget, roughly in bytes of lowered data.
    pub budget: usize,
    /// Maximum list length.
    pub max_list: usize,
    /// Maximum string length in chars.
    pub max_string: usize,
}

impl Default for ValueConfig {
    fn default() -> Self {
        ValueConfig { budget: 4096, max_list: 16, max_string: 48 }
    }
}

/// Edge values of `f32`, as bits: zeros, NaNs with payloads (quiet and signalling, both signs), infinities,
/// subnormals, extremes.
pub const F32_EDGES: [u32; 12] = [
    0x0000_0000,
    0x8000_0000,
    0x7fc0_0000,
    0x7fc0_0001,
    0xffb0_0000,
    0x7f80_0001,
    0x7f80_0000,
    0xff80_0000,
    0x0000_0001,
    0x7f7f_ffff,
    0x3fc0_0000,
    0xbf80_0000,
];

/// Edge values of `f64`, as bits.
pub const F64_EDGES: [u64; 11] = [
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0x7ff8_0000_0000_0001,
    0xfff4_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x0000_0000_0000_0001,
    0x7fef_ffff_ffff_ffff,
    0x3ff8_0000_0000_0000,
];

/// Chars at the edges: around the surrogate range, the Latin-1 and BMP boundaries, the maximum.
pub const CHAR_EDGES: [char; 12] = [
    '\0',
    'a',
    '\u{7f}',
    '\u{80}',
    '\u{ff}',
    '\u{100}',
    '\u{d7ff}',
    '\u{e000}',
    '\u{fffd}',
    '\u{ffff}',
    '\u{10000}',
    '\u{10ffff}',
];

/// Pieces of text that exercise every string encoding and transcoding path.
const STRING_PIECES: [&str; 10] = ["", "a", "hello", "héllo", "aé", "a日b", "😀", "ÿ", "\u{100}", "Zz09 -_"];

/// Generates values, calling `resource` for each `own`/`borrow` (the host creates the handle).
pub struct ValueGen<'a> {
    /// The types.
    pub set: &'a TypeSet,
    /// Limits.
    pub config: ValueConfig,
    budget: usize,
}

impl<'a> ValueGen<'a> {
    /// A generator for types in `set`.
    pub fn new(set: &'a TypeSet, config: ValueConfig) -> Self {
        let budget = config.budget;
        ValueGen { set, config, budget }
    }

    /// A value of type `ty`.
    pub fn value(
        &mut self,
        u: &mut Unstructured<'_>,
        ty: &Ty,
        resource: &mut dyn FnMut(usize, bool) -> Value,
    ) -> Result<Value> {
        self.budget = self.budget.saturating_sub(1);
        let edge = u.ratio(1, 2)?;
        Ok(match ty {
            Ty::Bool => Value::Bool(u.arbitrary()?),
            Ty::U8 => Value::U8(if edge { *u.choose(&[0, 1, 0x7f, 0x80, u8::MAX])? } else { u.arbitrary()? }),
            Ty::S8 => Value::S8(if edge { *u.choose(&[0, -1, 1, i8::MIN, i8::MAX])? } else { u.arbitrary()? }),
            Ty::U16 => Value::U16(if edge { *u.choose(&[0, 1, 0x7fff, 0x8000, u16::MAX])? } else { u.arbitrary()? }),
            Ty::S16 => Value::S16(if edge { *u.choose(&[0, -1, i16::MIN, i16::MAX])? } else { u.arbitrary()? }),
            Ty::U32 => {
                Value::U32(if edge { *u.choose(&[0, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX])? } else { u.arbitrary()? })
            }
            Ty::S32 => Value::S32(if edge { *u.choose(&[0, -1, i32::MIN, i32::MAX])? } else { u.arbitrary()? }),
            Ty::U64 => Value::U64(if edge { *u.choose(&[0, 1, 1 << 32, 1 << 63, u64::MAX])? } else { u.arbitrary()? }),
            Ty::S64 => {
                Value::S64(if edge { *u.choose(&[0, -1, i64::MIN, i64::MAX, 1 << 32])? } else { u.arbitrary()? })
            }
            Ty::F32 => Value::F32(f32::from_bits(if edge { *u.choose(&F32_EDGES)? } else { u.arbitrary()? })),
            Ty::F64 => Value::F64(f64::from_bits(if edge { *u.choose(&F64_EDGES)? } else { u.arbitrary()? })),
            Ty::Char => Value::Char(if edge { *u.choose(&CHAR_EDGES)? } else { self.char(u)? }),
            Ty::String => Value::String(self.string(u)?),
            Ty::List(t) => Value::List(self.list(u, t, resource)?),
            Ty::Tuple(ts) => Value::Tuple(ts.iter().map(|t| self.value(u, t, resource)).collect::<Result<_>>()?),
            Ty::Option(t) => {
                Value::Option(if u.arbitrary()? { Some(Box::new(self.value(u, t, resource)?)) } else { None })
            }
            Ty::Result(ok, err) => {
                let is_ok: bool = u.arbitrary()?;
                let arm = if is_ok { ok } else { err };
                let payload = match arm {
                    Some(t) => Some(Box::new(self.value(u, t, resource)?)),
                    None => None,
                };
                Value::Result(if is_ok { Ok(payload) } else { Err(payload) })
            }
            Ty::Own(r) => resource(*r, true),
            Ty::Borrow(r) => resource(*r, false),
            Ty::Named(i) => match &self.set.defs[*i].1 {
                Def::Record(fs) => Value::Record(
                    fs.iter()
                        .map(|(n, t)| Ok((Arc::from(n.as_str()), self.value(u, t, resource)?)))
                        .collect::<Result<_>>()?,
                ),
                Def::Variant(cs) => {
                    let (name, t) = &cs[u.choose_index(cs.len())?];
                    let payload = match t {
                        Some(t) => Some(Box::new(self.value(u, t, resource)?)),
                        None => None,
                    };
                    Value::Variant(Arc::from(name.as_str()), payload)
                }
                Def::Enum(cs) => {
                    let i = if edge { *u.choose(&[0, cs.len() - 1])? } else { u.choose_index(cs.len())? };
                    Value::Enum(Arc::from(cs[i].as_str()))
                }
                Def::Flags(ls) => {
                    let mut set = Vec::new();
                    for l in ls {
                        if u.arbitrary()? {
                            set.push(Arc::from(l.as_str()));
                        }
                    }
                    Value::Flags(set)
                }
                Def::Alias(t) => self.value(u, t, resource)?,
            },
        })
    }

    fn char(&mut self, u: &mut Unstructured<'_>) -> Result<char> {
        let c: u32 = match u.int_in_range(0..=3)? {
            0 => u.int_in_range(0..=0x7f)?,
            1 => u.int_in_range(0x80..=0xff)?,
            2 => u.int_in_range(0x100..=0xffff)?,
            _ => u.int_in_range(0x10000..=0x10ffff)?,
        };
        Ok(char::from_u32(c).unwrap_or('\u{fffd}'))
    }

    fn string(&mut self, u: &mut Unstructured<'_>) -> Result<String> {
        let mut s = String::new();
        let pieces = if self.budget == 0 { 0 } else { u.int_in_range(0..=4)? };
        for _ in 0..pieces {
            if u.arbitrary()? {
                s.push_str(u.choose(&STRING_PIECES)?);
            } else {
                let n = u.int_in_range(0..=self.config.max_string.min(self.budget))?;
                for _ in 0..n {
                    s.push(self.char(u)?);
                }
            }
        }
        self.budget = self.budget.saturating_sub(s.len());
        Ok(s)
    }

    fn list(
        &mut self,
        u: &mut Unstructured<'_>,
        elem: &Ty,
        resource: &mut dyn FnMut(usize, bool) -> Value,
    ) -> Result<List> {
        let size = self.set.layout(elem).size.max(1) as usize;
        let max = self.config.max_list.min(self.budget / size);
        let n = if max == 0 { 0 } else { u.int_in_range(0..=max)? };
        self.budget = self.budget.saturating_sub(n * size);
        let vals = (0..n).map(|_| self.value(u, elem, resource)).collect::<Result<Vec<_>>>()?;
        Ok(List::Values(vals))
    }
}

/// What a function over a (type, value) pair answers for a value that is not of the type: where it departs
/// from the type (`.field "f1" [3]: expected u8, found string`).
pub type Mismatch = String;

/// Checks that `v` is a value of `ty` as the type model shapes values: the scalar of the type's kind, a `list`
/// of any [`List`] representation whose elements are of the element type, tuples and records with every field
/// (records in declaration order, by name), payloads exactly where the type has them, known case and flag
/// names; an `own`/`borrow` is a [`Value::Resource`] or its `u32` rep. Values engines return are checked with
/// this before anything is built from them: a wrong engine's value is an error, never a panic. The type must be
/// one of the set's ([`TypeSet::well_formed_ty`]).
pub fn check(set: &TypeSet, ty: &Ty, v: &Value) -> std::result::Result<(), Mismatch> {
    set.well_formed_ty(ty)?;
    check_at(set, ty, v).map_err(|(path, msg)| {
        let path: Vec<String> = path.into_iter().rev().collect();
        if path.is_empty() {
            msg
        } else {
            format!("{}: {msg}", path.join(" "))
        }
    })
}

/// [`check`] of a well-formed type; the error's path is innermost first.
fn check_at(set: &TypeSet, ty: &Ty, v: &Value) -> std::result::Result<(), (Vec<String>, String)> {
    let within = |seg: String, r: std::result::Result<(), (Vec<String>, String)>| {
        r.map_err(|(mut path, msg)| {
            path.push(seg);
            (path, msg)
        })
    };
    let mismatch = || Err((Vec::new(), format!("expected {}, found {}", set.wit(ty), describe_kind(v))));
    let payload = |seg: &str, t: Option<&Ty>, p: &Option<Box<Value>>| match (t, p) {
        (Some(t), Some(p)) => within(seg.to_owned(), check_at(set, t, p)),
        (None, None) => Ok(()),
        (Some(_), None) => Err((vec![seg.to_owned()], "payload missing".to_owned())),
        (None, Some(p)) => Err((vec![seg.to_owned()], format!("unexpected payload {}", describe_kind(p)))),
    };
    match (set.resolve(ty), v) {
        (Ty::Bool, Value::Bool(_))
        | (Ty::S8, Value::S8(_))
        | (Ty::U8, Value::U8(_))
        | (Ty::S16, Value::S16(_))
        | (Ty::U16, Value::U16(_))
        | (Ty::S32, Value::S32(_))
        | (Ty::U32, Value::U32(_))
        | (Ty::S64, Value::S64(_))
        | (Ty::U64, Value::U64(_))
        | (Ty::F32, Value::F32(_))
        | (Ty::F64, Value::F64(_))
        | (Ty::Char, Value::Char(_))
        | (Ty::String, Value::String(_))
        | (Ty::Own(_) | Ty::Borrow(_), Value::U32(_) | Value::Resource(_)) => Ok(()),
        (Ty::List(elem), Value::List(l)) => (0..l.len()).try_for_each(|i| match l.get(i) {
            Some(e) => within(format!("[{i}]"), check_at(set, elem, &e)),
            None => Ok(()),
        }),
        (Ty::Tuple(ts), Value::Tuple(vs)) if ts.len() == vs.len() => {
            ts.iter().zip(vs).enumerate().try_for_each(|(i, (t, v))| within(format!(".{i}"), check_at(set, t, v)))
        }
        (Ty::Tuple(ts), Value::Tuple(vs)) => Err((Vec::new(), format!("{} elements, expected {}", vs.len(), ts.len()))),
        (Ty::Option(t), Value::Option(Some(p))) => within("?".to_owned(), check_at(set, t, p)),
        (Ty::Option(_), Value::Option(None)) => Ok(()),
        (Ty::Result(ok, err), Value::Result(r)) => match r {
            Ok(p) => payload(".ok", ok.as_deref(), p),
            Err(p) => payload(".err", err.as_deref(), p),
        },
        (Ty::Named(i), v) => match (&set.defs[*i].1, v) {
            (Def::Record(fs), Value::Record(vs)) if fs.len() == vs.len() => {
                fs.iter().zip(vs).try_for_each(|((name, t), (n, v))| {
                    let seg = format!(".field {name:?}");
                    if **n != **name {
                        return Err((vec![seg], format!("found field {:?}", &**n)));
                    }
                    within(seg, check_at(set, t, v))
                })
            }
            (Def::Record(fs), Value::Record(vs)) => {
                Err((Vec::new(), format!("{} fields, expected {}", vs.len(), fs.len())))
            }
            (Def::Variant(cs), Value::Variant(name, p)) => match cs.iter().find(|(n, _)| **n == **name) {
                Some((_, t)) => payload(&format!(".case {:?}", &**name), t.as_ref(), p),
                None => Err((Vec::new(), format!("no case {:?} in {}", &**name, set.wit(ty)))),
            },
            (Def::Enum(cs), Value::Enum(name)) if cs.iter().any(|c| **c == **name) => Ok(()),
            (Def::Enum(_), Value::Enum(name)) => Err((Vec::new(), format!("no case {:?} in {}", &**name, set.wit(ty)))),
            (Def::Flags(ls), Value::Flags(fs)) => match fs.iter().find(|f| !ls.iter().any(|l| **l == ***f)) {
                None => Ok(()),
                Some(f) => Err((Vec::new(), format!("no flag {:?} in {}", &**f, set.wit(ty)))),
            },
            _ => mismatch(),
        },
        _ => mismatch(),
    }
}

/// A value's kind, with its size where it has one (`list of 3`), for messages: never the value itself, which
/// may be huge or deeply nested.
pub fn describe_kind(v: &Value) -> String {
    match v {
        Value::Bool(_) => "bool".into(),
        Value::S8(_) => "s8".into(),
        Value::U8(_) => "u8".into(),
        Value::S16(_) => "s16".into(),
        Value::U16(_) => "u16".into(),
        Value::S32(_) => "s32".into(),
        Value::U32(_) => "u32".into(),
        Value::S64(_) => "s64".into(),
        Value::U64(_) => "u64".into(),
        Value::F32(_) => "f32".into(),
        Value::F64(_) => "f64".into(),
        Value::Char(_) => "char".into(),
        Value::String(s) => format!("string of {} bytes", s.len()),
        Value::List(l) => format!("list of {}", l.len()),
        Value::Record(fs) => format!("record of {} fields", fs.len()),
        Value::Tuple(vs) => format!("tuple of {}", vs.len()),
        Value::Variant(n, _) => format!("variant case {:?}", &**n),
        Value::Enum(n) => format!("enum case {:?}", &**n),
        Value::Option(_) => "option".into(),
        Value::Result(_) => "result".into(),
        Value::Flags(fs) => format!("flags ({} set)", fs.len()),
        Value::Resource(_) => "resource".into(),
        Value::Stream(_) => "stream".into(),
        Value::Future(_) => "future".into(),
        Value::ErrorContext(_) => "error-context".into(),
    }
}

/// The value's `Debug` form when it is of a printable size — at most [`DESCRIBE_DEPTH`] deep and
/// [`DESCRIBE_NODES`] nodes (string bytes count) — and otherwise a summary of its kind and extent: for
/// rendering values an engine returned, which may be absurdly large or deep.
pub fn describe(v: &Value) -> String {
    let mut stack = vec![(v, 0usize)];
    let mut nodes = 0usize;
    while let Some((v, depth)) = stack.pop() {
        nodes += 1;
        if depth > DESCRIBE_DEPTH || nodes > DESCRIBE_NODES {
            return format!("<{} nested {}+ deep or {}+ nodes>", describe_kind(v), depth, nodes);
        }
        match v {
            Value::String(s) => nodes += s.len(),
            Value::List(List::Values(vs)) | Value::Tuple(vs) => stack.extend(vs.iter().map(|v| (v, depth + 1))),
            Value::List(l) => nodes += l.len(),
            Value::Record(fs) => stack.extend(fs.iter().map(|(_, v)| (v, depth + 1))),
            Value::Flags(fs) => nodes += fs.len(),
            Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
                stack.push((p, depth + 1))
            }
            _ => {}
        }
    }
    if nodes > DESCRIBE_NODES {
        return format!("<{} of {nodes}+ nodes>", describe_kind(v));
    }
    format!("{v:?}")
}

/// How deep a value [`describe`] prints may be.
pub const DESCRIBE_DEPTH: usize = 64;
/// How many nodes a value [`describe`] prints may have.
pub const DESCRIBE_NODES: usize = 4096;

/// The transform guests apply to values in memory, mirrored on the host: integers get a constant added
/// (wrapping), bools and flags are inverted, floats have their sign flipped, chars move to the next valid char,
/// ASCII letters in strings swap case, lists are reversed, enums rotate to the next case, `result`s whose two arms
/// have the same type swap arms. Handles are left alone. A value that is not of the type is an error
/// ([`check`]).
pub fn transform(set: &TypeSet, ty: &Ty, v: &Value) -> std::result::Result<Value, Mismatch> {
    check(set, ty, v)?;
    Ok(transform_checked(set, ty, v))
}

/// [`transform`] of a value [`check`] accepted.
fn transform_checked(set: &TypeSet, ty: &Ty, v: &Value) -> Value {
    let tf = |t: &Ty, v: &Value| transform_checked(set, t, v);
    match (set.resolve(ty), v) {
        (_, Value::Bool(b)) => Value::Bool(!b),
        (_, Value::U8(x)) => Value::U8(x.wrapping_add(TRANSFORM_ADD as u8)),
        (_, Value::S8(x)) => Value::S8(x.wrapping_add(TRANSFORM_ADD as i8)),
        (_, Value::U16(x)) => Value::U16(x.wrapping_add(TRANSFORM_ADD as u16)),
        (_, Value::S16(x)) => Value::S16(x.wrapping_add(TRANSFORM_ADD as i16)),
        (Ty::U32, Value::U32(x)) => Value::U32(x.wrapping_add(TRANSFORM_ADD as u32)),
        (_, Value::S32(x)) => Value::S32(x.wrapping_add(TRANSFORM_ADD as i32)),
        (_, Value::U64(x)) => Value::U64(x.wrapping_add(TRANSFORM_ADD)),
        (_, Value::S64(x)) => Value::S64(x.wrapping_add(TRANSFORM_ADD as i64)),
        (_, Value::F32(x)) => Value::F32(f32::from_bits(x.to_bits() ^ 0x8000_0000)),
        (_, Value::F64(x)) => Value::F64(f64::from_bits(x.to_bits() ^ (1 << 63))),
        (_, Value::Char(c)) => Value::Char(next_char(*c)),
        (_, Value::String(s)) => Value::String(swap_ascii_case(s)),
        (Ty::List(elem), Value::List(l)) => {
            let items: Vec<Value> = l.iter().collect();
            Value::List(List::Values(items.iter().rev().map(|e| tf(elem, e)).collect()))
        }
        (Ty::Tuple(ts), Value::Tuple(vs)) => Value::Tuple(ts.iter().zip(vs).map(|(t, v)| tf(t, v)).collect()),
        (Ty::Option(t), Value::Option(p)) => Value::Option(p.as_ref().map(|p| Box::new(tf(t, p)))),
        (Ty::Result(ok, err), Value::Result(r)) => {
            let tp = |t: &Option<Box<Ty>>, p: &Option<Box<Value>>| match (t, p) {
                (Some(t), Some(p)) => Some(Box::new(tf(t, p))),
                _ => None,
            };
            let swap = ok == err;
            match (r, swap) {
                (Ok(p), false) => Value::Result(Ok(tp(ok, p))),
                (Err(p), false) => Value::Result(Err(tp(err, p))),
                (Ok(p), true) => Value::Result(Err(tp(ok, p))),
                (Err(p), true) => Value::Result(Ok(tp(err, p))),
            }
        }
        (Ty::Named(i), v) => match (&set.defs[*i].1, v) {
            (Def::Record(fs), Value::Record(vs)) => {
                Value::Record(fs.iter().zip(vs).map(|((_, t), (n, v))| (n.clone(), tf(t, v))).collect())
            }
            (Def::Variant(cs), Value::Variant(name, p)) => {
                let t = cs.iter().find(|(n, _)| **n == **name).and_then(|(_, t)| t.as_ref());
                Value::Variant(
                    name.clone(),
                    match (t, p) {
                        (Some(t), Some(p)) => Some(Box::new(tf(t, p))),
                        _ => None,
                    },
                )
            }
            (Def::Enum(cs), Value::Enum(name)) => {
                let i = cs.iter().position(|c| **c == **name).unwrap_or(0);
                Value::Enum(Arc::from(cs[(i + 1) % cs.len()].as_str()))
            }
            (Def::Flags(ls), Value::Flags(set_flags)) => Value::Flags(
                ls.iter().filter(|l| !set_flags.iter().any(|f| **f == ***l)).map(|l| Arc::from(l.as_str())).collect(),
            ),
            _ => v.clone(),
        },
        // Handles (a rep or a resource) are left alone.
        _ => v.clone(),
    }
}

/// The answer of a host import with [`crate::HostBehaviour::Hash`]: FNV-1a (64-bit) over the `Debug` form of
/// the arguments, mapped into the result type. Every value is valid: `bool` takes the low bit, integers truncate,
/// floats take the bits (any NaN becomes the canonical NaN), `char` skips the surrogates. `None` for
/// non-scalar types. Any arguments are accepted (they are hashed as they are, streamed: a huge argument costs no
/// memory).
pub fn hash_answer(args: &[Value], ty: &Ty) -> Option<Value> {
    use std::fmt::Write as _;
    let mut fnv = Fnv(0xcbf2_9ce4_8422_2325);
    // Writing into a hasher cannot fail.
    let _ = write!(fnv, "{args:?}");
    let h = fnv.0;
    Some(match ty {
        Ty::Bool => Value::Bool(h & 1 == 1),
        Ty::S8 => Value::S8(h as i8),
        Ty::U8 => Value::U8(h as u8),
        Ty::S16 => Value::S16(h as i16),
        Ty::U16 => Value::U16(h as u16),
        Ty::S32 => Value::S32(h as i32),
        Ty::U32 => Value::U32(h as u32),
        Ty::S64 => Value::S64(h as i64),
        Ty::U64 => Value::U64(h),
        Ty::F32 => {
            let f = f32::from_bits(h as u32);
            Value::F32(if f.is_nan() { f32::NAN } else { f })
        }
        Ty::F64 => {
            let f = f64::from_bits(h);
            Value::F64(if f.is_nan() { f64::NAN } else { f })
        }
        Ty::Char => {
            // 0x10f800 scalar values: [0, 0xd800) and [0xe000, 0x110000).
            let c = (h % 0x10_f800) as u32;
            Value::Char(char::from_u32(if c >= 0xd800 { c + 0x800 } else { c }).unwrap_or('\0'))
        }
        _ => return None,
    })
}

/// FNV-1a over the bytes written to it.
struct Fnv(u64);

impl std::fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(())
    }
}

/// The constant transform guests add to integers.
pub const TRANSFORM_ADD: u64 = 0x1234_5678_9abc_def1;

/// The next Unicode scalar value, wrapping from U+10FFFF to U+0000 and skipping surrogates.
pub fn next_char(c: char) -> char {
    match c as u32 {
        0xd7ff => '\u{e000}',
        0x10ffff => '\0',
        x => char::from_u32(x + 1).unwrap_or('\0'),
    }
}

/// Swaps the case of ASCII letters.
pub fn swap_ascii_case(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphabetic() { (c as u8 ^ 0x20) as char } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_answers_are_valid_and_deterministic() {
        for i in 0..2000u32 {
            let args = [Value::U32(i), Value::F32(i as f32)];
            match hash_answer(&args, &Ty::Char) {
                Some(Value::Char(c)) => assert!(!(0xd800..0xe000).contains(&(c as u32))),
                other => panic!("{other:?}"),
            }
            assert_eq!(hash_answer(&args, &Ty::U64), hash_answer(&args, &Ty::U64));
            if let Some(Value::F64(f)) = hash_answer(&args, &Ty::F64) {
                assert!(!f.is_nan() || f.to_bits() == f64::NAN.to_bits());
            }
        }
        assert_eq!(hash_answer(&[], &Ty::String), None);
    }

    #[test]
    fn transforms_are_type_preserving_and_invertible_where_expected() {
        assert_eq!(next_char('\u{d7ff}'), '\u{e000}');
        assert_eq!(next_char('\u{10ffff}'), '\0');
        assert_eq!(swap_ascii_case("aZé1"), "Az\u{e9}1");
        let set = TypeSet::default();
        assert_eq!(transform(&set, &Ty::U8, &Value::U8(255)), Ok(Value::U8(255u8.wrapping_add(0xf1))));
        let l = Value::List(List::Values(vec![Value::Bool(true), Value::Bool(false), Value::Bool(false)]));
        assert_eq!(
            transform(&set, &Ty::List(Box::new(Ty::Bool)), &l),
            Ok(Value::List(List::Values(vec![Value::Bool(true), Value::Bool(true), Value::Bool(false)])))
        );
        assert!(transform(&set, &Ty::U8, &Value::String("x".into())).is_err());
    }
}
