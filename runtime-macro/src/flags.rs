//! `flags! { Name { const A; #[component(name = "b-b")] const B; } }`: a set of flags as a `u32` bit set, with a
//! constant per flag, bit operations, and the three traits of the typed API.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{braced, parse_macro_input, parse_quote, Ident, LitStr, Result, Token};

use crate::derive::component_name;

/// The component model allows at most 32 flags.
const MAX_FLAGS: usize = 32;

struct Flag {
    attrs: Vec<syn::Attribute>,
    ident: Ident,
    name: LitStr,
}

struct Flags {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    ident: Ident,
    flags: Vec<Flag>,
}

impl Parse for Flag {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = syn::Attribute::parse_outer(input)?;
        input.parse::<Token![const]>()?;
        let ident: Ident = input.parse()?;
        let name = component_name(&attrs, &ident)?;
        // Keep the flag's other attributes (its docs) for its constant.
        let attrs = attrs.into_iter().filter(|a| !a.path().is_ident("component")).collect();
        Ok(Flag { attrs, ident, name })
    }
}

impl Parse for Flags {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = syn::Attribute::parse_outer(input)?;
        let vis = match input.parse::<syn::Visibility>()? {
            syn::Visibility::Inherited => parse_quote!(pub),
            v => v,
        };
        let ident: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let flags: Vec<Flag> = content.parse_terminated(Flag::parse, Token![;])?.into_iter().collect();
        if flags.is_empty() {
            return Err(syn::Error::new_spanned(&ident, "flags need at least one flag"));
        }
        if flags.len() > MAX_FLAGS {
            return Err(syn::Error::new_spanned(&ident, format!("at most {MAX_FLAGS} flags are allowed")));
        }
        Ok(Flags { attrs, vis, ident, flags })
    }
}

pub fn expand(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let flags = parse_macro_input!(input as Flags);
    generate(&flags).into()
}

fn generate(f: &Flags) -> TokenStream {
    let k: syn::Path = parse_quote!(::component_layer);
    let Flags { attrs, vis, ident, flags } = f;
    let rust = LitStr::new(&ident.to_string(), Span::call_site());
    let all: u32 = if flags.len() == MAX_FLAGS { u32::MAX } else { (1u32 << flags.len()) - 1 };
    let consts = flags.iter().enumerate().map(|(i, flag)| {
        let (id, attrs, bit) = (&flag.ident, &flag.attrs, 1u32 << i);
        let doc = format!("The flag `{}`.", flag.name.value());
        quote! {
            #[doc = #doc]
            #(#attrs)*
            pub const #id: Self = Self { bits: #bit };
        }
    });
    let names = flags.iter().map(|flag| &flag.name);
    let debug_names = flags.iter().map(|flag| LitStr::new(&flag.ident.to_string(), flag.ident.span()));
    let consts_for_debug = flags.iter().map(|flag| &flag.ident);
    let sig_generics = quote!(<__T: 'static, __E: #k::__internal::WasmEngine>);
    let cx = quote!(&mut #k::__internal::LiftLowerContext<'_, '_, __T, __E>);
    let ty = quote!(#k::__internal::InterfaceType);
    quote! {
        #(#attrs)*
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
        #vis struct #ident {
            bits: u32,
        }

        impl #ident {
            #(#consts)*

            /// No flag set.
            pub const fn empty() -> Self {
                Self { bits: 0 }
            }

            /// Every flag set.
            pub const fn all() -> Self {
                Self { bits: #all }
            }

            /// Whether no flag is set.
            pub const fn is_empty(&self) -> bool {
                self.bits == 0
            }

            /// Whether every flag of `other` is set in `self`.
            pub const fn contains(&self, other: Self) -> bool {
                self.bits & other.bits == other.bits
            }

            /// Whether some flag of `other` is set in `self`.
            pub const fn intersects(&self, other: Self) -> bool {
                self.bits & other.bits != 0
            }

            /// The flags as bits, the first flag in the lowest bit (as the canonical ABI packs them).
            pub const fn bits(&self) -> u32 {
                self.bits
            }

            /// The flags whose bits are set in `bits`; bits beyond the last flag are ignored.
            pub const fn from_bits_truncate(bits: u32) -> Self {
                Self { bits: bits & #all }
            }
        }

        impl ::core::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!(#rust, "("))?;
                let mut first = true;
                #(
                    if self.contains(Self::#consts_for_debug) {
                        if !first {
                            f.write_str(" | ")?;
                        }
                        first = false;
                        f.write_str(#debug_names)?;
                    }
                )*
                let _ = first;
                f.write_str(")")
            }
        }

        impl ::core::ops::BitOr for #ident {
            type Output = Self;
            fn bitor(self, rhs: Self) -> Self {
                Self { bits: self.bits | rhs.bits }
            }
        }

        impl ::core::ops::BitOrAssign for #ident {
            fn bitor_assign(&mut self, rhs: Self) {
                self.bits |= rhs.bits;
            }
        }

        impl ::core::ops::BitAnd for #ident {
            type Output = Self;
            fn bitand(self, rhs: Self) -> Self {
                Self { bits: self.bits & rhs.bits }
            }
        }

        impl ::core::ops::BitAndAssign for #ident {
            fn bitand_assign(&mut self, rhs: Self) {
                self.bits &= rhs.bits;
            }
        }

        impl ::core::ops::BitXor for #ident {
            type Output = Self;
            fn bitxor(self, rhs: Self) -> Self {
                Self { bits: self.bits ^ rhs.bits }
            }
        }

        impl ::core::ops::BitXorAssign for #ident {
            fn bitxor_assign(&mut self, rhs: Self) {
                self.bits ^= rhs.bits;
            }
        }

        impl ::core::ops::Not for #ident {
            type Output = Self;
            fn not(self) -> Self {
                Self { bits: !self.bits & #all }
            }
        }

        #[automatically_derived]
        impl #k::ComponentType for #ident {
            fn typecheck(ty: &#k::types::ValueType) -> #k::Result<()> {
                #k::__internal::typecheck_flags(ty, #rust, &[#(#names),*])
            }
        }

        #[automatically_derived]
        impl #k::Lower for #ident {
            fn lower_flat #sig_generics (&self, _: #cx, _: #ty, out: &mut #k::__internal::FlatBuf) -> #k::Result<()> {
                out.push(u64::from(self.bits));
                ::core::result::Result::Ok(())
            }
            fn store #sig_generics (&self, cx: #cx, ty: #ty, buf: &mut [u8], off: usize) -> #k::Result<()> {
                #k::__internal::store_flags(cx, ty, self.bits, buf, off)
            }
        }

        #[automatically_derived]
        impl #k::Lift for #ident {
            fn lift_flat #sig_generics (_: #cx, _: #ty, src: &mut #k::__internal::FlatSrc<'_>) -> #k::Result<Self> {
                ::core::result::Result::Ok(Self::from_bits_truncate(src.next_bits()? as u32))
            }
            fn load #sig_generics (cx: #cx, ty: #ty, buf: &[u8], off: usize) -> #k::Result<Self> {
                #k::__internal::load_flags(cx, ty, buf, off).map(Self::from_bits_truncate)
            }
        }
    }
}
