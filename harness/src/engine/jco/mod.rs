//! jco (1.35, in Node): the Bytecode Alliance's JavaScript implementation of the component model, as a fourth
//! engine.
//!
//! jco transpiles a component into JavaScript glue plus core modules; the glue lifts and lowers values itself, so
//! it is an implementation of the canonical ABI independent of both component-layer and wasmtime. The engine
//! drives one long-lived `node` per engine (so one per worker) running `harness/js/driver.mjs` ([`node`]): it
//! transpiles each component in memory with jco's `transpile` API (sync instantiation), instantiates it, calls
//! exports and drops resources on request.
//!
//! **The host is the harness's.** Every host import the component calls is forwarded over the same pipe: the
//! driver blocks on stdin until the harness answers (Node can wait on a pipe synchronously, which a synchronous
//! host function needs). The harness answers with the same code as the other engines ([`CaseState::answer`],
//! [`ValueGen`] with the same seeds, the `.wast` values), and logs the [`ImportCall`]s itself. "All engines see the
//! same host" is therefore true by construction, not by a port kept in step. A host that reenters the component
//! sends a call while the driver waits; the driver serves it.
//!
//! **Types come from component-layer's reflection** of the same bytes: jco's values are JavaScript, and the
//! conversion to and from harness values is type-directed ([`convert`]). Resources cross as labels: a resource
//! object the component gives out is numbered by the driver and shows as `own<guest>#N` (or `own<NAME>#N` for a
//! host resource), numbered by [`Holdings`] like the other engines.
//!
//! **What jco lacks** is reported, not faked: linking a later component to a registered (named) instance and
//! core module imports are [`Failure::Unsupported`]; so is a component jco cannot transpile (jco needs a component
//! whose exports can be described by a WIT world), and one its transpiler is known to panic on
//! (`transpile_panic`, each with its report in `corpus/jco/`). Missing `node` or jco makes `compile` fail with the reason.
//! A driver that dies or hangs (a timeout on every read) is a trap whose message says so; the next compile
//! starts a new driver.

pub mod convert;
pub mod node;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use component_gen::case::export_path;
use component_layer::generic::{mix_seed, name_hash, ValueGen};
use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::Value;
use serde_json::{json, Value as Json};

use self::convert::{from_js, lower_camel, to_js, upper_camel, whole_result};
use self::node::{Node, NodeError};
use super::host::{Answer, CaseHost, SharedState};
use super::value::{holding_label, Holdings};
use super::{CallSpec, ComponentId, Engine, Failure, Host, HostKind, ImportCall, InstanceId, ResourceArg, TrapClass};

/// How long a transpile may take.
const TRANSPILE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long any other request may take (`COMPONENT_HARNESS_JCO_TIMEOUT` seconds, default 30).
fn call_timeout() -> Duration {
    let secs = std::env::var("COMPONENT_HARNESS_JCO_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    Duration::from_secs(secs)
}

/// The jco version the toolchain pins (`toolchains/package.json`).
pub const JCO_VERSION: &str = "1.35.0";

/// A resource the host holds: an object of the component's (numbered by the driver) or one of the host's.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Hold {
    Guest(u64),
    Host { class: String, rep: u32 },
}

struct JcoComponent {
    bytes: Vec<u8>,
    /// component-layer's view of the same bytes: the types.
    layer: component_layer::Component,
    /// The driver's number for it, and the driver generation it belongs to.
    transpiled: Option<(u64, u64)>,
}

struct JcoInstance {
    generation: u64,
    id: u64,
    component: ComponentId,
    holdings: Holdings<Hold>,
    host: HostCtx,
}

/// What answering host calls needs: the host, and the generic host's call counts.
#[derive(Clone)]
struct HostCtx {
    host: Host,
    component: ComponentId,
    /// The driver's number of the instance (none while it is being instantiated).
    instance: Option<u64>,
    counts: HashMap<String, u64>,
    /// Set when a host function failed during the current request (its trap is a host failure).
    host_failed: bool,
    /// Set when the harness could not carry a value across (the step is unsupported, not a trap).
    unsupported: Option<String>,
}

/// The jco engine.
pub struct JcoEngine {
    node: Option<Node>,
    /// Incremented at every driver start: what an older driver had is gone.
    generation: u64,
    reflect: component_layer::Engine<wasmi_runtime_layer::Engine>,
    components: Vec<JcoComponent>,
    instances: Vec<Option<JcoInstance>>,
    /// Names instances were registered under: a later component that imports one cannot be linked.
    registered: std::collections::HashSet<String>,
    state: SharedState,
}

impl Default for JcoEngine {
    fn default() -> Self {
        Self::new()
    }
}

fn node_failure(e: NodeError) -> Failure {
    match e {
        NodeError::Unavailable(_) => Failure::unsupported(e.to_string()),
        NodeError::Died(_) | NodeError::Timeout(_) => Failure::trap_of(TrapClass::Other, e.to_string()),
    }
}

