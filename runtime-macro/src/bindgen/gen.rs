//! The code generator of `bindgen!`: a resolved world in, Rust source text out.
//!
//! Layout, as wasmtime's: world-level types and the world's struct at the call site; each imported interface in
//! a module `ns::pkg::iface` (`pkg` gets its version appended when two versions of a package meet), with its
//! types, a `Host` trait for its functions, a `HostFoo` trait per resource and `add_to_linker`; each exported
//! interface in `exports::ns::pkg::iface` with its types, a `Guest` struct of typed functions and a `GuestFoo`
//! view per resource. Every generated item names what it uses by absolute path (`::core::result::Result`, …) or
//! by `super::` chains, so WIT names cannot shadow them.
//!
//! Resources of imported interfaces are the host's: an uninhabited marker type `Foo` used as
//! `component_layer::HostResource<Foo>`. Resources of exported interfaces are the guest's:
//! `component_layer::ResourceAny`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use wit_parser::{
    Docs, Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldId,
    WorldItem, WorldKey,
};

use super::Options;

const K: &str = "::component_layer";
const RESULT: &str = "::core::result::Result";
const OK: &str = "::core::result::Result::Ok";

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
    fn up(&self) -> String {
        "super::".repeat(self.depth)
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

/// The generator.
pub struct Generator<'a> {
    resolve: &'a Resolve,
    world: WorldId,
    opts: &'a Options,
    imports: HashMap<InterfaceId, Vec<String>>,
    exports: HashMap<InterfaceId, Vec<String>>,
    with: HashMap<InterfaceId, String>,
    world_name: String,
    root: Node,
    /// Dummy host impls (`dummy_host`).
    dummy: String,
    /// Statements defining the host resource types (with no-op destructors) in a `linker` (`dummy_host`).
    dummy_resources: String,
}

