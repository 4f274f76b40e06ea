//! Loading a component: validation and translation into an executable [`plan::Plan`].
//!
//! The pipeline is [`parse`] (validate with wasmparser, record each component's definitions) →
//! [`inline`] (instantiate nested components symbolically, flatten into initializers, intern types and
//! precompute every function's ABI) → compile each core module once with the backend. Instantiation
//! (`crate::instance`) then only walks the plan. A second load of the same bytes reuses the plan of a live
//! component ([`cache`]) and only compiles the core modules.

mod cache;
pub(crate) mod core_types;
pub(crate) mod inline;
pub(crate) mod parse;
pub(crate) mod plan;

use std::any::Any;
use std::sync::Arc;

use wasm_runtime_layer::backend::{WasmEngine, WasmModule};
use wasm_runtime_layer::Engine;
use wasmparser::WasmFeatures;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{FuncType, ItemType, TypeBuilder};
use crate::ResourceType;

pub use parse::default_features;

/// A compiled component, ready to be instantiated any number of times in stores of its engine.
///
/// The plan is engine-independent; the compiled core modules belong to the engine type the component was
/// compiled with.
#[derive(Clone)]
pub struct Component {
    pub(crate) plan: Arc<plan::Plan>,
    modules: Arc<dyn Any + Send + Sync>,
    pub(crate) id: u64,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("imports", &self.import_names().collect::<Vec<_>>())
            .field("exports", &self.export_names().collect::<Vec<_>>())
            .finish()
    }
}

impl Component {
    /// Validates, translates and compiles a component binary.
    ///
    /// Loading bytes that a live component was loaded from (with the same features) skips validation and
    /// translation: the two components share their plan, and only the core modules are compiled again, for
    /// `engine`. [`Component::new_uncached`] always does the whole work.
    pub fn new<E: WasmEngine>(engine: &Engine<E>, bytes: &[u8]) -> Result<Component> {
        Self::new_with_features(engine, bytes, default_features())
    }

    /// Like [`Component::new`], with an explicit set of wasm features to validate with. Features beyond the
    /// synchronous component model are still rejected where the runtime cannot execute them.
    pub fn new_with_features<E: WasmEngine>(
        engine: &Engine<E>,
        bytes: &[u8],
        features: WasmFeatures,
    ) -> Result<Component> {
        let key = cache::Key::of(bytes, features);
        let loaded = match cache::get(&key) {
            Some(loaded) => loaded,
            None => {
                let loaded = Self::translate(bytes, features)?;
                cache::put(key, &loaded);
                loaded
            }
        };
        Self::compile(engine, bytes, loaded)
    }

    /// Like [`Component::new_with_features`], without the cache: validates and translates the bytes even if a
    /// live component was loaded from them (what a first load costs).
    pub fn new_uncached<E: WasmEngine>(engine: &Engine<E>, bytes: &[u8], features: WasmFeatures) -> Result<Component> {
        Self::compile(engine, bytes, Self::translate(bytes, features)?)
    }

    /// Validation and translation: the engine-independent part of loading.
    fn translate(bytes: &[u8], features: WasmFeatures) -> Result<cache::Loaded> {
        let parsed = parse::parse(bytes, features)?;
        let plan = inline::inline(&parsed)?;
        Ok(cache::Loaded { plan: Arc::new(plan), modules: parsed.modules.iter().map(|m| m.range.clone()).collect() })
    }

    /// Compiles the core modules of a translated component with the backend.
    fn compile<E: WasmEngine>(engine: &Engine<E>, bytes: &[u8], loaded: cache::Loaded) -> Result<Component> {
        let backend = engine.clone().into_backend();
        let mut modules: Vec<E::Module> = Vec::with_capacity(loaded.modules.len());
        for (i, range) in loaded.modules.iter().enumerate() {
            let code =
                bytes.get(range.clone()).ok_or_else(|| Error::invalid("module section out of bounds", range.start))?;
            let module = E::Module::new(&backend, code)
                .map_err(|e| Error::new(ErrorKind::Compile(format!("{e:#}"))).context(format!("core module {i}")))?;
            modules.push(module);
        }
        Ok(Component { plan: loaded.plan, modules: Arc::new(modules), id: crate::store::next_id() })
    }

    /// The compiled core modules, for engine `E`.
    pub(crate) fn modules<E: WasmEngine>(&self) -> Result<&[E::Module]> {
        self.modules
            .downcast_ref::<Vec<E::Module>>()
            .map(|v| v.as_slice())
            .ok_or_else(|| Error::usage("component was compiled for a different engine type"))
    }

    /// The names of the component's imports, in order.
    pub fn import_names(&self) -> impl Iterator<Item = &str> {
        self.plan.imports.iter().map(|i| i.name.as_str())
    }

    /// The names of the component's root exports, in order.
    pub fn export_names(&self) -> impl Iterator<Item = &str> {
        self.plan.exports.keys().map(|k| k.as_str())
    }

    /// The component's imports with their types, in order (resources shown abstractly, see [`ItemType`]).
    pub fn imports(&self) -> Vec<(String, ItemType)> {
        let res = |i: u32| self.abstract_resource(i);
        let b = TypeBuilder { table: &self.plan.types, resources: &res };
        self.plan.imports.iter().map(|d| (d.name.clone(), import_item(&b, &d.kind))).collect()
    }

