//! Engines that are wrong on purpose, for the self-test.
//!
//! A [`FaultyEngine`] wraps any engine and makes it wrong in exactly one way ([`Fault`]): a value in a result
//! is changed, an outcome is turned around, what reaches the host is altered, or the engine crashes. The
//! harness must catch every such engine, blame it and only it, shrink the case and write a regression that
//! fails on it (see `crate::selftest`). A fault applies to every call where it can: value faults to the first
//! place in a result that has what they change, crash faults to every call that returns.

use component_layer::types::{FuncType, ItemType, ValueType};
use component_layer::Value;
use serde::{Deserialize, Serialize};

use super::host::HostFault;
use super::{CallSpec, ComponentId, Engine, Failure, Host, ImportCall, InstanceId, TrapClass};

/// One way to be wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Fault {
    /// A `bool` in a result is flipped.
    FlipBool,
    /// A set flag in a result is dropped.
    DropFlag,
    /// The low bit of a (non-NaN) float in a result is flipped.
    FloatLowBit,
    /// A `char` in a result is changed.
    ChangeChar,
    /// The last character of a non-empty string in a result is changed.
    StringLastUnit,
    /// A non-empty list in a result loses its last element.
    ShortenList,
    /// The values of two fields of a record in a result are swapped.
    SwapFields,
    /// A variant or enum in a result is turned into its next case.
    ShiftCase,
    /// A `some` in a result becomes `none`.
    OptionNone,
    /// A resource in a result is given another handle number.
    RenumberHandle,
    /// A trap becomes a return (of a value of the result type).
    TrapToReturn,
    /// A return becomes a trap.
    ReturnToTrap,
    /// The first argument of the first import call of each export call reaches the host altered.
    AlterImportArg,
    /// The first import call of each export call never reaches the host.
    DropImportCall,
    /// The engine panics when a call returns.
    Panic,
    /// The engine aborts the process when a call returns.
    Abort,
    /// The engine never returns from a call that would return.
    EndlessLoop,
    /// The engine recurses without end when a call returns (a native stack overflow).
    StackOverflow,
    /// The engine allocates memory without end when a call returns.
    HugeAllocation,
}

/// What kind of wrongness a fault is: the self-test's matrix groups them so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FaultGroup {
    /// A value in a result.
    Value,
    /// An outcome or what reaches the host.
    Outcome,
    /// A crash of the engine.
    Crash,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 19] = [
        Fault::FlipBool,
        Fault::DropFlag,
        Fault::FloatLowBit,
        Fault::ChangeChar,
        Fault::StringLastUnit,
        Fault::ShortenList,
        Fault::SwapFields,
        Fault::ShiftCase,
        Fault::OptionNone,
        Fault::RenumberHandle,
        Fault::TrapToReturn,
        Fault::ReturnToTrap,
        Fault::AlterImportArg,
        Fault::DropImportCall,
        Fault::Panic,
        Fault::Abort,
        Fault::EndlessLoop,
        Fault::StackOverflow,
        Fault::HugeAllocation,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::FlipBool => "flip-bool",
            Fault::DropFlag => "drop-flag",
            Fault::FloatLowBit => "float-low-bit",
            Fault::ChangeChar => "change-char",
            Fault::StringLastUnit => "string-last-unit",
            Fault::ShortenList => "shorten-list",
            Fault::SwapFields => "swap-fields",
            Fault::ShiftCase => "shift-case",
            Fault::OptionNone => "option-none",
            Fault::RenumberHandle => "renumber-handle",
            Fault::TrapToReturn => "trap-to-return",
            Fault::ReturnToTrap => "return-to-trap",
            Fault::AlterImportArg => "alter-import-arg",
            Fault::DropImportCall => "drop-import-call",
            Fault::Panic => "panic",
            Fault::Abort => "abort",
            Fault::EndlessLoop => "endless-loop",
            Fault::StackOverflow => "stack-overflow",
            Fault::HugeAllocation => "huge-allocation",
        }
    }

    /// The fault with this name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Its group.
    pub fn group(self) -> FaultGroup {
        match self {
            Fault::TrapToReturn | Fault::ReturnToTrap | Fault::AlterImportArg | Fault::DropImportCall => {
                FaultGroup::Outcome
            }
            Fault::Panic | Fault::Abort | Fault::EndlessLoop | Fault::StackOverflow | Fault::HugeAllocation => {
                FaultGroup::Crash
            }
            _ => FaultGroup::Value,
        }
    }

    /// The fault it makes at the host boundary, if it is one.
    fn host_fault(self) -> Option<HostFault> {
        match self {
            Fault::AlterImportArg => Some(HostFault::AlterArgument),
            Fault::DropImportCall => Some(HostFault::DropCall),
            _ => None,
        }
    }
}

