//! Dynamic component values (documented on [`Value`] and [`List`]).

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::resources::ResourceAny;
use crate::types::MAX_TYPE_DEPTH;

/// A component-model value.
///
/// `Value` is the dynamic representation of any synchronous component-model value, in the spirit of wasmtime's
/// `component::Val`: values carry no type, and are checked against the function's type while they are lowered
/// (so a record must list its fields in declaration order, a variant names its case, flags are a set of
/// labels). Lifted values always come back in canonical form: record fields in declaration order, flags in bit
/// order, lists of numbers in their specialised [`List`].
///
/// A lifted value is nested no deeper than its type, and component types nest at most
/// [`MAX_TYPE_DEPTH`] levels. A value the host builds can be nested deeper: lowering it fails with a type
/// mismatch where it outgrows its type, `Debug` shows what lies beyond that depth as `…`, and equality compares
/// without recursion, so none of them can overflow the stack. The runtime drops a host function's result that
/// failed to lower without recursion too. (Otherwise dropping, cloning or writing such a value as text is
/// recursive, as for any boxed tree: a host that builds one takes it apart itself.)
///
/// # As text
///
/// Values are read and written as [WAVE](https://github.com/bytecodealliance/wasm-tools/tree/main/crates/wasm-wave),
/// the WebAssembly Value Encoding, by the `wasm-wave` crate: `Value` implements `wasm_wave::wasm::WasmValue` and
/// [`ValueType`](crate::types::ValueType) implements `wasm_wave::wasm::WasmType`.
///
/// ```
/// use std::sync::Arc;
/// use component_layer::{types::ValueType, Value};
///
/// let ty = ValueType::List(Arc::new(ValueType::Option(Arc::new(ValueType::String))));
/// let v: Value = wasm_wave::from_str(&ty, r#"[some("hi"), none]"#).unwrap();
/// assert_eq!(wasm_wave::to_string(&v).unwrap(), r#"[some("hi"), none]"#);
/// ```
///
/// WAVE has one NaN: a float NaN is written `nan` whatever its payload and reads back as the canonical NaN (the
/// `serde` form keeps payloads). WAVE has no resources: a [`Value::Resource`] is written as the variant case
/// `own(N)` or `borrow(N)`, `N` being the handle's index in the store's host table ([`ResourceAny::index`]), so
/// text with handles stays valid WAVE; it cannot be read back (a handle belongs to a store), and reading text as
/// an `own` or `borrow` type is an "unsupported type" error. Neither panics.
///
/// With the `serde` feature, values serialize as externally tagged enums (`{"U32": 7}`); floats that JSON cannot
/// hold (NaN with its payload, infinities) as strings (`"nan:0x7fc00000"`, `"inf"`, `"-inf"`). Resources cannot be
/// serialized: they belong to a store.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Value {
    /// A `bool`.
    Bool(bool),
    /// An `s8`.
    S8(i8),
    /// A `u8`.
    U8(u8),
    /// An `s16`.
    S16(i16),
    /// A `u16`.
    U16(u16),
    /// An `s32`.
    S32(i32),
    /// A `u32`.
    U32(u32),
    /// An `s64`.
    S64(i64),
    /// A `u64`.
    U64(u64),
    /// An `f32`, with its bits (a NaN keeps its payload across the canonical ABI, as the core value does).
    F32(#[cfg_attr(feature = "serde", serde(with = "crate::values::float_serde::f32"))] f32),
    /// An `f64`, with its bits.
    F64(#[cfg_attr(feature = "serde", serde(with = "crate::values::float_serde::f64"))] f64),
    /// A `char`: a Unicode scalar value.
    Char(char),
    /// A `string`.
    String(String),
    /// A `list<T>`.
    List(List),
    /// A `record`: fields in declaration order, with their names.
    Record(Vec<(Arc<str>, Value)>),
    /// A `tuple<…>`.
    Tuple(Vec<Value>),
    /// A `variant`: the case name and its payload, if the case has one.
    Variant(Arc<str>, Option<Box<Value>>),
    /// An `enum`: the case name.
    Enum(Arc<str>),
    /// An `option<T>`.
    Option(Option<Box<Value>>),
    /// A `result<T, E>`: `Ok` or `Err` with the payload, if that side has a type.
    Result(Result<Option<Box<Value>>, Option<Box<Value>>>),
    /// A `flags`: the set flags, by label. Lifted flags are in declaration (bit) order.
    Flags(Vec<Arc<str>>),
    /// An `own` or `borrow` handle to a resource.
    #[cfg_attr(feature = "serde", serde(skip))]
    Resource(ResourceAny),
    /// The readable end of a `stream<T>`.
    #[cfg_attr(feature = "serde", serde(skip))]
    Stream(crate::StreamAny),
    /// The readable end of a `future<T>`.
    #[cfg_attr(feature = "serde", serde(skip))]
    Future(crate::FutureAny),
    /// An `error-context`.
    #[cfg_attr(feature = "serde", serde(skip))]
    ErrorContext(crate::ErrorContextAny),
}

/// The elements of a `list<T>` value.
///
/// Lists of numbers are kept in specialised vectors rather than one [`Value`] per element, so that bulk data
/// crosses the canonical ABI with one memory copy and no per-element allocation. Numeric lists are stored in typed vectors; everything else as a vector of [`Value`]s. Equality is by
/// elements, so a `U8` list equals a `Values` list of `Value::U8`s.
#[derive(Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum List {
    /// Elements of any type, one [`Value`] each.
    Values(Vec<Value>),
    /// A `list<u8>`.
    U8(Vec<u8>),
    /// A `list<s8>`.
    S8(Vec<i8>),
    /// A `list<u16>`.
    U16(Vec<u16>),
    /// A `list<s16>`.
    S16(Vec<i16>),
    /// A `list<u32>`.
    U32(Vec<u32>),
    /// A `list<s32>`.
    S32(Vec<i32>),
    /// A `list<u64>`.
    U64(Vec<u64>),
    /// A `list<s64>`.
    S64(Vec<i64>),
    /// A `list<f32>`.
    F32(#[cfg_attr(feature = "serde", serde(with = "crate::values::float_serde::f32s"))] Vec<f32>),
    /// A `list<f64>`.
    F64(#[cfg_attr(feature = "serde", serde(with = "crate::values::float_serde::f64s"))] Vec<f64>),
}

macro_rules! list_dispatch {
    ($self:expr, $v:ident => $e:expr) => {
        match $self {
            List::Values($v) => $e,
            List::U8($v) => $e,
            List::S8($v) => $e,
            List::U16($v) => $e,
            List::S16($v) => $e,
            List::U32($v) => $e,
            List::S32($v) => $e,
            List::U64($v) => $e,
            List::S64($v) => $e,
            List::F32($v) => $e,
            List::F64($v) => $e,
        }
    };
}

impl List {
    /// The number of elements.
    pub fn len(&self) -> usize {
        list_dispatch!(self, v => v.len())
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element at `i` as a [`Value`].
    pub fn get(&self, i: usize) -> Option<Value> {
        Some(match self {
            List::Values(v) => v.get(i)?.clone(),
            List::U8(v) => Value::U8(*v.get(i)?),
            List::S8(v) => Value::S8(*v.get(i)?),
            List::U16(v) => Value::U16(*v.get(i)?),
            List::S16(v) => Value::S16(*v.get(i)?),
            List::U32(v) => Value::U32(*v.get(i)?),
            List::S32(v) => Value::S32(*v.get(i)?),
            List::U64(v) => Value::U64(*v.get(i)?),
            List::S64(v) => Value::S64(*v.get(i)?),
            List::F32(v) => Value::F32(*v.get(i)?),
            List::F64(v) => Value::F64(*v.get(i)?),
        })
    }

    /// Iterates over the elements as [`Value`]s.
    pub fn iter(&self) -> impl Iterator<Item = Value> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Converts into a vector of [`Value`]s.
    pub fn into_values(self) -> Vec<Value> {
        match self {
            List::Values(v) => v,
            other => other.iter().collect(),
        }
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_list(self, 0, f)
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        let mut pending = Pending::new();
        lists_eq(self, other, &mut pending) && drain_eq(pending)
    }
}

impl From<Vec<Value>> for List {
    fn from(v: Vec<Value>) -> Self {
        List::Values(v)
    }
}

macro_rules! list_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<Vec<$t>> for List {
            fn from(v: Vec<$t>) -> Self {
                List::$v(v)
            }
        }
    )*};
}
list_from!(u8 => U8, i8 => S8, u16 => U16, i16 => S16, u32 => U32, i32 => S32, u64 => U64, i64 => S64, f32 => F32, f64 => F64);