impl JcoEngine {
    /// An engine; the driver starts with the first compile.
    pub fn new() -> Self {
        JcoEngine {
            node: None,
            generation: 0,
            reflect: component_layer::Engine::new(wasmi_runtime_layer::Engine::default()),
            components: Vec::new(),
            instances: Vec::new(),
            registered: Default::default(),
            state: SharedState::default(),
        }
    }

    /// Whether the engine can run here: `Err` with the reason if not (starts the driver once to find out).
    pub fn available() -> Result<(), String> {
        Node::start().map(drop).map_err(|e| e.to_string())
    }

    fn node(&mut self) -> Result<&mut Node, Failure> {
        if self.node.is_none() {
            self.node = Some(Node::start().map_err(node_failure)?);
            self.generation += 1;
        }
        self.node.as_mut().ok_or_else(|| Failure::trap("no driver"))
    }

    /// Sends `req` and waits for its reply, answering host calls meanwhile.
    fn exchange(&mut self, req: &Json, ctx: &mut HostCtx, timeout: Duration) -> Result<Json, Failure> {
        let result = self.exchange_inner(req, ctx, timeout);
        if let Err(NodeError::Died(_) | NodeError::Timeout(_)) = &result {
            // Whatever the driver held is gone; the next compile starts a new one.
            self.node = None;
        }
        result.map_err(node_failure)
    }

    fn exchange_inner(&mut self, req: &Json, ctx: &mut HostCtx, timeout: Duration) -> Result<Json, NodeError> {
        let node = self.node.as_mut().ok_or_else(|| NodeError::Died("not running".into()))?;
        node.send(req)?;
        loop {
            let node = self.node.as_mut().ok_or_else(|| NodeError::Died("not running".into()))?;
            let mut msg = node.receive(timeout)?;
            if let Some(reply) = msg.get_mut("reply") {
                return Ok(reply.take());
            }
            let Some(call) = msg.get("host") else {
                return Err(NodeError::Died(format!("unexpected message {msg}")));
            };
            let answer = self.answer_host(ctx, call);
            let node = self.node.as_mut().ok_or_else(|| NodeError::Died("not running".into()))?;
            node.send(&json!({ "answer": answer }))?;
        }
    }

    /// Makes sure the driver has component `c` (transpiling it again after a restart): its number.
    fn transpiled(&mut self, c: ComponentId) -> Result<u64, Failure> {
        self.node()?;
        let generation = self.generation;
        let comp = self.components.get(c).ok_or_else(|| Failure::invalid("no such component"))?;
        if let Some((g, id)) = comp.transpiled {
            if g == generation {
                return Ok(id);
            }
        }
        let req = json!({"op": "transpile", "bytes": hex(&comp.bytes)});
        let mut ctx = HostCtx::new(Host::stubs(), c);
        let reply = self.exchange(&req, &mut ctx, TRANSPILE_TIMEOUT)?;
        if reply.pointer("/err/class").and_then(Json::as_str) == Some("crash") {
            // The transpiler is poisoned: the next component gets a fresh driver.
            let panic = self.node.as_ref().and_then(Node::panic_message);
            self.node = None;
            return Err(transpiler_crash(err_message(&reply), panic));
        }
        let ok = reply_ok(&reply, &ctx)?;
        let id = ok.get("id").and_then(Json::as_u64).ok_or_else(|| Failure::trap(format!("bad reply {reply}")))?;
        if let Some(comp) = self.components.get_mut(c) {
            comp.transpiled = Some((generation, id));
        }
        Ok(id)
    }

    fn live(&mut self, instance: InstanceId) -> Result<&mut JcoInstance, Failure> {
        let generation = self.generation;
        match self.instances.get_mut(instance).and_then(Option::as_mut) {
            Some(i) if i.generation == generation && self.node.is_some() => Ok(i),
            Some(_) => Err(Failure::trap_of(TrapClass::Other, "the jco driver restarted: the instance is gone")),
            None => Err(Failure::trap_of(TrapClass::Other, "the instance was dropped")),
        }
    }

    fn imports_of(&self, c: ComponentId) -> Vec<(String, ItemType)> {
        self.components.get(c).map(|c| c.layer.imports()).unwrap_or_default()
    }

    /// Answers one host call from the driver: `{"ok": v}`, `{"payload": e}` (a whole result's `err`) or
    /// `{"throw": message}`.
    fn answer_host(&mut self, ctx: &mut HostCtx, call: &Json) -> Json {
        match self.answer_host_inner(ctx, call) {
            Ok(a) => a,
            Err(HostError::Failed(m)) => {
                ctx.host_failed = true;
                json!({ "throw": m })
            }
            Err(HostError::Unsupported(m)) => {
                ctx.unsupported.get_or_insert(m.clone());
                json!({ "throw": m })
            }
        }
    }

