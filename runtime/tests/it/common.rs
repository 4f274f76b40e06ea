//! Helpers: engines for both backends, a macro that runs a test body on each, and a small "libc" core module
//! shared by the hand-written canonical-ABI components.
//!
//! # The guest template
//!
//! [`guest`] and [`guest_with_imports`] wrap a test's core functions and component items in a component that
//! instantiates two core modules:
//!
//! * `$libc` owns the one-page memory (64 KiB) and a bump `realloc` that **logs every call** as four `u32`s
//!   `(old_ptr, old_size, align, new_size)`. New blocks are filled with a settable byte (default 0) and grown
//!   or shrunk blocks keep their contents (`memory.copy`). Component-level aliases `$mem` and `$realloc` name
//!   them for canonical options.
//! * `$m` is the test's module; it imports `libc.mem` and `libc.realloc` (as `$realloc`), plus anything the
//!   test lists, and has a prelude of exports: `id32`, `id64` (identities) and `ret2` (stores two `i32`s at
//!   0x80 and returns 0x80 — the usual way to return a `(ptr, len)` pair or a two-field tuple).
//!
//! Every guest also exports these component functions, used by [`Guest`]:
//!
//! * `realloc-log: func() -> list<u32>` — the realloc calls so far;
//! * `peek: func(ptr: u32, len: u32) -> list<u8>` — raw memory;
//! * `poke: func(ptr: u32, bytes: list<u8>)` — writes raw memory (its argument is itself allocated with
//!   `realloc`, so it adds a log entry);
//! * `set-fill: func(b: u8)` — the byte `realloc` fills new blocks with;
//! * `force-realloc: func(from-call: u32, ptr: u32)` — makes `realloc` calls number `from-call` and later
//!   (counted from 0 over the instance's life) return `ptr`, still logging them.
//!
//! Memory map: 0x00–0xff scratch for `$m` (0x80 is `ret2`'s area), 0x100–0x10f `$libc` return areas,
//! 0x200–0xfff free for test data, 0x1000–0x3fff the realloc log, 0x4000– the bump heap ([`HEAP`]).

#![allow(dead_code)]

use component_layer::{Component, Engine, Error, Instance, Linker, Store, Trap, Value};
use wasm_runtime_layer::backend::WasmEngine;

/// Runs `$body` once per backend with `$e` bound to that backend's `Engine`.
#[macro_export]
macro_rules! both {
    (|$engine:ident| $body:block) => {{
        {
            let $engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
            $body
        }
        {
            let $engine = component_layer::Engine::new(wasmtime_runtime_layer::Engine::default());
            $body
        }
    }};
}

/// Compiles WAT text into a component.
pub fn component<E: WasmEngine>(engine: &Engine<E>, wat: &str) -> Component {
    let bytes = match wat::parse_str(wat) {
        Ok(b) => b,
        Err(e) => panic!("invalid WAT: {e}\n{wat}"),
    };
    match Component::new(engine, &bytes) {
        Ok(c) => c,
        Err(e) => panic!("component does not load: {e}"),
    }
}

/// A store with unit data.
pub fn store<E: WasmEngine>(engine: &Engine<E>) -> Store<(), E> {
    Store::new(engine, ())
}

/// An empty linker.
pub fn linker<E: WasmEngine>() -> Linker<(), E> {
    Linker::new()
}

/// The first address the bump `realloc` hands out (fresh per instance).
pub const HEAP: u32 = 0x4000;

/// The size of the guests' linear memory (one page).
pub const MEM: u32 = 0x1_0000;

/// The `$libc` core module (see the module docs).
pub const LIBC: &str = r#"
  (core module $libc
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 0x4000))
    (global $n (mut i32) (i32.const 0))
    (global $fill (mut i32) (i32.const 0))
    (global $force (mut i32) (i32.const 0))
    (global $forced (mut i32) (i32.const 0))
    (global $force-from (mut i32) (i32.const 0))
    (func (export "realloc") (param $old i32) (param $osz i32) (param $align i32) (param $nsz i32) (result i32)
      (local $p i32) (local $e i32)
      (local.set $e (i32.add (i32.const 0x1000) (i32.shl (global.get $n) (i32.const 4))))
      (i32.store (local.get $e) (local.get $old))
      (i32.store offset=4 (local.get $e) (local.get $osz))
      (i32.store offset=8 (local.get $e) (local.get $align))
      (i32.store offset=12 (local.get $e) (local.get $nsz))
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (if (i32.and (global.get $forced) (i32.gt_u (global.get $n) (global.get $force-from)))
        (then (return (global.get $force))))
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $bump (i32.add (local.get $p) (local.get $nsz)))
      (memory.fill (local.get $p) (global.get $fill) (local.get $nsz))
      (if (local.get $old)
        (then (memory.copy (local.get $p) (local.get $old)
                (select (local.get $osz) (local.get $nsz) (i32.lt_u (local.get $osz) (local.get $nsz))))))
      (local.get $p))
    (func (export "realloc-log") (result i32)
      (i32.store (i32.const 0x100) (i32.const 0x1000))
      (i32.store (i32.const 0x104) (i32.shl (global.get $n) (i32.const 2)))
      (i32.const 0x100))
    (func (export "peek") (param i32 i32) (result i32)
      (i32.store (i32.const 0x108) (local.get 0))
      (i32.store (i32.const 0x10c) (local.get 1))
      (i32.const 0x108))
    (func (export "poke") (param $dst i32) (param $src i32) (param $len i32)
      (memory.copy (local.get $dst) (local.get $src) (local.get $len)))
    (func (export "set-fill") (param i32) (global.set $fill (local.get 0)))
    (func (export "force-realloc") (param i32 i32)
      (global.set $force-from (local.get 0)) (global.set $force (local.get 1)) (global.set $forced (i32.const 1))))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))
