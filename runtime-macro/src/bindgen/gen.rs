//! The code generator of `bindgen!`: a resolved world in, Rust source text out.
//!
//! Layout, as wasmtime's: world-level types and the world's struct at the call site; each imported interface in
//! a module `ns::pkg::iface` (`pkg` gets its version appended when two versions of a package meet), with its
//! types, a `Host` trait for its functions, a `HostFoo` trait per resource and `add_to_linker`; each exported
//! interface in `exports::ns::pkg::iface` with its types, a `Guest` struct of typed functions and a `GuestFoo`
//! view per resource. Every generated item names what it uses by absolute path (`::core::result::Result`, …) or
//! by `self::`/`super::` chains, so WIT names cannot shadow them (see `names` for the rest).
//!
//! Resources of imported interfaces are the host's: an uninhabited marker type `Foo` used as
//! `component_layer::HostResource<Foo>` (or the type `with` maps the resource to). Resources of exported
//! interfaces are the guest's: `component_layer::ResourceAny`.
//!
//! An interface imported under several names (`import b: a:b/i; import c: a:b/i;`, what a component's
//! `implements` annotation decodes to) is generated once, at the interface's own path; the world's
//! `add_to_linker` defines it under each name with the module's `add_to_linker_instance`. The same holds for
//! exports: one module, and an accessor per name on the world's struct.
//!
//! This module holds the generator's state, resolves the options' keys (`keys`) and lays the modules out;
//! `types` writes WIT types, `host` the imports' traits and `add_to_linker`, `guest` the exports and the world's
//! struct.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::Span;
use wit_parser::{
    Docs, Function, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId, WorldItem, WorldKey,
};

use super::keys::{function_keys, interface_keys, type_keys};
use super::names::{camel, func_field, interface_items, param, snake, type_name, world_items, Names};
use super::{Flags, Options};

mod guest;
mod host;
mod types;

const K: &str = "::component_layer";
const RESULT: &str = "::core::result::Result";
const OK: &str = "::core::result::Result::Ok";

/// The name under which the `i`-th `with` path is imported at the call site of `bindgen!` for world `world`.
pub fn with_alias(world: &str, i: usize) -> String {
    format!("__bindgen_{world}_with{i}")
}

/// The code of one module and its children.
#[derive(Default)]
struct Node {
    code: String,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn at(&mut self, path: &[String]) -> &mut Node {
        let mut node = self;
        for seg in path {
            node = node.children.entry(seg.clone()).or_default();
        }
        node
    }

    fn render(&self, out: &mut String) {
        out.push_str(&self.code);
        for (name, child) in &self.children {
            let _ = write!(
                out,
                "\n#[allow(clippy::all, missing_docs, dead_code, unused_imports, non_camel_case_types)]\npub mod {name} {{\n"
            );
            child.render(out);
            out.push_str("}\n");
        }
    }
}

/// Where code is being generated: the module depth, and the exported interface whose module it is (its
/// resources are the guest's there, even if the interface is imported too).
#[derive(Copy, Clone)]
struct Cx {
    depth: usize,
    guest: Option<InterfaceId>,
}

impl Cx {
    /// The path to the root of the bindings (`self::` at the root, where generic parameters could otherwise
    /// shadow a world-level type named `T`).
    fn up(&self) -> String {
        if self.depth == 0 {
            "self::".to_owned()
        } else {
            "super::".repeat(self.depth)
        }
    }

    /// The path to the module that invoked `bindgen!` (the bindings are one module below it).
    fn call_site(&self) -> String {
        "super::".repeat(self.depth + 1)
    }
}

