//! Encoding generated guests as components, with wasm-encoder's `ComponentBuilder`.
//!
//! Named types are defined once and imported with an `(eq …)` bound (as wit-component does for root imports),
//! which makes them "externally visible" so both the imported and the exported functions can use them; the
//! host never has to supply them. Host resources are `(sub resource)` imports. Every function has its own
//! string encoding, so one component exercises several encodings.
//!
//! [`encode_composed`] wraps two such guests in an outer component: the callee imports the host functions, the
//! caller imports the callee's exports, and the outer component re-exports the caller's — so a value crosses
//! from the host into the caller, from the caller into the callee (component to component, transcoding between
//! their encodings), and into the host and back.

use std::collections::HashMap;

use wasm_encoder::{
    CanonicalOption, ComponentBuilder, ComponentExportKind, ComponentTypeRef, ComponentValType, ExportKind, ModuleArg,
    PrimitiveValType, TypeBounds,
};

use crate::guest::{self, Body, CoreExport, CoreImport, Encoding, ReallocMode, Sig};
use crate::ty::{Def, Ty, TypeSet};

/// A function the host provides.
#[derive(Clone, Debug)]
pub struct ImportDecl {
    /// Import name.
    pub name: String,
    /// Signature.
    pub sig: Sig,
    /// String encoding of its `canon lower`.
    pub encoding: Encoding,
}

/// A function the component exports.
#[derive(Clone, Debug)]
pub struct ExportDecl {
    /// Export name.
    pub name: String,
    /// Signature.
    pub sig: Sig,
    /// String encoding of its `canon lift`.
    pub encoding: Encoding,
    /// What the guest does.
    pub body: Body,
}

/// A guest component.
#[derive(Clone, Debug)]
pub struct Design {
    /// Named types and resources.
    pub set: TypeSet,
    /// Host functions imported.
    pub imports: Vec<ImportDecl>,
    /// Functions exported.
    pub exports: Vec<ExportDecl>,
    /// How realloc behaves.
    pub realloc: ReallocMode,
    /// Active data segments of its main module, `(address, bytes)`: constants its bodies return.
    pub data: Vec<(u32, Vec<u8>)>,
}

/// The import `realloc` calls in [`ReallocMode::CallsImport`] cases.
pub const TRAP_IF_CALLED: &str = "trap-if-called";

/// Encodes a guest as a component.
pub fn encode(d: &Design) -> Vec<u8> {
    let mut b = ComponentBuilder::default();
    let mut types = TypeEncoder::new(&d.set);
    types.declare(&mut b, true);
    let funcs: Vec<u32> = d
        .imports
        .iter()
        .map(|i| {
            let ft = types.func(&mut b, &i.sig);
            b.import(i.name.as_str(), ComponentTypeRef::Func(ft))
        })
        .collect();
    let trap_fn = matches!(d.realloc, ReallocMode::CallsImport(_)).then(|| {
        let ft = types.func(&mut b, &Sig { params: Vec::new(), result: None });
        b.import(TRAP_IF_CALLED, ComponentTypeRef::Func(ft))
    });
    let exported = body(&mut b, &mut types, d, &funcs, trap_fn);
    for (e, f) in d.exports.iter().zip(exported) {
        b.export(e.name.as_str(), ComponentExportKind::Func, f, None);
    }
    b.finish()
}

