//! Lazily lifted views of guest memory: [`WasmStr`] for a `string`, [`WasmList<T>`] for a `list` of numbers.
//!
//! Lifting a view checks what lifting the owned value would check first — the length limit, alignment and bounds
//! — but copies nothing: the view records the store, the memory (by its index in the store's registry of
//! canonical-option memories), the pointer and the length, and reads guest memory only when asked, through the
//! store the host function receives. A host function can thus look at the length of a large argument, read part
//! of it, or read it in chunks into a buffer of its own, without the runtime first copying the whole of it.
//!
//! `wasm_runtime_layer` gives no borrowed access to linear memory (a memory is read by copying into a host
//! buffer), so a view cannot hand out a `&str` or `&[T]` into guest memory as wasmtime's do: each read copies the
//! part it reads. Reads are bounds-checked each time, so a view kept past its call (or used after the guest
//! changed its memory) reads whatever is there then, or fails; it is never unsafe. As the result of a typed call,
//! a view is read after the callee's `post-return` has run, which may have freed the memory: use `String` or
//! `Vec<T>` there. Lists of other element types lift as `Vec<T>`: their elements (strings, handles) need the
//! call's context, which ends with the call.

use std::marker::PhantomData;

use wasm_runtime_layer::backend::{AsContext as _, WasmEngine, WasmMemory, WasmStoreContext, WasmStoreContextMut};

use super::builtins::{get4, list_elem, typecheck_list};
use super::internal::mismatch;
use super::{ComponentType, Lift};
use crate::abi::layout::{MAX_BYTE_LENGTH, UTF16_TAG};
use crate::abi::lift::{to_char, FlatSrc};
use crate::abi::strings::decode_utf16;
use crate::abi::types::Ty;
use crate::abi::{Cx, StringEncoding};
use crate::error::{Error, Result, Trap};
use crate::store::{check_store, AsContext};
use crate::types::ValueType;

/// Where a view's bytes are: a range of a registered memory of a store.
#[derive(Clone, Copy, Debug)]
struct Region {
    store: u64,
    memory: u32,
    ptr: u32,
}

impl Region {
    /// Checks `[ptr, ptr + byte_len)` as lifting the owned value would (length limit, alignment, bounds).
    fn new<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ptr: u32, byte_len: u64, align: u32) -> Result<Self> {
        if byte_len > MAX_BYTE_LENGTH {
            return Err(Error::trap(Trap::TooLong).at_offset(ptr));
        }
        cx.check_range(ptr, byte_len, align)?;
        let memory = cx.opts.memory_index.ok_or_else(|| Error::internal("canonical option `memory` is missing"))?;
        let store = cx.store.data_mut().rt.id;
        Ok(Region { store, memory, ptr })
    }

    /// Copies `buf.len()` bytes starting `offset` bytes into the region.
    fn read<S: AsContext>(&self, store: &S, offset: usize, buf: &mut [u8]) -> Result<()> {
        let ctx = store.as_context();
        let rt = &ctx.inner.data().rt;
        check_store(rt, self.store)?;
        let memory = rt.memories.get(self.memory as usize).ok_or_else(|| Error::internal("unknown memory"))?;
        let at = (self.ptr as usize).checked_add(offset).ok_or_else(|| Error::trap(Trap::OutOfBounds))?;
        memory.read(ctx.inner.as_context(), at, buf).map_err(|_| match u32::try_from(at) {
            Ok(a) => Error::trap(Trap::OutOfBounds).at_offset(a),
            Err(_) => Error::trap(Trap::OutOfBounds),
        })
    }
}

/// A `string` argument left in guest memory, decoded only when [`WasmStr::to_str`] is called (as wasmtime's
/// `WasmStr`). See [`TypedFunc`](crate::TypedFunc) for when it can be read.
#[derive(Clone, Debug)]
pub struct WasmStr {
    region: Region,
    /// The length in bytes in guest memory.
    byte_len: u32,
    encoding: Encoding,
}

