//! `#[derive(ComponentType)]`, `#[derive(Lift)]` and `#[derive(Lower)]` for records, variants and enums.

use heck::ToKebabCase;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::ParseStream;
use syn::{parse_macro_input, parse_quote, Data, DeriveInput, Error, Fields, Ident, LitStr, Result, Token};

/// Which trait a derive implements.
#[derive(Copy, Clone)]
pub enum Trait {
    ComponentType,
    Lift,
    Lower,
}

#[derive(Copy, Clone, PartialEq)]
enum Style {
    Record,
    Variant,
    Enum,
}

/// A field of a record or a case of a variant or enum.
struct Member {
    ident: Ident,
    name: LitStr,
    ty: Option<syn::Type>,
}

struct Item {
    ident: Ident,
    generics: syn::Generics,
    style: Style,
    krate: syn::Path,
    members: Vec<Member>,
}

pub fn expand(input: proc_macro::TokenStream, which: Trait) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match parse(&input).map(|item| generate(&item, which)) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

mod kw {
    syn::custom_keyword!(record);
    syn::custom_keyword!(variant);
    syn::custom_keyword!(flags);
    syn::custom_keyword!(name);
}

enum ContainerAttr {
    Style(Style),
    Crate(syn::Path),
}

fn parse_container_attr(input: ParseStream) -> Result<ContainerAttr> {
    let look = input.lookahead1();
    if look.peek(kw::record) {
        input.parse::<kw::record>()?;
        Ok(ContainerAttr::Style(Style::Record))
    } else if look.peek(kw::variant) {
        input.parse::<kw::variant>()?;
        Ok(ContainerAttr::Style(Style::Variant))
    } else if look.peek(Token![enum]) {
        input.parse::<Token![enum]>()?;
        Ok(ContainerAttr::Style(Style::Enum))
    } else if look.peek(Token![crate]) {
        input.parse::<Token![crate]>()?;
        input.parse::<Token![=]>()?;
        Ok(ContainerAttr::Crate(input.parse()?))
    } else if input.peek(kw::flags) {
        Err(input.error("`flags` cannot be derived: declare flags types with `component_layer::flags!`"))
    } else {
        Err(look.error())
    }
}

/// The `#[component(name = "…")]` of a field, case or flag, if it has one.
pub fn find_rename(attrs: &[syn::Attribute]) -> Result<Option<LitStr>> {
    let mut name = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        let lit = attr.parse_args_with(|p: ParseStream| {
            p.parse::<kw::name>()?;
            p.parse::<Token![=]>()?;
            p.parse::<LitStr>()
        })?;
        if name.replace(lit).is_some() {
            return Err(Error::new_spanned(attr, "duplicate `#[component(name = ...)]`"));
        }
    }
    Ok(name)
}

/// The component name of a field, case or flag: its rename, or the kebab-case of its identifier.
pub fn component_name(attrs: &[syn::Attribute], ident: &Ident) -> Result<LitStr> {
    Ok(find_rename(attrs)?.unwrap_or_else(|| {
        let s = ident.to_string();
        let s = s.strip_prefix("r#").unwrap_or(&s);
        LitStr::new(&s.to_kebab_case(), ident.span())
    }))
}

