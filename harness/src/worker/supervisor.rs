//! The supervisor's side: starting workers, giving them jobs, and telling how they died.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::protocol::{Death, Event, Job, JobResult, Step};

/// How workers are started and watched.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// The harness binary the workers run (`component-harness worker`).
    pub exe: PathBuf,
    /// Each worker's memory cap, in MiB: its allocator refuses allocations beyond it.
    pub memory_limit_mb: u64,
    /// How long a worker may go without announcing a step before it counts as hung.
    pub step_timeout: Duration,
}

impl PoolConfig {
    /// Workers running this very binary, with the default limits (4 GiB, 20 s per step).
    pub fn this_binary() -> anyhow::Result<Self> {
        Ok(PoolConfig { exe: std::env::current_exe()?, memory_limit_mb: 4096, step_timeout: Duration::from_secs(20) })
    }
}

/// How a job ended.
#[derive(Clone, Debug)]
pub enum Reply {
    /// The worker finished it.
    Done(JobResult),
    /// The worker died doing it.
    Died(Box<DeathReport>),
}

/// A worker's death, with what is known of it.
#[derive(Clone, Debug)]
pub struct DeathReport {
    /// How it died.
    pub death: Death,
    /// The last step it announced: the engine and the operation it died in.
    pub step: Option<Step>,
    /// The call of the case's script it was running, if it was running one.
    pub call: Option<usize>,
    /// The notes it sent before dying.
    pub notes: Vec<String>,
    /// The end of its stderr (the panic message, the abort reason).
    pub stderr: String,
}

impl DeathReport {
    /// The first line of stderr that says why, if any.
    pub fn reason(&self) -> String {
        let interesting = [
            "panicked at",
            "has overflowed its stack",
            "memory allocation of",
            "aborts on purpose",
            "fatal runtime error",
        ];
        let lines: Vec<&str> = self.stderr.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if interesting.iter().any(|w| line.contains(w)) {
                // A panic's message is on the line after "panicked at <location>:".
                let next = lines.get(i + 1).filter(|_| line.contains("panicked at")).copied().unwrap_or("");
                return format!("{} {}", line.trim(), next.trim()).trim().to_owned();
            }
        }
        match self.death {
            Death::Hang => "no step finished within the time limit".into(),
            _ => lines.last().map_or_else(String::new, |l| l.trim().to_owned()),
        }
    }
}

/// What a worker wrote to stderr: its first bytes (where the reason for an abort is, before any backtrace) and
/// its last bytes (where a panic's message is, after other output).
#[derive(Default)]
struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// Bytes dropped between head and tail.
    skipped: usize,
}

const HEAD_BYTES: usize = 4 * 1024;
const TAIL_BYTES: usize = 16 * 1024;

impl Captured {
    fn push(&mut self, mut bytes: &[u8]) {
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        let (first, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(first);
        bytes = rest;
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        self.tail.drain(..excess);
        self.skipped += excess;
    }

    fn text(&self) -> String {
        let mut all = self.head.clone();
        if self.skipped > 0 {
            all.extend_from_slice(format!("\n[... {} bytes of stderr left out ...]\n", self.skipped).as_bytes());
        }
        all.extend(self.tail.iter().copied());
        String::from_utf8_lossy(&all).into_owned()
    }
}

/// A worker process.
pub struct WorkerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Result<Event, (String, String)>>,
    stderr: Arc<Mutex<Captured>>,
    /// Closed when the worker's stderr reaches its end.
    stderr_done: Receiver<()>,
    timeout: Duration,
}

