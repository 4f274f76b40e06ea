//! The test host environment: the synchronous part of wasmtime's `link_component_spectest`, defined the same
//! way for both component-layer and wasmtime so that host-dependent upstream `.wast` files run everywhere.
//!
//! * root `host-return-two: func() -> u32` (2);
//! * instance `host`: `return-three` (3), `nested` → `return-four` (4), `return-hi` ("hi"), the core module
//!   `simple-module` (global `g` = 100, func `f` → 101);
//! * host resources `resource1` (destructor counts drops and remembers the last rep), `resource1-again` (the same
//!   type) and `resource2`, with `[constructor]resource1(rep)`, `[static]resource1.assert(own, rep)`,
//!   `[static]resource1.last-drop`, `[static]resource1.drops`, `[method]resource1.simple(self, rep)`,
//!   `[method]resource1.take-borrow(self, borrow)` and `[method]resource1.take-own(self, own)`.
//!
//! The async functions of wasmtime's environment are not defined: components that import them need async and are
//! skipped. Where wasmtime's environment panics on a failed assertion, this one returns an error (a trap).

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;

use anyhow::{bail, ensure};
use component_layer::types::{FuncType, ValueType};
use component_layer::{Linker, ResourceAny, ResourceType, Value};
use wasm_runtime_layer::backend::WasmEngine;

const SIMPLE_MODULE: &str = r#"
    (module
        (global (export "g") i32 i32.const 100)
        (func (export "f") (result i32) i32.const 101)
    )
"#;

/// Marker type of the `resource1` host resource.
pub struct Resource1;
/// Marker type of the `resource2` host resource.
pub struct Resource2;

#[derive(Default)]
struct DropState {
    drops: AtomicU32,
    last_drop: AtomicU32,
}

fn ty(params: &[ValueType], result: Option<ValueType>) -> FuncType {
    FuncType::new(params.iter().enumerate().map(|(i, t)| (format!("p{i}"), t.clone())), result)
}