/// How a function's parameters are written.
#[derive(Copy, Clone, PartialEq)]
enum Mode {
    /// Owned values (types, host functions, results).
    Owned,
    /// Arguments of an export call: strings, lists and compound values by reference, with this lifetime
    /// (empty for an elided one).
    Borrowed(&'static str),
}

/// An imported or exported interface, with the names it is imported or exported under.
struct Iface {
    id: InterfaceId,
    keys: Vec<WorldKey>,
}

/// The host traits of an imported interface (`Host`) or of the world's imports (`{World}Imports`).
struct HostTraits<'s> {
    /// The trait of the freestanding functions.
    name: &'s str,
    /// The interface (`None`: the world), for the functions' flags.
    owner: Option<InterfaceId>,
    /// Put before `add_to_linker` (the world's is `{world}_add_to_linker`, apart from the world struct's).
    fn_prefix: &'s str,
    /// The module's path from the root, with a trailing `::` (empty at the root).
    module: &'s str,
}

/// One method of a host trait.
struct HostFn {
    method: String,
    /// Name, type seen from the module, type seen from the root.
    params: Vec<(String, String, String)>,
    ret: String,
    root_ret: String,
    flags: Flags,
    docs: Docs,
    /// Whether the WIT function has a result.
    returns: bool,
    /// Whether it is a resource's destructor.
    is_drop: bool,
    /// Whether it is an `async func`: its method returns a `Send + 'static` future of its result.
    is_async: bool,
}

/// An exported interface under one of its names.
struct Export {
    /// The world struct's method that returns its `Guest`.
    accessor: String,
    /// The name it is exported under.
    name: String,
    /// Its module's path from the root.
    path: Vec<String>,
}

/// The generator.
pub struct Generator<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    opts: &'a Options,
    imports: HashMap<InterfaceId, Vec<String>>,
    exports: HashMap<InterfaceId, Vec<String>>,
    /// Imported interfaces mapped by `with`: their module's path from the call site.
    with: HashMap<InterfaceId, String>,
    /// Types mapped by `with`: the type's path from the call site.
    with_types: HashMap<TypeId, String>,
    /// Flags of imported functions and resource destructors: (interface or world, WIT name).
    flags: HashMap<(Option<InterfaceId>, String), Flags>,
    world_name: String,
    root: Node,
    /// Dummy host impls (`dummy_host`).
    dummy: String,
    /// Statements defining the host resource types (with no-op destructors) in a `linker` (`dummy_host`).
    dummy_resources: String,
}

/// An error of the macro at `span`.
fn err<T>(span: Span, msg: String) -> Result<T, syn::Error> {
    Err(syn::Error::new(span, msg))
}

impl<'a> Generator<'a> {
    /// Checks the world for unsupported features, assigns module paths and resolves the options' keys.
    pub fn new(resolve: &'a Resolve, world: WorldId, opts: &'a Options) -> Result<Self, syn::Error> {
        let w = &resolve.worlds[world];
        let mut g = Generator {
            resolve,
            world,
            opts,
            imports: HashMap::new(),
            exports: HashMap::new(),
            with: HashMap::new(),
            with_types: HashMap::new(),
            flags: HashMap::new(),
            world_name: camel(&w.name),
            root: Node::default(),
            dummy: String::new(),
            dummy_resources: String::new(),
        };
        let world_span = opts.spans.world.or(opts.spans.inline).or(opts.spans.path).unwrap_or_else(Span::call_site);
        g.check_supported().or_else(|msg| err(world_span, msg))?;
        g.assign_paths();
        g.resolve_with()?;
        g.resolve_flags()?;
        Ok(g)
    }

    /// The interfaces among `items`, each once, with every key it appears under.
    fn ifaces(items: &wit_parser::IndexMap<WorldKey, WorldItem>) -> Vec<Iface> {
        let mut out: Vec<Iface> = Vec::new();
        for (key, item) in items {
            let WorldItem::Interface { id, .. } = item else { continue };
            match out.iter_mut().find(|i| i.id == *id) {
                Some(i) => i.keys.push(key.clone()),
                None => out.push(Iface { id: *id, keys: vec![key.clone()] }),
            }
        }
        out
    }

    /// Whether `key` imports or exports a package's interface under a plain name (`implements`).
    fn is_implements(&self, key: &WorldKey, id: InterfaceId) -> bool {
        matches!(key, WorldKey::Name(_))
            && self.resolve.interfaces[id].package.is_some()
            && self.resolve.interfaces[id].name.is_some()
    }