    fn answer_host_inner(&mut self, ctx: &mut HostCtx, call: &Json) -> Result<Json, HostError> {
        let module = call.get("module").and_then(Json::as_str).unwrap_or_default();
        let name = call.get("name").and_then(Json::as_str).unwrap_or_default();
        let args = call.get("args").and_then(Json::as_array).cloned().unwrap_or_default();
        let imports = self.imports_of(ctx.component);
        let target = resolve(&imports, module, name)
            .ok_or_else(|| HostError::Failed(format!("the component imports no `{module}`.`{name}`")))?;
        let (full, root_name, ty) = match target {
            Target::Dtor { resource } => return self.destructor(ctx, &resource, &args),
            Target::Func { full, root_name, ty } => (full, root_name, ty),
        };
        match ctx.host.kind.clone() {
            HostKind::Case(case) => self.answer_case(ctx, &case, &root_name, &ty, &args),
            HostKind::Generic { seed } => answer_generic(&self.state, ctx, seed, &full, &ty, &args),
            HostKind::Wast => answer_wast(&full),
            HostKind::None => Err(HostError::Failed(format!("import `{full}` is a trapping stub"))),
        }
    }

    fn destructor(&mut self, ctx: &HostCtx, resource: &str, args: &[Json]) -> Result<Json, HostError> {
        let rep = args.first().and_then(Json::as_u64).and_then(|r| u32::try_from(r).ok()).unwrap_or(u32::MAX);
        let name = match &ctx.host.kind {
            HostKind::Case(case) => {
                let ty = case.resources.iter().find(|(_, n)| n == resource).map(|(t, _)| *t);
                ty.map(|t| case.dtor_name(t)).unwrap_or_else(|| format!("[dtor]{resource}"))
            }
            _ => format!("[resource-drop]{resource}"),
        };
        self.state.log(ImportCall { name, args: vec![Value::U32(rep)], result: Ok(None) });
        Ok(json!({ "ok": null }))
    }

    fn answer_case(
        &mut self,
        ctx: &mut HostCtx,
        case: &Arc<CaseHost>,
        name: &str,
        ty: &FuncType,
        args: &[Json],
    ) -> Result<Json, HostError> {
        let imp = case
            .imports
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| HostError::Failed(format!("import `{name}` is a trapping stub")))?
            .clone();
        let mut values = Vec::with_capacity(args.len());
        for (a, (_, t)) in args.iter().zip(ty.params()) {
            values.push(from_js(a, t, &mut host_rep).map_err(HostError::Unsupported)?);
        }
        let answer = self.state.lock().answer(&imp, values, ctx.host.fault);
        match answer {
            Err(e) => Err(HostError::Failed(e.to_string())),
            Ok(Answer::Return(v)) => {
                let top = imp.sig.result.as_ref().and_then(super::host::host_resource).map(|(t, _)| t);
                answer_value(v.as_ref(), ty.result(), &mut |v, t| case_host_object(case, top, v, t))
            }
            Ok(Answer::Reenter(export)) => {
                let instance = ctx.instance.ok_or_else(|| HostError::Failed("no instance to reenter yet".into()))?;
                let path: Vec<String> = export_path(&export).into_iter().map(str::to_owned).collect();
                let req = json!({"op": "call", "instance": instance, "path": path, "args": args});
                let reply = self.exchange(&req, ctx, call_timeout()).map_err(|f| HostError::Failed(f.to_string()))?;
                if let Some(p) = reply.get("payload") {
                    return Ok(json!({ "payload": p }));
                }
                match reply.get("ok") {
                    Some(v) => Ok(json!({ "ok": v })),
                    None => Err(HostError::Failed(format!("the reentering call failed: {}", err_message(&reply)))),
                }
            }
        }
    }
}

/// Why the harness could not answer a host call.
enum HostError {
    /// The host function fails (a trap in the guest).
    Failed(String),
    /// The harness cannot carry the value (the step is unsupported).
    Unsupported(String),
}

impl HostCtx {
    fn new(host: Host, component: ComponentId) -> Self {
        HostCtx { host, component, instance: None, counts: HashMap::new(), host_failed: false, unsupported: None }
    }

    fn begin(&mut self) {
        self.host_failed = false;
        self.unsupported = None;
    }
}

/// A host resource object's representation (what the case host works on).
fn host_rep(j: &Json, _: &ValueType) -> Result<Value, String> {
    match j.get("$h").and_then(Json::as_u64).and_then(|r| u32::try_from(r).ok()) {
        Some(rep) => Ok(Value::U32(rep)),
        None => Err(format!(
            "a resource object of the component's own ({j}) reaches the host: jco hides its representation"
        )),
    }
}

/// The host object for a case host's resource result (`U32(rep)` of host type `top`, the type of the import's
/// whole result when it is a handle).
fn case_host_object(case: &CaseHost, top: Option<u32>, v: &Value, ty: &ValueType) -> Result<Json, String> {
    let (Value::U32(rep), ValueType::Own(_) | ValueType::Borrow(_)) = (v, ty) else {
        return Err(format!("a resource position holds {v:?}"));
    };
    let name = top
        .and_then(|t| case.resource_name(t))
        .ok_or("the jco engine carries host resources only as an import's whole result")?;
    Ok(json!({"$h": rep, "t": upper_camel(name)}))
}

