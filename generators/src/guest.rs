//! Core wasm for generated guests, emitted with wasm-encoder.
//!
//! Every guest has two core modules:
//!
//! * **libc** — the linear memory and a bump `realloc` that logs every call `(old ptr, old size, align,
//!   new size)`, fills new blocks with `0xde` (so reads of uninitialised memory show up), shrinks in place and
//!   copies on growth, like wasmtime's fuzz allocator. `reset` rewinds the heap and the log; it is every export's
//!   `post-return`, so each call starts from the same heap and pointers are deterministic across engines.
//!   In fault cases `realloc` can misbehave on a chosen call; in others it can serve a chosen call at an edge of
//!   memory (address 0, or ending at the end of memory), which is valid and must change nothing.
//! * **main** — the export bodies ([`Body`]) and, for transforms, one in-memory transform function per type.
//!
//! Memory map: `[0, 64 KiB)` free, for the block [`ReallocMode::AtZero`] serves at address 0; then
//! `[64 KiB, +64)` scratch, `[+64, +4096)` return area, `[+4096, 128 KiB)` realloc log, `[128 KiB, 256 KiB)` the
//! raw area lift probes copy their image to (and constants are placed at), `[256 KiB, …)` the heap; trace
//! guests move the heap to [`TRACE_HEAP`] partway through a call ([`Body::TraceCaller`]).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalSection,
    GlobalType, ImportSection, Instruction as I, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};

use crate::ty::{Def, Flat, Ty, TypeSet, MAX_FLAT};

/// The largest block [`ReallocMode::AtZero`] serves at address 0: the first page is kept free for it.
pub const ZERO_SLOT: u32 = 65536;
/// Scratch memory: a `(ptr, len)` pair for transforms, and [`LOG_COUNT`].
pub const SCRATCH: u32 = 65536;
/// Start of the return area.
pub const RET_AREA: u32 = SCRATCH + 64;
/// Where the number of realloc calls is kept.
pub const LOG_COUNT: u32 = SCRATCH + 16;
/// Where the probe stores its flat parameters (as u64s), inside the return area's tail.
pub const FLAT_AREA: u32 = SCRATCH + 2048;
/// Start of the realloc log.
pub const LOG: u32 = SCRATCH + 4096;
/// Maximum realloc log entries.
pub const LOG_MAX: u32 = (SCRATCH + 65536 - LOG) / 16;
/// Where lift probes copy their image.
pub const RAW_BASE: u32 = 2 * 65536;
/// Start of the heap.
pub const HEAP_BASE: u32 = 4 * 65536;
/// Where `rebase` moves the heap (which must not have grown past it): allocations after it start from here,
/// whatever came before.
pub const TRACE_HEAP: u32 = HEAP_BASE + 16 * 65536;
/// Initial memory size in pages.
pub const INITIAL_PAGES: u64 = 5;

/// A string encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `utf8`
    Utf8,
    /// `utf16`
    Utf16,
    /// `latin1+utf16`
    Latin1Utf16,
}

impl Encoding {
    /// All encodings.
    pub const ALL: [Encoding; 3] = [Encoding::Utf8, Encoding::Utf16, Encoding::Latin1Utf16];

    /// The canonical option.
    pub fn option(self) -> wasm_encoder::CanonicalOption {
        match self {
            Encoding::Utf8 => wasm_encoder::CanonicalOption::UTF8,
            Encoding::Utf16 => wasm_encoder::CanonicalOption::UTF16,
            Encoding::Latin1Utf16 => wasm_encoder::CanonicalOption::CompactUTF16,
        }
    }

    /// The text-format spelling.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Utf16 => "utf16",
            Encoding::Latin1Utf16 => "latin1+utf16",
        }
    }
}

/// How `realloc` behaves. Calls are counted from 0 in each export call (`reset`, the post-return, starts over).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReallocMode {
    /// A correct bump allocator.
    Good,
    /// From the n-th call (0-based) on, return a pointer off by one for every allocation that needs alignment.
    Misaligned(u32),
    /// On the n-th call, return a pointer just past the end of memory.
    OutOfBounds(u32),
    /// On the n-th call, call the host import `trap-if-called` (which the runtime must refuse: `may_leave`).
    CallsImport(u32),
    /// Correct, but the n-th call is served at address 0 (kept free for it) when its new size fits in
    /// [`ZERO_SLOT`] and it is no shrink in place: 0 is a valid address, which runtimes must not take for null
    /// (a later `realloc` of that block passes old pointer 0 with a nonzero old size).
    AtZero(u32),
    /// Correct, but the n-th call (unless a shrink in place) places its block at the end of memory, growing
    /// memory first if the heap needs it: the block ends exactly at `memory.size * 65536` when its size is a
    /// multiple of its alignment (a block of size 0 starts there), so bounds checks must allow `ptr + len ==
    /// memory size`.
    AtEnd(u32),
    /// On the n-th call, return an aligned pointer whose block ends one byte past the end of memory (or, for a
    /// size that is no multiple of the alignment, less than the alignment further): the spec traps.
    PastEnd(u32),
}

