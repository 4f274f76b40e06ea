;; jco finding (corpus/jco/quote-in-core-name.md): core export and import names may hold any character; jco 1.35
;; writes them into JavaScript string literals unescaped, so a name with `'` makes its output not parse.

;; A core export `f'`: `exports0['f'']`.
(component
  (core module $m (func (export "f'") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f'"))))
(assert_return (invoke "f") (u32.const 7))

;; A core import `f'`: `'f'': …` in the imports object.
(component
  (import "host-return-two" (func $f (result u32)))
  (core func $f' (canon lower (func $f)))
  (core module $m
    (import "" "f'" (func $f (result i32)))
    (func (export "g") (result i32) (call $f)))
  (core instance $i (instantiate $m (with "" (instance (export "f'" (func $f'))))))
  (func (export "g") (result u32) (canon lift (core func $i "g"))))
(assert_return (invoke "g") (u32.const 2))
