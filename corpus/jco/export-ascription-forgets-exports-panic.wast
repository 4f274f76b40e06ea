;; jco finding (corpus/jco/export-ascription-forgets-exports-panic.md): an instance exported with a type ascription
;; that forgets some of its exports is valid (export ascription is a subtype check, and forgetting exports is an
;; allowed up-cast); jco 1.35's transpiler panics (`no entry found for key`, transpile_bindgen.rs:5492).

(component
  (core module $m (func (export "f")) (func (export "g")))
  (core instance $i (instantiate $m))
  (func $f (canon lift (core func $i "f")))
  (func $g (canon lift (core func $i "g")))
  (instance $inst (export "f" (func $f)) (export "g" (func $g)))
  (export "f2" (instance $inst) (instance (export "g" (func)))))
