;; A hostile guest of wasi:io/streams and wasi:cli/stdout (tests/host.rs): it drops and reuses stream handles in
;; orders a well-behaved guest would not, and hands a raw handle index to another instance. Every export is one
;; scenario; the host must answer each with a result or a trap, never a panic.
(component
  (import "wasi:io/error@0.2.0" (instance $error-i (export "error" (type (sub resource)))))
  (alias export $error-i "error" (type $error))
  (import "wasi:io/poll@0.2.0" (instance $poll-i (export "pollable" (type (sub resource)))))
  (alias export $poll-i "pollable" (type $pollable))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error (type $error-outer))
    (export "error" (type $err (eq $error-outer)))
    (alias outer 1 $pollable (type $pollable-outer))
    (export "pollable" (type $poll (eq $pollable-outer)))
    (type $stream-error-ty (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $stream-error-ty)))
    (export "output-stream" (type $os (sub resource)))
    (type $write-result (result (error $stream-error)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result $write-result)))
    (export "[method]output-stream.subscribe" (func (param "self" (borrow $os)) (result (own $poll))))))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output-stream (type $os-outer))
    (export "output-stream" (type $os (eq $os-outer)))
    (export "get-stdout" (func (result (own $os))))))

  (core module $mem (memory (export "memory") 1))
  (core instance $mem (instantiate $mem))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory $mem "memory")))
  (core func $subscribe (canon lower (func $streams "[method]output-stream.subscribe")))
  (core func $drop-stream (canon resource.drop $output-stream))
  (core func $drop-pollable (canon resource.drop $pollable))
  (core instance $wasi
    (export "get-stdout" (func $get-stdout))
    (export "write" (func $write))
    (export "subscribe" (func $subscribe))
    (export "drop-stream" (func $drop-stream))
    (export "drop-pollable" (func $drop-pollable)))

  (core module $guest
    (import "env" "memory" (memory 1))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "subscribe" (func $subscribe (param i32) (result i32)))
    (import "wasi" "drop-stream" (func $drop-stream (param i32)))
    (import "wasi" "drop-pollable" (func $drop-pollable (param i32)))
    ;; "ok\n" at 100; write results at 200 (discriminant byte at 200).
    (data (i32.const 100) "ok\n")
    (func $write-ok (param $os i32) (result i32)
      (call $write (local.get $os) (i32.const 100) (i32.const 3) (i32.const 200))
      (i32.load8_u (i32.const 200)))
    ;; Writes "ok\n" and drops the stream: 0 (ok).
    (func (export "write-ok") (result i32)
      (local $os i32) (local $r i32)
      (local.set $os (call $get-stdout))
      (local.set $r (call $write-ok (local.get $os)))
      (call $drop-stream (local.get $os))
      (local.get $r))
    ;; Drops the stream before the pollable subscribed to it (WASI lets a host trap here).
    (func (export "parent-first")
      (local $os i32) (local $p i32)
      (local.set $os (call $get-stdout))
      (local.set $p (call $subscribe (local.get $os)))
      (call $drop-stream (local.get $os))
      (call $drop-pollable (local.get $p)))
    ;; Drops the same handle twice: a trap.
    (func (export "double-drop")
      (local $os i32)
      (local.set $os (call $get-stdout))
      (call $drop-stream (local.get $os))
      (call $drop-stream (local.get $os)))
    ;; Writes through a dropped handle: a trap.
    (func (export "write-after-drop") (result i32)
      (local $os i32)
      (local.set $os (call $get-stdout))
      (call $drop-stream (local.get $os))
      (call $write-ok (local.get $os)))
    ;; Drops a pollable handle that names a stream: a trap (wrong resource type).
    (func (export "drop-as-pollable")
      (call $drop-pollable (call $get-stdout)))
    ;; Takes three streams and gives away the last one's raw handle index.
    (func (export "leak") (result i32)
      (drop (call $get-stdout))
      (drop (call $get-stdout))
      (call $get-stdout))
    ;; Writes "ok\n" through handle $h of this instance's table.
    (func (export "write-with") (param $h i32) (result i32)
      (call $write-ok (local.get $h))))
  (core instance $g (instantiate $guest
    (with "env" (instance $mem))
    (with "wasi" (instance $wasi))))
  (func (export "write-ok") (result u32) (canon lift (core func $g "write-ok")))
  (func (export "parent-first") (canon lift (core func $g "parent-first")))
  (func (export "double-drop") (canon lift (core func $g "double-drop")))
  (func (export "write-after-drop") (result u32) (canon lift (core func $g "write-after-drop")))
  (func (export "drop-as-pollable") (canon lift (core func $g "drop-as-pollable")))
  (func (export "leak") (result u32) (canon lift (core func $g "leak")))
  (func (export "write-with") (param "h" u32) (result u32) (canon lift (core func $g "write-with"))))
