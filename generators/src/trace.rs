//! The `realloc` calls the spec makes when values cross from one component into another, replayed against the
//! guests' bump allocator: the exact log a guest records, which the compose tier's trace cases expect.
//!
//! Lowering allocates in the order the spec's `lower_flat_values` and `store` visit a value: a spilled
//! parameter tuple first (`realloc(0, 0, alignment, elem_size)`), then, depth first and in field order, one
//! `store_list_into_range` allocation per list (before its elements) and the calls of
//! `store_string_into_range` per string. Which calls a string makes depends on the destination encoding, on the
//! form the string has in the source component ([`SrcForm`]) and on its content:
//!
//! | source → destination | calls |
//! |---|---|
//! | utf8 → utf8, utf16/latin1 → utf16, latin1 → latin1+utf16 | one copy: `(0, 0, align, size)` |
//! | utf16 or latin1 → utf8 (`store_string_to_utf8`) | `(0, 0, 1, n)`; at the first non-ASCII char a grow to the worst case (3n or 2n), then a shrink to the UTF-8 length if smaller |
//! | utf8 → utf16 (`store_utf8_to_utf16`) | `(0, 0, 2, 2n)`, then a shrink to the UTF-16 size if smaller |
//! | utf8 or utf16 → latin1+utf16 (`store_string_to_latin1_or_utf16`) | `(0, 0, 2, n)`; Latin-1 text shrinks to its length if shorter; at the first char above U+00FF a grow to `2n`, then a shrink to the UTF-16 size if smaller |
//! | latin1+utf16 held as UTF-16 → latin1+utf16 (`store_probably_utf16_to_latin1_or_utf16`) | `(0, 0, 2, 2n)`; if every char is below U+0100, a shrink to `n` bytes with alignment **1** |
//!
//! (`n` is the source length in code units.)
//!
//! wasmtime 48 is known to deviate in one call: its `string_compact_utf16_to_compact` (wasmtime-environ
//! `fact/trampoline.rs`) makes the Latin-1 shrink of `store_probably_utf16_to_latin1_or_utf16` with alignment 2.
//! A [`Lowering`] in [`Model::Wasmtime48`] predicts what wasmtime does there instead.

use std::collections::BTreeSet;

use component_layer::Value;

use crate::guest::{Encoding, ReallocMode, LOG_MAX, ZERO_SLOT};
use crate::ty::{Def, Ty, TypeSet, MAX_FLAT};
use crate::values::{check, Mismatch};

/// How a string is held in the memory of the component it comes from: the encoding and code units of the
/// spec's lifted string value `(s, encoding, tagged_code_units)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SrcForm {
    /// `utf8`: code units are bytes.
    Utf8,
    /// `utf16`.
    Utf16,
    /// `latin1+utf16`, held in Latin-1.
    Latin1,
    /// `latin1+utf16`, held in UTF-16 (tagged).
    CompactUtf16,
}

impl SrcForm {
    /// The form a string has in a component with encoding `enc` after the host lowered it there: a host string is
    /// UTF-8 to `store_string`, so `latin1+utf16` holds it in Latin-1 exactly when every char is below U+0100.
    pub fn from_host(enc: Encoding, s: &str) -> SrcForm {
        SrcForm::stored(enc, s, false)
    }

    /// The form of a string stored in `enc`; a `latin1+utf16` string Latin-1 could hold is in UTF-16 when `wide`
    /// (as [`crate::image::build_with`] stores it).
    pub fn stored(enc: Encoding, s: &str, wide: bool) -> SrcForm {
        match enc {
            Encoding::Utf8 => SrcForm::Utf8,
            Encoding::Utf16 => SrcForm::Utf16,
            Encoding::Latin1Utf16 if latin1(s) && !wide => SrcForm::Latin1,
            Encoding::Latin1Utf16 => SrcForm::CompactUtf16,
        }
    }

    /// The string's length in this form's code units.
    fn units(self, s: &str) -> u64 {
        match self {
            SrcForm::Utf8 => s.len() as u64,
            SrcForm::Utf16 | SrcForm::CompactUtf16 => s.encode_utf16().count() as u64,
            SrcForm::Latin1 => s.chars().count() as u64,
        }
    }
}

