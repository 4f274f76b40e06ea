//! Rust identifiers for WIT names, and how generated names are kept apart from WIT's.
//!
//! WIT names are kebab-case and may be Rust keywords (`type`, `self`), and the generator adds names of its own
//! beside them: traits (`Host`, `HostFoo`, `…WithStore`), structs (`Guest`, `GuestIndices`, the world's `Foo`,
//! `FooPre`, `FooIndices`), methods (`new`, `drop`, `call_*`, `instantiate`) and the generic parameters of the
//! functions it writes. Three rules keep every combination compiling:
//! * keywords become raw identifiers (`r#type`), and the four words that cannot be raw (`self`, `Self`,
//!   `super`, `crate`) get a trailing `_`;
//! * a WIT type whose Rust name is one the generator makes in the same module gets a trailing `_` (`Host_`):
//!   WIT names contain no `_`, so that name is free;
//! * methods of one generated type or trait are allocated through [`Names`], which appends `_` to a name already
//!   taken (a resource method named `new` beside the constructor becomes `new_`).
//!
//! Types are always named by path (`super::…`, `self::…`, `::core::…`), so a WIT type named `Result` or `T`
//! cannot shadow what the generated code means.

use std::collections::HashSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

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

/// A function parameter: never one of the names the generated function bodies use themselves.
pub fn param(s: &str) -> String {
    match snake(s).as_str() {
        "store" | "get" | "linker" | "host" => format!("{}_", snake(s)),
        other => other.to_owned(),
    }
}

/// The field holding the `i`-th exported function of an interface or the world (fields are private; the index
/// keeps `[method]r.m` and a function named `method-r-m` apart).
pub fn func_field(i: usize, s: &str) -> String {
    format!("f{i}_{}", s.replace(['[', ']', '.'], "-").to_snake_case())
}

/// The names the generator makes in the module of an interface with these resources (WIT names of its own
/// resources): a WIT type must not take them.
pub fn interface_items(resources: &[String]) -> HashSet<String> {
    let mut names: HashSet<String> =
        ["Host", "HostWithStore", "Implementation", "Guest", "GuestIndices"].iter().map(|s| s.to_string()).collect();
    for r in resources {
        let r = camel(r);
        names.extend([format!("Host{r}"), format!("Host{r}WithStore"), format!("Guest{r}")]);
    }
    names
}

/// The names the generator makes at the root of the bindings of world `world` with these resources.
pub fn world_items(world: &str, resources: &[String]) -> HashSet<String> {
    let w = camel(world);
    let mut names: HashSet<String> =
        [w.clone(), format!("{w}Indices"), format!("{w}Pre"), format!("{w}Imports"), format!("{w}ImportsWithStore")]
            .into_iter()
            .collect();
    names.insert("__DummyHost".to_owned());
    for r in resources {
        let r = camel(r);
        names.extend([format!("Host{r}"), format!("Host{r}WithStore")]);
    }
    names
}

/// The Rust name of a WIT type in a module where the generator makes `taken`.
pub fn type_name(wit: &str, taken: &HashSet<String>) -> String {
    let name = camel(wit);
    if taken.contains(&name) {
        format!("{}_", name.trim_start_matches("r#"))
    } else {
        name
    }
}

/// The method names of one generated type or trait.
#[derive(Default)]
pub struct Names(HashSet<String>);

impl Names {
    /// Names already taken by the generator.
    pub fn reserving(names: &[&str]) -> Names {
        Names(names.iter().map(|s| s.to_string()).collect())
    }

    /// `base`, or `base` with `_` appended until it is free; taken from now on.
    pub fn take(&mut self, base: String) -> String {
        let mut name = base;
        while !self.0.insert(name.clone()) {
            name.push('_');
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(camel("self"), "Self_");
        assert_eq!(param("store"), "store_");
    }

    #[test]
    fn generated_names_are_kept_apart() {
        let taken = interface_items(&["file".to_owned()]);
        assert_eq!(type_name("host", &taken), "Host_");
        assert_eq!(type_name("host-file", &taken), "HostFile_");
        assert_eq!(type_name("result", &taken), "Result");
        let mut names = Names::reserving(&["new", "drop"]);
        assert_eq!(names.take("new".into()), "new_");
        assert_eq!(names.take("new".into()), "new__");
        assert_eq!(names.take("get".into()), "get");
    }

    #[test]
    fn exported_functions_have_distinct_fields() {
        assert_ne!(func_field(0, "[method]r.m"), func_field(1, "method-r-m"));
    }
}
