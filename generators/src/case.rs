//! Test cases: a component, the host functions it imports, and a script of calls with their expected outcomes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

use arbitrary::{Result, Unstructured};
use component_layer::{List, Value};

use crate::encode::{self, Design, ExportDecl, ImportDecl};
use crate::guest::{Body, Encoding, ReallocMode, Sig, HEAP_BASE, LOG, RAW_BASE, RET_AREA, TRACE_HEAP};
use crate::image::{self, Corruption};
use crate::trace;
use crate::ty::{Def, Ty, TypeConfig, TypeGen, TypeSet};
use crate::values::{transform, ValueConfig, ValueGen};
use crate::world::{self, TypeConverter, World};
use wit_parser::{WorldId, WorldItem};

/// The kinds of cases, from cheap to strong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Host → guest export → guest calls a host import with the same values → back: every value is lowered and
    /// lifted four times.
    Echo,
    /// The guest changes a `list<T>` in a known, type-preserving way before passing it on.
    Transform,
    /// The guest returns the raw heap bytes it received, the realloc log and its flat arguments.
    Probe,
    /// The guest hands back a memory image built by the host: lifting must give exactly the value it encodes.
    Lift,
    /// Like `Lift` with one corrupted site, or a misbehaving `realloc`: every engine must trap.
    Fault,
    /// Two components with their own string encodings, composed: values cross component to component. Half the
    /// cases forward values (as `Echo` does, through both); half pass strings (in params, lists, records, tuples,
    /// options, variants and results) across and expect the exact realloc traces the spec prescribes for
    /// transcoding them ([`crate::trace`]).
    Compose,
    /// A whole random WIT world from wit-smith around wit-component's dummy module: every export is called and
    /// must trap (the bodies are `unreachable`); imports are stubs. Tests parsing, type reflection, the
    /// instantiation of wit-component's module/shim/fixup structure, lowering of arbitrary argument types and
    /// export lookup in nested instances.
    Structure,
    /// Scalar exports whose core bodies are random wasm-smith functions (under the world's module shape), with
    /// host imports answering a hash of their arguments: the engines are compared with each other.
    Compute,
    /// A guest that defines a resource and imports a host resource, driven by a random script of handle
    /// operations (valid, freed, 0, never allocated, of the other type) whose exact outcomes a model of the
    /// spec's handle table predicts; plus the instance-rule faults: a leaked borrow, an import called from
    /// `realloc` and from `post-return`, and reentrance from the host. See [`crate::resource`].
    Resource,
    /// Echo through the async ABI: `async func` exports lifted with a callback forward to `async func` host
    /// imports through async lowers, and return with `task.return`; the host answers each call at once or after
    /// yielding to the executor, so values travel both the direct and the event-driven path. See
    /// [`crate::asynchronous`].
    Async,
    /// Values of random types through `stream<T>` and `future<list<T>>` between two component instances: an
    /// `async func` export writes its list argument into a stream (in chunks, sometimes cancelling a blocked
    /// write) that a nested component reads (in other chunks, sometimes cancelling a blocked read) and returns.
    /// See [`crate::streams`].
    Stream,
    /// Concurrent calls into a component under backpressure: an `async func` export splits its list argument
    /// into slices, calls a sibling component once per slice through async lowers without waiting in between
    /// (sometimes cancelling a call that waits to start, and making it again), and concatenates the results; the
    /// sibling admits one task at a time with `backpressure.inc`/`dec` and yields before it returns. See
    /// [`crate::backpressure`].
    Backpressure,
    /// Streams between a component and the host: the stream tier's caller with the host as its callee. An
    /// `async func` export writes its `list<u8>` argument into a `stream<u8>` whose readable end it passes to the
    /// host import `s{i}`, which reads it to its end and returns what it read; or it calls the host import
    /// `p{i}`, which returns a stream carrying the list, and reads it; or the same with a `future<list<u8>>`
    /// carrying the whole list. Every engine's host ends of streams and futures (component-layer's
    /// `StreamReader`/`StreamWriter`/`FutureReader`/`FutureWriter`, wasmtime's consumers and producers) carry the
    /// values.
    HostStream,
}

impl Tier {
    /// All tiers.
    pub const ALL: [Tier; 13] = [
        Tier::Echo,
        Tier::Transform,
        Tier::Probe,
        Tier::Lift,
        Tier::Fault,
        Tier::Compose,
        Tier::Structure,
        Tier::Compute,
        Tier::Resource,
        Tier::Async,
        Tier::Stream,
        Tier::Backpressure,
        Tier::HostStream,
    ];

    /// The tier's name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Echo => "echo",
            Tier::Transform => "transform",
            Tier::Probe => "probe",
            Tier::Lift => "lift",
            Tier::Fault => "fault",
            Tier::Compose => "compose",
            Tier::Structure => "structure",
            Tier::Compute => "compute",
            Tier::Resource => "resource",
            Tier::Async => "async",
            Tier::Stream => "stream",
            Tier::Backpressure => "backpressure",
            Tier::HostStream => "host-stream",
        }
    }

    /// Whether the tier's components use the async ABI (`async func` exports or imports).
    pub fn uses_async_abi(self) -> bool {
        matches!(self, Tier::Async | Tier::Stream | Tier::Backpressure | Tier::HostStream)
    }

    /// The tier with this name.
    pub fn from_name(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a host import does when called.
///
/// Handles of host resources ([`crate::ty::ResourceDecl::host`]) reach the behaviour as their rep (`u32`), and a
/// `u32` answered for an `own<R>` result becomes a new host-owned handle with that rep; the host destructor of
/// `R` is logged as a call of `[dtor]R` with the rep. Export arguments of type `own<R>`/`borrow<R>` are given
/// as `u32` reps too: the host makes the handle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostBehaviour {
    /// Returns the next value of the current call's `host_returns`.
    ReturnQueued,
    /// As [`HostBehaviour::ReturnQueued`], after yielding once to the executor: an `async func` import whose
    /// caller sees a subtask that returns later (the async tier).
    ReturnQueuedLater,
    /// Returns its first argument.
    EchoFirst,
    /// Fails (the call traps).
    Trap,
    /// Returns [`crate::values::hash_answer`] of its arguments: a fixed function of their values (FNV-1a over
    /// their `Debug` form) mapped into the (scalar) result type, so every engine gets the same answer for the
    /// same arguments.
    Hash,
    /// The import's first parameter is a `stream<T>` (its signature says `list<T>`: the values): the host reads
    /// it to its end, logs the values it read as the argument and returns them (the host-stream tier).
    ReadStream,
    /// The import's result is a `stream<T>` (its signature says `list<T>`: the values): the host returns a stream
    /// that carries its first argument, written before the call returns, and ends it (the host-stream tier).
    WriteStream,
    /// As [`HostBehaviour::ReadStream`] for a `future<list<T>>` parameter: the host reads its one value.
    ReadFuture,
    /// As [`HostBehaviour::WriteStream`] for a `future<list<T>>` result: the host returns a future whose value,
    /// its first argument, is written before the call returns.
    WriteFuture,
    /// Calls the named export of the same instance with its own arguments and returns what it returns. The
    /// instance is still running the call that called this import, so the runtime must refuse to reenter it
    /// (a trap).
    Reenter(String),
}

/// A host import.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HostImport {
    /// Its name.
    pub name: String,
    /// Its signature.
    pub sig: Sig,
    /// What it does.
    pub behaviour: HostBehaviour,
}

/// What a call must do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expect {
    /// Return this (or nothing).
    Returns(Option<Value>),
    /// Trap.
    Trap,
    /// Unknown in advance: the engines are compared with each other.
    Agree,
}

