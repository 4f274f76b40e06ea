//! The linker: definitions of a component's imports (documented on [`Linker`]).

use std::any::type_name;
use std::sync::Arc;

use indexmap::IndexMap;
use wasm_runtime_layer::backend::WasmEngine;

use crate::component::plan::ImportKind;
use crate::concurrent::host::{self as async_host, AsyncHostFn};
use crate::error::{Error, Result};
use crate::func::call::HostFn;
use crate::func::host::{self, TypedHostFn};
use crate::func::typed::{ComponentParams, ComponentResults, Lift, Lower};
use crate::func::Func;
use crate::instance::{Export, Instance, InstancePre};
use crate::module::Module;
use crate::resources::{HostDtor, ResourceType};
use crate::store::StoreContextMut;
use crate::types::FuncType;
use crate::values::Value;

/// Checks a function definition against the import's type; the error says how they differ.
type TypeCheck = Arc<dyn Fn(&FuncType) -> std::result::Result<(), String> + Send + Sync>;

/// How a host function receives its arguments.
pub(crate) enum HostImpl<T: 'static, E: WasmEngine> {
    /// As dynamic values.
    Dynamic(HostFn<T, E>),
    /// As Rust values, lifted and lowered by a typed trampoline body.
    Typed(TypedHostFn<T, E>),
    /// Dynamic or typed, returning a future ([`crate::concurrent::host`]).
    Async(AsyncHostFn<T, E>),
}

impl<T: 'static, E: WasmEngine> Clone for HostImpl<T, E> {
    fn clone(&self) -> Self {
        match self {
            HostImpl::Dynamic(f) => HostImpl::Dynamic(f.clone()),
            HostImpl::Typed(f) => HostImpl::Typed(f.clone()),
            HostImpl::Async(f) => HostImpl::Async(f.clone()),
        }
    }
}

/// One definition in a linker.
pub(crate) enum Definition<T: 'static, E: WasmEngine> {
    /// A host function, with an optional type check.
    Func { check: Option<TypeCheck>, f: HostImpl<T, E> },
    /// A function exported by a component instance.
    ComponentFunc(Func),
    /// A nested instance.
    Instance(LinkerInstance<T, E>),
    /// A resource type, with its destructor if the host implements it.
    Resource { ty: ResourceType, dtor: Option<HostDtor<T, E>> },
    /// A core module.
    Module(Module),
}

impl<T: 'static, E: WasmEngine> Clone for Definition<T, E> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func { check, f } => Definition::Func { check: check.clone(), f: f.clone() },
            Definition::ComponentFunc(f) => Definition::ComponentFunc(f.clone()),
            Definition::Instance(i) => Definition::Instance(i.clone()),
            Definition::Resource { ty, dtor } => Definition::Resource { ty: ty.clone(), dtor: dtor.clone() },
            Definition::Module(m) => Definition::Module(m.clone()),
        }
    }
}

impl<T: 'static, E: WasmEngine> Definition<T, E> {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Definition::Func { .. } | Definition::ComponentFunc(_) => "function",
            Definition::Instance(_) => "instance",
            Definition::Resource { .. } => "resource type",
            Definition::Module(_) => "module",
        }
    }
}

/// A set of named definitions: the root of a [`Linker`] or a nested instance.
pub struct LinkerInstance<T: 'static, E: WasmEngine> {
    pub(crate) items: IndexMap<String, Definition<T, E>>,
    allow_shadowing: bool,
}

impl<T: 'static, E: WasmEngine> Clone for LinkerInstance<T, E> {
    fn clone(&self) -> Self {
        LinkerInstance { items: self.items.clone(), allow_shadowing: self.allow_shadowing }
    }
}

impl<T: 'static, E: WasmEngine> Default for LinkerInstance<T, E> {
    fn default() -> Self {
        LinkerInstance { items: IndexMap::new(), allow_shadowing: false }
    }
}

