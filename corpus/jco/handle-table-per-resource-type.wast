;; jco finding (corpus/jco/handle-table-per-resource-type.md): a component instance has one table for the handles
;; of all resource types (Canonical ABI `ComponentInstance.handles`), so the R2 made after an R1 is handle 2;
;; jco 1.35 keeps a table per resource type and gives it handle 1.

(component
  (type $R1 (resource (rep i32)))
  (type $R2 (resource (rep i32)))
  (core func $new1 (canon resource.new $R1))
  (core func $new2 (canon resource.new $R2))
  (core module $m
    (import "" "new1" (func $new1 (param i32) (result i32)))
    (import "" "new2" (func $new2 (param i32) (result i32)))
    (func (export "second-handle") (result i32)
      (drop (call $new1 (i32.const 10)))
      (call $new2 (i32.const 20))))
  (core instance $i (instantiate $m (with "" (instance (export "new1" (func $new1)) (export "new2" (func $new2))))))
  (func (export "second-handle") (result u32) (canon lift (core func $i "second-handle"))))
(assert_return (invoke "second-handle") (u32.const 2))
