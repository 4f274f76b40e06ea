;; The smallest `wasi:cli/run` command: it prints "hello from a guest" through wasi:cli/stdout and returns ok.
;; The crate documentation's example runs it.
(component
  (import "wasi:io/error@0.2.0" (instance $error-i (export "error" (type (sub resource)))))
  (alias export $error-i "error" (type $error))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error (type $error-outer))
    (export "error" (type $err (eq $error-outer)))
    (type $stream-error-ty (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $stream-error-ty)))
    (export "output-stream" (type $os (sub resource)))
    (type $write-result (result (error $stream-error)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result $write-result)))))
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
  (core func $drop-stream (canon resource.drop $output-stream))
  (core instance $wasi
    (export "get-stdout" (func $get-stdout))
    (export "write" (func $write))
    (export "drop-stream" (func $drop-stream)))
  (core module $guest
    (import "env" "memory" (memory 1))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "drop-stream" (func $drop-stream (param i32)))
    (data (i32.const 100) "hello from a guest\n")
    ;; run: write the line, drop the stream, return the write's result (0: ok, 1: err).
    (func (export "run") (result i32)
      (local $os i32)
      (local.set $os (call $get-stdout))
      (call $write (local.get $os) (i32.const 100) (i32.const 19) (i32.const 200))
      (call $drop-stream (local.get $os))
      (i32.load8_u (i32.const 200))))
  (core instance $g (instantiate $guest (with "env" (instance $mem)) (with "wasi" (instance $wasi))))
  (func $run (result (result)) (canon lift (core func $g "run")))
  (instance $run (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run)))