#[derive(Clone, Copy, Debug)]
enum Encoding {
    Utf8,
    Utf16,
    Latin1,
}

impl WasmStr {
    /// The string's length in bytes in guest memory (in the guest's encoding).
    pub fn len(&self) -> usize {
        self.byte_len as usize
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.byte_len == 0
    }

    /// Reads and decodes the string from `store`, the store it was lifted in (a host function's context).
    ///
    /// Fails if the store is another one, or with [`Trap::InvalidString`] if the bytes are not valid in the
    /// guest's encoding.
    pub fn to_str<S: AsContext>(&self, store: S) -> Result<String> {
        let mut bytes = vec![0; self.byte_len as usize];
        self.region.read(&store, 0, &mut bytes)?;
        match self.encoding {
            Encoding::Utf8 => String::from_utf8(bytes).map_err(|_| Error::trap(Trap::InvalidString)),
            Encoding::Utf16 => decode_utf16(&bytes),
            Encoding::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
        }
    }
}

impl ComponentType for WasmStr {
    fn typecheck(ty: &ValueType) -> Result<()> {
        match ty {
            ValueType::String => Ok(()),
            other => Err(mismatch("WasmStr", "string", other)),
        }
    }
}

impl WasmStr {
    /// `load_string_from_range`'s checks, without the read.
    fn lift<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, ptr: u32, tagged_units: u32) -> Result<Self> {
        let (byte_len, align, encoding) = match cx.opts.encoding {
            StringEncoding::Utf8 => (u64::from(tagged_units), 1, Encoding::Utf8),
            StringEncoding::Utf16 => (2 * u64::from(tagged_units), 2, Encoding::Utf16),
            StringEncoding::Latin1Utf16 if tagged_units & UTF16_TAG != 0 => {
                (2 * u64::from(tagged_units ^ UTF16_TAG), 2, Encoding::Utf16)
            }
            StringEncoding::Latin1Utf16 => (u64::from(tagged_units), 2, Encoding::Latin1),
        };
        let region = Region::new(cx, ptr, byte_len, align)?;
        Ok(WasmStr { region, byte_len: byte_len as u32, encoding })
    }
}

impl Lift for WasmStr {
    fn lift_flat<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let ptr = src.next_bits()? as u32;
        let len = src.next_bits()? as u32;
        Self::lift(cx, ptr, len)
    }
    fn load<T: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, T, E>, _: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Self::lift(cx, get4(buf, off), get4(buf, off + 4))
    }
}

/// An element type a [`WasmList`] can read straight from guest memory: the numbers, `bool` and `char`.
pub trait WasmListElement: Lift + Copy {
    /// The element's size in bytes (and its alignment).
    const SIZE: usize;
    /// Decodes one element from its little-endian bytes (`SIZE` of them).
    fn from_le_bytes(bytes: &[u8]) -> Result<Self>;
}

macro_rules! list_element {
    ($($t:ty => |$b:ident| $decode:expr;)*) => {$(
        impl WasmListElement for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn from_le_bytes(bytes: &[u8]) -> Result<Self> {
                let mut $b = [0u8; std::mem::size_of::<$t>()];
                $b.copy_from_slice(&bytes[..Self::SIZE]);
                $decode
            }
        }
    )*};
}

list_element! {
    u8 => |b| Ok(b[0]);
    i8 => |b| Ok(b[0] as i8);
    u16 => |b| Ok(u16::from_le_bytes(b));
    i16 => |b| Ok(i16::from_le_bytes(b));
    u32 => |b| Ok(u32::from_le_bytes(b));
    i32 => |b| Ok(i32::from_le_bytes(b));
    u64 => |b| Ok(u64::from_le_bytes(b));
    i64 => |b| Ok(i64::from_le_bytes(b));
    f32 => |b| Ok(f32::from_le_bytes(b));
    f64 => |b| Ok(f64::from_le_bytes(b));
    bool => |b| Ok(b[0] != 0);
    char => |b| to_char(u32::from_le_bytes(b));
}