/// Separates the names of an export path in [`Call::export`] and [`Case::exports`]: `ns:pkg/iface@1.0.0#f` is
/// function `f` of the exported instance `ns:pkg/iface@1.0.0` (the notation of wasmtime and wit-component; `#`
/// cannot occur in component-model names).
pub const PATH_SEPARATOR: char = '#';

/// The export name of a path (`["iface", "f"]` → `iface#f`).
pub fn export_name<S: AsRef<str>>(path: &[S]) -> String {
    path.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(&PATH_SEPARATOR.to_string())
}

/// The path of an export name: the names of the nested instances, then the function's.
pub fn export_path(export: &str) -> Vec<&str> {
    export.split(PATH_SEPARATOR).collect()
}

/// The [`Call::export`] of a call that is no export call: the host drops the resource of its one [`Held`]
/// argument (`resource_drop`: an own's destructor runs) and returns nothing. (No component export can have
/// this name: `[…]` annotations are for methods, constructors and statics.)
pub const HOST_DROP: &str = "[host-drop]";

/// One call of an export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Call {
    /// The export: a root function's name, or a path through exported instances joined with
    /// [`PATH_SEPARATOR`] (see [`export_path`]); or [`HOST_DROP`].
    pub export: String,
    /// Its arguments.
    pub args: Vec<Value>,
    /// Values host imports with [`HostBehaviour::ReturnQueued`] return, in order.
    pub host_returns: Vec<Value>,
    /// The arguments host imports must receive, in order, if known.
    pub expect_import_args: Option<Vec<Vec<Value>>>,
    /// The expected outcome.
    pub expect: Expect,
    /// Arguments that are resources the host received from earlier calls of the same instance (see [`Held`]);
    /// `args` holds [`resource_token`] of that call at their positions, for display only.
    pub held: Vec<Held>,
    /// What wasmtime 48 is known to return instead of `expect` (which stays the spec's) where it deviates from
    /// the spec in a documented way; `None` where it must meet `expect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_deviation: Option<Deviation>,
    /// What this call exercises, where its case's calls differ in more than their values (the fault planted in
    /// its image, say); empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub about: String,
}

/// A known, documented deviation of wasmtime 48 from the spec in one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    /// Why: the spec function and wasmtime's that differ, in one line.
    pub reason: String,
    /// What wasmtime 48 returns instead of the call's [`Expect::Returns`].
    pub returns: Option<Value>,
}

/// An argument that is the resource an earlier call returned: the host keeps every resource result (by the
/// index of the call in [`Case::calls`] that returned it) and passes it on — moved for an `own` parameter, lent
/// for a `borrow`. A call never refers to a resource from before a trap (the trap ends the instance) or to an
/// `own` already moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The argument's position.
    pub arg: usize,
    /// The call that returned the resource.
    pub call: usize,
}

/// How a resource result is compared: handle values differ between engines (and mean nothing to the host), so
/// a resource result stands for the call that first returned that resource to the host — engines that behave
/// alike give equal tokens.
pub fn resource_token(call: usize) -> Value {
    Value::String(format!("<resource returned by call {call}>"))
}

impl Call {
    /// A call of `export` with `args` and the expected outcome, no queued host returns, no expectation on the
    /// host imports' arguments and no held resources; set those fields on the result where a tier needs them.
    pub fn new(export: impl Into<String>, args: Vec<Value>, expect: Expect) -> Call {
        Call {
            export: export.into(),
            args,
            host_returns: Vec::new(),
            expect_import_args: None,
            expect,
            held: Vec::new(),
            reference_deviation: None,
            about: String::new(),
        }
    }

    /// The call, moved `by` positions earlier in its script (its [`Held`] references and resource tokens too):
    /// for scripts cut at the front, which never refer to resources from before the cut.
    pub fn rebased(&self, by: usize) -> Call {
        let mut c = self.clone();
        for h in &mut c.held {
            h.call = h.call.saturating_sub(by);
            if let Some(a) = c.args.get_mut(h.arg) {
                *a = resource_token(h.call);
            }
        }
        let deviation = c.reference_deviation.as_mut().and_then(|d| d.returns.as_mut());
        let expected = match &mut c.expect {
            Expect::Returns(Some(v)) => Some(v),
            _ => None,
        };
        for v in expected.into_iter().chain(deviation) {
            if let Some(k) = token_call(v) {
                *v = resource_token(k.saturating_sub(by));
            }
        }
        c
    }
}

/// The call a [`resource_token`] names.
pub fn token_call(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) => s.strip_prefix("<resource returned by call ")?.strip_suffix('>')?.parse().ok(),
        _ => None,
    }
}

/// A generated test case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Case {
    /// The seed it was generated from.
    pub seed: u64,
    /// Its tier.
    pub tier: Tier,
    /// Its types.
    pub set: TypeSet,
    /// The exports the calls use.
    pub exports: Vec<(String, Sig)>,
    /// The host imports.
    pub imports: Vec<HostImport>,
    /// The component binary.
    pub component: Vec<u8>,
    /// The calls, in order.
    pub calls: Vec<Call>,
    /// A one-line description (encodings, fault kind, …).
    pub note: String,
    /// Whether the host defines every import it does not know (anything but [`Case::imports`]) as a stub that
    /// traps when called (`define_unknown_imports_as_traps`); otherwise such imports are link errors.
    pub stub_imports: bool,
    /// The WIT the component was built from, when it is not rendered from [`Case::set`] (structure tier).
    pub wit_source: Option<String>,
}

impl Case {
    /// The case's world in WIT.
    pub fn wit(&self) -> String {
        let header = format!(
            "// seed {} ({} tier){}\n",
            self.seed,
            self.tier,
            if self.note.is_empty() { String::new() } else { format!(": {}", self.note) }
        );
        if let Some(src) = &self.wit_source {
            return format!("{header}{src}");
        }
        let mut s = format!("{header}world case {{\n");
        s.push_str(&self.set.wit_defs());
        let func_kw = if self.tier.uses_async_abi() { "async func" } else { "func" };
        let func = |s: &mut String, kw: &str, name: &str, sig: &Sig| {
            let params: Vec<String> = sig.params.iter().map(|(n, t)| format!("{n}: {}", self.set.wit(t))).collect();
            let result = sig.result.as_ref().map(|t| format!(" -> {}", self.set.wit(t))).unwrap_or_default();
            s.push_str(&format!("  {kw} {name}: {func_kw}({}){result};\n", params.join(", ")));
        };
        for i in &self.imports {
            func(&mut s, "import", &i.name, &i.sig);
        }
        for (n, sig) in &self.exports {
            func(&mut s, "export", n, sig);
        }
        s.push_str("}\n");
        s
    }
}

/// Generation limits.
#[derive(Clone, Debug, Default)]
pub struct CaseConfig {
    /// Type budget.
    pub types: TypeConfig,
    /// Value budget.
    pub values: ValueConfig,
    /// Calls per case (default 8).
    pub calls: Option<usize>,
}

/// Generates a case of `tier` from `u`.
pub fn generate(u: &mut Unstructured<'_>, seed: u64, tier: Tier, config: &CaseConfig) -> Result<Case> {
    let g = Gen { u, set: TypeSet::default(), config };
    match tier {
        Tier::Echo => g.echo(seed, false),
        Tier::Compose => g.compose(seed),
        Tier::Transform => g.transform(seed),
        Tier::Probe => g.probe(seed),
        Tier::Lift => g.lift(seed, false),
        Tier::Fault => g.lift(seed, true),
        Tier::Structure => g.structure(seed),
        Tier::Compute => g.compute(seed),
        Tier::Resource => crate::resource::generate(g.u, seed, config),
        Tier::Async => g.async_echo(seed),
        Tier::Stream => g.streams(seed),
        Tier::Backpressure => g.backpressure(seed),
        Tier::HostStream => g.host_streams(seed),
    }
}

