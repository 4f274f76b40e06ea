//! The driver process: one `node` running `harness/js/driver.mjs`, spoken to in JSON lines.
//!
//! A reader thread turns the driver's stdout into a channel of lines, so every wait has a timeout: a driver that
//! hangs (or a guest that loops) is killed and reported, never waited on forever. A driver that dies is noticed
//! the same way (the channel closes); its stderr is kept for the report.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value as Json;

/// The driver's source, compiled into the harness so that it is always the one this harness speaks to.
const DRIVER: &str = include_str!("../../../js/driver.mjs");

/// How long the driver may take to start and load jco.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How many lines of the driver's stderr are kept.
const STDERR_LINES: usize = 20;

/// Why talking to the driver failed.
#[derive(Debug)]
pub enum NodeError {
    /// The engine cannot run here (no `node`, no jco): the reason.
    Unavailable(String),
    /// The driver died or broke the protocol.
    Died(String),
    /// No answer in time; the driver was killed.
    Timeout(Duration),
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeError::Unavailable(why) => write!(f, "the jco engine is unavailable: {why}"),
            NodeError::Died(why) => write!(f, "the jco driver (node) died: {why}"),
            NodeError::Timeout(t) => write!(f, "the jco driver gave no answer within {}s and was killed", t.as_secs()),
        }
    }
}

/// Where jco's API module is: `COMPONENT_HARNESS_JCO` (a path to `dist/api.js`), else the pinned install of
/// `toolchains/` (`bash toolchains/setup.sh --js`).
pub fn jco_api() -> PathBuf {
    match std::env::var_os("COMPONENT_HARNESS_JCO") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../toolchains/node_modules/@bytecodealliance/jco/dist/api.js"),
    }
}

/// The `node` to run: `COMPONENT_HARNESS_NODE`, else `node` on the `PATH`.
fn node_binary() -> PathBuf {
    std::env::var_os("COMPONENT_HARNESS_NODE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("node"))
}

/// A running driver.
pub struct Node {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Node {
    /// Starts a driver and waits until it has loaded jco.
    pub fn start() -> Result<Node, NodeError> {
        let api = jco_api();
        if !api.exists() {
            return Err(NodeError::Unavailable(format!(
                "jco is not installed at {} (run `bash toolchains/setup.sh --js`, or set COMPONENT_HARNESS_JCO)",
                api.display()
            )));
        }
        let mut child = Command::new(node_binary())
            // jco's output may use extended constant expressions; Node 20's V8 has them behind a flag.
            .args(["--experimental-wasm-extended-const", "--input-type=module", "-e", DRIVER, "--"])
            .arg(&api)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| NodeError::Unavailable(format!("cannot run `{}`: {e}", node_binary().display())))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(NodeError::Unavailable("the driver's pipes are missing".into()));
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let kept = Arc::new(Mutex::new(VecDeque::new()));
        {
            let kept = kept.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut k = kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if k.len() == STDERR_LINES {
                        k.pop_front();
                    }
                    k.push_back(line);
                }
            });
        }
        let mut node = Node { child, stdin, lines, stderr: kept };
        let ready = node.receive(START_TIMEOUT).map_err(|e| match e {
            NodeError::Died(why) => NodeError::Unavailable(format!("node did not start: {why}")),
            other => other,
        })?;
        match ready.get("ready") {
            Some(r) if r.get("ok").is_some() => Ok(node),
            Some(r) => Err(NodeError::Unavailable(
                r.get("err").and_then(Json::as_str).unwrap_or("the driver did not start").to_owned(),
            )),
            None => Err(NodeError::Died(format!("unexpected first line {ready}"))),
        }
    }

    /// Sends one message.
    pub fn send(&mut self, msg: &Json) -> Result<(), NodeError> {
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| NodeError::Died(format!("cannot write to it: {e}{}", self.stderr_tail())))
    }

    /// The next message, waiting at most `timeout` (then the driver is killed).
    pub fn receive(&mut self, timeout: Duration) -> Result<Json, NodeError> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => serde_json::from_str(&line).map_err(|e| {
                let head: String = line.chars().take(200).collect();
                NodeError::Died(format!("a line that is not JSON ({e}): {head}"))
            }),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(NodeError::Timeout(timeout))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                // The stderr thread may still be draining the last lines.
                std::thread::sleep(Duration::from_millis(50));
                Err(NodeError::Died(format!("{status}{}", self.stderr_tail())))
            }
        }
    }

    fn stderr_tail(&self) -> String {
        let k = self.stderr.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if k.is_empty() {
            String::new()
        } else {
            format!("; stderr: {}", k.iter().cloned().collect::<Vec<_>>().join("\n"))
        }
    }

    /// The message of the last Rust panic the driver printed (jco's transpiler is Rust compiled to a component: a
    /// panic in it reaches JavaScript as a bare `unreachable` trap, and its message only on stderr):
    /// `panicked at <file>:<line>:<col>: <message>`.
    pub fn panic_message(&self) -> Option<String> {
        // The reply and the panic's stderr lines travel on different pipes: give the stderr thread a moment.
        std::thread::sleep(Duration::from_millis(50));
        let k = self.stderr.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = k.iter().rposition(|l| l.contains("panicked at"))?;
        let place = k.get(at)?.split_once("panicked at ").map_or("", |(_, p)| p.trim());
        let message = k.get(at + 1).map_or("", |m| m.trim());
        Some(format!("panicked at {place} {message}"))
    }

    /// Stops the driver.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
