//! Imports: the host traits (`Host`, `HostFoo`, `…WithStore`), their forwarding impls and dummy
//! implementations, and `add_to_linker`, which defines every imported function as a typed host function.

use std::fmt::Write as _;

use wit_parser::{Docs, Function, FunctionKind, InterfaceId, TypeId};

use super::*;

/// The error of every function of the dummy host.
fn dummy_err() -> String {
    format!("{K}::Error::new({K}::ErrorKind::Unsupported(\"dummy host\".into()))")
}

impl Generator<'_> {
    /// A host function of imported function `f` (of interface `owner`, or of the world), as the method
    /// `method`.
    pub(super) fn host_fn(&self, f: &Function, method: String, owner: Option<InterfaceId>, cx: Cx) -> HostFn {
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
            is_async: f.kind.is_async(),
        }
    }

    /// The destructor of the host resource `r`, as the method `drop` (it always returns a `Result`).
    pub(super) fn drop_fn(&self, r: TypeId, owner: Option<InterfaceId>, cx: Cx) -> HostFn {
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
            is_async: false,
        }
    }

    /// The declaration of a host method, with its parameter and result types as seen from the module (`root`:
    /// from the root, for the dummy host). An `async func` returns a boxed future that owns what it needs: it
    /// runs after the method has given back its borrow of the host (and of the store), while the guest goes on.
    /// (An `impl Future + 'static` in the trait would capture the borrow all the same: RPITIT captures every
    /// lifetime in scope, and `use<Self>` would make every implementation spell out its captures.)
    pub(super) fn host_sig(h: &HostFn, root: bool) -> String {
        let params: String =
            h.params.iter().map(|(n, t, rt)| format!(", {n}: {}", if root { rt } else { t })).collect();
        let ret = if root { &h.root_ret } else { &h.ret };
        let ret = if h.is_async { format!("{K}::BoxFuture<{ret}>") } else { ret.clone() };
        if h.flags.store {
            format!("fn {}(host: {K}::Access<'_, T, E, Self>{params}) -> {ret}", h.method)
        } else {
            format!("fn {}(&mut self{params}) -> {ret}", h.method)
        }
    }

    /// The host trait `tr` with the methods `fns` that take `&mut self`, `{tr}WithStore` with those that take the
    /// store, the forwarding impl for `&mut T`, and the dummy host's impls. Returns the traits a host must
    /// implement.
    pub(super) fn host_trait(
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
                        match (h.is_drop, h.is_async) {
                            (true, _) => format!("{OK}(())"),
                            (false, false) => format!("::core::result::Result::Err({})", dummy_err()),
                            (false, true) => format!(
                                "::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Err({})))",
                                dummy_err()
                            ),
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

    /// The statement that defines host function `h` (of trait `tr`) as `wit` in the linker instance `inst`: an
    /// `async func` with `func_wrap_async`, awaiting the future its method returns.
    pub(super) fn register_fn(&self, h: &HostFn, tr: &str, wit: &str) -> String {
        let names: String = (0..h.params.len()).map(|i| format!("p{i},")).collect();
        let types: String = h.params.iter().map(|(_, t, _)| format!("{t},")).collect();
        let call = self.host_call(h, tr, &names);
        // From the method's result `r` to the host function's `anyhow::Result` of a tuple.
        let result = match (h.flags.trappable, h.returns) {
            (true, true) => format!("r.map(|r| (r,)).map_err({K}::__internal::anyhow::Error::from)"),
            (true, false) => format!("r.map_err({K}::__internal::anyhow::Error::from)"),
            (false, true) => format!("{OK}((r,))"),
            (false, false) => format!("{{ let () = r; {OK}(()) }}"),
        };
        let (wrap, body) = if h.is_async {
            ("func_wrap_async", format!("let fut = {call}; async move {{ let r = fut.await; {result} }}"))
        } else {
            ("func_wrap", format!("let r = {call}; {result}"))
        };
        format!("inst.{wrap}({wit:?}, move |mut cx: {K}::StoreContextMut<'_, T, E>, ({names}): ({types})| {{ {body} }})?;\n")
    }

    /// The call of host method `h` of trait `tr` inside a host function whose store context is `cx`.
    pub(super) fn host_call(&self, h: &HostFn, tr: &str, args: &str) -> String {
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
    pub(super) fn host_traits(
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
        if t.owner.is_some() {
            // Bindings that reuse this interface's with `with` cannot know which of its functions reach the store:
            // they bound their host by this one trait.
            let _ = writeln!(
                out,
                "/// Everything a host of this interface implements (the bound of `add_to_linker`): bindings that \
                 reuse this module with `with` require it.\n\
                 pub trait Implementation<T: 'static, E: {K}::__internal::WasmEngine>: {bound} {{}}\n\
                 impl<T: 'static, E: {K}::__internal::WasmEngine, U: {bound} + ?::core::marker::Sized> \
                 Implementation<T, E> for U {{}}"
            );
        }
        bounds
    }
}
