//! Components from WIT worlds, built with wit-component: random worlds from wit-smith, their functions in our
//! type model, and the encoding of a core module (wit-component's `dummy_module`, or any module of the same
//! shape) plus a world into a component.
//!
//! Used by the `structure` tier (wit-smith worlds around dummy modules whose every export traps) and the
//! `compute` tier (scalar worlds around wasm-smith modules).

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use arbitrary::{Result, Unstructured};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{
    Function, Handle, LiftLowerAbi, ManglingAndAbi, PackageId, Resolve, Type, TypeDefKind, TypeId, WorldId, WorldItem,
};

use crate::guest::{Encoding, Sig};
use crate::ty::{Def, ResourceDecl, Ty, TypeSet};

/// The core-name mangling and ABI of every module built here.
pub const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

/// wit-component's name for a string encoding.
pub fn string_encoding(e: Encoding) -> StringEncoding {
    match e {
        Encoding::Utf8 => StringEncoding::UTF8,
        Encoding::Utf16 => StringEncoding::UTF16,
        Encoding::Latin1Utf16 => StringEncoding::CompactUTF16,
    }
}

/// A world with the package it comes from.
pub struct World {
    /// The resolved WIT.
    pub resolve: Resolve,
    /// The package printed as the case's WIT.
    pub pkg: PackageId,
    /// The world.
    pub world: WorldId,
}

impl World {
    /// The WIT of the world's package (with every other package nested), for reports.
    pub fn wit(&self) -> String {
        let nested: Vec<PackageId> =
            self.resolve.packages.iter().map(|(id, _)| id).filter(|id| *id != self.pkg).collect();
        let mut printer = wit_component::WitPrinter::default();
        let text = match catch_unwind(AssertUnwindSafe(|| printer.print(&self.resolve, self.pkg, &nested))) {
            Ok(Ok(())) => printer.output.to_string(),
            Ok(Err(e)) => format!("// cannot print the WIT: {e}\n"),
            Err(_) => "// cannot print the WIT\n".to_owned(),
        };
        format!("// world `{}`\n{text}", self.resolve.worlds[self.world].name)
    }

    /// Parses one WIT document whose package has a world named `world`.
    pub fn parse(text: &str, world: &str) -> std::result::Result<World, String> {
        let mut resolve = Resolve::default();
        let pkg = resolve.push_source("case.wit", text).map_err(|e| format!("{e:?}"))?;
        let world = resolve.select_world(&[pkg], Some(world)).map_err(|e| format!("{e:?}"))?;
        Ok(World { resolve, pkg, world })
    }

    /// The exported functions, in order: their export path (`f`, or the interface's export name and `f`) and
    /// the function.
    pub fn exported_functions(&self) -> Vec<(Vec<String>, &Function)> {
        let mut out = Vec::new();
        for (key, item) in &self.resolve.worlds[self.world].exports {
            match item {
                WorldItem::Function(f) => out.push((vec![f.name.clone()], f)),
                WorldItem::Interface { id, .. } => {
                    let iface = self.resolve.name_world_key(key);
                    for (name, f) in &self.resolve.interfaces[*id].functions {
                        out.push((vec![iface.clone(), name.clone()], f));
                    }
                }
                WorldItem::Type { .. } => {}
            }
        }
        out
    }

    /// The core module every export of which traps (wit-component's `dummy_module`).
    pub fn dummy_module(&self) -> std::result::Result<Vec<u8>, String> {
        catch_unwind(AssertUnwindSafe(|| wit_component::dummy_module(&self.resolve, self.world, MANGLING)))
            .map_err(|_| "dummy_module panicked".to_owned())
    }

    /// The component of `core` (a module of the world's shape) with its string encoding.
    pub fn encode(&self, core: &[u8], encoding: Encoding) -> std::result::Result<Vec<u8>, String> {
        let mut core = core.to_vec();
        wit_component::embed_component_metadata(&mut core, &self.resolve, self.world, string_encoding(encoding))
            .map_err(|e| format!("embedding the metadata: {e:?}"))?;
        let encoded = catch_unwind(AssertUnwindSafe(|| {
            ComponentEncoder::default().validate(true).module(&core).and_then(|mut enc| enc.encode())
        }))
        .map_err(|_| "ComponentEncoder panicked".to_owned())?;
        encoded.map_err(|e| format!("encoding the component: {e:?}"))
    }
}

/// Clears every `@external-id` (types, functions, interface items of worlds): encoding them needs the
/// `cm-implements` feature, which neither our runtime nor wasmtime enables by default.
pub fn strip_external_ids(resolve: &mut Resolve) {
    for (_, t) in resolve.types.iter_mut() {
        t.external_id = None;
    }
    for (_, i) in resolve.interfaces.iter_mut() {
        for (_, f) in i.functions.iter_mut() {
            f.external_id = None;
        }
    }
    for (_, w) in resolve.worlds.iter_mut() {
        for (_, item) in w.imports.iter_mut().chain(w.exports.iter_mut()) {
            match item {
                WorldItem::Function(f) => f.external_id = None,
                WorldItem::Interface { external_id, .. } => *external_id = None,
                WorldItem::Type { .. } => {}
            }
        }
    }
}