/// The JSON answer for a host function's result `v` of type `ty`: jco's host functions return a whole result's
/// `ok` payload and throw its `err` payload.
fn answer_value(
    v: Option<&Value>,
    ty: Option<&ValueType>,
    res: &mut convert::ToJsResource<'_>,
) -> Result<Json, HostError> {
    let (v, ty) = match (v, ty) {
        (Some(v), Some(t)) => (v, t),
        (_, None) => return Ok(json!({ "ok": null })),
        (None, Some(t)) => return Err(HostError::Failed(format!("the host returned nothing for a {t:?}"))),
    };
    match (v, ty) {
        (Value::Result(r), ValueType::Result { ok, err }) => {
            let (p, t, key) = match r {
                Ok(p) => (p, ok, "ok"),
                Err(p) => (p, err, "payload"),
            };
            let j = match (p, t) {
                (Some(p), Some(t)) => to_js(p, t, res).map_err(HostError::Unsupported)?,
                _ => Json::Null,
            };
            Ok(json!({ key: j }))
        }
        _ => Ok(json!({ "ok": to_js(v, ty, res).map_err(HostError::Unsupported)? })),
    }
}

/// The generic recording host, as [`component_layer::generic`] answers: the same seeds and values.
fn answer_generic(
    state: &SharedState,
    ctx: &mut HostCtx,
    seed: u64,
    full: &str,
    ty: &FuncType,
    args: &[Json],
) -> Result<Json, HostError> {
    let mut values = Vec::with_capacity(args.len());
    for (a, (_, t)) in args.iter().zip(ty.params()) {
        values.push(from_js(a, t, &mut |j, _| Err(format!("resource {j}"))).map_err(HostError::Unsupported)?);
    }
    let n = ctx.counts.entry(full.to_owned()).or_insert(0);
    *n += 1;
    let call_seed = mix_seed(seed, &[name_hash(full), *n]);
    let Some(rt) = ty.result() else {
        state.log(ImportCall { name: full.to_owned(), args: values, result: Ok(None) });
        return Ok(json!({ "ok": null }));
    };
    let mut no_resources = |_: &component_layer::ResourceType, _: bool| -> component_layer::Result<Value> {
        Err(component_layer::Error::new(component_layer::ErrorKind::Usage(
            "the jco engine's generic host mints no resources".into(),
        )))
    };
    match ValueGen::new(call_seed).value(rt, &mut no_resources) {
        Ok(v) => {
            state.log(ImportCall { name: full.to_owned(), args: values, result: Ok(Some(v.clone())) });
            answer_value(Some(&v), Some(rt), &mut |_, _| Err("resource".into()))
        }
        Err(e) => {
            let msg = e.to_string();
            state.log(ImportCall { name: full.to_owned(), args: values, result: Err(msg.clone()) });
            Err(HostError::Failed(format!("{full}: {msg}")))
        }
    }
}

/// The `.wast` environment's functions jco can be given (no core modules, no host resources).
fn answer_wast(full: &str) -> Result<Json, HostError> {
    match full {
        "host-return-two" => Ok(json!({"ok": 2})),
        "host#return-three" => Ok(json!({"ok": 3})),
        "host#nested#return-four" => Ok(json!({"ok": 4})),
        "host#return-hi" => Ok(json!({"ok": "hi"})),
        other => Err(HostError::Unsupported(format!("the jco engine's .wast host does not provide `{other}`"))),
    }
}

/// What a host call from the driver names.
enum Target {
    /// An imported function: its full name (`iface#func`), its name at the root, its type.
    Func { full: String, root_name: String, ty: FuncType },
    /// The destructor of an imported resource type (by its import name).
    Dtor { resource: String },
}

