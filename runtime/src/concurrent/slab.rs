//! A slab: values addressed by a stable `u32`, with freed slots reused. Tasks, waitables and shared streams live
//! in slabs owned by the store, so that handle-table elements and tasks refer to each other by number.

use crate::error::{Error, Result};

/// A slab of `T`.
pub(crate) struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { slots: Vec::new(), free: Vec::new() }
    }
}

impl<T> Slab<T> {
    /// Stores `v` and returns its id.
    pub fn insert(&mut self, v: T) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(v);
                i
            }
            None => {
                self.slots.push(Some(v));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// The value `i`.
    pub fn get(&self, i: u32) -> Result<&T> {
        self.slots.get(i as usize).and_then(Option::as_ref).ok_or_else(|| Error::internal("dangling async state id"))
    }

    /// The value `i`, mutably.
    pub fn get_mut(&mut self, i: u32) -> Result<&mut T> {
        self.slots
            .get_mut(i as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| Error::internal("dangling async state id"))
    }

    /// Takes the value `i` out.
    pub fn remove(&mut self, i: u32) -> Option<T> {
        let v = self.slots.get_mut(i as usize)?.take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    /// The number of live values.
    #[cfg(test)]
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The number of slots (live or free): ids are below it.
    pub fn capacity(&self) -> u32 {
        self.slots.len() as u32
    }
}
