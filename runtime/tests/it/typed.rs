//! The typed API with derived types: records, variants, enums and flags crossing in both directions (a typed call
//! lowers them flat into a guest export, which passes them flat to a typed host function, whose result the guest
//! returns through memory), nested in lists, options and results; renames and kebab-case names; type checks that
//! name the mismatch; `&str`, `&[T]` and `Box<str>`; `ResourceAny` in typed calls; and a typed scalar host call
//! that allocates nothing.

use component_layer::{
    flags, ComponentType, ErrorKind, Lift, Linker, Lower, ResourceAny, Store, Trap, WasmList, WasmStr,
};
use wasm_runtime_layer::backend::WasmEngine;

use crate::both;
use crate::common::*;

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(record)]
struct Point {
    x: u32,
    #[component(name = "y-coord")]
    y: f64,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(variant)]
enum Shape {
    #[component(name = "circle")]
    Circle(f32),
    Square(u32),
    Empty,
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq)]
#[component(enum)]
enum Color {
    Red,
    Green,
    DarkBlue,
}

flags! {
    Perms {
        #[component(name = "read")]
        const READ;
        const WRITE;
        const EXEC_ALL;
    }
}

#[derive(ComponentType, Lift, Lower, Debug, Clone, PartialEq)]
#[component(record)]
struct Bag {
    name: String,
    points: Vec<Point>,
    shape: Option<Shape>,
    res: Result<Color, String>,
    perms: Perms,
}

