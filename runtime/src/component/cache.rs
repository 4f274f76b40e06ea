//! Loading the same bytes again: a process-wide cache of plans.
//!
//! Validating and translating a component (parse → inline) is most of what [`super::Component::new`] costs
//! beyond compiling its core modules, and its result, the [`Plan`], depends on nothing but the bytes and the
//! features they were validated with — not on the engine. So a second load of the same bytes reuses the plan of
//! a component that is still alive and only compiles the core modules again, for the engine at hand.
//!
//! The key is the BLAKE3 hash of the bytes (a component may be hostile: a hash nobody can collide on purpose)
//! and the feature set. The cache holds plans weakly: it never keeps a component's plan alive, and entries of
//! dropped plans are swept as the map grows.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::plan::Plan;

/// What a load of some bytes produced: the plan and where its core modules are in the bytes.
#[derive(Clone)]
pub(crate) struct Loaded {
    pub plan: Arc<Plan>,
    pub modules: Arc<[Range<usize>]>,
}

/// The cache key: the bytes' hash and the validation features.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    hash: [u8; 32],
    features: u64,
}

impl Key {
    pub fn of(bytes: &[u8], features: wasmparser::WasmFeatures) -> Key {
        Key { hash: *blake3::hash(bytes).as_bytes(), features: features.bits() }
    }
}

struct Entry {
    plan: Weak<Plan>,
    modules: Arc<[Range<usize>]>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Entry>,
    /// The map's size after the last sweep: sweeping again when it has doubled keeps inserts O(1) amortised.
    swept_at: usize,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn cache() -> MutexGuard<'static, Option<Cache>> {
    // Nothing in the cache can be left half-updated by a panic elsewhere: a poisoned lock is still usable.
    CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The plan of a live component loaded from the same bytes with the same features, if there is one.
pub(crate) fn get(key: &Key) -> Option<Loaded> {
    let guard = cache();
    let entry = guard.as_ref()?.entries.get(key)?;
    Some(Loaded { plan: entry.plan.upgrade()?, modules: entry.modules.clone() })
}

/// Remembers what loading the bytes of `key` produced.
pub(crate) fn put(key: Key, loaded: &Loaded) {
    let mut guard = cache();
    let cache = guard.get_or_insert_with(Cache::default);
    if cache.entries.len() >= 2 * cache.swept_at.max(16) {
        cache.entries.retain(|_, e| e.plan.strong_count() > 0);
        cache.swept_at = cache.entries.len();
    }
    cache.entries.insert(key, Entry { plan: Arc::downgrade(&loaded.plan), modules: loaded.modules.clone() });
}
