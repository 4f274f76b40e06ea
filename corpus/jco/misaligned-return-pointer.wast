;; jco finding (corpus/jco/misaligned-return-pointer.md): lifting results through a return pointer, the Canonical
;; ABI traps when the pointer is not aligned for the results' tuple (`lift_flat_values`); jco 1.35 reads from it.

(component
  (core module $m
    (memory (export "mem") 1)
    ;; The pair (7, 9) at the aligned address 104, and the pointer returned: the odd address 101.
    (data (i32.const 104) "\07\00\00\00\09\00\00\00")
    (func (export "pair") (result i32) (i32.const 101)))
  (core instance $i (instantiate $m))
  (type $pair (tuple u32 u32))
  (func (export "pair") (result $pair)
    (canon lift (core func $i "pair") (memory (core memory $i "mem")))))
(assert_trap (invoke "pair") "unaligned pointer")

;; The same pointer, aligned, lifts.
(component
  (core module $m
    (memory (export "mem") 1)
    (data (i32.const 104) "\07\00\00\00\09\00\00\00")
    (func (export "pair") (result i32) (i32.const 104)))
  (core instance $i (instantiate $m))
  (type $pair (tuple u32 u32))
  (func (export "pair") (result $pair)
    (canon lift (core func $i "pair") (memory (core memory $i "mem")))))
(assert_return (invoke "pair") (tuple.const (u32.const 7) (u32.const 9)))