/// Defines the environment in a component-layer linker.
pub fn define_layer<E: WasmEngine>(
    linker: &mut Linker<(), E>,
    engine: &component_layer::Engine<E>,
) -> anyhow::Result<()> {
    linker.root().func_wrap("host-return-two", |_, (): ()| Ok((2u32,)))?;
    let host = linker.instance("host")?;
    host.func_wrap("return-three", |_, (): ()| Ok((3u32,)))?;
    host.instance("nested")?.func_wrap("return-four", |_, (): ()| Ok((4u32,)))?;
    host.func_wrap("return-hi", |_, (): ()| Ok(("hi".to_string(),)))?;
    let module = component_layer::Module::new(engine, &wat::parse_str(SIMPLE_MODULE)?)?;
    host.module("simple-module", &module)?;

    let state = Arc::new(DropState::default());
    let r1 = ResourceType::host::<Resource1>();
    let r2 = ResourceType::host::<Resource2>();
    {
        let state = state.clone();
        host.resource("resource1", r1.clone(), move |_, rep| {
            state.drops.fetch_add(1, SeqCst);
            state.last_drop.store(rep, SeqCst);
            Ok(())
        })?;
    }
    host.resource("resource2", r2, |_, _| Ok(()))?;
    host.resource("resource1-again", r1.clone(), |_, _| bail!("resource1-again should not be destroyed"))?;

    let own = ValueType::Own(r1.clone());
    let borrow = ValueType::Borrow(r1.clone());
    {
        let r1 = r1.clone();
        host.func_new_typed("[constructor]resource1", ty(&[ValueType::U32], Some(own.clone())), move |ctx, p, r| {
            let Value::U32(rep) = p[0] else { bail!("expected u32") };
            r[0] = Value::Resource(ResourceAny::new_own(ctx, r1.clone(), rep)?);
            Ok(())
        })?;
    }
    host.func_new_typed("[static]resource1.assert", ty(&[own.clone(), ValueType::U32], None), |mut ctx, p, _| {
        let (Value::Resource(res), Value::U32(rep)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(res.rep(&mut ctx)? == *rep, "resource1.assert: wrong rep");
        Ok(())
    })?;
    {
        let state = state.clone();
        host.func_new_typed("[static]resource1.last-drop", ty(&[], Some(ValueType::U32)), move |_, _, r| {
            r[0] = Value::U32(state.last_drop.load(SeqCst));
            Ok(())
        })?;
    }
    {
        let state = state.clone();
        host.func_new_typed("[static]resource1.drops", ty(&[], Some(ValueType::U32)), move |_, _, r| {
            r[0] = Value::U32(state.drops.load(SeqCst));
            Ok(())
        })?;
    }
    host.func_new_typed("[method]resource1.simple", ty(&[borrow.clone(), ValueType::U32], None), |mut ctx, p, _| {
        let (Value::Resource(res), Value::U32(rep)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!res.owned(), "resource1.simple: expected a borrow");
        ensure!(res.rep(&mut ctx)? == *rep, "resource1.simple: wrong rep");
        Ok(())
    })?;
    host.func_new_typed("[method]resource1.take-borrow", ty(&[borrow.clone(), borrow.clone()], None), |_, p, _| {
        let (Value::Resource(a), Value::Resource(b)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!a.owned() && !b.owned(), "take-borrow: expected borrows");
        Ok(())
    })?;
    host.func_new_typed("[method]resource1.take-own", ty(&[borrow, own], None), |_, p, _| {
        let (Value::Resource(a), Value::Resource(b)) = (&p[0], &p[1]) else { bail!("bad arguments") };
        ensure!(!a.owned() && b.owned(), "take-own: expected a borrow and an own");
        Ok(())
    })?;
    Ok(())
}

/// Defines the environment in a wasmtime linker.
pub fn define_wasmtime(
    linker: &mut wasmtime::component::Linker<()>,
    engine: &wasmtime::Engine,
) -> wasmtime::Result<()> {
    use wasmtime::component::{Resource, ResourceType};
    linker.root().func_wrap("host-return-two", |_, (): ()| Ok((2u32,)))?;
    let mut host = linker.instance("host")?;
    host.func_wrap("return-three", |_, (): ()| Ok((3u32,)))?;
    host.instance("nested")?.func_wrap("return-four", |_, (): ()| Ok((4u32,)))?;
    host.func_wrap("return-hi", |_, (): ()| Ok(("hi".to_string(),)))?;
    let module = wasmtime::Module::new(engine, SIMPLE_MODULE)?;
    host.module("simple-module", &module)?;

    let state = Arc::new(DropState::default());
    {
        let state = state.clone();
        host.resource("resource1", ResourceType::host::<Resource1>(), move |_, rep| {
            state.drops.fetch_add(1, SeqCst);
            state.last_drop.store(rep, SeqCst);
            Ok(())
        })?;
    }
    host.resource("resource2", ResourceType::host::<Resource2>(), |_, _| Ok(()))?;
    host.resource("resource1-again", ResourceType::host::<Resource1>(), |_, _| {
        wasmtime::bail!("resource1-again should not be destroyed")
    })?;
    host.func_wrap("[constructor]resource1", |_, (rep,): (u32,)| Ok((Resource::<Resource1>::new_own(rep),)))?;
    host.func_wrap("[static]resource1.assert", |_, (res, rep): (Resource<Resource1>, u32)| {
        if res.rep() != rep {
            wasmtime::bail!("resource1.assert: wrong rep");
        }
        Ok(())
    })?;
    {
        let state = state.clone();
        host.func_wrap("[static]resource1.last-drop", move |_, (): ()| Ok((state.last_drop.load(SeqCst),)))?;
    }
    host.func_wrap("[static]resource1.drops", move |_, (): ()| Ok((state.drops.load(SeqCst),)))?;
    host.func_wrap("[method]resource1.simple", |_, (res, rep): (Resource<Resource1>, u32)| {
        if res.owned() || res.rep() != rep {
            wasmtime::bail!("resource1.simple: bad resource");
        }
        Ok(())
    })?;
    host.func_wrap("[method]resource1.take-borrow", |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
        if a.owned() || b.owned() {
            wasmtime::bail!("take-borrow: expected borrows");
        }
        Ok(())
    })?;
    host.func_wrap("[method]resource1.take-own", |_, (a, b): (Resource<Resource1>, Resource<Resource1>)| {
        if a.owned() || !b.owned() {
            wasmtime::bail!("take-own: expected a borrow and an own");
        }
        Ok(())
    })?;
    Ok(())
}
