use crate::both;
use crate::common::*;
use component_layer::Value;

#[test]
fn add_and_echo_string() {
    both!(|engine| {
        let c = component(
            &engine,
            r#"(component
                (core module $m
                    (memory (export "mem") 1)
                    (global $bump (mut i32) (i32.const 1024))
                    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
                    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
                        (local $p i32)
                        (local.set $p (global.get $bump))
                        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
                        (local.get $p))
                    (func (export "echo") (param i32 i32) (result i32)
                        (i32.store (i32.const 16) (local.get 0))
                        (i32.store (i32.const 20) (local.get 1))
                        (i32.const 16)))
                (core instance $i (instantiate $m))
                (func (export "add") (param "a" u32) (param "b" u32) (result u32)
                    (canon lift (core func $i "add")))
                (func (export "echo") (param "s" string) (result string)
                    (canon lift (core func $i "echo") (memory $i "mem") (realloc (func $i "realloc"))))
            )"#,
        );
        let mut s = store(&engine);
        let inst = linker().instantiate(&mut s, &c).unwrap();
        let add = inst.get_func("add").unwrap();
        let mut r = [Value::Bool(false)];
        add.call(&mut s, &[Value::U32(2), Value::U32(40)], &mut r).unwrap();
        assert_eq!(r[0], Value::U32(42));
        let typed = add.typed::<(u32, u32), (u32,)>().unwrap();
        assert_eq!(typed.call(&mut s, (u32::MAX, 2)).unwrap(), (1,));
        let echo = inst.get_func("echo").unwrap();
        echo.call(&mut s, &[Value::String("héllo wörld".into())], &mut r).unwrap();
        assert_eq!(r[0], Value::String("héllo wörld".into()));
        let typed = echo.typed::<(String,), (String,)>().unwrap();
        assert_eq!(typed.call(&mut s, ("x".repeat(5000),)).unwrap().0, "x".repeat(5000));
    });
}