impl ReallocMode {
    /// Whether this realloc behaves correctly (possibly at the edges of memory), so that calls behave as with
    /// [`ReallocMode::Good`].
    pub fn is_correct(self) -> bool {
        matches!(self, ReallocMode::Good | ReallocMode::AtZero(_) | ReallocMode::AtEnd(_))
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sig {
    /// Named parameters.
    pub params: Vec<(String, Ty)>,
    /// The result.
    pub result: Option<Ty>,
}

impl Sig {
    /// (flat params, or None if spilled; flat result, or None if returned through memory).
    pub fn flat(&self, set: &TypeSet) -> (Option<Vec<Flat>>, Option<Vec<Flat>>) {
        let params = set.record_layout(self.params.iter().map(|(_, t)| t)).0.flat;
        let result = match &self.result {
            None => Some(Vec::new()),
            Some(t) => set.layout(t).flat.filter(|f| f.len() <= 1),
        };
        (params.filter(|p| p.len() <= MAX_FLAT), result)
    }

    /// The core signature of a `canon lift` of this function.
    pub fn lift_core(&self, set: &TypeSet) -> (Vec<ValType>, Vec<ValType>) {
        let (p, r) = self.flat(set);
        (vals(p.unwrap_or_else(|| vec![Flat::I32])), vals(r.unwrap_or_else(|| vec![Flat::I32])))
    }

    /// The core signature of a `canon lower` of this function.
    pub fn lower_core(&self, set: &TypeSet) -> (Vec<ValType>, Vec<ValType>) {
        let (p, r) = self.flat(set);
        let mut params = vals(p.unwrap_or_else(|| vec![Flat::I32]));
        let results = match r {
            Some(r) => vals(r),
            None => {
                params.push(ValType::I32);
                Vec::new()
            }
        };
        (params, results)
    }
}

pub(crate) fn vals(f: Vec<Flat>) -> Vec<ValType> {
    f.into_iter()
        .map(|t| match t {
            Flat::I32 => ValType::I32,
            Flat::I64 => ValType::I64,
            Flat::F32 => ValType::F32,
            Flat::F64 => ValType::F64,
        })
        .collect()
}

/// What an export's core body does.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Passes its core arguments to import `import` (same signature) and returns what it returns.
    Forward { import: usize },
    /// The export is `f(x: list<T>) -> list<T>`: transforms the list in place (each element, then reverses the
    /// order), passes it to import `import` (same signature) and returns its result.
    TransformList { import: usize, elem: Ty },
    /// Returns `tuple<list<u8>, list<u32>, list<u64>>`: the heap bytes lowered for this call, the realloc log,
    /// and its flat core arguments.
    Probe,
    /// The export is `f(image: list<u8>) -> R` with `R` passed through memory: copies the image to the raw area
    /// and returns a pointer to it, so the runtime lifts `R` from bytes the host chose.
    LiftRaw,
    /// Returns a constant: the image at address `at` (placed by a data segment) when the result goes through
    /// memory, or the given flat core value.
    Constant { at: u32, flat: Option<(Flat, u64)> },
    /// `f(x: list<T>) -> list<T>` returning its argument.
    EchoFirstList,
    /// Traps.
    Trap,
    /// The callee of a trace case, `f(params…) -> tuple<R, list<u32>>`: passes its core arguments to import
    /// `import` (same parameters, no result), then returns the constant at `at` (an image of the tuple placed by a
    /// data segment) with the list at `list_at` set to its realloc log so far — the calls that lowering its
    /// arguments made.
    TraceCallee { import: usize, at: u32, list_at: u32 },
    /// The caller of a trace case, `g(params…) -> tuple<R, list<u32>, list<u32>>`: moves its heap to
    /// [`TRACE_HEAP`] (`rebase`), passes its core arguments to import `import` (`f` of [`Body::TraceCallee`],
    /// whose result it gets in the return area) and adds, at `list_at` within the return area, the part of its
    /// realloc log the call of `import` made — the calls that lowering `f`'s result made.
    TraceCaller { import: usize, list_at: u32 },
}

/// A lowered import as the main module sees it.
#[derive(Clone, Debug)]
pub struct CoreImport {
    /// The import's name in the `host` namespace.
    pub name: String,
    /// Its core signature.
    pub sig: (Vec<ValType>, Vec<ValType>),
}

/// An export of the main module.
#[derive(Clone, Debug)]
pub struct CoreExport {
    /// The export name.
    pub name: String,
    /// The component-level signature.
    pub sig: Sig,
    /// The string encoding of its `canon lift` (transforms of strings depend on it).
    pub encoding: Encoding,
    /// The body.
    pub body: Body,
}

fn mem(offset: u64, align: u32) -> MemArg {
    MemArg { offset, align, memory_index: 0 }
}

/// The libc module: memory, `realloc`, `reset`, `heap-top` and `rebase` (moves the heap to [`TRACE_HEAP`]).
pub fn libc(mode: ReallocMode) -> Module {
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I32; 4], [ValType::I32]); // 0 realloc
    types.ty().function([], []); // 1 reset / rebase / trap-if-called
    types.ty().function([], [ValType::I32]); // 2 heap-top
    m.section(&types);
    let calls_import = matches!(mode, ReallocMode::CallsImport(_));
    if calls_import {
        let mut imports = ImportSection::new();
        imports.import("host", "trap-if-called", EntityType::Function(1));
        m.section(&imports);
    }
    let base = u32::from(calls_import);
    let mut funcs = FunctionSection::new();
    for ty in [0, 1, 2, 1] {
        funcs.function(ty);
    }
    m.section(&funcs);
    let mut mems = MemorySection::new();
    mems.memory(MemoryType {
        minimum: INITIAL_PAGES,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    m.section(&mems);
    let mut globals = GlobalSection::new();
    globals.global(
        GlobalType { val_type: ValType::I32, mutable: true, shared: false },
        &ConstExpr::i32_const(HEAP_BASE as i32),
    );
    m.section(&globals);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("realloc", ExportKind::Func, base);
    exports.export("reset", ExportKind::Func, base + 1);
    exports.export("heap-top", ExportKind::Func, base + 2);
    exports.export("rebase", ExportKind::Func, base + 3);
    m.section(&exports);

    let mut code = CodeSection::new();
    code.function(&realloc_body(mode));
    let mut reset = Function::new([]);
    reset.instruction(&I::I32Const(HEAP_BASE as i32)).instruction(&I::GlobalSet(0));
    reset.instruction(&I::I32Const(LOG_COUNT as i32)).instruction(&I::I32Const(0)).instruction(&I::I32Store(mem(0, 2)));
    reset.instruction(&I::End);
    code.function(&reset);
    let mut top = Function::new([]);
    top.instruction(&I::GlobalGet(0)).instruction(&I::End);
    code.function(&top);
    // The heap must not have reached TRACE_HEAP: a block there would be overwritten.
    let mut rebase = Function::new([]);
    rebase.instruction(&I::GlobalGet(0)).instruction(&I::I32Const(TRACE_HEAP as i32)).instruction(&I::I32GtU);
    rebase.instruction(&I::If(BlockType::Empty)).instruction(&I::Unreachable).instruction(&I::End);
    rebase.instruction(&I::I32Const(TRACE_HEAP as i32)).instruction(&I::GlobalSet(0)).instruction(&I::End);
    code.function(&rebase);
    m.section(&code);
    m
}

/// The bump allocator. Params: 0 old, 1 old_size, 2 align, 3 new; locals: 4 p, 5 end, 6 n.
fn realloc_body(mode: ReallocMode) -> Function {
    let mut f = Function::new([(3, ValType::I32)]);
    let (old, old_size, align, new, p, end, n) = (0, 1, 2, 3, 4, 5, 6);
    // Log the call.
    f.instruction(&I::I32Const(LOG_COUNT as i32)).instruction(&I::I32Load(mem(0, 2))).instruction(&I::LocalSet(n));
    f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(LOG_MAX as i32)).instruction(&I::I32LtU);
    f.instruction(&I::If(BlockType::Empty));
    for (k, arg) in [old, old_size, align, new].into_iter().enumerate() {
        f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(16)).instruction(&I::I32Mul);
        f.instruction(&I::LocalGet(arg)).instruction(&I::I32Store(mem(u64::from(LOG) + 4 * k as u64, 2)));
    }
    f.instruction(&I::End);
    f.instruction(&I::I32Const(LOG_COUNT as i32));
    f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(1)).instruction(&I::I32Add);
    f.instruction(&I::I32Store(mem(0, 2)));
    let memory_end = |f: &mut Function| {
        f.instruction(&I::MemorySize(0)).instruction(&I::I32Const(16)).instruction(&I::I32Shl);
    };
    let is_call = |f: &mut Function, k: u32| {
        f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(k as i32)).instruction(&I::I32Eq);
    };
    // Misbehaviour on the chosen call.
    match mode {
        ReallocMode::Good | ReallocMode::AtZero(_) | ReallocMode::AtEnd(_) => {}
        ReallocMode::Misaligned(k) => {
            // Only an allocation that needs alignment can be misaligned.
            f.instruction(&I::LocalGet(n)).instruction(&I::I32Const(k as i32)).instruction(&I::I32GeU);
            f.instruction(&I::LocalGet(align)).instruction(&I::I32Const(1)).instruction(&I::I32GtU);
            f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
            f.instruction(&I::GlobalGet(0)).instruction(&I::I32Const(1)).instruction(&I::I32Or).instruction(&I::Return);
            f.instruction(&I::End);
        }
        ReallocMode::OutOfBounds(k) => {
            // Just past the end: out of bounds whatever the size, even 0.
            is_call(&mut f, k);
            f.instruction(&I::If(BlockType::Empty));
            memory_end(&mut f);
            f.instruction(&I::I32Const(8)).instruction(&I::I32Add).instruction(&I::Return);
            f.instruction(&I::End);
        }
        ReallocMode::PastEnd(k) => {
            // align_up(memory_end - new + 1, align): the first aligned block that does not fit.
            is_call(&mut f, k);
            f.instruction(&I::If(BlockType::Empty));
            memory_end(&mut f);
            f.instruction(&I::LocalGet(new)).instruction(&I::I32Sub);
            f.instruction(&I::LocalGet(align)).instruction(&I::I32Add);
            f.instruction(&I::I32Const(0)).instruction(&I::LocalGet(align)).instruction(&I::I32Sub);
            f.instruction(&I::I32And).instruction(&I::Return);
            f.instruction(&I::End);
        }
        ReallocMode::CallsImport(k) => {
            is_call(&mut f, k);
            f.instruction(&I::If(BlockType::Empty)).instruction(&I::Call(0)).instruction(&I::End);
        }
    }
    // A block to resize is given by its pointer and size, either of which may be 0 (a block at address 0).
    let has_old = |f: &mut Function| {
        f.instruction(&I::LocalGet(old)).instruction(&I::LocalGet(old_size)).instruction(&I::I32Or);
        f.instruction(&I::I32Const(0)).instruction(&I::I32Ne);
    };
    // Fill the new block with 0xde, copy the old block into it.
    let fill_copy = |f: &mut Function| {
        f.instruction(&I::LocalGet(p)).instruction(&I::I32Const(0xde)).instruction(&I::LocalGet(new));
        f.instruction(&I::MemoryFill(0));
        has_old(f);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(p)).instruction(&I::LocalGet(old)).instruction(&I::LocalGet(old_size));
        f.instruction(&I::MemoryCopy { src_mem: 0, dst_mem: 0 });
        f.instruction(&I::End);
    };
    // Shrink in place.
    has_old(&mut f);
    f.instruction(&I::LocalGet(new)).instruction(&I::LocalGet(old_size)).instruction(&I::I32LeU);
    f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(old)).instruction(&I::Return).instruction(&I::End);
    if let ReallocMode::AtZero(k) = mode {
        is_call(&mut f, k);
        f.instruction(&I::LocalGet(new)).instruction(&I::I32Const(ZERO_SLOT as i32)).instruction(&I::I32LeU);
        f.instruction(&I::I32And).instruction(&I::If(BlockType::Empty));
        f.instruction(&I::I32Const(0)).instruction(&I::LocalSet(p));
        fill_copy(&mut f);
        f.instruction(&I::I32Const(0)).instruction(&I::Return).instruction(&I::End);
    }
    // p = align_up(bump, align)
    f.instruction(&I::GlobalGet(0)).instruction(&I::LocalGet(align)).instruction(&I::I32Add);
    f.instruction(&I::I32Const(1)).instruction(&I::I32Sub);
    f.instruction(&I::I32Const(0)).instruction(&I::LocalGet(align)).instruction(&I::I32Sub).instruction(&I::I32And);
    f.instruction(&I::LocalSet(p));
    f.instruction(&I::LocalGet(p))
        .instruction(&I::LocalGet(new))
        .instruction(&I::I32Add)
        .instruction(&I::LocalSet(end));
    // Grow memory if needed.
    f.instruction(&I::LocalGet(end));
    memory_end(&mut f);
    f.instruction(&I::I32GtU).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::LocalGet(end)).instruction(&I::I32Const(65535)).instruction(&I::I32Add);
    f.instruction(&I::I32Const(16)).instruction(&I::I32ShrU);
    f.instruction(&I::MemorySize(0)).instruction(&I::I32Sub).instruction(&I::MemoryGrow(0));
    f.instruction(&I::I32Const(-1)).instruction(&I::I32Eq).instruction(&I::If(BlockType::Empty));
    f.instruction(&I::Unreachable).instruction(&I::End);
    f.instruction(&I::End);
    if let ReallocMode::AtEnd(k) = mode {
        // Memory now reaches past align_up(bump) + new, so the block at its end is above the heap.
        is_call(&mut f, k);
        f.instruction(&I::If(BlockType::Empty));
        memory_end(&mut f);
        f.instruction(&I::LocalSet(end));
        f.instruction(&I::LocalGet(end)).instruction(&I::LocalGet(new)).instruction(&I::I32Sub);
        f.instruction(&I::I32Const(0)).instruction(&I::LocalGet(align)).instruction(&I::I32Sub);
        f.instruction(&I::I32And).instruction(&I::LocalSet(p));
        f.instruction(&I::End);
    }
    fill_copy(&mut f);
    f.instruction(&I::LocalGet(end)).instruction(&I::GlobalSet(0));
    f.instruction(&I::LocalGet(p)).instruction(&I::End);
    f
}