/// The wit-smith configuration: the synchronous component model only (no async, futures, streams,
/// error-context, fixed-length lists, `implements` items, world includes), small documents.
pub fn smith_config(u: &mut Unstructured<'_>) -> Result<wit_smith::Config> {
    Ok(wit_smith::Config {
        max_packages: u.int_in_range(1..=3)?,
        max_type_size: u.int_in_range(10..=200)?,
        max_type_parts: u.int_in_range(1..=10)?,
        async_: false,
        futures: false,
        streams: false,
        error_context: false,
        fixed_length_lists: false,
        world_include: false,
        implements: false,
        ..wit_smith::Config::default()
    })
}

/// A random WIT document from wit-smith, decoded, with external ids stripped; `None` if wit-smith rejects its
/// input (`IncorrectFormat`) or fails.
///
/// wit-smith's loops continue on odd bytes, so unbiased input gives tiny documents; the input here has the low
/// bit of each byte set with a random probability (0, 60, 75 or 90 %), which gives documents with up to tens of
/// functions.
pub fn smith(u: &mut Unstructured<'_>) -> Result<Option<(Resolve, PackageId)>> {
    let config = smith_config(u)?;
    let len = u.int_in_range(256..=4096)?.min(u.len() / 2);
    let p: u8 = *u.choose(&[0, 154, 192, 230])?;
    let mut input = u.bytes(len)?.to_vec();
    let coins = u.bytes(len)?;
    for (b, c) in input.iter_mut().zip(coins) {
        if *c < p {
            *b |= 1;
        }
    }
    let wasm = match catch_unwind(AssertUnwindSafe(|| wit_smith::smith(&config, &mut Unstructured::new(&input)))) {
        Ok(Ok(wasm)) => wasm,
        _ => return Ok(None),
    };
    match wit_component::decode(&wasm) {
        Ok(wit_component::DecodedWasm::WitPackage(mut resolve, pkg)) => {
            strip_external_ids(&mut resolve);
            Ok(Some((resolve, pkg)))
        }
        _ => Ok(None),
    }
}

/// Converts WIT types (of one `Resolve`) into a [`TypeSet`], keeping the names of fields, cases and labels (the
/// values carry them).
pub struct TypeConverter<'r> {
    resolve: &'r Resolve,
    /// The types converted so far.
    pub set: TypeSet,
    memo: HashMap<TypeId, Option<Ty>>,
    resources: HashMap<TypeId, usize>,
    names: HashSet<String>,
}

impl<'r> TypeConverter<'r> {
    /// A converter of `resolve`'s types.
    pub fn new(resolve: &'r Resolve) -> Self {
        TypeConverter {
            resolve,
            set: TypeSet::default(),
            memo: HashMap::new(),
            resources: HashMap::new(),
            names: HashSet::new(),
        }
    }

    /// The signature of `f`; `None` if a type has no counterpart in the model (maps, fixed-length lists,
    /// futures, streams, error-context).
    pub fn sig(&mut self, f: &Function) -> Option<Sig> {
        let params = f.params.iter().map(|p| Some((p.name.clone(), self.ty(&p.ty)?))).collect::<Option<Vec<_>>>()?;
        let result = match &f.result {
            Some(t) => Some(self.ty(t)?),
            None => None,
        };
        Some(Sig { params, result })
    }

    /// The model type of a WIT type.
    pub fn ty(&mut self, t: &Type) -> Option<Ty> {
        Some(match t {
            Type::Bool => Ty::Bool,
            Type::U8 => Ty::U8,
            Type::U16 => Ty::U16,
            Type::U32 => Ty::U32,
            Type::U64 => Ty::U64,
            Type::S8 => Ty::S8,
            Type::S16 => Ty::S16,
            Type::S32 => Ty::S32,
            Type::S64 => Ty::S64,
            Type::F32 => Ty::F32,
            Type::F64 => Ty::F64,
            Type::Char => Ty::Char,
            Type::String => Ty::String,
            Type::ErrorContext => return None,
            Type::Id(id) => return self.id(*id),
        })
    }

    fn id(&mut self, id: TypeId) -> Option<Ty> {
        if let Some(t) = self.memo.get(&id) {
            return t.clone();
        }
        let t = self.convert(id);
        self.memo.insert(id, t.clone());
        t
    }

