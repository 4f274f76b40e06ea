;; jco finding (corpus/jco/resource-static-named-name.md): an exported resource's static function named `name`
;; (or `length`) is valid; jco 1.35 assigns it to the JavaScript class's read-only `name` (`length`) property, a
;; TypeError when its output is evaluated as an ES module and a silently missing function otherwise. The `.wast`
;; format cannot call a function inside an exported instance, so this script only loads the component (jco does, in
;; the harness's driver); the report's JavaScript shows the failure.

(component
  (core module $m
    (import "[export]t:t/i" "[resource-new]r" (func $new (param i32) (result i32)))
    (func (export "t:t/i#[constructor]r") (result i32) (call $new (i32.const 42)))
    (func (export "t:t/i#[static]r.name") (result i32) (i32.const 7)))
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core instance $ci (instantiate $m (with "[export]t:t/i" (instance (export "[resource-new]r" (func $new))))))
  (func $c (result (own $r)) (canon lift (core func $ci "t:t/i#[constructor]r")))
  (func $n (result u32) (canon lift (core func $ci "t:t/i#[static]r.name")))
  ;; The interface `t:t/i`, typed so that its functions name its exported resource `r` (wit-component's shape).
  (component $iface
    (import "import-type-r" (type $r (sub resource)))
    (import "import-constructor-r" (func $c (result (own $r))))
    (import "import-static-r-name" (func $n (result u32)))
    (export $r2 "r" (type $r))
    (export "[constructor]r" (func $c) (func (result (own $r2))))
    (export "[static]r.name" (func $n) (func (result u32))))
  (instance $i (instantiate $iface
    (with "import-type-r" (type $r))
    (with "import-constructor-r" (func $c))
    (with "import-static-r-name" (func $n))))
  (export "t:t/i" (instance $i)))
