;; jco 1.35.0 finding: lifting `flags` traps when the flags word has bits no flag uses (report: flags-extra-bits.md).
;; The canonical ABI ignores those bits (`unpack_flags_from_int`); wasmtime and component-layer do. Skipped on jco in
;; corpus/expectations.txt until jco is fixed.
(component
  (type (;0;) (flags "read" "write"))
  (import "perms" (type $perms (;1;) (eq 0)))
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (memory (;0;) 1)
    (export "memory" (memory 0))
    (export "get" (func 0))
    (func (;0;) (type 0) (result i32)
      i32.const -1
    )
    (@producers
      (processed-by "wit-component" "0.259.0")
    )
  )
  (core instance $main (;0;) (instantiate $main))
  (alias core export $main "memory" (core memory $memory (;0;)))
  (type (;2;) (func (result $perms)))
  (alias core export $main "get" (core func $get (;0;)))
  (func $get (;0;) (type 2) (canon lift (core func $get)))
  (export $"#func1 get" (@name "get") (;1;) "get" (func $get))
  (@producers
    (processed-by "wit-component" "0.259.0")
  )
)

(assert_return (invoke "get") (flags.const "read" "write"))
