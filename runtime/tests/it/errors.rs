//! Errors that say where: the export or import, the path to the value (`arg 1 [2] .name`) and the guest address
//! of every lift and lower failure; link errors that name the import once; a host result that was never set.

use crate::both;
use crate::common::*;
use component_layer::{Error, ErrorKind, PathSegment, Trap, Value};

/// `item` is `record { name: string, c: char }` (name@0, c@8, size 12, align 4), imported so that both imports
/// and exports can name it.
const ITEM: &str = r#"(type $item' (record (field "name" string) (field "c" char)))
    (import "item" (type $item (eq $item')))"#;

/// Exports over `list<item>`: `items(ptr, len)` lifts the list the host points at; `take(n, items)` and
/// `take-opt(o)` take arguments to lower.
fn exports() -> String {
    guest(
        r#"(func (export "take3") (param i32 i32 i32))
           (func (export "take4") (param i32 i32 i32 i32))"#,
        &format!(
            r#"{ITEM}
            (func (export "items") (param "ptr" u32) (param "len" u32) (result (list $item))
              (canon lift (core func $i "ret2") (memory $mem)))
            (func (export "take") (param "n" u32) (param "items" (list $item))
              (canon lift (core func $i "take3") (memory $mem) (realloc $realloc)))
            (func (export "take-opt") (param "o" (option (tuple u8 string)))
              (canon lift (core func $i "take4") (memory $mem) (realloc $realloc)))"#
        ),
    )
}

/// A component whose export `run(ptr, len)` passes the list of items at `ptr` to its import `log`, and whose
/// export `get` calls its import `get: func() -> string`.
fn imports() -> String {
    guest_with_imports(
        &format!(
            r#"{ITEM}
            (import "log" (func $log (param "items" (list $item))))
            (import "get" (func $get (result string)))
            (core func $log-lower (canon lower (func $log) (memory $mem)))
            (core func $get-lower (canon lower (func $get) (memory $mem) (realloc $realloc)))
            (core instance $host (export "log" (func $log-lower)) (export "get" (func $get-lower)))"#
        ),
        r#"(import "host" "log" (func $log (param i32 i32)))
           (import "host" "get" (func $get (param i32)))"#,
        r#"(func (export "run") (param i32 i32) (call $log (local.get 0) (local.get 1)))
           (func (export "get") (call $get (i32.const 0x80)))"#,
        r#"(func (export "run") (param "ptr" u32) (param "len" u32) (canon lift (core func $i "run")))
           (func (export "get") (canon lift (core func $i "get")))"#,
    )
}

/// Two items at 0x200 (names "ab" at 0x300): the second one's char is `bad_char`, its name at `name_ptr`.
fn items_data(name_ptr: u32, bad_char: u32) -> Vec<u8> {
    let mut data = le32(&[0x300, 2, 'x' as u32, name_ptr, 2, bad_char]);
    data.resize(0x100, 0);
    data.extend(b"ab");
    data
}

fn item(name: Value, c: char) -> Value {
    Value::Record(vec![("name".into(), name), ("c".into(), Value::Char(c))])
}

/// The error's message and its location's parts.
fn located(e: &Error) -> (String, &str, bool, Vec<PathSegment>, Option<u32>) {
    let l = e.location().unwrap_or_else(|| panic!("no location: {e}"));
    (e.to_string(), l.func(), l.is_import(), l.path().to_vec(), l.offset())
}

/// Lifting a result: the path inside the result and the address of the bad char, or of the string pointer that
/// is out of bounds.
#[test]
fn lift_errors_name_the_export_the_path_and_the_address() {
    both!(|engine| {
        let c = component(&engine, &exports());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &items_data(0x300, 0xd800));
        let e = g.try_call("items", &[Value::U32(0x200), Value::U32(2)]).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::InvalidChar));
        let (msg, func, import, path, offset) = located(&e);
        assert_eq!(msg, "invalid `char` bit pattern\n    in export `items`: result [1] .c (guest memory offset 0x214)");
        assert_eq!((func, import, offset), ("items", false, Some(0x214)));
        assert_eq!(path, [PathSegment::Result, PathSegment::Index(1), PathSegment::Field("c".into())]);

        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &items_data(MEM - 1, 'y' as u32));
        let e = g.try_call("items", &[Value::U32(0x200), Value::U32(2)]).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::OutOfBounds));
        let offset = format!("{:#x}", MEM - 1);
        assert!(e
            .to_string()
            .ends_with(&format!("in export `items`: result [1] .name (guest memory offset {offset})")));

        // The list itself out of bounds: its pointer.
        let mut g = Guest::new(&engine, &c);
        let e = g.try_call("items", &[Value::U32(MEM - 12), Value::U32(2)]).unwrap_err();
        assert_eq!(located(&e).4, Some(MEM - 12), "{e}");
        assert!(e.to_string().ends_with("in export `items`: result (guest memory offset 0xfff4)"), "{e}");
    });
}

