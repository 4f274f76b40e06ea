//! The `.wast` runner: executes every component directive of the upstream suites on one engine.
//!
//! Semantics follow wasmtime's runner (`crates/wast`): each `(component …)` and `component instance` is
//! instantiated in its own store; a named component's exported modules and resource types are registered as an
//! importable instance under its name; `invoke` and the assertions act on the most recent instance;
//! `assert_trap (component …)` expects an instantiation trap; `assert_unlinkable` a link error. Outcomes are
//! compared by class (see [`crate::engine::Failure`]) — a trap must be a trap, its text is not compared —
//! and values with NaN equal to NaN and flags as sets.

pub mod values;

use std::collections::HashMap;

use component_layer::Value;
use serde::{Deserialize, Serialize};
use wast::core::{WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastRet};

use crate::engine::{CallSpec, ComponentId, Engine, Failure, Host, InstanceId, TrapClass};
use crate::expectations::Expectations;

/// The result of one directive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "kebab-case")]
pub enum DirResult {
    /// As expected.
    Pass,
    /// Not as expected, with what happened.
    Fail(String),
    /// Not run, with the reason from the expectations file (or the runner).
    Skip(String),
}

/// One directive's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Directive {
    /// 1-based line of the directive.
    pub line: usize,
    /// Its kind (`component`, `assert_return`, …).
    pub kind: String,
    /// What happened.
    pub result: DirResult,
}

/// The outcome of running one file on one engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRun {
    /// The file, relative to its suite root.
    pub path: String,
    /// The engine.
    pub engine: String,
    /// Why the whole file was skipped, if it was.
    pub skipped: Option<String>,
    /// A failure that stopped the run (parse error, panic), if any.
    pub error: Option<String>,
    /// The directives run.
    pub directives: Vec<Directive>,
}

impl FileRun {
    /// Whether the file passed: not skipped, no error, no failed directive.
    pub fn passed(&self) -> bool {
        self.skipped.is_none() && self.error.is_none() && self.failures().next().is_none()
    }

    /// The failed directives.
    pub fn failures(&self) -> impl Iterator<Item = &Directive> {
        self.directives.iter().filter(|d| matches!(d.result, DirResult::Fail(_)))
    }

    /// Counts of (passed, failed, skipped) directives.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for d in &self.directives {
            match d.result {
                DirResult::Pass => c.0 += 1,
                DirResult::Fail(_) => c.1 += 1,
                DirResult::Skip(_) => c.2 += 1,
            }
        }
        c
    }

    /// A short human-readable summary of the failures.
    pub fn failure_summary(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.error {
            s.push_str(&format!("error: {e}\n"));
        }
        for d in self.failures() {
            if let DirResult::Fail(m) = &d.result {
                s.push_str(&format!("  line {} {}: {}\n", d.line, d.kind, m));
            }
        }
        s
    }
}

/// Runs one `.wast` file (its text `text`, labelled `path`) on `engine` (which forgets what it ran before).
pub fn run_file(path: &str, text: &str, engine: &mut dyn Engine, exp: &Expectations) -> FileRun {
    let mut run = FileRun {
        path: path.to_owned(),
        engine: engine.name().to_owned(),
        skipped: exp.file_skip(path, engine.name()).map(str::to_owned),
        error: None,
        directives: Vec::new(),
    };
    if run.skipped.is_some() {
        return run;
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_directives(path, text, engine, exp)));
    match result {
        Ok(Ok(dirs)) => run.directives = dirs,
        Ok(Err((dirs, e))) => {
            run.directives = dirs;
            run.error = Some(e);
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            run.error = Some(format!("panic: {msg}"));
        }
    }
    run
}

type Partial = (Vec<Directive>, String);

fn run_directives(
    path: &str,
    text: &str,
    engine: &mut dyn Engine,
    exp: &Expectations,
) -> Result<Vec<Directive>, Partial> {
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(path.ends_with("names.wast"));
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| (Vec::new(), format!("parse error: {e}")))?;
    let ast = parser::parse::<Wast>(&buf).map_err(|e| (Vec::new(), format!("parse error: {e}")))?;
    engine.reset();
    let name = engine.name().to_owned();
    let mut runner = Runner { session: engine, current: None, definitions: HashMap::new(), any_trap: false };
    let mut out = Vec::new();
    for directive in ast.directives {
        let line = directive.span().linecol_in(text).0 + 1;
        let kind = kind_name(&directive);
        runner.any_trap = exp.any_trap(path, line, &name).is_some();
        let result = match exp.directive_skip(path, line, &name) {
            Some(reason) => DirResult::Skip(reason.to_owned()),
            None => runner.run(directive),
        };
        out.push(Directive { line, kind: kind.to_owned(), result });
    }
    Ok(out)
}