    /// The component's exports with their types, in order (resources shown abstractly, see [`ItemType`]).
    pub fn exports(&self) -> Vec<(String, ItemType)> {
        let res = |i: u32| self.abstract_resource(i);
        let b = TypeBuilder { table: &self.plan.types, resources: &res };
        export_items(&b, &self.plan.exports)
    }

    /// The type of an exported function, found by a path of export names (resources are shown abstractly).
    pub fn export_func_type(&self, path: &[&str]) -> Option<FuncType> {
        let mut map = &self.plan.exports;
        let (last, prefix) = path.split_last()?;
        for name in prefix {
            match map.get(*name)? {
                plan::Export::Instance(m) => map = m,
                _ => return None,
            }
        }
        let ty = match map.get(*last)? {
            plan::Export::LiftedFunc(l) => l.ty,
            plan::Export::ImportFunc(_, ty) => *ty,
            _ => return None,
        };
        let res = |i: u32| self.abstract_resource(i);
        Some(TypeBuilder { table: &self.plan.types, resources: &res }.func(ty))
    }

    /// Resource `i` of the plan, for reflection: named after its import or export.
    fn abstract_resource(&self, i: u32) -> ResourceType {
        ResourceType::abstract_(self.id, i, self.plan.resource_name(i))
    }
}

fn import_item(b: &TypeBuilder<'_>, kind: &plan::ImportKind) -> ItemType {
    match kind {
        plan::ImportKind::Func(f) => ItemType::Func(b.func(*f)),
        plan::ImportKind::Instance(items) => {
            ItemType::Instance(items.iter().map(|(n, k)| (n.clone(), import_item(b, k))).collect())
        }
        plan::ImportKind::Module(_) => ItemType::Module,
        plan::ImportKind::Resource(r) | plan::ImportKind::ResourceAlias(r) => ItemType::Resource((b.resources)(*r)),
        plan::ImportKind::Type(t) => ItemType::Type(t.map(|t| b.value(t))),
    }
}

fn export_items(b: &TypeBuilder<'_>, exports: &indexmap::IndexMap<String, plan::Export>) -> Vec<(String, ItemType)> {
    exports
        .iter()
        .map(|(n, e)| {
            let item = match e {
                plan::Export::LiftedFunc(l) => ItemType::Func(b.func(l.ty)),
                plan::Export::ImportFunc(_, ty) => ItemType::Func(b.func(*ty)),
                plan::Export::Instance(m) => ItemType::Instance(export_items(b, m)),
                plan::Export::Module(_) => ItemType::Module,
                plan::Export::Resource(r) => ItemType::Resource((b.resources)(*r)),
                plan::Export::Type(t) => ItemType::Type(t.map(|t| b.value(t))),
                plan::Export::Component => ItemType::Component,
            };
            (n.clone(), item)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linker, Store};

    const WAT: &str = r#"(component
        (core module $m (func (export "f") (result i32) i32.const 7))
        (core instance $i (instantiate $m))
        (func (export "f") (result u32) (canon lift (core func $i "f"))))"#;

    fn call_f<E: WasmEngine>(engine: &Engine<E>, c: &Component) -> u32 {
        let mut store = Store::new(engine, ());
        let instance = Linker::new().instantiate(&mut store, c).unwrap();
        let f = instance.get_typed_func::<(), (u32,)>("f").unwrap();
        f.call(&mut store, ()).unwrap().0
    }

    #[test]
    fn a_second_load_shares_the_plan_and_compiles_for_its_own_engine() {
        let bytes = wat::parse_str(WAT).unwrap();
        let wasmi = Engine::new(wasmi_runtime_layer::Engine::default());
        let wasmtime = Engine::new(wasmtime_runtime_layer::Engine::default());
        let a = Component::new(&wasmi, &bytes).unwrap();
        // The plan is engine-independent: a load for another backend reuses it, with its own core modules.
        let b = Component::new(&wasmtime, &bytes).unwrap();
        assert!(Arc::ptr_eq(&a.plan, &b.plan));
        assert_eq!((call_f(&wasmi, &a), call_f(&wasmtime, &b)), (7, 7));
        // Other features, or no cache: a plan of its own.
        let c = Component::new_with_features(&wasmi, &bytes, default_features() | WasmFeatures::CM_IMPLEMENTS);
        assert!(!Arc::ptr_eq(&a.plan, &c.unwrap().plan));
        assert!(!Arc::ptr_eq(&a.plan, &Component::new_uncached(&wasmi, &bytes, default_features()).unwrap().plan));
        // Other bytes (one byte differs): not the same plan.
        let other = wat::parse_str(WAT.replace("i32.const 7", "i32.const 8")).unwrap();
        let d = Component::new(&wasmi, &other).unwrap();
        assert!(!Arc::ptr_eq(&a.plan, &d.plan));
        assert_eq!(call_f(&wasmi, &d), 8);
        // The cache holds plans weakly: once every component of the bytes is gone, so is the plan.
        let weak = Arc::downgrade(&a.plan);
        drop((a, b));
        assert!(weak.upgrade().is_none());
        assert_eq!(call_f(&wasmi, &Component::new(&wasmi, &bytes).unwrap()), 7);
    }
}
