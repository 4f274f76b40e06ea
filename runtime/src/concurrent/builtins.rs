//! The async and error-context built-ins as core functions: each `canon` built-in of the plan becomes one host
//! function of the core engine with the spec's core signature, which dispatches to the module implementing it.

use std::sync::Arc;

use wasm_runtime_layer::backend::{
    AsContext as _, AsContextMut as _, Val, WasmEngine, WasmMemory, WasmStoreContextMut,
};
use wasm_runtime_layer::{FuncType, ValType};

use super::waitable::i32_result;
use super::{copy, subtask, task, waitable, AsyncTrap, ErrorContext};
use crate::abi::layout::FlatType;
use crate::abi::table::Element;
use crate::abi::types::Ty;
use crate::abi::{val_bits, CallOptions, Cx};
use crate::component::plan::{Builtin, CoreDef, Options, Plan};
use crate::error::{trap, Error, Result, Trap};
use crate::resources::ResourceType;
use crate::store::Ctx;

/// A built-in as the plan defines it.
pub(crate) type PlanBuiltin = Builtin<Ty, Options, CoreDef>;

/// A built-in with its options resolved in an instance.
pub(crate) struct BuiltinFunc<E: WasmEngine> {
    pub builtin: PlanBuiltin,
    /// The store-level instance it acts for.
    pub inst: u32,
    /// Its options (`memory` alone for `waitable-set.wait`/`poll`).
    pub opts: CallOptions<E>,
    pub plan: Arc<Plan>,
    pub resources: Arc<[ResourceType]>,
}

/// The core signature of a built-in.
pub(crate) fn core_type(b: &PlanBuiltin, plan: &Plan) -> FuncType {
    use Builtin::*;
    let (i32_, i64_) = (ValType::I32, ValType::I64);
    match b {
        TaskReturn { result, .. } => {
            let params = match result.map(|t| plan.types.layout(t).flat.clone()) {
                None => Vec::new(),
                Some(Some(flat)) if flat.len() <= crate::abi::layout::MAX_FLAT_PARAMS => {
                    flat.iter().map(|f| flat_val(*f)).collect()
                }
                Some(_) => vec![i32_],
            };
            FuncType::new(params, [])
        }
        TaskCancel | BackpressureInc | BackpressureDec => FuncType::new([], []),
        ContextGet(_) | ThreadYield { .. } | WaitableSetNew => FuncType::new([], [i32_]),
        ContextSet(_)
        | WaitableSetDrop
        | SubtaskDrop
        | DropReadable { .. }
        | DropWritable { .. }
        | ErrorContextDrop => FuncType::new([i32_], []),
        WaitableSetWait { .. } | WaitableSetPoll { .. } => FuncType::new([i32_, i32_], [i32_]),
        WaitableJoin | ErrorContextDebugMessage { .. } => FuncType::new([i32_, i32_], []),
        SubtaskCancel { .. } | CancelRead { .. } | CancelWrite { .. } => FuncType::new([i32_], [i32_]),
        New { .. } => FuncType::new([], [i64_]),
        Read { kind: crate::component::plan::CopyKind::Stream, .. }
        | Write { kind: crate::component::plan::CopyKind::Stream, .. } => FuncType::new([i32_, i32_, i32_], [i32_]),
        Read { .. } | Write { .. } => FuncType::new([i32_, i32_], [i32_]),
        ErrorContextNew { .. } => FuncType::new([i32_, i32_], [i32_]),
    }
}

