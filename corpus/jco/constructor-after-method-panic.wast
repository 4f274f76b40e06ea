;; jco finding (corpus/jco/constructor-after-method-panic.md): an exported interface whose resource lists a
;; method before its constructor (the order WIT source may have) is valid; jco 1.35's transpiler panics.

(component
  (core module $m
    (import "[export]t:t/i" "[resource-new]r" (func $new (param i32) (result i32)))
    (func (export "t:t/i#[method]r.m") (param i32))
    (func (export "t:t/i#[constructor]r") (result i32) (call $new (i32.const 42))))
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core instance $ci (instantiate $m (with "[export]t:t/i" (instance (export "[resource-new]r" (func $new))))))
  (func $m (param "self" (borrow $r)) (canon lift (core func $ci "t:t/i#[method]r.m")))
  (func $c (result (own $r)) (canon lift (core func $ci "t:t/i#[constructor]r")))
  ;; The interface `t:t/i`, typed so that its functions name its exported resource `r` (wit-component's shape).
  (component $iface
    (import "import-type-r" (type $r (sub resource)))
    (import "import-method-r-m" (func $m (param "self" (borrow $r))))
    (import "import-constructor-r" (func $c (result (own $r))))
    (export $r2 "r" (type $r))
    (export "[method]r.m" (func $m) (func (param "self" (borrow $r2))))
    (export "[constructor]r" (func $c) (func (result (own $r2)))))
  (instance $i (instantiate $iface
    (with "import-type-r" (type $r))
    (with "import-method-r-m" (func $m))
    (with "import-constructor-r" (func $c))))
  (export "t:t/i" (instance $i)))
