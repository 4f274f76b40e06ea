;; jco finding (corpus/jco/realloc-pointer-unchecked.md): lowering a list, the Canonical ABI traps when the
;; pointer `realloc` returns is not aligned for the element type (`store_list_into_range`); jco 1.35 uses it.

(component
  (core module $m
    (memory (export "mem") 1)
    ;; A realloc that returns an odd address, whatever the alignment asked for.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 101))
    ;; Returns the address the list arrived at.
    (func (export "address-of") (param i32 i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "address-of") (param "l" (list u32)) (result u32)
    (canon lift (core func $i "address-of") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))
(assert_trap (invoke "address-of" (list.const (u32.const 7))) "unaligned pointer")

;; The same for an empty list: realloc is called, and its pointer checked, whatever the length.
(component
  (core module $m
    (memory (export "mem") 1)
    ;; A realloc that returns an odd address, whatever the alignment asked for.
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 101))
    ;; Returns the address the list arrived at.
    (func (export "address-of") (param i32 i32) (result i32) (local.get 0)))
  (core instance $i (instantiate $m))
  (func (export "address-of") (param "l" (list u32)) (result u32)
    (canon lift (core func $i "address-of") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))
(assert_trap (invoke "address-of" (list.const)) "unaligned pointer")
