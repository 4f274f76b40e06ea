//! Conversions between wasmparser's core types and `wasm_runtime_layer`'s.

use wasm_runtime_layer::{ExternType, FuncType, GlobalType, MemoryType, RefType, TableType, ValType};
use wasmparser::types::{EntityType, Types};

use crate::abi::layout::FlatType;
use crate::error::{Error, Result};

/// The `wasm_runtime_layer` type of a core entity.
pub fn extern_type(types: &Types, t: &EntityType) -> Result<ExternType> {
    Ok(match t {
        EntityType::Func(id) | EntityType::FuncExact(id) => {
            let f = types[*id].unwrap_func();
            let params = f.params().iter().map(val_type).collect::<Result<Vec<_>>>()?;
            let results = f.results().iter().map(val_type).collect::<Result<Vec<_>>>()?;
            ExternType::Func(FuncType::new(params, results))
        }
        EntityType::Table(t) => {
            let elem = match val_type(&wasmparser::ValType::Ref(t.element_type))? {
                ValType::FuncRef => RefType::FuncRef,
                _ => RefType::ExternRef,
            };
            let min = u32::try_from(t.initial).map_err(|_| Error::unsupported("64-bit tables"))?;
            let max = t.maximum.map(u32::try_from).transpose().map_err(|_| Error::unsupported("64-bit tables"))?;
            ExternType::Table(TableType::new(elem, min, max))
        }
        EntityType::Memory(m) => {
            if m.memory64 || m.shared {
                return Err(Error::unsupported("64-bit or shared memories"));
            }
            let min = u32::try_from(m.initial).map_err(|_| Error::unsupported("memory size"))?;
            let max = m.maximum.map(u32::try_from).transpose().map_err(|_| Error::unsupported("memory size"))?;
            ExternType::Memory(MemoryType::new(min, max))
        }
        EntityType::Global(g) => ExternType::Global(GlobalType::new(val_type(&g.content_type)?, g.mutable)),
        EntityType::Tag(_) => return Err(Error::unsupported("exception tags")),
    })
}

fn val_type(t: &wasmparser::ValType) -> Result<ValType> {
    Ok(match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) if r.is_func_ref() => ValType::FuncRef,
        wasmparser::ValType::Ref(r) if r.is_extern_ref() => ValType::ExternRef,
        wasmparser::ValType::Ref(_) => return Err(Error::unsupported("GC reference types")),
    })
}

/// The core value type of a flattened canonical-ABI value.
pub fn flat_val_type(t: FlatType) -> ValType {
    match t {
        FlatType::I32 => ValType::I32,
        FlatType::I64 => ValType::I64,
        FlatType::F32 => ValType::F32,
        FlatType::F64 => ValType::F64,
    }
}

/// A `wasm_runtime_layer` function type from flat parameter and result types.
pub fn flat_func_type(params: &[FlatType], results: &[FlatType]) -> FuncType {
    FuncType::new(params.iter().map(|t| flat_val_type(*t)), results.iter().map(|t| flat_val_type(*t)))
}
