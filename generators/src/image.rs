//! Memory images of values: what a value of a type looks like in linear memory at a given address, built on the
//! host from the spec's layout rules. Lift probes copy an image into a guest and let the runtime lift it, so the
//! expected value is known without trusting any runtime's lowering; fault cases corrupt one [`Site`] of an image
//! so that lifting must trap.

use component_layer::Value;

use crate::guest::Encoding;
use crate::ty::{disc_size, Def, Ty, TypeSet};

/// A place in an image where a corruption makes lifting trap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// A discriminant of a type with `cases` cases, `size` bytes wide.
    Discriminant { offset: u32, size: u32, cases: u32 },
    /// A `char`.
    Char { offset: u32 },
    /// A string's (ptr, len) pair; `bytes` is the encoded data's absolute address and length in bytes, `align`
    /// its required alignment, `enc` how it is encoded (`None` for Latin-1, which cannot be invalid).
    String { offset: u32, data: u32, bytes: u32, align: u32, utf16: Option<bool> },
    /// A list's (ptr, len) pair whose elements need alignment `align`.
    List { offset: u32, align: u32 },
    /// A `bool` holding `value` (any nonzero byte is `true`).
    Bool { offset: u32, value: bool },
    /// Flags of `labels` labels in `size` bytes (bits beyond the labels are ignored).
    Flags { offset: u32, size: u32, labels: u32 },
}

/// An image and the corruptible sites in it.
#[derive(Clone, Debug, Default)]
pub struct Image {
    /// The bytes; `bytes[0]` lives at the base address.
    pub bytes: Vec<u8>,
    /// Corruptible places (offsets relative to the base).
    pub sites: Vec<Site>,
}

/// The largest image [`build`] makes, in bytes: far above what generated values need, and a bound on what a
/// value an engine returned can make the host allocate.
pub const MAX_IMAGE: u64 = 1 << 28;

/// Builds the image of `value` (of type `ty`) placed at address `base`, with strings in `enc` (`latin1+utf16`
/// strings in Latin-1 wherever they can be). A value that is not of the type ([`crate::values::check`]) or an
/// image that would not fit in 32-bit memory from `base` or exceed [`MAX_IMAGE`] is an error.
pub fn build(set: &TypeSet, ty: &Ty, value: &Value, base: u32, enc: Encoding) -> Result<Image, String> {
    build_with(set, ty, value, base, enc, &|_| false)
}

/// [`build`], storing a `latin1+utf16` string that Latin-1 could hold in UTF-16 instead wherever `wide` says so
/// (both are valid encodings of it; a lifter must accept either).
pub fn build_with(
    set: &TypeSet,
    ty: &Ty,
    value: &Value,
    base: u32,
    enc: Encoding,
    wide: &dyn Fn(&str) -> bool,
) -> Result<Image, String> {
    crate::values::check(set, ty, value)?;
    let mut img = Image::default();
    let mut w = Writer { set, base, enc, wide, img: &mut img };
    let root = w.alloc(u64::from(set.layout(ty).size), 1)?;
    w.store(ty, value, root)?;
    Ok(img)
}

struct Writer<'a> {
    set: &'a TypeSet,
    base: u32,
    enc: Encoding,
    wide: &'a dyn Fn(&str) -> bool,
    img: &'a mut Image,
}