/// Lowering arguments: the host's value of the wrong type, by parameter and path; no address (the host's value
/// is at fault, not memory).
#[test]
fn lower_errors_name_the_argument_and_the_path() {
    both!(|engine| {
        let c = component(&engine, &exports());
        let mut g = Guest::new(&engine, &c);
        let items = Value::List(vec![item(s("a"), 'a'), item(s("b"), 'b'), item(Value::Bool(true), 'c')].into());
        let e = g.try_call("take", &[Value::U32(1), items]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
        assert_eq!(e.to_string(), "type mismatch: expected string, found bool\n    in export `take`: arg 1 [2] .name");
        assert_eq!(located(&e).4, None);

        let mut g = Guest::new(&engine, &c);
        let bad = some(Value::Tuple(vec![Value::U8(1), Value::U8(2)]));
        let e = g.try_call("take-opt", &[bad]).unwrap_err();
        assert_eq!(e.to_string(), "type mismatch: expected string, found u8\n    in export `take-opt`: arg 0 .some .1");
    });
}

/// A failure in an import's arguments is located at the import; the export that called it adds a line.
#[test]
fn import_errors_name_the_import_and_the_export_that_called_it() {
    both!(|engine| {
        let c = component(&engine, &imports());
        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        l.root().func_new("get", |_, _, _| Ok(())).unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.poke(0x200, &items_data(0x300, 0x11_0000));
        let e = g.try_call("run", &[Value::U32(0x200), Value::U32(2)]).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::InvalidChar));
        let (msg, func, import, path, offset) = located(&e);
        assert_eq!(
            msg,
            "invalid `char` bit pattern\n    in import `log`: arg 0 [1] .c (guest memory offset 0x214)\n    \
             in export `run`"
        );
        assert_eq!((func, import, offset), ("log", true, Some(0x214)));
        assert_eq!(path, [PathSegment::Arg(0), PathSegment::Index(1), PathSegment::Field("c".into())]);
        assert_eq!(e.contexts(), ["in export `run`"]);
    });
}

/// A `func_new` host that returns without writing its result is told so, rather than about the placeholder's
/// type; a result of the wrong type is a type mismatch at the import's result.
#[test]
fn a_host_result_that_was_never_set_is_reported_as_such() {
    both!(|engine| {
        let c = component(&engine, &imports());
        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        l.root().func_new("get", |_, _, _| Ok(())).unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        let e = g.try_call("get", &[]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
        assert_eq!(
            e.to_string(),
            "the host function did not set its result\n    in import `get`: result\n    in export `get`"
        );

        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        l.root()
            .func_new("get", |_, _, results| {
                results[0] = Value::U32(1);
                Ok(())
            })
            .unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        let e = g.try_call("get", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "type mismatch: expected string, found u32\n    in import `get`: result\n    in export `get`"
        );

        // The placeholder is never mistaken for a written result: writing a value of the right type works.
        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        l.root()
            .func_new("get", |_, _, results| {
                results[0] = s("fine");
                Ok(())
            })
            .unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.call0("get", &[]);
    });
}

/// A trap in the callee's own code is located at the export, with an empty path.
#[test]
fn core_traps_are_located_at_the_export() {
    both!(|engine| {
        let c = component(
            &engine,
            &guest(
                r#"(func (export "boom") unreachable)"#,
                r#"(func (export "boom") (canon lift (core func $i "boom")))"#,
            ),
        );
        let mut g = Guest::new(&engine, &c);
        let e = g.try_call("boom", &[]).unwrap_err();
        let l = e.location().unwrap();
        assert_eq!((l.func(), l.path(), l.offset()), ("boom", &[][..], None));
        assert!(e.to_string().ends_with("\n    in export `boom`"), "{e}");
    });
}

/// Link errors say "link error" once, and name the import (inside an instance as `instance#name`).
#[test]
fn link_errors_name_the_import_once() {
    both!(|engine| {
        let c = component(&engine, &imports());
        let mut l = linker();
        l.root().func_new("get", |_, _, _| Ok(())).unwrap();
        let ty = component_layer::types::FuncType::new([("x", component_layer::types::ValueType::U32)], None);
        l.root().func_new_typed("log", ty, |_, _, _| Ok(())).unwrap();
        let e = l.instantiate(&mut store(&engine), &c).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e.kind(), ErrorKind::Link(_)), "{msg}");
        assert_eq!(msg.matches("link error").count(), 1, "{msg}");
        assert!(
            msg.starts_with("link error: import `log`: expected function of type `func(items: list<record"),
            "{msg}"
        );

        let mut l = linker();
        l.root().func_new("log", |_, _, _| Ok(())).unwrap();
        l.root().func_wrap("get", |_, (): ()| Ok((1u32,))).unwrap();
        let msg = l.instantiate(&mut store(&engine), &c).unwrap_err().to_string();
        assert_eq!(msg.matches("link error").count(), 1, "{msg}");
        assert!(msg.starts_with("link error: import `get`: function of type `func() -> string`"), "{msg}");
    });
}

#[derive(component_layer::ComponentType, component_layer::Lift, component_layer::Lower, Debug)]
#[component(record)]
struct Item {
    name: String,
    c: char,
}

