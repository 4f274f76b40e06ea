//! Test cases: a component, the host functions it imports, and a script of calls with their expected outcomes.

use std::fmt;

use arbitrary::{Result, Unstructured};
use component_layer::{List, Value};

use crate::encode::{self, Design, ExportDecl, ImportDecl};
use crate::guest::{Body, Encoding, ReallocMode, Sig, RAW_BASE};
use crate::image::{self, Corruption};
use crate::ty::{Ty, TypeConfig, TypeGen, TypeSet};
use crate::values::{transform, ValueConfig, ValueGen};

/// The kinds of cases, from cheap to strong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Two components with different string encodings, composed: values cross component to component.
    Compose,
}

impl Tier {
    /// All tiers.
    pub const ALL: [Tier; 6] = [Tier::Echo, Tier::Transform, Tier::Probe, Tier::Lift, Tier::Fault, Tier::Compose];

    /// The tier's name.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Echo => "echo",
            Tier::Transform => "transform",
            Tier::Probe => "probe",
            Tier::Lift => "lift",
            Tier::Fault => "fault",
            Tier::Compose => "compose",
        }
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
#[derive(Clone, Debug, PartialEq)]
pub enum HostBehaviour {
    /// Returns the next value of the current call's `host_returns`.
    ReturnQueued,
    /// Returns its first argument.
    EchoFirst,
    /// Fails (the call traps).
    Trap,
}

/// A host import.
#[derive(Clone, Debug)]
pub struct HostImport {
    /// Its name.
    pub name: String,
    /// Its signature.
    pub sig: Sig,
    /// What it does.
    pub behaviour: HostBehaviour,
}

/// What a call must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// Return this (or nothing).
    Returns(Option<Value>),
    /// Trap.
    Trap,
    /// Unknown in advance: the engines are compared with each other.
    Agree,
}

/// One call of an export.
#[derive(Clone, Debug)]
pub struct Call {
    /// The export.
    pub export: String,
    /// Its arguments.
    pub args: Vec<Value>,
    /// Values host imports with [`HostBehaviour::ReturnQueued`] return, in order.
    pub host_returns: Vec<Value>,
    /// The arguments host imports must receive, in order, if known.
    pub expect_import_args: Option<Vec<Vec<Value>>>,
    /// The expected outcome.
    pub expect: Expect,
}

/// A generated test case.
#[derive(Clone, Debug)]
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
}