/// Definitions for a component's imports.
///
/// A `Linker` holds named definitions — host functions (dynamic or typed), nested instances (for interface
/// imports like `wasi:cli/environment@0.2.0`), host resource types with their destructors, core modules, and
/// functions or whole instances exported by other component instances in the same store. Lookup by name is
/// semver-aware, as in wasmtime: an import of `a:b/c@1.2.0` is satisfied by a definition of `a:b/c@1.2.5`.
///
/// Type checking happens once, at instantiation: functions defined with a type ([`LinkerInstance::func_new_typed`],
/// [`LinkerInstance::func_wrap`]) or taken from another instance must match the import exactly; resources,
/// instances and modules are checked structurally. Failures are [`crate::ErrorKind::Link`] errors that name the
/// import (`wasi:cli/environment@0.2.0#get-environment` for a function inside an imported instance).
///
/// ```
/// # use component_layer::{Component, Engine, Linker, Store, Value};
/// # fn main() -> component_layer::Result<()> {
/// # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
/// // A component that imports `log` from the interface `example:host/log@1.0.0` (any 1.0.x satisfies it)
/// // and `now` at its root, and exports `run`, which logs the time.
/// let component = Component::new(&engine, &wat::parse_str(r#"(component
///   (import "example:host/log@1.0.0" (instance $log (export "log" (func (param "msg" u64)))))
///   (import "now" (func $now (result u64)))
///   (alias export $log "log" (func $log))
///   (core func $log-core (canon lower (func $log)))
///   (core func $now-core (canon lower (func $now)))
///   (core module $m
///     (import "host" "log" (func $log (param i64)))
///     (import "host" "now" (func $now (result i64)))
///     (func (export "run") (call $log (call $now))))
///   (core instance $i (instantiate $m (with "host" (instance
///     (export "log" (func $log-core)) (export "now" (func $now-core))))))
///   (func (export "run") (canon lift (core func $i "run"))))"#).unwrap())?;
///
/// // The store's data is the log.
/// let mut linker = Linker::<Vec<u64>, _>::new();
/// linker.instance("example:host/log@1.0.3")?.func_wrap("log", |mut cx, (msg,): (u64,)| {
///     cx.data_mut().push(msg);
///     Ok(())
/// })?;
/// linker.root().func_new("now", |_cx, _params, results| {
///     results[0] = Value::U64(42);
///     Ok(())
/// })?;
/// let mut store = Store::new(&engine, Vec::new());
/// let instance = linker.instantiate(&mut store, &component)?;
/// instance.get_typed_func::<(), ()>("run")?.call(&mut store, ())?;
/// assert_eq!(*store.data(), [42]);
///
/// // A definition of another type is refused when the component is linked, naming the import.
/// let mut wrong = Linker::<(), _>::new();
/// wrong.instance("example:host/log@1.0.0")?.func_wrap("log", |_cx, (_msg,): (String,)| Ok(()))?;
/// wrong.root().func_wrap("now", |_cx, (): ()| Ok((0u64,)))?;
/// let err = wrong.instantiate(&mut Store::new(&engine, ()), &component).unwrap_err();
/// assert!(err.to_string().contains("example:host/log@1.0.0#log"), "{err}");
/// # Ok(()) }
/// ```
pub struct Linker<T: 'static, E: WasmEngine> {
    root: LinkerInstance<T, E>,
}

impl<T: 'static, E: WasmEngine> Clone for Linker<T, E> {
    fn clone(&self) -> Self {
        Linker { root: self.root.clone() }
    }
}

impl<T: 'static, E: WasmEngine> Default for Linker<T, E> {
    fn default() -> Self {
        Linker { root: LinkerInstance::default() }
    }
}