/// Builds the main module: imports `libc` (`memory`, `reset`, `heap-top`) and the lowered `host` functions,
/// exports each [`CoreExport`] and its post-return `post-<name>`.
pub fn main_module(set: &TypeSet, imports: &[CoreImport], exports: &[CoreExport]) -> Module {
    main_module_with_data(set, imports, exports, &[])
}

/// [`main_module`] with active data segments `(address, bytes)`.
pub fn main_module_with_data(
    set: &TypeSet,
    imports: &[CoreImport],
    exports: &[CoreExport],
    data: &[(u32, Vec<u8>)],
) -> Module {
    let mut b = ModuleBuilder::default();
    let reset_ty = b.ty(vec![], vec![]);
    let top_ty = b.ty(vec![], vec![ValType::I32]);
    let mut import_sec = ImportSection::new();
    import_sec.import(
        "libc",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: INITIAL_PAGES,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        }),
    );
    import_sec.import("libc", "reset", EntityType::Function(reset_ty));
    import_sec.import("libc", "heap-top", EntityType::Function(top_ty));
    import_sec.import("libc", "rebase", EntityType::Function(reset_ty));
    let (reset, libc_funcs) = (0u32, LibcFuncs { heap_top: 1, rebase: 2 });
    let mut host_funcs = Vec::new();
    for (i, imp) in imports.iter().enumerate() {
        let t = b.ty(imp.sig.0.clone(), imp.sig.1.clone());
        import_sec.import("host", &imp.name, EntityType::Function(t));
        host_funcs.push(3 + i as u32);
    }
    let n_imported = 3 + imports.len() as u32;
    let swap = n_imported;
    b.next_func = n_imported + 1;

    // Transform helpers for every type reachable from a TransformList body.
    let mut tf = Transforms { set, funcs: HashMap::new(), order: Vec::new(), first: 0 };
    for e in exports {
        if let Body::TransformList { elem, .. } = &e.body {
            tf.request(&Ty::List(Box::new(elem.clone())), e.encoding, &mut b.next_func);
        }
    }

    let mut bodies: Vec<(u32, Function)> = Vec::new();
    let swap_ty = b.ty(vec![ValType::I32; 3], vec![]);
    bodies.push((swap_ty, swap_body()));
    let tf_ty = b.ty(vec![ValType::I32], vec![]);
    for (ty, enc) in tf.order.clone() {
        bodies.push((tf_ty, tf.body(&ty, enc, swap)));
    }
    let mut export_sec = ExportSection::new();
    for e in exports {
        let (params, results) = e.sig.lift_core(set);
        let t = b.ty(params.clone(), results.clone());
        let idx = n_imported + bodies.len() as u32;
        let body = export_body(set, e, &params, &host_funcs, imports, libc_funcs, &tf);
        bodies.push((t, body));
        export_sec.export(&e.name, ExportKind::Func, idx);
        let pt = b.ty(results, vec![]);
        let mut post = Function::new([]);
        post.instruction(&I::Call(reset)).instruction(&I::End);
        let pidx = n_imported + bodies.len() as u32;
        bodies.push((pt, post));
        export_sec.export(&format!("post-{}", e.name), ExportKind::Func, pidx);
    }

    let mut m = Module::new();
    m.section(&b.types);
    m.section(&import_sec);
    let mut funcs = FunctionSection::new();
    for (t, _) in &bodies {
        funcs.function(*t);
    }
    m.section(&funcs);
    m.section(&export_sec);
    let mut code = CodeSection::new();
    for (_, f) in &bodies {
        code.function(f);
    }
    m.section(&code);
    if !data.is_empty() {
        let mut ds = wasm_encoder::DataSection::new();
        for (at, bytes) in data {
            ds.active(0, &ConstExpr::i32_const(*at as i32), bytes.iter().copied());
        }
        m.section(&ds);
    }
    m
}