impl Case {
    /// The case's world in WIT.
    pub fn wit(&self) -> String {
        let mut s = format!("// seed {} ({} tier){}\nworld case {{\n", self.seed, self.tier, if self.note.is_empty() { String::new() } else { format!(": {}", self.note) });
        s.push_str(&self.set.wit_defs());
        let func = |s: &mut String, kw: &str, name: &str, sig: &Sig| {
            let params: Vec<String> = sig.params.iter().map(|(n, t)| format!("{n}: {}", self.set.wit(t))).collect();
            let result = sig.result.as_ref().map(|t| format!(" -> {}", self.set.wit(t))).unwrap_or_default();
            s.push_str(&format!("  {kw} {name}: func({}){result};\n", params.join(", ")));
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
        Tier::Compose => g.echo(seed, true),
        Tier::Transform => g.transform(seed),
        Tier::Probe => g.probe(seed),
        Tier::Lift => g.lift(seed, false),
        Tier::Fault => g.lift(seed, true),
    }
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
            exports.push(ExportDecl { name: format!("e{i}"), sig: sig.clone(), encoding, body: Body::Forward { import: i } });
        }
        let (component, note) = if compose {
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
            let callee = Design { set: self.set.clone(), imports, exports, realloc: ReallocMode::Good };
            let caller = Design { set: self.set.clone(), imports: caller_imports, exports: caller_exports, realloc: ReallocMode::Good };
            (encode::encode_composed(&self.set, &caller, &callee), note)
        } else {
            let note = describe_encodings(&exports, &imports, &[], &[]);
            let d = Design { set: self.set.clone(), imports, exports, realloc: ReallocMode::Good };
            (encode::encode(&d), note)
        };
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let i = self.u.choose_index(sigs.len())?;
            let sig = &sigs[i];
            let args: Vec<Value> = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            let ret = sig.result.as_ref().map(|t| self.value(t)).transpose()?;
            calls.push(Call {
                export: format!("e{i}"),
                args: args.clone(),
                host_returns: ret.iter().cloned().collect(),
                expect_import_args: Some(vec![args]),
                expect: Expect::Returns(ret),
            });
        }
        Ok(Case {
            seed,
            tier: if compose { Tier::Compose } else { Tier::Echo },
            exports: sigs.iter().enumerate().map(|(i, s)| (format!("e{i}"), s.clone())).collect(),
            imports: host,
            set: self.set,
            component,
            calls,
            note,
        })
    }

    /// Transform: `t(x: list<T>) -> list<T>` transforms `x` and passes it to `i(x)`, which echoes it.
    fn transform(mut self, seed: u64) -> Result<Case> {
        let elem = self.ty()?;
        let list = Ty::List(Box::new(elem.clone()));
        let sig = Sig { params: vec![("x".into(), list.clone())], result: Some(list.clone()) };
        let enc = self.encoding()?;
        let imports = vec![ImportDecl { name: "i".into(), sig: sig.clone(), encoding: enc }];
        let exports = vec![ExportDecl { name: "t".into(), sig: sig.clone(), encoding: enc, body: Body::TransformList { import: 0, elem } }];
        let note = describe_encodings(&exports, &imports, &[], &[]);
        let d = Design { set: self.set.clone(), imports, exports, realloc: ReallocMode::Good };
        let component = encode::encode(&d);
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let x = self.value(&list)?;
            let t = transform(&self.set, &list, &x);
            calls.push(Call {
                export: "t".into(),
                args: vec![x],
                host_returns: Vec::new(),
                expect_import_args: Some(vec![vec![t.clone()]]),
                expect: Expect::Returns(Some(t)),
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
        })
    }

    /// Probe: `p(params…) -> tuple<list<u8>, list<u32>, list<u64>>`.
    fn probe(mut self, seed: u64) -> Result<Case> {
        let mut sig = self.sig()?;
        sig.result = Some(Ty::Tuple(vec![
            Ty::List(Box::new(Ty::U8)),
            Ty::List(Box::new(Ty::U32)),
            Ty::List(Box::new(Ty::U64)),
        ]));
        let exports = vec![ExportDecl { name: "p".into(), sig: sig.clone(), encoding: self.encoding()?, body: Body::Probe }];
        let note = describe_encodings(&exports, &[], &[], &[]);
        let d = Design { set: self.set.clone(), imports: Vec::new(), exports, realloc: ReallocMode::Good };
        let component = encode::encode(&d);
        let mut calls = Vec::new();
        for _ in 0..self.n_calls()? {
            let args = sig.params.iter().map(|(_, t)| self.value(t)).collect::<Result<_>>()?;
            calls.push(Call { export: "p".into(), args, host_returns: Vec::new(), expect_import_args: None, expect: Expect::Agree });
        }
        Ok(Case { seed, tier: Tier::Probe, exports: vec![("p".into(), sig)], imports: Vec::new(), set: self.set, component, calls, note })
    }

    /// Lift (and Fault): `l(image: list<u8>) -> tuple<T, u8>` returns the host-built image.
    fn lift(mut self, seed: u64, fault: bool) -> Result<Case> {
        let t = self.ty()?;
        let result = Ty::Tuple(vec![t.clone(), Ty::U8]);
        let enc = self.encoding()?;
        // Some fault cases break `realloc` instead of the image.
        let realloc = if fault && self.u.ratio(1, 4)? {
            match self.u.int_in_range(0..=2)? {
                0 => ReallocMode::Misaligned(0),
                1 => ReallocMode::OutOfBounds(0),
                _ => ReallocMode::CallsImport(0),
            }
        } else {
            ReallocMode::Good
        };
        let mut params = vec![("image".into(), Ty::List(Box::new(Ty::U8)))];
        if realloc != ReallocMode::Good {
            // A list that needs 4-byte alignment, so a misaligning realloc is caught too (the image is bytes).
            params.push(("pad".into(), Ty::List(Box::new(Ty::U32))));
        }
        let sig = Sig { params, result: Some(result.clone()) };
        let exports = vec![ExportDecl { name: "l".into(), sig: sig.clone(), encoding: enc, body: Body::LiftRaw }];
        let d = Design { set: self.set.clone(), imports: Vec::new(), exports, realloc };
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
            let v = self.value(&t)?;
            let tuple = Value::Tuple(vec![v.clone(), Value::U8(0)]);
            let mut img = image::build(&self.set, &result, &tuple, RAW_BASE, enc);
            let expect = if !fault {
                Expect::Returns(Some(tuple))
            } else if realloc != ReallocMode::Good {
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
                    notes.push(format!("{c:?}"));
                    Expect::Trap
                }
            };
            let mut args = vec![Value::List(List::U8(img.bytes))];
            if realloc != ReallocMode::Good {
                args.push(Value::List(List::U32(Vec::new())));
            }
            calls.push(Call {
                export: "l".into(),
                args,
                host_returns: Vec::new(),
                expect_import_args: None,
                expect,
            });
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
        })
    }
}

fn describe_encodings(exports: &[ExportDecl], imports: &[ImportDecl], inner_exports: &[ExportDecl], inner_imports: &[ImportDecl]) -> String {
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