/// An engine wrapped in a fault.
pub struct FaultyEngine {
    inner: Box<dyn Engine>,
    fault: Fault,
    name: String,
    /// Per component: its exported functions' types (reflected by component-layer), by path.
    exports: Vec<Vec<(Vec<String>, FuncType)>>,
    /// Per instance: its component.
    instances: Vec<ComponentId>,
}

impl FaultyEngine {
    /// `inner`, wrong with `fault`, named `name`.
    pub fn new(inner: Box<dyn Engine>, fault: Fault, name: String) -> Self {
        FaultyEngine { inner, fault, name, exports: Vec::new(), instances: Vec::new() }
    }

    fn result_type(&self, instance: InstanceId, path: &[String]) -> Option<ValueType> {
        let c = *self.instances.get(instance)?;
        let (_, ty) = self.exports.get(c)?.iter().find(|(p, _)| p == path)?;
        ty.result().cloned()
    }

    /// The crash, for the crash faults.
    fn crash(&self) {
        match self.fault {
            Fault::Panic => panic!("selftest: the engine `{}` panics on purpose", self.name),
            Fault::Abort => {
                eprintln!("selftest: the engine `{}` aborts on purpose", self.name);
                std::process::abort()
            }
            Fault::EndlessLoop => loop {
                std::hint::spin_loop();
            },
            Fault::StackOverflow => {
                // Recursion the optimiser cannot turn into a loop: each frame keeps a buffer alive across the call.
                #[allow(unconditional_recursion)] // on purpose: this engine must overflow the native stack
                fn deeper(n: u64) -> u64 {
                    let frame = std::hint::black_box([n; 64]);
                    deeper(frame[0] + 1) + frame[63]
                }
                std::hint::black_box(deeper(0));
            }
            Fault::HugeAllocation => {
                // An allocation storm: chunks of 256 MiB, touched, without end. The worker's memory cap turns it
                // into an out-of-memory abort; without a cap the machine's memory would run out.
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 256 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            _ => {}
        }
    }
}

fn export_types(items: &[(String, ItemType)], prefix: &[String], out: &mut Vec<(Vec<String>, FuncType)>) {
    for (name, item) in items {
        let mut path = prefix.to_vec();
        path.push(name.clone());
        match item {
            ItemType::Func(ty) => out.push((path, ty.clone())),
            ItemType::Instance(inner) => export_types(inner, &path, out),
            _ => {}
        }
    }
}

impl Engine for FaultyEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn compile(&mut self, bytes: &[u8]) -> Result<ComponentId, Failure> {
        let id = self.inner.compile(bytes)?;
        let reflect = component_layer::Engine::new(wasmi_runtime_layer::Engine::default());
        let mut types = Vec::new();
        if let Ok(c) = component_layer::Component::new(&reflect, bytes) {
            export_types(&c.exports(), &[], &mut types);
        }
        if self.exports.len() <= id {
            self.exports.resize_with(id + 1, Vec::new);
        }
        self.exports[id] = types;
        Ok(id)
    }

    fn instantiate(&mut self, component: ComponentId, host: &Host) -> Result<InstanceId, Failure> {
        let mut host = host.clone();
        if let Some(f) = self.fault.host_fault() {
            host.fault = Some(f);
        }
        let id = self.inner.instantiate(component, &host)?;
        if self.instances.len() <= id {
            self.instances.resize(id + 1, 0);
        }
        self.instances[id] = component;
        Ok(id)
    }

    fn register(&mut self, instance: InstanceId, name: &str) -> Result<(), Failure> {
        self.inner.register(instance, name)
    }

