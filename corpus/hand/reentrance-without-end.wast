;; A component whose lowered import re-enters its own lifted export without end (issue 13): `f(n)` calls a lowered
;; copy of its own export `f` with `n - 1` until `n` is 0, so `f(4294967295)` never reaches the bottom. Every engine
;; must trap — component-layer when the store's nesting bound (or the native stack check) is reached ("call stack
;; exhausted"), wasmtime 48 because it refuses the re-entrance itself ("cannot enter component instance"). Before
;; the bound, component-layer over wasmi overflowed the native stack and aborted the process.
(component
  (core module $m
    (table (export "t") 1 funcref)
    (type $ft (func (param i32) (result i32)))
    (func (export "f") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (i32.const 1)
          (call_indirect (type $ft) (i32.sub (local.get 0) (i32.const 1)) (i32.const 0)))))))
  (core instance $i (instantiate $m))
  (func $f (param "n" u32) (result u32) (canon lift (core func $i "f")))
  (core func $f-lowered (canon lower (func $f)))
  (alias core export $i "t" (core table $t))
  (core module $patch
    (import "i" "t" (table 1 funcref))
    (import "i" "f" (func $f (param i32) (result i32)))
    (elem (i32.const 0) func $f))
  (core instance $targets (export "t" (table $t)) (export "f" (func $f-lowered)))
  (core instance (instantiate $patch (with "i" (instance $targets))))
  (export "f" (func $f)))
(assert_trap (invoke "f" (u32.const 4294967295)) "")
