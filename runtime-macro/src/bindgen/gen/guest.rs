//! Exports: the `Guest` struct of an exported interface (typed calls, resource views, export indices) and the
//! world's struct with `instantiate`, `instantiate_pre` and `add_to_linker`.

use std::fmt::Write as _;

use wit_parser::{Function, FunctionKind, TypeId};

use super::*;

impl Generator<'_> {
    /// `(params, param types for the call, param types with 'static, names, result type)` of an export call.
    pub(super) fn export_sig(&self, f: &Function, cx: Cx) -> (String, String, String, String, String) {
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
    pub(super) fn call_fn(&self, out: &mut String, f: &Function, method: &str, field_expr: &str, cx: Cx) {
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
        // An `async func` export is also called as a future, which yields to the executor while only host
        // futures can make progress (`TypedFunc::call_async`); `call_*` runs the store's event loop to the end.
        if f.kind.is_async() {
            let _ = writeln!(
                out,
                "/// [`Self::{method}`] as a future, which returns `Poll::Pending` while only host futures can make\n\
                 /// progress.\n\
                 pub async fn {method}_async<S: {K}::AsContextMut>(&self, store: S{params}) -> {K}::Result<{ret}> {{\n\
                   let __f = {K}::TypedFunc::<({call_types}), {results}>::new_unchecked({field_expr}.clone());\n\
                   let __r = __f.call_async(store, ({names})).await?;\n\
                   {finish}\n\
                 }}"
            );
        }
    }

    /// The type check of an export at load time.
    pub(super) fn check_fn(&self, f: &Function, var: &str, cx: Cx) -> String {
        let (_, _, static_types, _, ret) = self.export_sig(f, cx);
        let results = if f.result.is_some() { format!("({ret},)") } else { "()".into() };
        format!(
            "{var}.typed::<({static_types}), {results}>().map_err(|e| e.context(\"in export `{}`\"))?;",
            f.name.replace('"', "")
        )
    }

    /// The `Guest` struct of an exported interface (exported as `name`, or under other names with `new_at`),
    /// with `GuestIndices` and a `GuestFoo` per resource.
    /// The statements that find the export index of each function of `funcs` (into the variables `fields`): at
    /// the root, or `within` the instance export whose name the Rust expression `within` gives (its index is in
    /// the variable `instance`).
    fn export_lookups(funcs: &[&Function], fields: &[String], within: Option<&str>) -> String {
        let (instance, place, args) = match within {
            Some(name) => ("::core::option::Option::Some(&instance)", " in `{}`", format!(", {name}")),
            None => ("::core::option::Option::None", "", String::new()),
        };
        funcs
            .iter()
            .zip(fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = component.get_export_index({instance}, {:?}).ok_or_else(|| {K}::Error::new(\
                     {K}::ErrorKind::Link(::std::format!(\"component does not export `{{}}`{place}\", {:?}{args}))))?;\n",
                    f.name, f.name
                )
            })
            .collect()
    }

    /// The statements that take each function of `funcs` out of the variable `instance` by its index in `self`
    /// and type-check it; `within` is the Rust expression of the interface's name, for messages.
    fn export_loads(&self, funcs: &[&Function], fields: &[String], cx: Cx, within: Option<&str>) -> String {
        let (place, args) = match within {
            Some(name) => (" in `{}`", format!(", {name}")),
            None => ("", String::new()),
        };
        funcs
            .iter()
            .zip(fields)
            .map(|(f, field)| {
                format!(
                    "let {field} = instance.get_func(&self.{field}).ok_or_else(|| {K}::Error::new({K}::ErrorKind::Link(\
                     ::std::format!(\"`{{}}`{place} is not a function\", {:?}{args}))))?;\n{}\n",
                    f.name,
                    self.check_fn(f, field, cx)
                )
            })
            .collect()
    }

    pub(super) fn guest(&self, out: &mut String, name: &str, funcs: &[&Function], cx: Cx) {
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
        let lookups = Self::export_lookups(funcs, &fields, Some("name"));
        let loads = self.export_loads(funcs, &fields, cx, Some(&format!("{name:?}")));
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
    pub(super) fn world_struct(
        &self,
        funcs: &[&Function],
        ifaces: &[Export],
        bounds: &[String],
        add_calls: &str,
    ) -> String {
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
        let mut lookups = Self::export_lookups(funcs, &fields, None);
        let mut loads = self.export_loads(funcs, &fields, cx, None);
        for (i, e) in ifaces.iter().enumerate() {
            let path = e.path.join("::");
            let _ =
                writeln!(lookups, "let interface{i} = self::{path}::GuestIndices::new_at(component, {:?})?;", e.name);
            let _ = writeln!(loads, "let interface{i} = self.interface{i}.load(instance)?;");
        }
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