impl<'a> Generator<'a> {
    /// Checks the world for unsupported features and assigns module paths.
    pub fn new(resolve: &'a Resolve, world: WorldId, opts: &'a Options) -> Result<Self, String> {
        let w = &resolve.worlds[world];
        let mut g = Generator {
            resolve,
            world,
            opts,
            imports: HashMap::new(),
            exports: HashMap::new(),
            with: HashMap::new(),
            world_name: camel(&w.name),
            root: Node::default(),
            dummy: String::new(),
            dummy_resources: String::new(),
        };
        g.check_supported()?;
        g.assign_paths();
        for (key, path) in &opts.with {
            let found = w.imports.iter().find_map(|(k, item)| match (k, item) {
                (WorldKey::Interface(id), WorldItem::Interface { .. })
                    if resolve.id_of(*id).as_deref() == Some(key) =>
                {
                    Some(*id)
                }
                (WorldKey::Name(n), WorldItem::Interface { id, .. }) if n == key => Some(*id),
                _ => None,
            });
            match found {
                Some(id) => {
                    g.with.insert(id, path.clone());
                }
                None => {
                    return Err(format!(
                        "bindgen!: `with` key `{key}` is not an interface imported by world `{}` (only whole \
                         imported interfaces can be mapped)",
                        w.name
                    ))
                }
            }
        }
        Ok(g)
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
        for items in [&w.imports, &w.exports] {
            let mut seen = std::collections::HashSet::new();
            for item in items.values() {
                if let WorldItem::Interface { id, .. } = item {
                    if !seen.insert(*id) {
                        return unsupported(
                            "one interface under two names (`implements`)",
                            &format!("`{}`", self.resolve.id_of(*id).unwrap_or_default()),
                        );
                    }
                }
            }
        }
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
    /// two versions of a package would share a path.
    fn assign_paths(&mut self) {
        let w = &self.resolve.worlds[self.world];
        let path_of = |key: &WorldKey, id: InterfaceId, versioned: bool| -> Vec<String> {
            match key {
                WorldKey::Name(n) => vec![snake(n)],
                WorldKey::Interface(_) => {
                    let iface = &self.resolve.interfaces[id];
                    let Some(pkg) = iface.package.map(|p| &self.resolve.packages[p].name) else {
                        return vec![format!("interface{}", id.index())];
                    };
                    let mut pkg_seg = snake(&pkg.name);
                    if let (true, Some(v)) = (versioned, &pkg.version) {
                        pkg_seg = format!("{pkg_seg}{}", snake(&format!("v{v}").replace(['.', '+', '-'], "_")));
                    }
                    vec![snake(&pkg.namespace), pkg_seg, snake(iface.name.as_deref().unwrap_or("interface"))]
                }
            }
        };
        for (exports, items) in [(false, &w.imports), (true, &w.exports)] {
            let ifaces: Vec<(&WorldKey, InterfaceId)> = items
                .iter()
                .filter_map(|(k, item)| match item {
                    WorldItem::Interface { id, .. } => Some((k, *id)),
                    _ => None,
                })
                .collect();
            let mut count: HashMap<Vec<String>, usize> = HashMap::new();
            for (k, id) in &ifaces {
                *count.entry(path_of(k, *id, false)).or_default() += 1;
            }
            for (k, id) in ifaces {
                let plain = path_of(k, id, false);
                let mut path = if count[&plain] > 1 { path_of(k, id, true) } else { plain };
                if exports {
                    path.insert(0, "exports".to_owned());
                    self.exports.insert(id, path);
                } else {
                    self.imports.insert(id, path);
                }
            }
        }
    }

    /// Generates the bindings.
    pub fn generate(mut self) -> Result<String, String> {
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
        for (key, item) in &w.imports {
            let WorldItem::Interface { id, .. } = item else { continue };
            let name = resolve.name_world_key(key);
            if let Some(path) = self.with.get(id) {
                bounds.push(format!("{path}::Host"));
                let _ = writeln!(add_calls, "{path}::add_to_linker(linker, get)?;");
                continue;
            }
            let path = self.imports[id].clone();
            let cx = Cx { depth: path.len(), guest: None };
            let iface = &resolve.interfaces[*id];
            let mut code = String::new();
            docs(&mut code, &iface.docs);
            for tid in iface.types.values() {
                self.typedef(&mut code, *tid, cx);
            }
            let funcs: Vec<&Function> = iface.functions.values().collect();
            let resources = self.own_resources(iface.types.values().copied(), TypeOwner::Interface(*id));
            let module = format!("{}::", path.join("::"));
            self.host_traits(
                &mut code,
                "Host",
                &resources,
                &funcs,
                cx,
                &format!("linker.instance({name:?})?"),
                &module,
            );
            self.root.at(&path).code.push_str(&code);
            let p = path.join("::");
            bounds.push(format!("{p}::Host"));
            let _ = writeln!(add_calls, "{p}::add_to_linker(linker, get)?;");
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
            let mut code = String::new();
            self.host_traits(&mut code, &trait_name, &root_resources, &root_funcs, root_cx, "linker.root()", "");
            // The root's `add_to_linker` is named after the trait, so it does not collide with the world's.
            let code =
                code.replace("pub fn add_to_linker<", &format!("pub fn {}_add_to_linker<", w.name.to_snake_case()));
            self.root.code.push_str(&code);
            bounds.push(trait_name);
            let _ = writeln!(add_calls, "{}_add_to_linker(linker, get)?;", w.name.to_snake_case());
        }

        // Exported interfaces.
        let mut ifaces: Vec<(String, String, Vec<String>)> = Vec::new();
        for (key, item) in &w.exports {
            let WorldItem::Interface { id, .. } = item else { continue };
            let name = resolve.name_world_key(key);
            let path = self.exports[id].clone();
            let cx = Cx { depth: path.len(), guest: Some(*id) };
            let iface = &resolve.interfaces[*id];
            let mut code = String::new();
            docs(&mut code, &iface.docs);
            for tid in iface.types.values() {
                self.typedef(&mut code, *tid, cx);
            }
            let funcs: Vec<&Function> = iface.functions.values().collect();
            self.guest(&mut code, &name, &funcs, cx);
            self.root.at(&path).code.push_str(&code);
            let accessor = match key {
                WorldKey::Name(n) => snake(n),
                WorldKey::Interface(_) => snake(&path[1..].join("-")),
            };
            ifaces.push((accessor, name, path));
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
                    return format!("{p}::");
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
                if let Some(name) = &def.name {
                    let path = match &def.kind {
                        TypeDefKind::Resource if !self.is_host_resource(*id, cx) => format!("{K}::ResourceAny"),
                        _ => format!("{}{}", self.module_of(def.owner, cx), camel(name)),
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
                            let def = &self.resolve.types[*r];
                            let name = def.name.as_deref().unwrap_or("resource");
                            format!("{K}::HostResource<{}{}>", self.module_of(def.owner, cx), camel(name))
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
        let name = camel(wit_name);
        if !matches!(def.kind, TypeDefKind::Flags(_)) {
            docs(out, &def.docs);
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
                        field(&f.name),
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
        format!("{}{}", self.module_of(def.owner, cx), camel(def.name.as_deref().unwrap_or("resource")))
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

    /// The Rust signature of a host function (after `&mut self`), and its return type.
    fn host_sig(&self, f: &Function, cx: Cx) -> (String, String) {
        let params: String =
            f.params.iter().map(|p| format!(", {}: {}", param(&p.name), self.ty(&p.ty, cx, Mode::Owned))).collect();
        let ret = f.result.as_ref().map(|t| self.ty(t, cx, Mode::Owned)).unwrap_or_else(|| "()".into());
        let ret = if self.opts.trappable_imports { format!("{K}::Result<{ret}>") } else { ret };
        (params, ret)
    }

    /// `HostFoo` traits for `resources`, the interface's `trait_name` trait for the freestanding `funcs`, and
    /// `add_to_linker`, which defines them all in `instance` (an expression giving the linker instance).
    #[allow(clippy::too_many_arguments)]
    fn host_traits(
        &mut self,
        out: &mut String,
        trait_name: &str,
        resources: &[TypeId],
        funcs: &[&Function],
        cx: Cx,
        instance: &str,
        module: &str,
    ) {
        let mut register = String::new();
        let mut supertraits: Vec<String> = Vec::new();
        for r in resources {
            let wit_name = self.resolve.types[*r].name.clone().unwrap_or_default();
            let marker = camel(&wit_name);
            let tr = format!("Host{marker}");
            let _ = writeln!(out, "/// The host's implementation of the resource `{wit_name}`.\npub trait {tr} {{");
            let mut dummy = format!("impl {module}{tr} for __DummyHost {{\n");
            for f in funcs.iter().filter(|f| f.kind.resource() == Some(*r)) {
                let method = match f.kind {
                    FunctionKind::Constructor(_) => "new".to_owned(),
                    _ => func_name(f.item_name()),
                };
                self.host_method(out, &mut dummy, &mut register, f, &tr, &method, cx);
            }
            let _ = writeln!(
                out,
                "/// Called when a component drops its last owning handle to a `{wit_name}`.\n\
                 fn drop(&mut self, rep: {K}::HostResource<{marker}>) -> {K}::Result<()>;\n}}"
            );
            let _ = writeln!(
                dummy,
                "fn drop(&mut self, _: {K}::HostResource<{module}{marker}>) -> {K}::Result<()> {{ {OK}(()) }}\n}}"
            );
            self.dummy.push_str(&dummy);
            let _ = writeln!(
                register,
                "inst.resource({wit_name:?}, {K}::ResourceType::host::<{marker}>(), move |mut cx, rep| \
                 <U as {tr}>::drop(get(cx.data_mut()), {K}::HostResource::new_own(rep)).map_err({K}::__internal::anyhow::Error::from))?;"
            );
            let _ = writeln!(
                self.dummy_resources,
                "{instance}.resource({wit_name:?}, {K}::ResourceType::host::<{module}{marker}>(), |_, _| {OK}(()))?;"
            );
            supertraits.push(tr);
        }
        let supers = if supertraits.is_empty() { String::new() } else { format!(": {}", supertraits.join(" + ")) };
        let _ = writeln!(
            out,
            "/// The host's implementation of the imported functions.\npub trait {trait_name}{supers} {{"
        );
        let mut dummy = format!("impl {module}{trait_name} for __DummyHost {{\n");
        for f in funcs.iter().filter(|f| f.kind.resource().is_none()) {
            self.host_method(out, &mut dummy, &mut register, f, trait_name, &func_name(&f.name), cx);
        }
        out.push_str("}\n");
        dummy.push_str("}\n");
        self.dummy.push_str(&dummy);
        let _ = writeln!(
            out,
            "/// Defines the imports of this interface in `linker`, implemented by the `{trait_name}` that `get` \
             finds in the store's data.\n\
             pub fn add_to_linker<T: 'static, E: {K}::__internal::WasmEngine, U: {trait_name} + 'static>(\
               linker: &mut {K}::Linker<T, E>, \
               get: impl ::core::ops::Fn(&mut T) -> &mut U + ::core::marker::Send + ::core::marker::Sync + ::core::marker::Copy + 'static,\
             ) -> {K}::Result<()> {{\n\
               let inst = {instance};\n\
               let _ = (&inst, get);\n\
               {register}\
               {OK}(())\n\
             }}"
        );
    }

    /// One method of a host trait, its registration with `func_wrap` and its dummy implementation.
    #[allow(clippy::too_many_arguments)]
    fn host_method(
        &self,
        out: &mut String,
        dummy: &mut String,
        register: &mut String,
        f: &Function,
        tr: &str,
        method: &str,
        cx: Cx,
    ) {
        let (params, ret) = self.host_sig(f, cx);
        docs(out, &f.docs);
        let _ = writeln!(out, "fn {method}(&mut self{params}) -> {ret};");
        // The dummy's signature is seen from the root, where `__DummyHost` lives.
        let root = Cx { depth: 0, guest: cx.guest };
        let (_, dret) = self.host_sig(f, root);
        let dparams: String = f.params.iter().map(|p| format!(", _: {}", self.ty(&p.ty, root, Mode::Owned))).collect();
        let _ = writeln!(
            dummy,
            "fn {method}(&mut self{dparams}) -> {dret} {{ ::core::result::Result::Err({K}::Error::new({K}::ErrorKind::Unsupported(\"dummy host\".into()))) }}"
        );
        let names: String = (0..f.params.len()).map(|i| format!("p{i},")).collect();
        let types: String = f.params.iter().map(|p| format!("{},", self.ty(&p.ty, cx, Mode::Owned))).collect();
        let result = if self.opts.trappable_imports {
            format!("let r = r.map_err({K}::__internal::anyhow::Error::from)?;")
        } else {
            String::new()
        };
        let ok = if f.result.is_some() { format!("{OK}((r,))") } else { format!("{{ let () = r; {OK}(()) }}") };
        let _ = writeln!(
            register,
            "inst.func_wrap({:?}, move |mut cx: {K}::StoreContextMut<'_, T, E>, ({names}): ({types})| {{\
               let r = <U as {tr}>::{method}(get(cx.data_mut()), {names});\
               {result}\
               {ok}\
             }})?;",
            f.name
        );
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

    /// The `Guest` struct of an exported interface, with `GuestIndices` and a `GuestFoo` per resource.
    fn guest(&self, out: &mut String, name: &str, funcs: &[&Function], cx: Cx) {
        let fields: Vec<String> = funcs.iter().map(|f| func_field(&f.name)).collect();
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
                     {K}::Error::new({K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}` in `{{}}`\", {:?}, {name:?}))))?;\n",
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
        let _ = writeln!(
            out,
            "impl GuestIndices {{\n\
               /// Finds the exports in `component`.\n\
               pub fn new(component: &{K}::Component) -> {K}::Result<GuestIndices> {{\n\
                 let instance = component.get_export_index(::core::option::Option::None, {name:?}).ok_or_else(|| \
                   {K}::Error::new({K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}`\", {name:?}))))?;\n\
                 let _ = &instance;\n\
                 {lookups}\
                 {OK}(GuestIndices {{ {} }})\n\
               }}\n\
               /// Takes the exports out of `instance` and type-checks them.\n\
               pub fn load(&self, instance: &{K}::Instance) -> {K}::Result<Guest> {{\n\
                 let _ = instance;\n\
                 {loads}\
                 {OK}(Guest {{ {} }})\n\
               }}\n\
             }}",
            fields.iter().map(|f| format!("{f},")).collect::<String>(),
            fields.iter().map(|f| format!("{f},")).collect::<String>(),
        );
        // Freestanding functions.
        let mut methods = String::new();
        for (f, field) in funcs.iter().zip(&fields) {
            if f.kind.resource().is_none() {
                self.call_fn(&mut methods, f, &format!("call_{}", func_name(&f.name)), &format!("self.{field}"), cx);
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
                func_name(&wit_name)
            );
            let mut body = String::new();
            for (f, field) in funcs.iter().zip(&fields) {
                if f.kind.resource() != Some(*r) {
                    continue;
                }
                let method = match f.kind {
                    FunctionKind::Constructor(_) => "call_constructor".to_owned(),
                    _ => format!("call_{}", func_name(f.item_name())),
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
    fn world_struct(
        &self,
        funcs: &[&Function],
        ifaces: &[(String, String, Vec<String>)],
        bounds: &[String],
        add_calls: &str,
    ) -> String {
        let w = &self.resolve.worlds[self.world];
        let name = &self.world_name;
        let cx = Cx { depth: 0, guest: None };
        let fields: Vec<String> = funcs.iter().map(|f| func_field(&f.name)).collect();
        let mut out = String::new();
        docs(&mut out, &w.docs);
        let struct_fields: String = fields
            .iter()
            .map(|f| format!("{f}: {K}::Func,"))
            .chain(ifaces.iter().enumerate().map(|(i, (_, _, p))| format!("interface{i}: {}::Guest,", p.join("::"))))
            .collect();
        let index_fields: String = fields
            .iter()
            .map(|f| format!("{f}: {K}::ExportIndex,"))
            .chain(
                ifaces
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, p))| format!("interface{i}: {}::GuestIndices,", p.join("::"))),
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
            .chain(ifaces.iter().enumerate().map(|(i, (_, _, p))| {
                format!("let interface{i} = {}::GuestIndices::new(component)?;\n", p.join("::"))
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
        for (f, field) in funcs.iter().zip(&fields) {
            self.call_fn(&mut methods, f, &format!("call_{}", func_name(&f.name)), &format!("self.{field}"), cx);
        }
        for (i, (accessor, iname, p)) in ifaces.iter().enumerate() {
            let _ = writeln!(
                methods,
                "/// The exported interface `{iname}`.\npub fn {accessor}(&self) -> &{}::Guest {{ &self.interface{i} }}",
                p.join("::")
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

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let",
    "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "type",
    "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// An identifier, escaped if it is a keyword.
fn escape(s: String) -> String {
    match s.as_str() {
        "self" | "Self" | "super" | "crate" | "_" => format!("{s}_"),
        k if KEYWORDS.contains(&k) => format!("r#{s}"),
        _ => s,
    }
}

/// The snake_case identifier of a WIT name.
pub fn snake(s: &str) -> String {
    escape(s.to_snake_case())
}

/// The UpperCamelCase identifier of a WIT name.
pub fn camel(s: &str) -> String {
    escape(s.to_upper_camel_case())
}

/// A record field.
fn field(s: &str) -> String {
    snake(s)
}

/// A function parameter (never `store`, which the generated functions use).
fn param(s: &str) -> String {
    match snake(s).as_str() {
        "store" | "get" | "linker" => format!("{}_", snake(s)),
        other => other.to_owned(),
    }
}

/// A function or method name.
fn func_name(s: &str) -> String {
    snake(s)
}

/// The field holding an exported function: `[method]r.m` → `method_r_m`.
fn func_field(s: &str) -> String {
    format!("f_{}", s.replace(['[', ']', '.'], "-").to_snake_case())
}