#[derive(Default)]
struct ModuleBuilder {
    types: TypeSection,
    type_map: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    next_func: u32,
}

impl ModuleBuilder {
    fn ty(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let key = (params, results);
        if let Some(&i) = self.type_map.get(&key) {
            return i;
        }
        let i = self.types.len();
        self.types.ty().function(key.0.iter().copied(), key.1.iter().copied());
        self.type_map.insert(key, i);
        i
    }
}

/// The libc functions the main module imports (besides `reset`), by index.
#[derive(Clone, Copy)]
struct LibcFuncs {
    heap_top: u32,
    rebase: u32,
}

fn export_body(
    set: &TypeSet,
    e: &CoreExport,
    params: &[ValType],
    host_funcs: &[u32],
    imports: &[CoreImport],
    libc: LibcFuncs,
    tf: &Transforms<'_>,
) -> Function {
    let heap_top = libc.heap_top;
    match &e.body {
        Body::Forward { import } => {
            let mut f = Function::new([]);
            for i in 0..params.len() {
                f.instruction(&I::LocalGet(i as u32));
            }
            let via_memory = imports[*import].sig.0.len() > params.len();
            if via_memory {
                f.instruction(&I::I32Const(RET_AREA as i32));
            }
            f.instruction(&I::Call(host_funcs[*import]));
            if via_memory {
                f.instruction(&I::I32Const(RET_AREA as i32));
            }
            f.instruction(&I::End);
            f
        }
        Body::TransformList { import, elem } => {
            let mut f = Function::new([]);
            f.instruction(&I::LocalGet(0)).instruction(&I::LocalGet(1));
            let list_fn = tf.func(&Ty::List(Box::new(elem.clone())), e.encoding);
            // The list helper takes the address of a (ptr, len) pair: put the pair in scratch memory.
            f.instruction(&I::Drop).instruction(&I::Drop);
            let scratch = SCRATCH as i32;
            f.instruction(&I::I32Const(scratch)).instruction(&I::LocalGet(0)).instruction(&I::I32Store(mem(0, 2)));
            f.instruction(&I::I32Const(scratch)).instruction(&I::LocalGet(1)).instruction(&I::I32Store(mem(4, 2)));
            f.instruction(&I::I32Const(scratch)).instruction(&I::Call(list_fn));
            f.instruction(&I::LocalGet(0)).instruction(&I::LocalGet(1)).instruction(&I::I32Const(RET_AREA as i32));
            f.instruction(&I::Call(host_funcs[*import]));
            f.instruction(&I::I32Const(RET_AREA as i32));
            f.instruction(&I::End);
            f
        }
        Body::Probe => {
            let mut f = Function::new([]);
            // Flat arguments as u64s.
            for (i, t) in params.iter().enumerate() {
                f.instruction(&I::I32Const(0));
                f.instruction(&I::LocalGet(i as u32));
                match t {
                    ValType::I32 => {
                        f.instruction(&I::I64ExtendI32U);
                    }
                    ValType::F32 => {
                        f.instruction(&I::I32ReinterpretF32).instruction(&I::I64ExtendI32U);
                    }
                    ValType::F64 => {
                        f.instruction(&I::I64ReinterpretF64);
                    }
                    _ => {}
                }
                f.instruction(&I::I64Store(mem(u64::from(FLAT_AREA) + 8 * i as u64, 3)));
            }
            let store = |f: &mut Function, off: u64, push: &dyn Fn(&mut Function)| {
                f.instruction(&I::I32Const(RET_AREA as i32));
                push(f);
                f.instruction(&I::I32Store(mem(off, 2)));
            };
            store(&mut f, 0, &|f| {
                f.instruction(&I::I32Const(HEAP_BASE as i32));
            });
            store(&mut f, 4, &|f| {
                f.instruction(&I::Call(heap_top)).instruction(&I::I32Const(HEAP_BASE as i32)).instruction(&I::I32Sub);
            });
            store(&mut f, 8, &|f| {
                f.instruction(&I::I32Const(LOG as i32));
            });
            store(&mut f, 12, &|f| {
                log_count(f);
                f.instruction(&I::I32Const(4)).instruction(&I::I32Mul);
            });
            store(&mut f, 16, &|f| {
                f.instruction(&I::I32Const(FLAT_AREA as i32));
            });
            let n = params.len() as i32;
            store(&mut f, 20, &|f| {
                f.instruction(&I::I32Const(n));
            });
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::End);
            let _ = set;
            f
        }
        Body::LiftRaw => {
            let mut f = Function::new([]);
            f.instruction(&I::I32Const(RAW_BASE as i32)).instruction(&I::LocalGet(0)).instruction(&I::LocalGet(1));
            f.instruction(&I::MemoryCopy { src_mem: 0, dst_mem: 0 });
            f.instruction(&I::I32Const(RAW_BASE as i32)).instruction(&I::End);
            f
        }
        Body::Constant { at, flat } => {
            let mut f = Function::new([]);
            match flat {
                Some((Flat::I32, bits)) => f.instruction(&I::I32Const(*bits as u32 as i32)),
                Some((Flat::I64, bits)) => f.instruction(&I::I64Const(*bits as i64)),
                Some((Flat::F32, bits)) => f.instruction(&I::F32Const(wasm_encoder::Ieee32::new(*bits as u32))),
                Some((Flat::F64, bits)) => f.instruction(&I::F64Const(wasm_encoder::Ieee64::new(*bits))),
                None if e.sig.result.is_some() => f.instruction(&I::I32Const(*at as i32)),
                None => &mut f,
            };
            f.instruction(&I::End);
            f
        }
        Body::EchoFirstList => {
            let mut f = Function::new([]);
            f.instruction(&I::I32Const(RET_AREA as i32))
                .instruction(&I::LocalGet(0))
                .instruction(&I::I32Store(mem(0, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32))
                .instruction(&I::LocalGet(1))
                .instruction(&I::I32Store(mem(4, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::End);
            f
        }
        Body::Trap => {
            let mut f = Function::new([]);
            f.instruction(&I::Unreachable).instruction(&I::End);
            f
        }
        Body::TraceCallee { import, at, list_at } => {
            let n = params.len() as u32;
            let mut f = Function::new([(1, ValType::I32)]);
            log_count(&mut f);
            f.instruction(&I::LocalSet(n));
            for i in 0..n {
                f.instruction(&I::LocalGet(i));
            }
            f.instruction(&I::Call(host_funcs[*import]));
            f.instruction(&I::I32Const(*list_at as i32)).instruction(&I::I32Const(LOG as i32));
            f.instruction(&I::I32Store(mem(0, 2)));
            f.instruction(&I::I32Const(*list_at as i32)).instruction(&I::LocalGet(n));
            f.instruction(&I::I32Const(2)).instruction(&I::I32Shl).instruction(&I::I32Store(mem(4, 2)));
            f.instruction(&I::I32Const(*at as i32)).instruction(&I::End);
            f
        }
        Body::TraceCaller { import, list_at } => {
            let (n0, n) = (params.len() as u32, params.len() as u32 + 1);
            let mut f = Function::new([(2, ValType::I32)]);
            f.instruction(&I::Call(libc.rebase));
            log_count(&mut f);
            f.instruction(&I::LocalSet(n0));
            for i in 0..params.len() {
                f.instruction(&I::LocalGet(i as u32));
            }
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::Call(host_funcs[*import]));
            log_count(&mut f);
            f.instruction(&I::LocalSet(n));
            let at = u64::from(*list_at);
            f.instruction(&I::I32Const(RET_AREA as i32));
            f.instruction(&I::LocalGet(n0)).instruction(&I::I32Const(16)).instruction(&I::I32Mul);
            f.instruction(&I::I32Const(LOG as i32)).instruction(&I::I32Add).instruction(&I::I32Store(mem(at, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32));
            f.instruction(&I::LocalGet(n)).instruction(&I::LocalGet(n0)).instruction(&I::I32Sub);
            f.instruction(&I::I32Const(2)).instruction(&I::I32Shl).instruction(&I::I32Store(mem(at + 4, 2)));
            f.instruction(&I::I32Const(RET_AREA as i32)).instruction(&I::End);
            f
        }
    }
}

/// Pushes the number of realloc calls logged so far (at most [`LOG_MAX`]).
fn log_count(f: &mut Function) {
    f.instruction(&I::I32Const(LOG_COUNT as i32)).instruction(&I::I32Load(mem(0, 2)));
    f.instruction(&I::I32Const(LOG_MAX as i32));
    f.instruction(&I::I32Const(LOG_COUNT as i32)).instruction(&I::I32Load(mem(0, 2)));
    f.instruction(&I::I32Const(LOG_MAX as i32)).instruction(&I::I32LtU);
    f.instruction(&I::Select);
}

/// `swap(a, b, n)`: exchanges `n` bytes at `a` and `b`. Locals: 3 i, 4 tmp.
fn swap_body() -> Function {
    let mut f = Function::new([(2, ValType::I32)]);
    f.instruction(&I::Block(BlockType::Empty)).instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::LocalGet(3)).instruction(&I::LocalGet(2)).instruction(&I::I32GeU).instruction(&I::BrIf(1));
    // tmp = a[i]; a[i] = b[i]; b[i] = tmp
    f.instruction(&I::LocalGet(0)).instruction(&I::LocalGet(3)).instruction(&I::I32Add);
    f.instruction(&I::I32Load8U(mem(0, 0))).instruction(&I::LocalSet(4));
    f.instruction(&I::LocalGet(0)).instruction(&I::LocalGet(3)).instruction(&I::I32Add);
    f.instruction(&I::LocalGet(1))
        .instruction(&I::LocalGet(3))
        .instruction(&I::I32Add)
        .instruction(&I::I32Load8U(mem(0, 0)));
    f.instruction(&I::I32Store8(mem(0, 0)));
    f.instruction(&I::LocalGet(1)).instruction(&I::LocalGet(3)).instruction(&I::I32Add);
    f.instruction(&I::LocalGet(4)).instruction(&I::I32Store8(mem(0, 0)));
    f.instruction(&I::LocalGet(3)).instruction(&I::I32Const(1)).instruction(&I::I32Add).instruction(&I::LocalSet(3));
    f.instruction(&I::Br(0)).instruction(&I::End).instruction(&I::End).instruction(&I::End);
    f
}

/// One in-memory transform function per (type, encoding): `tf(addr)` transforms the value stored at `addr`,
/// as [`crate::values::transform`] describes.
struct Transforms<'a> {
    set: &'a TypeSet,
    funcs: HashMap<(Ty, Encoding), u32>,
    order: Vec<(Ty, Encoding)>,
    first: u32,
}

