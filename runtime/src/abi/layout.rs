//! Canonical ABI layout rules: alignment, element size, discriminant size and flattening.
//!
//! These are the spec's `alignment`, `elem_size`, `discriminant_type`, `flatten_type` and `join`
//! (CanonicalABI.md §Alignment, §Element Size, §Flattening), written as small functions over already-computed
//! child layouts so that [`super::types::TypeTable`] can compute every type's layout once, when the type is
//! interned, and a call only reads the results.

use smallvec::SmallVec;

/// `MAX_FLAT_PARAMS`: more flat parameters than this are passed through memory.
pub const MAX_FLAT_PARAMS: usize = 16;
/// `MAX_FLAT_RESULTS`: more flat results than this are returned through memory.
pub const MAX_FLAT_RESULTS: usize = 1;
/// `MAX_STRING_BYTE_LENGTH` and `MAX_LIST_BYTE_LENGTH`: 2^28 − 1.
pub const MAX_BYTE_LENGTH: u64 = (1 << 28) - 1;
/// The `latin1+utf16` tag bit in a 32-bit string length.
pub const UTF16_TAG: u32 = 1 << 31;

/// A core value type in a flattened signature.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FlatType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

/// The flattening of a type, or `None` when it has more than [`MAX_FLAT_PARAMS`] core values (then only the
/// fact that it is too long matters: such values always travel through memory).
pub type Flat = Option<SmallVec<[FlatType; MAX_FLAT_PARAMS]>>;

/// The spec's `join`: the core type that can carry both `a` and `b` by bit reinterpretation.
pub fn join(a: FlatType, b: FlatType) -> FlatType {
    use FlatType::*;
    match (a, b) {
        _ if a == b => a,
        (I32, F32) | (F32, I32) => I32,
        _ => I64,
    }
}

/// Appends `more` to `flat`, giving `None` once the total exceeds [`MAX_FLAT_PARAMS`].
pub fn flat_concat(flat: &mut Flat, more: &Flat) {
    match (flat.as_mut(), more) {
        (Some(f), Some(m)) if f.len() + m.len() <= MAX_FLAT_PARAMS => f.extend_from_slice(m),
        _ => *flat = None,
    }
}

/// `align_to`, in 64 bits so that no sum of sizes can overflow.
pub fn align_to(offset: u64, align: u32) -> u64 {
    let a = u64::from(align);
    offset.div_ceil(a) * a
}

/// `discriminant_type` as a byte size: 1, 2 or 4 bytes for up to 2^8, 2^16 and more cases.
pub fn discriminant_size(cases: usize) -> u32 {
    if cases <= 1 << 8 {
        1
    } else if cases <= 1 << 16 {
        2
    } else {
        4
    }
}

/// `elem_size_flags`/`alignment_flags`: 1, 2 or 4 bytes for up to 8, 16 and 32 labels.
pub fn flags_size(labels: usize) -> u32 {
    if labels <= 8 {
        1
    } else if labels <= 16 {
        2
    } else {
        4
    }
}

/// The memory layout and flattening of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `elem_size`, at most 2^32 (types whose size exceeds that cannot be validated by wasmparser anyway; the
    /// planner rejects them rather than overflow).
    pub size: u32,
    /// `alignment`: 1, 2, 4 or 8.
    pub align: u32,
    /// `flatten_type`.
    pub flat: Flat,
}

impl Layout {
    pub(crate) fn scalar(size: u32, flat: FlatType) -> Layout {
        Layout { size, align: size, flat: Some(SmallVec::from_slice(&[flat])) }
    }
}

/// Lays out fields in sequence (`elem_size_record`, `alignment_record`, `flatten_record`): returns the record
/// layout and each field's offset, or `None` if the size does not fit in 32 bits.
pub fn record<'a>(fields: impl IntoIterator<Item = &'a Layout>) -> Option<(Layout, Vec<u32>)> {
    let mut size = 0u64;
    let mut align = 1u32;
    let mut flat: Flat = Some(SmallVec::new());
    let mut offsets = Vec::new();
    for f in fields {
        size = align_to(size, f.align);
        offsets.push(u32::try_from(size).ok()?);
        size += u64::from(f.size);
        align = align.max(f.align);
        flat_concat(&mut flat, &f.flat);
    }
    let size = u32::try_from(align_to(size, align)).ok()?;
    Some((Layout { size, align, flat }, offsets))
}

