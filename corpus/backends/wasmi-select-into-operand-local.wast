;; A miscompilation in wasmi 2.0.0 (core wasm, not the component layer), found by `component-harness check` on
;; generated seed 151 (compute tier, a wasm-smith module): a `select` whose operands read local $l, with its
;; result stored back into $l by the next `local.set $l`, yields the first operand even when the condition is 0.
;; For x = 3: select(1, 3, eqz 3 = 0) must be 3; wasmi returns 1. wasmtime (native and core) returns 3.
;; Skipped on layer-wasmi in corpus/expectations.txt until wasmi is fixed; the assertions are the spec's.
(component
  (core module $m
    (func (export "f") (param i32) (result i32) (local $l i32)
      local.get 0
      local.set $l
      i32.const 1
      local.get $l
      local.get $l
      i32.eqz
      select
      local.set $l
      local.get $l))
  (core instance $i (instantiate $m))
  (func (export "f") (param "x" u32) (result u32) (canon lift (core func $i "f"))))
(assert_return (invoke "f" (u32.const 0)) (u32.const 1))
(assert_return (invoke "f" (u32.const 3)) (u32.const 3))
(assert_return (invoke "f" (u32.const 4294967295)) (u32.const 4294967295))
