//! Crash-safe execution: harness jobs run in worker processes under a supervisor.
//!
//! The harness exists for the day an engine is wrong, and an engine that is wrong may also panic, abort,
//! overflow the native stack, allocate without end or never return. In the process that runs it, any of these
//! ends the run and loses the case. So, as libFuzzer's fork mode and OSS-Fuzz run targets, `fuzz`, `check` and
//! the self-test hand their work to worker processes (`component-harness worker`, speaking JSON lines on
//! stdin/stdout, see [`protocol`]) and watch them ([`supervisor`]):
//!
//! * every engine a worker runs is wrapped so that it announces each step (the engine and what it is about to
//!   do) before doing it, so when a worker dies the supervisor knows the job, the engine and the step;
//! * a worker that dies is a finding: how it died ([`Death`]: a panic with its message, an abort, a native stack
//!   overflow, running out of memory, a hang, a signal) is read from its exit status and the end of its stderr;
//! * every step has a time limit (a worker that announces nothing for that long is killed: a hang), and every
//!   worker a memory cap (its global allocator refuses to go beyond it, so an allocation storm becomes an
//!   out-of-memory abort of that worker, not of the machine);
//! * after a death the supervisor starts a new worker and the run goes on.

pub mod protocol;
pub mod supervisor;

pub use protocol::{Death, Job, JobResult, Step};
pub use supervisor::{PoolConfig, WorkerProcess};