impl Writer<'_> {
    fn put(&mut self, off: u32, bytes: &[u8]) -> Result<(), String> {
        let o = off as usize;
        let dst = o.checked_add(bytes.len()).and_then(|end| self.img.bytes.get_mut(o..end));
        dst.ok_or_else(|| format!("write of {} bytes at offset {off} outside the image", bytes.len()))?
            .copy_from_slice(bytes);
        Ok(())
    }

    /// Appends `n` zero bytes aligned to `align`; returns the offset.
    fn alloc(&mut self, n: u64, align: u32) -> Result<u32, String> {
        let a = u64::from(align.max(1));
        let start = (self.img.bytes.len() as u64).div_ceil(a) * a;
        let end = start + n;
        if end > MAX_IMAGE || u64::from(self.base) + end > 1 << 32 {
            return Err(format!(
                "the image would need {end} bytes from {:#x}: more than {MAX_IMAGE} or past 4 GiB",
                self.base
            ));
        }
        self.img.bytes.resize(end as usize, 0);
        Ok(start as u32)
    }

    /// The absolute address of an image offset (in range: [`Writer::alloc`] keeps the image below 4 GiB).
    fn addr(&self, at: u32) -> u32 {
        self.base.wrapping_add(at)
    }

    fn store(&mut self, ty: &Ty, v: &Value, off: u32) -> Result<(), String> {
        let set = self.set;
        match (set.resolve(ty), v) {
            (Ty::Bool, Value::Bool(b)) => {
                self.img.sites.push(Site::Bool { offset: off, value: *b });
                self.put(off, &[u8::from(*b)])
            }
            (Ty::U8, Value::U8(x)) => self.put(off, &[*x]),
            (Ty::S8, Value::S8(x)) => self.put(off, &[*x as u8]),
            (Ty::U16, Value::U16(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::S16, Value::S16(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::U32 | Ty::Own(_) | Ty::Borrow(_), Value::U32(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::S32, Value::S32(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::U64, Value::U64(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::S64, Value::S64(x)) => self.put(off, &x.to_le_bytes()),
            (Ty::F32, Value::F32(x)) => self.put(off, &x.to_bits().to_le_bytes()),
            (Ty::F64, Value::F64(x)) => self.put(off, &x.to_bits().to_le_bytes()),
            (Ty::Char, Value::Char(c)) => {
                self.img.sites.push(Site::Char { offset: off });
                self.put(off, &(*c as u32).to_le_bytes())
            }
            (Ty::String, Value::String(s)) => self.string(s, off),
            (Ty::List(elem), Value::List(l)) => {
                let lay = set.layout(elem);
                let len = u32::try_from(l.len()).map_err(|_| format!("a list of {} elements", l.len()))?;
                let at = self.alloc(u64::from(lay.size) * u64::from(len), lay.align)?;
                for (k, e) in l.iter().enumerate() {
                    // In range: the elements were allocated above.
                    self.store(elem, &e, at + k as u32 * lay.size)?;
                }
                self.put(off, &self.addr(at).to_le_bytes())?;
                self.put(off + 4, &len.to_le_bytes())?;
                self.img.sites.push(Site::List { offset: off, align: lay.align });
                Ok(())
            }
            (Ty::Tuple(ts), Value::Tuple(vs)) => {
                let (_, offs) = set.record_layout(ts.iter());
                ts.iter().zip(vs).zip(offs).try_for_each(|((t, v), o)| self.store(t, v, off + o))
            }
            (Ty::Option(t), Value::Option(p)) => {
                let (_, po) = set.variant_layout(&[None, Some(t)]);
                self.disc(off, 2, u32::from(p.is_some()))?;
                match p {
                    Some(p) => self.store(t, p, off + po),
                    None => Ok(()),
                }
            }
            (Ty::Result(ok, err), Value::Result(r)) => {
                let (_, po) = set.variant_layout(&[ok.as_deref(), err.as_deref()]);
                let (case, t, p) = match r {
                    Ok(p) => (0, ok, p),
                    Err(p) => (1, err, p),
                };
                self.disc(off, 2, case)?;
                match (t, p) {
                    (Some(t), Some(p)) => self.store(t, p, off + po),
                    _ => Ok(()),
                }
            }
            (Ty::Named(n), v) => match (&set.defs[*n].1, v) {
                (Def::Record(fs), Value::Record(vs)) => {
                    let (_, offs) = set.record_layout(fs.iter().map(|(_, t)| t));
                    fs.iter().zip(vs).zip(offs).try_for_each(|(((_, t), (_, v)), o)| self.store(t, v, off + o))
                }
                (Def::Variant(cs), Value::Variant(name, p)) => {
                    let cases: Vec<Option<&Ty>> = cs.iter().map(|(_, t)| t.as_ref()).collect();
                    let (_, po) = set.variant_layout(&cases);
                    let i = cs.iter().position(|(n, _)| **n == **name).ok_or("unknown case")?;
                    self.disc(off, cs.len() as u32, i as u32)?;
                    match (&cs[i].1, p) {
                        (Some(t), Some(p)) => self.store(t, p, off + po),
                        _ => Ok(()),
                    }
                }
                (Def::Enum(cs), Value::Enum(name)) => {
                    let i = cs.iter().position(|c| **c == **name).ok_or("unknown case")?;
                    self.disc(off, cs.len() as u32, i as u32)
                }
                (Def::Flags(ls), Value::Flags(set_flags)) => {
                    let mut bits = 0u32;
                    for (i, l) in ls.iter().enumerate().take(32) {
                        if set_flags.iter().any(|f| **f == **l) {
                            bits |= 1 << i;
                        }
                    }
                    let size = set.layout(ty).size;
                    self.put(off, bits.to_le_bytes().get(..size as usize).ok_or("flags wider than 4 bytes")?)?;
                    self.img.sites.push(Site::Flags { offset: off, size, labels: ls.len() as u32 });
                    Ok(())
                }
                _ => Err(format!("no image for {} as {}", crate::values::describe_kind(v), set.wit(ty))),
            },
            _ => Err(format!("no image for {} as {}", crate::values::describe_kind(v), set.wit(ty))),
        }
    }

    fn string(&mut self, s: &str, off: u32) -> Result<(), String> {
        let too_long = || format!("a string of {} bytes", s.len());
        let latin1 = s.chars().all(|c| (c as u32) < 256);
        let (data, units, align, utf16) = match self.enc {
            Encoding::Utf8 => (s.as_bytes().to_vec(), u32::try_from(s.len()).map_err(|_| too_long())?, 1, Some(false)),
            Encoding::Utf16 => {
                let d = utf16(s);
                let n = u32::try_from(d.len() / 2).map_err(|_| too_long())?;
                (d, n, 2, Some(true))
            }
            Encoding::Latin1Utf16 if latin1 && !(self.wide)(s) => {
                let n = u32::try_from(s.chars().count()).map_err(|_| too_long())?;
                (s.chars().map(|c| c as u32 as u8).collect(), n, 2, None)
            }
            Encoding::Latin1Utf16 => {
                let d = utf16(s);
                let n = u32::try_from(d.len() / 2).ok().filter(|n| *n < 1 << 31).ok_or_else(too_long)?;
                (d, n | (1 << 31), 2, Some(true))
            }
        };
        let at = self.alloc(data.len() as u64, align)?;
        self.put(at, &data)?;
        self.put(off, &self.addr(at).to_le_bytes())?;
        self.put(off + 4, &units.to_le_bytes())?;
        self.img.sites.push(Site::String { offset: off, data: self.addr(at), bytes: data.len() as u32, align, utf16 });
        Ok(())
    }

    fn disc(&mut self, off: u32, cases: u32, value: u32) -> Result<(), String> {
        let size = disc_size(cases as usize);
        self.put(off, value.to_le_bytes().get(..size as usize).ok_or("discriminant wider than 4 bytes")?)?;
        self.img.sites.push(Site::Discriminant { offset: off, size, cases });
        Ok(())
    }
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// Rewrites canonical encodings in `img` into other encodings that lift to the same value, as a guest may
/// produce them: every `true` bool becomes the nonzero byte `noise | 1` (a lifter must test `!= 0`, not `== 1` or
/// `> 0` as a signed byte), and every flags value gets the bits above its labels set from `noise` (a lifter must
/// ignore them).
pub fn add_noncanonical(img: &mut Image, noise: u8) {
    for site in img.sites.clone() {
        match site {
            Site::Bool { offset, value: true } => {
                if let Some(b) = img.bytes.get_mut(offset as usize) {
                    *b = noise | 1;
                }
            }
            Site::Flags { offset, size, labels } if size <= 4 && labels < size * 8 => {
                let mut word = [0u8; 4];
                let o = offset as usize;
                let Some(cur) = o.checked_add(size as usize).and_then(|end| img.bytes.get(o..end)) else { continue };
                word[..size as usize].copy_from_slice(cur);
                let spread = u32::from(noise).wrapping_mul(0x0101_0101);
                let high = spread & !((1u64 << labels) - 1) as u32;
                let v = u32::from_le_bytes(word) | high;
                img.bytes[o..o + size as usize].copy_from_slice(&v.to_le_bytes()[..size as usize]);
            }
            _ => {}
        }
    }
}

/// A corruption of one site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// Discriminant set to the number of cases (out of range).
    BadDiscriminant,
    /// A char set to a surrogate.
    Surrogate,
    /// A char set beyond U+10FFFF.
    CharTooBig,
    /// Invalid UTF-8 (or an unpaired surrogate in UTF-16) in a non-empty string.
    InvalidString,
    /// A pointer moved past the end of memory.
    OutOfBounds,
    /// A pointer moved off its alignment.
    Misaligned,
    /// A length so large the byte length exceeds the canonical ABI limit.
    HugeLength,
}

impl Corruption {
    /// The corruptions applicable to a site.
    pub fn applicable(site: &Site) -> Vec<Corruption> {
        match site {
            // A discriminant can only be out of range if its width has room for a value past the last case
            // (an enum of exactly 256 cases uses every byte value).
            Site::Discriminant { size, cases, .. }
                if u64::from(*cases) < 1u64.checked_shl(size.saturating_mul(8)).unwrap_or(u64::MAX) =>
            {
                vec![Corruption::BadDiscriminant]
            }
            Site::Discriminant { .. } => Vec::new(),
            Site::Char { .. } => vec![Corruption::Surrogate, Corruption::CharTooBig],
            Site::String { bytes, align, utf16, .. } => {
                let mut v = vec![Corruption::OutOfBounds, Corruption::HugeLength];
                if *align > 1 {
                    v.push(Corruption::Misaligned);
                }
                if *bytes > 0 && utf16.is_some() {
                    v.push(Corruption::InvalidString);
                }
                v
            }
            Site::List { align, .. } => {
                let mut v = vec![Corruption::OutOfBounds, Corruption::HugeLength];
                if *align > 1 {
                    v.push(Corruption::Misaligned);
                }
                v
            }
            // Every byte is a valid bool and every bit pattern valid flags: nothing to corrupt.
            Site::Bool { .. } | Site::Flags { .. } => Vec::new(),
        }
    }

    /// Applies the corruption to an image placed at `base`.
    pub fn apply(self, img: &mut Image, site: &Site, base: u32) {
        // Sites come from `build`; one that does not fit the image is left alone.
        let put = |img: &mut Image, off: u32, bytes: &[u8]| {
            let o = off as usize;
            if let Some(dst) = o.checked_add(bytes.len()).and_then(|end| img.bytes.get_mut(o..end)) {
                dst.copy_from_slice(bytes);
            }
        };
        let get32 = |img: &Image, off: u32| {
            let o = off as usize;
            let word = o.checked_add(4).and_then(|end| img.bytes.get(o..end));
            u32::from_le_bytes(word.and_then(|w| w.try_into().ok()).unwrap_or_default())
        };
        match (self, site) {
            (Corruption::BadDiscriminant, Site::Discriminant { offset, size, cases }) => {
                if let Some(bytes) = cases.to_le_bytes().get(..*size as usize) {
                    put(img, *offset, bytes)
                }
            }
            (Corruption::Surrogate, Site::Char { offset }) => put(img, *offset, &0xd800u32.to_le_bytes()),
            (Corruption::CharTooBig, Site::Char { offset }) => put(img, *offset, &0x11_0000u32.to_le_bytes()),
            (Corruption::InvalidString, Site::String { data, bytes, utf16, .. }) => {
                let Some(at) = data.checked_sub(base) else { return };
                if *utf16 == Some(true) {
                    // An unpaired high surrogate as the last code unit.
                    if let Some(last) =
                        at.checked_add(*bytes).and_then(|end| end.checked_sub(2)).filter(|_| *bytes >= 2)
                    {
                        put(img, last, &0xd800u16.to_le_bytes());
                    }
                } else {
                    put(img, at, &[0xff]);
                }
            }
            (Corruption::OutOfBounds, Site::String { offset, .. } | Site::List { offset, .. }) => {
                put(img, *offset, &0xffff_fff0u32.to_le_bytes())
            }
            (Corruption::Misaligned, Site::String { offset, .. } | Site::List { offset, .. }) => {
                let p = get32(img, *offset);
                put(img, *offset, &(p | 1).to_le_bytes());
            }
            (Corruption::HugeLength, Site::String { offset, .. } | Site::List { offset, .. }) => {
                put(img, offset.saturating_add(4), &0x7fff_ffffu32.to_le_bytes())
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_discriminants_cannot_be_corrupted() {
        let full = Site::Discriminant { offset: 0, size: 1, cases: 256 };
        assert!(Corruption::applicable(&full).is_empty());
        let room = Site::Discriminant { offset: 0, size: 1, cases: 255 };
        assert_eq!(Corruption::applicable(&room).len(), 1);
        let wide = Site::Discriminant { offset: 0, size: 2, cases: 257 };
        assert_eq!(Corruption::applicable(&wide).len(), 1);
        // A site no image has is answered too.
        let odd = Site::Discriminant { offset: 0, size: 8, cases: 3 };
        assert_eq!(Corruption::applicable(&odd).len(), 1);
        let mut img = Image { bytes: vec![0; 4], sites: vec![odd.clone()] };
        Corruption::BadDiscriminant.apply(&mut img, &odd, 0);
        assert_eq!(img.bytes, [0; 4]);
    }

    #[test]
    fn noncanonical_bools_stay_true_and_flags_keep_their_labels() {
        let mut img = Image { bytes: vec![1, 0b0000_0101], sites: Vec::new() };
        img.sites.push(Site::Bool { offset: 0, value: true });
        img.sites.push(Site::Flags { offset: 1, size: 1, labels: 3 });
        add_noncanonical(&mut img, 0xf0);
        assert_eq!(img.bytes[0], 0xf1);
        assert_eq!(img.bytes[1] & 0b111, 0b101);
        assert_ne!(img.bytes[1] & !0b111, 0);
    }
}
