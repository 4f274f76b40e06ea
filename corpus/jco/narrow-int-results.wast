;; jco 1.35.0 finding: lifting a `bool`, `u8` or `s16` result whose core `i32` has bits above the type's width traps
;; (report: narrow-int-results.md). The canonical ABI keeps the low bits (`lift_flat_unsigned`/`lift_flat_signed`)
;; and lifts any non-zero `i32` as `true` (`convert_int_to_bool`); wasmtime and component-layer do. Skipped on jco in
;; corpus/expectations.txt until jco is fixed.
(component
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (memory (;0;) 1)
    (export "memory" (memory 0))
    (export "get-s16" (func 0))
    (export "get-u8" (func 1))
    (export "get-bool" (func 2))
    (func (;0;) (type 0) (result i32)
      i32.const 110006
    )
    (func (;1;) (type 0) (result i32)
      i32.const 263
    )
    (func (;2;) (type 0) (result i32)
      i32.const 2
    )
    (@producers
      (processed-by "wit-component" "0.259.0")
    )
  )
  (core instance $main (;0;) (instantiate $main))
  (alias core export $main "memory" (core memory $memory (;0;)))
  (type (;0;) (func (result s16)))
  (alias core export $main "get-s16" (core func $get-s16 (;0;)))
  (func $get-s16 (;0;) (type 0) (canon lift (core func $get-s16)))
  (export $"#func1 get-s16" (@name "get-s16") (;1;) "get-s16" (func $get-s16))
  (type (;1;) (func (result u8)))
  (alias core export $main "get-u8" (core func $get-u8 (;1;)))
  (func $get-u8 (;2;) (type 1) (canon lift (core func $get-u8)))
  (export $"#func3 get-u8" (@name "get-u8") (;3;) "get-u8" (func $get-u8))
  (type (;2;) (func (result bool)))
  (alias core export $main "get-bool" (core func $get-bool (;2;)))
  (func $get-bool (;4;) (type 2) (canon lift (core func $get-bool)))
  (export $"#func5 get-bool" (@name "get-bool") (;5;) "get-bool" (func $get-bool))
  (@producers
    (processed-by "wit-component" "0.259.0")
  )
)

(assert_return (invoke "get-s16") (s16.const -21066))
(assert_return (invoke "get-u8") (u8.const 7))
(assert_return (invoke "get-bool") (bool.const true))
