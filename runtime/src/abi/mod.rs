//! The canonical ABI: how component values become core values and linear-memory bytes, and back.
//!
//! * [`layout`] — alignment, sizes, flattening (`flatten_type`, `join`);
//! * [`types`] — the interned types of a plan, each with its layout, and each function's [`types::FuncAbi`];
//! * [`lift`] — `lift_flat`, `load` (core values and memory → [`crate::Value`]);
//! * [`lower`] — `lower_flat`, `store` ([`crate::Value`] → core values and memory, through `realloc`);
//! * [`strings`] — the three string encodings and every transcoding `store_*` algorithm of the spec;
//! * [`resources`] — resource handles; [`table`] — the per-instance handle table they share with the async ABI.
//!
//! Lifting and lowering run against a [`Cx`], the spec's `LiftLowerContext`: the store, the canonical options
//! (memory, realloc, encoding) and the component instance whose handle table and flags apply. Memory is read in
//! one bulk copy per region (a record, a list's elements, a string) and written the same way; every bound,
//! alignment and length is checked before anything is allocated on the host.

pub mod layout;
pub mod lift;
pub mod lower;
pub mod strings;
pub mod table;
pub mod types;

use wasm_runtime_layer::backend::{
    AsContext as _, AsContextMut as _, Val, WasmEngine, WasmMemory, WasmStoreContextMut,
};

use crate::error::{Error, Result, Trap};
use crate::resources::{ResourceAny, ResourceType};
use crate::store::StoreInner;
use types::TypeTable;

/// A `string-encoding` canonical option.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum StringEncoding {
    /// `utf8` (the default).
    #[default]
    Utf8,
    /// `utf16`.
    Utf16,
    /// `latin1+utf16` (a.k.a. compact UTF-16).
    Latin1Utf16,
}

/// The canonical options of a lift or lower, resolved to backend objects at instantiation.
pub struct CallOptions<E: WasmEngine> {
    /// `memory`.
    pub memory: Option<E::Memory>,
    /// `realloc`.
    pub realloc: Option<E::Func>,
    /// `post-return`.
    pub post_return: Option<E::Func>,
    /// `string-encoding`.
    pub encoding: StringEncoding,
    /// The store-level index of the component instance these options belong to.
    pub instance: u32,
    /// `memory`'s index in the store's memory registry, through which a lazily lifted view ([`crate::WasmStr`],
    /// [`crate::WasmList`]) reads it during the call.
    pub memory_index: Option<u32>,
}

impl<E: WasmEngine> Clone for CallOptions<E> {
    fn clone(&self) -> Self {
        CallOptions {
            memory: self.memory.clone(),
            realloc: self.realloc.clone(),
            post_return: self.post_return.clone(),
            encoding: self.encoding,
            instance: self.instance,
            memory_index: self.memory_index,
        }
    }
}

impl<E: WasmEngine> CallOptions<E> {
    /// No options: what a built-in without options acts with, in instance `instance`.
    pub fn none(instance: u32) -> Self {
        CallOptions {
            memory: None,
            realloc: None,
            post_return: None,
            encoding: StringEncoding::Utf8,
            instance,
            memory_index: None,
        }
    }

    /// Only a `memory` (`waitable-set.wait` and `.poll`).
    pub fn memory_only(memory: E::Memory, instance: u32) -> Self {
        CallOptions { memory: Some(memory), ..Self::none(instance) }
    }
}

/// What a lifted string's source looked like: its encoding and length in code units. `store_string` uses
/// these hints to choose allocation sizes exactly as the spec does when a string crosses between components.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StrHint {
    /// The source encoding (for `latin1+utf16`, already split into Latin-1 or UTF-16).
    pub encoding: SrcEncoding,
    /// The source length in code units.
    pub units: u32,
    /// Whether the source was `latin1+utf16` (which selects some algorithms).
    pub compact: bool,
}

/// A string's source encoding.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SrcEncoding {
    /// UTF-8 (host strings are UTF-8).
    Utf8,
    /// UTF-16.
    Utf16,
    /// Latin-1.
    Latin1,
}

impl StrHint {
    /// The hint for a host (Rust) string.
    pub fn host(s: &str) -> StrHint {
        StrHint { encoding: SrcEncoding::Utf8, units: s.len() as u32, compact: false }
    }
}

