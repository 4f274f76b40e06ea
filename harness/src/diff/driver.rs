//! Running a generated case's calls on one engine.
//!
//! A [`CaseDriver`] compiles a case's component on an [`Engine`] and runs its calls with the case's host
//! ([`Host::case`]). Store discipline: an instance is reused while calls succeed (every export's post-return
//! resets the guest heap), and a fresh instance is made after any failure — wasmtime poisons a store after a
//! trap, and so does component-layer, so comparing engines call for call needs the same discipline everywhere.
//!
//! Resources: the engine labels the resources the instance gives the host with numbers in order of first
//! appearance; the driver turns each label into [`resource_token`] of the call that first returned that
//! resource, which is what cases expect, and turns [`Call::held`] references (by call) back into the numbers.
//! Export arguments of type `own<R>`/`borrow<R>` of a host resource type `R` are given as `u32` reps: the host
//! makes the handle ([`ResourceArg::HostRep`]). A call of [`HOST_DROP`] drops the held resource it names.

use component_gen::case::{export_path, resource_token, HOST_DROP};
use component_gen::guest::Sig;
use component_gen::ty::Ty;
use component_gen::{Call, Case};
use component_layer::Value;

use crate::engine::value::label_number;
use crate::engine::{CallSpec, ComponentId, Engine, Failure, Host, ImportCall, InstanceId, ResourceArg};

/// What one call did on one engine.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallOutcome {
    /// The result, or the failure.
    pub result: Result<Option<Value>, Failure>,
    /// Host calls made (import functions and host resource destructors), with what they received.
    pub imports: Vec<ImportCall>,
}

/// A case loaded on one engine.
pub struct CaseDriver<'e> {
    engine: &'e mut dyn Engine,
    host: Host,
    component: ComponentId,
    exports: Vec<(String, Sig)>,
    instance: Option<InstanceId>,
    /// The resources the current instance gave the host: (number, the call that first returned it).
    tokens: Vec<(u32, usize)>,
}

impl<'e> CaseDriver<'e> {
    /// Compiles `case`'s component on `engine` (which forgets what it ran before).
    pub fn load(engine: &'e mut dyn Engine, case: &Case) -> Result<Self, Failure> {
        engine.reset();
        let component = engine.compile(&case.component)?;
        Ok(CaseDriver {
            engine,
            host: Host::case(case),
            component,
            exports: case.exports.clone(),
            instance: None,
            tokens: Vec::new(),
        })
    }

    /// The engine's name.
    pub fn name(&self) -> &str {
        self.engine.name()
    }

    /// Runs `call` as call `index` of its case's script.
    pub fn call(&mut self, index: usize, call: &Call) -> CallOutcome {
        let result = self.call_inner(index, call);
        if result.is_err() {
            if let Some(i) = self.instance.take() {
                self.engine.drop_instance(i);
            }
        }
        CallOutcome { result, imports: self.engine.take_log() }
    }

    fn call_inner(&mut self, index: usize, call: &Call) -> Result<Option<Value>, Failure> {
        let instance = match self.instance {
            Some(i) => i,
            None => {
                self.tokens.clear();
                let i = self.engine.instantiate(self.component, &self.host)?;
                self.instance = Some(i);
                i
            }
        };
        if call.export == HOST_DROP {
            let held = call.held.first().ok_or_else(|| Failure::unsupported("a host drop names no resource"))?;
            let number = self.number_of(held.call, held.arg)?;
            self.engine.drop_resource(instance, number)?;
            return Ok(None);
        }
        let mut spec = CallSpec {
            path: export_path(&call.export).into_iter().map(str::to_owned).collect(),
            args: call.args.clone(),
            resources: Vec::new(),
            host_returns: call.host_returns.clone(),
        };
        for h in &call.held {
            let number = self.number_of(h.call, h.arg)?;
            if let Some(a) = spec.args.get_mut(h.arg) {
                *a = Value::U32(spec.resources.len() as u32);
                spec.resources.push(ResourceArg::Held(number));
            }
        }
        for (i, ty) in host_resource_params(&self.exports, &call.export) {
            if call.held.iter().any(|h| h.arg == i) {
                continue;
            }
            if let Some(a) = spec.args.get_mut(i) {
                if let Value::U32(rep) = *a {
                    *a = Value::U32(spec.resources.len() as u32);
                    spec.resources.push(ResourceArg::HostRep { ty, rep });
                }
            }
        }
        let result = self.engine.call(instance, &spec)?;
        Ok(result.map(|v| self.tokenize(index, v)))
    }

    /// The number of the resource call `call` returned.
    fn number_of(&self, call: usize, arg: usize) -> Result<u32, Failure> {
        self.tokens
            .iter()
            .find(|(_, c)| *c == call)
            .map(|(n, _)| *n)
            .ok_or_else(|| Failure::unsupported(format!("argument {arg}: the host holds no resource from call {call}")))
    }

    /// `v` with every resource label replaced by the token of the call that first returned it.
    fn tokenize(&mut self, index: usize, v: Value) -> Value {
        if let Some(n) = label_number(&v) {
            let call = match self.tokens.iter().find(|(k, _)| *k == n) {
                Some((_, c)) => *c,
                None => {
                    self.tokens.push((n, index));
                    index
                }
            };
            return resource_token(call);
        }
        match v {
            Value::List(l) => Value::List(component_layer::List::Values(
                l.into_values().into_iter().map(|x| self.tokenize(index, x)).collect(),
            )),
            Value::Record(fs) => Value::Record(fs.into_iter().map(|(n, x)| (n, self.tokenize(index, x))).collect()),
            Value::Tuple(xs) => Value::Tuple(xs.into_iter().map(|x| self.tokenize(index, x)).collect()),
            Value::Option(Some(p)) => Value::Option(Some(Box::new(self.tokenize(index, *p)))),
            Value::Variant(c, Some(p)) => Value::Variant(c, Some(Box::new(self.tokenize(index, *p)))),
            Value::Result(Ok(Some(p))) => Value::Result(Ok(Some(Box::new(self.tokenize(index, *p))))),
            Value::Result(Err(Some(p))) => Value::Result(Err(Some(Box::new(self.tokenize(index, *p))))),
            other => other,
        }
    }
}

/// The parameters of export `export` that are handles of host resource types: (position, host type).
fn host_resource_params(exports: &[(String, Sig)], export: &str) -> Vec<(usize, u32)> {
    exports
        .iter()
        .find(|(n, _)| n == export)
        .map(|(_, sig)| {
            sig.params
                .iter()
                .enumerate()
                .filter_map(|(i, (_, t))| match t {
                    Ty::Own(r) | Ty::Borrow(r) => Some((i, *r as u32)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}
