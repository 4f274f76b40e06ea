;; A build-configuration defect of wasmi 2.0.0 (core wasm, below component-layer), known upstream as
;; wasmi-labs/wasmi#2039 (open): wasmi 2.0 dispatches its instructions by calls in tail position and relies on
;; LLVM's sibling-call optimisation to turn them into jumps. Its `auto-dispatch` feature picks that backend from
;; the opt-level alone (2, 3, "s", "z"), but with `debug-assertions` on, the handlers are compiled as ordinary
;; calls: every executed instruction then adds a native stack frame, and a plain loop of a million iterations
;; aborts the process with "has overflowed its stack" on a 2 MiB thread (64 MiB is not enough either for a
;; longer-running guest; CPython's start-up and `sys.exit` in componentize-py's programs hit it).
;;
;; It bites the common setup `[profile.dev.package."*"] opt-level = 2` (or a wasmi-specific override), which is
;; how this workspace keeps `cargo test` fast: debug-assertions stay on there unless switched off. The workspace
;; therefore builds wasmi with `debug-assertions = false` in the dev profile (Cargo.toml), and this file keeps
;; that choice honest: with the setting removed, the conformance binary aborts on the trial below. A stand-alone
;; repro (wasmi alone, no component-layer): `wasmi = "=2.0.0"`, `[profile.dev.package.wasmi] opt-level = 3`, call
;; the core function `spin` below with 1000000 on a thread with a 2 MiB stack in a debug build; adding
;; `debug-assertions = false` to the override (or wasmi's `portable-dispatch` feature) makes it return 1000000.
;; `overflow-checks = false` alone does not help.
(component
  (core module $m
    (func (export "spin") (param $n i32) (result i32)
      (local $i i32)
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $i)))
  (core instance $i (instantiate $m))
  (func (export "spin") (param "n" u32) (result u32) (canon lift (core func $i "spin"))))

(assert_return (invoke "spin" (u32.const 1000000)) (u32.const 1000000))