/// The spec's `LiftLowerContext`.
pub struct Cx<'a, 'b, T: 'static, E: WasmEngine> {
    /// The store.
    pub store: &'a mut E::StoreContextMut<'b, StoreInner<T, E>>,
    /// The canonical options.
    pub opts: &'a CallOptions<E>,
    /// The plan's types.
    pub types: &'a TypeTable,
    /// The runtime resource types of the plan's resource indices.
    pub resources: &'a [ResourceType],
    /// When lowering: the task (index in the store's task stack) that borrows are lent to.
    pub task: Option<u32>,
    /// When lifting borrows: (instance, handle) pairs lent for the duration of the call.
    pub lenders: Vec<(u32, u32)>,
    /// Host-table entries created for lifted borrows, removed when the call ends.
    pub host_borrows: Vec<ResourceAny>,
    /// String hints recorded while lifting, consumed in the same order while lowering.
    pub hints: Option<Vec<StrHint>>,
    hint_pos: usize,
    mem_size: Option<u64>,
    /// The host buffer `load` decodes (by address) and the guest address it was read from, so that failures
    /// can name the guest address.
    view: View,
}

/// A host buffer's address and the guest address it was read from.
type View = Option<(usize, u32)>;

/// The guest address of `off` in `buf`, if `view` describes `buf`.
pub(crate) fn view_address(view: View, buf: &[u8], off: usize) -> Option<u32> {
    match view {
        Some((host, guest)) if host == buf.as_ptr() as usize => Some(guest.wrapping_add(off as u32)),
        _ => None,
    }
}

impl<'a, 'b, T: 'static, E: WasmEngine> Cx<'a, 'b, T, E> {
    /// A context for lifting or lowering with `opts`.
    pub fn new(
        store: &'a mut E::StoreContextMut<'b, StoreInner<T, E>>,
        opts: &'a CallOptions<E>,
        types: &'a TypeTable,
        resources: &'a [ResourceType],
    ) -> Self {
        Cx {
            store,
            opts,
            types,
            resources,
            task: None,
            lenders: Vec::new(),
            host_borrows: Vec::new(),
            hints: None,
            hint_pos: 0,
            mem_size: None,
            view: None,
        }
    }

    /// Declares that `buf` was read from guest address `ptr`, so that [`Cx::load`] failures within it name their
    /// guest address; returns the previous view for [`Cx::view_restore`].
    pub fn view(&mut self, buf: &[u8], ptr: u32) -> Option<(usize, u32)> {
        self.view.replace((buf.as_ptr() as usize, ptr))
    }

    /// Goes back to the view [`Cx::view`] replaced.
    pub fn view_restore(&mut self, view: Option<(usize, u32)>) {
        self.view = view;
    }

    /// Adds to `e` the guest address of `off` in `buf`, when `buf` is the buffer given to [`Cx::view`].
    #[cold]
    pub(crate) fn at_address(&self, buf: &[u8], off: usize, e: Error) -> Error {
        match view_address(self.view, buf, off) {
            Some(a) => e.at_offset(a),
            None => e,
        }
    }

    fn memory(&self) -> Result<&'a E::Memory> {
        self.opts.memory.as_ref().ok_or_else(|| Error::internal("canonical option `memory` is missing"))
    }

    /// The store, for a call out of the runtime (a host function) between a lift and a lower in the same
    /// context: what the context cached about memory is forgotten, since the call may change it.
    pub fn call_out(&mut self) -> &mut E::StoreContextMut<'b, StoreInner<T, E>> {
        self.mem_size = None;
        self.view = None;
        self.store
    }

    /// The size of linear memory in bytes (cached until the next `realloc`).
    pub fn mem_size(&mut self) -> Result<u64> {
        if let Some(s) = self.mem_size {
            return Ok(s);
        }
        let pages = self.memory()?.current_pages(self.store.as_context());
        let s = u64::from(pages) * 65536;
        self.mem_size = Some(s);
        Ok(s)
    }

    /// Checks that `[ptr, ptr + len)` is inside memory and `ptr` is aligned.
    pub fn check_range(&mut self, ptr: u32, len: u64, align: u32) -> Result<()> {
        if !ptr.is_multiple_of(align) {
            return Err(Error::trap(Trap::Misaligned).at_offset(ptr));
        }
        if u64::from(ptr) + len > self.mem_size()? {
            return Err(Error::trap(Trap::OutOfBounds).at_offset(ptr));
        }
        Ok(())
    }

    /// Reads `len` bytes at `ptr` (already checked) in one copy.
    pub fn read(&mut self, ptr: u32, len: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0; len];
        self.read_into(ptr, &mut buf)?;
        Ok(buf)
    }

    /// Reads into `buf` from `ptr` in one copy.
    pub fn read_into(&mut self, ptr: u32, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.memory()?
            .read(self.store.as_context(), ptr as usize, buf)
            .map_err(|_| Error::trap(Trap::OutOfBounds).at_offset(ptr))
    }

    /// Writes `bytes` at `ptr` in one copy.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.memory()?
            .write(self.store.as_context_mut(), ptr as usize, bytes)
            .map_err(|_| Error::trap(Trap::OutOfBounds).at_offset(ptr))
    }

    /// Calls `realloc(old_ptr, old_size, align, new_size)`. The caller checks the result as the spec requires
    /// for its use (alignment and bounds).
    pub fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> Result<u32> {
        let realloc =
            self.opts.realloc.as_ref().ok_or_else(|| Error::internal("canonical option `realloc` is missing"))?;
        let args =
            [Val::I32(old_ptr as i32), Val::I32(old_size as i32), Val::I32(align as i32), Val::I32(new_size as i32)];
        let mut res = [Val::I32(0)];
        self.mem_size = None;
        crate::func::nesting::call_core::<T, E>(self.store, realloc, &args, &mut res)?;
        match res[0] {
            Val::I32(p) => Ok(p as u32),
            _ => Err(Error::internal("realloc returned a value that is not an i32")),
        }
    }

    /// Calls realloc and checks the result is aligned and `new_size` bytes fit (`store_list_into_range`).
    pub fn alloc(&mut self, align: u32, size: u32) -> Result<u32> {
        let ptr = self.realloc(0, 0, align, size)?;
        self.check_alloc(ptr, align, size)?;
        Ok(ptr)
    }

    /// The checks the spec applies to a pointer returned by realloc.
    pub fn check_alloc(&mut self, ptr: u32, align: u32, size: u32) -> Result<()> {
        if !ptr.is_multiple_of(align) {
            return Err(Error::trap(Trap::ReallocMisaligned).at_offset(ptr));
        }
        self.check_alloc_bounds(ptr, size)
    }

    /// The bounds check the spec applies to a pointer returned by realloc (alone, where it checks no alignment).
    pub fn check_alloc_bounds(&mut self, ptr: u32, size: u32) -> Result<()> {
        if u64::from(ptr) + u64::from(size) > self.mem_size()? {
            return Err(Error::trap(Trap::ReallocOutOfBounds).at_offset(ptr));
        }
        Ok(())
    }

    /// The next string hint, when lowering strings that were lifted from another component.
    pub fn next_hint(&mut self, s: &str) -> StrHint {
        if let Some(h) = self.hints.as_ref().and_then(|h| h.get(self.hint_pos)) {
            self.hint_pos += 1;
            return *h;
        }
        StrHint::host(s)
    }

    /// Returns lent handles and frees host-table borrow entries at the end of a call (`deliver_resolve`).
    pub fn release_lenders(&mut self) {
        let lenders = std::mem::take(&mut self.lenders);
        let borrows = std::mem::take(&mut self.host_borrows);
        let rt = &mut self.store.data_mut().rt;
        for (inst, h) in lenders {
            if let Some(i) = rt.instances.get_mut(inst as usize) {
                if let Ok(h) = i.handles.get_mut(h) {
                    h.num_lends = h.num_lends.saturating_sub(1);
                }
            }
        }
        for b in borrows {
            rt.host.remove(&b);
        }
    }
}