/// Everything inside a guest after its imports: core modules, lowerings, lifts. Returns the lifted functions.
fn body(
    b: &mut ComponentBuilder,
    types: &mut TypeEncoder<'_>,
    d: &Design,
    funcs: &[u32],
    trap_fn: Option<u32>,
) -> Vec<u32> {
    let libc = b.core_module(Some("libc"), &guest::libc(d.realloc));
    let libc_args: Vec<(&str, ModuleArg)> = match trap_fn {
        Some(f) => {
            let core = b.lower_func(Some(TRAP_IF_CALLED), f, []);
            let host = b.core_instantiate_exports(Some("libc-host"), [(TRAP_IF_CALLED, ExportKind::Func, core)]);
            vec![("host", ModuleArg::Instance(host))]
        }
        None => Vec::new(),
    };
    let libc_inst = b.core_instantiate(Some("libc"), libc, libc_args);
    let memory = b.core_alias_export(Some("memory"), libc_inst, "memory", ExportKind::Memory);
    let realloc = b.core_alias_export(Some("realloc"), libc_inst, "realloc", ExportKind::Func);

    let mut host_items = Vec::new();
    let mut core_imports = Vec::new();
    for (i, imp) in d.imports.iter().enumerate() {
        let opts = [imp.encoding.option(), CanonicalOption::Memory(memory), CanonicalOption::Realloc(realloc)];
        let core = b.lower_func(Some(&imp.name), funcs[i], opts);
        host_items.push((imp.name.clone(), core));
        core_imports.push(CoreImport { name: imp.name.clone(), sig: imp.sig.lower_core(&d.set) });
    }
    let host = b.core_instantiate_exports(
        Some("host"),
        host_items.iter().map(|(n, f)| (n.as_str(), ExportKind::Func, *f)).collect::<Vec<_>>(),
    );
    let core_exports: Vec<CoreExport> = d
        .exports
        .iter()
        .map(|e| CoreExport { name: e.name.clone(), sig: e.sig.clone(), encoding: e.encoding, body: e.body.clone() })
        .collect();
    let main =
        b.core_module(Some("main"), &guest::main_module_with_data(&d.set, &core_imports, &core_exports, &d.data));
    let main_inst = b.core_instantiate(
        Some("main"),
        main,
        [("libc", ModuleArg::Instance(libc_inst)), ("host", ModuleArg::Instance(host))],
    );
    d.exports
        .iter()
        .map(|e| {
            let core = b.core_alias_export(Some(&e.name), main_inst, &e.name, ExportKind::Func);
            let post = b.core_alias_export(None, main_inst, &format!("post-{}", e.name), ExportKind::Func);
            let ft = types.func(b, &e.sig);
            let opts = [
                e.encoding.option(),
                CanonicalOption::Memory(memory),
                CanonicalOption::Realloc(realloc),
                CanonicalOption::PostReturn(post),
            ];
            b.lift_func(Some(&e.name), core, ft, opts)
        })
        .collect()
}

/// Encodes two guests composed: `callee` imports the host functions; `caller` imports `callee`'s exports (its
/// imports must be named and typed like them); the outer component exports `caller`'s exports.
pub fn encode_composed(set: &TypeSet, caller: &Design, callee: &Design) -> Vec<u8> {
    let mut outer = ComponentBuilder::default();
    let mut types = TypeEncoder::new(set);
    types.declare(&mut outer, true);
    let host_funcs: Vec<u32> = callee
        .imports
        .iter()
        .map(|i| {
            let ft = types.func(&mut outer, &i.sig);
            outer.import(i.name.as_str(), ComponentTypeRef::Func(ft))
        })
        .collect();

    let callee_c = outer.component(Some("callee"), inner(set, callee));
    let caller_c = outer.component(Some("caller"), inner(set, caller));

    let type_args: Vec<(String, ComponentExportKind, u32)> =
        types.imported.iter().map(|(n, i)| (n.clone(), ComponentExportKind::Type, *i)).collect();
    let mut args = type_args.clone();
    args.extend(callee.imports.iter().zip(&host_funcs).map(|(i, f)| (i.name.clone(), ComponentExportKind::Func, *f)));
    let callee_i = outer.instantiate(Some("callee"), callee_c, args);
    let mut args = type_args;
    for imp in &caller.imports {
        let f = outer.alias_export(callee_i, &imp.name, ComponentExportKind::Func);
        args.push((imp.name.clone(), ComponentExportKind::Func, f));
    }
    let caller_i = outer.instantiate(Some("caller"), caller_c, args);
    for e in &caller.exports {
        let f = outer.alias_export(caller_i, &e.name, ComponentExportKind::Func);
        outer.export(e.name.as_str(), ComponentExportKind::Func, f, None);
    }
    outer.finish()
}

