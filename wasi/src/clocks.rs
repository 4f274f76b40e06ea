//! `wasi:clocks` and `wasi:random`, read from the context's injectable sources.

use component_layer::{HostResource, Result};

use crate::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use crate::bindings::wasi::io::poll;
use crate::bindings::wasi::random::{insecure, insecure_seed, random};
use crate::io::Pollable;
use crate::table::trap;
use crate::WasiCtx;

/// The most bytes one `get-random-bytes` or `get-insecure-random-bytes` returns (as wasmtime-wasi's default);
/// asking for more traps.
pub const MAX_RANDOM_BYTES: u64 = 64 << 20;

impl wall_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<wall_clock::Datetime> {
        let d = self.wall.now();
        Ok(wall_clock::Datetime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() })
    }

    fn resolution(&mut self) -> Result<wall_clock::Datetime> {
        let d = self.wall.resolution();
        Ok(wall_clock::Datetime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() })
    }
}

impl monotonic_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<monotonic_clock::Instant> {
        Ok(self.monotonic.now())
    }

    fn resolution(&mut self) -> Result<monotonic_clock::Duration> {
        Ok(self.monotonic.resolution())
    }

    fn subscribe_instant(&mut self, when: monotonic_clock::Instant) -> Result<HostResource<poll::Pollable>> {
        self.push_pollable(Pollable::Deadline(when))
    }

    fn subscribe_duration(&mut self, when: monotonic_clock::Duration) -> Result<HostResource<poll::Pollable>> {
        let deadline = self.monotonic.now().saturating_add(when);
        self.push_pollable(Pollable::Deadline(deadline))
    }
}

fn random_bytes(source: &mut dyn crate::RandomSource, len: u64) -> Result<Vec<u8>> {
    if len > MAX_RANDOM_BYTES {
        return Err(trap(format!("{len} random bytes requested (at most {MAX_RANDOM_BYTES})")));
    }
    let mut buf = vec![0; len as usize];
    source.fill_bytes(&mut buf);
    Ok(buf)
}

impl random::Host for WasiCtx {
    fn get_random_bytes(&mut self, len: u64) -> Result<Vec<u8>> {
        random_bytes(self.random.as_mut(), len)
    }

    fn get_random_u64(&mut self) -> Result<u64> {
        Ok(self.random.next_u64())
    }
}

impl insecure::Host for WasiCtx {
    fn get_insecure_random_bytes(&mut self, len: u64) -> Result<Vec<u8>> {
        random_bytes(self.insecure_random.as_mut(), len)
    }

    fn get_insecure_random_u64(&mut self) -> Result<u64> {
        Ok(self.insecure_random.next_u64())
    }
}

impl insecure_seed::Host for WasiCtx {
    fn insecure_seed(&mut self) -> Result<(u64, u64)> {
        Ok(self.insecure_seed)
    }
}