/// Equality as a differential tester wants it: floats compare by value except that any NaN equals any NaN (and
/// `0.0 == -0.0` is false, as in wasmtime); flags compare as sets; resources by identity. Nested values are
/// compared from a work list, not by recursion.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        let mut pending = Pending::new();
        pending.push((self, other));
        drain_eq(pending)
    }
}

/// Pairs of nested values still to compare.
type Pending<'v> = SmallVec<[(&'v Value, &'v Value); 8]>;

fn drain_eq(mut pending: Pending<'_>) -> bool {
    while let Some((a, b)) = pending.pop() {
        if !shallow_eq(a, b, &mut pending) {
            return false;
        }
    }
    true
}

/// Compares what `a` and `b` hold at their own level and queues their children.
fn shallow_eq<'v>(a: &'v Value, b: &'v Value, pending: &mut Pending<'v>) -> bool {
    use Value::*;
    match (a, b) {
        (Bool(a), Bool(b)) => a == b,
        (S8(a), S8(b)) => a == b,
        (U8(a), U8(b)) => a == b,
        (S16(a), S16(b)) => a == b,
        (U16(a), U16(b)) => a == b,
        (S32(a), S32(b)) => a == b,
        (U32(a), U32(b)) => a == b,
        (S64(a), S64(b)) => a == b,
        (U64(a), U64(b)) => a == b,
        (F32(a), F32(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
        (F64(a), F64(b)) => (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits(),
        (Char(a), Char(b)) => a == b,
        (String(a), String(b)) => a == b,
        (List(a), List(b)) => lists_eq(a, b, pending),
        (Record(a), Record(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|((n, x), (m, y))| n == m && queue(pending, x, y))
        }
        (Tuple(a), Tuple(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| queue(pending, x, y)),
        (Variant(a, x), Variant(b, y)) => a == b && payloads_eq(x, y, pending),
        (Enum(a), Enum(b)) => a == b,
        (Option(x), Option(y)) => payloads_eq(x, y, pending),
        (Result(Ok(x)), Result(Ok(y))) | (Result(Err(x)), Result(Err(y))) => payloads_eq(x, y, pending),
        (Flags(a), Flags(b)) => {
            let mut a: Vec<_> = a.iter().map(|s| &**s).collect();
            let mut b: Vec<_> = b.iter().map(|s| &**s).collect();
            a.sort_unstable();
            a.dedup();
            b.sort_unstable();
            b.dedup();
            a == b
        }
        (Resource(a), Resource(b)) => a == b,
        _ => false,
    }
}

fn queue<'v>(pending: &mut Pending<'v>, a: &'v Value, b: &'v Value) -> bool {
    pending.push((a, b));
    true
}

fn payloads_eq<'v>(a: &'v Option<Box<Value>>, b: &'v Option<Box<Value>>, pending: &mut Pending<'v>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => queue(pending, a, b),
        _ => false,
    }
}

fn lists_eq<'v>(a: &'v List, b: &'v List, pending: &mut Pending<'v>) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (a, b) {
        (List::Values(a), List::Values(b)) => a.iter().zip(b).all(|(x, y)| queue(pending, x, y)),
        // The other list holds numbers, so each comparison ends one level down.
        (List::Values(values), numbers) | (numbers, List::Values(values)) => {
            values.iter().zip(numbers.iter()).all(|(v, n)| *v == n)
        }
        (a, b) => a.iter().zip(b.iter()).all(|(x, y)| x == y),
    }
}