/// The WIT types above, imported (so that imports and exports can name them).
const TYPES: &str = r#"
    (type $point' (record (field "x" u32) (field "y-coord" f64)))
    (import "point" (type $point (eq $point')))
    (type $shape' (variant (case "circle" f32) (case "square" u32) (case "empty")))
    (import "shape" (type $shape (eq $shape')))
    (type $color' (enum "red" "green" "dark-blue"))
    (import "color" (type $color (eq $color')))
    (type $perms' (flags "read" "write" "exec-all"))
    (import "perms" (type $perms (eq $perms')))
    (type $bag' (record (field "name" string) (field "points" (list $point)) (field "shape" (option $shape))
                        (field "res" (result $color (error string))) (field "perms" $perms)))
    (import "bag" (type $bag (eq $bag')))
"#;

/// Every export `X` of a derived type passes its flat arguments to the import `echo-X` (a host function) and
/// returns that import's result, which the host wrote at 0x200. `lists` and `opts` echo lists through memory
/// without the host; `len` and `sum`-like probes read `&str`/`&[T]` arguments; `add` calls the scalar host
/// function `add`.
fn wat() -> String {
    let pre = format!(
        r#"
        {TYPES}
        (import "echo-point" (func $echo-point (param "p" $point) (result $point)))
        (import "echo-shape" (func $echo-shape (param "s" $shape) (result $shape)))
        (import "echo-color" (func $echo-color (param "c" $color) (result $color)))
        (import "echo-perms" (func $echo-perms (param "p" $perms) (result $perms)))
        (import "echo-bag" (func $echo-bag (param "b" $bag) (result $bag)))
        (import "add" (func $add (param "a" u32) (param "b" u32) (result u32)))
        (import "measure" (func $measure (param "s" string) (param "xs" (list u32)) (result u64)))
        (core func $measure-c (canon lower (func $measure) (memory $mem)))
        (core func $echo-point-c (canon lower (func $echo-point) (memory $mem) (realloc $realloc)))
        (core func $echo-shape-c (canon lower (func $echo-shape) (memory $mem) (realloc $realloc)))
        (core func $echo-color-c (canon lower (func $echo-color)))
        (core func $echo-perms-c (canon lower (func $echo-perms)))
        (core func $echo-bag-c (canon lower (func $echo-bag) (memory $mem) (realloc $realloc)))
        (core func $add-c (canon lower (func $add)))
        (core instance $host
          (export "echo-point" (func $echo-point-c))
          (export "echo-shape" (func $echo-shape-c))
          (export "echo-color" (func $echo-color-c))
          (export "echo-perms" (func $echo-perms-c))
          (export "echo-bag" (func $echo-bag-c))
          (export "add" (func $add-c))
          (export "measure" (func $measure-c)))
        "#
    );
    let core_imports = r#"
        (import "host" "echo-point" (func $echo-point (param i32 f64 i32)))
        (import "host" "echo-shape" (func $echo-shape (param i32 i32 i32)))
        (import "host" "echo-color" (func $echo-color (param i32) (result i32)))
        (import "host" "echo-perms" (func $echo-perms (param i32) (result i32)))
        (import "host" "echo-bag" (func $echo-bag (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
        (import "host" "add" (func $add (param i32 i32) (result i32)))
        (import "host" "measure" (func $measure (param i32 i32 i32 i32) (result i64)))
    "#;
    let core = r#"
        (func (export "relay-point") (param i32 f64) (result i32)
          (call $echo-point (local.get 0) (local.get 1) (i32.const 0x200)) (i32.const 0x200))
        (func (export "relay-shape") (param i32 i32) (result i32)
          (call $echo-shape (local.get 0) (local.get 1) (i32.const 0x200)) (i32.const 0x200))
        (func (export "relay-color") (param i32) (result i32) (call $echo-color (local.get 0)))
        (func (export "relay-perms") (param i32) (result i32) (call $echo-perms (local.get 0)))
        (func (export "relay-bag") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
          (call $echo-bag (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
            (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10) (i32.const 0x200))
          (i32.const 0x200))
        (func (export "add") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
        (func (export "len") (param i32 i32) (result i32) (local.get 1))
        (func (export "measure") (param i32 i32 i32 i32) (result i64)
          (call $measure (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
        (func (export "add-guest") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    "#;
    let items = r#"
        (export $point-e "point" (type $point))
        (export $shape-e "shape" (type $shape))
        (export $color-e "color" (type $color))
        (export $perms-e "perms" (type $perms))
        (export $bag-e "bag" (type $bag))
        (func (export "relay-point") (param "p" $point-e) (result $point-e)
          (canon lift (core func $i "relay-point") (memory $mem) (realloc $realloc)))
        (func (export "relay-shape") (param "s" $shape-e) (result $shape-e)
          (canon lift (core func $i "relay-shape") (memory $mem) (realloc $realloc)))
        (func (export "relay-color") (param "c" $color-e) (result $color-e) (canon lift (core func $i "relay-color")))
        (func (export "relay-perms") (param "p" $perms-e) (result $perms-e) (canon lift (core func $i "relay-perms")))
        (func (export "relay-bag") (param "b" $bag-e) (result $bag-e)
          (canon lift (core func $i "relay-bag") (memory $mem) (realloc $realloc)))
        (func (export "bags") (param "xs" (list $bag-e)) (result (list $bag-e))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "opts") (param "xs" (list (option $shape-e))) (result (list (option $shape-e)))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "results") (param "xs" (list (result $point-e (error $color-e))))
          (result (list (result $point-e (error $color-e))))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "strings") (param "xs" (list string)) (result (list string))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "u32s") (param "xs" (list u32)) (result (list u32))
          (canon lift (core func $i "ret2") (memory $mem) (realloc $realloc)))
        (func (export "load-shapes") (param "ptr" u32) (param "len" u32) (result (list $shape-e))
          (canon lift (core func $i "ret2") (memory $mem)))
        (func (export "load-colors") (param "ptr" u32) (param "len" u32) (result (list $color-e))
          (canon lift (core func $i "ret2") (memory $mem)))
        (func (export "load-perms") (param "ptr" u32) (param "len" u32) (result (list $perms-e))
          (canon lift (core func $i "ret2") (memory $mem)))
        (func (export "len") (param "s" string) (result u32) (canon lift (core func $i "len") (memory $mem) (realloc $realloc)))
        (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
        (func (export "measure") (param "s" string) (param "xs" (list u32)) (result u64)
          (canon lift (core func $i "measure") (memory $mem) (realloc $realloc)))
        (func (export "measure-raw") (param "sp" u32) (param "sl" u32) (param "xp" u32) (param "xl" u32) (result u64)
          (canon lift (core func $i "measure")))
        (func (export "add-guest") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add-guest")))
    "#;
    guest_with_imports(&pre, core_imports, core, items)
}

/// The host functions: each changes its argument recognisably, so a round trip shows both directions.
fn host<E: WasmEngine>() -> Linker<(), E> {
    let mut l = linker::<E>();
    let root = l.root();
    root.func_wrap("echo-point", |_, (p,): (Point,)| Ok((Point { x: p.x + 1, y: p.y * 2.0 },))).unwrap();
    root.func_wrap("echo-shape", |_, (s,): (Shape,)| {
        Ok((match s {
            Shape::Circle(r) => Shape::Circle(r + 0.5),
            Shape::Square(n) => Shape::Square(n * 10),
            Shape::Empty => Shape::Empty,
        },))
    })
    .unwrap();
    root.func_wrap("echo-color", |_, (c,): (Color,)| {
        Ok((match c {
            Color::Red => Color::Green,
            Color::Green => Color::DarkBlue,
            Color::DarkBlue => Color::Red,
        },))
    })
    .unwrap();
    root.func_wrap("echo-perms", |_, (p,): (Perms,)| Ok((!p,))).unwrap();
    root.func_wrap("echo-bag", |_, (mut b,): (Bag,)| {
        b.name = b.name.to_uppercase();
        b.points.push(Point { x: 99, y: -1.0 });
        b.perms |= Perms::EXEC_ALL;
        Ok((b,))
    })
    .unwrap();
    root.func_wrap("add", |_, (a, b): (u32, u32)| Ok((a.wrapping_add(b),))).unwrap();
    // Views: the string's characters (times 10^6) plus the sum of the list, read in chunks into a stack buffer.
    root.func_wrap("measure", |ctx, (s, xs): (WasmStr, WasmList<u32>)| {
        let chars = s.to_str(&ctx)?.chars().count() as u64;
        let mut buf = [0u32; 64];
        let mut sum = 0u64;
        let mut at = 0;
        while at < xs.len() {
            let n = buf.len().min(xs.len() - at);
            xs.read_into(&ctx, at, &mut buf[..n])?;
            sum += buf[..n].iter().map(|&x| u64::from(x)).sum::<u64>();
            at += n;
        }
        anyhow::ensure!(xs.get(&ctx, xs.len()).is_none(), "read past the end");
        if let Some(first) = xs.get(&ctx, 0) {
            anyhow::ensure!(first? == xs.to_vec(&ctx)?[0], "get and to_vec disagree");
        }
        Ok((chars * 1_000_000 + sum,))
    })
    .unwrap();
    l
}

fn bag(name: &str, shape: Option<Shape>, res: Result<Color, String>) -> Bag {
    Bag {
        name: name.into(),
        points: vec![Point { x: 1, y: 0.5 }, Point { x: 2, y: 1.5 }],
        shape,
        res,
        perms: Perms::READ,
    }
}

/// Records, variants (payloads joined into one slot), enums and flags cross from Rust into the guest (flat),
/// into a typed host function (flat), back into the guest (through memory) and out to Rust (from memory).
#[test]
fn derived_types_round_trip_through_typed_host_functions() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = |g: &Guest<_>, name: &str| g.inst.get_func(name).unwrap();

        let point = f(&g, "relay-point").typed::<(Point,), (Point,)>().unwrap();
        assert_eq!(point.call(&mut g.store, (Point { x: 1, y: 2.5 },)).unwrap().0, Point { x: 2, y: 5.0 });

        let shape = f(&g, "relay-shape").typed::<(Shape,), (Shape,)>().unwrap();
        assert_eq!(shape.call(&mut g.store, (Shape::Circle(1.25),)).unwrap().0, Shape::Circle(1.75));
        assert_eq!(shape.call(&mut g.store, (Shape::Square(7),)).unwrap().0, Shape::Square(70));
        assert_eq!(shape.call(&mut g.store, (Shape::Empty,)).unwrap().0, Shape::Empty);

        let color = f(&g, "relay-color").typed::<(Color,), (Color,)>().unwrap();
        assert_eq!(color.call(&mut g.store, (Color::Green,)).unwrap().0, Color::DarkBlue);
        assert_eq!(color.call(&mut g.store, (Color::DarkBlue,)).unwrap().0, Color::Red);

        let perms = f(&g, "relay-perms").typed::<(Perms,), (Perms,)>().unwrap();
        assert_eq!(perms.call(&mut g.store, (Perms::READ,)).unwrap().0, Perms::WRITE | Perms::EXEC_ALL);
        assert_eq!(perms.call(&mut g.store, (Perms::empty(),)).unwrap().0, Perms::all());
    });
}

/// A record nesting a list of records, an option of a variant, a result of an enum or a string and flags
/// (eleven flat values) crosses the same way, strings and lists allocated with `realloc` on each side.
#[test]
fn nested_derived_types_round_trip() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let f = g.inst.get_func("relay-bag").unwrap().typed::<(Bag,), (Bag,)>().unwrap();
        for b in [
            bag("héllo", Some(Shape::Circle(3.0)), Ok(Color::Green)),
            bag("", None, Err("bad".into())),
            bag("x", Some(Shape::Empty), Err(String::new())),
        ] {
            let mut want = b.clone();
            want.name = want.name.to_uppercase();
            want.points.push(Point { x: 99, y: -1.0 });
            want.perms |= Perms::EXEC_ALL;
            assert_eq!(f.call_ref(&mut g.store, &(b,)).unwrap().0, want);
        }
    });
}

/// Derived types as list elements, inside options and results, stored and loaded through guest memory.
#[test]
fn derived_types_nested_in_lists_options_results() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let bags = vec![bag("a", Some(Shape::Square(5)), Ok(Color::Red)), bag("b", None, Err("e".into()))];
        let f = g.inst.get_func("bags").unwrap().typed::<(Vec<Bag>,), (Vec<Bag>,)>().unwrap();
        assert_eq!(f.call_ref(&mut g.store, &(bags.clone(),)).unwrap().0, bags);
        // A borrowed slice lowers without an owned copy.
        let f = g.inst.get_func("bags").unwrap().typed::<(&[Bag],), (Vec<Bag>,)>().unwrap();
        assert_eq!(f.call(&mut g.store, (&bags[..],)).unwrap().0, bags);

        let opts = vec![Some(Shape::Circle(-0.0)), None, Some(Shape::Empty), Some(Shape::Square(u32::MAX))];
        let f = g.inst.get_func("opts").unwrap().typed::<(Vec<Option<Shape>>,), (Vec<Option<Shape>>,)>().unwrap();
        let back = f.call_ref(&mut g.store, &(opts.clone(),)).unwrap().0;
        assert_eq!(back, opts);
        assert!(matches!(back[0], Some(Shape::Circle(z)) if z.to_bits() == (-0.0f32).to_bits()));

        type R = Result<Point, Color>;
        let results: Vec<R> = vec![Ok(Point { x: 3, y: f64::MAX }), Err(Color::DarkBlue), Err(Color::Red)];
        let f = g.inst.get_func("results").unwrap().typed::<(Vec<R>,), (Vec<R>,)>().unwrap();
        assert_eq!(f.call_ref(&mut g.store, &(results.clone(),)).unwrap().0, results);
    });
}

/// Lifting derived types from memory checks what the dynamic API checks: an out-of-range variant or enum
/// discriminant traps; flag bits beyond the last label are ignored.
#[test]
fn derived_types_check_discriminants() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let raw = |bytes: &[u8]| {
            let mut g = Guest::with_linker(&engine, &c, &host());
            g.poke(0x300, bytes);
            g
        };
        // `shape`: discriminant u8 at 0, payload at 4.
        let mut g = raw(&[0, 0, 0, 0, 0, 0, 0xc0, 0x3f]);
        let f = g.inst.get_func("load-shapes").unwrap().typed::<(u32, u32), (Vec<Shape>,)>().unwrap();
        assert_eq!(f.call(&mut g.store, (0x300, 1)).unwrap().0, vec![Shape::Circle(1.5)]);
        let mut g = raw(&[3, 0, 0, 0, 0, 0, 0, 0]);
        let f = g.inst.get_func("load-shapes").unwrap().typed::<(u32, u32), (Vec<Shape>,)>().unwrap();
        assert_eq!(f.call(&mut g.store, (0x300, 1)).unwrap_err().as_trap(), Some(&Trap::InvalidDiscriminant));

        let mut g = raw(&[2, 3]);
        let f = g.inst.get_func("load-colors").unwrap().typed::<(u32, u32), (Vec<Color>,)>().unwrap();
        assert_eq!(f.call(&mut g.store, (0x300, 1)).unwrap().0, vec![Color::DarkBlue]);
        assert_eq!(f.call(&mut g.store, (0x300, 2)).unwrap_err().as_trap(), Some(&Trap::InvalidDiscriminant));

        let mut g = raw(&[0xff]);
        let f = g.inst.get_func("load-perms").unwrap().typed::<(u32, u32), (Vec<Perms>,)>().unwrap();
        assert_eq!(f.call(&mut g.store, (0x300, 1)).unwrap().0, vec![Perms::all()]);
    });
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(record)]
struct PointMisnamed {
    x: u32,
    y: f64,
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(record)]
struct PointSwapped {
    #[component(name = "y-coord")]
    y: f64,
    x: u32,
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(record)]
struct PointWide {
    x: u64,
    #[component(name = "y-coord")]
    y: f64,
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(variant)]
enum ShapeShort {
    Circle(f32),
    Square(u32),
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(variant)]
enum ShapeNoPayload {
    Circle,
    Square(u32),
    Empty,
}

#[derive(ComponentType, Lift, Lower, Debug)]
#[component(enum)]
enum ColorMisnamed {
    Red,
    Green,
    Blue,
}

flags! {
    PermsShort {
        const READ;
        const WRITE;
    }
}

fn typecheck_error<P, R>(g: &Guest<impl WasmEngine>, name: &str) -> String
where
    P: component_layer::ComponentParams,
    R: component_layer::ComponentResults,
{
    match g.inst.get_func(name).unwrap().typed::<P, R>() {
        Ok(_) => panic!("`{name}` should not type-check"),
        Err(e) => {
            assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
            e.to_string()
        }
    }
}

/// Type checks run when a `TypedFunc` is created and name what differs: a field's name or position, a field's
/// type, a missing case, a payload, an enum case, a flag, and where it is nested.
#[test]
fn type_check_failures_name_the_mismatch() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let g = Guest::with_linker(&engine, &c, &host());
        let cases = [
            (
                typecheck_error::<(PointMisnamed,), (Point,)>(&g, "relay-point"),
                "field 1 of record `PointMisnamed` is named `y` in Rust, `y-coord` in the component type",
            ),
            (
                typecheck_error::<(PointSwapped,), (Point,)>(&g, "relay-point"),
                "field 0 of record `PointSwapped` is named `y-coord` in Rust, `x` in the component type",
            ),
            (
                typecheck_error::<(PointWide,), (Point,)>(&g, "relay-point"),
                "Rust type `u64` expects u64, component type is `u32`",
            ),
            (typecheck_error::<(PointWide,), (Point,)>(&g, "relay-point"), "in field `x` of record `PointWide`"),
            (typecheck_error::<(Point,), (PointWide,)>(&g, "relay-point"), "in the result"),
            (typecheck_error::<(PointWide,), (Point,)>(&g, "relay-point"), "in parameter 0"),
            (
                typecheck_error::<(ShapeShort,), (Shape,)>(&g, "relay-shape"),
                "variant `ShapeShort` has 2 cases in Rust, 3 in the component type",
            ),
            (
                typecheck_error::<(ShapeNoPayload,), (Shape,)>(&g, "relay-shape"),
                "case `circle` of variant `ShapeNoPayload` has no payload in Rust, `f32` in the component type",
            ),
            (
                typecheck_error::<(ColorMisnamed,), (Color,)>(&g, "relay-color"),
                "case 2 of enum `ColorMisnamed` is named `blue` in Rust, `dark-blue` in the component type",
            ),
            (
                typecheck_error::<(PermsShort,), (Perms,)>(&g, "relay-perms"),
                "flags `PermsShort` has 2 flags in Rust, 3 in the component type",
            ),
            (
                typecheck_error::<(Color,), (Color,)>(&g, "relay-shape"),
                "Rust type `Color` expects an enum, component type is `variant { circle(f32), square(u32), empty }`",
            ),
            (
                typecheck_error::<(Vec<PointMisnamed>,), (Vec<Bag>,)>(&g, "bags"),
                "field 0 of record `PointMisnamed` is named `x` in Rust, `name` in the component type",
            ),
            (typecheck_error::<(Vec<Bag>,), (Vec<PointMisnamed>,)>(&g, "bags"), "in the list's elements"),
            (typecheck_error::<(Point, u32), (Point,)>(&g, "relay-point"), "expected 2 parameters, the function has 1"),
        ];
        for (err, want) in cases {
            assert!(err.contains(want), "expected {want:?} in:\n{err}");
        }
        // Nested: the path names each level.
        let err = typecheck_error::<(Vec<Option<ShapeShort>>,), (Vec<Option<Shape>>,)>(&g, "opts");
        for want in
            ["variant `ShapeShort` has 2 cases", "in the option's payload", "in the list's elements", "in parameter 0"]
        {
            assert!(err.contains(want), "expected {want:?} in:\n{err}");
        }
    });
}

/// A typed host function whose Rust types do not match the import is refused at instantiation, with the import
/// and the mismatch named.
#[test]
fn typed_host_function_type_mismatch_is_a_link_error() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut l = host::<_>();
        l.allow_shadowing(true);
        l.root().func_wrap("echo-point", |_, (p,): (PointSwapped,)| Ok((p,))).unwrap();
        let err = l.instantiate(&mut store(&engine), &c).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Link(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("import `echo-point`"), "{msg}");
        assert!(msg.contains("field 0 of record `PointSwapped` is named `y-coord` in Rust, `x`"), "{msg}");
    });
}

/// `&str` and `&[T]` parameters lower straight from borrowed data; `Box<str>` and `Box<[T]>` lift.
#[test]
fn borrowed_parameters_and_boxed_results() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let len = g.inst.get_func("len").unwrap().typed::<(&str,), (u32,)>().unwrap();
        assert_eq!(len.call(&mut g.store, ("héllo",)).unwrap().0, 6);
        let text = String::from("borrowed");
        assert_eq!(len.call(&mut g.store, (text.as_str(),)).unwrap().0, 8);

        let strings = g.inst.get_func("strings").unwrap().typed::<(&[&str],), (Vec<Box<str>>,)>().unwrap();
        let back = strings.call(&mut g.store, (&["a", "", "ünï"][..],)).unwrap().0;
        assert_eq!(back, vec![Box::from("a"), Box::from(""), Box::from("ünï")]);

        let nums = g.inst.get_func("u32s").unwrap().typed::<(&[u32],), (Box<[u32]>,)>().unwrap();
        let data: Vec<u32> = (0..1000).collect();
        assert_eq!(&*nums.call(&mut g.store, (&data[..],)).unwrap().0, &data[..]);
    });
}

/// A typed host function can take `WasmStr` and `WasmList<T>` arguments, which read guest memory only when asked
/// (here: in chunks into a stack buffer); lifting them checks bounds as lifting `String` and `Vec` would.
#[test]
fn lazily_lifted_views_in_host_functions() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        let measure = g.inst.get_func("measure").unwrap().typed::<(&str, &[u32]), (u64,)>().unwrap();
        let xs: Vec<u32> = (0..1000).collect();
        assert_eq!(measure.call(&mut g.store, ("héllo", &xs[..])).unwrap(), (5_000_000 + 499_500,));
        assert_eq!(measure.call(&mut g.store, ("", &[][..])).unwrap(), (0,));
        // A view out of bounds (or misaligned) is refused when it is lifted, as a `Vec` would be.
        let raw = g.inst.get_func("measure-raw").unwrap().typed::<(u32, u32, u32, u32), (u64,)>().unwrap();
        let err = raw.call(&mut g.store, (0x200, 0, 0xfff0, 8)).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::OutOfBounds));
        let mut g = Guest::with_linker(&engine, &c, &host());
        let raw = g.inst.get_func("measure-raw").unwrap().typed::<(u32, u32, u32, u32), (u64,)>().unwrap();
        let err = raw.call(&mut g.store, (0x200, 0, 0x202, 1)).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::Misaligned));
    });
}