    fn call(&mut self, instance: InstanceId, call: &CallSpec) -> Result<Option<Value>, Failure> {
        let outcome = self.inner.call(instance, call);
        match (self.fault.group(), outcome) {
            (FaultGroup::Crash, Ok(v)) => {
                self.crash();
                Ok(v)
            }
            (FaultGroup::Value, Ok(Some(mut v))) => {
                let ty = self.result_type(instance, &call.path);
                change(self.fault, &mut v, ty.as_ref());
                Ok(Some(v))
            }
            (_, Ok(v)) if self.fault == Fault::ReturnToTrap => {
                let _ = v;
                Err(Failure::trap_of(TrapClass::Other, "selftest: a return turned into a trap"))
            }
            (_, Err(f)) if self.fault == Fault::TrapToReturn && f.is_trap() => {
                Ok(self.result_type(instance, &call.path).map(|t| default_value(&t)))
            }
            (_, outcome) => outcome,
        }
    }

    fn drop_resource(&mut self, instance: InstanceId, number: u32) -> Result<(), Failure> {
        self.inner.drop_resource(instance, number)
    }

    fn drop_instance(&mut self, instance: InstanceId) {
        self.inner.drop_instance(instance)
    }

    fn take_log(&mut self) -> Vec<ImportCall> {
        self.inner.take_log()
    }

    fn reset(&mut self) {
        self.inner.reset();
        self.exports.clear();
        self.instances.clear();
    }
}

/// A value of type `ty` (resources as `u32` 0).
fn default_value(ty: &ValueType) -> Value {
    let mut none = |_: &component_layer::ResourceType, _: bool| Ok(Value::U32(0));
    component_layer::generic::ValueGen::new(0).value(ty, &mut none).unwrap_or(Value::Bool(false))
}

/// Makes `fault`'s change at the first place in `v` (of type `ty`, if known) that has what it changes; whether
/// it found one.
pub fn change(fault: Fault, v: &mut Value, ty: Option<&ValueType>) -> bool {
    if change_here(fault, v, ty) {
        return true;
    }
    let child = |t: Option<&ValueType>, i: usize| -> Option<ValueType> {
        match t? {
            ValueType::List(e) | ValueType::Option(e) => Some((**e).clone()),
            ValueType::Record(fs) => fs.get(i).map(|(_, t)| t.clone()),
            ValueType::Tuple(ts) => ts.get(i).cloned(),
            _ => None,
        }
    };
    match v {
        Value::List(l) => {
            let mut items: Vec<Value> = l.iter().collect();
            let et = child(ty, 0);
            let changed = items.iter_mut().any(|x| change(fault, x, et.as_ref()));
            if changed {
                *l = component_layer::List::Values(items);
            }
            changed
        }
        Value::Record(fs) => fs.iter_mut().enumerate().any(|(i, (_, x))| change(fault, x, child(ty, i).as_ref())),
        Value::Tuple(xs) => xs.iter_mut().enumerate().any(|(i, x)| change(fault, x, child(ty, i).as_ref())),
        Value::Option(Some(p)) => change(fault, p, child(ty, 0).as_ref()),
        Value::Variant(c, Some(p)) => {
            let pt = match ty {
                Some(ValueType::Variant(cs)) => cs.iter().find(|(n, _)| n == c).and_then(|(_, t)| t.clone()),
                _ => None,
            };
            change(fault, p, pt.as_ref())
        }
        Value::Result(r) => {
            let (p, pt) = match (r, ty) {
                (Ok(p), Some(ValueType::Result { ok, .. })) => (p, ok.as_deref().cloned()),
                (Err(p), Some(ValueType::Result { err, .. })) => (p, err.as_deref().cloned()),
                (Ok(p) | Err(p), _) => (p, None),
            };
            p.as_mut().is_some_and(|p| change(fault, p, pt.as_ref()))
        }
        _ => false,
    }
}