/// A stream case's note: each export's channel, then how the channels run.
fn channels_note(set: &TypeSet, channels: &[crate::streams::Channel], how: &str) -> String {
    channels
        .iter()
        .enumerate()
        .map(|(i, c)| format!("e{i} {}", c.describe(set)))
        .chain(std::iter::once(how.to_string()))
        .collect::<Vec<_>>()
        .join("; ")
}

struct Gen<'u, 'd, 'c> {
    u: &'u mut Unstructured<'d>,
    set: TypeSet,
    config: &'c CaseConfig,
}

fn no_resources(_: usize, _: bool) -> Value {
    Value::Bool(false)
}

impl Gen<'_, '_, '_> {
    fn ty(&mut self) -> Result<Ty> {
        TypeGen::new(&mut self.set, self.config.types.clone()).ty(self.u)
    }

    fn encoding(&mut self) -> Result<Encoding> {
        Ok(*self.u.choose(&Encoding::ALL)?)
    }

    fn sig(&mut self) -> Result<Sig> {
        // Sometimes many parameters, to cross the 16-flat-values limit.
        let n = if self.u.ratio(1, 6)? { self.u.int_in_range(9..=20)? } else { self.u.int_in_range(0..=4)? };
        let params = (0..n).map(|i| Ok((format!("p{i}"), self.ty()?))).collect::<Result<_>>()?;
        let result = if self.u.ratio(3, 4)? { Some(self.ty()?) } else { None };
        Ok(Sig { params, result })
    }

    fn value(&mut self, ty: &Ty) -> Result<Value> {
        ValueGen::new(&self.set, self.config.values.clone()).value(self.u, ty, &mut no_resources)
    }

    fn n_calls(&mut self) -> Result<usize> {
        match self.config.calls {
            Some(n) => Ok(n),
            None => self.u.int_in_range(4..=8),
        }
    }

    /// A correct realloc, in one case of 8 serving one of a call's first allocations at an edge of memory:
    /// at address 0 or ending at the end of memory.
    fn edge_realloc(&mut self) -> Result<ReallocMode> {
        if !self.u.ratio(1, 8)? {
            return Ok(ReallocMode::Good);
        }
        let k = *self.u.choose(&[0, 0, 0, 1, 2, 3])?;
        Ok(if self.u.arbitrary()? { ReallocMode::AtZero(k) } else { ReallocMode::AtEnd(k) })
    }

    /// A correct realloc, in one case of 8 serving one of a call's first allocations at address 0.
    fn zero_realloc(&mut self) -> Result<ReallocMode> {
        Ok(match self.edge_realloc()? {
            ReallocMode::AtEnd(k) => ReallocMode::AtZero(k),
            mode => mode,
        })
    }

    /// Compose: half the cases forward values through two components ([`Gen::echo`]), half pass strings
    /// across and compare the realloc traces ([`Gen::trace`]).
    fn compose(self, seed: u64) -> Result<Case> {
        if self.u.arbitrary()? {
            self.trace(seed)
        } else {
            self.echo(seed, true)
        }
    }

    /// Echo (and Compose): `e{i}` forwards to host import `i{i}` of the same signature.
    fn echo(mut self, seed: u64, compose: bool) -> Result<Case> {
        let n = self.u.int_in_range(1..=3)?;
        let sigs: Vec<Sig> = (0..n).map(|_| self.sig()).collect::<Result<_>>()?;
        let mut imports = Vec::new();
        let mut host = Vec::new();
        let mut exports = Vec::new();
        // A forwarding body passes its core arguments through untouched, so the export and the import it calls
        // must use the same string encoding; transcoding happens between the host and the guest, and between
        // composed components (which each pick their own).
        for (i, sig) in sigs.iter().enumerate() {
            let encoding = self.encoding()?;
            imports.push(ImportDecl { name: format!("i{i}"), sig: sig.clone(), encoding });
            host.push(HostImport { name: format!("i{i}"), sig: sig.clone(), behaviour: HostBehaviour::ReturnQueued });
            exports.push(ExportDecl {
                name: format!("e{i}"),
                sig: sig.clone(),
                encoding,
                body: Body::Forward { import: i },
            });
        }
        let mut edges = Vec::new();
        let (component, mut note) = if compose {
            // The caller's imports are the callee's exports.
            let encodings: Vec<Encoding> = exports.iter().map(|_| self.encoding()).collect::<Result<_>>()?;
            let caller_imports: Vec<ImportDecl> = exports
                .iter()
                .zip(&encodings)
                .map(|(e, enc)| ImportDecl { name: e.name.clone(), sig: e.sig.clone(), encoding: *enc })
                .collect();
            let caller_exports: Vec<ExportDecl> = exports
                .iter()
                .zip(&encodings)
                .enumerate()
                .map(|(i, (e, enc))| ExportDecl {
                    name: e.name.clone(),
                    sig: e.sig.clone(),
                    encoding: *enc,
                    body: Body::Forward { import: i },
                })
                .collect();
            let note = describe_encodings(&caller_exports, &caller_imports, &exports, &imports);
            let (caller_realloc, callee_realloc) = (self.edge_realloc()?, self.edge_realloc()?);
            edges.push(("caller ", caller_realloc));
            edges.push(("callee ", callee_realloc));
            let callee = Design { set: self.set.clone(), imports, exports, realloc: callee_realloc, data: Vec::new() };
            let caller = Design {
                set: self.set.clone(),
                imports: caller_imports,
                exports: caller_exports,
                realloc: caller_realloc,
                data: Vec::new(),
            };
            (encode::encode_composed(&self.set, &caller, &callee), note)
        } else {
            let note = describe_encodings(&exports, &imports, &[], &[]);
            let realloc = self.edge_realloc()?;
            edges.push(("", realloc));
            let d = Design { set: self.set.clone(), imports, exports, realloc, data: Vec::new() };
            (encode::encode(&d), note)
        };
        note.push_str(&edge_notes(&edges));
        let calls = self.forwarding_calls(&sigs)?;
        Ok(Case {
            seed,
            tier: if compose { Tier::Compose } else { Tier::Echo },
            exports: sigs.iter().enumerate().map(|(i, s)| (format!("e{i}"), s.clone())).collect(),
            imports: host,
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// Calls of exports `e{i}` that forward to host imports `i{i}` of signature `sigs[i]`: random arguments, which
    /// the import must receive, and a random host result, which the export must return.
    fn forwarding_calls(&mut self, sigs: &[Sig]) -> Result<Vec<Call>> {
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let i = self.u.choose_index(sigs.len())?;
            let sig = &sigs[i];
            let args: Vec<Value> = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            let ret = sig.result.as_ref().map(|t| self.value(t)).transpose()?;
            let mut call = Call::new(format!("e{i}"), args.clone(), Expect::Returns(ret.clone()));
            call.host_returns = ret.into_iter().collect();
            call.expect_import_args = Some(vec![args]);
            calls.push(call);
        }
        Ok(calls)
    }

    /// Async: `e{i}` forwards to host import `i{i}` through the async ABI ([`crate::asynchronous`]).
    fn async_echo(mut self, seed: u64) -> Result<Case> {
        let n = self.u.int_in_range(1..=3)?;
        let mut pairs = Vec::new();
        let mut host = Vec::new();
        for i in 0..n {
            let mut sig = self.sig()?;
            for _ in 0..8 {
                if crate::asynchronous::forwardable(&self.set, &sig) {
                    break;
                }
                sig = self.sig()?;
            }
            if !crate::asynchronous::forwardable(&self.set, &sig) {
                sig = Sig { params: vec![("p0".into(), Ty::U32)], result: Some(Ty::U32) };
            }
            let behaviour =
                if self.u.arbitrary()? { HostBehaviour::ReturnQueuedLater } else { HostBehaviour::ReturnQueued };
            host.push(HostImport { name: format!("i{i}"), sig: sig.clone(), behaviour });
            pairs.push(crate::asynchronous::AsyncPair { sig, encoding: self.encoding()? });
        }
        let component = crate::asynchronous::encode(&self.set, &pairs);
        let note = pairs
            .iter()
            .zip(&host)
            .enumerate()
            .map(|(i, (p, h))| {
                let when = if h.behaviour == HostBehaviour::ReturnQueuedLater { "later" } else { "at once" };
                format!("e{i} {} (host answers {when})", p.encoding.name())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sigs: Vec<Sig> = pairs.iter().map(|p| p.sig.clone()).collect();
        let calls = self.forwarding_calls(&sigs)?;
        Ok(Case {
            seed,
            tier: Tier::Async,
            exports: pairs.iter().enumerate().map(|(i, p)| (format!("e{i}"), p.sig.clone())).collect(),
            imports: host,
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// Stream: `e{i}(x: list<T>) -> list<T>` sends `x` through a stream or future to a nested component that
    /// returns what it read ([`crate::streams`]).
    fn streams(mut self, seed: u64) -> Result<Case> {
        use crate::streams::{Channel, Direction, Transport};
        let dir = if self.u.arbitrary()? { Direction::Param } else { Direction::Result };
        let n = self.u.int_in_range(1..=3)?;
        let mut channels = Vec::new();
        for _ in 0..n {
            let elem = self.stream_elem()?;
            let transport = if self.u.ratio(1, 3)? { Transport::Future } else { self.stream_transport()? };
            channels.push(Channel { elem, transport, writer: self.encoding()?, reader: self.encoding()? });
        }
        let component = crate::streams::encode(&self.set, &channels, dir);
        let how = match dir {
            Direction::Param => "the caller writes, the callee reads its stream parameter",
            Direction::Result => "the callee returns the stream or future and writes, the caller reads",
        };
        let note = channels_note(&self.set, &channels, how);
        let elems = channels.iter().map(|c| c.elem.clone()).collect();
        self.echo_lists(seed, Tier::Stream, elems, component, note)
    }

    /// The case of `component`, whose exports `e{i}: func(x: list<T_i>) -> list<T_i>` (`T_i` = `elems[i]`) must
    /// give their argument back, with random calls of them.
    fn echo_lists(mut self, seed: u64, tier: Tier, elems: Vec<Ty>, component: Vec<u8>, note: String) -> Result<Case> {
        let sigs: Vec<Sig> = elems
            .into_iter()
            .map(|elem| {
                let list = Ty::List(Box::new(elem));
                Sig { params: vec![("x".into(), list.clone())], result: Some(list) }
            })
            .collect();
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let i = self.u.choose_index(sigs.len())?;
            let x = self.value(&sigs[i].params[0].1)?;
            calls.push(Call::new(format!("e{i}"), vec![x.clone()], Expect::Returns(Some(x))));
        }
        Ok(Case {
            seed,
            tier,
            exports: sigs.into_iter().enumerate().map(|(i, s)| (format!("e{i}"), s)).collect(),
            imports: Vec::new(),
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// Host streams: the stream tier's caller side alone, its callee the host ([`Tier::HostStream`]): a
    /// `stream<u8>` or a `future<list<u8>>` that the host reads or returns. Bytes only: a host end in wasmtime has
    /// a static Rust element type.
    fn host_streams(mut self, seed: u64) -> Result<Case> {
        use crate::streams::{Channel, Direction, Transport};
        let dir = if self.u.arbitrary()? { Direction::Param } else { Direction::Result };
        let n = self.u.int_in_range(1..=3)?;
        let mut channels = Vec::new();
        for _ in 0..n {
            let transport = if self.u.ratio(1, 3)? { Transport::Future } else { self.stream_transport()? };
            let enc = self.encoding()?;
            channels.push(Channel { elem: Ty::U8, transport, writer: enc, reader: enc });
        }
        let component = crate::streams::encode_host(&self.set, &channels, dir);
        let list = Ty::List(Box::new(Ty::U8));
        let (callee, param, how) = match dir {
            Direction::Param => ("s", "s", "the caller writes, the host reads its stream or future parameter"),
            Direction::Result => ("p", "x", "the host returns a stream or future it wrote, the caller reads"),
        };
        let note = channels_note(&self.set, &channels, how);
        let mut imports = Vec::new();
        let mut wit = String::from("world case {\n");
        for (i, c) in channels.iter().enumerate() {
            let future = c.transport == Transport::Future;
            let (channel, behaviour) = match (dir, future) {
                (Direction::Param, false) => ("stream<u8>", HostBehaviour::ReadStream),
                (Direction::Param, true) => ("future<list<u8>>", HostBehaviour::ReadFuture),
                (Direction::Result, false) => ("stream<u8>", HostBehaviour::WriteStream),
                (Direction::Result, true) => ("future<list<u8>>", HostBehaviour::WriteFuture),
            };
            imports.push(HostImport {
                name: format!("{callee}{i}"),
                sig: Sig { params: vec![(param.into(), list.clone())], result: Some(list.clone()) },
                behaviour,
            });
            let _ = match dir {
                Direction::Param => writeln!(wit, "  import s{i}: async func(s: {channel}) -> list<u8>;"),
                Direction::Result => writeln!(wit, "  import p{i}: async func(x: list<u8>) -> {channel};"),
            };
        }
        for i in 0..n {
            let _ = writeln!(wit, "  export e{i}: async func(x: list<u8>) -> list<u8>;");
        }
        wit.push_str("}\n");
        let mut case = self.echo_lists(seed, Tier::HostStream, vec![Ty::U8; n], component, note)?;
        case.imports = imports;
        case.wit_source = Some(wit);
        Ok(case)
    }

    /// A stream's chunk sizes (mostly small, so copies are partial) and whether each side cancels its first
    /// blocked copy.
    fn stream_transport(&mut self) -> Result<crate::streams::Transport> {
        let chunk = |u: &mut Unstructured<'_>| -> Result<u32> {
            Ok(if u.ratio(1, 4)? { u.int_in_range(5..=64)? } else { u.int_in_range(1..=4)? })
        };
        Ok(crate::streams::Transport::Stream {
            write: chunk(self.u)?,
            read: chunk(self.u)?,
            cancel_write: self.u.ratio(1, 3)?,
            cancel_read: self.u.ratio(1, 3)?,
        })
    }

    /// A stream's element type: any but `char` (wasmparser 0.254 refuses `stream<char>`: a stream of text is to be
    /// `stream<u8>` with an encoding).
    fn stream_elem(&mut self) -> Result<Ty> {
        for _ in 0..8 {
            let elem = self.ty()?;
            if !crate::streams::is_char(&self.set, &elem) {
                return Ok(elem);
            }
        }
        Ok(Ty::U8)
    }

    /// Backpressure: `e{i}(x: list<T>) -> list<T>` returns `x` through concurrent calls of a sibling that admits
    /// one task at a time ([`crate::backpressure`]).
    fn backpressure(mut self, seed: u64) -> Result<Case> {
        use crate::backpressure::{Concurrent, MAX_PARTS};
        let n = self.u.int_in_range(1..=3)?;
        let mut exports = Vec::new();
        for _ in 0..n {
            exports.push(Concurrent {
                elem: self.ty()?,
                parts: self.u.int_in_range(2..=MAX_PARTS)?,
                // Mostly yielding callees: a callee that returns at once never makes a later call wait.
                yields: if self.u.ratio(1, 5)? { 0 } else { self.u.int_in_range(1..=3)? },
                cancel: self.u.ratio(1, 2)?,
                caller: self.encoding()?,
                callee: self.encoding()?,
            });
        }
        let component = crate::backpressure::encode(&self.set, &exports);
        let note = exports
            .iter()
            .enumerate()
            .map(|(i, c)| format!("e{i} {}", c.describe(&self.set)))
            .collect::<Vec<_>>()
            .join("; ");
        let elems = exports.iter().map(|c| c.elem.clone()).collect();
        self.echo_lists(seed, Tier::Backpressure, elems, component, note)
    }

    /// Transform: `t(x: list<T>) -> list<T>` transforms `x` and passes it to `i(x)`, which echoes it.
    fn transform(mut self, seed: u64) -> Result<Case> {
        let elem = self.ty()?;
        let list = Ty::List(Box::new(elem.clone()));
        let sig = Sig { params: vec![("x".into(), list.clone())], result: Some(list.clone()) };
        let enc = self.encoding()?;
        let imports = vec![ImportDecl { name: "i".into(), sig: sig.clone(), encoding: enc }];
        let exports = vec![ExportDecl {
            name: "t".into(),
            sig: sig.clone(),
            encoding: enc,
            body: Body::TransformList { import: 0, elem },
        }];
        let realloc = self.edge_realloc()?;
        let note = describe_encodings(&exports, &imports, &[], &[]) + &edge_notes(&[("", realloc)]);
        let d = Design { set: self.set.clone(), imports, exports, realloc, data: Vec::new() };
        let component = encode::encode(&d);
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let x = self.value(&list)?;
            let t = transform(&self.set, &list, &x).map_err(|_| arbitrary::Error::IncorrectFormat)?;
            calls.push(Call {
                export: "t".into(),
                args: vec![x],
                host_returns: Vec::new(),
                expect_import_args: Some(vec![vec![t.clone()]]),
                expect: Expect::Returns(Some(t)),
                held: Vec::new(),
                reference_deviation: None,
                about: String::new(),
            });
        }
        Ok(Case {
            seed,
            tier: Tier::Transform,
            exports: vec![("t".into(), sig.clone())],
            imports: vec![HostImport { name: "i".into(), sig, behaviour: HostBehaviour::EchoFirst }],
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// Probe: `p(params…) -> tuple<list<u8>, list<u32>, list<u64>>`.
    fn probe(mut self, seed: u64) -> Result<Case> {
        let mut sig = self.sig()?;
        sig.result =
            Some(Ty::Tuple(vec![Ty::List(Box::new(Ty::U8)), Ty::List(Box::new(Ty::U32)), Ty::List(Box::new(Ty::U64))]));
        let exports =
            vec![ExportDecl { name: "p".into(), sig: sig.clone(), encoding: self.encoding()?, body: Body::Probe }];
        // Only at address 0: after a block at the end of memory, the heap bytes the probe returns would span all
        // of memory.
        let realloc = self.zero_realloc()?;
        let note = describe_encodings(&exports, &[], &[], &[]) + &edge_notes(&[("", realloc)]);
        let d = Design { set: self.set.clone(), imports: Vec::new(), exports, realloc, data: Vec::new() };
        let component = encode::encode(&d);
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let args = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            calls.push(Call::new("p", args, Expect::Agree));
        }
        Ok(Case {
            seed,
            tier: Tier::Probe,
            exports: vec![("p".into(), sig)],
            imports: Vec::new(),
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// Lift (and Fault): `l(image: list<u8>) -> tuple<T, u8>` returns the host-built image.
    fn lift(mut self, seed: u64, fault: bool) -> Result<Case> {
        let t = self.ty()?;
        let result = Ty::Tuple(vec![t.clone(), Ty::U8]);
        let enc = self.encoding()?;
        // Some fault cases break `realloc` instead of the image; some lift cases place the image at an edge.
        let realloc = if fault && self.u.ratio(1, 4)? {
            match self.u.int_in_range(0..=3)? {
                0 => ReallocMode::Misaligned(0),
                1 => ReallocMode::OutOfBounds(0),
                2 => ReallocMode::PastEnd(0),
                _ => ReallocMode::CallsImport(0),
            }
        } else if fault {
            ReallocMode::Good
        } else {
            self.edge_realloc()?
        };
        let misbehaves = !realloc.is_correct();
        let mut params = vec![("image".into(), Ty::List(Box::new(Ty::U8)))];
        if misbehaves {
            // A list that needs 4-byte alignment, so a misaligning realloc is caught too (the image is bytes).
            params.push(("pad".into(), Ty::List(Box::new(Ty::U32))));
        }
        let sig = Sig { params, result: Some(result.clone()) };
        let exports = vec![ExportDecl { name: "l".into(), sig: sig.clone(), encoding: enc, body: Body::LiftRaw }];
        let d = Design { set: self.set.clone(), imports: Vec::new(), exports, realloc, data: Vec::new() };
        let component = encode::encode(&d);
        let mut imports = Vec::new();
        if let ReallocMode::CallsImport(_) = realloc {
            imports.push(HostImport {
                name: encode::TRAP_IF_CALLED.into(),
                sig: Sig { params: Vec::new(), result: None },
                behaviour: HostBehaviour::Trap,
            });
        }
        let mut calls = Vec::new();
        let mut notes = vec![format!("lift {}", enc.name())];
        for _ in 0..self.n_calls()? {
            let mut about = String::new();
            let v = self.value(&t)?;
            let tuple = Value::Tuple(vec![v.clone(), Value::U8(0)]);
            let mut img = image::build(&self.set, &result, &tuple, RAW_BASE, enc)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            if !fault && self.u.ratio(1, 2)? {
                // Other encodings of the same value: `true` as any nonzero byte, flags with unused bits set.
                let noise: u8 = self.u.arbitrary()?;
                image::add_noncanonical(&mut img, noise);
            }
            let expect = if !fault {
                Expect::Returns(Some(tuple))
            } else if misbehaves {
                // The image list itself is lowered with realloc, which misbehaves on its first call.
                Expect::Trap
            } else {
                let candidates: Vec<(usize, Corruption)> = img
                    .sites
                    .iter()
                    .enumerate()
                    .flat_map(|(i, s)| Corruption::applicable(s).into_iter().map(move |c| (i, c)))
                    .collect();
                if candidates.is_empty() {
                    Expect::Returns(Some(tuple))
                } else {
                    let (i, c) = candidates[self.u.choose_index(candidates.len())?];
                    let site = img.sites[i].clone();
                    c.apply(&mut img, &site, RAW_BASE);
                    about = format!("{c:?}");
                    Expect::Trap
                }
            };
            let mut args = vec![Value::List(List::U8(img.bytes))];
            if misbehaves {
                args.push(Value::List(List::U32(Vec::new())));
            }
            calls.push(Call { about, ..Call::new("l", args, expect) });
        }
        if realloc != ReallocMode::Good {
            notes.push(format!("realloc {realloc:?}"));
        }
        Ok(Case {
            seed,
            tier: if fault { Tier::Fault } else { Tier::Lift },
            exports: vec![("l".into(), sig)],
            imports,
            set: self.set,
            component,
            calls,
            note: notes.join(", "),
            stub_imports: false,
            wit_source: None,
        })
    }
}

impl Gen<'_, '_, '_> {
    /// Compose, realloc traces: 1–3 functions, each with its own pair of string encodings (any of the nine, the
    /// same one twice too). The outer export `e{k}(params…) -> tuple<R, list<u32>, list<u32>>` is the caller's;
    /// it calls the callee's `f{k}(params…) -> tuple<R, list<u32>>`, which passes its arguments to the host
    /// import `i{k}` (checked) and returns a constant `R` — its strings stored in the callee's encoding, a
    /// `latin1+utf16` string that Latin-1 could hold sometimes in UTF-16 — with the callee's realloc log, to
    /// which the caller adds its own. The parameters and `R` hold several strings (in lists, records, tuples,
    /// options, variants, results); both logs are exactly what the spec's lowering makes of them
    /// ([`crate::trace`]), so every call expects an exact value — and, where wasmtime 48 is known to make another
    /// trace ([`trace::WASMTIME_48_DEVIATION`]), says which in [`Call::reference_deviation`].
    fn trace(mut self, seed: u64) -> Result<Case> {
        let n = self.u.int_in_range(1..=3)?;
        let (mut caller_imports, mut caller_exports, mut callee_imports, mut callee_exports) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut host, mut fns, mut data) = (Vec::new(), Vec::new(), Vec::new());
        let mut next = RAW_BASE;
        for k in 0..n {
            let (caller, callee) = (self.encoding()?, self.encoding()?);
            let count = if self.u.ratio(1, 6)? { self.u.int_in_range(9..=12)? } else { self.u.int_in_range(1..=4)? };
            let mut params = vec![self.stringy(2)?];
            for _ in 1..count {
                params.push(if self.u.ratio(2, 3)? { self.stringy(2)? } else { self.ty()? });
            }
            let params: Vec<(String, Ty)> = params.into_iter().enumerate().map(|(i, t)| (format!("p{i}"), t)).collect();
            let mut r = self.stringy(2)?;
            let log = Ty::List(Box::new(Ty::U32));
            let fits = |set: &TypeSet, r: &Ty| {
                set.layout(&Ty::Tuple(vec![r.clone(), log.clone(), log.clone()])).size <= LOG - RET_AREA
            };
            if !fits(&self.set, &r) {
                r = Ty::String;
            }
            let pair = Ty::Tuple(vec![r.clone(), log.clone()]);
            let triple = Ty::Tuple(vec![r.clone(), log.clone(), log.clone()]);
            let r_value = self.value(&r)?;
            let salt: u64 = self.u.arbitrary()?;
            let wide = move |s: &str| wide_latin1(salt, s);
            let constant = Value::Tuple(vec![r_value.clone(), Value::List(List::U32(Vec::new()))]);
            let img = image::build_with(&self.set, &pair, &constant, next, callee, &wide)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            let at = next;
            next = next
                .checked_add((img.bytes.len() as u32).next_multiple_of(8))
                .filter(|n| *n <= HEAP_BASE)
                .ok_or(arbitrary::Error::IncorrectFormat)?;
            data.push((at, img.bytes));
            let list_at = |t: &Ty, field: usize| match t {
                Ty::Tuple(ts) => self.set.record_layout(ts.iter()).1[field],
                _ => 0,
            };
            let (callee_list, caller_list) = (at + list_at(&pair, 1), list_at(&triple, 2));
            let seen = Sig { params: params.clone(), result: None };
            let f = Sig { params: params.clone(), result: Some(pair.clone()) };
            let e = Sig { params: params.clone(), result: Some(triple) };
            callee_imports.push(ImportDecl { name: format!("i{k}"), sig: seen.clone(), encoding: callee });
            callee_exports.push(ExportDecl {
                name: format!("f{k}"),
                sig: f.clone(),
                encoding: callee,
                body: Body::TraceCallee { import: k, at, list_at: callee_list },
            });
            caller_imports.push(ImportDecl { name: format!("f{k}"), sig: f, encoding: caller });
            caller_exports.push(ExportDecl {
                name: format!("e{k}"),
                sig: e.clone(),
                encoding: caller,
                body: Body::TraceCaller { import: k, list_at: caller_list },
            });
            host.push(HostImport { name: format!("i{k}"), sig: seen, behaviour: HostBehaviour::ReturnQueued });
            fns.push(TraceFn { sig: e, pair, r_value, caller, callee, salt });
        }
        let mut note = describe_encodings(&caller_exports, &caller_imports, &callee_exports, &callee_imports);
        let pairs: Vec<String> =
            fns.iter().enumerate().map(|(k, f)| format!("e{k} {}->{}", f.caller.name(), f.callee.name())).collect();
        note.push_str(&format!("; trace [{}]", pairs.join(", ")));
        // The callee's calls are all the lowering of its arguments, so the model knows which one is served at 0;
        // the caller's first calls are the host's (which lowers as it likes), so its realloc stays plain.
        let callee_realloc = self.zero_realloc()?;
        note.push_str(&edge_notes(&[("callee ", callee_realloc)]));
        let callee = Design {
            set: self.set.clone(),
            imports: callee_imports,
            exports: callee_exports,
            realloc: callee_realloc,
            data,
        };
        let caller = Design {
            set: self.set.clone(),
            imports: caller_imports,
            exports: caller_exports,
            realloc: ReallocMode::Good,
            data: Vec::new(),
        };
        let component = encode::encode_composed(&self.set, &caller, &callee);
        let mut calls = Vec::new();
        let mut algorithms = std::collections::BTreeSet::new();
        for _ in 0..self.n_calls()? {
            let k = self.u.choose_index(fns.len())?;
            let f = &fns[k];
            let args: Vec<Value> = f.sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            let expected = f
                .expect(&self.set, &args, callee_realloc, trace::Model::Spec, &mut algorithms)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            let wasmtime = f
                .expect(&self.set, &args, callee_realloc, trace::Model::Wasmtime48, &mut Default::default())
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            let mut call = Call::new(format!("e{k}"), args.clone(), Expect::Returns(Some(expected.clone())));
            call.expect_import_args = Some(vec![args]);
            if wasmtime != expected {
                call.reference_deviation =
                    Some(Deviation { reason: trace::WASMTIME_48_DEVIATION.to_owned(), returns: Some(wasmtime) });
            }
            calls.push(call);
        }
        let algorithms: Vec<&str> = algorithms.into_iter().collect();
        note.push_str(&format!("; spec algorithms [{}]", algorithms.join(" ")));
        Ok(Case {
            seed,
            tier: Tier::Compose,
            exports: fns.iter().enumerate().map(|(k, f)| (format!("e{k}"), f.sig.clone())).collect(),
            imports: host,
            set: self.set,
            component,
            calls,
            note,
            stub_imports: false,
            wit_source: None,
        })
    }

    /// A type holding at least one string, `depth` levels of nesting at most.
    fn stringy(&mut self, depth: u32) -> Result<Ty> {
        if depth == 0 {
            return Ok(Ty::String);
        }
        Ok(match self.u.int_in_range(0..=9)? {
            0..=2 => Ty::String,
            3 => Ty::List(Box::new(self.stringy(depth - 1)?)),
            4 => Ty::Option(Box::new(self.stringy(depth - 1)?)),
            5 => {
                let mut ts = vec![self.stringy(depth - 1)?, self.ty()?];
                if self.u.arbitrary()? {
                    ts.push(self.stringy(depth - 1)?);
                }
                Ty::Tuple(ts)
            }
            6 => {
                let n = self.u.int_in_range(1..=4)?;
                let mut fields = vec![("s".to_owned(), self.stringy(depth - 1)?)];
                for i in 1..n {
                    let t = if self.u.arbitrary()? { self.stringy(depth - 1)? } else { self.ty()? };
                    fields.push((format!("f{i}"), t));
                }
                self.named(Def::Record(fields))
            }
            7 => {
                let mut cases = vec![("s".to_owned(), Some(self.stringy(depth - 1)?))];
                for i in 1..self.u.int_in_range(1..=4)? {
                    let t = match self.u.int_in_range(0..=2)? {
                        0 => None,
                        1 => Some(self.stringy(depth - 1)?),
                        _ => Some(self.ty()?),
                    };
                    cases.push((format!("v{i}"), t));
                }
                self.named(Def::Variant(cases))
            }
            8 => {
                let err = if self.u.arbitrary()? { Some(Box::new(self.stringy(depth - 1)?)) } else { None };
                Ty::Result(Some(Box::new(self.stringy(depth - 1)?)), err)
            }
            _ => Ty::Tuple(vec![self.ty()?, Ty::String]),
        })
    }

    fn named(&mut self, def: Def) -> Ty {
        let i = self.set.defs.len();
        self.set.defs.push((format!("t{i}"), def));
        Ty::Named(i)
    }
}

/// One function of a trace case.
struct TraceFn {
    /// The outer export's signature.
    sig: Sig,
    /// `tuple<R, list<u32>>`, the callee's result.
    pair: Ty,
    /// The constant `R` the callee returns.
    r_value: Value,
    caller: Encoding,
    callee: Encoding,
    /// Which of the callee's `latin1+utf16` strings are held in UTF-16 ([`wide_latin1`]).
    salt: u64,
}

impl TraceFn {
    /// What the outer export returns for `args`: `R`, the callee's log (lowering the arguments, held by the
    /// caller as the host lowered them there, with the callee's realloc in mode `callee_realloc`) and the
    /// caller's (lowering the callee's result after `rebase`), as `model`'s algorithms make them.
    /// Records the algorithms the strings took in `algorithms`.
    fn expect(
        &self,
        set: &TypeSet,
        args: &[Value],
        callee_realloc: ReallocMode,
        model: trace::Model,
        algorithms: &mut std::collections::BTreeSet<&'static str>,
    ) -> std::result::Result<Value, String> {
        let params: Vec<Ty> = self.sig.params.iter().map(|(_, t)| t.clone()).collect();
        let mut callee_alloc = trace::Allocator::with_mode(HEAP_BASE, callee_realloc)?;
        let caller = self.caller;
        let mut lowering = trace::Lowering {
            set,
            dst: self.callee,
            form: &|s: &str| trace::SrcForm::from_host(caller, s),
            alloc: &mut callee_alloc,
            model,
            algorithms: Default::default(),
        };
        lowering.params(&params, args)?;
        algorithms.extend(lowering.algorithms);
        let callee_log = callee_alloc.log();
        let mut caller_alloc = trace::Allocator::new(TRACE_HEAP);
        let (callee, salt) = (self.callee, self.salt);
        let mut lowering = trace::Lowering {
            set,
            dst: self.caller,
            form: &|s: &str| trace::SrcForm::stored(callee, s, wide_latin1(salt, s)),
            alloc: &mut caller_alloc,
            model,
            algorithms: Default::default(),
        };
        let result = Value::Tuple(vec![self.r_value.clone(), Value::List(List::U32(callee_log.clone()))]);
        lowering.value(&self.pair, &result)?;
        algorithms.extend(lowering.algorithms);
        Ok(Value::Tuple(vec![
            self.r_value.clone(),
            Value::List(List::U32(callee_log)),
            Value::List(List::U32(caller_alloc.log())),
        ]))
    }
}

/// Whether a `latin1+utf16` string Latin-1 could hold is stored in UTF-16 instead: a fixed function of the
/// string and a per-function salt, so the image and the trace model agree (about half the strings).
fn wide_latin1(salt: u64, s: &str) -> bool {
    let h = s.bytes().fold(salt ^ 0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    h >> 63 == 1
}

impl Gen<'_, '_, '_> {
    /// Structure: a wit-smith world around wit-component's dummy module. Every export whose parameters hold no
    /// resource is called (the generator cannot make handles yet) and must trap: its body is `unreachable`, or
    /// lowering its arguments calls the dummy `cabi_realloc`, which is `unreachable` too.
    fn structure(mut self, seed: u64) -> Result<Case> {
        // wit-smith documents are small and often have no world, or worlds without exports: try a few
        // documents, keeping the first world with exported functions (or else the first world).
        let mut chosen: Option<World> = None;
        let mut notes = Vec::new();
        let mut rejected = 0;
        for _ in 0..6 {
            let Some((resolve, pkg)) = world::smith(self.u)? else {
                rejected += 1;
                continue;
            };
            let has_exports = |w: &WorldId| {
                resolve.worlds[*w].exports.values().any(|i| match i {
                    WorldItem::Function(_) => true,
                    WorldItem::Interface { id, .. } => !resolve.interfaces[*id].functions.is_empty(),
                    WorldItem::Type { .. } => false,
                })
            };
            let worlds: Vec<WorldId> = resolve.worlds.iter().map(|(id, _)| id).collect();
            let with_exports: Vec<WorldId> = worlds.iter().copied().filter(has_exports).collect();
            let found = !with_exports.is_empty();
            let pool = if found { with_exports } else { worlds };
            if pool.is_empty() || (chosen.is_some() && !found) {
                continue;
            }
            let w = pool[self.u.choose_index(pool.len())?];
            let pkg = resolve.worlds[w].package.unwrap_or(pkg);
            chosen = Some(World { resolve, pkg, world: w });
            if found {
                break;
            }
        }
        if rejected > 0 {
            notes.push(format!("wit-smith rejected {rejected} inputs"));
        }
        let encoding = self.encoding()?;
        let (w, component) = match chosen.map(|w| {
            let built = w.dummy_module().and_then(|m| w.encode(&m, encoding));
            (w, built)
        }) {
            Some((w, Ok(c))) => (w, c),
            other => {
                if let Some((_, Err(e))) = other {
                    notes.push(format!("wit-component failed: {}", e.lines().next().unwrap_or("")));
                }
                notes.push("fallback world".to_owned());
                let w = World::parse(FALLBACK_WORLD, "case").expect("the fallback world parses");
                let c = w.dummy_module().and_then(|m| w.encode(&m, encoding)).expect("the fallback world encodes");
                (w, c)
            }
        };
        let mut conv = TypeConverter::new(&w.resolve);
        let mut exports = Vec::new();
        let mut callable = Vec::new();
        let mut unsupported = 0;
        for (path, f) in w.exported_functions() {
            let Some(sig) = conv.sig(f) else {
                unsupported += 1;
                continue;
            };
            let name = export_name(&path);
            if !sig.params.iter().any(|(_, t)| conv.set.contains_resource(t)) {
                callable.push(exports.len());
            }
            exports.push((name, sig));
        }
        self.set = conv.set;
        let mut calls = Vec::new();
        let mut order: Vec<usize> = callable.clone();
        if !callable.is_empty() {
            let extra = self.n_calls()?.saturating_sub(callable.len());
            for _ in 0..extra {
                order.push(callable[self.u.choose_index(callable.len())?]);
            }
        }
        for i in order {
            let (name, sig) = &exports[i];
            let args = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            calls.push(Call::new(name.clone(), args, Expect::Trap));
        }
        notes.insert(
            0,
            format!(
                "world `{}`: {} exported functions, {} callable{}; {}",
                w.resolve.worlds[w.world].name,
                exports.len() + unsupported,
                callable.len(),
                if unsupported > 0 { format!(", {unsupported} with unsupported types") } else { String::new() },
                encoding.name()
            ),
        );
        Ok(Case {
            seed,
            tier: Tier::Structure,
            set: self.set,
            exports,
            imports: Vec::new(),
            component,
            calls,
            note: notes.join("; "),
            stub_imports: true,
            wit_source: Some(w.wit()),
        })
    }

    /// Compute: 1–4 scalar exports and 0–3 scalar host imports; the core module is wasm-smith's, under the
    /// shape of wit-component's dummy module, with `ensure_termination` fuel (per instance: calls after it runs
    /// out trap with `unreachable` on every engine).
    fn compute(mut self, seed: u64) -> Result<Case> {
        let n_imports = self.u.int_in_range(0..=3)?;
        let n_exports = self.u.int_in_range(1..=4)?;
        let scalar_sig = |u: &mut Unstructured<'_>| -> Result<Sig> {
            let n = u.int_in_range(0..=4)?;
            let params = (0..n).map(|i| Ok((format!("p{i}"), u.choose(&SCALARS)?.clone()))).collect::<Result<_>>()?;
            let result = if u.ratio(3, 4)? { Some(u.choose(&SCALARS)?.clone()) } else { None };
            Ok(Sig { params, result })
        };
        let imports: Vec<HostImport> = (0..n_imports)
            .map(|i| Ok(HostImport { name: format!("h{i}"), sig: scalar_sig(self.u)?, behaviour: HostBehaviour::Hash }))
            .collect::<Result<_>>()?;
        let exports: Vec<(String, Sig)> =
            (0..n_exports).map(|i| Ok((format!("f{i}"), scalar_sig(self.u)?))).collect::<Result<_>>()?;
        let mut text = String::from("package gen:compute;\n\nworld case {\n");
        let func = |kw: &str, name: &str, sig: &Sig| {
            let params: Vec<String> = sig.params.iter().map(|(n, t)| format!("{n}: {}", self.set.wit(t))).collect();
            let result = sig.result.as_ref().map(|t| format!(" -> {}", self.set.wit(t))).unwrap_or_default();
            format!("  {kw} {name}: func({}){result};\n", params.join(", "))
        };
        for i in &imports {
            text.push_str(&func("import", &i.name, &i.sig));
        }
        for (n, sig) in &exports {
            text.push_str(&func("export", n, sig));
        }
        text.push_str("}\n");
        let w = World::parse(&text, "case").expect("generated scalar worlds parse");
        let encoding = self.encoding()?;
        // Random bodies often loop forever, so most calls that fail run out of fuel, however much they get:
        // fuel only bounds the work done before the trap. It stays small: below wasmi's recursion limit (1000
        // frames; every function entry costs one unit, so deeper recursion cannot happen and no case is discarded
        // for "call stack exhausted"), and because wasmi's tail-call dispatch grows the native stack with every
        // instruction executed when its sibling calls are not optimised (dependencies built at opt-level 2 with
        // debug assertions), which overflows a 2 MiB thread at some 10^5 instructions.
        let fuel = *self.u.choose(&[100u32, 300, 900])?;
        // A random `_initialize` runs at every instantiation, and one that loops makes every call fail: keep it
        // in a quarter of the cases.
        let initialize = self.u.ratio(1, 4)?;
        let drop: &[&str] = if initialize { &[] } else { &["_initialize"] };
        let shape = w
            .dummy_module()
            .and_then(|m| world::reshape(&m, 1, 16, drop))
            .expect("dummy modules of scalar worlds re-encode");
        let mut notes = vec![format!("fuel {fuel}{}", if initialize { ", random _initialize" } else { "" })];
        let core = match compute_module(self.u, &shape, fuel)? {
            Ok(m) => m,
            Err(e) => {
                notes.push(format!("wasm-smith failed ({e}): dummy bodies"));
                shape.clone()
            }
        };
        let component = match w.encode(&core, encoding) {
            Ok(c) => c,
            Err(e) => {
                notes.push(format!("wit-component failed ({}): dummy bodies", e.lines().next().unwrap_or("")));
                w.encode(&shape, encoding).expect("dummy modules of scalar worlds encode")
            }
        };
        let mut calls = Vec::new();
        let n_calls = match self.config.calls {
            Some(n) => n,
            None => self.u.int_in_range(4..=12)?,
        };
        for _ in 0..n_calls {
            let (name, sig) = &exports[self.u.choose_index(exports.len())?];
            let args = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            calls.push(Call::new(name.clone(), args, Expect::Agree));
        }
        Ok(Case {
            seed,
            tier: Tier::Compute,
            set: self.set,
            exports,
            imports,
            component,
            calls,
            note: notes.join(", "),
            stub_imports: false,
            wit_source: None,
        })
    }
}

/// The world of structure cases whose wit-smith document could not be used.
const FALLBACK_WORLD: &str = "package gen:fallback;\n\nworld case {\n  export f: func(x: u32, s: string) -> u32;\n}\n";

/// The scalar types of compute worlds.
const SCALARS: [Ty; 12] =
    [Ty::Bool, Ty::S8, Ty::U8, Ty::S16, Ty::U16, Ty::S32, Ty::U32, Ty::S64, Ty::U64, Ty::F32, Ty::F64, Ty::Char];

/// A wasm-smith module of `shape` that cannot trap (but for stack exhaustion and running out of `fuel`),
/// canonicalises NaNs and stays within the core features every engine here has.
fn compute_module(u: &mut Unstructured<'_>, shape: &[u8], fuel: u32) -> Result<std::result::Result<Vec<u8>, String>> {
    let config = wasm_smith::Config {
        module_shape: Some(shape.to_vec()),
        disallow_traps: true,
        canonicalize_nans: true,
        allow_start_export: false,
        max_memories: 1,
        memory_max_size_required: true,
        max_memory32_bytes: 16 * 65536,
        max_tables: 1,
        table_max_size_required: true,
        max_table_elements: 64,
        max_funcs: 12,
        max_instructions: 50,
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        gc_enabled: false,
        custom_descriptors_enabled: false,
        exceptions_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        ..wasm_smith::Config::default()
    };
    let module =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<std::result::Result<Vec<u8>, String>> {
            let mut m = wasm_smith::Module::new(config, u)?;
            Ok(match m.ensure_termination(fuel) {
                Ok(_) => Ok(m.to_bytes()),
                Err(e) => Err(format!("ensure_termination: {e:?}")),
            })
        }));
    match module {
        Ok(r) => r,
        Err(_) => Ok(Err("wasm-smith panicked".to_owned())),
    }
}

/// The note of the realloc modes at edges (`, callee realloc AtEnd(1)`), naming each guest.
fn edge_notes(modes: &[(&str, ReallocMode)]) -> String {
    modes.iter().filter(|(_, m)| *m != ReallocMode::Good).map(|(who, m)| format!(", {who}realloc {m:?}")).collect()
}

fn describe_encodings(
    exports: &[ExportDecl],
    imports: &[ImportDecl],
    inner_exports: &[ExportDecl],
    inner_imports: &[ImportDecl],
) -> String {
    let e: Vec<String> = exports.iter().map(|e| format!("{}:{}", e.name, e.encoding.name())).collect();
    let i: Vec<String> = imports.iter().map(|i| format!("{}:{}", i.name, i.encoding.name())).collect();
    let mut s = format!("lift [{}] lower [{}]", e.join(" "), i.join(" "));
    if !inner_exports.is_empty() {
        let e: Vec<String> = inner_exports.iter().map(|e| format!("{}:{}", e.name, e.encoding.name())).collect();
        let i: Vec<String> = inner_imports.iter().map(|i| format!("{}:{}", i.name, i.encoding.name())).collect();
        s.push_str(&format!("; callee lift [{}] lower [{}]", e.join(" "), i.join(" ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebasing_moves_held_arguments_and_resource_results_together() {
        let call = Call {
            export: "take-r".into(),
            args: vec![resource_token(5), Value::U32(9)],
            host_returns: Vec::new(),
            expect_import_args: None,
            about: String::new(),
            expect: Expect::Returns(Some(resource_token(7))),
            held: vec![Held { arg: 0, call: 5 }],
            reference_deviation: Some(Deviation { reason: "r".into(), returns: Some(resource_token(6)) }),
        };
        let c = call.rebased(3);
        assert_eq!(c.held, vec![Held { arg: 0, call: 2 }]);
        assert_eq!(c.args, vec![resource_token(2), Value::U32(9)]);
        assert_eq!(c.expect, Expect::Returns(Some(resource_token(4))));
        assert_eq!(c.reference_deviation.and_then(|d| d.returns), Some(resource_token(3)));
        assert_eq!(token_call(&resource_token(12)), Some(12));
        assert_eq!(token_call(&Value::String("12".into())), None);
    }
}
