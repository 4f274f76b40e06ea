//! The keys of `with` and `imports`: which WIT items a string names.
//!
//! The syntax is wasmtime's, so that options written for its `bindgen!` mean the same here. An imported
//! interface is named by its id with or without version (`wasi:io/poll@0.2.12`, `wasi:io/poll`), or by its
//! package (`wasi:io@0.2.12`, `wasi:io`) or namespace (`wasi`) — `with` then maps the interface to the module of
//! that name below the given path. A function is named by its interface's id and its WIT name
//! (`wasi:io/poll.poll`, `wasi:io/streams.[method]output-stream.write`, `wasi:io/poll.[drop]pollable`), a
//! root function by its name alone, and every function of an interface by the interface's id. A type is named
//! by its interface's id and its name (`wasi:io/poll.pollable`; `wasi:io/poll/pollable` is accepted too). An
//! interface imported under a plain name (`import x: interface { … }`) is named by that name. The most
//! specific key is tried first.

use wit_parser::{InterfaceId, Resolve, WorldKey};

use super::names::snake;

/// The interface's id without its version (`a:b/c@1.0.0` → `a:b/c`).
fn unversioned(id: &str) -> &str {
    id.split('@').next().unwrap_or(id)
}

/// Keys naming interface `id` (imported under `key`), most specific first, each with the path from the named
/// module down to the interface's module.
pub fn interface_keys(resolve: &Resolve, key: &WorldKey, id: InterfaceId) -> Vec<(String, Vec<String>)> {
    let iface = &resolve.interfaces[id];
    let (Some(name), Some(pkg)) = (&iface.name, iface.package) else {
        return match key {
            WorldKey::Name(n) => vec![(n.clone(), Vec::new())],
            WorldKey::Interface(_) => Vec::new(),
        };
    };
    let pkg = &resolve.packages[pkg].name;
    let Some(full) = resolve.id_of(id) else { return Vec::new() };
    let mut unversioned_pkg = pkg.clone();
    unversioned_pkg.version = None;
    vec![
        (full.clone(), Vec::new()),
        (unversioned(&full).to_owned(), Vec::new()),
        (pkg.to_string(), vec![snake(name)]),
        (unversioned_pkg.to_string(), vec![snake(name)]),
        (pkg.namespace.clone(), vec![snake(&pkg.name), snake(name)]),
    ]
}

/// Keys naming the imported function or resource destructor `item` (`f`, `[method]r.m`, `[drop]r`) of
/// interface `id` imported under `key`, or of the world (`None`), most specific first.
pub fn function_keys(resolve: &Resolve, owner: Option<(&WorldKey, InterfaceId)>, item: &str) -> Vec<String> {
    let Some((key, id)) = owner else { return vec![item.to_owned()] };
    match (key, resolve.id_of(id)) {
        (_, Some(full)) => {
            let bare = unversioned(&full).to_owned();
            vec![format!("{full}.{item}"), format!("{bare}.{item}"), full, bare]
        }
        (WorldKey::Name(n), None) => vec![format!("{n}.{item}"), n.clone()],
        (WorldKey::Interface(_), None) => Vec::new(),
    }
}

/// Keys naming the type `name` of interface `id`.
pub fn type_keys(resolve: &Resolve, id: InterfaceId, name: &str) -> Vec<String> {
    let Some(full) = resolve.id_of(id) else { return Vec::new() };
    let bare = unversioned(&full).to_owned();
    vec![format!("{full}.{name}"), format!("{bare}.{name}"), format!("{full}/{name}"), format!("{bare}/{name}")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_specific_to_general() {
        let mut resolve = Resolve::default();
        let pkg = resolve
            .push_str("t.wit", "package a:b@1.0.0; interface c { f: func(); record r { x: u8 } } world w { import c; }")
            .unwrap();
        let id = resolve.packages[pkg].interfaces["c"];
        let keys: Vec<String> =
            interface_keys(&resolve, &WorldKey::Interface(id), id).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a:b/c@1.0.0", "a:b/c", "a:b@1.0.0", "a:b", "a"]);
        assert_eq!(
            function_keys(&resolve, Some((&WorldKey::Interface(id), id)), "f"),
            ["a:b/c@1.0.0.f", "a:b/c.f", "a:b/c@1.0.0", "a:b/c"]
        );
        assert_eq!(type_keys(&resolve, id, "r")[1], "a:b/c.r");
    }
}