/// `Debug` as derived, except that values nested deeper than any component type are shown as `…`.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_value(self, 0, f)
    }
}

fn fmt_value(v: &Value, depth: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if depth >= MAX_TYPE_DEPTH {
        return f.write_str("…");
    }
    let inner = depth + 1;
    let payload = |p| payload(p, inner);
    match v {
        Value::Bool(x) => f.debug_tuple("Bool").field(x).finish(),
        Value::S8(x) => f.debug_tuple("S8").field(x).finish(),
        Value::U8(x) => f.debug_tuple("U8").field(x).finish(),
        Value::S16(x) => f.debug_tuple("S16").field(x).finish(),
        Value::U16(x) => f.debug_tuple("U16").field(x).finish(),
        Value::S32(x) => f.debug_tuple("S32").field(x).finish(),
        Value::U32(x) => f.debug_tuple("U32").field(x).finish(),
        Value::S64(x) => f.debug_tuple("S64").field(x).finish(),
        Value::U64(x) => f.debug_tuple("U64").field(x).finish(),
        Value::F32(x) => f.debug_tuple("F32").field(x).finish(),
        Value::F64(x) => f.debug_tuple("F64").field(x).finish(),
        Value::Char(x) => f.debug_tuple("Char").field(x).finish(),
        Value::String(x) => f.debug_tuple("String").field(x).finish(),
        Value::List(l) => f.debug_tuple("List").field(&fmt::from_fn(|f| fmt_list(l, depth, f))).finish(),
        Value::Record(fs) => {
            let fields =
                fmt::from_fn(|f| f.debug_list().entries(fs.iter().map(|(n, v)| (n, nested(v, inner)))).finish());
            f.debug_tuple("Record").field(&fields).finish()
        }
        Value::Tuple(vs) => {
            let items = fmt::from_fn(|f| f.debug_list().entries(vs.iter().map(|v| nested(v, inner))).finish());
            f.debug_tuple("Tuple").field(&items).finish()
        }
        Value::Variant(name, p) => f.debug_tuple("Variant").field(name).field(&payload(p)).finish(),
        Value::Enum(name) => f.debug_tuple("Enum").field(name).finish(),
        Value::Option(p) => f.debug_tuple("Option").field(&payload(p)).finish(),
        Value::Result(r) => {
            let r = match r {
                Ok(p) => Ok(payload(p)),
                Err(p) => Err(payload(p)),
            };
            f.debug_tuple("Result").field(&r).finish()
        }
        Value::Flags(labels) => f.debug_tuple("Flags").field(labels).finish(),
        Value::Resource(r) => f.debug_tuple("Resource").field(r).finish(),
        Value::Stream(s) => f.debug_tuple("Stream").field(s).finish(),
        Value::Future(s) => f.debug_tuple("Future").field(s).finish(),
        Value::ErrorContext(e) => f.debug_tuple("ErrorContext").field(e).finish(),
    }
}

