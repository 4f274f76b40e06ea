//! `bindgen!` end to end: a component of a small world driven through generated bindings — host imports
//! implemented with the generated `Host` traits, a host resource created on both sides and passed both ways
//! (own and borrow), a guest resource used through `GuestAcc`, a root export — on both backends, and
//! instantiated several times from one pre-instantiation. Then the same world with its options: `with` reusing
//! those bindings (a whole package) or mapping single types to the host's own, `imports: { …: store }` giving a
//! host function the store, and the `&mut T` forwarding impls.

use std::collections::HashMap;

use component_layer::{HostResource, Linker, Store};

use crate::both;
use crate::common::{component, guest_with_imports};

component_layer::bindgen!({
    path: "tests/it/e2e.wit",
    world: "e2e",
    additional_derives: [PartialEq],
});

use test::e2e::host::{Counter, Entry};

/// The host's state: counters by rep, and what happened.
#[derive(Default)]
struct Host {
    counters: HashMap<u32, u32>,
    next: u32,
    dropped: Vec<u32>,
    log: Vec<Entry>,
}

impl test::e2e::host::HostCounter for Host {
    fn new(&mut self, start: u32) -> HostResource<Counter> {
        self.next += 1;
        self.counters.insert(self.next, start);
        HostResource::new_own(self.next)
    }
    fn get(&mut self, self_: HostResource<Counter>) -> u32 {
        self.counters[&self_.rep()]
    }
    fn bump(&mut self, self_: HostResource<Counter>, by: u32) {
        *self.counters.get_mut(&self_.rep()).unwrap() += by;
    }
    fn drop(&mut self, rep: HostResource<Counter>) -> component_layer::Result<()> {
        self.counters.remove(&rep.rep());
        self.dropped.push(rep.rep());
        Ok(())
    }
}

impl test::e2e::host::Host for Host {
    fn log(&mut self, e: Entry) {
        self.log.push(e);
    }
}