    /// `with`: which imported interfaces and which types have bindings elsewhere. Every key must name something.
    fn resolve_with(&mut self) -> Result<(), syn::Error> {
        let resolve = self.resolve;
        let w = &resolve.worlds[self.world];
        let ws = snake(&w.name).replace("r#", "");
        let find = |key: &str| self.opts.with.iter().position(|x| x.key == key);
        let mut used = vec![false; self.opts.with.len()];
        for iface in Self::ifaces(&w.imports) {
            let found = iface
                .keys
                .iter()
                .flat_map(|k| interface_keys(resolve, k, iface.id))
                .find_map(|(k, proj)| find(&k).map(|i| (i, proj)));
            if let Some((i, proj)) = found {
                used[i] = true;
                let path: String = proj.iter().map(|p| format!("::{p}")).collect();
                self.with.insert(iface.id, format!("{}{path}", with_alias(&ws, i)));
            }
        }
        let mut seen = HashSet::new();
        for iface in Self::ifaces(&w.imports).into_iter().chain(Self::ifaces(&w.exports)) {
            if !seen.insert(iface.id) || self.with.contains_key(&iface.id) {
                continue;
            }
            for (name, tid) in &resolve.interfaces[iface.id].types {
                if resolve.types[*tid].owner != TypeOwner::Interface(iface.id) {
                    continue;
                }
                let Some(i) = type_keys(resolve, iface.id, name).iter().find_map(|k| find(k)) else { continue };
                used[i] = true;
                if matches!(resolve.types[*tid].kind, TypeDefKind::Resource) && !self.imports.contains_key(&iface.id) {
                    return err(
                        self.opts.with[i].span,
                        format!(
                            "`with` cannot map `{}`: it is a resource of an exported interface, which the guest \
                             implements (always `component_layer::ResourceAny`)",
                            self.opts.with[i].key
                        ),
                    );
                }
                self.with_types.insert(*tid, with_alias(&ws, i));
            }
        }
        match self.opts.with.iter().zip(&used).find(|(_, used)| !**used) {
            Some((unused, _)) => err(
                unused.span,
                format!(
                    "`with` key `{}` names no imported interface, package or namespace, and no type of an \
                     interface, of world `{}`",
                    unused.key, w.name
                ),
            ),
            None => Ok(()),
        }
    }

    /// `imports`: the flags of every imported function and resource destructor. Every rule must be used.
    fn resolve_flags(&mut self) -> Result<(), syn::Error> {
        let resolve = self.resolve;
        let w = &resolve.worlds[self.world];
        let mut used = vec![false; self.opts.imports.len()];
        let mut items: Vec<(Option<(WorldKey, InterfaceId)>, String)> = Vec::new();
        for iface in Self::ifaces(&w.imports) {
            let i = &resolve.interfaces[iface.id];
            let key = iface.keys[0].clone();
            items.extend(i.functions.keys().map(|f| (Some((key.clone(), iface.id)), f.clone())));
            for (name, tid) in &i.types {
                if matches!(resolve.types[*tid].kind, TypeDefKind::Resource)
                    && resolve.types[*tid].owner == TypeOwner::Interface(iface.id)
                {
                    items.push((Some((key.clone(), iface.id)), format!("[drop]{name}")));
                }
            }
        }
        for (key, item) in &w.imports {
            match item {
                WorldItem::Function(f) => items.push((None, f.name.clone())),
                WorldItem::Type { id, .. } if matches!(resolve.types[*id].kind, TypeDefKind::Resource) => {
                    items.push((None, format!("[drop]{}", resolve.name_world_key(key))))
                }
                _ => {}
            }
        }
        for (owner, item) in items {
            let keys = function_keys(resolve, owner.as_ref().map(|(k, id)| (k, *id)), &item);
            let rule = keys.iter().find_map(|k| self.opts.imports.iter().position(|r| r.key == *k));
            let flags = match rule {
                Some(i) => {
                    used[i] = true;
                    self.opts.imports[i].flags
                }
                None => self.opts.default_flags,
            };
            self.flags.insert((owner.map(|(_, id)| id), item), flags);
        }
        match self.opts.imports.iter().zip(&used).find(|(_, used)| !**used) {
            Some((unused, _)) => err(
                unused.span,
                format!("`imports` key `{}` names no imported function of world `{}`", unused.key, w.name),
            ),
            None => Ok(()),
        }
    }

