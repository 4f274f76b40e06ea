//! The host's resource table: the handles the host holds ([`ResourceAny`]), and the state of typed host
//! resources ([`super::Resource`]).
//!
//! A handle that leaves the components for the host gets an entry here; the entry lives while some
//! `ResourceAny` clone refers to it (a weak token), so a forgotten handle never leaks a slot or keeps a resource
//! borrowed.

use std::any::{Any, TypeId};
use std::sync::{Arc, Weak};

use super::{ResourceAny, ResourceType};
use crate::error::{Error, Result, Trap};

/// An entry of the host table.
pub(crate) struct HostEntry {
    pub rt: ResourceType,
    pub rep: u32,
    pub own: bool,
    /// Borrows lent from this handle to calls in progress.
    pub lends: u32,
    /// Alive while some `ResourceAny` clone refers to this entry.
    pub token: Weak<()>,
}

/// The host's resource table.
#[derive(Default)]
pub(crate) struct HostTable {
    slots: Vec<Option<HostEntry>>,
    free: Vec<u32>,
    /// The host state of typed host resources ([`Resource<R>`]); a resource's rep is its index here.
    pub values: HostValues,
}

/// Host state of typed host resources, indexed by rep.
#[derive(Default)]
pub(crate) struct HostValues {
    slots: Vec<Option<(TypeId, Box<dyn Any + Send>)>>,
    free: Vec<u32>,
}

impl HostValues {
    pub(super) fn insert<R: Any + Send>(&mut self, value: R) -> Result<u32> {
        let v: (TypeId, Box<dyn Any + Send>) = (TypeId::of::<R>(), Box::new(value));
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = Some(v);
            return Ok(i);
        }
        let i = u32::try_from(self.slots.len()).map_err(|_| Error::trap(Trap::TableFull))?;
        self.slots.push(Some(v));
        Ok(i)
    }

    pub(super) fn get<R: Any>(&self, rep: u32) -> Option<&R> {
        self.slots.get(rep as usize)?.as_ref().filter(|(t, _)| *t == TypeId::of::<R>())?.1.downcast_ref()
    }

    pub(super) fn get_mut<R: Any>(&mut self, rep: u32) -> Option<&mut R> {
        self.slots.get_mut(rep as usize)?.as_mut().filter(|(t, _)| *t == TypeId::of::<R>())?.1.downcast_mut()
    }

    /// Takes the value of type `type_id` at `rep` out, if there is one.
    pub(crate) fn take(&mut self, type_id: TypeId, rep: u32) -> Option<Box<dyn Any + Send>> {
        let slot = self.slots.get_mut(rep as usize)?;
        if slot.as_ref().is_some_and(|(t, _)| *t == type_id) {
            self.free.push(rep);
            return slot.take().map(|(_, v)| v);
        }
        None
    }
}

impl HostTable {
    /// Adds an entry, reclaiming entries whose `ResourceAny`s were all dropped.
    pub fn insert(&mut self, store: u64, rt: ResourceType, rep: u32, own: bool) -> ResourceAny {
        if self.free.is_empty() && self.slots.len() >= 64 && self.slots.len().is_power_of_two() {
            self.sweep();
        }
        let token = Arc::new(());
        let entry = HostEntry { rt: rt.clone(), rep, own, lends: 0, token: Arc::downgrade(&token) };
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(entry);
                i
            }
            None => {
                self.slots.push(Some(entry));
                (self.slots.len() - 1) as u32
            }
        };
        ResourceAny { store, index, ty: rt, own, token }
    }

    /// The live entry a handle refers to.
    pub fn get(&self, r: &ResourceAny) -> Option<&HostEntry> {
        self.slots
            .get(r.index as usize)?
            .as_ref()
            .filter(|e| e.token.upgrade().is_some_and(|t| Arc::ptr_eq(&t, &r.token)))
    }

    /// Removes the entry a handle refers to.
    pub fn remove(&mut self, r: &ResourceAny) -> Option<HostEntry> {
        self.get(r)?;
        let e = self.slots[r.index as usize].take();
        self.free.push(r.index);
        e
    }

    /// Frees entries no `ResourceAny` refers to any more.
    pub fn reclaim(&mut self) {
        self.sweep();
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    fn sweep(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let Some(e) = slot.take_if(|e| e.token.strong_count() == 0 && e.lends == 0) else { continue };
            // An owned typed host resource nobody can reach any more: its state goes too.
            if let (true, Some(t)) = (e.own, e.rt.host_type_id()) {
                self.values.take(t, e.rep);
            }
            self.free.push(i as u32);
        }
    }
}