/// `ResourceAny` is accepted by typed calls: a guest resource is created, lent as a borrow, and moved back as an
/// own, with the handle's type checked when it crosses.
#[test]
fn resource_any_in_typed_calls() {
    both!(|engine| {
        let c = component(&engine, crate::resources::GUEST_RESOURCE);
        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        let ctor = inst.get_func("[constructor]r").unwrap().typed::<(u32,), (ResourceAny,)>().unwrap();
        let rep = inst.get_func("[method]r.rep").unwrap().typed::<(&ResourceAny,), (u32,)>().unwrap();
        let consume = inst.get_func("consume").unwrap().typed::<(ResourceAny,), ()>().unwrap();
        let drops = inst.get_func("drops").unwrap().typed::<(), (u32,)>().unwrap();

        let (r,) = ctor.call(&mut s, (42,)).unwrap();
        assert!(r.owned());
        assert_eq!(rep.call(&mut s, (&r,)).unwrap(), (42,));
        consume.call(&mut s, (r.clone(),)).unwrap();
        assert_eq!(drops.call(&mut s, ()).unwrap(), (1,));
        // Moved into the guest: the host's handle is gone.
        let err = rep.call(&mut s, (&r,)).unwrap_err();
        assert_eq!(err.as_trap(), Some(&Trap::ResourceGone));

        // A resource type is not a record.
        let err = inst.get_func("consume").unwrap().typed::<(Point,), ()>().unwrap_err();
        assert!(err.to_string().contains("expects a record"), "{err}");
    });
}

