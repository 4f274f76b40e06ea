;; jco 1.35.0 finding: a component may call an import from its `realloc` (report: import-called-from-realloc.md): the
;; Canonical ABI forbids leaving the instance there and traps. Uses the `.wast` environment's `host-return-two`.
;; Skipped on jco in corpus/expectations.txt until jco is fixed.
(component
  (type (;0;) (func (result u32)))
  (import "host-return-two" (func $host-return-two (;0;) (type 0)))
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (type (;1;) (func (param i32 i32 i32 i32) (result i32)))
    (type (;2;) (func (param i32 i32) (result i32)))
    (import "$root" "host-return-two" (func $note (;0;) (type 0)))
    (memory (;0;) 1)
    (global $next (;0;) (mut i32) i32.const 1024)
    (export "memory" (memory 0))
    (export "cabi_realloc" (func 1))
    (export "take" (func 2))
    (func (;1;) (type 1) (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      call $note
      drop
      global.get $next
      local.set $p
      global.get $next
      local.get 3
      i32.add
      global.set $next
      local.get $p
    )
    (func (;2;) (type 2) (param i32 i32) (result i32)
      local.get 1
    )
    (@producers
      (processed-by "wit-component" "0.259.0")
    )
  )
  (core func $host-return-two (;0;) (canon lower (func $host-return-two)))
  (core instance $$root (;0;)
    (export "host-return-two" (func $host-return-two))
  )
  (core instance $main (;1;) (instantiate $main
      (with "$root" (instance $$root))
    )
  )
  (alias core export $main "memory" (core memory $memory (;0;)))
  (type (;1;) (func (param "s" string) (result u32)))
  (alias core export $main "take" (core func $take (;1;)))
  (alias core export $main "cabi_realloc" (core func $cabi_realloc (;2;)))
  (func $take (;1;) (type 1) (canon lift (core func $take) (memory $memory) (realloc $cabi_realloc) string-encoding=utf8))
  (export $"#func2 take" (@name "take") (;2;) "take" (func $take))
  (@producers
    (processed-by "wit-component" "0.259.0")
  )
)

(assert_trap (invoke "take" (str.const "hi")) "cannot leave component instance")