fn flat_val(f: FlatType) -> ValType {
    match f {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}

/// Runs built-in `b` with core arguments `args`.
pub(crate) fn call<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    args: &[Val<E>],
    results: &mut [Val<E>],
) -> Result<()> {
    use Builtin::*;
    let arg = |i: usize| args.get(i).map_or(0, |v| val_bits(v) as u32);
    let inst = b.inst;
    match &b.builtin {
        TaskReturn { result, .. } => task::task_return::<T, E>(ctx, b, *result, args),
        TaskCancel => task::task_cancel::<T, E>(ctx),
        ContextGet(slot) => {
            let rt = &mut ctx.data_mut().rt;
            let v = *task::context_slots(rt)?.get(*slot as usize).ok_or_else(|| Error::internal("context slot"))?;
            i32_result(results, v);
            Ok(())
        }
        ContextSet(slot) => {
            let rt = &mut ctx.data_mut().rt;
            let s = task::context_slots(rt)?.get_mut(*slot as usize).ok_or_else(|| Error::internal("context slot"))?;
            *s = arg(0);
            Ok(())
        }
        BackpressureInc | BackpressureDec => {
            backpressure(&mut ctx.data_mut().rt, inst, matches!(b.builtin, BackpressureInc))
        }
        ThreadYield { cancellable } => {
            let rt = &mut ctx.data_mut().rt;
            task::may_leave(rt, inst)?;
            let cancelled = *cancellable && take_cancel(rt)?;
            i32_result(results, u32::from(cancelled));
            Ok(())
        }
        WaitableSetNew => {
            let i = waitable::waitable_set_new(&mut ctx.data_mut().rt, inst)?;
            i32_result(results, i);
            Ok(())
        }
        WaitableSetWait { cancellable, .. } => {
            let code = waitable::waitable_set_wait::<T, E>(ctx, b, *cancellable, arg(0), arg(1))?;
            i32_result(results, code);
            Ok(())
        }
        WaitableSetPoll { cancellable, .. } => {
            let code = waitable::waitable_set_poll::<T, E>(ctx, b, *cancellable, arg(0), arg(1))?;
            i32_result(results, code);
            Ok(())
        }
        WaitableSetDrop => waitable::waitable_set_drop(&mut ctx.data_mut().rt, inst, arg(0)),
        WaitableJoin => waitable::waitable_join(&mut ctx.data_mut().rt, inst, arg(0), arg(1)),
        SubtaskDrop => subtask::subtask_drop(&mut ctx.data_mut().rt, inst, arg(0)),
        SubtaskCancel { async_ } => {
            let state = subtask::subtask_cancel::<T, E>(ctx, inst, *async_, arg(0))?;
            i32_result(results, state);
            Ok(())
        }
        New { kind, .. } => {
            let packed = copy::new(&mut ctx.data_mut().rt, inst, *kind)?;
            if let Some(r) = results.first_mut() {
                *r = Val::I64(packed as i64);
            }
            Ok(())
        }
        Read { kind, ty, options } | Write { kind, ty, options } => {
            let readable = matches!(b.builtin, Read { .. });
            let n = match kind {
                crate::component::plan::CopyKind::Stream => arg(2),
                crate::component::plan::CopyKind::Future => 1,
            };
            let r = copy::copy::<T, E>(ctx, b, *kind, *ty, options.async_, readable, arg(0), arg(1), n)?;
            i32_result(results, r);
            Ok(())
        }
        CancelRead { kind, async_, .. } | CancelWrite { kind, async_, .. } => {
            let readable = matches!(b.builtin, CancelRead { .. });
            let r = copy::cancel::<T, E>(ctx, inst, *kind, readable, *async_, arg(0))?;
            i32_result(results, r);
            Ok(())
        }
        DropReadable { kind, .. } => copy::drop_end(&mut ctx.data_mut().rt, inst, *kind, true, arg(0)),
        DropWritable { kind, .. } => copy::drop_end(&mut ctx.data_mut().rt, inst, *kind, false, arg(0)),
        ErrorContextNew { .. } => {
            let i = error_context_new::<T, E>(ctx, b, arg(0), arg(1))?;
            i32_result(results, i);
            Ok(())
        }
        ErrorContextDebugMessage { .. } => error_context_debug_message::<T, E>(ctx, b, arg(0), arg(1)),
        ErrorContextDrop => {
            let rt = &mut ctx.data_mut().rt;
            task::may_leave(rt, inst)?;
            match rt.instances[inst as usize].handles.element(arg(0))? {
                Element::ErrorContext(_) => rt.instances[inst as usize].handles.remove_element(arg(0)).map(drop),
                _ => trap(Trap::HandleType),
            }
        }
    }
}

