//! Core modules as component-level items: imported by components, exported by them, or defined in a linker.

use std::any::Any;
use std::sync::Arc;

use wasm_runtime_layer::backend::{WasmEngine, WasmModule};
use wasm_runtime_layer::{Engine, ExternType};

use crate::component::plan::ModuleImportType;
use crate::error::{Error, ErrorKind, Result};

/// A compiled core module.
#[derive(Clone)]
pub struct Module {
    inner: Arc<dyn Any + Send + Sync>,
    imports: Arc<[(String, String, ExternType)]>,
    exports: Arc<[(String, ExternType)]>,
}

impl Module {
    /// Compiles a core module.
    pub fn new<E: WasmEngine>(engine: &Engine<E>, bytes: &[u8]) -> Result<Module> {
        let backend = engine.clone().into_backend();
        let m = E::Module::new(&backend, bytes).map_err(|e| Error::new(ErrorKind::Compile(format!("{e:#}"))))?;
        Ok(Self::from_backend::<E>(m))
    }

    pub(crate) fn from_backend<E: WasmEngine>(m: E::Module) -> Module {
        let imports = m.imports().map(|i| (i.module.to_owned(), i.name.to_owned(), i.ty)).collect();
        let exports = m.exports().map(|e| (e.name.to_owned(), e.ty)).collect();
        Module { inner: Arc::new(m), imports, exports }
    }

    pub(crate) fn backend<E: WasmEngine>(&self) -> Result<&E::Module> {
        self.inner.downcast_ref::<E::Module>().ok_or_else(|| Error::usage("module of a different engine type"))
    }

    /// The module's imports: (module, name, type).
    pub fn imports(&self) -> &[(String, String, ExternType)] {
        &self.imports
    }

    /// The module's exports: (name, type).
    pub fn exports(&self) -> &[(String, ExternType)] {
        &self.exports
    }

    /// Checks that this module can stand in for a module import of type `want`: it imports nothing the
    /// component does not pass, and exports everything the component uses. The error says what does not match,
    /// for the caller to put in a link error.
    pub(crate) fn check(&self, want: &ModuleImportType) -> std::result::Result<(), String> {
        for (m, n, ty) in self.imports.iter() {
            let provided = want.imports.iter().find(|(wm, wn, _)| wm == m && wn == n);
            match provided {
                Some((_, _, wt)) if extern_matches(wt, ty) => {}
                Some(_) => return Err(format!("module import `{m}` `{n}` has the wrong type")),
                None => return Err(format!("module imports `{m}` `{n}`, which the component does not provide")),
            }
        }
        for (n, wt) in want.exports.iter() {
            match self.exports.iter().find(|(e, _)| e == n) {
                Some((_, ty)) if extern_matches(ty, wt) => {}
                Some(_) => return Err(format!("module export `{n}` has the wrong type")),
                None => return Err(format!("module does not export `{n}`")),
            }
        }
        Ok(())
    }
}

/// Core subtyping of an actual extern type `have` against an expected `want`.
fn extern_matches(have: &ExternType, want: &ExternType) -> bool {
    let limits = |hmin: u32, hmax: Option<u32>, wmin: u32, wmax: Option<u32>| {
        hmin >= wmin
            && match (hmax, wmax) {
                (_, None) => true,
                (Some(h), Some(w)) => h <= w,
                (None, Some(_)) => false,
            }
    };
    match (have, want) {
        (ExternType::Func(a), ExternType::Func(b)) => a == b,
        (ExternType::Global(a), ExternType::Global(b)) => a == b,
        (ExternType::Memory(a), ExternType::Memory(b)) => {
            limits(a.initial_pages(), a.maximum_pages(), b.initial_pages(), b.maximum_pages())
        }
        (ExternType::Table(a), ExternType::Table(b)) => {
            a.element() == b.element() && limits(a.minimum(), a.maximum(), b.minimum(), b.maximum())
        }
        _ => false,
    }
}
