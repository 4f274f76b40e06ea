//! Strings: `load_string_from_range` and the spec's `store_string_into_range` with every transcoding case.
//!
//! Lifting decodes UTF-8, UTF-16 or `latin1+utf16` from guest memory (one bulk read) into a Rust `String`,
//! checking the length limit, alignment, bounds and encoding in the spec's order. Lowering follows the spec's
//! `store_*` algorithms call for call: the number, order and arguments of `realloc` calls a guest observes are
//! the spec's, decided from the source string's encoding and length in code units ([`StrHint`]). A string from
//! the host counts as UTF-8.

use super::layout::{MAX_BYTE_LENGTH, UTF16_TAG};
use super::{Cx, SrcEncoding, StrHint, StringEncoding};
use crate::error::{Error, Result, Trap};
use wasm_runtime_layer::backend::WasmEngine;

impl<T: 'static, E: WasmEngine> Cx<'_, '_, T, E> {
    /// `load_string_from_range`: decodes the string at `ptr` with `tagged_units` code units. Returns the string
    /// and the hint describing its source.
    pub fn load_string(&mut self, ptr: u32, tagged_units: u32) -> Result<(String, StrHint)> {
        let (byte_len, align, enc) = match self.opts.encoding {
            StringEncoding::Utf8 => (u64::from(tagged_units), 1, SrcEncoding::Utf8),
            StringEncoding::Utf16 => (2 * u64::from(tagged_units), 2, SrcEncoding::Utf16),
            StringEncoding::Latin1Utf16 if tagged_units & UTF16_TAG != 0 => {
                (2 * u64::from(tagged_units ^ UTF16_TAG), 2, SrcEncoding::Utf16)
            }
            StringEncoding::Latin1Utf16 => (u64::from(tagged_units), 2, SrcEncoding::Latin1),
        };
        if byte_len > MAX_BYTE_LENGTH {
            return Err(Error::trap(Trap::TooLong).at_offset(ptr));
        }
        self.check_range(ptr, byte_len, align)?;
        let bytes = self.read(ptr, byte_len as usize)?;
        let s = match enc {
            SrcEncoding::Utf8 => String::from_utf8(bytes).map_err(|e| invalid_at(ptr, e.utf8_error().valid_up_to()))?,
            SrcEncoding::Utf16 => decode_utf16(&bytes).map_err(|e| e.at_offset(ptr))?,
            SrcEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        };
        let units = match enc {
            SrcEncoding::Utf16 if self.opts.encoding == StringEncoding::Latin1Utf16 => tagged_units ^ UTF16_TAG,
            _ => tagged_units,
        };
        let hint = StrHint { encoding: enc, units, compact: self.opts.encoding == StringEncoding::Latin1Utf16 };
        Ok((s, hint))
    }

    /// `store_string_into_range`: allocates and writes `s` in this context's encoding; returns (ptr, tagged
    /// code units).
    pub fn store_string(&mut self, s: &str, hint: StrHint) -> Result<(u32, u32)> {
        use SrcEncoding::*;
        let units = hint.units;
        match self.opts.encoding {
            StringEncoding::Utf8 => match hint.encoding {
                Utf8 => self.store_copy(s, units, 1, 1, Utf8),
                Utf16 => self.store_to_utf8(s, units, u64::from(units) * 3),
                Latin1 => self.store_to_utf8(s, units, u64::from(units) * 2),
            },
            StringEncoding::Utf16 => match hint.encoding {
                Utf8 => self.store_utf8_to_utf16(s, units),
                Utf16 | Latin1 => self.store_copy(s, units, 2, 2, Utf16),
            },
            StringEncoding::Latin1Utf16 => match (hint.compact, hint.encoding) {
                (true, Latin1) => self.store_copy(s, units, 1, 2, Latin1),
                (true, Utf16) => self.store_probably_utf16_to_latin1_or_utf16(s, units),
                _ => self.store_to_latin1_or_utf16(s, units),
            },
        }
    }

    /// `store_string_copy`: the destination size is known up front.
    fn store_copy(&mut self, s: &str, units: u32, unit_size: u32, align: u32, dst: SrcEncoding) -> Result<(u32, u32)> {
        let byte_len = u32::try_from(u64::from(unit_size) * u64::from(units)).map_err(|_| too_long())?;
        let ptr = self.realloc(0, 0, align, byte_len)?;
        self.check_alloc(ptr, align, byte_len)?;
        let encoded = match dst {
            SrcEncoding::Utf8 => s.as_bytes().to_vec(),
            SrcEncoding::Utf16 => encode_utf16(s),
            SrcEncoding::Latin1 => s.chars().map(|c| c as u32 as u8).collect(),
        };
        if encoded.len() != byte_len as usize {
            // Hints are recorded while lifting the very values being lowered: they describe every string.
            return Err(Error::internal("string length does not match its source encoding"));
        }
        self.write(ptr, &encoded)?;
        Ok((ptr, units))
    }

    /// `store_string_to_utf8`: optimistic ASCII copy, then one grow to the worst case and a final shrink.
    fn store_to_utf8(&mut self, s: &str, units: u32, worst: u64) -> Result<(u32, u32)> {
        let worst = u32::try_from(worst).map_err(|_| too_long())?;
        let mut ptr = self.realloc(0, 0, 1, units)?;
        self.check_alloc_bounds(ptr, units)?;
        let Some(i) = s.bytes().position(|b| b >= 0x80) else {
            self.write(ptr, s.as_bytes())?;
            return Ok((ptr, s.len() as u32));
        };
        self.write(ptr, &s.as_bytes()[..i])?;
        ptr = self.realloc(ptr, units, 1, worst)?;
        self.check_alloc_bounds(ptr, worst)?;
        let len = s.len() as u32;
        self.write(ptr + i as u32, &s.as_bytes()[i..])?;
        if worst > len {
            ptr = self.realloc(ptr, worst, 1, len)?;
            self.check_alloc_bounds(ptr, len)?;
        }
        Ok((ptr, len))
    }

    /// `store_utf8_to_utf16`: worst-case allocation, then a shrink.
    fn store_utf8_to_utf16(&mut self, s: &str, units: u32) -> Result<(u32, u32)> {
        let worst = u32::try_from(2 * u64::from(units)).map_err(|_| too_long())?;
        let mut ptr = self.realloc(0, 0, 2, worst)?;
        self.check_alloc(ptr, 2, worst)?;
        let encoded = encode_utf16(s);
        self.write(ptr, &encoded)?;
        let len = encoded.len() as u32;
        if len < worst {
            ptr = self.realloc(ptr, worst, 2, len)?;
            self.check_alloc(ptr, 2, len)?;
        }
        Ok((ptr, len / 2))
    }

    /// `store_string_to_latin1_or_utf16`: optimistic Latin-1, inflating to UTF-16 at the first wide char.
    fn store_to_latin1_or_utf16(&mut self, s: &str, units: u32) -> Result<(u32, u32)> {
        let mut ptr = self.realloc(0, 0, 2, units)?;
        self.check_alloc(ptr, 2, units)?;
        let mut latin1 = Vec::with_capacity(s.len());
        for c in s.chars() {
            if (c as u32) < 0x100 {
                latin1.push(c as u32 as u8);
                continue;
            }
            self.write(ptr, &latin1)?;
            let worst = u32::try_from(2 * u64::from(units)).map_err(|_| too_long())?;
            ptr = self.realloc(ptr, units, 2, worst)?;
            self.check_alloc(ptr, 2, worst)?;
            let encoded = encode_utf16(s);
            self.write(ptr, &encoded)?;
            let len = encoded.len() as u32;
            if worst > len {
                ptr = self.realloc(ptr, worst, 2, len)?;
                self.check_alloc(ptr, 2, len)?;
            }
            return Ok((ptr, (len / 2) | UTF16_TAG));
        }
        self.write(ptr, &latin1)?;
        let len = latin1.len() as u32;
        if len < units {
            ptr = self.realloc(ptr, units, 2, len)?;
            self.check_alloc(ptr, 2, len)?;
        }
        Ok((ptr, len))
    }

    /// `store_probably_utf16_to_latin1_or_utf16`: UTF-16 first, deflating to Latin-1 if every char fits.
    fn store_probably_utf16_to_latin1_or_utf16(&mut self, s: &str, units: u32) -> Result<(u32, u32)> {
        let byte_len = u32::try_from(2 * u64::from(units)).map_err(|_| too_long())?;
        let mut ptr = self.realloc(0, 0, 2, byte_len)?;
        self.check_alloc(ptr, 2, byte_len)?;
        let encoded = encode_utf16(s);
        self.write(ptr, &encoded)?;
        if s.chars().any(|c| c as u32 >= 0x100) {
            return Ok((ptr, (encoded.len() as u32 / 2) | UTF16_TAG));
        }
        let latin1: Vec<u8> = s.chars().map(|c| c as u32 as u8).collect();
        self.write(ptr, &latin1)?;
        let len = latin1.len() as u32;
        ptr = self.realloc(ptr, byte_len, 1, len)?;
        self.check_alloc_bounds(ptr, len)?;
        Ok((ptr, len))
    }
}

fn too_long() -> Error {
    Error::trap(Trap::TooLong)
}

/// An invalid string whose first invalid byte is `valid` bytes after `ptr`.
#[cold]
fn invalid_at(ptr: u32, valid: usize) -> Error {
    Error::trap(Trap::InvalidString).at_offset(ptr.wrapping_add(valid as u32))
}

/// UTF-16LE bytes of a string.
pub fn encode_utf16(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 2);
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// Decodes UTF-16LE, trapping on unpaired surrogates.
pub fn decode_utf16(bytes: &[u8]) -> Result<String> {
    let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units).collect::<std::result::Result<String, _>>().map_err(|_| Error::trap(Trap::InvalidString))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trip_and_surrogates() {
        let s = "a日\u{1F600}";
        assert_eq!(decode_utf16(&encode_utf16(s)).unwrap(), s);
        // An unpaired high surrogate.
        assert!(decode_utf16(&[0x00, 0xd8]).is_err());
        // A lone low surrogate.
        assert!(decode_utf16(&[0x00, 0xdc, 0x41, 0x00]).is_err());
    }
}