/// A `list` argument left in guest memory, read element by element or in chunks only when asked (as wasmtime's
/// `WasmList`, for number, `bool` and `char` elements). See [`TypedFunc`](crate::TypedFunc) for when it can be
/// read.
#[derive(Debug)]
pub struct WasmList<T> {
    region: Region,
    len: u32,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for WasmList<T> {
    fn clone(&self) -> Self {
        WasmList { region: self.region, len: self.len, _marker: PhantomData }
    }
}

/// How many bytes a chunked read converts at a time (on the stack).
const CHUNK: usize = 256;

impl<T: WasmListElement> WasmList<T> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `index`, read from `store`; `None` past the end.
    pub fn get<S: AsContext>(&self, store: S, index: usize) -> Option<Result<T>> {
        if index >= self.len() {
            return None;
        }
        let mut b = [0u8; 8];
        let bytes = &mut b[..T::SIZE];
        Some(self.region.read(&store, index * T::SIZE, bytes).and_then(|()| T::from_le_bytes(bytes)))
    }

    /// Reads `out.len()` elements starting at element `start` into `out`, converting them in chunks on the
    /// stack (so nothing is allocated). Fails if the range goes past the end.
    pub fn read_into<S: AsContext>(&self, store: S, start: usize, out: &mut [T]) -> Result<()> {
        if start.checked_add(out.len()).is_none_or(|end| end > self.len()) {
            return Err(Error::usage(format!(
                "elements {start}..{} are out of range of a list of {}",
                start.saturating_add(out.len()),
                self.len()
            )));
        }
        let per_chunk = CHUNK / T::SIZE;
        let mut buf = [0u8; CHUNK];
        for (k, dst) in out.chunks_mut(per_chunk).enumerate() {
            let bytes = &mut buf[..dst.len() * T::SIZE];
            self.region.read(&store, (start + k * per_chunk) * T::SIZE, bytes)?;
            for (d, src) in dst.iter_mut().zip(bytes.chunks_exact(T::SIZE)) {
                *d = T::from_le_bytes(src)?;
            }
        }
        Ok(())
    }

    /// Reads the whole list.
    pub fn to_vec<S: AsContext>(&self, store: S) -> Result<Vec<T>> {
        let mut bytes = vec![0u8; self.len() * T::SIZE];
        self.region.read(&store, 0, &mut bytes)?;
        bytes.chunks_exact(T::SIZE).map(T::from_le_bytes).collect()
    }
}

impl<T: WasmListElement> ComponentType for WasmList<T> {
    fn typecheck(ty: &ValueType) -> Result<()> {
        typecheck_list::<T>("WasmList<T>", ty)
    }
}

impl<T: WasmListElement> WasmList<T> {
    /// `load_list_from_range`'s checks, without the read.
    fn lift<U: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, U, E>, ty: Ty, ptr: u32, len: u32) -> Result<Self> {
        let elem = list_elem(cx, ty)?;
        let size = cx.types.layout(elem).size;
        if size as usize != T::SIZE {
            return Err(super::internal::wrong_type(cx, elem));
        }
        let region = Region::new(cx, ptr, u64::from(len) * u64::from(size), size)?;
        Ok(WasmList { region, len, _marker: PhantomData })
    }
}

impl<T: WasmListElement> Lift for WasmList<T> {
    fn lift_flat<U: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, U, E>, ty: Ty, src: &mut FlatSrc<'_>) -> Result<Self> {
        let ptr = src.next_bits()? as u32;
        let len = src.next_bits()? as u32;
        Self::lift(cx, ty, ptr, len)
    }
    fn load<U: 'static, E: WasmEngine>(cx: &mut Cx<'_, '_, U, E>, ty: Ty, buf: &[u8], off: usize) -> Result<Self> {
        Self::lift(cx, ty, get4(buf, off), get4(buf, off + 4))
    }
}