/// The change at this node, if it has what the fault changes.
fn change_here(fault: Fault, v: &mut Value, ty: Option<&ValueType>) -> bool {
    match (fault, &mut *v) {
        (Fault::FlipBool, Value::Bool(b)) => *b = !*b,
        (Fault::DropFlag, Value::Flags(fs)) if !fs.is_empty() => {
            fs.pop();
        }
        (Fault::FloatLowBit, Value::F32(x)) if !x.is_nan() => *x = f32::from_bits(x.to_bits() ^ 1),
        (Fault::FloatLowBit, Value::F64(x)) if !x.is_nan() => *x = f64::from_bits(x.to_bits() ^ 1),
        (Fault::ChangeChar, Value::Char(c)) => *c = if *c == 'a' { 'b' } else { 'a' },
        (Fault::StringLastUnit, Value::String(s)) if !s.is_empty() => {
            let last = s.pop().unwrap_or('a');
            s.push(if last == 'a' { 'b' } else { 'a' });
        }
        (Fault::ShortenList, Value::List(l)) if !l.is_empty() => {
            let mut items: Vec<Value> = l.iter().collect();
            items.pop();
            *l = component_layer::List::Values(items);
        }
        (Fault::SwapFields, Value::Record(fs)) if fs.len() >= 2 => {
            // Prefer two fields of the same type with different values, so the result stays well-typed.
            let types: Option<Vec<ValueType>> = match ty {
                Some(ValueType::Record(ts)) => Some(ts.iter().map(|(_, t)| t.clone()).collect()),
                _ => None,
            };
            let pair = (0..fs.len())
                .flat_map(|i| (i + 1..fs.len()).map(move |j| (i, j)))
                .find(|&(i, j)| fs[i].1 != fs[j].1 && types.as_ref().is_none_or(|t| t[i] == t[j]))
                .or_else(|| (1..fs.len()).find(|&j| fs[0].1 != fs[j].1).map(|j| (0, j)));
            let Some((i, j)) = pair else { return false };
            let vi = fs[i].1.clone();
            fs[i].1 = std::mem::replace(&mut fs[j].1, vi);
        }
        (Fault::ShiftCase, Value::Variant(c, p)) => {
            let Some(ValueType::Variant(cases)) = ty else { return false };
            if cases.len() < 2 {
                return false;
            }
            let i = cases.iter().position(|(n, _)| n == c).unwrap_or(0);
            let (next, pt) = &cases[(i + 1) % cases.len()];
            *c = next.clone();
            *p = pt.as_ref().map(|t| Box::new(default_value(t)));
        }
        (Fault::ShiftCase, Value::Enum(c)) => {
            let Some(ValueType::Enum(cases)) = ty else { return false };
            if cases.len() < 2 {
                return false;
            }
            let i = cases.iter().position(|n| n == c).unwrap_or(0);
            *c = cases[(i + 1) % cases.len()].clone();
        }
        (Fault::OptionNone, Value::Option(p)) if p.is_some() => *p = None,
        (Fault::RenumberHandle, Value::Enum(label)) => {
            let Some(n) = super::value::label_number(&Value::Enum(label.clone())) else { return false };
            let Some((head, _)) = label.rsplit_once('#') else { return false };
            *label = format!("{head}#{}", n + 1).into();
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use component_layer::List;

    #[test]
    fn every_value_fault_changes_what_it_names() {
        let rec = |a: Value, b: Value| Value::Record(vec![("a".into(), a), ("b".into(), b)]);
        let cases: Vec<(Fault, Value)> = vec![
            (Fault::FlipBool, Value::Tuple(vec![Value::U8(1), Value::Bool(true)])),
            (Fault::DropFlag, Value::Flags(vec!["x".into()])),
            (Fault::FloatLowBit, Value::F32(1.5)),
            (Fault::ChangeChar, Value::Char('a')),
            (Fault::StringLastUnit, Value::String("hé".into())),
            (Fault::ShortenList, Value::List(List::Values(vec![Value::U8(1)]))),
            (Fault::SwapFields, rec(Value::U8(1), Value::U8(2))),
            (Fault::OptionNone, Value::Option(Some(Box::new(Value::U8(1))))),
            (Fault::RenumberHandle, Value::Enum("own<guest>#0".into())),
        ];
        for (fault, v) in cases {
            let mut w = v.clone();
            assert!(change(fault, &mut w, None), "{fault:?} found nothing in {v:?}");
            assert_ne!(w, v, "{fault:?}");
        }
        let mut nan = Value::F64(f64::NAN);
        assert!(!change(Fault::FloatLowBit, &mut nan, None), "a NaN stays a NaN");
        let ty = ValueType::Enum(vec!["x".into(), "y".into()].into());
        let mut e = Value::Enum("y".into());
        assert!(change(Fault::ShiftCase, &mut e, Some(&ty)));
        assert_eq!(e, Value::Enum("x".into()));
        assert_eq!(Fault::from_name("huge-allocation"), Some(Fault::HugeAllocation));
        assert!(Fault::ALL.iter().all(|f| Fault::from_name(f.name()) == Some(*f)));
    }
}