fn kind_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "component",
        WastDirective::ModuleDefinition(_) => "component definition",
        WastDirective::ModuleInstance { .. } => "component instance",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::Register { .. } => "register",
        _ => "other",
    }
}

struct Runner<'e> {
    session: &'e mut dyn Engine,
    current: Option<InstanceId>,
    definitions: HashMap<Option<String>, ComponentId>,
    /// The expectations let the current directive trap for any reason.
    any_trap: bool,
}

impl Runner<'_> {
    fn run(&mut self, directive: WastDirective<'_>) -> DirResult {
        match self.run_inner(directive) {
            Ok(r) => r,
            Err(msg) => DirResult::Fail(msg),
        }
    }

    fn run_inner(&mut self, directive: WastDirective<'_>) -> Result<DirResult, String> {
        Ok(match directive {
            WastDirective::Module(mut q) => {
                let name = q.name().map(|i| i.name().to_owned());
                let bytes = encode(&mut q)?;
                if wasmparser::Parser::is_core_wasm(&bytes) {
                    return Ok(DirResult::Skip("core module directives are not part of the component suites".into()));
                }
                self.retire_current();
                let c = self.session.compile(&bytes).map_err(|f| format!("compile: {f}"))?;
                let i = self.session.instantiate(c, &Host::wast()).map_err(|f| format!("instantiate: {f}"))?;
                if let Some(name) = name {
                    self.session.register(i, &name).map_err(|f| format!("register: {f}"))?;
                }
                self.current = Some(i);
                DirResult::Pass
            }
            WastDirective::ModuleDefinition(mut q) => {
                let name = q.name().map(|i| i.name().to_owned());
                let bytes = encode(&mut q)?;
                let c = self.session.compile(&bytes).map_err(|f| format!("compile: {f}"))?;
                self.definitions.insert(name, c);
                DirResult::Pass
            }
            WastDirective::ModuleInstance { instance, module, .. } => {
                let def = module.map(|m| m.name().to_owned());
                let c = *self.definitions.get(&def).ok_or_else(|| format!("no component definition {def:?}"))?;
                self.retire_current();
                let i = self.session.instantiate(c, &Host::wast()).map_err(|f| format!("instantiate: {f}"))?;
                if let Some(name) = instance {
                    self.session.register(i, name.name()).map_err(|f| format!("register: {f}"))?;
                }
                self.current = Some(i);
                DirResult::Pass
            }
            WastDirective::Invoke(inv) => {
                let args = args(&inv.args)?;
                self.invoke(inv.name, &args).map_err(|f| format!("invoke `{}`: {f}", inv.name))?;
                DirResult::Pass
            }
            WastDirective::AssertReturn { exec, results, .. } => match exec {
                WastExecute::Invoke(inv) => {
                    let args = args(&inv.args)?;
                    let got = self.invoke(inv.name, &args).map_err(|f| format!("expected a return, got {f}"))?;
                    check_results(&results, &got)?;
                    DirResult::Pass
                }
                WastExecute::Wat(mut w) => {
                    let bytes = w.encode().map_err(|e| format!("encode: {e}"))?;
                    let c = self.session.compile(&bytes).map_err(|f| format!("compile: {f}"))?;
                    let i = self.session.instantiate(c, &Host::wast()).map_err(|f| format!("instantiate: {f}"))?;
                    self.session.drop_instance(i);
                    DirResult::Pass
                }
                WastExecute::Get { .. } => DirResult::Skip("`get` is a core-wasm directive".into()),
            },
            WastDirective::AssertTrap { exec, message, .. } => match exec {
                WastExecute::Invoke(inv) => {
                    let args = args(&inv.args)?;
                    match self.invoke(inv.name, &args) {
                        Err(f @ Failure::Trap { .. }) => expected_trap(message, &f, self.any_trap)?,
                        Err(f) => return Err(format!("expected a trap, got {f}")),
                        Ok(v) => return Err(format!("expected a trap, got a return {v:?}")),
                    }
                }
                WastExecute::Wat(mut w) => {
                    let bytes = w.encode().map_err(|e| format!("encode: {e}"))?;
                    let c = self.session.compile(&bytes).map_err(|f| format!("compile: {f}"))?;
                    match self.session.instantiate(c, &Host::wast()) {
                        Err(f @ Failure::Trap { .. }) => expected_trap(message, &f, self.any_trap)?,
                        Err(f) => return Err(format!("expected an instantiation trap, got {f}")),
                        Ok(i) => {
                            self.session.drop_instance(i);
                            return Err("expected an instantiation trap, instantiation succeeded".into());
                        }
                    }
                }
                WastExecute::Get { .. } => DirResult::Skip("`get` is a core-wasm directive".into()),
            },
            WastDirective::AssertInvalid { mut module, .. } => {
                // An invalid component must reach the engine: text that does not even encode tests nothing.
                let bytes = module
                    .encode()
                    .map_err(|e| format!("expected an invalid component, but its text does not encode: {e}"))?;
                self.expect_rejected(&bytes)?
            }
            WastDirective::AssertMalformed { mut module, .. } => match module.encode() {
                Ok(bytes) => self.expect_rejected(&bytes)?,
                // Malformed text rejected by the text parser or encoder: that is what the directive asserts.
                Err(_) => DirResult::Pass,
            },
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let bytes = module.encode().map_err(|e| format!("encode: {e}"))?;
                let c = self.session.compile(&bytes).map_err(|f| format!("compile: {f}"))?;
                match self.session.instantiate(c, &Host::wast()) {
                    Err(Failure::Link { .. }) => DirResult::Pass,
                    Err(f) => return Err(format!("expected a link error, got {f}")),
                    Ok(i) => {
                        self.session.drop_instance(i);
                        return Err("expected a link error, instantiation succeeded".into());
                    }
                }
            }
            WastDirective::Register { .. } => DirResult::Skip("`register` is not used with components".into()),
            WastDirective::AssertExhaustion { .. } => {
                DirResult::Skip("stack exhaustion is not deterministic across engines".into())
            }
            _ => DirResult::Skip("directive kind not used by component suites".into()),
        })
    }

    /// A component the engine must refuse to compile.
    fn expect_rejected(&mut self, bytes: &[u8]) -> Result<DirResult, String> {
        Ok(match self.session.compile(bytes) {
            Ok(_) => return Err("expected the component to be rejected, it compiled".into()),
            Err(Failure::Unsupported { message }) => {
                DirResult::Skip(format!("rejected as an unsupported feature rather than invalid: {message}"))
            }
            Err(_) => DirResult::Pass,
        })
    }

    /// Drops the current instance's store before a new one replaces it.
    fn retire_current(&mut self) {
        if let Some(i) = self.current.take() {
            self.session.drop_instance(i);
        }
    }

    fn invoke(&mut self, name: &str, args: &[Value]) -> Result<Vec<Value>, Failure> {
        let inst = self.current.ok_or_else(|| Failure::trap("no current instance"))?;
        let result = self.session.call(inst, &CallSpec::root(name, args.to_vec()));
        self.session.take_log();
        Ok(result?.into_iter().collect())
    }
}

