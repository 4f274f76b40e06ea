;; jco 1.35.0 finding: `transpile` panics on `string-encoding=latin1+utf16` (report: latin1-utf16-transpile-panic.md).
;; The values are the Canonical ABI's: a latin1+utf16 string arrives as Latin-1 when every code point fits, else as
;; UTF-16 with bit 31 of the length set. Skipped on jco in corpus/expectations.txt.
(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    ;; Returns the length operand it was given (bit 31 set when the string arrived as UTF-16).
    (func (export "len") (param i32 i32) (result i32) (local.get 1)))
  (core instance $i (instantiate $m))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $i "len") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))
      string-encoding=latin1+utf16)))

(assert_return (invoke "len" (str.const "abc")) (u32.const 3))
(assert_return (invoke "len" (str.const "\u{e9}")) (u32.const 1))
(assert_return (invoke "len" (str.const "\u{2603}")) (u32.const 0x80000001))
