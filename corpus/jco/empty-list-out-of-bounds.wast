;; jco 1.35.0 finding: lifting a list does not check its range (an empty list beyond memory lifts as `[]`; report:
;; empty-list-out-of-bounds.md). The misaligned list traps on jco as on the others (kept as a check). A trap poisons
;; the instance, so each assertion has its own. Skipped on jco in corpus/expectations.txt until jco is fixed.
(component
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (memory (;0;) 1)
    (export "memory" (memory 0))
    (export "misaligned" (func 0))
    (export "empty-out-of-bounds" (func 1))
    (func (;0;) (type 0) (result i32)
      i32.const 0
      i32.const 18
      i32.store
      i32.const 4
      i32.const 1
      i32.store
      i32.const 0
    )
    (func (;1;) (type 0) (result i32)
      i32.const 0
      i32.const -16
      i32.store
      i32.const 4
      i32.const 0
      i32.store
      i32.const 0
    )
    (@producers
      (processed-by "wit-component" "0.259.0")
    )
  )
  (core instance $main (;0;) (instantiate $main))
  (alias core export $main "memory" (core memory $memory (;0;)))
  (type (;0;) (list u32))
  (type (;1;) (func (result 0)))
  (alias core export $main "misaligned" (core func $misaligned (;0;)))
  (func $misaligned (;0;) (type 1) (canon lift (core func $misaligned) (memory $memory)))
  (export $"#func1 misaligned" (@name "misaligned") (;1;) "misaligned" (func $misaligned))
  (alias core export $main "empty-out-of-bounds" (core func $empty-out-of-bounds (;1;)))
  (func $empty-out-of-bounds (;2;) (type 1) (canon lift (core func $empty-out-of-bounds) (memory $memory)))
  (export $"#func3 empty-out-of-bounds" (@name "empty-out-of-bounds") (;3;) "empty-out-of-bounds" (func $empty-out-of-bounds))
  (@producers
    (processed-by "wit-component" "0.259.0")
  )
)

(assert_trap (invoke "misaligned") "unaligned pointer")

(component
  (core module $main (;0;)
    (type (;0;) (func (result i32)))
    (memory (;0;) 1)
    (export "memory" (memory 0))
    (export "misaligned" (func 0))
    (export "empty-out-of-bounds" (func 1))
    (func (;0;) (type 0) (result i32)
      i32.const 0
      i32.const 18
      i32.store
      i32.const 4
      i32.const 1
      i32.store
      i32.const 0
    )
    (func (;1;) (type 0) (result i32)
      i32.const 0
      i32.const -16
      i32.store
      i32.const 4
      i32.const 0
      i32.store
      i32.const 0
    )
    (@producers
      (processed-by "wit-component" "0.259.0")
    )
  )
  (core instance $main (;0;) (instantiate $main))
  (alias core export $main "memory" (core memory $memory (;0;)))
  (type (;0;) (list u32))
  (type (;1;) (func (result 0)))
  (alias core export $main "misaligned" (core func $misaligned (;0;)))
  (func $misaligned (;0;) (type 1) (canon lift (core func $misaligned) (memory $memory)))
  (export $"#func1 misaligned" (@name "misaligned") (;1;) "misaligned" (func $misaligned))
  (alias core export $main "empty-out-of-bounds" (core func $empty-out-of-bounds (;1;)))
  (func $empty-out-of-bounds (;2;) (type 1) (canon lift (core func $empty-out-of-bounds) (memory $memory)))
  (export $"#func3 empty-out-of-bounds" (@name "empty-out-of-bounds") (;3;) "empty-out-of-bounds" (func $empty-out-of-bounds))
  (@producers
    (processed-by "wit-component" "0.259.0")
  )
)

(assert_trap (invoke "empty-out-of-bounds") "out of bounds")

;; The same missing range check with a non-empty list of bytes: 6 of its 100 bytes are in the 64 KiB memory; jco
;; lifts those 6 (`memory.buffer.slice` clamps) instead of trapping.
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "tail") (result i32)
      (i32.store (i32.const 0) (i32.const 65530))
      (i32.store (i32.const 4) (i32.const 100))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "tail") (result (list u8)) (canon lift (core func $i "tail") (memory (core memory $i "mem")))))
(assert_trap (invoke "tail") "out of bounds")