    /// The flags of imported function (or `[drop]r`) `item` of interface `owner` (`None`: the world).
    fn flags_of(&self, owner: Option<InterfaceId>, item: &str) -> Flags {
        self.flags.get(&(owner, item.to_owned())).copied().unwrap_or(self.opts.default_flags)
    }

    /// The world uses nothing the runtime cannot do (maps, fixed-length lists, …).
    fn check_supported(&self) -> Result<(), String> {
        let w = &self.resolve.worlds[self.world];
        let unsupported = |what: &str, where_: &str| {
            Err(format!(
                "bindgen!: world `{}` uses {what} (in {where_}), which component-layer does not support yet",
                w.name
            ))
        };
        for (key, item) in w.imports.iter().chain(&w.exports) {
            let name = self.resolve.name_world_key(key);
            let mut funcs: Vec<&Function> = Vec::new();
            let mut types: Vec<TypeId> = Vec::new();
            match item {
                WorldItem::Function(f) => funcs.push(f),
                WorldItem::Interface { id, .. } => {
                    let iface = &self.resolve.interfaces[*id];
                    funcs.extend(iface.functions.values());
                    types.extend(iface.types.values());
                }
                WorldItem::Type { id, .. } => types.push(*id),
            }
            for f in funcs {
                if f.params.len() > 12 {
                    return unsupported("a function with more than 12 parameters", &format!("`{}`", f.name));
                }
                for t in f.params.iter().map(|p| &p.ty).chain(&f.result) {
                    if let Some(what) = self.unsupported_in(t) {
                        return unsupported(what, &format!("`{}` of `{name}`", f.name));
                    }
                }
            }
            for t in types {
                if let Some(what) = self.unsupported_in(&Type::Id(t)) {
                    return unsupported(what, &format!("a type of `{name}`"));
                }
            }
        }
        Ok(())
    }

    fn unsupported_in(&self, ty: &Type) -> Option<&'static str> {
        let Type::Id(id) = ty else { return None };
        let id = *id;
        let inner = |t: &Option<Type>| t.as_ref().and_then(|t| self.unsupported_in(t));
        match &self.resolve.types[id].kind {
            // Readable ends of any element type (`StreamAny`, `FutureAny`).
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => None,
            TypeDefKind::Map(..) => Some("`map`"),
            TypeDefKind::FixedLengthList(..) => Some("a fixed-length list"),
            TypeDefKind::Unknown => Some("an unresolved type"),
            TypeDefKind::Flags(f) if f.flags.is_empty() => Some("empty `flags`"),
            TypeDefKind::Flags(f) if f.flags.len() > 32 => Some("`flags` with more than 32 flags"),
            TypeDefKind::Record(r) => r.fields.iter().find_map(|f| self.unsupported_in(&f.ty)),
            TypeDefKind::Variant(v) => v.cases.iter().find_map(|c| inner(&c.ty)),
            TypeDefKind::Tuple(t) if t.types.len() > 12 => Some("a tuple of more than 12 types"),
            TypeDefKind::Tuple(t) => t.types.iter().find_map(|t| self.unsupported_in(t)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => self.unsupported_in(t),
            TypeDefKind::Result(r) => inner(&r.ok).or_else(|| inner(&r.err)),
            TypeDefKind::Resource | TypeDefKind::Handle(_) | TypeDefKind::Enum(_) | TypeDefKind::Flags(_) => None,
        }
    }

