;; jco finding (corpus/jco/export-forgets-imported-interface-type-panic.md): a component that imports an interface
;; and exports an instance under the same interface name, the exported instance lacking a type the imported one
;; has, is valid; jco 1.35's transpiler panics (`Option::unwrap()` on `None`, transpile_bindgen.rs:1088). Upstream:
;; wasm-tools/component-model/type-export-restrictions.wast line 468.

;; The minimal trigger: the exported instance is empty.
(component
  (import (interface "demo:component/types") (instance
    (type $e (enum "qux"))
    (export "baz" (type (eq $e)))))
  (instance $x)
  (export (interface "demo:component/types") (instance $x)))

;; The upstream shape: the exported instance's record uses the imported enum, which it does not export itself.
(component
  (import (interface "demo:component/types") (instance $i
    (type $e (enum "qux"))
    (export "baz" (type (eq $e)))))
  (alias export $i "baz" (type $baz))
  (type $r (record (field "bar" $baz)))
  (instance $x (export "foo" (type $r)))
  (export (interface "demo:component/types") (instance $x)))
