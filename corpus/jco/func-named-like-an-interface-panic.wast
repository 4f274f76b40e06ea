;; jco finding (corpus/jco/func-named-like-an-interface-panic.md): a function imported or exported under an
;; interface name (`a:b/c`) is valid, and runs on wasmtime and component-layer; jco 1.35's transpiler panics.

(component definition
  (import "a:b/c" (func)))

(component
  (core module $m (func (export "f") (result i32) (i32.const 42)))
  (core instance $i (instantiate $m))
  (func (export "a:b/c") (result u32) (canon lift (core func $i "f"))))
(assert_return (invoke "a:b/c") (u32.const 42))