impl Transforms<'_> {
    fn request(&mut self, ty: &Ty, enc: Encoding, next: &mut u32) {
        let key = (ty.clone(), enc);
        if self.funcs.contains_key(&key) {
            return;
        }
        if self.order.is_empty() {
            self.first = *next;
        }
        self.funcs.insert(key.clone(), *next);
        *next += 1;
        self.order.push(key);
        for child in children(self.set, ty) {
            self.request(&child, enc, next);
        }
    }

    fn func(&self, ty: &Ty, enc: Encoding) -> u32 {
        self.funcs[&(ty.clone(), enc)]
    }

    fn body(&self, ty: &Ty, enc: Encoding, swap: u32) -> Function {
        // Locals: 0 addr, 1 ptr, 2 len, 3 i, 4 v (i32), 5 w (i64).
        let mut f = Function::new([(4, ValType::I32), (1, ValType::I64)]);
        let (addr, ptr, len, i, v) = (0u32, 1u32, 2u32, 3u32, 4u32);
        let set = self.set;
        let add = crate::values::TRANSFORM_ADD;
        let load_store = |f: &mut Function, load: I<'static>, konst: I<'static>, op: I<'static>, store: I<'static>| {
            f.instruction(&I::LocalGet(addr));
            f.instruction(&I::LocalGet(addr)).instruction(&load).instruction(&konst).instruction(&op);
            f.instruction(&store);
        };
        match set.resolve(ty) {
            Ty::Bool => load_store(&mut f, I::I32Load8U(mem(0, 0)), I::I32Const(1), I::I32Xor, I::I32Store8(mem(0, 0))),
            Ty::U8 | Ty::S8 => {
                load_store(&mut f, I::I32Load8U(mem(0, 0)), I::I32Const(add as i32), I::I32Add, I::I32Store8(mem(0, 0)))
            }
            Ty::U16 | Ty::S16 => load_store(
                &mut f,
                I::I32Load16U(mem(0, 1)),
                I::I32Const(add as i32),
                I::I32Add,
                I::I32Store16(mem(0, 1)),
            ),
            Ty::U32 | Ty::S32 => {
                load_store(&mut f, I::I32Load(mem(0, 2)), I::I32Const(add as i32), I::I32Add, I::I32Store(mem(0, 2)))
            }
            Ty::U64 | Ty::S64 => {
                load_store(&mut f, I::I64Load(mem(0, 3)), I::I64Const(add as i64), I::I64Add, I::I64Store(mem(0, 3)))
            }
            Ty::F32 => load_store(
                &mut f,
                I::I32Load(mem(0, 2)),
                I::I32Const(0x8000_0000u32 as i32),
                I::I32Xor,
                I::I32Store(mem(0, 2)),
            ),
            Ty::F64 => {
                load_store(&mut f, I::I64Load(mem(0, 3)), I::I64Const(i64::MIN), I::I64Xor, I::I64Store(mem(0, 3)))
            }
            Ty::Char => {
                // v = c == 0xd7ff ? 0xe000 : c == 0x10ffff ? 0 : c + 1
                f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load(mem(0, 2))).instruction(&I::LocalSet(v));
                f.instruction(&I::LocalGet(addr));
                f.instruction(&I::I32Const(0xe000));
                f.instruction(&I::I32Const(0));
                f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(1)).instruction(&I::I32Add);
                f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(0x10ffff)).instruction(&I::I32Eq);
                f.instruction(&I::Select);
                f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(0xd7ff)).instruction(&I::I32Eq);
                f.instruction(&I::Select);
                f.instruction(&I::I32Store(mem(0, 2)));
            }
            Ty::String => string_body(&mut f, enc),
            Ty::List(elem) => {
                let size = set.layout(elem).size;
                let elem_fn = self.func(elem, enc);
                f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load(mem(0, 2))).instruction(&I::LocalSet(ptr));
                f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load(mem(4, 2))).instruction(&I::LocalSet(len));
                // Transform every element.
                counted_loop(&mut f, i, len, |f| {
                    f.instruction(&I::LocalGet(ptr)).instruction(&I::LocalGet(i));
                    f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul).instruction(&I::I32Add);
                    f.instruction(&I::Call(elem_fn));
                });
                // Reverse: swap element i with element len-1-i for i < len/2.
                f.instruction(&I::LocalGet(len))
                    .instruction(&I::I32Const(1))
                    .instruction(&I::I32ShrU)
                    .instruction(&I::LocalSet(v));
                counted_loop(&mut f, i, v, |f| {
                    f.instruction(&I::LocalGet(ptr)).instruction(&I::LocalGet(i));
                    f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul).instruction(&I::I32Add);
                    f.instruction(&I::LocalGet(ptr));
                    f.instruction(&I::LocalGet(len)).instruction(&I::I32Const(1)).instruction(&I::I32Sub);
                    f.instruction(&I::LocalGet(i)).instruction(&I::I32Sub);
                    f.instruction(&I::I32Const(size as i32)).instruction(&I::I32Mul).instruction(&I::I32Add);
                    f.instruction(&I::I32Const(size as i32)).instruction(&I::Call(swap));
                });
            }
            Ty::Tuple(ts) => {
                let (_, offs) = set.record_layout(ts.iter());
                for (t, o) in ts.iter().zip(offs) {
                    self.call_at(&mut f, t, enc, o);
                }
            }
            Ty::Option(t) => {
                let (_, off) = set.variant_layout(&[None, Some(t)]);
                f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load8U(mem(0, 0)));
                f.instruction(&I::I32Const(1)).instruction(&I::I32Eq).instruction(&I::If(BlockType::Empty));
                self.call_at(&mut f, t, enc, off);
                f.instruction(&I::End);
            }
            Ty::Result(ok, err) => {
                let (_, off) = set.variant_layout(&[ok.as_deref(), err.as_deref()]);
                f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load8U(mem(0, 0))).instruction(&I::LocalSet(v));
                for (case, t) in [ok, err].into_iter().enumerate() {
                    if let Some(t) = t {
                        f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(case as i32)).instruction(&I::I32Eq);
                        f.instruction(&I::If(BlockType::Empty));
                        self.call_at(&mut f, t, enc, off);
                        f.instruction(&I::End);
                    }
                }
                if ok == err {
                    f.instruction(&I::LocalGet(addr)).instruction(&I::LocalGet(v)).instruction(&I::I32Const(1));
                    f.instruction(&I::I32Xor).instruction(&I::I32Store8(mem(0, 0)));
                }
            }
            Ty::Named(n) => match &set.defs[*n].1 {
                Def::Record(fs) => {
                    let (_, offs) = set.record_layout(fs.iter().map(|(_, t)| t));
                    for ((_, t), o) in fs.iter().zip(offs) {
                        self.call_at(&mut f, t, enc, o);
                    }
                }
                Def::Variant(cs) => {
                    let cases: Vec<Option<&Ty>> = cs.iter().map(|(_, t)| t.as_ref()).collect();
                    let (_, off) = set.variant_layout(&cases);
                    load_disc(&mut f, addr, cs.len());
                    f.instruction(&I::LocalSet(v));
                    for (case, (_, t)) in cs.iter().enumerate() {
                        if let Some(t) = t {
                            f.instruction(&I::LocalGet(v))
                                .instruction(&I::I32Const(case as i32))
                                .instruction(&I::I32Eq);
                            f.instruction(&I::If(BlockType::Empty));
                            self.call_at(&mut f, t, enc, off);
                            f.instruction(&I::End);
                        }
                    }
                }
                Def::Enum(cs) => {
                    // d = (d + 1) % n
                    f.instruction(&I::LocalGet(addr));
                    load_disc(&mut f, addr, cs.len());
                    f.instruction(&I::I32Const(1)).instruction(&I::I32Add);
                    f.instruction(&I::I32Const(cs.len() as i32)).instruction(&I::I32RemU);
                    store_disc(&mut f, cs.len());
                }
                Def::Flags(ls) => {
                    let mask = if ls.len() == 32 { u32::MAX } else { (1u32 << ls.len()) - 1 };
                    let (load, store) = match set.layout(ty).size {
                        1 => (I::I32Load8U(mem(0, 0)), I::I32Store8(mem(0, 0))),
                        2 => (I::I32Load16U(mem(0, 1)), I::I32Store16(mem(0, 1))),
                        _ => (I::I32Load(mem(0, 2)), I::I32Store(mem(0, 2))),
                    };
                    load_store(&mut f, load, I::I32Const(mask as i32), I::I32Xor, store);
                }
                Def::Alias(_) => unreachable!("resolved above"),
            },
            Ty::Own(_) | Ty::Borrow(_) => {}
        }
        f.instruction(&I::End);
        f
    }

    /// Calls the transform of `t` on the value at `addr + off`.
    fn call_at(&self, f: &mut Function, t: &Ty, enc: Encoding, off: u32) {
        f.instruction(&I::LocalGet(0)).instruction(&I::I32Const(off as i32)).instruction(&I::I32Add);
        f.instruction(&I::Call(self.func(t, enc)));
    }
}