    fn convert(&mut self, id: TypeId) -> Option<Ty> {
        let def = &self.resolve.types[id];
        let name = def.name.clone();
        let named = |this: &mut Self, d: Def| -> Ty {
            let base = name.clone().unwrap_or_else(|| "anon".to_owned());
            let mut n = base.clone();
            let mut k = 1;
            while !this.names.insert(n.clone()) {
                k += 1;
                n = format!("{base}{k}");
            }
            this.set.defs.push((n, d));
            Ty::Named(this.set.defs.len() - 1)
        };
        let anon = match &def.kind {
            TypeDefKind::Record(r) => {
                let fields =
                    r.fields.iter().map(|f| Some((f.name.clone(), self.ty(&f.ty)?))).collect::<Option<Vec<_>>>()?;
                return Some(named(self, Def::Record(fields)));
            }
            TypeDefKind::Variant(v) => {
                let cases = v
                    .cases
                    .iter()
                    .map(|c| {
                        Some((
                            c.name.clone(),
                            match &c.ty {
                                Some(t) => Some(self.ty(t)?),
                                None => None,
                            },
                        ))
                    })
                    .collect::<Option<Vec<_>>>()?;
                return Some(named(self, Def::Variant(cases)));
            }
            TypeDefKind::Enum(e) => {
                return Some(named(self, Def::Enum(e.cases.iter().map(|c| c.name.clone()).collect())))
            }
            TypeDefKind::Flags(f) => {
                return Some(named(self, Def::Flags(f.flags.iter().map(|f| f.name.clone()).collect())))
            }
            TypeDefKind::Tuple(t) => Ty::Tuple(t.types.iter().map(|t| self.ty(t)).collect::<Option<Vec<_>>>()?),
            TypeDefKind::Option(t) => Ty::Option(Box::new(self.ty(t)?)),
            TypeDefKind::Result(r) => {
                let ok = match &r.ok {
                    Some(t) => Some(Box::new(self.ty(t)?)),
                    None => None,
                };
                let err = match &r.err {
                    Some(t) => Some(Box::new(self.ty(t)?)),
                    None => None,
                };
                Ty::Result(ok, err)
            }
            TypeDefKind::List(t) => Ty::List(Box::new(self.ty(t)?)),
            TypeDefKind::Type(t) => self.ty(t)?,
            TypeDefKind::Handle(Handle::Own(r)) => Ty::Own(self.resource(*r)?),
            TypeDefKind::Handle(Handle::Borrow(r)) => Ty::Borrow(self.resource(*r)?),
            TypeDefKind::Resource
            | TypeDefKind::Map(..)
            | TypeDefKind::FixedLengthList(..)
            | TypeDefKind::Future(_)
            | TypeDefKind::Stream(_)
            | TypeDefKind::Unknown => return None,
        };
        Some(if name.is_some() { named(self, Def::Alias(anon)) } else { anon })
    }

    /// The resource an id names, following `type a = b` aliases.
    fn resource(&mut self, mut id: TypeId) -> Option<usize> {
        loop {
            match &self.resolve.types[id].kind {
                TypeDefKind::Type(Type::Id(next)) => id = *next,
                TypeDefKind::Resource => break,
                _ => return None,
            }
        }
        if let Some(r) = self.resources.get(&id) {
            return Some(*r);
        }
        let name = self.resolve.types[id].name.clone().unwrap_or_else(|| "resource".to_owned());
        self.set.resources.push(ResourceDecl { name, host: false });
        let r = self.set.resources.len() - 1;
        self.resources.insert(id, r);
        Some(r)
    }
}

/// Rewrites a core module: every memory gets `[minimum, maximum]` pages (wit-component's dummy module has one
/// unbounded memory of 0 pages; random bodies growing an unbounded memory would reach engine-specific limits),
/// and the exports named in `drop_exports` are removed (the functions stay).
pub fn reshape(
    module: &[u8],
    minimum: u64,
    maximum: u64,
    drop_exports: &[&str],
) -> std::result::Result<Vec<u8>, String> {
    use wasm_encoder::reencode::{utils, Error, Reencode};
    struct Reshape<'a>(u64, u64, &'a [&'a str]);
    impl Reencode for Reshape<'_> {
        type Error = std::convert::Infallible;
        fn memory_type(
            &mut self,
            ty: wasmparser::MemoryType,
        ) -> std::result::Result<wasm_encoder::MemoryType, Error<Self::Error>> {
            Ok(wasm_encoder::MemoryType {
                minimum: self.0,
                maximum: Some(self.1),
                memory64: ty.memory64,
                shared: ty.shared,
                page_size_log2: ty.page_size_log2,
            })
        }
        fn parse_export(
            &mut self,
            exports: &mut wasm_encoder::ExportSection,
            export: wasmparser::Export<'_>,
        ) -> std::result::Result<(), Error<Self::Error>> {
            if self.2.contains(&export.name) {
                return Ok(());
            }
            utils::parse_export(self, exports, export)
        }
    }
    let mut out = wasm_encoder::Module::new();
    Reshape(minimum, maximum, drop_exports)
        .parse_core_module(&mut out, wasmparser::Parser::new(0), module)
        .map_err(|e| format!("{e:?}"))?;
    Ok(out.finish())
}