/// Lays out a variant (`elem_size_variant`, `alignment_variant`, `flatten_variant`): returns the layout and the
/// payload offset, or `None` if the size does not fit in 32 bits.
pub fn variant<'a>(cases: impl IntoIterator<Item = Option<&'a Layout>> + Clone) -> Option<(Layout, u32)> {
    let n = cases.clone().into_iter().count();
    let disc = discriminant_size(n);
    let mut max_align = 1u32;
    let mut max_size = 0u32;
    let mut payload: Flat = Some(SmallVec::new());
    for c in cases.into_iter().flatten() {
        max_align = max_align.max(c.align);
        max_size = max_size.max(c.size);
        match (&mut payload, &c.flat) {
            (Some(p), Some(cf)) => {
                for (i, t) in cf.iter().enumerate() {
                    if i < p.len() {
                        p[i] = join(p[i], *t);
                    } else {
                        p.push(*t);
                    }
                }
                if p.len() + 1 > MAX_FLAT_PARAMS {
                    payload = None;
                }
            }
            _ => payload = None,
        }
    }
    let payload_offset = align_to(u64::from(disc), max_align);
    let align = disc.max(max_align);
    let size = u32::try_from(align_to(payload_offset + u64::from(max_size), align)).ok()?;
    let flat = payload.map(|p| {
        let mut f = SmallVec::new();
        f.push(FlatType::I32);
        f.extend_from_slice(&p);
        f
    });
    Some((Layout { size, align, flat }, u32::try_from(payload_offset).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use FlatType::*;

    fn l(size: u32, flat: FlatType) -> Layout {
        Layout::scalar(size, flat)
    }

    #[test]
    fn join_follows_the_spec() {
        assert_eq!(join(I32, I32), I32);
        assert_eq!(join(I32, F32), I32);
        assert_eq!(join(F32, I32), I32);
        assert_eq!(join(F32, F32), F32);
        assert_eq!(join(F32, I64), I64);
        assert_eq!(join(F64, I32), I64);
        assert_eq!(join(F64, F32), I64);
        assert_eq!(join(F64, F64), F64);
    }

    #[test]
    fn record_layout_pads_fields_and_tail() {
        // record { a: u8, b: u64, c: u16 } -> offsets 0, 8, 16; size 24, align 8
        let (lay, offs) = record([&l(1, I32), &l(8, I64), &l(2, I32)]).unwrap();
        assert_eq!(offs, vec![0, 8, 16]);
        assert_eq!((lay.size, lay.align), (24, 8));
        assert_eq!(lay.flat.unwrap().as_slice(), &[I32, I64, I32]);
    }

    #[test]
    fn variant_layout_joins_payloads() {
        // variant { a(f32), b(s64), c } -> disc u8, payload at 8, flat [i32, i64]
        let (lay, off) = variant([Some(&l(4, F32)), Some(&l(8, I64)), None]).unwrap();
        assert_eq!(off, 8);
        assert_eq!((lay.size, lay.align), (16, 8));
        assert_eq!(lay.flat.unwrap().as_slice(), &[I32, I64]);
        // option<f32> -> [i32, f32]
        let (lay, off) = variant([None, Some(&l(4, F32))]).unwrap();
        assert_eq!((off, lay.size, lay.align), (4, 8, 4));
        assert_eq!(lay.flat.unwrap().as_slice(), &[I32, F32]);
        // variant { a(f64), b(u32) } -> [i32, i64]
        let (lay, _) = variant([Some(&l(8, F64)), Some(&l(4, I32))]).unwrap();
        assert_eq!(lay.flat.unwrap().as_slice(), &[I32, I64]);
    }

    #[test]
    fn discriminant_and_flags_sizes() {
        assert_eq!(discriminant_size(1), 1);
        assert_eq!(discriminant_size(256), 1);
        assert_eq!(discriminant_size(257), 2);
        assert_eq!(discriminant_size(65536), 2);
        assert_eq!(discriminant_size(65537), 4);
        assert_eq!(flags_size(8), 1);
        assert_eq!(flags_size(9), 2);
        assert_eq!(flags_size(16), 2);
        assert_eq!(flags_size(17), 4);
        assert_eq!(flags_size(32), 4);
        // enum of 257 cases: 2-byte discriminant, size 2, align 2
        let cases: Vec<Option<&Layout>> = vec![None; 257];
        let (lay, _) = variant(cases).unwrap();
        assert_eq!((lay.size, lay.align), (2, 2));
    }

    #[test]
    fn flattening_overflows_to_none() {
        let fields: Vec<Layout> = (0..17).map(|_| l(4, I32)).collect();
        let (lay, _) = record(fields.iter()).unwrap();
        assert!(lay.flat.is_none());
        let fields: Vec<Layout> = (0..16).map(|_| l(4, I32)).collect();
        let (lay, _) = record(fields.iter()).unwrap();
        assert_eq!(lay.flat.unwrap().len(), 16);
    }
}