impl WorkerProcess {
    /// Starts a worker.
    pub fn spawn(config: &PoolConfig) -> anyhow::Result<Self> {
        let mut child = Command::new(&config.exe)
            .arg("worker")
            .arg("--memory-limit-mb")
            .arg(config.memory_limit_mb.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start a worker ({}): {e}", config.exe.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("worker without stdout"))?;
        let stderr = child.stderr.take().ok_or_else(|| anyhow::anyhow!("worker without stderr"))?;
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str::<Event>(&line).map_err(|e| (e.to_string(), line));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        let captured = Arc::new(Mutex::new(Captured::default()));
        let sink = captured.clone();
        let (done, stderr_done) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let _done = done;
            let mut stderr = stderr;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(&buf[..n]);
            }
        });
        Ok(WorkerProcess {
            stdin: child.stdin.take(),
            child,
            events,
            stderr: captured,
            stderr_done,
            timeout: config.step_timeout,
        })
    }

    /// Gives the worker `job` and waits for it; `on_event` sees every step and note. After a death the worker is
    /// gone: start another.
    pub fn run(&mut self, job: &Job, on_event: &mut dyn FnMut(&Event)) -> Reply {
        let mut last_step = None;
        let mut last_call = None;
        let mut notes = Vec::new();
        let line = match serde_json::to_string(job) {
            Ok(l) => l,
            Err(e) => return Reply::Done(JobResult::Error(format!("cannot encode the job: {e}"))),
        };
        let sent = self.stdin.as_mut().map(|s| writeln!(s, "{line}").and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Reply::Died(Box::new(self.death(false, last_step, last_call, notes)));
        }
        loop {
            match self.events.recv_timeout(self.timeout) {
                Ok(Ok(Event::Done(result))) => return Reply::Done(*result),
                Ok(Ok(event)) => {
                    match &event {
                        Event::Step(s) => last_step = Some(s.clone()),
                        Event::Note(n) => notes.push(n.clone()),
                        Event::Call(n) => last_call = Some(*n),
                        Event::Done(_) => {}
                    }
                    on_event(&event);
                }
                // A line that looks like an event but does not read as one is a harness bug: say so.
                Ok(Err((error, line))) if line.starts_with('{') => {
                    let head: String = line.chars().take(200).collect();
                    return Reply::Done(JobResult::Error(format!("unreadable event ({error}): {head}")));
                }
                // Any other stray line on stdout: ignore it.
                Ok(Err(_)) => {}
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    return Reply::Died(Box::new(self.death(true, last_step, last_call, notes)));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Reply::Died(Box::new(self.death(false, last_step, last_call, notes)))
                }
            }
        }
    }

    /// Waits for the dead (or killed) worker and reads how it died.
    fn death(
        &mut self,
        killed_for_hang: bool,
        step: Option<Step>,
        call: Option<usize>,
        notes: Vec<String>,
    ) -> DeathReport {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
            }
        };
        // Let the stderr reader drain what the worker wrote before dying: it stops at the stream's end.
        let _ = self.stderr_done.recv_timeout(Duration::from_secs(2));
        let stderr = self.stderr.lock().unwrap_or_else(std::sync::PoisonError::into_inner).text();
        let death = match status {
            Some(s) => Death::classify(s, &stderr, killed_for_hang),
            None => Death::Exit(-1),
        };
        DeathReport { death, step, call, notes, stderr }
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.stdin = None;
        // A worker whose stdin closed exits; one that does not within a moment is killed.
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one job in a fresh worker that ends with it.
pub fn run_once(config: &PoolConfig, job: &Job) -> anyhow::Result<Reply> {
    let mut w = WorkerProcess::spawn(config)?;
    Ok(w.run(job, &mut |_| {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values come back from a worker as JSON: every float must survive bit for bit, or a crash regression
    /// asserts a value one ulp away from what every engine returns (found by the stream tier's self-test).
    #[test]
    fn floats_cross_the_protocol_exactly() {
        let xs = [-1.8234475730346286e-213, 5e-324, f64::MAX, -0.0, 0.1 + 0.2, 1.7976931348623155e308];
        for x in xs {
            let json = serde_json::to_string(&component_layer::Value::F64(x)).unwrap();
            match serde_json::from_str::<component_layer::Value>(&json).unwrap() {
                component_layer::Value::F64(y) => assert_eq!(y.to_bits(), x.to_bits(), "{x:e} came back as {y:e}"),
                other => panic!("{other:?}"),
            }
        }
    }

    /// An out-of-memory abort names itself on its first line; a long backtrace after it must not push that
    /// line out of what is kept, or the death is misclassified and cannot be confirmed.
    #[test]
    fn the_first_line_survives_a_long_backtrace() {
        let mut c = Captured::default();
        c.push(b"memory allocation of 137438953408 bytes failed\n");
        for i in 0..10_000 {
            c.push(format!("  {i}: some::frame::of::the::backtrace\n").as_bytes());
        }
        let text = c.text();
        assert!(text.starts_with("memory allocation of 137438953408 bytes failed"));
        assert!(text.contains("bytes of stderr left out"));
        assert!(text.ends_with("9999: some::frame::of::the::backtrace\n"));
        assert!(text.len() < HEAD_BYTES + TAIL_BYTES + 100);
    }
}