/// Core values as raw bits: `i32`/`f32` zero-extended, `i64`/`f64` as is. Variant joins are then plain bit
/// reinterpretations, as the spec's `CoerceValueIter` describes.
pub type Bits = u64;

/// A core value's bits.
pub fn val_bits<E: WasmEngine>(v: &Val<E>) -> Bits {
    match v {
        Val::I32(x) => u64::from(*x as u32),
        Val::I64(x) => *x as u64,
        Val::F32(x) => u64::from(x.to_bits()),
        Val::F64(x) => x.to_bits(),
        _ => 0,
    }
}

/// The most core arguments a lowered import takes: 16 flat parameters and a return pointer.
const MAX_CORE_ARGS: usize = 17;

/// The core arguments of a lowered import's call as bits, on the stack: collecting them into a growable vector
/// cost more than the rest of a call to a host function without parameters.
pub struct CoreArgs {
    bits: [Bits; MAX_CORE_ARGS],
    len: usize,
}

impl CoreArgs {
    /// The bits of `args`; more than [`MAX_CORE_ARGS`] is an internal error (the plan's signatures have fewer).
    pub fn new<E: WasmEngine>(args: &[Val<E>]) -> Result<Self> {
        if args.len() > MAX_CORE_ARGS {
            return Err(Error::internal("a lowered import called with more than 17 core arguments"));
        }
        let mut bits = [0; MAX_CORE_ARGS];
        for (b, a) in bits.iter_mut().zip(args) {
            *b = val_bits(a);
        }
        Ok(CoreArgs { bits, len: args.len() })
    }
}

impl std::ops::Deref for CoreArgs {
    type Target = [Bits];
    fn deref(&self) -> &[Bits] {
        &self.bits[..self.len]
    }
}

/// A core value of type `t` from bits.
pub fn bits_val<E: WasmEngine>(t: layout::FlatType, b: Bits) -> Val<E> {
    match t {
        layout::FlatType::I32 => Val::I32(b as u32 as i32),
        layout::FlatType::I64 => Val::I64(b as i64),
        layout::FlatType::F32 => Val::F32(f32::from_bits(b as u32)),
        layout::FlatType::F64 => Val::F64(f64::from_bits(b)),
    }
}