impl<T: 'static, E: WasmEngine> Linker<T, E> {
    /// An empty linker.
    pub fn new() -> Self {
        Self::default()
    }

    /// The root definitions (for root function imports like `host-fn`).
    pub fn root(&mut self) -> &mut LinkerInstance<T, E> {
        &mut self.root
    }

    /// The nested instance `name` at the root, created if missing.
    pub fn instance(&mut self, name: &str) -> Result<&mut LinkerInstance<T, E>> {
        self.root.instance(name)
    }

    /// Lets later definitions replace earlier ones with the same name instead of failing.
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.root.allow_shadowing = allow;
        self
    }

    pub(crate) fn root_ref(&self) -> &LinkerInstance<T, E> {
        &self.root
    }

    /// Defines every import of `component` that this linker does not define yet as a stub: functions trap when
    /// called, instances are filled recursively, resource types become fresh host types. Useful to instantiate a
    /// component whose imports are never exercised (as wasmtime's method of the same name).
    pub fn define_unknown_imports_as_traps(&mut self, component: &crate::Component) -> Result<()> {
        for decl in &component.plan.imports {
            stub(&mut self.root, &decl.name, &decl.kind)?;
        }
        Ok(())
    }

    /// Instantiates `component` in `store` with this linker's definitions: [`Linker::instantiate_pre`], then
    /// [`InstancePre::instantiate`].
    pub fn instantiate<S>(&self, store: S, component: &crate::Component) -> Result<Instance>
    where
        S: crate::AsContextMut<Data = T, Engine = E>,
    {
        self.instantiate_pre(component)?.instantiate(store)
    }

    /// Resolves `component`'s imports against this linker's definitions and type-checks them, once: a missing
    /// or mistyped import fails here. The result instantiates the component in any store of engine type `E`
    /// without looking at the linker again.
    pub fn instantiate_pre(&self, component: &crate::Component) -> Result<InstancePre<T, E>> {
        crate::instance::pre(self, component)
    }
}