    /// Module paths of the imported and exported interfaces: `ns::pkg::iface`, with the package's version when
    /// two versions of a package would share a path. An inline interface imported under a name is at that name.
    fn assign_paths(&mut self) {
        let w = &self.resolve.worlds[self.world];
        let path_of = |key: &WorldKey, id: InterfaceId, versioned: bool| -> Vec<String> {
            let iface = &self.resolve.interfaces[id];
            let (Some(pkg), Some(name)) = (iface.package.map(|p| &self.resolve.packages[p].name), &iface.name) else {
                return match key {
                    WorldKey::Name(n) => vec![snake(n)],
                    WorldKey::Interface(_) => vec![format!("interface{}", id.index())],
                };
            };
            let mut pkg_seg = snake(&pkg.name);
            if let (true, Some(v)) = (versioned, &pkg.version) {
                pkg_seg = format!("{pkg_seg}{}", snake(&format!("v{v}").replace(['.', '+', '-'], "_")));
            }
            vec![snake(&pkg.namespace), pkg_seg, snake(name)]
        };
        for (exports, items) in [(false, &w.imports), (true, &w.exports)] {
            let ifaces = Self::ifaces(items);
            let mut count: HashMap<Vec<String>, usize> = HashMap::new();
            for i in &ifaces {
                *count.entry(path_of(&i.keys[0], i.id, false)).or_default() += 1;
            }
            for i in ifaces {
                let plain = path_of(&i.keys[0], i.id, false);
                let mut path = if count[&plain] > 1 { path_of(&i.keys[0], i.id, true) } else { plain };
                if exports {
                    path.insert(0, "exports".to_owned());
                    self.exports.insert(i.id, path);
                } else {
                    self.imports.insert(i.id, path);
                }
            }
        }
    }

