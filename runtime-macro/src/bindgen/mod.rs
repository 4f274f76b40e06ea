//! `bindgen!`: Rust bindings for a WIT world, generated with wit-parser.
//!
//! The input is read ([`Options`]), the WIT resolved and the world selected; [`gen::Generator`] then writes the
//! bindings as Rust source text, which is parsed into tokens. Every failure — bad options, WIT that does not
//! parse, a feature the runtime does not support — becomes a `compile_error!` with the message, never a panic
//! of the macro.

mod gen;
mod keys;
mod names;

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, Ident, LitBool, LitStr, Token};
use wit_parser::{PackageId, Resolve};

pub use gen::Generator;

/// Options of wasmtime's `bindgen!` that component-layer does not implement (yet), with the reason given to
/// the user.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "async",
        "the WIT decides what is async: every `async func` import's host method returns a future and every \
         `async func` export gets a `call_*_async` future, without this option",
    ),
    (
        "concurrent_imports",
        "every `async func` import's host method returns a future without this option (synchronous WIT \
         functions stay synchronous)",
    ),
    ("concurrent_exports", "every `async func` export gets a `call_*_async` future without this option"),
    ("exports", "per-function export flags (async, tracing) are not supported"),
    ("tracing", "tracing of host calls is not supported"),
    ("verbose_tracing", "tracing of host calls is not supported"),
    ("ownership", "borrowing ownership of generated types is not supported: generated types own their data"),
    ("trappable_error_type", "trappable error types are not supported; use `trappable_imports: true`"),
    ("interfaces", "inline `interfaces` are not supported; write them in `inline`"),
    ("wasmtime_crate", "this is component-layer's bindgen; it always refers to `::component_layer`"),
    ("require_store_data_send", "store data need not be `Send` in component-layer"),
    ("include_generated_code_from_file", "the generated code is always emitted inline"),
    ("stringify", "the generated code is always emitted as tokens"),
    ("named_imports", "named imports are generated from the world's `implements` items; no option is needed"),
    ("only_interfaces", "bindings are always generated for the whole world"),
    ("debug", "the generated types always derive `Debug`"),
    ("anyhow", "host functions return `component_layer::Error` with `trappable_imports: true`"),
];

/// How a host function is generated (`imports: { …: trappable | store }`).
#[derive(Copy, Clone, Default, PartialEq, Debug)]
pub struct Flags {
    /// It returns `component_layer::Result<T>`; an `Err` traps.
    pub trappable: bool,
    /// It is an associated function of the `…WithStore` trait taking `component_layer::Access` (the store and
    /// the host's data) instead of `&mut self`.
    pub store: bool,
}

/// A `with` entry: a key (see `keys`) and the Rust path, as written at the call site.
pub struct With {
    pub key: String,
    pub path: String,
    pub span: Span,
}

/// An `imports` entry: a key (see `keys`) and the flags of the functions it names.
pub struct Rule {
    pub key: String,
    pub flags: Flags,
    pub span: Span,
}

/// Where options were written (errors in the WIT point there).
#[derive(Default)]
pub struct Spans {
    pub path: Option<Span>,
    pub inline: Option<Span>,
    pub world: Option<Span>,
}

