;; jco finding (corpus/jco/drop-unallocated-handle.md): `resource.drop` of a handle beyond the end of the handle
;; table traps (`unknown handle index`); jco 1.35 ignores it, and puts the handle on its free list, so the next
;; `resource.new` returns it.

(component definition $C
  (type $R (resource (rep i32)))
  (core func $new (canon resource.new $R))
  (core func $drop (canon resource.drop $R))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "drop-five-then-new") (result i32)
      (call $drop (i32.const 5))
      (call $new (i32.const 42)))
    (func (export "drop-max") (call $drop (i32.const -1))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "drop-five-then-new") (result u32) (canon lift (core func $i "drop-five-then-new")))
  (func (export "drop-max") (canon lift (core func $i "drop-max"))))
(component instance $c1 $C)
(assert_trap (invoke "drop-five-then-new") "unknown handle index 5")
(component instance $c2 $C)
(assert_trap (invoke "drop-max") "unknown handle index 4294967295")
