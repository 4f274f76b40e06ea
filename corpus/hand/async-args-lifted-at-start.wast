;; An async-lowered call's arguments are lifted when the callee starts (the spec's `on_start` in `canon_lower`),
;; not when the call is made. When backpressure keeps the callee from starting, the call returns `STARTING` and:
;; - the callee later reads the argument memory as it is when it starts (here the caller rewrote the string);
;; - the caller still owns the handles it passed: cancelling the subtask before it started leaves them in its
;;   table, where it can drop them itself.

(component
  (component $A
    (core module $Mem
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $r i32)
        (local.set $r (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $r)))
    (core instance $mem (instantiate $Mem))

    (type $R (resource (rep i32)))
    (core func $R.new (canon resource.new $R))
    (core func $R.drop (canon resource.drop $R))
    (core func $bp.inc (canon backpressure.inc))
    (core func $bp.dec (canon backpressure.dec))
    (core func $return-u32 (canon task.return (result u32)))
    (core func $return-none (canon task.return))

    (core module $M
      (import "" "mem" (memory 1))
      (import "" "R.new" (func $R.new (param i32) (result i32)))
      (import "" "R.drop" (func $R.drop (param i32)))
      (import "" "bp.inc" (func $bp.inc))
      (import "" "bp.dec" (func $bp.dec))
      (import "" "return-u32" (func $return-u32 (param i32)))
      (import "" "return-none" (func $return-none))
      (func (export "bp-inc") (call $bp.inc))
      (func (export "bp-dec") (call $bp.dec))
      (func (export "make") (result i32) (call $R.new (i32.const 42)))
      ;; first(s: string) -> u32: the first byte of `s`.
      (func (export "first") (param $ptr i32) (param $len i32) (result i32)
        (call $return-u32 (i32.load8_u (local.get $ptr)))
        (i32.const 0 (; EXIT ;)))
      ;; take(r: own<R>): drops `r`.
      (func (export "take") (param $r i32) (result i32)
        (call $R.drop (local.get $r))
        (call $return-none)
        (i32.const 0 (; EXIT ;)))
      (func (export "cb") (param i32 i32 i32) (result i32) unreachable))
    (core instance $i (instantiate $M (with "" (instance
      (export "mem" (memory $mem "mem"))
      (export "R.new" (func $R.new))
      (export "R.drop" (func $R.drop))
      (export "bp.inc" (func $bp.inc))
      (export "bp.dec" (func $bp.dec))
      (export "return-u32" (func $return-u32))
      (export "return-none" (func $return-none))))))

    (export $R' "r" (type $R))
    (func (export "bp-inc") (canon lift (core func $i "bp-inc")))
    (func (export "bp-dec") (canon lift (core func $i "bp-dec")))
    (func (export "make") (result (own $R')) (canon lift (core func $i "make")))
    (func (export "first") async (param "s" string) (result u32)
      (canon lift (core func $i "first") async (callback (core func $i "cb"))
        (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "take") async (param "r" (own $R'))
      (canon lift (core func $i "take") async (callback (core func $i "cb")))))

  (component $B
    (import "a" (instance $a
      (export "r" (type $R (sub resource)))
      (export "bp-inc" (func))
      (export "bp-dec" (func))
      (export "make" (func (result (own $R))))
      (export "first" (func async (param "s" string) (result u32)))
      (export "take" (func async (param "r" (own $R))))))
    (alias export $a "r" (type $R))

    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $bp-inc (canon lower (func $a "bp-inc")))
    (core func $bp-dec (canon lower (func $a "bp-dec")))
    (core func $make (canon lower (func $a "make")))
    (core func $first (canon lower (func $a "first") async (memory (core memory $mem "mem"))))
    (core func $take (canon lower (func $a "take") async))
    (core func $R.drop (canon resource.drop $R))
    (core func $waitable-set.new (canon waitable-set.new))
    (core func $waitable.join (canon waitable.join))
    (core func $waitable-set.wait (canon waitable-set.wait (memory (core memory $mem "mem"))))
    (core func $subtask.cancel (canon subtask.cancel))
    (core func $subtask.drop (canon subtask.drop))

    (core module $M
      (import "" "mem" (memory 1))
      (import "" "bp-inc" (func $bp-inc))
      (import "" "bp-dec" (func $bp-dec))
      (import "" "make" (func $make (result i32)))
      (import "" "first" (func $first (param i32 i32 i32) (result i32)))
      (import "" "take" (func $take (param i32) (result i32)))
      (import "" "R.drop" (func $R.drop (param i32)))
      (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
      (import "" "waitable.join" (func $waitable.join (param i32 i32)))
      (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
      (import "" "subtask.cancel" (func $subtask.cancel (param i32) (result i32)))
      (import "" "subtask.drop" (func $subtask.drop (param i32)))

      ;; Calls `first("a")` under backpressure, rewrites the string to "x" while the call is `STARTING`, lifts
      ;; the backpressure and waits for the result: the byte the callee saw.
      (func (export "rewrite-before-start") (result i32)
        (local $rc i32) (local $sub i32) (local $set i32)
        (call $bp-inc)
        (i32.store8 (i32.const 100) (i32.const 97 (; 'a' ;)))
        (local.set $rc (call $first (i32.const 100) (i32.const 1) (i32.const 200)))
        (if (i32.ne (i32.and (local.get $rc) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
          (then unreachable))
        (local.set $sub (i32.shr_u (local.get $rc) (i32.const 4)))
        (i32.store8 (i32.const 100) (i32.const 120 (; 'x' ;)))
        (call $bp-dec)
        (local.set $set (call $waitable-set.new))
        (call $waitable.join (local.get $sub) (local.get $set))
        (loop $wait
          (if (i32.ne (call $waitable-set.wait (local.get $set) (i32.const 300)) (i32.const 1 (; SUBTASK ;)))
            (then unreachable))
          (br_if $wait (i32.ne (i32.load (i32.const 304)) (i32.const 2 (; RETURNED ;)))))
        (call $subtask.drop (local.get $sub))
        (i32.load (i32.const 200)))

      ;; Passes an owned handle to `take` under backpressure, cancels the `STARTING` subtask and drops the
      ;; handle, which is still the caller's.
      (func (export "cancel-before-start") (result i32)
        (local $r i32) (local $rc i32) (local $sub i32)
        (call $bp-inc)
        (local.set $r (call $make))
        (local.set $rc (call $take (local.get $r)))
        (if (i32.ne (i32.and (local.get $rc) (i32.const 0xf)) (i32.const 0 (; STARTING ;)))
          (then unreachable))
        (local.set $sub (i32.shr_u (local.get $rc) (i32.const 4)))
        (if (i32.ne (call $subtask.cancel (local.get $sub)) (i32.const 3 (; CANCELLED_BEFORE_STARTED ;)))
          (then unreachable))
        (call $subtask.drop (local.get $sub))
        (call $R.drop (local.get $r))
        (call $bp-dec)
        (i32.const 1)))
    (core instance $i (instantiate $M (with "" (instance
      (export "mem" (memory $mem "mem"))
      (export "bp-inc" (func $bp-inc))
      (export "bp-dec" (func $bp-dec))
      (export "make" (func $make))
      (export "first" (func $first))
      (export "take" (func $take))
      (export "R.drop" (func $R.drop))
      (export "waitable-set.new" (func $waitable-set.new))
      (export "waitable.join" (func $waitable.join))
      (export "waitable-set.wait" (func $waitable-set.wait))
      (export "subtask.cancel" (func $subtask.cancel))
      (export "subtask.drop" (func $subtask.drop))))))
    (func (export "rewrite-before-start") async (result u32) (canon lift (core func $i "rewrite-before-start")))
    (func (export "cancel-before-start") async (result u32) (canon lift (core func $i "cancel-before-start"))))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "a" (instance $a))))
  (export "rewrite-before-start" (func $b "rewrite-before-start"))
  (export "cancel-before-start" (func $b "cancel-before-start")))

(assert_return (invoke "rewrite-before-start") (u32.const 120))
(assert_return (invoke "cancel-before-start") (u32.const 1))