/// `v`, `depth` levels down, as a `Debug` item.
fn nested(v: &Value, depth: usize) -> impl fmt::Debug + '_ {
    fmt::from_fn(move |f| fmt_value(v, depth, f))
}

/// The payload of a case, `depth` levels down.
fn payload(p: &Option<Box<Value>>, depth: usize) -> Option<impl fmt::Debug + '_> {
    p.as_deref().map(|v| nested(v, depth))
}

/// The elements of a list held by a value `depth` levels down.
fn fmt_list(l: &List, depth: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match l {
        List::Values(vs) => f.debug_list().entries(vs.iter().map(|v| nested(v, depth + 1))).finish(),
        _ => list_dispatch!(l, v => f.debug_list().entries(v.iter()).finish()),
    }
}

/// Drops a value without recursion, taking nested values apart from a work list: a value built by the host can
/// be nested deeper than the native stack allows the compiler's recursive drop to go.
pub(crate) fn drop_iteratively(v: Value) {
    let mut pending = vec![v];
    while let Some(v) = pending.pop() {
        match v {
            Value::List(List::Values(vs)) | Value::Tuple(vs) => pending.extend(vs),
            Value::Record(fs) => pending.extend(fs.into_iter().map(|(_, v)| v)),
            Value::Variant(_, Some(p)) | Value::Option(Some(p)) | Value::Result(Ok(Some(p)) | Err(Some(p))) => {
                pending.push(*p)
            }
            _ => {}
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$v(v)
            }
        }
    )*};
}
value_from!(bool => Bool, i8 => S8, u8 => U8, i16 => S16, u16 => U16, i32 => S32, u32 => U32, i64 => S64,
    u64 => U64, f32 => F32, f64 => F64, char => Char, String => String, List => List);

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl Value {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::S8(_) => "s8",
            Value::U8(_) => "u8",
            Value::S16(_) => "s16",
            Value::U16(_) => "u16",
            Value::S32(_) => "s32",
            Value::U32(_) => "u32",
            Value::S64(_) => "s64",
            Value::U64(_) => "u64",
            Value::F32(_) => "f32",
            Value::F64(_) => "f64",
            Value::Char(_) => "char",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Record(_) => "record",
            Value::Tuple(_) => "tuple",
            Value::Variant(..) => "variant",
            Value::Enum(_) => "enum",
            Value::Option(_) => "option",
            Value::Result(_) => "result",
            Value::Flags(_) => "flags",
            Value::Resource(_) => "resource",
            Value::Stream(_) => "stream",
            Value::Future(_) => "future",
            Value::ErrorContext(_) => "error-context",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "serde")]
    #[test]
    fn values_survive_json_bit_for_bit() {
        let floats = [0.0f32, -0.0, 1.5, f32::INFINITY, f32::NEG_INFINITY, f32::from_bits(0xffc0_0123)];
        let v = Value::Record(vec![
            ("f".into(), Value::List(List::F32(floats.to_vec()))),
            ("g".into(), Value::F64(f64::from_bits(0x7ff0_0000_0000_0001))),
            ("s".into(), Value::Option(Some(Box::new(Value::String("é\u{0}".into()))))),
            ("r".into(), Value::Result(Err(None))),
        ]);
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let bits = |v: &Value| format!("{v:?}");
        assert_eq!(bits(&back), bits(&v), "{text}");
        let Value::Record(fs) = &back else { panic!() };
        let Value::List(List::F32(fs0)) = &fs[0].1 else { panic!() };
        assert_eq!(fs0.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), floats.map(f32::to_bits).to_vec());
        let Value::F64(g) = fs[1].1 else { panic!() };
        assert_eq!(g.to_bits(), 0x7ff0_0000_0000_0001);
    }

    #[test]
    fn nan_equals_nan_but_zeros_differ() {
        assert_eq!(Value::F32(f32::NAN), Value::F32(f32::from_bits(0x7fc0_0001)));
        assert_ne!(Value::F64(0.0), Value::F64(-0.0));
    }

    #[test]
    fn flags_compare_as_sets() {
        let a = Value::Flags(vec!["a".into(), "b".into()]);
        let b = Value::Flags(vec!["b".into(), "a".into(), "a".into()]);
        assert_eq!(a, b);
    }

    #[test]
    fn specialised_lists_equal_generic_lists() {
        let a = Value::List(List::U8(vec![1, 2]));
        let b = Value::List(List::Values(vec![Value::U8(1), Value::U8(2)]));
        assert_eq!(a, b);
        assert_ne!(a, Value::List(List::U16(vec![1, 2])));
        assert_eq!(b, a);
        assert_ne!(Value::List(List::Values(vec![Value::U8(1), Value::S8(2)])), a);
    }

    #[test]
    fn nested_values_compare_by_content() {
        let v = |x| {
            Value::Record(vec![
                ("a".into(), Value::Option(Some(Box::new(Value::Tuple(vec![Value::U32(x)]))))),
                ("b".into(), Value::Result(Err(None))),
            ])
        };
        assert_eq!(v(1), v(1));
        assert_ne!(v(1), v(2));
        assert_ne!(Value::Variant("a".into(), None), Value::Variant("a".into(), Some(Box::new(Value::U8(0)))));
    }

    #[test]
    fn debug_reads_as_derived() {
        let v = Value::Record(vec![
            ("a".into(), Value::Option(Some(Box::new(Value::List(List::U8(vec![1, 2])))))),
            ("b".into(), Value::Variant("c".into(), None)),
            ("d".into(), Value::Result(Ok(Some(Box::new(Value::Tuple(vec![Value::Char('x'), Value::S8(-1)])))))),
            ("e".into(), Value::List(List::Values(vec![Value::String("s".into())]))),
        ]);
        let expected = concat!(
            r#"Record([("a", Option(Some(List([1, 2])))), ("b", Variant("c", None)), "#,
            r#"("d", Result(Ok(Some(Tuple([Char('x'), S8(-1)]))))), ("e", List([String("s")]))])"#
        );
        assert_eq!(format!("{v:?}"), expected);
    }

    #[test]
    fn debug_stops_below_the_deepest_type() {
        let mut v = Value::U8(1);
        for _ in 0..MAX_TYPE_DEPTH {
            v = Value::Option(Some(Box::new(v)));
        }
        let shown = format!("{v:?}");
        assert_eq!(shown.matches("Option(").count(), MAX_TYPE_DEPTH);
        assert!(shown.contains("Some(…)") && !shown.contains("U8"), "{shown}");
    }
}

