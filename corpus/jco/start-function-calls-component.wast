;; jco finding (corpus/jco/start-function-calls-component.md): a core start function that calls another
;; component's export (through a lowered import) during instantiation; jco 1.35's instantiation throws
;; `missing current caller task metadata`.

(component
  (component $A
    (core module $m
      (global $count (mut i32) (i32.const 0))
      (func (export "inc") (global.set $count (i32.add (global.get $count) (i32.const 1))))
      (func (export "get") (result i32) (global.get $count)))
    (core instance $i (instantiate $m))
    (func (export "inc") (canon lift (core func $i "inc")))
    (func (export "get") (result u32) (canon lift (core func $i "get"))))
  (component $B
    (import "inc" (func $inc))
    (core func $inc_lower (canon lower (func $inc)))
    (core module $m
      (import "" "inc" (func $inc))
      (start $inc))
    (core instance (instantiate $m (with "" (instance (export "inc" (func $inc_lower)))))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "inc" (func $a "inc"))))
  (export "get" (func $a "get")))
(assert_return (invoke "get") (u32.const 1))