fn parse(input: &DeriveInput) -> Result<Item> {
    let mut style = None;
    let mut krate: syn::Path = parse_quote!(::component_layer);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("component")) {
        match attr.parse_args_with(parse_container_attr)? {
            ContainerAttr::Style(s) => {
                if style.replace(s).is_some() {
                    return Err(Error::new_spanned(attr, "duplicate `#[component(...)]` style"));
                }
            }
            ContainerAttr::Crate(p) => krate = p,
        }
    }
    let style = style.ok_or_else(|| {
        Error::new_spanned(
            &input.ident,
            "missing `#[component(record)]`, `#[component(variant)]` or `#[component(enum)]`",
        )
    })?;
    let members = match (&input.data, style) {
        (Data::Struct(s), Style::Record) => match &s.fields {
            Fields::Named(fields) => fields
                .named
                .iter()
                .map(|f| {
                    let ident = f.ident.clone().expect("named field");
                    Ok(Member { name: component_name(&f.attrs, &ident)?, ident, ty: Some(f.ty.clone()) })
                })
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(Error::new_spanned(&input.ident, "a `record` must be a struct with named fields")),
        },
        (Data::Enum(e), Style::Variant | Style::Enum) => {
            if e.variants.is_empty() {
                return Err(Error::new_spanned(&input.ident, "a variant or enum needs at least one case"));
            }
            e.variants
                .iter()
                .map(|v| {
                    if let Some((_, d)) = &v.discriminant {
                        return Err(Error::new_spanned(d, "explicit discriminants are not supported"));
                    }
                    let ty = match (&v.fields, style) {
                        (Fields::Unit, _) => None,
                        (Fields::Unnamed(f), Style::Variant) if f.unnamed.len() == 1 => Some(f.unnamed[0].ty.clone()),
                        (_, Style::Variant) => {
                            return Err(Error::new_spanned(v, "a variant case has no field or one unnamed field"))
                        }
                        _ => return Err(Error::new_spanned(v, "an enum case has no fields")),
                    };
                    Ok(Member { name: component_name(&v.attrs, &v.ident)?, ident: v.ident.clone(), ty })
                })
                .collect::<Result<Vec<_>>>()?
        }
        (_, Style::Record) => return Err(Error::new_spanned(&input.ident, "a `record` must be a struct")),
        (_, _) => return Err(Error::new_spanned(&input.ident, "a `variant` or `enum` must be an enum")),
    };
    if members.len() > u32::MAX as usize {
        return Err(Error::new_spanned(&input.ident, "too many cases"));
    }
    Ok(Item { ident: input.ident.clone(), generics: input.generics.clone(), style, krate, members })
}