"#;

/// The component functions over `$libc` every guest exports.
const LIBC_EXPORTS: &str = r#"
  (func (export "realloc-log") (result (list u32)) (canon lift (core func $libc "realloc-log") (memory $mem)))
  (func (export "peek") (param "ptr" u32) (param "len" u32) (result (list u8))
    (canon lift (core func $libc "peek") (memory $mem)))
  (func (export "poke") (param "ptr" u32) (param "bytes" (list u8))
    (canon lift (core func $libc "poke") (memory $mem) (realloc $realloc)))
  (func (export "set-fill") (param "b" u8) (canon lift (core func $libc "set-fill")))
  (func (export "force-realloc") (param "from-call" u32) (param "ptr" u32) (canon lift (core func $libc "force-realloc")))
"#;

/// A guest component without imports: `core` goes into `$m` (after the prelude), `items` after the core
/// instance `$i` of `$m`.
pub fn guest(core: &str, items: &str) -> String {
    guest_with_imports("", "", core, items)
}

/// A guest component with imports. `pre` comes after `$libc` (component imports, `canon lower`s) and must
/// define a core instance `$host` if `core_imports` (imports of `$m`, from module `"host"`) is not empty.
pub fn guest_with_imports(pre: &str, core_imports: &str, core: &str, items: &str) -> String {
    let with_host = if core_imports.trim().is_empty() { "" } else { r#"(with "host" (instance $host))"# };
    format!(
        r#"(component
  {LIBC}
  {pre}
  (core module $m
    (import "libc" "mem" (memory 1))
    (import "libc" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
    {core_imports}
    (func $ret2 (export "ret2") (param i32 i32) (result i32)
      (i32.store (i32.const 0x80) (local.get 0))
      (i32.store (i32.const 0x84) (local.get 1))
      (i32.const 0x80))
    (func (export "id32") (param i32) (result i32) (local.get 0))
    (func (export "id64") (param i64) (result i64) (local.get 0))
    {core})
  (core instance $i (instantiate $m (with "libc" (instance $libc)) {with_host}))
  {LIBC_EXPORTS}
  {items}
)"#
    )
}

/// An instantiated guest in its own store.
pub struct Guest<E: WasmEngine> {
    pub store: Store<(), E>,
    pub inst: Instance,
}

impl<E: WasmEngine> Guest<E> {
    /// Instantiates `c` in a fresh store with no imports.
    pub fn new(engine: &Engine<E>, c: &Component) -> Self {
        Self::with_linker(engine, c, &Linker::new())
    }

    /// Instantiates `c` in a fresh store with `linker`'s definitions.
    pub fn with_linker(engine: &Engine<E>, c: &Component, linker: &Linker<(), E>) -> Self {
        let mut store = store(engine);
        let inst = match linker.instantiate(&mut store, c) {
            Ok(i) => i,
            Err(e) => panic!("instantiation failed: {e}"),
        };
        Guest { store, inst }
    }

    /// Calls export `name`; returns its result (if it has one) or the error.
    pub fn try_call(&mut self, name: &str, params: &[Value]) -> Result<Option<Value>, Error> {
        let f = self.inst.get_func(name).unwrap_or_else(|| panic!("no export `{name}`"));
        let has_result = f.ty().result().is_some();
        let mut results = vec![Value::Bool(false); usize::from(has_result)];
        f.call(&mut self.store, params, &mut results)?;
        Ok(results.pop())
    }

    /// Calls export `name`, which must succeed and return a value.
    pub fn call(&mut self, name: &str, params: &[Value]) -> Value {
        match self.try_call(name, params) {
            Ok(Some(v)) => v,
            Ok(None) => panic!("`{name}` returned no value"),
            Err(e) => panic!("`{name}` failed: {e}"),
        }
    }

    /// Calls export `name`, which must succeed and return nothing.
    pub fn call0(&mut self, name: &str, params: &[Value]) {
        match self.try_call(name, params) {
            Ok(None) => {}
            Ok(Some(v)) => panic!("`{name}` returned {v:?}"),
            Err(e) => panic!("`{name}` failed: {e}"),
        }
    }

    /// Calls export `name`, which must trap; returns the trap reason.
    pub fn trap(&mut self, name: &str, params: &[Value]) -> Trap {
        match self.try_call(name, params) {
            Ok(v) => panic!("`{name}` should trap, returned {v:?}"),
            Err(e) => match e.as_trap() {
                Some(t) => t.clone(),
                None => panic!("`{name}` should trap, failed with a non-trap error: {e} ({:?})", e.kind()),
            },
        }
    }

    /// The realloc calls so far, as `[old_ptr, old_size, align, new_size]`.
    pub fn log(&mut self) -> Vec<[u32; 4]> {
        let v = u32s(&self.call("realloc-log", &[]));
        v.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect()
    }

    /// `len` bytes of guest memory at `ptr`.
    pub fn peek(&mut self, ptr: u32, len: u32) -> Vec<u8> {
        bytes(&self.call("peek", &[Value::U32(ptr), Value::U32(len)]))
    }

    /// Writes `data` into guest memory at `ptr` (allocates a copy of `data` with `realloc` on the way).
    pub fn poke(&mut self, ptr: u32, data: &[u8]) {
        self.call0("poke", &[Value::U32(ptr), Value::List(data.to_vec().into())]);
    }

    /// Makes `realloc` fill new blocks with `b`.
    pub fn set_fill(&mut self, b: u8) {
        self.call0("set-fill", &[Value::U8(b)]);
    }

    /// Makes every later `realloc` call return `ptr`.
    pub fn force_realloc(&mut self, ptr: u32) {
        let n = self.log().len() as u32;
        self.force_realloc_from(n, ptr);
    }

    /// Makes `realloc` return `ptr` from its call number `call` on (counting from 0 over the instance's life,
    /// as in [`Guest::log`]); earlier calls allocate normally.
    pub fn force_realloc_from(&mut self, call: u32, ptr: u32) {
        self.call0("force-realloc", &[Value::U32(call), Value::U32(ptr)]);
    }
}

/// The elements of a lifted `list<u32>`.
pub fn u32s(v: &Value) -> Vec<u32> {
    match v {
        Value::List(l) => l
            .iter()
            .map(|e| match e {
                Value::U32(x) => x,
                other => panic!("expected u32 element, got {other:?}"),
            })
            .collect(),
        other => panic!("expected list<u32>, got {other:?}"),
    }
}

/// The elements of a lifted `list<u8>`.
pub fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::List(l) => l
            .iter()
            .map(|e| match e {
                Value::U8(x) => x,
                other => panic!("expected u8 element, got {other:?}"),
            })
            .collect(),
        other => panic!("expected list<u8>, got {other:?}"),
    }
}