/// A guest as a nested component: it imports the named types (to be passed by its parent) and its functions.
pub(crate) fn inner(set: &TypeSet, d: &Design) -> ComponentBuilder {
    let mut b = ComponentBuilder::default();
    let mut t = TypeEncoder::new(set);
    t.declare(&mut b, true);
    let funcs: Vec<u32> = d
        .imports
        .iter()
        .map(|i| {
            let ft = t.func(&mut b, &i.sig);
            b.import(i.name.as_str(), ComponentTypeRef::Func(ft))
        })
        .collect();
    let lifted = body(&mut b, &mut t, d, &funcs, None);
    for (e, f) in d.exports.iter().zip(lifted) {
        b.export(e.name.as_str(), ComponentExportKind::Func, f, None);
    }
    b
}

/// Emits component types for a [`TypeSet`], remembering indices.
pub(crate) struct TypeEncoder<'a> {
    set: &'a TypeSet,
    /// Imported (externally visible) index of each named type.
    named: Vec<u32>,
    /// Imported index of each resource type.
    resources: Vec<u32>,
    /// Anonymous types already emitted.
    anon: HashMap<Ty, u32>,
    /// (name, index) of every type import, for instantiation arguments.
    pub(crate) imported: Vec<(String, u32)>,
}

impl<'a> TypeEncoder<'a> {
    pub(crate) fn new(set: &'a TypeSet) -> Self {
        TypeEncoder { set, named: Vec::new(), resources: Vec::new(), anon: HashMap::new(), imported: Vec::new() }
    }

    /// An encoder for a component that defines the set's resources itself: `resources` holds the type index of
    /// each, in the set's order. Named types are not declared (such a component must not need them).
    pub(crate) fn with_resources(set: &'a TypeSet, resources: Vec<u32>) -> Self {
        TypeEncoder { resources, ..TypeEncoder::new(set) }
    }

    /// Imports every resource and named type (named types with `(eq …)` bounds).
    pub(crate) fn declare(&mut self, b: &mut ComponentBuilder, _root: bool) {
        for r in &self.set.resources {
            let i = b.import(r.name.as_str(), ComponentTypeRef::Type(TypeBounds::SubResource));
            self.resources.push(i);
            self.imported.push((r.name.clone(), i));
        }
        for (name, def) in &self.set.defs {
            let local = self.def(b, def);
            let i = b.import(name.as_str(), ComponentTypeRef::Type(TypeBounds::Eq(local)));
            self.named.push(i);
            self.imported.push((name.clone(), i));
        }
    }

    fn def(&mut self, b: &mut ComponentBuilder, def: &Def) -> u32 {
        match def {
            Def::Record(fs) => {
                let fields: Vec<(String, ComponentValType)> =
                    fs.iter().map(|(n, t)| (n.clone(), self.val(b, t))).collect();
                let (i, enc) = b.type_defined(None);
                enc.record(fields.iter().map(|(n, t)| (n.as_str(), *t)));
                i
            }
            Def::Variant(cs) => {
                let cases: Vec<(String, Option<ComponentValType>)> =
                    cs.iter().map(|(n, t)| (n.clone(), t.as_ref().map(|t| self.val(b, t)))).collect();
                let (i, enc) = b.type_defined(None);
                enc.variant(cases.iter().map(|(n, t)| (n.as_str(), *t)));
                i
            }
            Def::Enum(cs) => {
                let (i, enc) = b.type_defined(None);
                enc.enum_type(cs.iter().map(String::as_str));
                i
            }
            Def::Flags(ls) => {
                let (i, enc) = b.type_defined(None);
                enc.flags(ls.iter().map(String::as_str));
                i
            }
            Def::Alias(t) => match self.val(b, t) {
                ComponentValType::Type(i) => i,
                ComponentValType::Primitive(p) => {
                    let (i, enc) = b.type_defined(None);
                    enc.primitive(p);
                    i
                }
            },
        }
    }