/// Floats in serialized values: numbers where JSON can hold them, strings for NaNs (with their payload) and
/// infinities, so that every bit pattern survives a round trip.
#[cfg(feature = "serde")]
mod float_serde {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    fn to_repr(x: f64, bits: u64, nan_hex: String) -> Repr {
        if x.is_nan() {
            Repr::Text(format!("{}nan:0x{nan_hex}", if bits >> 63 != 0 { "-" } else { "" }))
        } else if x.is_infinite() {
            Repr::Text(if x > 0.0 { "inf".into() } else { "-inf".into() })
        } else {
            Repr::Number(x)
        }
    }

    fn from_text(s: &str, width: u32) -> Option<u64> {
        let (neg, rest) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s),
        };
        let sign = u64::from(neg) << (width - 1);
        let exp_all = if width == 32 { 0x7f80_0000u64 } else { 0x7ff0_0000_0000_0000 };
        if rest == "inf" {
            return Some(sign | exp_all);
        }
        let bits = u64::from_str_radix(rest.strip_prefix("nan:0x")?, 16).ok()?;
        Some(if neg { bits | sign } else { bits })
    }

    pub mod f32 {
        use super::*;

        pub fn serialize<S: Serializer>(x: &f32, s: S) -> Result<S::Ok, S::Error> {
            let bits = x.to_bits();
            to_repr(f64::from(*x), u64::from(bits) << 32, format!("{:08x}", bits & 0x7fff_ffff)).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
            match Repr::deserialize(d)? {
                Repr::Number(x) => Ok(x as f32),
                Repr::Text(t) => from_text(&t, 32)
                    .map(|b| f32::from_bits(b as u32))
                    .ok_or_else(|| D::Error::custom(format!("not a float: {t}"))),
            }
        }
    }

    pub mod f64 {
        use super::*;

        pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
            let bits = x.to_bits();
            to_repr(*x, bits, format!("{:016x}", bits & 0x7fff_ffff_ffff_ffff)).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            match Repr::deserialize(d)? {
                Repr::Number(x) => Ok(x),
                Repr::Text(t) => {
                    from_text(&t, 64).map(f64::from_bits).ok_or_else(|| D::Error::custom(format!("not a float: {t}")))
                }
            }
        }
    }

    pub mod f32s {
        use super::*;

        #[derive(Serialize, Deserialize)]
        struct F(#[serde(with = "super::f32")] f32);

        pub fn serialize<S: Serializer>(xs: &[f32], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(xs.iter().map(|x| F(*x)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
            Ok(Vec::<F>::deserialize(d)?.into_iter().map(|F(x)| x).collect())
        }
    }

    pub mod f64s {
        use super::*;

        #[derive(Serialize, Deserialize)]
        struct F(#[serde(with = "super::f64")] f64);

        pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(xs.iter().map(|x| F(*x)))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Ok(Vec::<F>::deserialize(d)?.into_iter().map(|F(x)| x).collect())
        }
    }
}