/// The fields of a lifted tuple.
pub fn tuple(v: Value) -> Vec<Value> {
    match v {
        Value::Tuple(t) => t,
        other => panic!("expected tuple, got {other:?}"),
    }
}

/// A lifted `tuple<u32, u32>` (e.g. a probe's `(ptr, len)`).
pub fn pair(v: Value) -> (u32, u32) {
    match &tuple(v)[..] {
        [Value::U32(a), Value::U32(b)] => (*a, *b),
        other => panic!("expected (u32, u32), got {other:?}"),
    }
}

/// A `list<u8>` value.
pub fn list_u8(b: &[u8]) -> Value {
    Value::List(b.to_vec().into())
}

/// A string value.
pub fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

/// Little-endian bytes of `u32`s.
pub fn le32(xs: &[u32]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// UTF-16LE bytes of a string.
pub fn utf16le(x: &str) -> Vec<u8> {
    x.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// `Some(v)` as an option value.
pub fn some(v: Value) -> Value {
    Value::Option(Some(Box::new(v)))
}

/// A variant value with a payload.
pub fn case(name: &str, v: Value) -> Value {
    Value::Variant(name.into(), Some(Box::new(v)))
}

/// A flags value.
pub fn flags(labels: &[&str]) -> Value {
    Value::Flags(labels.iter().map(|l| (*l).into()).collect())
}

/// The bits of a lifted `f32`.
pub fn f32_bits(v: &Value) -> u32 {
    match v {
        Value::F32(f) => f.to_bits(),
        other => panic!("expected f32, got {other:?}"),
    }
}

/// The bits of a lifted `f64`.
pub fn f64_bits(v: &Value) -> u64 {
    match v {
        Value::F64(f) => f.to_bits(),
        other => panic!("expected f64, got {other:?}"),
    }
}