/// `canon backpressure.inc` / `.dec` (allowed where the instance may not leave, as in the spec).
fn backpressure<E: WasmEngine>(rt: &mut crate::store::RuntimeState<E>, inst: u32, inc: bool) -> Result<()> {
    let i = &mut rt.instances[inst as usize];
    match (inc, i.backpressure) {
        (true, n) if n >= u32::from(u16::MAX) => trap(Trap::Async(AsyncTrap::BackpressureOverflow)),
        (false, 0) => trap(Trap::Async(AsyncTrap::BackpressureUnderflow)),
        (true, _) => {
            i.backpressure += 1;
            Ok(())
        }
        (false, _) => {
            i.backpressure -= 1;
            Ok(())
        }
    }
}

/// Delivers a cancellation pending on the current async task, for `thread.yield cancellable`.
fn take_cancel<E: WasmEngine>(rt: &mut crate::store::RuntimeState<E>) -> Result<bool> {
    let super::Current::Async(id) = rt.concurrent.current else { return Ok(false) };
    let t = rt.concurrent.tasks.get_mut(id)?;
    if t.state == task::TaskState::PendingCancel {
        t.state = task::TaskState::CancelDelivered;
        return Ok(true);
    }
    Ok(false)
}

/// `canon error-context.new`: the debug message is lifted as a string with the built-in's options.
fn error_context_new<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    ptr: u32,
    units: u32,
) -> Result<u32> {
    task::may_leave(&ctx.data_mut().rt, b.inst)?;
    let mut cx = Cx::new(ctx, &b.opts, &b.plan.types, &b.resources);
    let s = cx.lift_flat(Ty::String, &mut crate::abi::lift::FlatSrc::new(&[u64::from(ptr), u64::from(units)]))?;
    let crate::values::Value::String(msg) = s else { return Err(Error::internal("a string lifted as another value")) };
    let rt = &mut ctx.data_mut().rt;
    rt.instances[b.inst as usize].handles.add_element(Element::ErrorContext(ErrorContext { debug_message: msg.into() }))
}

/// `canon error-context.debug-message`: stores the message as a string at `ptr` (pointer and length).
fn error_context_debug_message<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    b: &BuiltinFunc<E>,
    i: u32,
    ptr: u32,
) -> Result<()> {
    let rt = &mut ctx.data_mut().rt;
    task::may_leave(rt, b.inst)?;
    let msg = match rt.instances[b.inst as usize].handles.element(i)? {
        Element::ErrorContext(e) => e.debug_message.clone(),
        _ => return trap(Trap::HandleType),
    };
    let mut cx = Cx::new(ctx, &b.opts, &b.plan.types, &b.resources);
    cx.check_range(ptr, 8, 4)?;
    let v = crate::values::Value::String(msg.as_ref().into());
    cx.store_values(&[Ty::String], &[0], std::slice::from_ref(&v), ptr, 8)
}

/// Stores `u32`s at `ptr` (4-aligned, in bounds) in the memory of `opts`.
pub(crate) fn store_u32s<T: 'static, E: WasmEngine>(
    ctx: &mut Ctx<'_, T, E>,
    opts: &CallOptions<E>,
    ptr: u32,
    vals: &[u32],
) -> Result<()> {
    let mem = opts.memory.as_ref().ok_or_else(|| Error::internal("a built-in without its memory"))?;
    let len = 4 * vals.len() as u64;
    if !ptr.is_multiple_of(4) {
        return Err(Error::trap(Trap::Misaligned).at_offset(ptr));
    }
    let size = u64::from(mem.current_pages(ctx.as_context())) * 65536;
    if u64::from(ptr) + len > size {
        return Err(Error::trap(Trap::OutOfBounds).at_offset(ptr));
    }
    let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    mem.write(ctx.as_context_mut(), ptr as usize, &bytes).map_err(|_| Error::trap(Trap::OutOfBounds).at_offset(ptr))
}