fn latin1(s: &str) -> bool {
    s.chars().all(|c| (c as u32) < 0x100)
}

/// A guest's bump allocator ([`ReallocMode::Good`]: aligned bumps, shrinks in place, grows by moving; or
/// [`ReallocMode::AtZero`]) and the calls made of it, as the guest logs them, from the start of an export call.
#[derive(Clone, Debug)]
pub struct Allocator {
    bump: u64,
    /// The call served at address 0.
    zero_at: Option<usize>,
    /// Every call, `[old ptr, old size, align, new size]`.
    pub calls: Vec<[u32; 4]>,
}

impl Allocator {
    /// A plain allocator whose heap starts at `heap`.
    pub fn new(heap: u32) -> Allocator {
        Allocator { bump: u64::from(heap), zero_at: None, calls: Vec::new() }
    }

    /// An allocator behaving as the guests' `realloc` in `mode` (only the modes that can be modelled without
    /// knowing the size of memory: good, or serving one call at address 0).
    pub fn with_mode(heap: u32, mode: ReallocMode) -> Result<Allocator, String> {
        let zero_at = match mode {
            ReallocMode::Good => None,
            ReallocMode::AtZero(k) => Some(k as usize),
            other => return Err(format!("realloc {other:?} is not modelled")),
        };
        Ok(Allocator { zero_at, ..Allocator::new(heap) })
    }

    /// `realloc(old, old_size, align, new)`: the pointer the guest returns.
    pub fn realloc(&mut self, old: u32, old_size: u32, align: u32, new: u32) -> Result<u32, String> {
        let n = self.calls.len();
        self.calls.push([old, old_size, align, new]);
        if (old | old_size) != 0 && new <= old_size {
            return Ok(old);
        }
        if self.zero_at == Some(n) && new <= ZERO_SLOT {
            return Ok(0);
        }
        let a = u64::from(align.max(1));
        let p = self.bump.div_ceil(a) * a;
        self.bump = p + u64::from(new);
        if self.bump > u64::from(u32::MAX) {
            return Err("the heap would pass 4 GiB".into());
        }
        Ok(p as u32)
    }

    /// The log as the guest returns it: `list<u32>` of four words per call, the first [`LOG_MAX`] calls.
    pub fn log(&self) -> Vec<u32> {
        self.calls.iter().take(LOG_MAX as usize).flatten().copied().collect()
    }
}

/// Whose string-storing algorithms a [`Lowering`] follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// The spec's (`definitions.py`).
    Spec,
    /// wasmtime 48's: the spec's but for its one known deviation, [`WASMTIME_48_DEVIATION`].
    Wasmtime48,
}

/// How wasmtime 48 deviates from the spec's string-storing algorithms, in one line.
pub const WASMTIME_48_DEVIATION: &str = "spec store_probably_utf16_to_latin1_or_utf16 shrinks to Latin-1 with \
     realloc alignment 1, wasmtime-environ 48 string_compact_utf16_to_compact with alignment 2";

impl Model {
    /// The alignment of the Latin-1 shrink in `store_probably_utf16_to_latin1_or_utf16`.
    fn compact_latin1_align(self) -> u32 {
        match self {
            Model::Spec => 1,
            Model::Wasmtime48 => 2,
        }
    }
}

/// Lowering values into a component: its string encoding, the form each string has in the component it comes
/// from, and the destination's allocator.
pub struct Lowering<'a> {
    /// The types.
    pub set: &'a TypeSet,
    /// The destination's string encoding.
    pub dst: Encoding,
    /// The form each string has in the source component.
    pub form: &'a dyn Fn(&str) -> SrcForm,
    /// The destination's `realloc`.
    pub alloc: &'a mut Allocator,
    /// Whose algorithms it follows.
    pub model: Model,
    /// The spec's string algorithms the lowering used (`store_string_copy`, `store_utf8_to_utf16`, …, with
    /// `+grow`/`+shrink` where it reallocated).
    pub algorithms: BTreeSet<&'static str>,
}