/// A trap where one was expected: it passes if its class agrees with the class the expected message names
/// (upstream messages are wasmtime's texts; a message naming no class the specification fixes accepts any trap).
fn expected_trap(message: &str, got: &Failure, any: bool) -> Result<DirResult, String> {
    let want = TrapClass::from_message(message);
    match got.trap_class() {
        Some(_) if any => Ok(DirResult::Pass),
        Some(class) if class.agrees_with(want) => Ok(DirResult::Pass),
        _ => Err(format!("expected a trap of class `{}` (\"{message}\"), got {got}", want.name())),
    }
}

fn encode(q: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    q.encode().map_err(|e| format!("encode: {e}"))
}

fn args(args: &[WastArg<'_>]) -> Result<Vec<Value>, String> {
    args.iter()
        .map(|a| match a {
            WastArg::Component(v) => values::value(v),
            WastArg::Core(WastArgCore::F32(f)) => Ok(Value::F32(f32::from_bits(f.bits))),
            WastArg::Core(WastArgCore::F64(f)) => Ok(Value::F64(f64::from_bits(f.bits))),
            WastArg::Core(other) => Err(format!("unsupported core argument {other:?}")),
            _ => Err("unsupported argument".into()),
        })
        .collect()
}

fn check_results(expected: &[WastRet<'_>], got: &[Value]) -> Result<(), String> {
    if expected.len() != got.len() {
        return Err(format!("expected {} results, got {}", expected.len(), got.len()));
    }
    for (e, g) in expected.iter().zip(got) {
        let ok = match e {
            WastRet::Component(v) => values::value(v)? == *g,
            WastRet::Core(WastRetCore::F32(p)) => values::f32_matches(p, g),
            WastRet::Core(WastRetCore::F64(p)) => values::f64_matches(p, g),
            WastRet::Core(other) => return Err(format!("unsupported core result {other:?}")),
            _ => return Err("unsupported result".into()),
        };
        if !ok {
            return Err(format!("expected {}, got {g:?}", values::describe(e)));
        }
    }
    Ok(())
}
