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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::Span;
use wit_parser::{
    Docs, Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem, WorldKey,
};

use super::keys::{function_keys, interface_keys, type_keys};
use super::names::{camel, func_field, interface_items, param, snake, type_name, world_items, Names};
use super::{Flags, Options};

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
        g.check_supported().or_else(|msg| err(Span::call_site(), msg))?;
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

    /// The world uses no feature of the async ABI (or anything else the runtime cannot do).
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
                if f.kind.is_async() {
                    return unsupported("an async function (the async ABI)", &format!("`{}` of `{name}`", f.name));
                }
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
        let id = match ty {
            Type::ErrorContext => return Some("`error-context` (the async ABI)"),
            Type::Id(id) => *id,
            _ => return None,
        };
        let inner = |t: &Option<Type>| t.as_ref().and_then(|t| self.unsupported_in(t));
        match &self.resolve.types[id].kind {
            TypeDefKind::Future(_) => Some("`future` (the async ABI)"),
            TypeDefKind::Stream(_) => Some("`stream` (the async ABI)"),
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
                bounds.push(format!("{p}::Host"));
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

    // ---------------------------------------------------------------------------------------------------------
    // Types.

    /// Follows `type a = b` aliases to the definition.
    fn dealias(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        id
    }

    /// Whether the resource `id` (dealiased) is the host's in `cx`.
    fn is_host_resource(&self, id: TypeId, cx: Cx) -> bool {
        match self.resolve.types[self.dealias(id)].owner {
            TypeOwner::Interface(i) => {
                cx.guest != Some(i) && (self.imports.contains_key(&i) || self.with.contains_key(&i))
            }
            TypeOwner::World(_) => true,
            TypeOwner::None => false,
        }
    }

    /// The Rust path of the module that holds the named types of `owner`, seen from `cx`.
    fn module_of(&self, owner: TypeOwner, cx: Cx) -> String {
        match owner {
            TypeOwner::Interface(i) => {
                if let Some(p) = self.with.get(&i) {
                    return format!("{}{p}::", cx.call_site());
                }
                let path = if cx.guest == Some(i) {
                    &self.exports[&i]
                } else {
                    match self.imports.get(&i).or_else(|| self.exports.get(&i)) {
                        Some(p) => p,
                        // Not in the world (cannot happen after wit-parser's elaboration): a path that fails to
                        // compile, never a panic.
                        None => return "__interface_not_in_world::".to_owned(),
                    }
                };
                format!("{}{}::", cx.up(), path.join("::"))
            }
            TypeOwner::World(_) | TypeOwner::None => cx.up(),
        }
    }

    /// The Rust name of the named type `id` in its module.
    fn type_ident(&self, id: TypeId) -> String {
        let def = &self.resolve.types[id];
        let wit = def.name.as_deref().unwrap_or("anonymous");
        let own_resources = |types: &mut dyn Iterator<Item = &TypeId>| -> Vec<String> {
            types
                .filter(|t| matches!(self.resolve.types[**t].kind, TypeDefKind::Resource))
                .filter(|t| self.resolve.types[**t].owner == def.owner)
                .filter_map(|t| self.resolve.types[*t].name.clone())
                .collect()
        };
        let taken = match def.owner {
            TypeOwner::Interface(i) => interface_items(&own_resources(&mut self.resolve.interfaces[i].types.values())),
            TypeOwner::World(w) => {
                let world = &self.resolve.worlds[w];
                let mut types = world.imports.values().filter_map(|item| match item {
                    WorldItem::Type { id, .. } => Some(id),
                    _ => None,
                });
                world_items(&world.name, &own_resources(&mut types))
            }
            TypeOwner::None => HashSet::new(),
        };
        type_name(wit, &taken)
    }

    /// The Rust type of a WIT type.
    fn ty(&self, ty: &Type, cx: Cx, mode: Mode) -> String {
        let lt = match mode {
            Mode::Owned => None,
            Mode::Borrowed(lt) => Some(lt),
        };
        let owned = |t: &Type| self.ty(t, cx, Mode::Owned);
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "i8".into(),
            Type::S16 => "i16".into(),
            Type::S32 => "i32".into(),
            Type::S64 => "i64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => match lt {
                Some(lt) => format!("&{lt} str"),
                None => "::std::string::String".into(),
            },
            Type::ErrorContext => "()".into(),
            Type::Id(id) => {
                let def = &self.resolve.types[*id];
                let by_ref = |s: String| match lt {
                    Some(lt) => format!("&{lt} {s}"),
                    None => s,
                };
                if def.name.is_some() {
                    let path = match &def.kind {
                        TypeDefKind::Resource if !self.is_host_resource(*id, cx) => format!("{K}::ResourceAny"),
                        _ => format!("{}{}", self.module_of(def.owner, cx), self.type_ident(*id)),
                    };
                    return match self.resolve.types[self.dealias(*id)].kind {
                        TypeDefKind::Record(_)
                        | TypeDefKind::Variant(_)
                        | TypeDefKind::Tuple(_)
                        | TypeDefKind::Option(_)
                        | TypeDefKind::Result(_)
                        | TypeDefKind::List(_) => by_ref(path),
                        _ => path,
                    };
                }
                match &def.kind {
                    TypeDefKind::List(t) => match lt {
                        Some(lt) => format!("&{lt} [{}]", owned(t)),
                        None => format!("::std::vec::Vec<{}>", owned(t)),
                    },
                    TypeDefKind::Option(t) => by_ref(format!("::core::option::Option<{}>", owned(t))),
                    TypeDefKind::Result(r) => {
                        let side = |t: &Option<Type>| t.as_ref().map(owned).unwrap_or_else(|| "()".into());
                        by_ref(format!("{RESULT}<{}, {}>", side(&r.ok), side(&r.err)))
                    }
                    TypeDefKind::Tuple(t) => {
                        let items: String = t.types.iter().map(|t| format!("{},", owned(t))).collect();
                        by_ref(format!("({items})"))
                    }
                    TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                        if self.is_host_resource(*r, cx) {
                            format!("{K}::HostResource<{}>", self.resource_ref(*r, cx))
                        } else {
                            format!("{K}::ResourceAny")
                        }
                    }
                    TypeDefKind::Type(t) => self.ty(t, cx, mode),
                    // Rejected by `check_supported`; anything here would not be reached.
                    _ => "()".into(),
                }
            }
        }
    }

    /// Whether values of `ty` contain a host resource handle (which is not `Clone`).
    fn has_host_handle(&self, ty: &Type, cx: Cx) -> bool {
        let Type::Id(id) = ty else { return false };
        let opt = |t: &Option<Type>| t.as_ref().is_some_and(|t| self.has_host_handle(t, cx));
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.is_host_resource(*r, cx),
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.has_host_handle(&f.ty, cx)),
            TypeDefKind::Variant(v) => v.cases.iter().any(|c| opt(&c.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.has_host_handle(t, cx)),
            TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::Type(t) => self.has_host_handle(t, cx),
            TypeDefKind::Result(r) => opt(&r.ok) || opt(&r.err),
            _ => false,
        }
    }

    fn derives(&self, out: &mut String, builtin: &[&str]) {
        let mut all: Vec<String> = builtin.iter().map(|d| d.to_string()).collect();
        for d in &self.opts.additional_derives {
            let last = d.rsplit("::").next().unwrap_or(d).trim();
            if !builtin.iter().any(|b| b.rsplit("::").next() == Some(last)) {
                all.push(d.clone());
            }
        }
        let _ = writeln!(
            out,
            "#[derive({K}::ComponentType, {K}::Lift, {K}::Lower, {})]\n#[component(crate = {K})]",
            all.join(", ")
        );
    }

    /// A named type of an interface or the world.
    fn typedef(&self, out: &mut String, id: TypeId, cx: Cx) {
        let def = &self.resolve.types[id];
        let Some(wit_name) = &def.name else { return };
        let name = self.type_ident(id);
        if !matches!(def.kind, TypeDefKind::Flags(_)) {
            docs(out, &def.docs);
        }
        if let Some(alias) = self.with_types.get(&id) {
            let _ = writeln!(out, "pub type {name} = {}{alias};", cx.call_site());
            return;
        }
        match &def.kind {
            TypeDefKind::Record(r) => {
                let clone = !r.fields.iter().any(|f| self.has_host_handle(&f.ty, cx));
                let builtin: &[&str] =
                    if clone { &["::core::clone::Clone", "::core::fmt::Debug"] } else { &["::core::fmt::Debug"] };
                self.derives(out, builtin);
                let _ = writeln!(out, "#[component(record)]\npub struct {name} {{");
                for f in &r.fields {
                    docs(out, &f.docs);
                    let _ = writeln!(
                        out,
                        "#[component(name = {:?})] pub {}: {},",
                        f.name,
                        snake(&f.name),
                        self.ty(&f.ty, cx, Mode::Owned)
                    );
                }
                out.push_str("}\n");
            }
            TypeDefKind::Variant(v) => {
                let clone = !v.cases.iter().any(|c| c.ty.as_ref().is_some_and(|t| self.has_host_handle(t, cx)));
                let builtin: &[&str] =
                    if clone { &["::core::clone::Clone", "::core::fmt::Debug"] } else { &["::core::fmt::Debug"] };
                self.derives(out, builtin);
                let _ = writeln!(out, "#[component(variant)]\npub enum {name} {{");
                for c in &v.cases {
                    docs(out, &c.docs);
                    let payload = c.ty.as_ref().map(|t| format!("({})", self.ty(t, cx, Mode::Owned)));
                    let _ = writeln!(
                        out,
                        "#[component(name = {:?})] {}{},",
                        c.name,
                        camel(&c.name),
                        payload.unwrap_or_default()
                    );
                }
                out.push_str("}\n");
            }
            TypeDefKind::Enum(e) => {
                self.derives(
                    out,
                    &[
                        "::core::clone::Clone",
                        "::core::marker::Copy",
                        "::core::fmt::Debug",
                        "::core::cmp::PartialEq",
                        "::core::cmp::Eq",
                        "::core::hash::Hash",
                    ],
                );
                let _ = writeln!(out, "#[component(enum)]\npub enum {name} {{");
                for c in &e.cases {
                    docs(out, &c.docs);
                    let _ = writeln!(out, "#[component(name = {:?})] {},", c.name, camel(&c.name));
                }
                out.push_str("}\n");
            }
            TypeDefKind::Flags(f) => {
                let _ = writeln!(out, "{K}::flags! {{");
                docs(out, &def.docs);
                let _ = writeln!(out, "pub {name} {{");
                for flag in &f.flags {
                    docs(out, &flag.docs);
                    let _ = writeln!(
                        out,
                        "#[component(name = {:?})] const {};",
                        flag.name,
                        flag.name.to_shouty_snake_case()
                    );
                }
                out.push_str("}\n}\n");
            }
            TypeDefKind::Resource => {
                if self.is_host_resource(id, cx) {
                    let _ = writeln!(
                        out,
                        "/// The host resource `{wit_name}`: a marker for `component_layer::HostResource<{name}>`.\n\
                         #[derive(::core::fmt::Debug)]\npub enum {name} {{}}"
                    );
                } else {
                    let _ = writeln!(out, "/// The guest resource `{wit_name}`.\npub type {name} = {K}::ResourceAny;");
                }
            }
            TypeDefKind::Type(Type::Id(target))
                if matches!(self.resolve.types[self.dealias(*target)].kind, TypeDefKind::Resource) =>
            {
                let _ = writeln!(out, "pub type {name} = {};", self.resource_ref(*target, cx));
            }
            _ => {
                // Aliases and named anonymous types (tuples, options, lists, handles, …).
                let _ = writeln!(out, "pub type {name} = {};", self.anon(&def.kind, cx));
            }
        }
    }

    /// The Rust type of a named resource (marker or `ResourceAny`), for aliases.
    fn resource_ref(&self, id: TypeId, cx: Cx) -> String {
        let def = &self.resolve.types[id];
        if !self.is_host_resource(id, cx) {
            return format!("{K}::ResourceAny");
        }
        format!("{}{}", self.module_of(def.owner, cx), self.type_ident(id))
    }

    /// The Rust type of a type definition's body (for `pub type X = ...`).
    fn anon(&self, kind: &TypeDefKind, cx: Cx) -> String {
        match kind {
            TypeDefKind::Type(t) => self.ty(t, cx, Mode::Owned),
            _ => {
                // Build the type through an anonymous stand-in: the same rules as inline types.
                let owned = |t: &Type| self.ty(t, cx, Mode::Owned);
                match kind {
                    TypeDefKind::List(t) => format!("::std::vec::Vec<{}>", owned(t)),
                    TypeDefKind::Option(t) => format!("::core::option::Option<{}>", owned(t)),
                    TypeDefKind::Result(r) => {
                        let side = |t: &Option<Type>| t.as_ref().map(owned).unwrap_or_else(|| "()".into());
                        format!("{RESULT}<{}, {}>", side(&r.ok), side(&r.err))
                    }
                    TypeDefKind::Tuple(t) => {
                        format!("({})", t.types.iter().map(|t| format!("{},", owned(t))).collect::<String>())
                    }
                    TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => {
                        if self.is_host_resource(*r, cx) {
                            format!("{K}::HostResource<{}>", self.resource_ref(*r, cx))
                        } else {
                            format!("{K}::ResourceAny")
                        }
                    }
                    _ => "()".into(),
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Imports.

    /// A host function of imported function `f` (of interface `owner`, or of the world), as the method
    /// `method`.
    fn host_fn(&self, f: &Function, method: String, owner: Option<InterfaceId>, cx: Cx) -> HostFn {
        let root = Cx { depth: 0, guest: cx.guest };
        let flags = self.flags_of(owner, &f.name);
        let ret = |cx: Cx| {
            let t = f.result.as_ref().map(|t| self.ty(t, cx, Mode::Owned)).unwrap_or_else(|| "()".into());
            if flags.trappable {
                format!("{K}::Result<{t}>")
            } else {
                t
            }
        };
        HostFn {
            method,
            params: f
                .params
                .iter()
                .map(|p| (param(&p.name), self.ty(&p.ty, cx, Mode::Owned), self.ty(&p.ty, root, Mode::Owned)))
                .collect(),
            ret: ret(cx),
            root_ret: ret(root),
            flags,
            docs: f.docs.clone(),
            returns: f.result.is_some(),
            is_drop: false,
        }
    }

    /// The destructor of the host resource `r`, as the method `drop` (it always returns a `Result`).
    fn drop_fn(&self, r: TypeId, owner: Option<InterfaceId>, cx: Cx) -> HostFn {
        let wit = self.resolve.types[r].name.clone().unwrap_or_default();
        let root = Cx { depth: 0, guest: cx.guest };
        let handle = |cx: Cx| format!("{K}::HostResource<{}>", self.resource_ref(r, cx));
        HostFn {
            method: "drop".to_owned(),
            params: vec![("rep".to_owned(), handle(cx), handle(root))],
            ret: format!("{K}::Result<()>"),
            root_ret: format!("{K}::Result<()>"),
            flags: Flags { trappable: true, ..self.flags_of(owner, &format!("[drop]{wit}")) },
            docs: Docs {
                contents: Some(format!("Called when a component drops its last owning handle to a `{wit}`.")),
            },
            returns: false,
            is_drop: true,
        }
    }

    /// The declaration of a host method, with its parameter and result types as seen from the module (`root`:
    /// from the root, for the dummy host).
    fn host_sig(h: &HostFn, root: bool) -> String {
        let params: String =
            h.params.iter().map(|(n, t, rt)| format!(", {n}: {}", if root { rt } else { t })).collect();
        let ret = if root { &h.root_ret } else { &h.ret };
        if h.flags.store {
            format!("fn {}(host: {K}::Access<'_, T, E, Self>{params}) -> {ret}", h.method)
        } else {
            format!("fn {}(&mut self{params}) -> {ret}", h.method)
        }
    }

    /// The host trait `tr` with the methods `fns` that take `&mut self`, `{tr}WithStore` with those that take the
    /// store, the forwarding impl for `&mut T`, and the dummy host's impls. Returns the traits a host must
    /// implement.
    fn host_trait(
        &mut self,
        out: &mut String,
        tr: &str,
        supers: &str,
        doc: &str,
        fns: &[HostFn],
        module: &str,
    ) -> Vec<String> {
        let mut traits = vec![tr.to_owned()];
        let (with_store, plain): (Vec<&HostFn>, Vec<&HostFn>) = fns.iter().partition(|h| h.flags.store);
        let decls = |fns: &[&HostFn]| -> String {
            fns.iter()
                .map(|h| {
                    let mut d = String::new();
                    docs(&mut d, &h.docs);
                    format!("{d}{};\n", Self::host_sig(h, false))
                })
                .collect()
        };
        let dummies = |fns: &[&HostFn]| -> String {
            fns.iter()
                .map(|h| {
                    format!(
                        "{} {{ {} }}\n",
                        Self::host_sig(h, true),
                        if h.is_drop {
                            format!("{OK}(())")
                        } else {
                            format!("::core::result::Result::Err({K}::Error::new({K}::ErrorKind::Unsupported(\"dummy host\".into())))")
                        }
                    )
                })
                .collect()
        };
        let _ = writeln!(out, "/// {doc}\npub trait {tr}{supers} {{\n{}}}", decls(&plain));
        let _ = writeln!(self.dummy, "impl {module}{tr} for __DummyHost {{\n{}}}", dummies(&plain));
        if !self.opts.skip_mut_forwarding_impls {
            let forwards: String = plain
                .iter()
                .map(|h| {
                    let args: String = h.params.iter().map(|(n, _, _)| format!(", {n}")).collect();
                    format!("{} {{ <_T as {tr}>::{}(*self{args}) }}\n", Self::host_sig(h, false), h.method)
                })
                .collect();
            let _ = writeln!(
                out,
                "/// Forwards to `T`, so that `&mut T` implements `{tr}` where `T` does.\n\
                 impl<_T: {tr} + ?::core::marker::Sized> {tr} for &mut _T {{\n{forwards}}}"
            );
        }
        if !with_store.is_empty() {
            let _ = writeln!(
                out,
                "/// The functions of `{tr}` that reach the store (`imports: {{ …: store }}`): each gets a \
                 `component_layer::Access` (the store of data `T`, and `get()` for this host) instead of `&mut self`.\n\
                 pub trait {tr}WithStore<T: 'static, E: {K}::__internal::WasmEngine> {{\n{}}}",
                decls(&with_store)
            );
            let _ = writeln!(
                self.dummy,
                "impl<T: 'static, E: {K}::__internal::WasmEngine> {module}{tr}WithStore<T, E> for __DummyHost {{\n{}}}",
                dummies(&with_store)
            );
            traits.push(format!("{tr}WithStore<T, E>"));
        }
        traits
    }

    /// The statement that defines host function `h` (of trait `tr`) as `wit` in the linker instance `inst`.
    fn register_fn(&self, h: &HostFn, tr: &str, wit: &str) -> String {
        let names: String = (0..h.params.len()).map(|i| format!("p{i},")).collect();
        let types: String = h.params.iter().map(|(_, t, _)| format!("{t},")).collect();
        let call = self.host_call(h, tr, &names);
        let result = if h.flags.trappable {
            format!("let r = r.map_err({K}::__internal::anyhow::Error::from)?;")
        } else {
            String::new()
        };
        let ok = if h.returns { format!("{OK}((r,))") } else { format!("{{ let () = r; {OK}(()) }}") };
        format!(
            "inst.func_wrap({wit:?}, move |mut cx: {K}::StoreContextMut<'_, T, E>, ({names}): ({types})| {{ \
               let r = {call}; {result} {ok} }})?;\n"
        )
    }

    /// The call of host method `h` of trait `tr` inside a host function whose store context is `cx`.
    fn host_call(&self, h: &HostFn, tr: &str, args: &str) -> String {
        if h.flags.store {
            // A reborrow: the store context of the call outlives the borrow of `get`.
            format!(
                "<U as {tr}WithStore<T, E>>::{}({K}::Access::new({K}::AsContextMut::as_context_mut(&mut cx), &get), {args})",
                h.method
            )
        } else {
            format!("<U as {tr}>::{}(get(cx.data_mut()), {args})", h.method)
        }
    }

    /// `HostFoo` traits for `resources`, the trait `t.name` for the freestanding `funcs`, and
    /// `add_to_linker`/`add_to_linker_instance`, which define them all in `instance` (an expression giving the
    /// linker instance) or in a given linker instance. Returns the traits a host must implement.
    fn host_traits(
        &mut self,
        out: &mut String,
        t: &HostTraits<'_>,
        resources: &[TypeId],
        funcs: &[&Function],
        cx: Cx,
        instance: &str,
    ) -> Vec<String> {
        let mut register = String::new();
        let mut supertraits: Vec<String> = Vec::new();
        let mut bounds: Vec<String> = Vec::new();
        for r in resources {
            let wit_name = self.resolve.types[*r].name.clone().unwrap_or_default();
            let tr = format!("Host{}", camel(&wit_name));
            let mut names = Names::reserving(&["drop"]);
            let mut fns: Vec<HostFn> = Vec::new();
            for f in funcs.iter().filter(|f| f.kind.resource() == Some(*r)) {
                let method = match f.kind {
                    FunctionKind::Constructor(_) => names.take("new".to_owned()),
                    _ => names.take(snake(f.item_name())),
                };
                let h = self.host_fn(f, method, t.owner, cx);
                register.push_str(&self.register_fn(&h, &tr, &f.name));
                fns.push(h);
            }
            let drop = self.drop_fn(*r, t.owner, cx);
            let marker = format!("self::{}", self.type_ident(*r));
            let call = self.host_call(&drop, &tr, &format!("{K}::HostResource::new_own(rep)"));
            let _ = writeln!(
                register,
                "inst.resource({wit_name:?}, {K}::ResourceType::host::<{marker}>(), move |mut cx, rep| \
                 {call}.map_err({K}::__internal::anyhow::Error::from))?;"
            );
            let _ = writeln!(
                self.dummy_resources,
                "{instance}.resource({wit_name:?}, {K}::ResourceType::host::<{}{}>(), |_, _| {OK}(()))?;",
                t.module,
                self.type_ident(*r)
            );
            fns.push(drop);
            let doc = format!("The host's implementation of the resource `{wit_name}`.");
            let traits = self.host_trait(out, &tr, "", &doc, &fns, t.module);
            bounds.extend(traits.into_iter().skip(1));
            supertraits.push(tr);
        }
        let mut names = Names::default();
        let mut fns: Vec<HostFn> = Vec::new();
        for f in funcs.iter().filter(|f| f.kind.resource().is_none()) {
            let h = self.host_fn(f, names.take(snake(&f.name)), t.owner, cx);
            register.push_str(&self.register_fn(&h, t.name, &f.name));
            fns.push(h);
        }
        let supers = if supertraits.is_empty() { String::new() } else { format!(": {}", supertraits.join(" + ")) };
        let traits = self.host_trait(
            out,
            t.name,
            &supers,
            "The host's implementation of the imported functions.",
            &fns,
            t.module,
        );
        bounds.splice(0..0, traits);
        let prefix = t.fn_prefix;
        let bound = bounds.iter().map(|b| format!("self::{b}")).collect::<Vec<_>>().join(" + ");
        let get = "get: impl ::core::ops::Fn(&mut T) -> &mut U + ::core::marker::Send + ::core::marker::Sync + \
                   ::core::marker::Copy + 'static";
        let _ = writeln!(
            out,
            "/// Defines these imports in `linker`, implemented by the host that `get` finds in the store's data.\n\
             pub fn {prefix}add_to_linker<T: 'static, E: {K}::__internal::WasmEngine, U: {bound} + 'static>(\
               linker: &mut {K}::Linker<T, E>, {get}) -> {K}::Result<()> {{\n\
               self::{prefix}add_to_linker_instance({instance}, get)\n\
             }}\n\
             /// Defines these imports in the linker instance `inst` (an instance imported under another name, as \
             with `implements`), implemented by the host that `get` finds in the store's data.\n\
             pub fn {prefix}add_to_linker_instance<T: 'static, E: {K}::__internal::WasmEngine, U: {bound} + 'static>(\
               inst: &mut {K}::LinkerInstance<T, E>, {get}) -> {K}::Result<()> {{\n\
               let _ = (&inst, get);\n\
               {register}\
               {OK}(())\n\
             }}"
        );
        bounds
    }

    // ---------------------------------------------------------------------------------------------------------
    // Exports.

    /// `(params, param types for the call, param types with 'static, names, result type)` of an export call.
    fn export_sig(&self, f: &Function, cx: Cx) -> (String, String, String, String, String) {
        let mut params = String::new();
        let mut call_types = String::new();
        let mut static_types = String::new();
        let mut names = String::new();
        for p in &f.params {
            let name = param(&p.name);
            let _ = write!(params, ", {name}: {}", self.ty(&p.ty, cx, Mode::Borrowed("")));
            let _ = write!(call_types, "{},", self.ty(&p.ty, cx, Mode::Borrowed("")));
            let _ = write!(static_types, "{},", self.ty(&p.ty, cx, Mode::Borrowed("'static")));
            let _ = write!(names, "{name},");
        }
        let ret = f.result.as_ref().map(|t| self.ty(t, cx, Mode::Owned)).unwrap_or_else(|| "()".into());
        (params, call_types, static_types, names, ret)
    }

    /// `call_*` for one function stored in field `field` of `self_expr`.
    fn call_fn(&self, out: &mut String, f: &Function, method: &str, field_expr: &str, cx: Cx) {
        let (params, call_types, _, names, ret) = self.export_sig(f, cx);
        let results = if f.result.is_some() { format!("({ret},)") } else { "()".into() };
        docs(out, &f.docs);
        let finish = if f.result.is_some() { format!("{OK}(__r.0)") } else { format!("{{ let () = __r; {OK}(()) }}") };
        let _ = writeln!(
            out,
            "pub fn {method}<S: {K}::AsContextMut>(&self, store: S{params}) -> {K}::Result<{ret}> {{\n\
               let __f = {K}::TypedFunc::<({call_types}), {results}>::new_unchecked({field_expr}.clone());\n\
               let __r = __f.call(store, ({names}))?;\n\
               {finish}\n\
             }}"
        );
    }

    /// The type check of an export at load time.
    fn check_fn(&self, f: &Function, var: &str, cx: Cx) -> String {
        let (_, _, static_types, _, ret) = self.export_sig(f, cx);
        let results = if f.result.is_some() { format!("({ret},)") } else { "()".into() };
        format!(
            "{var}.typed::<({static_types}), {results}>().map_err(|e| e.context(\"in export `{}`\"))?;",
            f.name.replace('"', "")
        )
    }

    /// The `Guest` struct of an exported interface (exported as `name`, or under other names with `new_at`),
    /// with `GuestIndices` and a `GuestFoo` per resource.
    fn guest(&self, out: &mut String, name: &str, funcs: &[&Function], cx: Cx) {
        let fields: Vec<String> = funcs.iter().enumerate().map(|(i, f)| func_field(i, &f.name)).collect();
        let _ = writeln!(
            out,
            "/// The exports of `{name}`, type-checked.\n#[derive(Clone)]\npub struct Guest {{ {} }}",
            fields.iter().map(|f| format!("{f}: {K}::Func,")).collect::<String>()
        );
        let _ = writeln!(
            out,
            "/// The export indices of `{name}` in a component.\n#[derive(Clone)]\npub struct GuestIndices {{ {} }}",
            fields.iter().map(|f| format!("{f}: {K}::ExportIndex,")).collect::<String>()
        );
        let lookups: String = funcs
            .iter()
            .zip(&fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = component.get_export_index(::core::option::Option::Some(&instance), {:?}).ok_or_else(|| \
                     {K}::Error::new({K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}` in `{{}}`\", {:?}, name))))?;\n",
                    f.name, f.name
                )
            })
            .collect();
        let loads: String = funcs
            .iter()
            .zip(&fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = instance.get_func(&self.{field}).ok_or_else(|| {K}::Error::new({K}::ErrorKind::Link(\
                     ::std::format!(\"`{{}}` in `{{}}` is not a function\", {:?}, {name:?}))))?;\n{}\n",
                    f.name,
                    self.check_fn(f, field, cx)
                )
            })
            .collect();
        let all: String = fields.iter().map(|f| format!("{f},")).collect();
        let _ = writeln!(
            out,
            "impl GuestIndices {{\n\
               /// Finds the exports in `component`.\n\
               pub fn new(component: &{K}::Component) -> {K}::Result<GuestIndices> {{\n\
                 Self::new_at(component, {name:?})\n\
               }}\n\
               /// Finds the exports in `component`'s instance export `name` (an export of this interface under \
               another name, as with `implements`).\n\
               pub fn new_at(component: &{K}::Component, name: &str) -> {K}::Result<GuestIndices> {{\n\
                 let instance = component.get_export_index(::core::option::Option::None, name).ok_or_else(|| \
                   {K}::Error::new({K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}`\", name))))?;\n\
                 let _ = &instance;\n\
                 {lookups}\
                 {OK}(GuestIndices {{ {all} }})\n\
               }}\n\
               /// Takes the exports out of `instance` and type-checks them.\n\
               pub fn load(&self, instance: &{K}::Instance) -> {K}::Result<Guest> {{\n\
                 let _ = instance;\n\
                 {loads}\
                 {OK}(Guest {{ {all} }})\n\
               }}\n\
             }}"
        );
        let mut names = Names::default();
        // Freestanding functions.
        let mut methods = String::new();
        for (f, field) in funcs.iter().zip(&fields) {
            if f.kind.resource().is_none() {
                let method = names.take(snake(&format!("call-{}", f.name)));
                self.call_fn(&mut methods, f, &method, &format!("self.{field}"), cx);
            }
        }
        // Resources.
        let mut resources: Vec<TypeId> = Vec::new();
        for f in funcs {
            if let Some(r) = f.kind.resource() {
                if !resources.contains(&r) {
                    resources.push(r);
                }
            }
        }
        let mut views = String::new();
        for r in &resources {
            let wit_name = self.resolve.types[*r].name.clone().unwrap_or_default();
            let view = format!("Guest{}", camel(&wit_name));
            let _ = writeln!(
                methods,
                "/// The functions of the resource `{wit_name}`.\npub fn {}(&self) -> {view}<'_> {{ {view} {{ funcs: self }} }}",
                names.take(snake(&wit_name))
            );
            let mut body = String::new();
            let mut view_names = Names::reserving(&["call_constructor"]);
            for (f, field) in funcs.iter().zip(&fields) {
                if f.kind.resource() != Some(*r) {
                    continue;
                }
                let method = match f.kind {
                    FunctionKind::Constructor(_) => "call_constructor".to_owned(),
                    _ => view_names.take(snake(&format!("call-{}", f.item_name()))),
                };
                self.call_fn(&mut body, f, &method, &format!("self.funcs.{field}"), cx);
            }
            let _ = writeln!(
                views,
                "/// The functions of the exported resource `{wit_name}`.\npub struct {view}<'a> {{ funcs: &'a Guest }}\n\
                 impl {view}<'_> {{\n{body}}}"
            );
        }
        let _ = writeln!(out, "impl Guest {{\n{methods}}}\n{views}");
    }

    /// The world's struct, its indices and pre-instantiation, and the world's `add_to_linker`.
    fn world_struct(&self, funcs: &[&Function], ifaces: &[Export], bounds: &[String], add_calls: &str) -> String {
        let w = &self.resolve.worlds[self.world];
        let name = &self.world_name;
        let cx = Cx { depth: 0, guest: None };
        let fields: Vec<String> = funcs.iter().enumerate().map(|(i, f)| func_field(i, &f.name)).collect();
        let mut out = String::new();
        docs(&mut out, &w.docs);
        let struct_fields: String = fields
            .iter()
            .map(|f| format!("{f}: {K}::Func,"))
            .chain(ifaces.iter().enumerate().map(|(i, e)| format!("interface{i}: self::{}::Guest,", e.path.join("::"))))
            .collect();
        let index_fields: String = fields
            .iter()
            .map(|f| format!("{f}: {K}::ExportIndex,"))
            .chain(
                ifaces
                    .iter()
                    .enumerate()
                    .map(|(i, e)| format!("interface{i}: self::{}::GuestIndices,", e.path.join("::"))),
            )
            .collect();
        let all_fields: String = fields
            .iter()
            .cloned()
            .chain((0..ifaces.len()).map(|i| format!("interface{i}")))
            .map(|f| format!("{f},"))
            .collect();
        let lookups: String = funcs
            .iter()
            .zip(&fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = component.get_export_index(::core::option::Option::None, {:?}).ok_or_else(|| \
                     {K}::Error::new({K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}`\", {:?}))))?;\n",
                    f.name, f.name
                )
            })
            .chain(ifaces.iter().enumerate().map(|(i, e)| {
                format!("let interface{i} = self::{}::GuestIndices::new_at(component, {:?})?;\n", e.path.join("::"), e.name)
            }))
            .collect();
        let loads: String = funcs
            .iter()
            .zip(&fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = instance.get_func(&self.{field}).ok_or_else(|| {K}::Error::new({K}::ErrorKind::Link(\
                     ::std::format!(\"`{{}}` is not a function\", {:?}))))?;\n{}\n",
                    f.name,
                    self.check_fn(f, field, cx)
                )
            })
            .chain((0..ifaces.len()).map(|i| format!("let interface{i} = self.interface{i}.load(instance)?;\n")))
            .collect();
        let mut methods = String::new();
        let mut names = Names::reserving(&["instantiate", "instantiate_pre", "new", "add_to_linker"]);
        for (f, field) in funcs.iter().zip(&fields) {
            let method = names.take(snake(&format!("call-{}", f.name)));
            self.call_fn(&mut methods, f, &method, &format!("self.{field}"), cx);
        }
        for (i, e) in ifaces.iter().enumerate() {
            let _ = writeln!(
                methods,
                "/// The exported interface `{}`.\npub fn {}(&self) -> &self::{}::Guest {{ &self.interface{i} }}",
                e.name,
                names.take(e.accessor.clone()),
                e.path.join("::")
            );
        }
        let bounds = if bounds.is_empty() { String::new() } else { format!(" + {}", bounds.join(" + ")) };
        let _ = writeln!(
            out,
            "/// The exports of world `{wname}`, type-checked; see `{name}::instantiate`.\n\
             #[derive(Clone)]\npub struct {name} {{ {struct_fields} }}\n\
             /// Where the exports of world `{wname}` are in a component (found once, used for every instance).\n\
             #[derive(Clone)]\npub struct {name}Indices {{ {index_fields} }}\n\
             /// A component of world `{wname}` with its imports resolved and type-checked, ready to instantiate.\n\
             pub struct {name}Pre<T: 'static, E: {K}::__internal::WasmEngine> {{ instance_pre: {K}::InstancePre<T, E>, indices: {name}Indices }}\n\
             impl<T: 'static, E: {K}::__internal::WasmEngine> ::core::fmt::Debug for {name}Pre<T, E> {{\n\
               fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{ ::core::fmt::Debug::fmt(&self.instance_pre, f) }}\n\
             }}\n\
             impl<T: 'static, E: {K}::__internal::WasmEngine> ::core::clone::Clone for {name}Pre<T, E> {{\n\
               fn clone(&self) -> Self {{ {name}Pre {{ instance_pre: self.instance_pre.clone(), indices: self.indices.clone() }} }}\n\
             }}\n\
             impl {name}Indices {{\n\
               /// Finds the world's exports in `component`.\n\
               pub fn new(component: &{K}::Component) -> {K}::Result<Self> {{\n\
                 let _ = component;\n\
                 {lookups}\
                 {OK}({name}Indices {{ {all_fields} }})\n\
               }}\n\
               /// Takes the exports out of `instance` and type-checks them.\n\
               pub fn load(&self, instance: &{K}::Instance) -> {K}::Result<{name}> {{\n\
                 let _ = instance;\n\
                 {loads}\
                 {OK}({name} {{ {all_fields} }})\n\
               }}\n\
             }}\n\
             impl<T: 'static, E: {K}::__internal::WasmEngine> {name}Pre<T, E> {{\n\
               /// Finds the world's exports in the pre-instantiated component.\n\
               pub fn new(instance_pre: {K}::InstancePre<T, E>) -> {K}::Result<Self> {{\n\
                 let indices = {name}Indices::new(instance_pre.component())?;\n\
                 {OK}({name}Pre {{ instance_pre, indices }})\n\
               }}\n\
               /// The pre-instantiated component.\n\
               pub fn instance_pre(&self) -> &{K}::InstancePre<T, E> {{ &self.instance_pre }}\n\
               /// Instantiates the component in `store` and takes out its exports.\n\
               pub fn instantiate<S: {K}::AsContextMut<Data = T, Engine = E>>(&self, store: S) -> {K}::Result<{name}> {{\n\
                 let instance = self.instance_pre.instantiate(store)?;\n\
                 self.indices.load(&instance)\n\
               }}\n\
             }}\n\
             impl {name} {{\n\
               /// Instantiates `component` with `linker`'s definitions and takes out its exports.\n\
               pub fn instantiate<T: 'static, E: {K}::__internal::WasmEngine, S: {K}::AsContextMut<Data = T, Engine = E>>(\
                 store: S, component: &{K}::Component, linker: &{K}::Linker<T, E>) -> {K}::Result<{name}> {{\n\
                 Self::instantiate_pre(component, linker)?.instantiate(store)\n\
               }}\n\
               /// Resolves and type-checks `component`'s imports with `linker` once, and finds its exports.\n\
               pub fn instantiate_pre<T: 'static, E: {K}::__internal::WasmEngine>(\
                 component: &{K}::Component, linker: &{K}::Linker<T, E>) -> {K}::Result<{name}Pre<T, E>> {{\n\
                 {name}Pre::new(linker.instantiate_pre(component)?)\n\
               }}\n\
               /// Takes the exports out of an instance of a component of this world.\n\
               pub fn new<S: {K}::AsContextMut>(_store: S, instance: &{K}::Instance) -> {K}::Result<{name}> {{\n\
                 {name}Indices::new(instance.component())?.load(instance)\n\
               }}\n\
               /// Defines every import of the world in `linker`, implemented by the host traits that `get` finds \
                 in the store's data.\n\
               pub fn add_to_linker<T: 'static, E: {K}::__internal::WasmEngine, U: 'static{bounds}>(\
                 linker: &mut {K}::Linker<T, E>, \
                 get: impl ::core::ops::Fn(&mut T) -> &mut U + ::core::marker::Send + ::core::marker::Sync + ::core::marker::Copy + 'static,\
               ) -> {K}::Result<()> {{\n\
                 let _ = (&linker, get);\n\
                 {add_calls}\
                 {OK}(())\n\
               }}\n\
               {methods}\
             }}",
            wname = w.name,
        );
        out
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