fn generate(item: &Item, which: Trait) -> TokenStream {
    let k = &item.krate;
    let bound: syn::TypeParamBound = match which {
        Trait::ComponentType => parse_quote!(#k::ComponentType),
        Trait::Lift => parse_quote!(#k::Lift),
        Trait::Lower => parse_quote!(#k::Lower),
    };
    let mut generics = item.generics.clone();
    for p in generics.type_params_mut() {
        p.bounds.push(bound.clone());
    }
    let (impl_g, ty_g, where_g) = generics.split_for_impl();
    let ident = &item.ident;
    let body = match which {
        Trait::ComponentType => typecheck(item),
        Trait::Lift => lift(item),
        Trait::Lower => lower(item),
    };
    quote! {
        #[automatically_derived]
        impl #impl_g #bound for #ident #ty_g #where_g {
            #body
        }
    }
}

fn typecheck(item: &Item) -> TokenStream {
    let k = &item.krate;
    let rust = LitStr::new(&item.ident.to_string(), Span::call_site());
    let entries = item.members.iter().map(|m| {
        let name = &m.name;
        let check = m.ty.as_ref().map(|t| quote!(<#t as #k::ComponentType>::typecheck));
        match (item.style, check) {
            (Style::Record, Some(c)) => quote!((#name, #c)),
            (Style::Variant, Some(c)) => quote!((#name, ::core::option::Option::Some(#c))),
            (Style::Variant, None) => quote!((#name, ::core::option::Option::None)),
            _ => quote!(#name),
        }
    });
    let helper = match item.style {
        Style::Record => quote!(typecheck_record),
        Style::Variant => quote!(typecheck_variant),
        Style::Enum => quote!(typecheck_enum),
    };
    quote! {
        fn typecheck(ty: &#k::types::ValueType) -> #k::Result<()> {
            #k::__internal::#helper(ty, #rust, &[#(#entries),*])
        }
    }
}

/// The signatures every generated method shares.
struct Sig {
    generics: TokenStream,
    cx: TokenStream,
    ty: TokenStream,
    result: TokenStream,
}

fn sig(k: &syn::Path) -> Sig {
    Sig {
        generics: quote!(<__T: 'static, __E: #k::__internal::WasmEngine>),
        cx: quote!(&mut #k::__internal::LiftLowerContext<'_, '_, __T, __E>),
        ty: quote!(#k::__internal::InterfaceType),
        result: quote!(#k::Result),
    }
}

fn lower(item: &Item) -> TokenStream {
    let k = &item.krate;
    let Sig { generics, cx, ty, result } = sig(k);
    let (flat, store) = match item.style {
        Style::Record => {
            let flat = item.members.iter().enumerate().map(|(i, m)| {
                let f = &m.ident;
                quote!(#k::Lower::lower_flat(&self.#f, cx, fields.field(#i)?.0, out).map_err(|e| fields.locate(#i, e))?;)
            });
            let store = item.members.iter().enumerate().map(|(i, m)| {
                let f = &m.ident;
                quote! {{
                    let (t, o) = fields.field(#i)?;
                    #k::Lower::store(&self.#f, cx, t, buf, off + o).map_err(|e| fields.locate(#i, e))?;
                }}
            });
            (
                quote! {
                    let fields = #k::__internal::record(cx, ty)?;
                    #(#flat)*
                    ::core::result::Result::Ok(())
                },
                quote! {
                    let fields = #k::__internal::record(cx, ty)?;
                    #(#store)*
                    ::core::result::Result::Ok(())
                },
            )
        }
        Style::Variant | Style::Enum => {
            let arms = |call: TokenStream, rest: TokenStream| {
                let arms = item.members.iter().enumerate().map(|(i, m)| {
                    let (c, v) = (&m.ident, i as u32);
                    match m.ty {
                        Some(_) => quote! {
                            Self::#c(p) => #k::__internal::#call(cx, ty, #v, ::core::option::Option::Some(p), #rest),
                        },
                        None => quote! {
                            Self::#c => #k::__internal::#call::<(), __T, __E>(cx, ty, #v, ::core::option::Option::None, #rest),
                        },
                    }
                });
                quote!(#(#arms)*)
            };
            let flat = arms(quote!(lower_case_flat), quote!(out));
            let store = arms(quote!(store_case), quote!(buf, off));
            (quote!(match self { #flat }), quote!(match self { #store }))
        }
    };
    quote! {
        fn lower_flat #generics (&self, cx: #cx, ty: #ty, out: &mut #k::__internal::FlatBuf) -> #result<()> {
            #flat
        }
        fn store #generics (&self, cx: #cx, ty: #ty, buf: &mut [u8], off: usize) -> #result<()> {
            #store
        }
    }
}

fn lift(item: &Item) -> TokenStream {
    let k = &item.krate;
    let Sig { generics, cx, ty, result } = sig(k);
    let (flat, load) = match item.style {
        Style::Record => {
            let flat = item.members.iter().enumerate().map(|(i, m)| {
                let f = &m.ident;
                quote!(#f: #k::Lift::lift_flat(cx, fields.field(#i)?.0, src).map_err(|e| fields.locate(#i, e))?,)
            });
            let load = item.members.iter().enumerate().map(|(i, m)| {
                let f = &m.ident;
                quote!(#f: {
                    let (t, o) = fields.field(#i)?;
                    #k::Lift::load(cx, t, buf, off + o).map_err(|e| fields.locate(#i, e))?
                },)
            });
            (
                quote! {
                    let fields = #k::__internal::record(cx, ty)?;
                    ::core::result::Result::Ok(Self { #(#flat)* })
                },
                quote! {
                    let fields = #k::__internal::record(cx, ty)?;
                    ::core::result::Result::Ok(Self { #(#load)* })
                },
            )
        }
        Style::Variant | Style::Enum => {
            let flat = item.members.iter().enumerate().map(|(i, m)| {
                let (c, v) = (&m.ident, i as u32);
                match m.ty {
                    Some(_) => quote!(#v => case.payload_flat(cx, src).map(Self::#c),),
                    None => quote!(#v => {
                        case.finish_flat(src);
                        ::core::result::Result::Ok(Self::#c)
                    }),
                }
            });
            let load = item.members.iter().enumerate().map(|(i, m)| {
                let (c, v) = (&m.ident, i as u32);
                match m.ty {
                    Some(_) => quote!(#v => case.payload_load(cx, buf).map(Self::#c),),
                    None => quote!(#v => ::core::result::Result::Ok(Self::#c),),
                }
            });
            (
                quote! {
                    let case = #k::__internal::lift_case_flat(cx, ty, src)?;
                    match case.index() {
                        #(#flat)*
                        _ => ::core::result::Result::Err(#k::__internal::invalid_discriminant()),
                    }
                },
                quote! {
                    let case = #k::__internal::load_case(cx, ty, buf, off)?;
                    match case.index() {
                        #(#load)*
                        _ => ::core::result::Result::Err(#k::__internal::invalid_discriminant()),
                    }
                },
            )
        }
    };
    quote! {
        fn lift_flat #generics (cx: #cx, ty: #ty, src: &mut #k::__internal::FlatSrc<'_>) -> #result<Self> {
            #flat
        }
        fn load #generics (cx: #cx, ty: #ty, buf: &[u8], off: usize) -> #result<Self> {
            #load
        }
    }
}
