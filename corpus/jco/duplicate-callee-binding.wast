;; jco finding (corpus/jco/duplicate-callee-binding.md): jco 1.35 declares the JavaScript binding of a lifted
;; function's core callee under a name it already uses, so its output does not parse.

;; A core export named "" (or "*"): `let exports0;` twice.
(component
  (core module $m (func (export "") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m))
  (func (export "a") (result u32) (canon lift (core func $i ""))))
(assert_return (invoke "a") (u32.const 1))

(component
  (core module $m (func (export "*") (result i32) (i32.const 1)))
  (core instance $i (instantiate $m))
  (func (export "a") (result u32) (canon lift (core func $i "*"))))
(assert_return (invoke "a") (u32.const 1))

;; A lowered import lifted again without a core module between: `let trampoline0` twice.
(component
  (import "host-return-two" (func $f (result u32)))
  (core func $f_lower (canon lower (func $f)))
  (func (export "f") (result u32) (canon lift (core func $f_lower))))
(assert_return (invoke "f") (u32.const 2))