    pub(crate) fn val(&mut self, b: &mut ComponentBuilder, ty: &Ty) -> ComponentValType {
        use PrimitiveValType as P;
        let p = |p| ComponentValType::Primitive(p);
        match ty {
            Ty::Bool => p(P::Bool),
            Ty::S8 => p(P::S8),
            Ty::U8 => p(P::U8),
            Ty::S16 => p(P::S16),
            Ty::U16 => p(P::U16),
            Ty::S32 => p(P::S32),
            Ty::U32 => p(P::U32),
            Ty::S64 => p(P::S64),
            Ty::U64 => p(P::U64),
            Ty::F32 => p(P::F32),
            Ty::F64 => p(P::F64),
            Ty::Char => p(P::Char),
            Ty::String => p(P::String),
            Ty::Named(i) => ComponentValType::Type(self.named[*i]),
            _ => {
                if let Some(&i) = self.anon.get(ty) {
                    return ComponentValType::Type(i);
                }
                let i = match ty {
                    Ty::List(t) => {
                        let t = self.val(b, t);
                        let (i, enc) = b.type_defined(None);
                        enc.list(t);
                        i
                    }
                    Ty::Tuple(ts) => {
                        let ts: Vec<_> = ts.iter().map(|t| self.val(b, t)).collect();
                        let (i, enc) = b.type_defined(None);
                        enc.tuple(ts);
                        i
                    }
                    Ty::Option(t) => {
                        let t = self.val(b, t);
                        let (i, enc) = b.type_defined(None);
                        enc.option(t);
                        i
                    }
                    Ty::Result(o, e) => {
                        let o = o.as_ref().map(|t| self.val(b, t));
                        let e = e.as_ref().map(|t| self.val(b, t));
                        let (i, enc) = b.type_defined(None);
                        enc.result(o, e);
                        i
                    }
                    Ty::Own(r) => {
                        let r = self.resources[*r];
                        let (i, enc) = b.type_defined(None);
                        enc.own(r);
                        i
                    }
                    Ty::Borrow(r) => {
                        let r = self.resources[*r];
                        let (i, enc) = b.type_defined(None);
                        enc.borrow(r);
                        i
                    }
                    _ => unreachable!("primitives and named types handled above"),
                };
                self.anon.insert(ty.clone(), i);
                ComponentValType::Type(i)
            }
        }
    }

    /// Sets the type index of resource `r` of the set: for a component that defines it after encoding types
    /// that do not refer to it (see [`TypeEncoder::with_resources`]).
    pub(crate) fn set_resource(&mut self, r: usize, index: u32) {
        if self.resources.len() <= r {
            self.resources.resize(r + 1, index);
        }
        self.resources[r] = index;
    }

    /// The (imported) type index of resource `r` of the set, after [`TypeEncoder::declare`].
    pub(crate) fn resource(&self, r: usize) -> u32 {
        self.resources[r]
    }

    pub(crate) fn func(&mut self, b: &mut ComponentBuilder, sig: &Sig) -> u32 {
        self.func_async(b, sig, false)
    }

    /// The type of a function of `sig`, an `async func` if `is_async`.
    pub(crate) fn func_async(&mut self, b: &mut ComponentBuilder, sig: &Sig, is_async: bool) -> u32 {
        let params: Vec<(String, ComponentValType)> =
            sig.params.iter().map(|(n, t)| (n.clone(), self.val(b, t))).collect();
        let result = sig.result.as_ref().map(|t| self.val(b, t));
        let (i, mut enc) = b.type_function(None);
        enc.async_(is_async);
        enc.params(params.iter().map(|(n, t)| (n.as_str(), *t)));
        enc.result(result);
        i
    }
}