/// The typed API locates its failures as the dynamic one does: a typed call's result and arguments, a typed host
/// function's arguments (through derived records, lists and options) and its result.
#[test]
fn typed_errors_say_where_as_dynamic_ones_do() {
    both!(|engine| {
        let c = component(&engine, &exports());
        let mut g = Guest::new(&engine, &c);
        g.poke(0x200, &items_data(0x300, 0xd800));
        let items = g.inst.get_func("items").unwrap().typed::<(u32, u32), (Vec<Item>,)>().unwrap();
        let e = items.call(&mut g.store, (0x200, 2)).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::InvalidChar));
        assert_eq!(
            e.to_string(),
            "invalid `char` bit pattern\n    in export `items`: result [1] .c (guest memory offset 0x214)"
        );

        let mut g = Guest::new(&engine, &c);
        let take = g.inst.get_func("take-opt").unwrap().typed::<(Option<(u8, String)>,), ()>().unwrap();
        g.force_realloc(MEM);
        let e = take.call(&mut g.store, (Some((1, "x".into())),)).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::ReallocOutOfBounds), "{e}");
        let (_, func, import, path, offset) = located(&e);
        assert_eq!((func, import, offset), ("take-opt", false, Some(MEM)));
        assert_eq!(path, [PathSegment::Arg(0), PathSegment::Some, PathSegment::Element(1)], "{e}");

        let c = component(&engine, &imports());
        let mut l = linker();
        l.root().func_wrap("log", |_, (_items,): (Vec<Item>,)| Ok(())).unwrap();
        l.root().func_wrap("get", |_, (): ()| Ok((String::from("ok"),))).unwrap();
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.poke(0x200, &items_data(0x300, 0x11_0000));
        let e = g.try_call("run", &[Value::U32(0x200), Value::U32(2)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `char` bit pattern\n    in import `log`: arg 0 [1] .c (guest memory offset 0x214)\n    \
             in export `run`"
        );
        // A trap poisons the store: a fresh instance for the result.
        let mut g = Guest::with_linker(&engine, &c, &l);
        g.force_realloc(MEM);
        let e = g.try_call("get", &[]).unwrap_err();
        assert_eq!(e.as_trap(), Some(&Trap::ReallocOutOfBounds), "{e}");
        assert!(
            e.to_string().ends_with("\n    in import `get`: result (guest memory offset 0x10000)\n    in export `get`"),
            "{e}"
        );
    });
}

/// A component that imports `output-stream` from `a:b/streams` and uses it, through an `(eq …)` alias, in
/// `a:b/io`; and exports a function and the record type `item` over it.
const STREAMS: &str = r#"(component
    (import "a:b/streams" (instance $s (export "output-stream" (type (sub resource)))))
    (alias export $s "output-stream" (type $os))
    (import "a:b/io" (instance (export "output-stream" (type (eq $os)))))
    (type $item' (record (field "name" string) (field "out" (own $os))))
    (import "item" (type $item (eq $item')))
    (import "write" (func $write (param "to" (borrow $os)) (param "item" $item) (result (own $os))))
    (export "write2" (func $write))
    (export "item2" (type $item))
)"#;

/// Reflection names resources by the import or export that first names them, and type exports show their type.
#[test]
fn reflection_names_resources_and_shows_exported_types() {
    both!(|engine| {
        let c = component(&engine, STREAMS);
        let write = c.export_func_type(&["write2"]).unwrap();
        assert_eq!(
            write.to_string(),
            "func(to: borrow<output-stream>, item: record { name: string, out: own<output-stream> }) -> \
             own<output-stream>"
        );
        let exports = c.exports();
        let item = exports.iter().find(|(n, _)| n == "item2").map(|(_, t)| t.clone());
        let Some(component_layer::types::ItemType::Type(Some(ty))) = item else { panic!("{exports:?}") };
        assert_eq!(ty.to_string(), "record { name: string, out: own<output-stream> }");
    });
}

/// A resource defined under the interface that only refers to it (`a:b/io`) rather than the one that defines it
/// (`a:b/streams`): the link error names both.
#[test]
fn a_resource_under_the_wrong_interface_names_the_right_one() {
    both!(|engine| {
        let c = component(&engine, STREAMS);
        let mut l = linker();
        let ty = component_layer::ResourceType::host_dynamic(1);
        // `a:b/streams` exists (with its functions, say) but lacks the resource.
        l.instance("a:b/streams").unwrap();
        l.instance("a:b/io").unwrap().resource_type("output-stream", ty).unwrap();
        l.root().func_new("write", |_, _, _| Ok(())).unwrap();
        let e = l.instantiate(&mut store(&engine), &c).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Link(_)), "{e}");
        assert_eq!(
            e.to_string(),
            "link error: resource type `a:b/streams#output-stream` is not defined in the linker; it is defined \
             under `a:b/io#output-stream`, which the component declares equal to `a:b/streams#output-stream`: \
             define it under `a:b/streams#output-stream`"
        );
    });
}