impl<T: 'static, E: WasmEngine> LinkerInstance<T, E> {
    fn insert(&mut self, name: &str, def: Definition<T, E>) -> Result<()> {
        if !self.allow_shadowing && self.items.contains_key(name) {
            return Err(Error::link(format!("`{name}` is already defined")));
        }
        self.items.insert(name.to_owned(), def);
        Ok(())
    }

    /// Defines a host function taking and returning dynamic values; its values are checked against the
    /// import's type when they are lowered.
    ///
    /// When the function has a result, `results` has one slot, which holds a placeholder until the host writes
    /// the result: returning `Ok` without writing it fails the call ("the host function did not set its
    /// result"), located at the import.
    pub fn func_new(
        &mut self,
        name: &str,
        f: impl Fn(StoreContextMut<'_, T, E>, &[Value], &mut [Value]) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Func { check: None, f: HostImpl::Dynamic(Arc::new(f)) })
    }

    /// Defines a host function with a declared type; the import must have the same parameter and result types
    /// (parameter names are not compared).
    pub fn func_new_typed(
        &mut self,
        name: &str,
        ty: FuncType,
        f: impl Fn(StoreContextMut<'_, T, E>, &[Value], &mut [Value]) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let check: TypeCheck = Arc::new(move |want: &FuncType| {
            if want.same_signature(&ty) {
                Ok(())
            } else {
                Err(format!("expected function of type `{want}`, defined with `{ty}`"))
            }
        });
        self.insert(name, Definition::Func { check: Some(check), f: HostImpl::Dynamic(Arc::new(f)) })
    }

    /// Defines a host function with Rust parameter and result types (`P` a tuple, `R` `()` or a 1-tuple),
    /// checked against the import once, at instantiation; a failed check names the parameter and the field,
    /// case or label that differs.
    ///
    /// Each call lifts the guest's arguments straight into `P` and lowers `R` straight into the guest, without
    /// going through [`Value`]; for a scalar signature it allocates nothing.
    pub fn func_wrap<P, R, F>(&mut self, name: &str, f: F) -> Result<()>
    where
        P: ComponentParams + Lift + 'static,
        R: ComponentResults + 'static,
        R::One: Lower,
        F: Fn(StoreContextMut<'_, T, E>, P) -> anyhow::Result<R> + Send + Sync + 'static,
    {
        let check = typed_check::<P, R>();
        self.insert(name, Definition::Func { check: Some(check), f: HostImpl::Typed(host::typed(f)) })
    }

    /// Defines an async host function taking dynamic values: `f` runs when the guest calls it, with the store and
    /// the arguments, and returns a future of the result (`None` for a function without one). The future is
    /// polled by the store's event loop while guests run; it cannot borrow the store, so `f` takes from the
    /// store what the future needs before returning it.
    ///
    /// Called through an async lower (`canon lower … async`), a call whose future is not ready at once becomes a
    /// subtask (`STARTED`), which resolves (`RETURNED`, a `SUBTASK` event) when the future is ready;
    /// `subtask.cancel` drops the future. Called through a synchronous lower, the caller blocks until the future
    /// is ready: see [`crate::Func::call`] and [`crate::Func::call_async`] for how the thread waits meanwhile.
    /// The result is checked against the import's type when it is lowered: a wrong type, or `None` for a function
    /// with a result, traps the caller. An error from the future traps the caller too.
    ///
    /// ```
    /// # use component_layer::{Component, Engine, Linker, Store, Value};
    /// # fn main() -> component_layer::Result<()> {
    /// # let engine = Engine::new(wasmi_runtime_layer::Engine::default());
    /// // A component whose callback-lifted export `run` calls the async import `double` with an async lower,
    /// // waits for its subtask if it has to, and returns its result.
    /// let component = Component::new(&engine, &wat::parse_str(r#"(component
    ///   (import "double" (func $double async (param "x" u32) (result u32)))
    ///   (core module $Mem (memory (export "mem") 1))
    ///   (core instance $mem (instantiate $Mem))
    ///   (core func $double (canon lower (func $double) async (memory (core memory $mem "mem"))))
    ///   (core func $task.return (canon task.return (result u32)))
    ///   (core func $ws.new (canon waitable-set.new))
    ///   (core func $join (canon waitable.join))
    ///   (core func $subtask.drop (canon subtask.drop))
    ///   (core module $m
    ///     (import "" "mem" (memory 1))
    ///     (import "" "double" (func $double (param i32 i32) (result i32)))
    ///     (import "" "task.return" (func $task.return (param i32)))
    ///     (import "" "ws.new" (func $ws.new (result i32)))
    ///     (import "" "join" (func $join (param i32 i32)))
    ///     (import "" "subtask.drop" (func $subtask.drop (param i32)))
    ///     (func (export "run") (param $x i32) (result i32) (local $st i32) (local $ws i32)
    ///       ;; double(x), its result at address 16
    ///       (local.set $st (call $double (local.get $x) (i32.const 16)))
    ///       (if (i32.eq (local.get $st) (i32.const 2)) ;; RETURNED
    ///         (then (call $task.return (i32.load (i32.const 16))) (return (i32.const 0)))) ;; EXIT
    ///       ;; STARTED: wait for the subtask's event
    ///       (local.set $ws (call $ws.new))
    ///       (call $join (i32.shr_u (local.get $st) (i32.const 4)) (local.get $ws))
    ///       (i32.or (i32.const 2) (i32.shl (local.get $ws) (i32.const 4)))) ;; WAIT
    ///     (func (export "cb") (param $event i32) (param $subtask i32) (param $state i32) (result i32)
    ///       (call $subtask.drop (local.get $subtask))
    ///       (call $task.return (i32.load (i32.const 16)))
    ///       (i32.const 0)))
    ///   (core instance $i (instantiate $m (with "" (instance
    ///     (export "mem" (memory $mem "mem")) (export "double" (func $double))
    ///     (export "task.return" (func $task.return)) (export "ws.new" (func $ws.new))
    ///     (export "join" (func $join)) (export "subtask.drop" (func $subtask.drop))))))
    ///   (func (export "run") async (param "x" u32) (result u32)
    ///     (canon lift (core func $i "run") async (callback (core func $i "cb")))))"#).unwrap())?;
    ///
    /// let mut linker = Linker::<(), _>::new();
    /// linker.root().func_new_async("double", |_store, params| {
    ///     let x = match params { [Value::U32(x)] => *x, _ => 0 };
    ///     // Any `Send + 'static` future: here one computed on another thread.
    ///     let (tx, rx) = std::sync::mpsc::channel();
    ///     std::thread::spawn(move || tx.send(x * 2));
    ///     async move { Ok(Some(Value::U32(rx.recv()?))) }
    /// })?;
    /// let mut store = Store::new(&engine, ());
    /// let instance = linker.instantiate(&mut store, &component)?;
    /// let run = instance.get_func("run").unwrap();
    /// let mut results = [Value::Bool(false)];
    /// // `call` runs the event loop until `run` returns; `call_async` would do the same as a future.
    /// run.call(&mut store, &[Value::U32(21)], &mut results)?;
    /// assert_eq!(results[0], Value::U32(42));
    /// # Ok(()) }
    /// ```
    pub fn func_new_async<F, Fut>(&mut self, name: &str, f: F) -> Result<()>
    where
        F: Fn(StoreContextMut<'_, T, E>, &[Value]) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<Option<Value>>> + Send + 'static,
    {
        self.insert(name, Definition::Func { check: None, f: HostImpl::Async(async_host::dynamic(f)) })
    }

    /// Defines an async host function with Rust parameter and result types, as [`LinkerInstance::func_wrap`]
    /// (the types are checked against the import once, at instantiation) and with the behaviour of
    /// [`LinkerInstance::func_new_async`]: `f` gets the store and the arguments, and returns a `Send + 'static`
    /// future of the result.
    pub fn func_wrap_async<P, R, F, Fut>(&mut self, name: &str, f: F) -> Result<()>
    where
        P: ComponentParams + Lift + 'static,
        R: ComponentResults + Send + 'static,
        R::One: Lower,
        F: Fn(StoreContextMut<'_, T, E>, P) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = anyhow::Result<R>> + Send + 'static,
    {
        let check = typed_check::<P, R>();
        self.insert(name, Definition::Func { check: Some(check), f: HostImpl::Async(async_host::typed(f)) })
    }

    /// Defines a function exported by another component instance.
    pub fn func(&mut self, name: &str, func: Func) -> Result<()> {
        self.insert(name, Definition::ComponentFunc(func))
    }

    /// The nested instance `name`, created if missing.
    pub fn instance(&mut self, name: &str) -> Result<&mut LinkerInstance<T, E>> {
        if !self.items.contains_key(name) {
            let allow = self.allow_shadowing;
            self.items.insert(
                name.to_owned(),
                Definition::Instance(LinkerInstance { items: IndexMap::new(), allow_shadowing: allow }),
            );
        }
        match self.items.get_mut(name) {
            Some(Definition::Instance(i)) => Ok(i),
            Some(other) => Err(Error::link(format!("`{name}` is already defined as a {}", other.kind_name()))),
            None => Err(Error::internal("a linker instance vanished after its insertion")),
        }
    }

    /// Defines a resource type implemented by the host; `dtor` runs when a component drops an owning handle.
    pub fn resource(
        &mut self,
        name: &str,
        ty: ResourceType,
        dtor: impl Fn(StoreContextMut<'_, T, E>, u32) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        self.insert(name, Definition::Resource { ty, dtor: Some(Arc::new(dtor)) })
    }

    /// Defines the host resource type of Rust type `R` (see [`crate::Resource`]); when a component drops an owning
    /// handle, the resource's state is taken out of the store and passed to `dtor`.
    pub fn resource_typed<R: std::any::Any + Send>(
        &mut self,
        name: &str,
        dtor: impl Fn(StoreContextMut<'_, T, E>, R) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> Result<()> {
        let ty = ResourceType::host::<R>();
        let host_dtor: HostDtor<T, E> = Arc::new(move |mut ctx, rep| {
            let value = ctx.rt().host.values.take(std::any::TypeId::of::<R>(), rep);
            match value.map(|v| v.downcast::<R>()) {
                Some(Ok(v)) => dtor(ctx, *v),
                _ => Ok(()),
            }
        });
        self.insert(name, Definition::Resource { ty, dtor: Some(host_dtor) })
    }

    /// Defines a resource type exported by another component instance (no host destructor).
    pub fn resource_type(&mut self, name: &str, ty: ResourceType) -> Result<()> {
        self.insert(name, Definition::Resource { ty, dtor: None })
    }

    /// Defines a core module.
    pub fn module(&mut self, name: &str, module: &Module) -> Result<()> {
        self.insert(name, Definition::Module(module.clone()))
    }

    /// Defines everything an instance exports (functions, nested instances, resource types, modules) under this
    /// linker instance, so another component can import them.
    pub fn instance_exports(&mut self, instance: &Instance) -> Result<()> {
        for (name, export) in instance.exports() {
            self.export_item(name, export)?;
        }
        Ok(())
    }

    fn export_item(&mut self, name: &str, export: &Export) -> Result<()> {
        match export {
            Export::Func(f) => self.func(name, f.clone()),
            Export::Instance(i) => {
                let inner = self.instance(name)?;
                for (n, e) in i.exports() {
                    inner.export_item(n, e)?;
                }
                Ok(())
            }
            Export::Type(Some(rt)) => self.resource_type(name, rt.clone()),
            Export::Type(None) => Ok(()),
            Export::Module(m) => self.module(name, m),
        }
    }

    /// Looks up a definition by name; an exact match wins, otherwise the highest semver-compatible version.
    pub(crate) fn get(&self, name: &str) -> Option<&Definition<T, E>> {
        if let Some(d) = self.items.get(name) {
            return Some(d);
        }
        let (base, version) = split_version(name)?;
        let mut best: Option<(Version, &Definition<T, E>)> = None;
        for (k, d) in &self.items {
            let Some((kb, kv)) = split_version(k) else { continue };
            if kb == base && compatible(&version, &kv) && best.as_ref().is_none_or(|(bv, _)| kv > *bv) {
                best = Some((kv, d));
            }
        }
        best.map(|(_, d)| d)
    }
}

/// The type check of a function defined with Rust types `P` -> `R`.
fn typed_check<P: ComponentParams + 'static, R: ComponentResults + 'static>() -> TypeCheck {
    Arc::new(|want: &FuncType| {
        let params: Vec<_> = want.params().iter().map(|(_, t)| t.clone()).collect();
        let defined = || format!("defined with Rust types `{}` -> `{}`", type_name::<P>(), type_name::<R>());
        <P as ComponentParams>::typecheck(&params)
            .map_err(|e| format!("function of type `{want}` {}: {}", defined(), e))?;
        R::typecheck(want.result()).map_err(|e| format!("function of type `{want}` {}: {}", defined(), e))
    })
}

/// Defines a trapping stub for an import kind, unless the name is already defined.
fn stub<T: 'static, E: WasmEngine>(inst: &mut LinkerInstance<T, E>, name: &str, kind: &ImportKind) -> Result<()> {
    match kind {
        ImportKind::Func(_) => {
            if inst.get(name).is_none() {
                let msg = format!("unknown import `{name}` has not been defined");
                inst.insert(
                    name,
                    Definition::Func {
                        check: None,
                        f: HostImpl::Dynamic(Arc::new(move |_, _, _| Err(anyhow::anyhow!("{msg}")))),
                    },
                )?;
            }
        }
        ImportKind::Instance(map) => {
            if matches!(inst.get(name), None | Some(Definition::Instance(_))) {
                let child = inst.instance(name)?;
                for (n, k) in map {
                    stub(child, n, k)?;
                }
            }
        }
        ImportKind::Resource(_) => {
            if inst.get(name).is_none() {
                let id = STUB_RESOURCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                inst.insert(name, Definition::Resource { ty: ResourceType::host_dynamic(id), dtor: None })?;
            }
        }
        ImportKind::Module(_) | ImportKind::ResourceAlias(_) | ImportKind::Type(_) => {}
    }
    Ok(())
}

/// Numbers for the fresh host resource types of stubbed resource imports (kept away from small numbers a host
/// might choose).
static STUB_RESOURCES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1 << 31);

type Version = (u64, u64, u64, String);

fn split_version(name: &str) -> Option<(&str, Version)> {
    let (base, v) = name.rsplit_once('@')?;
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((c, p)) => (c, p.to_owned()),
        None => (v, String::new()),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??, pre);
    if parts.next().is_some() {
        return None;
    }
    Some((base, version))
}

/// Semver compatibility as wasmtime applies it: the same major (≥ 1), or the same minor (0.x, x ≥ 1); no
/// pre-releases.
fn compatible(a: &Version, b: &Version) -> bool {
    if !a.3.is_empty() || !b.3.is_empty() {
        return a == b;
    }
    match (a.0, b.0) {
        (0, 0) => a.1 == b.1 && a.1 != 0,
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_matching() {
        let v = |s: &str| split_version(s).unwrap().1;
        assert!(compatible(&v("a:b/c@1.2.0"), &v("a:b/c@1.3.1")));
        assert!(!compatible(&v("a:b/c@1.2.0"), &v("a:b/c@2.0.0")));
        assert!(compatible(&v("a:b/c@0.2.0"), &v("a:b/c@0.2.7")));
        assert!(!compatible(&v("a:b/c@0.2.0"), &v("a:b/c@0.3.0")));
        assert!(!compatible(&v("a:b/c@0.0.1"), &v("a:b/c@0.0.2")));
        assert!(!compatible(&v("a:b/c@1.0.0-rc1"), &v("a:b/c@1.0.0")));
        assert!(split_version("plain").is_none());
    }
}
