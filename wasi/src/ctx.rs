//! The WASI context: what a guest sees of the world (arguments, environment, standard streams, preopened
//! directories, clocks, randomness), built with [`WasiCtxBuilder`] and kept in the store's data.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cap_std::ambient_authority;
use cap_std::fs::Dir;

use crate::table::Table;

/// What a preopened directory allows: reading only, or reading and writing (creating, renaming, removing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirPerms {
    /// Files may be opened for reading and directories listed; nothing may change.
    Read,
    /// Everything in the directory may be read and changed.
    ReadWrite,
}

impl DirPerms {
    pub(crate) fn writable(self) -> bool {
        self == DirPerms::ReadWrite
    }
}

/// A wall clock: time since the Unix epoch.
pub trait WallClock: Send {
    /// The current time since the epoch.
    fn now(&mut self) -> Duration;
    /// The clock's resolution.
    fn resolution(&mut self) -> Duration;
}

/// A monotonic clock in nanoseconds, which the host can also wait on (a deterministic clock just jumps).
pub trait MonotonicClock: Send {
    /// The current instant, in nanoseconds from an arbitrary start.
    fn now(&mut self) -> u64;
    /// The clock's resolution, in nanoseconds.
    fn resolution(&mut self) -> u64;
    /// Waits until [`MonotonicClock::now`] is at least `deadline`.
    fn sleep_until(&mut self, deadline: u64);
}

/// A source of random bytes.
pub trait RandomSource: Send {
    /// Fills `buf` with random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]);
    /// A random `u64`.
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
}

/// The operating system's clock.
#[derive(Debug, Default)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now(&mut self) -> Duration {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
    }
    fn resolution(&mut self) -> Duration {
        Duration::from_nanos(1)
    }
}

/// A wall clock that always reads the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedWallClock(pub Duration);

impl WallClock for FixedWallClock {
    fn now(&mut self) -> Duration {
        self.0
    }
    fn resolution(&mut self) -> Duration {
        Duration::from_nanos(1)
    }
}

/// The operating system's monotonic clock, counted from when the context was built; waiting sleeps.
#[derive(Debug)]
pub struct SystemMonotonicClock(std::time::Instant);

impl Default for SystemMonotonicClock {
    fn default() -> Self {
        SystemMonotonicClock(std::time::Instant::now())
    }
}

impl MonotonicClock for SystemMonotonicClock {
    fn now(&mut self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
    fn resolution(&mut self) -> u64 {
        1
    }
    fn sleep_until(&mut self, deadline: u64) {
        let now = self.now();
        if deadline > now {
            std::thread::sleep(Duration::from_nanos(deadline - now));
        }
    }
}

/// A monotonic clock that stands still until the guest waits on it; waiting moves it to the deadline at once.
/// Runs that use it are deterministic and never sleep.
#[derive(Debug, Clone, Copy, Default)]
pub struct VirtualMonotonicClock(pub u64);

impl MonotonicClock for VirtualMonotonicClock {
    fn now(&mut self) -> u64 {
        self.0
    }
    fn resolution(&mut self) -> u64 {
        1
    }
    fn sleep_until(&mut self, deadline: u64) {
        self.0 = self.0.max(deadline);
    }
}

/// Cryptographically secure bytes from the operating system.
#[derive(Debug, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        // The OS source does not fail on supported platforms; if it ever did, a guest must not get zeros it
        // believes random, so fall back to a generator seeded from the time and the stack address.
        if getrandom::fill(buf).is_err() {
            let seed = SystemWallClock.now().as_nanos() as u64 ^ (buf.as_ptr() as u64);
            SeededRandom::new(seed).fill_bytes(buf);
        }
    }
}

/// A deterministic generator (SplitMix64) from a seed: the same seed gives the same bytes on every run.
/// Not secure; for tests and reproducible runs.
#[derive(Debug, Clone)]
pub struct SeededRandom {
    state: u64,
}

impl SeededRandom {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom { state: seed }
    }

    /// The next byte: the low byte of the next word.
    pub fn next_byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}

impl RandomSource for SeededRandom {
    /// One generator step per byte, so that byte `n` of any request is the same whatever the request sizes.
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next_byte();
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A buffer that captures what a guest writes to stdout or stderr; clone it to keep a handle for reading after
/// the run. It keeps at most its limit of bytes (16 MiB unless set) and counts what it dropped.
#[derive(Debug, Clone)]
pub struct CaptureBuffer(Arc<Mutex<Captured>>);

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    limit: usize,
    dropped: u64,
}

