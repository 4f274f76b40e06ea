;; jco finding (corpus/jco/variant-payload-sign-extended.md): a variant whose cases join an `s32` payload with an
;; `f64` one passes the payload in an i64, and the Canonical ABI puts the s32's 32-bit pattern there unextended
;; (`lower_flat_signed` makes -1 into 4294967295; the i32-to-i64 join keeps the value). jco 1.35 sign-extends it.

(component
  (type $v' (variant (case "a" f64) (case "b" s32)))
  (import "v" (type $v (eq $v')))
  (core module $m
    ;; The variant's flat form is (i32 discriminant, i64 payload): the payload as the core function got it.
    (func (export "payload") (param i32 i64) (result i64) (local.get 1)))
  (core instance $i (instantiate $m))
  (func (export "payload") (param "v" $v) (result u64)
    (canon lift (core func $i "payload"))))

(assert_return (invoke "payload" (variant.const "b" (s32.const 5))) (u64.const 5))
(assert_return (invoke "payload" (variant.const "a" (f64.const 1))) (u64.const 0x3ff0000000000000))
(assert_return (invoke "payload" (variant.const "b" (s32.const -1))) (u64.const 0xffffffff))
(assert_return (invoke "payload" (variant.const "b" (s32.const -2147483648))) (u64.const 0x80000000))