impl Lowering<'_> {
    /// `lower_flat_values` of arguments into a `canon lift`ed function: a tuple of more than
    /// [`MAX_FLAT`] flat values is spilled into memory allocated first.
    pub fn params(&mut self, params: &[Ty], args: &[Value]) -> Result<(), Mismatch> {
        if params.len() != args.len() {
            return Err(format!("{} arguments for {} parameters", args.len(), params.len()));
        }
        for (i, (t, v)) in params.iter().zip(args).enumerate() {
            check(self.set, t, v).map_err(|e| format!("arg {i}: {e}"))?;
        }
        let (layout, _) = self.set.record_layout(params.iter());
        if layout.flat.is_none_or(|f| f.len() > MAX_FLAT) {
            self.alloc.realloc(0, 0, layout.align, layout.size)?;
        }
        params.iter().zip(args).try_for_each(|(t, v)| self.store(t, v))
    }

    /// `store` of a value into memory the destination already has (a result through memory, a field): only
    /// what the value points to is allocated.
    pub fn value(&mut self, ty: &Ty, v: &Value) -> Result<(), Mismatch> {
        check(self.set, ty, v)?;
        self.store(ty, v)
    }

    fn store(&mut self, ty: &Ty, v: &Value) -> Result<(), Mismatch> {
        let set = self.set;
        match (set.resolve(ty), v) {
            (Ty::String, Value::String(s)) => self.string(s),
            (Ty::List(elem), Value::List(l)) => {
                let lay = set.layout(elem);
                let bytes = u32::try_from(u64::from(lay.size) * l.len() as u64).map_err(|_| "list too long")?;
                self.alloc.realloc(0, 0, lay.align, bytes)?;
                l.iter().try_for_each(|e| self.store(elem, &e))
            }
            (Ty::Tuple(ts), Value::Tuple(vs)) => ts.iter().zip(vs).try_for_each(|(t, v)| self.store(t, v)),
            (Ty::Option(t), Value::Option(Some(p))) => self.store(t, p),
            (Ty::Result(Some(t), _), Value::Result(Ok(Some(p))))
            | (Ty::Result(_, Some(t)), Value::Result(Err(Some(p)))) => self.store(t, p),
            (Ty::Named(i), v) => match (&set.defs[*i].1, v) {
                (Def::Record(fs), Value::Record(vs)) => {
                    fs.iter().zip(vs).try_for_each(|((_, t), (_, v))| self.store(t, v))
                }
                (Def::Variant(cs), Value::Variant(name, Some(p))) => {
                    match cs.iter().find(|(n, _)| **n == **name).and_then(|(_, t)| t.as_ref()) {
                        Some(t) => self.store(t, p),
                        None => Ok(()),
                    }
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// `store_string_into_range`.
    fn string(&mut self, s: &str) -> Result<(), Mismatch> {
        let form = (self.form)(s);
        let n = u32::try_from(form.units(s)).ok().filter(|n| *n < 1 << 29).ok_or("string too long")?;
        let utf8 = s.len() as u32;
        let utf16_bytes = 2 * (s.encode_utf16().count() as u32);
        let a = &mut *self.alloc;
        let algorithm = match (self.dst, form) {
            (Encoding::Utf8, SrcForm::Utf8) => copy(a, 1, 1, n)?,
            (Encoding::Utf8, SrcForm::Utf16 | SrcForm::CompactUtf16) => {
                ["utf16_to_utf8", "utf16_to_utf8+grow", "utf16_to_utf8+grow+shrink"][to_utf8(a, s, n, 3 * n, utf8)?]
            }
            (Encoding::Utf8, SrcForm::Latin1) => {
                ["latin1_to_utf8", "latin1_to_utf8+grow", "latin1_to_utf8+grow+shrink"][to_utf8(a, s, n, 2 * n, utf8)?]
            }
            (Encoding::Utf16, SrcForm::Utf8) => {
                let p = a.realloc(0, 0, 2, 2 * n)?;
                if utf16_bytes < 2 * n {
                    a.realloc(p, 2 * n, 2, utf16_bytes)?;
                    "utf8_to_utf16+shrink"
                } else {
                    "utf8_to_utf16"
                }
            }
            (Encoding::Utf16, _) => copy(a, 2, 2, n)?,
            (Encoding::Latin1Utf16, SrcForm::Utf8 | SrcForm::Utf16) => {
                let p = a.realloc(0, 0, 2, n)?;
                if latin1(s) {
                    let len = s.chars().count() as u32;
                    if len < n {
                        a.realloc(p, n, 2, len)?;
                        "to_latin1_or_utf16/latin1+shrink"
                    } else {
                        "to_latin1_or_utf16/latin1"
                    }
                } else {
                    let p = a.realloc(p, n, 2, 2 * n)?;
                    if 2 * n > utf16_bytes {
                        a.realloc(p, 2 * n, 2, utf16_bytes)?;
                        "to_latin1_or_utf16/utf16+shrink"
                    } else {
                        "to_latin1_or_utf16/utf16"
                    }
                }
            }
            (Encoding::Latin1Utf16, SrcForm::Latin1) => copy(a, 1, 2, n)?,
            (Encoding::Latin1Utf16, SrcForm::CompactUtf16) => {
                let p = a.realloc(0, 0, 2, 2 * n)?;
                if latin1(s) {
                    a.realloc(p, 2 * n, self.model.compact_latin1_align(), n)?;
                    "probably_utf16/latin1"
                } else {
                    "probably_utf16/utf16"
                }
            }
        };
        self.algorithms.insert(algorithm);
        Ok(())
    }
}

/// `store_string_copy`: one allocation of the final size.
fn copy(a: &mut Allocator, unit: u32, align: u32, n: u32) -> Result<&'static str, Mismatch> {
    a.realloc(0, 0, align, unit * n)?;
    Ok("copy")
}

/// `store_string_to_utf8`: the source length, then (at the first non-ASCII char) the worst case, then the
/// UTF-8 length if smaller. Returns how many reallocations followed the first allocation.
fn to_utf8(a: &mut Allocator, s: &str, n: u32, worst: u32, utf8: u32) -> Result<usize, Mismatch> {
    let p = a.realloc(0, 0, 1, n)?;
    if s.is_ascii() {
        return Ok(0);
    }
    let p = a.realloc(p, n, 1, worst)?;
    if worst > utf8 {
        a.realloc(p, worst, 1, utf8)?;
        return Ok(2);
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guest::HEAP_BASE;

    fn calls(dst: Encoding, form: SrcForm, s: &str) -> Vec<[u32; 4]> {
        calls_in(Model::Spec, dst, form, s)
    }

    fn calls_in(model: Model, dst: Encoding, form: SrcForm, s: &str) -> Vec<[u32; 4]> {
        let set = TypeSet::default();
        let mut alloc = Allocator::new(HEAP_BASE);
        let mut l = Lowering { set: &set, dst, form: &|_| form, alloc: &mut alloc, model, algorithms: BTreeSet::new() };
        l.value(&Ty::String, &Value::String(s.into())).unwrap();
        alloc.calls
    }

    const H: u32 = HEAP_BASE;

    #[test]
    fn string_traces_follow_the_spec() {
        // "aé": 3 UTF-8 bytes, 2 UTF-16 units, 2 Latin-1 bytes.
        assert_eq!(calls(Encoding::Utf8, SrcForm::Utf8, "aé"), [[0, 0, 1, 3]]);
        assert_eq!(calls(Encoding::Utf8, SrcForm::Utf16, "aé"), [[0, 0, 1, 2], [H, 2, 1, 6], [H + 2, 6, 1, 3]]);
        assert_eq!(calls(Encoding::Utf8, SrcForm::Latin1, "aé"), [[0, 0, 1, 2], [H, 2, 1, 4], [H + 2, 4, 1, 3]]);
        assert_eq!(calls(Encoding::Utf8, SrcForm::Utf16, "ab"), [[0, 0, 1, 2]]);
        assert_eq!(calls(Encoding::Utf16, SrcForm::Utf8, "aé"), [[0, 0, 2, 6], [H, 6, 2, 4]]);
        assert_eq!(calls(Encoding::Utf16, SrcForm::Utf8, "ab"), [[0, 0, 2, 4]]);
        assert_eq!(calls(Encoding::Utf16, SrcForm::Latin1, "aé"), [[0, 0, 2, 4]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::Utf8, "aé"), [[0, 0, 2, 3], [H, 3, 2, 2]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::Utf16, "aé"), [[0, 0, 2, 2]]);
        // "a日": 4 UTF-8 bytes, 2 UTF-16 units.
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::Utf8, "a日"), [[0, 0, 2, 4], [H, 4, 2, 8], [H + 4, 8, 2, 4]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::Utf16, "a日"), [[0, 0, 2, 2], [H, 2, 2, 4]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::Latin1, "aé"), [[0, 0, 2, 2]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::CompactUtf16, "aé"), [[0, 0, 2, 4], [H, 4, 1, 2]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::CompactUtf16, "a日"), [[0, 0, 2, 4]]);
        assert_eq!(calls(Encoding::Latin1Utf16, SrcForm::CompactUtf16, ""), [[0, 0, 2, 0], [H, 0, 1, 0]]);
    }

    #[test]
    fn wasmtime_48_shrinks_compact_utf16_to_latin1_with_alignment_2() {
        let (dst, form) = (Encoding::Latin1Utf16, SrcForm::CompactUtf16);
        assert_eq!(calls_in(Model::Wasmtime48, dst, form, "aé"), [[0, 0, 2, 4], [H, 4, 2, 2]]);
        assert_eq!(calls_in(Model::Wasmtime48, dst, form, ""), [[0, 0, 2, 0], [H, 0, 2, 0]]);
        assert_eq!(calls_in(Model::Wasmtime48, dst, form, "a日"), calls(dst, form, "a日"), "UTF-16 stays as it is");
        for (dst, form) in [(Encoding::Utf8, SrcForm::Latin1), (Encoding::Latin1Utf16, SrcForm::Utf16)] {
            assert_eq!(calls_in(Model::Wasmtime48, dst, form, "aé"), calls(dst, form, "aé"), "no other deviation");
        }
    }

    #[test]
    fn a_block_served_at_zero_is_resized_as_a_block() {
        let set = TypeSet::default();
        let mut alloc = Allocator::with_mode(HEAP_BASE, ReallocMode::AtZero(0)).unwrap();
        let mut l = Lowering {
            set: &set,
            dst: Encoding::Utf8,
            form: &|_| SrcForm::Utf16,
            alloc: &mut alloc,
            model: Model::Spec,
            algorithms: BTreeSet::new(),
        };
        l.value(&Ty::String, &Value::String("aé".into())).unwrap();
        assert_eq!(alloc.calls, [[0, 0, 1, 2], [0, 2, 1, 6], [H, 6, 1, 3]]);
        assert!(Allocator::with_mode(HEAP_BASE, ReallocMode::AtEnd(0)).is_err());
    }

    #[test]
    fn spilled_parameters_are_allocated_before_what_they_point_to() {
        let set = TypeSet::default();
        let params = vec![Ty::String; 9];
        let args: Vec<Value> = (0..9).map(|i| Value::String("x".repeat(i))).collect();
        let mut alloc = Allocator::new(HEAP_BASE);
        let mut l = Lowering {
            set: &set,
            dst: Encoding::Utf8,
            form: &|_| SrcForm::Utf8,
            alloc: &mut alloc,
            model: Model::Spec,
            algorithms: BTreeSet::new(),
        };
        l.params(&params, &args).unwrap();
        assert!(l.params(&[Ty::String], &[Value::U8(1)]).is_err(), "a value that is not of its type");
        assert_eq!(alloc.calls[0], [0, 0, 4, 72]);
        assert_eq!(alloc.calls[1..], (0..9).map(|i| [0, 0, 1, i]).collect::<Vec<_>>()[..]);
    }
}
