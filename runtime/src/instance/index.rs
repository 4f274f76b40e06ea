//! Export indices: an export found by name once, on the [`Component`], and then looked up in each of its
//! instances by position — no hashing or string comparison on the hot path (as wasmtime's
//! `ComponentExportIndex`).
//!
//! An index is a path of positions in the plan's export maps (root, then nested instances). Each [`Instance`]
//! keeps, per level, where each of the plan's exports ended up among the exports it shows the host, so a lookup
//! is one array access per level.

use smallvec::SmallVec;

use super::{Export, Instance};
use crate::component::plan;
use crate::component::Component;
use crate::error::Result;
use crate::func::typed::{ComponentParams, ComponentResults, TypedFunc};
use crate::func::Func;

/// The position of an export of a [`Component`] (possibly nested in exported instances), valid for every
/// instance of that component.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportIndex {
    component: u64,
    path: SmallVec<[u32; 2]>,
}

/// What [`Instance::get_export`], [`Instance::get_func`] and [`Instance::get_typed_func`] accept: an export's
/// name at the root (`&str`, `String`) or an [`ExportIndex`] at any depth.
pub trait ExportLookup {
    /// The export of `instance` this stands for.
    #[doc(hidden)]
    fn lookup<'a>(&self, instance: &'a Instance) -> Option<&'a Export>;
}

impl ExportLookup for str {
    fn lookup<'a>(&self, instance: &'a Instance) -> Option<&'a Export> {
        instance.exports.get(self)
    }
}

impl ExportLookup for String {
    fn lookup<'a>(&self, instance: &'a Instance) -> Option<&'a Export> {
        instance.exports.get(self.as_str())
    }
}

impl ExportLookup for ExportIndex {
    fn lookup<'a>(&self, instance: &'a Instance) -> Option<&'a Export> {
        if self.component != instance.component.id {
            return None;
        }
        let (first, rest) = self.path.split_first()?;
        let slot = (*instance.slots.get(*first as usize)?)?;
        let mut export = instance.exports.get_index(slot as usize)?.1;
        for i in rest {
            let Export::Instance(inst) = export else { return None };
            let slot = (*inst.slots.get(*i as usize)?)?;
            export = inst.exports.get_index(slot as usize)?.1;
        }
        Some(export)
    }
}

impl<L: ExportLookup + ?Sized> ExportLookup for &L {
    fn lookup<'a>(&self, instance: &'a Instance) -> Option<&'a Export> {
        (**self).lookup(instance)
    }
}

impl Component {
    /// The index of the export `name` at the root (`instance` `None`) or inside the exported instance
    /// `instance`; `None` if there is no such export. Look it up once and use it with [`Instance::get_func`]
    /// and [`Instance::get_typed_func`] on every instance of this component.
    pub fn get_export_index(&self, instance: Option<&ExportIndex>, name: &str) -> Option<ExportIndex> {
        let mut map = &self.plan.exports;
        let mut path = SmallVec::new();
        if let Some(parent) = instance {
            if parent.component != self.id {
                return None;
            }
            for i in &parent.path {
                match map.get_index(*i as usize)?.1 {
                    plan::Export::Instance(m) => map = m,
                    _ => return None,
                }
            }
            path.extend_from_slice(&parent.path);
        }
        path.push(map.get_index_of(name)? as u32);
        Some(ExportIndex { component: self.id, path })
    }
}

impl Instance {
    /// The index of an export, as [`Component::get_export_index`].
    pub fn get_export_index(&self, instance: Option<&ExportIndex>, name: &str) -> Option<ExportIndex> {
        self.component.get_export_index(instance, name)
    }

    /// The function at `index` (a root name or an [`ExportIndex`]), as a typed function checked against `P`
    /// and `R`. Fails if there is no such function or its type differs.
    pub fn get_typed_func<P, R>(&self, index: impl ExportLookup) -> Result<TypedFunc<P, R>>
    where
        P: ComponentParams,
        R: ComponentResults,
    {
        let func: Func = match index.lookup(self) {
            Some(Export::Func(f)) => f.clone(),
            _ => return Err(crate::Error::usage("no exported function at this name or index")),
        };
        func.typed()
    }
}