impl Default for CaptureBuffer {
    fn default() -> Self {
        Self::with_limit(16 << 20)
    }
}

impl CaptureBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer that keeps at most `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        CaptureBuffer(Arc::new(Mutex::new(Captured { bytes: Vec::new(), limit, dropped: 0 })))
    }

    /// A copy of the bytes written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).bytes.clone()
    }

    /// How many bytes were written beyond the limit and dropped.
    pub fn dropped(&self) -> u64 {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).dropped
    }

    pub(crate) fn write(&self, data: &[u8]) {
        let mut c = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let room = c.limit.saturating_sub(c.bytes.len()).min(data.len());
        c.bytes.extend_from_slice(&data[..room]);
        c.dropped += (data.len() - room) as u64;
    }
}

/// Where stdin comes from.
#[derive(Debug, Clone)]
pub(crate) enum StdinSource {
    /// Nothing: reads see the end at once.
    Empty,
    /// These bytes, shared by every stdin stream of the instance.
    Bytes(Arc<Mutex<std::io::Cursor<Vec<u8>>>>),
    /// The host process's stdin.
    Inherit,
}

/// Where stdout or stderr goes.
#[derive(Debug, Clone)]
pub(crate) enum Sink {
    /// Dropped.
    Null,
    /// The host process's stdout.
    Stdout,
    /// The host process's stderr.
    Stderr,
    /// A capture buffer.
    Capture(CaptureBuffer),
}

/// A preopened directory: the directory and the name the guest sees.
pub(crate) struct Preopen {
    pub(crate) dir: Arc<Dir>,
    pub(crate) perms: DirPerms,
    pub(crate) guest_path: String,
}

/// Builds a [`WasiCtx`]. By default a guest gets nothing: no arguments, no environment, empty stdin, stdout and
/// stderr dropped, no directories, the system clocks and the OS random source.
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
    stdin: StdinSource,
    stdout: Sink,
    stderr: Sink,
    preopens: Vec<Preopen>,
    wall: Box<dyn WallClock>,
    monotonic: Box<dyn MonotonicClock>,
    random: Box<dyn RandomSource>,
    insecure_random: Box<dyn RandomSource>,
    insecure_seed: (u64, u64),
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WasiCtxBuilder {
    /// A builder with the defaults described above.
    pub fn new() -> Self {
        let mut seed = [0u8; 16];
        OsRandom.fill_bytes(&mut seed);
        let (a, b) = seed.split_at(8);
        let word = |s: &[u8]| s.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            stdin: StdinSource::Empty,
            stdout: Sink::Null,
            stderr: Sink::Null,
            preopens: Vec::new(),
            wall: Box::new(SystemWallClock),
            monotonic: Box::new(SystemMonotonicClock::default()),
            random: Box::new(OsRandom),
            insecure_random: Box::new(SeededRandom::new(word(a))),
            insecure_seed: (word(a), word(b)),
        }
    }

    /// Appends one argument (the first is conventionally the program's name).
    pub fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<S: Into<String>>(&mut self, args: impl IntoIterator<Item = S>) -> &mut Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds one environment variable.
    pub fn env(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds the host process's environment variables (those whose names and values are valid UTF-8).
    pub fn inherit_env(&mut self) -> &mut Self {
        self.env.extend(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))));
        self
    }

    /// The initial working directory the guest is told (`wasi:cli/environment.initial-cwd`).
    pub fn cwd(&mut self, cwd: impl Into<String>) -> &mut Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Stdin reads these bytes, then the end.
    pub fn stdin_bytes(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.stdin = StdinSource::Bytes(Arc::new(Mutex::new(std::io::Cursor::new(bytes.into()))));
        self
    }

    /// Stdin reads the host process's stdin (reads block until input arrives).
    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = StdinSource::Inherit;
        self
    }

    /// Stdout goes to the host process's stdout.
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Sink::Stdout;
        self
    }

    /// Stderr goes to the host process's stderr.
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Sink::Stderr;
        self
    }

    /// Stdin, stdout and stderr are the host process's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// Stdout is captured into `buf`.
    pub fn stdout_capture(&mut self, buf: CaptureBuffer) -> &mut Self {
        self.stdout = Sink::Capture(buf);
        self
    }

    /// Stderr is captured into `buf`.
    pub fn stderr_capture(&mut self, buf: CaptureBuffer) -> &mut Self {
        self.stderr = Sink::Capture(buf);
        self
    }

    /// Preopens the host directory `host` as `guest` (e.g. `"/data"`). Fails if `host` cannot be opened.
    /// The guest reaches nothing outside it: `..`, absolute paths and symlinks that lead out are refused.
    pub fn preopened_dir(
        &mut self,
        host: impl AsRef<std::path::Path>,
        guest: impl Into<String>,
        perms: DirPerms,
    ) -> std::io::Result<&mut Self> {
        let dir = Dir::open_ambient_dir(host.as_ref(), ambient_authority())?;
        self.preopens.push(Preopen { dir: Arc::new(dir), perms, guest_path: guest.into() });
        Ok(self)
    }

    /// The wall clock (`wasi:clocks/wall-clock`).
    pub fn wall_clock(&mut self, clock: impl WallClock + 'static) -> &mut Self {
        self.wall = Box::new(clock);
        self
    }

    /// The monotonic clock (`wasi:clocks/monotonic-clock`, and the deadlines of its pollables).
    pub fn monotonic_clock(&mut self, clock: impl MonotonicClock + 'static) -> &mut Self {
        self.monotonic = Box::new(clock);
        self
    }

    /// The secure random source (`wasi:random/random`).
    pub fn secure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.random = Box::new(source);
        self
    }

    /// The insecure random source (`wasi:random/insecure`).
    pub fn insecure_random(&mut self, source: impl RandomSource + 'static) -> &mut Self {
        self.insecure_random = Box::new(source);
        self
    }

    /// The value of `wasi:random/insecure-seed.insecure-seed`.
    pub fn insecure_random_seed(&mut self, seed: u128) -> &mut Self {
        self.insecure_seed = ((seed >> 64) as u64, seed as u64);
        self
    }

    /// Fixed clocks and seeded random sources, for runs that must be the same on every engine and every time:
    /// the wall clock reads `wall`, the monotonic clock starts at 0 and only moves when the guest waits, and
    /// both random sources and the insecure seed derive from `seed`.
    pub fn deterministic(&mut self, wall: Duration, seed: u64) -> &mut Self {
        self.wall_clock(FixedWallClock(wall))
            .monotonic_clock(VirtualMonotonicClock(0))
            .secure_random(SeededRandom::new(seed))
            .insecure_random(SeededRandom::new(seed ^ 0x5555_5555_5555_5555))
            .insecure_random_seed((u128::from(seed) << 64) | u128::from(!seed))
    }

    /// The context. The builder is left with the defaults, so it can be reused.
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        WasiCtx {
            args: b.args,
            env: b.env,
            cwd: b.cwd,
            stdin: b.stdin,
            stdout: b.stdout,
            stderr: b.stderr,
            preopens: b.preopens,
            wall: b.wall,
            monotonic: b.monotonic,
            random: b.random,
            insecure_random: b.insecure_random,
            insecure_seed: b.insecure_seed,
            table: Table::default(),
        }
    }
}

/// The state of WASI for one store: the configuration and the table of the guest's WASI resources (streams,
/// descriptors, pollables, errors). Keep it in the store's data and reach it through [`crate::WasiView`].
pub struct WasiCtx {
    pub(crate) args: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cwd: Option<String>,
    pub(crate) stdin: StdinSource,
    pub(crate) stdout: Sink,
    pub(crate) stderr: Sink,
    pub(crate) preopens: Vec<Preopen>,
    pub(crate) wall: Box<dyn WallClock>,
    pub(crate) monotonic: Box<dyn MonotonicClock>,
    pub(crate) random: Box<dyn RandomSource>,
    pub(crate) insecure_random: Box<dyn RandomSource>,
    pub(crate) insecure_seed: (u64, u64),
    pub(crate) table: Table,
}

impl WasiCtx {
    /// A context with the defaults of [`WasiCtxBuilder::new`].
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }

    /// How many WASI resources the guest holds now (to check for leaks).
    pub fn live_resources(&self) -> usize {
        self.table.len()
    }
}