/// The types whose transforms `ty`'s transform calls.
fn children(set: &TypeSet, ty: &Ty) -> Vec<Ty> {
    match set.resolve(ty) {
        Ty::List(t) | Ty::Option(t) => vec![(**t).clone()],
        Ty::Tuple(ts) => ts.clone(),
        Ty::Result(o, e) => o.iter().chain(e.iter()).map(|t| (**t).clone()).collect(),
        Ty::Named(n) => match &set.defs[*n].1 {
            Def::Record(fs) => fs.iter().map(|(_, t)| t.clone()).collect(),
            Def::Variant(cs) => cs.iter().filter_map(|(_, t)| t.clone()).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn load_disc(f: &mut Function, addr: u32, cases: usize) {
    f.instruction(&I::LocalGet(addr));
    match crate::ty::disc_size(cases) {
        1 => f.instruction(&I::I32Load8U(mem(0, 0))),
        2 => f.instruction(&I::I32Load16U(mem(0, 1))),
        _ => f.instruction(&I::I32Load(mem(0, 2))),
    };
}

fn store_disc(f: &mut Function, cases: usize) {
    match crate::ty::disc_size(cases) {
        1 => f.instruction(&I::I32Store8(mem(0, 0))),
        2 => f.instruction(&I::I32Store16(mem(0, 1))),
        _ => f.instruction(&I::I32Store(mem(0, 2))),
    };
}

/// `for (i = 0; i < n; i++) body` with `i` and `n` locals.
fn counted_loop(f: &mut Function, i: u32, n: u32, body: impl Fn(&mut Function)) {
    f.instruction(&I::I32Const(0)).instruction(&I::LocalSet(i));
    f.instruction(&I::Block(BlockType::Empty)).instruction(&I::Loop(BlockType::Empty));
    f.instruction(&I::LocalGet(i)).instruction(&I::LocalGet(n)).instruction(&I::I32GeU).instruction(&I::BrIf(1));
    body(f);
    f.instruction(&I::LocalGet(i)).instruction(&I::I32Const(1)).instruction(&I::I32Add).instruction(&I::LocalSet(i));
    f.instruction(&I::Br(0)).instruction(&I::End).instruction(&I::End);
}

/// Swaps the case of ASCII letters of the string whose (ptr, len) is at `addr`, in the function's encoding.
fn string_body(f: &mut Function, enc: Encoding) {
    let (addr, ptr, len, i, v) = (0u32, 1u32, 2u32, 3u32, 4u32);
    f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load(mem(0, 2))).instruction(&I::LocalSet(ptr));
    f.instruction(&I::LocalGet(addr)).instruction(&I::I32Load(mem(4, 2))).instruction(&I::LocalSet(len));
    // unit size 1 or 2 (latin1+utf16 decides by the tag bit)
    let wide = |f: &mut Function| {
        f.instruction(&I::LocalGet(len)).instruction(&I::I32Const(i32::MIN)).instruction(&I::I32And);
    };
    match enc {
        Encoding::Utf8 => case_loop(f, false),
        Encoding::Utf16 => case_loop(f, true),
        Encoding::Latin1Utf16 => {
            wide(f);
            f.instruction(&I::If(BlockType::Empty));
            f.instruction(&I::LocalGet(len))
                .instruction(&I::I32Const(i32::MAX))
                .instruction(&I::I32And)
                .instruction(&I::LocalSet(len));
            case_loop(f, true);
            f.instruction(&I::Else);
            case_loop(f, false);
            f.instruction(&I::End);
        }
    }
    let _ = (i, v);
}

/// Loops over the string's code units, flipping bit 0x20 of ASCII letters.
fn case_loop(f: &mut Function, wide: bool) {
    let (ptr, len, i, v) = (1u32, 2u32, 3u32, 4u32);
    let unit = if wide { 2 } else { 1 };
    counted_loop(f, i, len, |f| {
        // v = unit at ptr + i*unit
        f.instruction(&I::LocalGet(ptr)).instruction(&I::LocalGet(i));
        f.instruction(&I::I32Const(unit)).instruction(&I::I32Mul).instruction(&I::I32Add);
        f.instruction(&if wide { I::I32Load16U(mem(0, 1)) } else { I::I32Load8U(mem(0, 0)) });
        f.instruction(&I::LocalSet(v));
        // if (v | 0x20) - 'a' < 26: v ^= 0x20
        f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(0x20)).instruction(&I::I32Or);
        f.instruction(&I::I32Const(b'a' as i32)).instruction(&I::I32Sub);
        f.instruction(&I::I32Const(26)).instruction(&I::I32LtU);
        f.instruction(&I::If(BlockType::Empty));
        f.instruction(&I::LocalGet(ptr)).instruction(&I::LocalGet(i));
        f.instruction(&I::I32Const(unit)).instruction(&I::I32Mul).instruction(&I::I32Add);
        f.instruction(&I::LocalGet(v)).instruction(&I::I32Const(0x20)).instruction(&I::I32Xor);
        f.instruction(&if wide { I::I32Store16(mem(0, 1)) } else { I::I32Store8(mem(0, 0)) });
        f.instruction(&I::End);
    });
}