/// The guest of world `e2e`, in WAT.
fn e2e_wat() -> String {
    let pre = r#"
  (import "test:e2e/host" (instance $host-i
    (export "counter" (type $counter (sub resource)))
    (type $entry' (record (field "name" string) (field "value" u32)))
    (export "entry" (type $entry (eq $entry')))
    (export "[constructor]counter" (func (param "start" u32) (result (own $counter))))
    (export "[method]counter.get" (func (param "self" (borrow $counter)) (result u32)))
    (export "[method]counter.bump" (func (param "self" (borrow $counter)) (param "by" u32)))
    (export "log" (func (param "e" $entry)))))
  (alias export $host-i "counter" (type $counter))
  (alias export $host-i "[constructor]counter" (func $ctor))
  (alias export $host-i "[method]counter.get" (func $get))
  (alias export $host-i "[method]counter.bump" (func $bump))
  (alias export $host-i "log" (func $log))
  (core func $ctor-l (canon lower (func $ctor)))
  (core func $get-l (canon lower (func $get)))
  (core func $bump-l (canon lower (func $bump)))
  (core func $log-l (canon lower (func $log) (memory $mem)))
  (core func $counter-drop (canon resource.drop $counter))
  (type $acc (resource (rep i32)))
  (core func $acc-new (canon resource.new $acc))
  (core instance $host
    (export "ctor" (func $ctor-l))
    (export "get" (func $get-l))
    (export "bump" (func $bump-l))
    (export "log" (func $log-l))
    (export "counter-drop" (func $counter-drop))
    (export "acc-new" (func $acc-new)))
"#;
    let core_imports = r#"
    (import "host" "ctor" (func $ctor (param i32) (result i32)))
    (import "host" "get" (func $get (param i32) (result i32)))
    (import "host" "bump" (func $bump (param i32 i32)))
    (import "host" "log" (func $log (param i32 i32 i32)))
    (import "host" "counter-drop" (func $counter-drop (param i32)))
    (import "host" "acc-new" (func $acc-new (param i32) (result i32)))
"#;
    let core = r#"
    (global $next (mut i32) (i32.const 0x200))
    (func (export "acc-ctor") (param $start i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $next))
      (global.set $next (i32.add (global.get $next) (i32.const 4)))
      (i32.store (local.get $p) (local.get $start))
      (call $acc-new (local.get $p)))
    (func (export "acc-add") (param $rep i32) (param $n i32)
      (i32.store (local.get $rep) (i32.add (i32.load (local.get $rep)) (local.get $n))))
    (func (export "acc-total") (param $rep i32) (result i32) (i32.load (local.get $rep)))
    (func (export "read-counter") (param $h i32) (result i32)
      (local $r i32)
      (local.set $r (call $get (local.get $h)))
      (call $counter-drop (local.get $h))
      (local.get $r))
    (func (export "take-counter") (param $h i32) (result i32)
      (local $r i32)
      (local.set $r (call $get (local.get $h)))
      (call $bump (local.get $h) (i32.const 100))
      (call $counter-drop (local.get $h))
      (local.get $r))
    (func (export "make-counter") (param $start i32) (result i32)
      (local $h i32)
      (local.set $h (call $ctor (local.get $start)))
      (call $bump (local.get $h) (i32.const 1))
      (local.get $h))
    (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
      (call $log (local.get $ptr) (local.get $len) (local.get $len))
      (call $ret2 (local.get $ptr) (local.get $len)))
"#;
    let items = r#"
  (func $acc-ctor (param "start" u32) (result (own $acc)) (canon lift (core func $i "acc-ctor")))
  (func $acc-add (param "self" (borrow $acc)) (param "n" u32) (canon lift (core func $i "acc-add")))
  (func $acc-total (param "self" (borrow $acc)) (result u32) (canon lift (core func $i "acc-total")))
  (func $read (param "c" (borrow $counter)) (result u32) (canon lift (core func $i "read-counter")))
  (func $take (param "c" (own $counter)) (result u32) (canon lift (core func $i "take-counter")))
  (func $make (param "start" u32) (result (own $counter)) (canon lift (core func $i "make-counter")))
  (component $api-shim
    (import "import-type-counter" (type $counter (sub resource)))
    (import "import-type-acc" (type $acc (sub resource)))
    (import "import-func-ctor" (func $ctor (param "start" u32) (result (own $acc))))
    (import "import-func-add" (func $add (param "self" (borrow $acc)) (param "n" u32)))
    (import "import-func-total" (func $total (param "self" (borrow $acc)) (result u32)))
    (import "import-func-read" (func $read (param "c" (borrow $counter)) (result u32)))
    (import "import-func-take" (func $take (param "c" (own $counter)) (result u32)))
    (import "import-func-make" (func $make (param "start" u32) (result (own $counter))))
    (export $counter-e "counter" (type $counter))
    (export $acc-e "acc" (type $acc))
    (export "[constructor]acc" (func $ctor) (func (param "start" u32) (result (own $acc-e))))
    (export "[method]acc.add" (func $add) (func (param "self" (borrow $acc-e)) (param "n" u32)))
    (export "[method]acc.total" (func $total) (func (param "self" (borrow $acc-e)) (result u32)))
    (export "read-counter" (func $read) (func (param "c" (borrow $counter-e)) (result u32)))
    (export "take-counter" (func $take) (func (param "c" (own $counter-e)) (result u32)))
    (export "make-counter" (func $make) (func (param "start" u32) (result (own $counter-e)))))
  (instance $api (instantiate $api-shim
    (with "import-type-counter" (type $counter))
    (with "import-type-acc" (type $acc))
    (with "import-func-ctor" (func $acc-ctor))
    (with "import-func-add" (func $acc-add))
    (with "import-func-total" (func $acc-total))
    (with "import-func-read" (func $read))
    (with "import-func-take" (func $take))
    (with "import-func-make" (func $make))))
  (export "test:e2e/api" (instance $api))
  (func (export "greet") (param "name" string) (result string)
    (canon lift (core func $i "greet") (memory $mem) (realloc $realloc)))
"#;
    guest_with_imports(pre, core_imports, core, items)
}

#[test]
fn bindgen_end_to_end() {
    both!(|engine| {
        let c = component(&engine, &e2e_wat());
        let mut linker = Linker::new();
        E2e::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
        let pre = E2e::instantiate_pre(&c, &linker).unwrap();
        // One pre-instantiation, several instances (each in its own store).
        for round in 0..3u32 {
            let mut store = Store::new(&engine, Host::default());
            let w = pre.instantiate(&mut store).unwrap();

            // A root export, with a host import that receives a record.
            assert_eq!(w.call_greet(&mut store, "bob").unwrap(), "bob");
            assert_eq!(store.data().log, vec![Entry { name: "bob".into(), value: 3 }]);

            // A guest resource: constructor and methods through `GuestAcc`.
            let api = w.test_e2e_api();
            let acc = api.acc().call_constructor(&mut store, 5 + round).unwrap();
            api.acc().call_add(&mut store, acc.clone(), 7).unwrap();
            assert_eq!(api.acc().call_total(&mut store, acc.clone()).unwrap(), 12 + round);

            // A host resource made by the guest (through the host's constructor), returned as `own`.
            let counter = api.call_make_counter(&mut store, 10).unwrap();
            assert!(counter.owned());
            let rep = counter.rep();
            assert_eq!(store.data().counters[&rep], 11);
            // Lent back to the guest as `borrow`: the guest calls the host's method through it.
            assert_eq!(api.call_read_counter(&mut store, HostResource::new_borrow(rep)).unwrap(), 11);
            assert!(store.data().dropped.is_empty());
            // Given to the guest as `own`: it bumps, then drops it, which runs the host's `drop`.
            assert_eq!(api.call_take_counter(&mut store, counter).unwrap(), 11);
            assert_eq!(store.data().dropped, vec![rep]);
            assert!(!store.data().counters.contains_key(&rep));
        }
    });
}

fn empty_linker<T, E: wasm_runtime_layer::backend::WasmEngine>(_: &component_layer::Engine<E>) -> Linker<T, E> {
    Linker::new()
}

#[test]
fn bindgen_instantiate_pre_reports_missing_imports() {
    both!(|engine| {
        let c = component(&engine, &e2e_wat());
        let linker = empty_linker::<Host, _>(&engine);
        let err = E2e::instantiate_pre(&c, &linker).unwrap_err();
        assert!(err.to_string().contains("test:e2e/host"), "{err}");
    });
}

/// `examples/bindgen.rs`, run as a test (it asserts its own output on both backends).
#[path = "../../examples/bindgen.rs"]
mod example;

#[test]
fn bindgen_example_runs_on_both_backends() {
    example::main().unwrap();
}

/// The host's own record, standing for `test:e2e/host.entry` through `with`.
#[derive(component_layer::ComponentType, component_layer::Lift, component_layer::Lower, Debug, Clone, PartialEq)]
#[component(record)]
pub struct MyEntry {
    name: String,
    value: u32,
}

/// The host's own type for the resource `test:e2e/host.counter` (`HostResource<MyCounter>`).
pub struct MyCounter;

/// World `e2e` again, with single types mapped to the host's, and `log` and the counter's constructor and
/// destructor reaching the store.
mod mapped {
    component_layer::bindgen!({
        path: "tests/it/e2e.wit",
        world: "e2e",
        with: { "test:e2e/host.entry": super::MyEntry, "test:e2e/host/counter": super::MyCounter },
        imports: {
            "test:e2e/host.log": store,
            "test:e2e/host.[constructor]counter": store | trappable,
            "test:e2e/host.[drop]counter": store,
        },
    });
}

/// World `e2e` again, reusing the first bindings of the package `test:e2e` (its imported interface `host`).
mod reused {
    component_layer::bindgen!({ path: "tests/it/e2e.wit", world: "e2e", with: { "test:e2e": super::test::e2e } });
}

/// World `e2e` again, reusing the `mapped` bindings, whose imports reach the store (`…WithStore` traits).
mod reused_store {
    component_layer::bindgen!({ path: "tests/it/e2e.wit", world: "e2e", with: { "test:e2e": super::mapped::test::e2e } });
}

/// Store data of which the host of `mapped` is only a part.
#[derive(Default)]
struct Outer {
    logged_through_store: u32,
    counters_made: u32,
    counters_dropped: Vec<u32>,
    host: MappedHost,
}

#[derive(Default)]
struct MappedHost {
    log: Vec<MyEntry>,
}

impl mapped::test::e2e::host::HostCounter for MappedHost {
    fn get(&mut self, self_: HostResource<MyCounter>) -> u32 {
        self_.rep()
    }
    fn bump(&mut self, _: HostResource<MyCounter>, _: u32) {}
}

impl<E: wasm_runtime_layer::backend::WasmEngine> mapped::test::e2e::host::HostCounterWithStore<Outer, E>
    for MappedHost
{
    fn new(
        mut host: component_layer::Access<'_, Outer, E, Self>,
        start: u32,
    ) -> component_layer::Result<HostResource<MyCounter>> {
        host.data_mut().counters_made += 1;
        Ok(HostResource::new_own(start))
    }
    fn drop(
        mut host: component_layer::Access<'_, Outer, E, Self>,
        rep: HostResource<MyCounter>,
    ) -> component_layer::Result<()> {
        host.data_mut().counters_dropped.push(rep.rep());
        Ok(())
    }
}

impl mapped::test::e2e::host::Host for MappedHost {}

impl<E: wasm_runtime_layer::backend::WasmEngine> mapped::test::e2e::host::HostWithStore<Outer, E> for MappedHost {
    fn log(mut host: component_layer::Access<'_, Outer, E, Self>, e: MyEntry) {
        // The whole store's data, not only this host's part of it.
        host.data_mut().logged_through_store += 1;
        host.get().log.push(e);
    }
}

#[test]
fn bindgen_with_maps_types_and_store_reaches_the_data() {
    // `with` made the generated names aliases of the host's types.
    let _: fn(mapped::test::e2e::host::Entry) -> MyEntry = |e| e;
    let _: fn(mapped::test::e2e::host::Counter) -> MyCounter = |c| c;
    both!(|engine| {
        let c = component(&engine, &e2e_wat());
        let mut linker = Linker::new();
        mapped::E2e::add_to_linker(&mut linker, |o: &mut Outer| &mut o.host).unwrap();
        let mut store = Store::new(&engine, Outer::default());
        let w = mapped::E2e::instantiate(&mut store, &c, &linker).unwrap();
        assert_eq!(w.call_greet(&mut store, "ann").unwrap(), "ann");
        assert_eq!(store.data().host.log, vec![MyEntry { name: "ann".into(), value: 3 }]);
        assert_eq!(store.data().logged_through_store, 1);
        let api = w.test_e2e_api();
        let counter: HostResource<MyCounter> = api.call_make_counter(&mut store, 7).unwrap();
        assert_eq!((counter.rep(), store.data().counters_made), (7, 1));
        // Given back as `own`, the guest drops it: the destructor reaches the store too.
        assert_eq!(api.call_take_counter(&mut store, counter).unwrap(), 7);
        assert_eq!(store.data().counters_dropped, [7]);
    });
}

#[test]
fn bindgen_with_reuses_a_package() {
    // The reused bindings' host resource is the first bindings' marker.
    let _: fn(reused::exports::test::e2e::api::Guest) = |_| ();
    both!(|engine| {
        let c = component(&engine, &e2e_wat());
        let mut linker = Linker::new();
        // The `Host` written for the first bindings implements the reused ones.
        reused::E2e::add_to_linker(&mut linker, |h: &mut Host| h).unwrap();
        let mut store = Store::new(&engine, Host::default());
        let w = reused::E2e::instantiate(&mut store, &c, &linker).unwrap();
        assert_eq!(w.call_greet(&mut store, "cy").unwrap(), "cy");
        let counter: HostResource<Counter> = w.test_e2e_api().call_make_counter(&mut store, 1).unwrap();
        assert_eq!(store.data().counters[&counter.rep()], 2);
    });
}

#[test]
fn bindgen_with_reuses_bindings_that_reach_the_store() {
    both!(|engine| {
        let c = component(&engine, &e2e_wat());
        let mut linker = Linker::new();
        // The host written for `mapped` (with its `…WithStore` impls) implements the reused bindings.
        reused_store::E2e::add_to_linker(&mut linker, |o: &mut Outer| &mut o.host).unwrap();
        let mut store = Store::new(&engine, Outer::default());
        let w = reused_store::E2e::instantiate(&mut store, &c, &linker).unwrap();
        assert_eq!(w.call_greet(&mut store, "bo").unwrap(), "bo");
        assert_eq!(store.data().logged_through_store, 1);
        let counter: HostResource<MyCounter> = w.test_e2e_api().call_make_counter(&mut store, 9).unwrap();
        assert_eq!(w.test_e2e_api().call_take_counter(&mut store, counter).unwrap(), 9);
        assert_eq!((store.data().counters_made, store.data().counters_dropped.clone()), (1, vec![9]));
    });
}

/// Code written against the generated traits, given `&mut Host`.
fn log_twice<H: test::e2e::host::Host>(mut host: H, e: Entry) -> HostResource<Counter> {
    host.log(e.clone());
    host.log(e);
    test::e2e::host::HostCounter::new(&mut host, 4)
}

#[test]
fn bindgen_mut_refs_forward_to_the_host() {
    let mut host = Host::default();
    let counter = log_twice(&mut host, Entry { name: "x".into(), value: 1 });
    assert_eq!(host.log.len(), 2);
    assert_eq!(host.counters[&counter.rep()], 4);
}