/// Allocations made by 100 typed calls of `name` (a `func(u32, u32) -> u32`), after a first call that creates
/// the trampolines.
fn allocations_of_100_calls<E: WasmEngine>(g: &mut Guest<E>, name: &str) -> u64 {
    let add = g.inst.get_func(name).unwrap().typed::<(u32, u32), (u32,)>().unwrap();
    assert_eq!(add.call(&mut g.store, (1, 2)).unwrap(), (3,));
    let store: &mut Store<(), E> = &mut g.store;
    let before = crate::alloc::count();
    let mut sum = 0u32;
    for i in 0..100 {
        sum = sum.wrapping_add(add.call(&mut *store, (i, 1)).unwrap().0);
    }
    let allocations = crate::alloc::count() - before;
    assert_eq!(sum, (1..=100).sum::<u32>());
    allocations
}

/// Allocations made by 100 calls of a core function that calls a host function, through `wasm_runtime_layer`
/// alone: what the backend itself costs (wasmi's host-call path allocates once per call; wasmtime's does not).
fn floor_allocations_of_100_host_calls<E: WasmEngine>(engine: &wasm_runtime_layer::Engine<E>) -> u64 {
    use wasm_runtime_layer::{Extern, Func, FuncType, Imports, Instance, Module, Store, Val, ValType};
    let bytes = wat::parse_str(
        r#"(module (import "h" "add" (func $add (param i32 i32) (result i32)))
             (func (export "run") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let module = Module::new(engine, &bytes).unwrap();
    let mut store = Store::new(engine, ());
    let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I32]);
    let add = Func::new(&mut store, ty, |_, args, res| {
        if let (Val::I32(a), Val::I32(b)) = (&args[0], &args[1]) {
            res[0] = Val::I32(a.wrapping_add(*b));
        }
        Ok(())
    });
    let mut imports = Imports::new();
    imports.define("h", "add", Extern::Func(add));
    let inst = Instance::new(&mut store, &module, &imports).unwrap();
    let run = inst.get_export(&store, "run").and_then(Extern::into_func).unwrap();
    let mut out = [Val::I32(0)];
    run.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut out).unwrap();
    let before = crate::alloc::count();
    for i in 0..100 {
        run.call(&mut store, &[Val::I32(i), Val::I32(1)], &mut out).unwrap();
    }
    crate::alloc::count() - before
}

/// A typed scalar call allocates nothing on the host: a call of a guest function allocates nothing at all, and a
/// call through a guest into a typed scalar host function (`func_wrap`) allocates no more than the backend's own
/// host-call path does for a plain core module (wasmi: once per call; wasmtime: never).
#[test]
fn typed_scalar_host_call_allocates_nothing() {
    both!(|engine| {
        let c = component(&engine, &wat());
        let mut g = Guest::with_linker(&engine, &c, &host());
        assert_eq!(allocations_of_100_calls(&mut g, "add-guest"), 0, "typed calls of a guest function allocated");
        let floor = floor_allocations_of_100_host_calls(&engine);
        assert!(floor <= 100, "the backend allocates {floor} times per 100 host calls");
        assert_eq!(
            allocations_of_100_calls(&mut g, "add"),
            floor,
            "typed calls through a typed host function allocated more than the backend's host calls"
        );
    });
}