    /// Generates the bindings.
    pub fn generate(mut self) -> Result<String, syn::Error> {
        let resolve = self.resolve;
        let w = &resolve.worlds[self.world];
        let root_cx = Cx { depth: 0, guest: None };

        // World-level types.
        let mut root_types = String::new();
        for item in w.imports.values() {
            if let WorldItem::Type { id, .. } = item {
                self.typedef(&mut root_types, *id, root_cx);
            }
        }
        self.root.code.push_str(&root_types);

        // Imported interfaces.
        let mut add_calls = String::new();
        let mut bounds: Vec<String> = Vec::new();
        for iface in Self::ifaces(&w.imports) {
            let id = iface.id;
            let p = match self.with.get(&id) {
                Some(path) => format!("{}{path}", root_cx.call_site()),
                None => {
                    let path = self.imports[&id].clone();
                    let cx = Cx { depth: path.len(), guest: None };
                    let key = if self.is_implements(&iface.keys[0], id) {
                        WorldKey::Interface(id)
                    } else {
                        iface.keys[0].clone()
                    };
                    let name = resolve.name_world_key(&key);
                    let i = &resolve.interfaces[id];
                    let mut code = String::new();
                    docs(&mut code, &i.docs);
                    for tid in i.types.values() {
                        self.typedef(&mut code, *tid, cx);
                    }
                    let funcs: Vec<&Function> = i.functions.values().collect();
                    let resources = self.own_resources(i.types.values().copied(), TypeOwner::Interface(id));
                    let module = format!("{}::", path.join("::"));
                    let traits = HostTraits { name: "Host", owner: Some(id), fn_prefix: "", module: &module };
                    let trait_bounds = self.host_traits(
                        &mut code,
                        &traits,
                        &resources,
                        &funcs,
                        cx,
                        &format!("linker.instance({name:?})?"),
                    );
                    self.root.at(&path).code.push_str(&code);
                    let p = format!("self::{}", path.join("::"));
                    bounds.extend(trait_bounds.iter().map(|b| format!("{p}::{b}")));
                    p
                }
            };
            if self.with.contains_key(&id) {
                bounds.push(format!("{p}::Implementation<T, E>"));
            }
            for key in &iface.keys {
                if self.is_implements(key, id) {
                    let name = resolve.name_world_key(key);
                    let _ = writeln!(add_calls, "{p}::add_to_linker_instance(linker.instance({name:?})?, get)?;");
                } else {
                    let _ = writeln!(add_calls, "{p}::add_to_linker(linker, get)?;");
                }
            }
        }

        // Root-level imported functions and resources.
        let root_funcs: Vec<&Function> = w
            .imports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let root_types: Vec<TypeId> = w
            .imports
            .values()
            .filter_map(|item| match item {
                WorldItem::Type { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        let root_resources = self.own_resources(root_types.into_iter(), TypeOwner::World(self.world));
        if !root_funcs.is_empty() || !root_resources.is_empty() {
            let trait_name = format!("{}Imports", self.world_name);
            let prefix = format!("{}_", w.name.to_snake_case());
            let mut code = String::new();
            let traits = HostTraits { name: &trait_name, owner: None, fn_prefix: &prefix, module: "" };
            let trait_bounds =
                self.host_traits(&mut code, &traits, &root_resources, &root_funcs, root_cx, "linker.root()");
            self.root.code.push_str(&code);
            bounds.extend(trait_bounds.iter().map(|b| format!("self::{b}")));
            let _ = writeln!(add_calls, "self::{prefix}add_to_linker(linker, get)?;");
        }

        // Exported interfaces.
        let mut ifaces: Vec<Export> = Vec::new();
        for iface in Self::ifaces(&w.exports) {
            let id = iface.id;
            let path = self.exports[&id].clone();
            let cx = Cx { depth: path.len(), guest: Some(id) };
            let i = &resolve.interfaces[id];
            let mut code = String::new();
            docs(&mut code, &i.docs);
            for tid in i.types.values() {
                self.typedef(&mut code, *tid, cx);
            }
            let funcs: Vec<&Function> = i.functions.values().collect();
            let key =
                if self.is_implements(&iface.keys[0], id) { WorldKey::Interface(id) } else { iface.keys[0].clone() };
            self.guest(&mut code, &resolve.name_world_key(&key), &funcs, cx);
            self.root.at(&path).code.push_str(&code);
            for key in &iface.keys {
                let accessor = match key {
                    WorldKey::Name(n) => snake(n),
                    WorldKey::Interface(_) => snake(&path[1..].join("-")),
                };
                ifaces.push(Export { accessor, name: resolve.name_world_key(key), path: path.clone() });
            }
        }
        let root_exports: Vec<&Function> = w
            .exports
            .values()
            .filter_map(|item| match item {
                WorldItem::Function(f) => Some(f),
                _ => None,
            })
            .collect();
        let world = self.world_struct(&root_exports, &ifaces, &bounds, &add_calls);
        self.root.code.push_str(&world);
        if self.opts.dummy_host {
            let dummy = std::mem::take(&mut self.dummy);
            let resources = std::mem::take(&mut self.dummy_resources);
            let _ = write!(
                self.root.code,
                "pub struct __DummyHost;\n{dummy}\n\
                 pub fn __define_resources<T: 'static, E: {K}::__internal::WasmEngine>(linker: &mut {K}::Linker<T, E>) \
                   -> {K}::Result<()> {{\n{resources}{OK}(())\n}}"
            );
        }
        let mut out = String::new();
        self.root.render(&mut out);
        Ok(out)
    }

    /// The resources among `types` defined (not `use`d) by `owner`.
    fn own_resources(&self, types: impl Iterator<Item = TypeId>, owner: TypeOwner) -> Vec<TypeId> {
        types
            .filter(|t| {
                let def = &self.resolve.types[*t];
                matches!(def.kind, TypeDefKind::Resource) && def.owner == owner
            })
            .collect()
    }
}

/// Rust doc attributes for WIT docs.
fn docs(out: &mut String, docs: &Docs) {
    if let Some(d) = &docs.contents {
        for line in d.lines() {
            let _ = writeln!(out, "#[doc = {:?}]", format!(" {line}"));
        }
    }
}
