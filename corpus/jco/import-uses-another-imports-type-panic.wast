;; jco finding (corpus/jco/import-uses-another-imports-type-panic.md): an imported instance whose function returns a
;; type exported by another imported instance (through an outer alias) is valid; jco 1.35's transpiler panics
;; (`Option::unwrap()` on `None`, ts_bindgen.rs:1558) instead of refusing it. Upstream:
;; wasm-tools/component-model/type-export-restrictions.wast line 402.

(component definition $C
  (import "foo" (instance $i
    (type $baz' (record (field "f" u32)))
    (export "baz" (type $baz (eq $baz')))
    (type $bar' (record (field "baz" $baz)))
    (export "bar" (type $bar (eq $bar')))
  ))
  (alias export $i "bar" (type $bar))
  (import "bar" (instance
    (alias outer $C $bar (type $bar'))
    (export "bar" (type $bar (eq $bar')))
    (export "a" (func $f (result $bar)))
  ))
)
