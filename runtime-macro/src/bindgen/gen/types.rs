//! WIT types as Rust types: the name a type has where it is used (`ty`), and its definition where it is
//! declared (`typedef`), with `with` mappings and host or guest resources.

use std::fmt::Write as _;

use wit_parser::{Handle, Type, TypeDefKind, TypeId, TypeOwner};

use super::*;

impl Generator<'_> {
    /// Follows `type a = b` aliases to the definition.
    pub(super) fn dealias(&self, mut id: TypeId) -> TypeId {
        while let TypeDefKind::Type(Type::Id(next)) = self.resolve.types[id].kind {
            id = next;
        }
        id
    }

    /// Whether the resource `id` (dealiased) is the host's in `cx`.
    pub(super) fn is_host_resource(&self, id: TypeId, cx: Cx) -> bool {
        match self.resolve.types[self.dealias(id)].owner {
            TypeOwner::Interface(i) => {
                cx.guest != Some(i) && (self.imports.contains_key(&i) || self.with.contains_key(&i))
            }
            TypeOwner::World(_) => true,
            TypeOwner::None => false,
        }
    }

    /// The Rust path of the module that holds the named types of `owner`, seen from `cx`.
    pub(super) fn module_of(&self, owner: TypeOwner, cx: Cx) -> String {
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
    pub(super) fn type_ident(&self, id: TypeId) -> String {
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
    pub(super) fn ty(&self, ty: &Type, cx: Cx, mode: Mode) -> String {
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
            Type::ErrorContext => format!("{K}::ErrorContextAny"),
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
                    TypeDefKind::Stream(_) | TypeDefKind::Future(_) => async_end(&def.kind),
                    // Rejected by `check_supported`; anything here would not be reached.
                    _ => "()".into(),
                }
            }
        }
    }

    /// Whether values of `ty` contain a host resource handle (which is not `Clone`).
    pub(super) fn has_host_handle(&self, ty: &Type, cx: Cx) -> bool {
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

    pub(super) fn derives(&self, out: &mut String, builtin: &[&str]) {
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
    pub(super) fn typedef(&self, out: &mut String, id: TypeId, cx: Cx) {
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
    pub(super) fn resource_ref(&self, id: TypeId, cx: Cx) -> String {
        let def = &self.resolve.types[id];
        if !self.is_host_resource(id, cx) {
            return format!("{K}::ResourceAny");
        }
        format!("{}{}", self.module_of(def.owner, cx), self.type_ident(id))
    }

    /// The Rust type of a type definition's body (for `pub type X = ...`).
    pub(super) fn anon(&self, kind: &TypeDefKind, cx: Cx) -> String {
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
                    TypeDefKind::Stream(_) | TypeDefKind::Future(_) => async_end(kind),
                    _ => "()".into(),
                }
            }
        }
    }
}

/// The readable end of a `stream<T>` or `future<T>`, of any element type: the runtime's value names the shared
/// channel, and whoever reads it (a guest, or the host through `StreamReader`/`FutureReader`) checks the
/// elements.
fn async_end(kind: &TypeDefKind) -> String {
    match kind {
        TypeDefKind::Stream(_) => format!("{K}::StreamAny"),
        _ => format!("{K}::FutureAny"),
    }
}