/// Strips a version: `ns:pkg/iface@1.0.0` → `ns:pkg/iface`.
fn unversioned(name: &str) -> &str {
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// Finds what the driver's (`module`, `name`) names among the component's imports: jco asks for a root function
/// `f` as `imports['f'].default`, an interface's function as `imports['ns:pkg/iface'].funcName`, a resource type
/// as the class `ResName` whose methods are `[method]ResName.methodName` (the driver's forwarding names).
fn resolve(imports: &[(String, ItemType)], module: &str, name: &str) -> Option<Target> {
    if name == "default" {
        if let Some((n, ItemType::Func(ty))) = imports.iter().find(|(n, _)| n == module) {
            return Some(Target::Func { full: n.clone(), root_name: n.clone(), ty: ty.clone() });
        }
    }
    let instance = imports.iter().find_map(|(n, item)| match item {
        ItemType::Instance(items) if n == module || unversioned(n) == unversioned(module) => Some((n, items)),
        _ => None,
    });
    let (prefix, items) = match instance {
        Some((n, items)) => (Some(n.as_str()), items.as_slice()),
        None => (None, imports),
    };
    if let Some(class) = name.strip_prefix("[dtor]") {
        return find_resource(items, class).map(|resource| Target::Dtor { resource });
    }
    let wanted = |fname: &str| -> bool {
        if let Some(rest) = name.strip_prefix("[constructor]") {
            return fname.strip_prefix("[constructor]").is_some_and(|r| upper_camel(r) == rest);
        }
        for kind in ["[method]", "[static]"] {
            if let Some(rest) = name.strip_prefix(kind) {
                let Some((class, m)) = rest.split_once('.') else { return false };
                return fname
                    .strip_prefix(kind)
                    .and_then(|f| f.split_once('.'))
                    .is_some_and(|(r, f)| upper_camel(r) == class && lower_camel(f) == m);
            }
        }
        fname == name || lower_camel(fname) == name
    };
    items.iter().find_map(|(fname, item)| match item {
        ItemType::Func(ty) if wanted(fname) => Some(Target::Func {
            full: prefix.map_or_else(|| fname.clone(), |p| format!("{p}#{fname}")),
            root_name: fname.clone(),
            ty: ty.clone(),
        }),
        _ => None,
    })
}

fn find_resource(items: &[(String, ItemType)], class: &str) -> Option<String> {
    items.iter().find_map(|(n, item)| match item {
        ItemType::Resource(_) if upper_camel(n) == class => Some(n.clone()),
        _ => None,
    })
}

/// Whether an import list mentions a resource type.
fn has_resource_imports(items: &[(String, ItemType)]) -> bool {
    items.iter().any(|(_, item)| match item {
        ItemType::Resource(_) => true,
        ItemType::Instance(inner) => has_resource_imports(inner),
        _ => false,
    })
}

/// Why jco 1.35's transpiler would panic on a component, if it is one of the panics triaged in `corpus/jco/`.
///
/// A panic traps jco's transpiler (itself a component) and poisons it for the rest of the process, so the driver
/// would have to be restarted; and each such component would be the same finding again. The component is reported
/// as beyond the engine instead, with the report that explains it.
fn transpile_panic(layer: &component_layer::Component, bytes: &[u8]) -> Option<String> {
    let (imports, exports) = (layer.imports(), layer.exports());
    if uses_compact_utf16(bytes) {
        return Some(
            "jco 1.35 cannot transpile `string-encoding=latin1+utf16` (its bindgen asserts utf8 or utf16: \
             corpus/jco/latin1-utf16-transpile-panic.md)"
                .into(),
        );
    }
    if instantiates_imported_module(bytes) {
        return Some(
            "jco 1.35 cannot instantiate an imported core module: its bindgen leaves `InstantiateModule::Import` \
             `unimplemented!()` and panics"
                .into(),
        );
    }
    let func_named_by_id = |(name, item): &&(String, ItemType)| matches!(item, ItemType::Func(_)) && is_id_name(name);
    if let Some((name, _)) = imports.iter().chain(&exports).find(func_named_by_id) {
        return Some(format!(
            "jco 1.35 panics on a function named like an interface (`{name}`): \
             corpus/jco/func-named-like-an-interface-panic.md"
        ));
    }
    if let Some(resource) = exports.iter().find_map(|(_, item)| match item {
        ItemType::Instance(items) => constructor_after_method(items),
        _ => None,
    }) {
        return Some(format!(
            "jco 1.35 panics when an exported resource's constructor (`{resource}`) comes after one of its methods \
             or static functions: corpus/jco/constructor-after-method-panic.md"
        ));
    }
    None
}

/// The failure of a transpile that crashed with `message`, and the transpiler's `panic` message if it printed one.
///
/// jco's fused adapters leave most string copies between two components' memories `unimplemented!()` (1.35
/// implements the UTF-8 copy and the UTF-8 <-> UTF-16 transcoders only; a UTF-16 to UTF-16 copy, Latin-1's and the
/// compact UTF-16 ones panic): a stated limit, like an imported core module, not a bug report, so such a component
/// is beyond jco (unsupported). Seeing it needs the flow of functions between instances (which lowered import a
/// sibling's lift satisfies), so it is recognised by its panic rather than refused before transpiling. Any other
/// panic is a finding, with its message.
fn transpiler_crash(message: String, panic: Option<String>) -> Failure {
    match panic {
        Some(p) if p.contains("not implemented:") && (p.contains(" copier") || p.contains(" transcoder")) => {
            Failure::unsupported(format!(
                "jco 1.35 cannot compose these components: a string copy between their memories is not \
                 implemented ({p}; corpus/jco/README.md)"
            ))
        }
        Some(p) => Failure::trap_of(TrapClass::Other, format!("{message}; {p}")),
        None => Failure::trap_of(TrapClass::Other, message),
    }
}

/// Whether the outer component instantiates a core module it imports (one that is only imported, or only passed
/// on to a nested component, is fine: jco resolves those statically).
fn instantiates_imported_module(bytes: &[u8]) -> bool {
    use wasmparser::{
        ComponentAlias, ComponentExternalKind, ComponentOuterAliasKind, ComponentTypeRef, Instance, Parser, Payload,
    };
    // The outer component's core module index space, in order: whether each entry is an import.
    let mut modules: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes).flatten() {
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            _ if depth != 1 => {}
            Payload::ModuleSection { .. } => modules.push(false),
            Payload::ComponentImportSection(reader) => {
                let imported = reader.into_iter().flatten().filter(|i| matches!(i.ty, ComponentTypeRef::Module(_)));
                modules.extend(imported.map(|_| true));
            }
            Payload::ComponentAliasSection(reader) => {
                let aliased = reader.into_iter().flatten().filter(|a| {
                    matches!(
                        a,
                        ComponentAlias::InstanceExport { kind: ComponentExternalKind::Module, .. }
                            | ComponentAlias::Outer { kind: ComponentOuterAliasKind::CoreModule, .. }
                    )
                });
                modules.extend(aliased.map(|_| false));
            }
            Payload::ComponentExportSection(reader) => {
                let exported = reader.into_iter().flatten().filter(|e| e.kind == ComponentExternalKind::Module);
                modules.extend(exported.map(|_| false));
            }
            Payload::InstanceSection(reader) => {
                let imported = |i: Instance<'_>| match i {
                    Instance::Instantiate { module_index, .. } => {
                        modules.get(module_index as usize).copied().unwrap_or(false)
                    }
                    Instance::FromExports(_) => false,
                };
                if reader.into_iter().flatten().any(imported) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether an import or export name is an ID (`ns:pkg/iface@1.0.0`, `url=<…>`, …) rather than a plain name.
fn is_id_name(name: &str) -> bool {
    name.contains(':') || name.contains('=')
}

/// The first resource of an instance whose `[constructor]` comes after a `[method]` or `[static]` of it.
fn constructor_after_method(items: &[(String, ItemType)]) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    for (name, _) in items {
        if let Some(resource) = name.strip_prefix("[constructor]") {
            if seen.contains(resource) {
                return Some(resource.to_owned());
            }
        } else if let Some(rest) = name.strip_prefix("[method]").or_else(|| name.strip_prefix("[static]")) {
            if let Some((resource, _)) = rest.split_once('.') {
                seen.insert(resource);
            }
        }
    }
    None
}

/// Whether a lift or lower anywhere in the component uses `string-encoding=latin1+utf16`.
fn uses_compact_utf16(bytes: &[u8]) -> bool {
    use wasmparser::{CanonicalFunction, CanonicalOption, Parser, Payload};
    Parser::new(0).parse_all(bytes).flatten().any(|payload| match payload {
        Payload::ComponentCanonicalSection(reader) => reader.into_iter().flatten().any(|f| match f {
            CanonicalFunction::Lift { options, .. } | CanonicalFunction::Lower { options, .. } => {
                options.contains(&CanonicalOption::CompactUTF16)
            }
            _ => false,
        }),
        _ => false,
    })
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn err_message(reply: &Json) -> String {
    reply.pointer("/err/message").and_then(Json::as_str).unwrap_or("(no message)").to_owned()
}

/// The `ok` of a reply, or its failure (a trap during which a host function failed is a host failure).
fn reply_ok<'a>(reply: &'a Json, ctx: &HostCtx) -> Result<&'a Json, Failure> {
    if let Some(m) = &ctx.unsupported {
        return Err(Failure::unsupported(m.clone()));
    }
    if let Some(ok) = reply.get("ok") {
        return Ok(ok);
    }
    let class = reply.pointer("/err/class").and_then(Json::as_str).unwrap_or("trap");
    let message = err_message(reply);
    if std::env::var_os("COMPONENT_HARNESS_JCO_DEBUG").is_some() {
        eprintln!("jco: {class}: {message}");
    }
    Err(match class {
        "invalid" => Failure::invalid(message),
        "unsupported" => Failure::unsupported(message),
        "link" => Failure::link(message),
        _ if ctx.host_failed => Failure::trap_of(TrapClass::Host, message),
        _ => Failure::trap(message),
    })
}