/// `bindgen!`'s options.
#[derive(Default)]
pub struct Options {
    /// WIT directories or files, relative to `CARGO_MANIFEST_DIR`, pushed in order.
    pub paths: Vec<String>,
    /// WIT source given in the macro.
    pub inline: Option<String>,
    /// The world to generate (optional if there is only one).
    pub world: Option<String>,
    /// Imported interfaces, packages or types whose bindings are elsewhere.
    pub with: Vec<With>,
    /// Flags of host functions, by key (the first rule that names a function applies).
    pub imports: Vec<Rule>,
    /// Flags of host functions no rule names (`trappable_imports: true` sets `trappable`).
    pub default_flags: Flags,
    /// More derives for generated records, variants and enums.
    pub additional_derives: Vec<String>,
    /// Where `path`, `inline` and `world` were written, for errors about what they name.
    pub spans: Spans,
    /// Do not generate `impl<T: Host + ?Sized> Host for &mut T` (as wasmtime's option of that name).
    pub skip_mut_forwarding_impls: bool,
    /// Also generate `__DummyHost`, implementing every import trait with functions that fail (for tests that
    /// type-check imports against a component).
    pub dummy_host: bool,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut opts = Options::default();
        if input.is_empty() {
            return Ok(opts);
        }
        let content;
        braced!(content in input);
        while !content.is_empty() {
            let key: Ident = content.call(Ident::parse_any_ident)?;
            content.parse::<Token![:]>()?;
            let name = key.to_string();
            match name.as_str() {
                "path" => {
                    opts.spans.path = Some(content.span());
                    if content.peek(syn::token::Bracket) {
                        let list;
                        bracketed!(list in content);
                        let paths = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
                        opts.paths.extend(paths.iter().map(|p| p.value()));
                    } else {
                        opts.paths.push(content.parse::<LitStr>()?.value());
                    }
                }
                "inline" => {
                    let lit = content.parse::<LitStr>()?;
                    opts.spans.inline = Some(lit.span());
                    opts.inline = Some(lit.value());
                }
                "world" => {
                    let lit = content.parse::<LitStr>()?;
                    opts.spans.world = Some(lit.span());
                    opts.world = Some(lit.value());
                }
                "trappable_imports" => opts.default_flags.trappable = content.parse::<LitBool>()?.value,
                "imports" => parse_imports(&content, &mut opts)?,
                "dummy_host" => opts.dummy_host = content.parse::<LitBool>()?.value,
                "skip_mut_forwarding_impls" => opts.skip_mut_forwarding_impls = content.parse::<LitBool>()?.value,
                "additional_derives" => {
                    let list;
                    bracketed!(list in content);
                    let paths = Punctuated::<syn::Path, Token![,]>::parse_terminated(&list)?;
                    opts.additional_derives.extend(paths.iter().map(|p| quote!(#p).to_string()));
                }
                "with" => {
                    let map;
                    braced!(map in content);
                    while !map.is_empty() {
                        let k: LitStr = map.parse()?;
                        map.parse::<Token![:]>()?;
                        let v: syn::Path = map.parse()?;
                        opts.with.push(With { key: k.value(), path: quote!(#v).to_string(), span: k.span() });
                        if map.is_empty() {
                            break;
                        }
                        map.parse::<Token![,]>()?;
                    }
                }
                other => {
                    let msg = match UNSUPPORTED.iter().find(|(n, _)| *n == other) {
                        Some((_, why)) => format!("bindgen! option `{other}` is not supported: {why}"),
                        None => format!(
                            "unknown bindgen! option `{other}`; expected one of `path`, `inline`, `world`, `with`, \
                             `imports`, `trappable_imports`, `additional_derives`"
                        ),
                    };
                    return Err(syn::Error::new(key.span(), msg));
                }
            }
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if opts.paths.is_empty() && opts.inline.is_none() {
            return Err(syn::Error::new(Span::call_site(), "bindgen! needs `path: \"...\"` or `inline: \"...\"`"));
        }
        Ok(opts)
    }
}

/// `imports: { default: FLAGS, "key": FLAGS, … }`, FLAGS being `trappable`, `store` or both joined by `|`.
fn parse_imports(input: ParseStream, opts: &mut Options) -> syn::Result<()> {
    let map;
    braced!(map in input);
    while !map.is_empty() {
        let key = if map.peek(LitStr) {
            let k: LitStr = map.parse()?;
            Some((k.value(), k.span()))
        } else {
            let k: Ident = map.parse()?;
            if k != "default" {
                return Err(syn::Error::new(k.span(), "expected `default` or a string key"));
            }
            None
        };
        map.parse::<Token![:]>()?;
        let mut flags = Flags::default();
        loop {
            let flag: Ident = map.call(Ident::parse_any_ident)?;
            match flag.to_string().as_str() {
                "trappable" => flags.trappable = true,
                "store" => flags.store = true,
                "async" | "tracing" | "verbose_tracing" | "exact" | "ignore_wit" => {
                    return Err(syn::Error::new(
                        flag.span(),
                        format!("import flag `{flag}` is not supported; the flags are `trappable` and `store`"),
                    ))
                }
                _ => return Err(syn::Error::new(flag.span(), "expected `trappable` or `store`")),
            }
            if !map.peek(Token![|]) {
                break;
            }
            map.parse::<Token![|]>()?;
        }
        match key {
            Some((key, span)) => opts.imports.push(Rule { key, flags, span }),
            None => opts.default_flags = flags,
        }
        if map.is_empty() {
            break;
        }
        map.parse::<Token![,]>()?;
    }
    Ok(())
}

trait ParseAnyIdent {
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    /// Option names include Rust keywords (`async`).
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

/// The macro's entry point.
pub fn expand(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let opts = match syn::parse::<Options>(input) {
        Ok(o) => o,
        Err(e) => return e.to_compile_error().into(),
    };
    match run(&opts) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default()
}

fn error(msg: String) -> syn::Error {
    error_at(None, msg)
}

fn error_at(span: Option<Span>, msg: String) -> syn::Error {
    syn::Error::new(span.unwrap_or_else(Span::call_site), msg)
}

/// Resolves the WIT of `opts` and generates the bindings of its world.
fn run(opts: &Options) -> syn::Result<TokenStream> {
    let root = manifest_dir();
    let mut resolve = Resolve::default();
    let mut pkgs: Vec<PackageId> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for p in &opts.paths {
        let path = root.join(p);
        let (pkg, sources) = resolve
            .push_path(&path)
            .map_err(|e| error_at(opts.spans.path, format!("bindgen!: {}: {e:#}", path.display())))?;
        files.extend(sources.paths().map(Path::to_path_buf));
        pkgs.push(pkg);
    }
    if let Some(src) = &opts.inline {
        let pkg = resolve.push_str("inline.wit", src);
        pkgs.push(pkg.map_err(|e| error_at(opts.spans.inline, format!("bindgen!: inline WIT: {e:#}")))?);
    }
    let world = resolve
        .select_world(&pkgs, opts.world.as_deref())
        .map_err(|e| error_at(opts.spans.world, format!("bindgen!: {e:#}")))?;
    let world_snake = names::snake(&resolve.worlds[world].name).replace("r#", "");
    let code = Generator::new(&resolve, world, opts)?.generate()?;
    let tokens: TokenStream =
        code.parse().map_err(|e| error(format!("bindgen!: generated code does not parse: {e}")))?;
    // Rebuild when a WIT file changes.
    let deps = files.iter().filter_map(|f| f.to_str()).map(|f| {
        quote!(
            const _: &str = include_str!(#f);
        )
    });
    // `with` paths mean what they mean at the call site: each is imported here under a name the bindings use.
    let aliases = opts.with.iter().enumerate().map(|(i, w)| {
        let alias = Ident::new(&gen::with_alias(&world_snake, i), Span::call_site());
        let path: TokenStream = w.path.parse().unwrap_or_default();
        quote!(
            #[doc(hidden)]
            #[allow(unused_imports)]
            use #path as #alias;
        )
    });
    // The bindings live in a module (so lint settings cover all of them) whose items are re-exported here.
    let module = Ident::new(&format!("__bindgen_{world_snake}"), Span::call_site());
    Ok(quote! {
        #(#aliases)*
        #[allow(clippy::all, missing_docs, dead_code, unused_imports, non_camel_case_types)]
        mod #module {
            #(#deps)*
            #tokens
        }
        pub use #module::*;
    })
}

/// `__bindgen_every_world!("dir")`: bindings for every world of every `.wit` file in `dir`;
/// `__bindgen_every_world!(["a", "b"])`: for every world of the packages at these paths, pushed in order into
/// one `Resolve`. Each world's bindings go in a module, with a dummy host and a `check` function that
/// instantiates a component through them; `worlds()` lists (file or package, world, check), `exports_only()`
/// the same with a check of the exports only, and `SKIPPED` (file or package, world, reason). For tests.
pub fn expand_every_world(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input: TokenStream = input.into();
    let result = match syn::parse2::<LitStr>(input.clone()) {
        Ok(dir) => files_of(&dir.value()),
        Err(_) => match syn::parse2::<PathList>(input) {
            Ok(list) => packages_of(&list.0),
            Err(e) => return e.to_compile_error().into(),
        },
    };
    match result.and_then(|groups| every_world(&groups)) {
        Ok(ts) => ts.into(),
        Err(msg) => syn::Error::new(Span::call_site(), msg).to_compile_error().into(),
    }
}

struct PathList(Vec<String>);

impl Parse for PathList {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let list;
        bracketed!(list in input);
        Ok(PathList(Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?.iter().map(|l| l.value()).collect()))
    }
}

/// A resolved set of packages whose worlds to generate: (label, resolve, packages (all their worlds) or one
/// world, files read).
type Group = (String, Resolve, Result<Vec<PackageId>, wit_parser::WorldId>, Vec<PathBuf>);

/// The WIT of a component in a `.wat` file: its world, with every package it refers to.
#[cfg(feature = "corpus")]
fn decode_component(file: &Path) -> Result<(Resolve, wit_parser::WorldId), String> {
    let bytes = wat::parse_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
    match wit_parser::decoding::decode(&bytes).map_err(|e| format!("{}: {e:#}", file.display()))? {
        wit_parser::decoding::DecodedWasm::Component(resolve, world) => Ok((resolve, world)),
        wit_parser::decoding::DecodedWasm::WitPackage(..) => Err(format!("{}: not a component", file.display())),
    }
}

#[cfg(not(feature = "corpus"))]
fn decode_component(file: &Path) -> Result<(Resolve, wit_parser::WorldId), String> {
    Err(format!("{}: reading components needs component-layer-macro's `corpus` feature", file.display()))
}

fn files_of(dir: &str) -> Result<Vec<Group>, String> {
    let root = manifest_dir().join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| format!("{}: {e}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wit" || x == "wat"))
        .collect();
    files.sort();
    let mut groups = Vec::new();
    for file in files {
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("wit").to_owned();
        if file.extension().is_some_and(|x| x == "wat") {
            let (resolve, world) = decode_component(&file)?;
            groups.push((stem, resolve, Err(world), vec![file]));
            continue;
        }
        let mut resolve = Resolve::default();
        let pkg = resolve.push_file(&file).map_err(|e| format!("{}: {e:#}", file.display()))?;
        groups.push((stem, resolve, Ok(vec![pkg]), vec![file]));
    }
    Ok(groups)
}

fn packages_of(paths: &[String]) -> Result<Vec<Group>, String> {
    let mut resolve = Resolve::default();
    let mut pkgs = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        let path = manifest_dir().join(p);
        let (pkg, sources) = resolve.push_path(&path).map_err(|e| format!("{}: {e:#}", path.display()))?;
        files.extend(sources.paths().map(Path::to_path_buf));
        pkgs.push(pkg);
    }
    Ok(vec![(String::new(), resolve, Ok(pkgs), files)])
}

fn every_world(groups: &[Group]) -> Result<TokenStream, String> {
    let mut modules = String::new();
    let mut worlds = String::new();
    let mut exports = String::new();
    let mut skipped = String::new();
    for (label, resolve, pkgs, files) in groups {
        for file in files.iter().filter_map(|f| f.to_str()) {
            modules.push_str(&format!("const _: &str = include_str!({file:?});\n"));
        }
        let selected: Vec<(String, &str, wit_parser::WorldId)> = match pkgs {
            Ok(pkgs) => pkgs
                .iter()
                .flat_map(|pkg| {
                    let p = &resolve.packages[*pkg];
                    let label = if label.is_empty() { p.name.to_string() } else { label.clone() };
                    p.worlds.iter().map(move |(name, id)| (label.clone(), name.as_str(), *id))
                })
                .collect(),
            Err(world) => vec![(label.clone(), resolve.worlds[*world].name.as_str(), *world)],
        };
        {
            for (label, name, id) in &selected {
                let opts = Options {
                    default_flags: Flags { trappable: true, store: false },
                    dummy_host: true,
                    ..Options::default()
                };
                let module = names::snake(&format!("{label}-{name}").replace([':', '/', '@', '.'], "-"));
                match Generator::new(resolve, *id, &opts).and_then(|g| g.generate()) {
                    Ok(code) => {
                        let world = names::camel(name);
                        modules.push_str(&format!(
                            "#[allow(warnings, clippy::all, missing_docs)] pub mod {module} {{ {code}\n\
                             pub fn check<E: ::component_layer::__internal::WasmEngine>(\
                               engine: &::component_layer::Engine<E>, component: &::component_layer::Component) \
                               -> ::component_layer::Result<()> {{\
                               let mut linker = ::component_layer::Linker::<__DummyHost, E>::new();\
                               {world}::add_to_linker(&mut linker, |t| t)?;\
                               let pre = {world}::instantiate_pre(component, &linker)?;\
                               let mut store = ::component_layer::Store::new(engine, __DummyHost);\
                               pre.instantiate(&mut store).map(|_| ())\
                             }}\n\
                             pub fn check_exports<E: ::component_layer::__internal::WasmEngine>(\
                               engine: &::component_layer::Engine<E>, component: &::component_layer::Component) \
                               -> ::component_layer::Result<()> {{\
                               let mut linker = ::component_layer::Linker::<(), E>::new();\
                               __define_resources(&mut linker)?;\
                               linker.define_unknown_imports_as_traps(component)?;\
                               let mut store = ::component_layer::Store::new(engine, ());\
                               let instance = linker.instantiate(&mut store, component)?;\
                               {world}::new(&mut store, &instance).map(|_| ())\
                             }} }}\n"
                        ));
                        worlds.push_str(&format!("({label:?}, {name:?}, {module}::check::<E>),"));
                        exports.push_str(&format!("({label:?}, {name:?}, {module}::check_exports::<E>),"));
                    }
                    Err(reason) => skipped.push_str(&format!("({label:?}, {name:?}, {:?}),", reason.to_string())),
                }
            }
        }
    }
    let code = format!(
        "{modules}\n\
         /// Every generated world: (file or package, world, a check that instantiates a component of the world \
         through the bindings with a dummy host).\n\
         #[allow(clippy::type_complexity)]\
         pub fn worlds<E: ::component_layer::__internal::WasmEngine>() -> ::std::vec::Vec<(&'static str, &'static \
         str, fn(&::component_layer::Engine<E>, &::component_layer::Component) -> ::component_layer::Result<()>)> \
         {{ ::std::vec![{worlds}] }}\n\
         /// Every generated world with a lighter check: imports stubbed by the linker, exports taken out and \
         type-checked through the bindings (compiles much faster than `worlds`, which monomorphises every host \
         function).\n\
         #[allow(clippy::type_complexity)]\
         pub fn exports_only<E: ::component_layer::__internal::WasmEngine>() -> ::std::vec::Vec<(&'static str, \
         &'static str, fn(&::component_layer::Engine<E>, &::component_layer::Component) -> \
         ::component_layer::Result<()>)> {{ ::std::vec![{exports}] }}\n\
         /// Worlds without bindings: (file or package, world, reason).\n\
         pub const SKIPPED: &[(&str, &str, &str)] = &[{skipped}];\n"
    );
    code.parse().map_err(|e| format!("generated code does not parse: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIT: &str = "package a:b; interface i { record r { x: u32 } resource res; f: func(); } \
                       interface g { resource gr; } world w { import i; export g; }";

    /// The error `bindgen!` would report for these options (over `WIT` unless they give their own).
    fn error_of(options: &str) -> String {
        let opts: Options = match syn::parse_str(&format!("{{ {options} }}")) {
            Ok(o) => o,
            Err(e) => return e.to_string(),
        };
        match run(&opts) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    fn inline(extra: &str) -> String {
        format!("inline: {WIT:?}, {extra}")
    }

    #[test]
    fn valid_options_generate() {
        assert_eq!(
            error_of(&inline(r#"with: { "a:b/i.r": crate::R }, imports: { "a:b/i.f": store | trappable }"#)),
            ""
        );
        assert_eq!(error_of(&inline(r#"with: { "a:b": crate::x }, imports: { default: trappable }"#)), "");
    }

    #[test]
    fn every_with_and_imports_key_must_name_something() {
        let e = error_of(&inline(r#"with: { "a:b/nope": crate::x }"#));
        assert!(e.contains("`with` key `a:b/nope` names no imported interface"), "{e}");
        let e = error_of(&inline(r#"imports: { "a:b/i.nope": store }"#));
        assert!(e.contains("`imports` key `a:b/i.nope` names no imported function"), "{e}");
    }

    #[test]
    fn guest_resources_cannot_be_mapped() {
        let e = error_of(&inline(r#"with: { "a:b/g.gr": crate::X }"#));
        assert!(e.contains("resource of an exported interface"), "{e}");
    }

    #[test]
    fn unsupported_options_and_flags_say_why() {
        let e = error_of(&inline(r#"imports: { default: async }"#));
        assert!(e.contains("import flag `async` is not supported"), "{e}");
        let e = error_of(&inline("tracing: true"));
        assert!(e.contains("option `tracing` is not supported"), "{e}");
        let e = error_of(&inline("colour: true"));
        assert!(e.contains("unknown bindgen! option `colour`"), "{e}");
        let params: Vec<String> = (0..13).map(|i| format!("p{i}: u8")).collect();
        let e = error_of(&format!(r#"inline: "package a:b; world w {{ import f: func({}); }}""#, params.join(", ")));
        assert!(e.contains("more than 12 parameters") && e.contains("does not support yet"), "{e}");
        let wit = "package a:b; world w { import f: async func(x: future<u8>) -> stream<string>; \
                   export g: func(e: error-context, s: list<stream>) -> option<future<u32>>; }";
        assert_eq!(error_of(&format!("inline: {wit:?}")), "");
        assert_eq!(error_of(r#"inline: "package a:b; world w { import f: async func(x: u32) -> string; }""#), "");
        assert_eq!(error_of(r#"inline: "package a:b; world w { export f: async func(x: u32) -> string; }""#), "");
        let e = error_of(r#"inline: "package a:b; world w { import f: func(x: nope); }""#);
        assert!(e.contains("inline WIT"), "{e}");
        let e = error_of(r#"world: "w""#);
        assert!(e.contains("needs `path"), "{e}");
    }
}