impl Engine for JcoEngine {
    fn name(&self) -> &str {
        "jco"
    }

    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        // Validity and the types are component-layer's reading of the bytes; jco then has to run them.
        let layer = component_layer::Component::new(&self.reflect, bytes).map_err(super::layer::classify)?;
        if super::uses_async_abi(bytes) {
            return Err(Failure::unsupported(
                "jco runs the async ABI (🔀) on JSPI (`WebAssembly.Suspending`/`promising`), which Node 20 does not have",
            ));
        }
        if let Some(why) = transpile_panic(&layer, bytes) {
            return Err(Failure::unsupported(why));
        }
        self.components.push(JcoComponent { bytes: bytes.to_vec(), layer, transpiled: None });
        let c = self.components.len() - 1;
        self.transpiled(c)?;
        Ok(c)
    }

    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure> {
        let driver_component = self.transpiled(component)?;
        let imports = self.imports_of(component);
        if let Some((name, _)) = imports.iter().find(|(n, _)| self.registered.contains(n)) {
            return Err(Failure::unsupported(format!(
                "jco cannot link a component to a registered instance (`{name}`): a transpiled component's imports \
                 are JavaScript objects, not another component's core modules and resource types"
            )));
        }
        match &host.kind {
            HostKind::None if !host.stub_unknown && !imports.is_empty() => {
                return Err(Failure::link("no host: the component's imports are not defined"))
            }
            HostKind::Generic { .. } if has_resource_imports(&imports) => {
                return Err(Failure::unsupported("the jco engine's generic host does not provide imported resources"))
            }
            _ => {}
        }
        self.state.begin_call(&[]);
        let mut ctx = HostCtx::new(host.clone(), component);
        let reply =
            self.exchange(&json!({"op": "instantiate", "component": driver_component}), &mut ctx, call_timeout())?;
        let id = reply_ok(&reply, &ctx)?.as_u64().ok_or_else(|| Failure::trap(format!("bad reply {reply}")))?;
        ctx.instance = Some(id);
        self.instances.push(Some(JcoInstance {
            generation: self.generation,
            id,
            component,
            holdings: Holdings::default(),
            host: ctx,
        }));
        Ok(self.instances.len() - 1)
    }

    /// Remembers the name: a `.wast` names many instances that no later component imports, and those run as
    /// well on jco as on any engine. Only linking to one is beyond jco ([`JcoEngine::instantiate`]).
    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        self.live(instance)?;
        self.registered.insert(name.to_owned());
        Ok(())
    }

    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure> {
        self.state.begin_call(&call.host_returns);
        let inst = self.live(instance)?;
        let (id, component) = (inst.id, inst.component);
        let mut ctx = inst.host.clone();
        ctx.begin();
        let path: Vec<&str> = call.path.iter().map(String::as_str).collect();
        let ty = self
            .components
            .get(component)
            .and_then(|c| c.layer.export_func_type(&path))
            .ok_or_else(|| Failure::link(format!("no export `{}`", call.path.join("#"))))?;
        let case = match &ctx.host.kind {
            HostKind::Case(c) => Some(c.clone()),
            _ => None,
        };
        let inst = self.live(instance)?;
        let mut args = Vec::with_capacity(call.args.len());
        for (v, (_, t)) in call.args.iter().zip(ty.params()) {
            let mut res = |v: &Value, t: &ValueType| -> Result<Json, String> {
                let Value::U32(i) = v else { return Err(format!("a resource position holds {v:?}")) };
                let own = matches!(t, ValueType::Own(_));
                match call.resources.get(*i as usize).ok_or_else(|| format!("no resource argument {i}"))? {
                    ResourceArg::Held(n) => Ok(match inst.holdings.take(*n, own)? {
                        Hold::Guest(id) => json!({ "$r": id }),
                        Hold::Host { class, rep } => json!({"$h": rep, "t": class}),
                    }),
                    ResourceArg::HostRep { ty, rep } => {
                        let name = case.as_ref().and_then(|c| c.resource_name(*ty)).ok_or("no such host resource")?;
                        Ok(json!({"$h": rep, "t": upper_camel(name)}))
                    }
                    ResourceArg::Mint { .. } => Err("the jco engine's generic host mints no resources".into()),
                }
            };
            args.push(to_js(v, t, &mut res).map_err(Failure::unsupported)?);
        }
        let req = json!({"op": "call", "instance": id, "path": call.path, "args": args});
        let reply = self.exchange(&req, &mut ctx, call_timeout())?;
        let thrown = reply.get("payload");
        let returned = match thrown {
            Some(_) => None,
            None => Some(reply_ok(&reply, &ctx)?),
        };
        if let Some(m) = &ctx.unsupported {
            return Err(Failure::unsupported(m.clone()));
        }
        let inst = self.live(instance)?;
        inst.host.counts = ctx.counts;
        let Some(rt) = ty.result() else { return Ok(None) };
        let mut label = |j: &Json, _: &ValueType| -> Result<Value, String> {
            let (hold, name) = if let Some(id) = j.get("$r").and_then(Json::as_u64) {
                (Hold::Guest(id), "guest".to_owned())
            } else if let (Some(rep), Some(class)) =
                (j.get("$h").and_then(Json::as_u64), j.get("t").and_then(Json::as_str))
            {
                let name = case
                    .as_ref()
                    .and_then(|c| c.resources.iter().find(|(_, n)| upper_camel(n) == class).map(|(_, n)| n.clone()))
                    .unwrap_or_else(|| class.to_owned());
                (Hold::Host { class: class.to_owned(), rep: u32::try_from(rep).map_err(|e| e.to_string())? }, name)
            } else {
                return Err(format!("not a resource object: {j}"));
            };
            Ok(Value::Enum(holding_label(&name, inst.holdings.number(hold)).into()))
        };
        let value = match (rt, thrown) {
            (ValueType::Result { .. }, _) => whole_result(returned, thrown, rt, &mut label),
            (_, Some(p)) => Err(format!("jco threw a payload ({p}) for a function whose result is not a result")),
            (_, None) => from_js(returned.unwrap_or(&Json::Null), rt, &mut label),
        };
        value
            .map(Some)
            .map_err(|e| Failure::trap_of(TrapClass::Other, format!("jco's result does not fit the type: {e}")))
    }

    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure> {
        self.state.begin_call(&[]);
        let inst = self.live(instance)?;
        let (id, hold) = (inst.id, inst.holdings.take(number, true).map_err(Failure::trap)?);
        let mut ctx = inst.host.clone();
        ctx.begin();
        match hold {
            Hold::Guest(object) => {
                let req = json!({"op": "drop-resource", "instance": id, "id": object});
                let reply = self.exchange(&req, &mut ctx, call_timeout())?;
                reply_ok(&reply, &ctx).map(drop)
            }
            Hold::Host { class, rep } => {
                // The host drops its own handle of a host type: the host's destructor runs, as on the other
                // engines.
                let resource = match &ctx.host.kind {
                    HostKind::Case(c) => {
                        c.resources.iter().find(|(_, n)| upper_camel(n) == class).map(|(_, n)| n.clone())
                    }
                    _ => None,
                };
                let _ = self.destructor(&ctx, resource.as_deref().unwrap_or(&class), &[json!(rep)]);
                Ok(())
            }
        }
    }

    fn drop_instance(&mut self, instance: InstanceId) {
        let generation = self.generation;
        if let Some(slot) = self.instances.get_mut(instance) {
            if let Some(i) = slot.take() {
                if i.generation == generation {
                    if let Some(node) = self.node.as_mut() {
                        // The reply is read now, so that replies stay in step with requests.
                        if node.send(&json!({"op": "drop-instance", "instance": i.id})).is_ok() {
                            let _ = node.receive(call_timeout());
                        }
                    }
                }
            }
        }
    }

    fn take_log(&mut self) -> Vec<ImportCall> {
        self.state.take_log()
    }

    fn reset(&mut self) {
        self.instances.clear();
        self.components.clear();
        self.registered.clear();
        self.state.take_log();
        if let Some(node) = self.node.as_mut() {
            if node.send(&json!({"op": "reset"})).is_err() || node.receive(call_timeout()).is_err() {
                self.node = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panic_of(wat: &str) -> Option<String> {
        let bytes = wat::parse_str(wat).expect("wat");
        let engine = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
        let layer = component_layer::Component::new(&engine, &bytes).expect("valid component");
        transpile_panic(&layer, &bytes)
    }

    #[test]
    fn unimplemented_string_copies_are_beyond_jco_and_other_panics_are_findings() {
        let crash = "jco's transpiler crashed: RuntimeError: wasm trap: wasm `unreachable` instruction executed";
        let copier = "panicked at crates/js-component-bindgen/src/transpile_bindgen.rs:2987:62: not implemented: \
                      utf16 copier";
        let f = transpiler_crash(crash.into(), Some(copier.into()));
        assert!(matches!(&f, Failure::Unsupported { message } if message.contains("utf16 copier")), "{f:?}");
        let other = transpiler_crash(crash.into(), Some("panicked at x.rs:1:1: index out of bounds".into()));
        assert!(other.is_trap() && other.message().contains("index out of bounds"), "{other:?}");
        assert_eq!(transpiler_crash(crash.into(), None).message(), crash);
    }

    #[test]
    fn known_transpile_panics_are_recognised() {
        let instantiated = r#"(component (import "m" (core module $m)) (core instance (instantiate $m)))"#;
        assert!(panic_of(instantiated).is_some_and(|w| w.contains("imported core module")));
        let only_imported = r#"(component (core module) (import "m" (core module)))"#;
        assert_eq!(panic_of(only_imported), None);
        let defined = r#"(component (import "m" (core module)) (core module $d) (core instance (instantiate $d)))"#;
        assert_eq!(panic_of(defined), None);
        let id_func = r#"(component (import "a:b/c" (func)))"#;
        assert!(panic_of(id_func).is_some_and(|w| w.contains("func-named-like-an-interface-panic")));
        let plain = r#"(component (import "a" (func)) (import "a:b/c" (instance)))"#;
        assert_eq!(panic_of(plain), None);
    }

    #[test]
    fn constructor_order_is_checked_per_resource() {
        let item = |n: &str| (n.to_owned(), ItemType::Module);
        let late = [item("r"), item("[method]r.m"), item("s"), item("[constructor]s"), item("[constructor]r")];
        assert_eq!(constructor_after_method(&late), Some("r".into()));
        let early = [item("r"), item("[constructor]r"), item("[static]r.s"), item("[method]r.m")];
        assert_eq!(constructor_after_method(&early), None);
    }
}
