//! WAVE, the WebAssembly Value Encoding: [`Value`] is a `wasm_wave::wasm::WasmValue` and [`ValueType`] a
//! `wasm_wave::wasm::WasmType`, so the `wasm-wave` crate reads and writes values as text (see [`Value`]'s docs).
//!
//! The `make_*` constructors check the shape at their own level (field and case names, payloads, tuple arity)
//! and build values in canonical form — record fields and flags in declaration order, names shared with the
//! type, lists of numbers in their specialised [`List`] — so a parsed value is exactly what lifting the same
//! value would give. Nested values are checked when they are lowered, as for any `Value`.

use std::borrow::Cow;
use std::sync::Arc;

use wasm_wave::wasm::{WasmType, WasmTypeKind, WasmValue, WasmValueError};

use crate::types::ValueType;
use crate::values::{List, Value};

impl WasmType for ValueType {
    /// The kind of the type; `own`, `borrow` and the async handle types are `Unsupported`: WAVE has no handles.
    fn kind(&self) -> WasmTypeKind {
        match self {
            ValueType::Bool => WasmTypeKind::Bool,
            ValueType::S8 => WasmTypeKind::S8,
            ValueType::U8 => WasmTypeKind::U8,
            ValueType::S16 => WasmTypeKind::S16,
            ValueType::U16 => WasmTypeKind::U16,
            ValueType::S32 => WasmTypeKind::S32,
            ValueType::U32 => WasmTypeKind::U32,
            ValueType::S64 => WasmTypeKind::S64,
            ValueType::U64 => WasmTypeKind::U64,
            ValueType::F32 => WasmTypeKind::F32,
            ValueType::F64 => WasmTypeKind::F64,
            ValueType::Char => WasmTypeKind::Char,
            ValueType::String => WasmTypeKind::String,
            ValueType::List(_) => WasmTypeKind::List,
            ValueType::Record(_) => WasmTypeKind::Record,
            ValueType::Tuple(_) => WasmTypeKind::Tuple,
            ValueType::Variant(_) => WasmTypeKind::Variant,
            ValueType::Enum(_) => WasmTypeKind::Enum,
            ValueType::Option(_) => WasmTypeKind::Option,
            ValueType::Result { .. } => WasmTypeKind::Result,
            ValueType::Flags(_) => WasmTypeKind::Flags,
            ValueType::Own(_)
            | ValueType::Borrow(_)
            | ValueType::Stream(_)
            | ValueType::Future(_)
            | ValueType::ErrorContext => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        match self {
            ValueType::List(t) => Some(ValueType::clone(t)),
            _ => None,
        }
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        match self {
            ValueType::Record(fs) => Box::new(fs.iter().map(|(n, t)| (Cow::Borrowed(&**n), t.clone()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        match self {
            ValueType::Tuple(ts) => Box::new(ts.iter().cloned()),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        match self {
            ValueType::Variant(cs) => Box::new(cs.iter().map(|(n, t)| (Cow::Borrowed(&**n), t.clone()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            ValueType::Enum(cs) => Box::new(cs.iter().map(|n| Cow::Borrowed(&**n))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn option_some_type(&self) -> Option<Self> {
        match self {
            ValueType::Option(t) => Some(ValueType::clone(t)),
            _ => None,
        }
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        match self {
            ValueType::Result { ok, err } => Some((ok.as_deref().cloned(), err.as_deref().cloned())),
            _ => None,
        }
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            ValueType::Flags(ls) => Box::new(ls.iter().map(|n| Cow::Borrowed(&**n))),
            _ => Box::new(std::iter::empty()),
        }
    }
}

fn wrong_kind(ty: &ValueType, kind: WasmTypeKind) -> WasmValueError {
    WasmValueError::WrongTypeKind { kind, ty: ty.to_string() }
}

fn wrong_value(ty: &ValueType, v: &Value) -> WasmValueError {
    WasmValueError::WrongValueType { ty: ty.to_string(), val: v.kind_name().to_owned() }
}

/// The payload a case takes, checked against whether the case has one.
fn payload(case: &str, ty: Option<&ValueType>, val: Option<Value>) -> Result<Option<Box<Value>>, WasmValueError> {
    match (ty, val) {
        (Some(_), Some(v)) => Ok(Some(Box::new(v))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(WasmValueError::MissingPayload(case.to_owned())),
        (None, Some(_)) => Err(WasmValueError::UnexpectedPayload(case.to_owned())),
    }
}

/// Collects list elements of one numeric kind into a specialised vector.
macro_rules! numbers {
    ($elem:expr, $vals:expr, $variant:ident) => {
        $vals
            .into_iter()
            .map(|v| match v {
                Value::$variant(x) => Ok(x),
                other => Err(wrong_value($elem, &other)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(List::$variant)
    };
}

/// Panics as the trait requires of an `unwrap_*` called on a value of another kind.
#[cold]
fn not_a(kind: &str, v: &Value) -> ! {
    panic!("unwrap_{kind} called on a {} value", v.kind_name())
}

macro_rules! unwrap_scalar {
    ($($name:ident: $variant:ident -> $t:ty),* $(,)?) => {$(
        fn $name(&self) -> $t {
            match self {
                Value::$variant(x) => *x,
                other => not_a(stringify!($variant), other),
            }
        }
    )*};
}

impl WasmValue for Value {
    type Type = ValueType;

    /// The kind of the value. A resource handle is a `Variant`, written `own(N)` or `borrow(N)` (see [`Value`]).
    fn kind(&self) -> WasmTypeKind {
        match self {
            Value::Bool(_) => WasmTypeKind::Bool,
            Value::S8(_) => WasmTypeKind::S8,
            Value::U8(_) => WasmTypeKind::U8,
            Value::S16(_) => WasmTypeKind::S16,
            Value::U16(_) => WasmTypeKind::U16,
            Value::S32(_) => WasmTypeKind::S32,
            Value::U32(_) => WasmTypeKind::U32,
            Value::S64(_) => WasmTypeKind::S64,
            Value::U64(_) => WasmTypeKind::U64,
            Value::F32(_) => WasmTypeKind::F32,
            Value::F64(_) => WasmTypeKind::F64,
            Value::Char(_) => WasmTypeKind::Char,
            Value::String(_) => WasmTypeKind::String,
            Value::List(_) => WasmTypeKind::List,
            Value::Record(_) => WasmTypeKind::Record,
            Value::Tuple(_) => WasmTypeKind::Tuple,
            Value::Variant(..) | Value::Resource(_) | Value::Stream(_) | Value::Future(_) | Value::ErrorContext(_) => {
                WasmTypeKind::Variant
            }
            Value::Enum(_) => WasmTypeKind::Enum,
            Value::Option(_) => WasmTypeKind::Option,
            Value::Result(_) => WasmTypeKind::Result,
            Value::Flags(_) => WasmTypeKind::Flags,
        }
    }

    fn make_bool(val: bool) -> Self {
        Value::Bool(val)
    }
    fn make_s8(val: i8) -> Self {
        Value::S8(val)
    }
    fn make_s16(val: i16) -> Self {
        Value::S16(val)
    }
    fn make_s32(val: i32) -> Self {
        Value::S32(val)
    }
    fn make_s64(val: i64) -> Self {
        Value::S64(val)
    }
    fn make_u8(val: u8) -> Self {
        Value::U8(val)
    }
    fn make_u16(val: u16) -> Self {
        Value::U16(val)
    }
    fn make_u32(val: u32) -> Self {
        Value::U32(val)
    }
    fn make_u64(val: u64) -> Self {
        Value::U64(val)
    }
    /// Keeps the bits, NaN payloads included (WAVE text has one `nan`, which reads as the canonical NaN).
    fn make_f32(val: f32) -> Self {
        Value::F32(val)
    }
    /// Keeps the bits, NaN payloads included (WAVE text has one `nan`, which reads as the canonical NaN).
    fn make_f64(val: f64) -> Self {
        Value::F64(val)
    }
    fn make_char(val: char) -> Self {
        Value::Char(val)
    }
    fn make_string(val: Cow<'_, str>) -> Self {
        Value::String(val.into_owned())
    }

    fn make_list(ty: &ValueType, vals: impl IntoIterator<Item = Self>) -> Result<Self, WasmValueError> {
        let ValueType::List(elem) = ty else { return Err(wrong_kind(ty, WasmTypeKind::List)) };
        let list = match &**elem {
            ValueType::U8 => numbers!(elem, vals, U8)?,
            ValueType::S8 => numbers!(elem, vals, S8)?,
            ValueType::U16 => numbers!(elem, vals, U16)?,
            ValueType::S16 => numbers!(elem, vals, S16)?,
            ValueType::U32 => numbers!(elem, vals, U32)?,
            ValueType::S32 => numbers!(elem, vals, S32)?,
            ValueType::U64 => numbers!(elem, vals, U64)?,
            ValueType::S64 => numbers!(elem, vals, S64)?,
            ValueType::F32 => numbers!(elem, vals, F32)?,
            ValueType::F64 => numbers!(elem, vals, F64)?,
            _ => List::Values(vals.into_iter().collect()),
        };
        Ok(Value::List(list))
    }

    fn make_record<'a>(
        ty: &ValueType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        let ValueType::Record(types) = ty else { return Err(wrong_kind(ty, WasmTypeKind::Record)) };
        let mut given: Vec<(&str, Option<Value>)> = fields.into_iter().map(|(n, v)| (n, Some(v))).collect();
        let mut out = Vec::with_capacity(types.len());
        for (name, _) in types.iter() {
            let v = given
                .iter_mut()
                .find(|(n, v)| *n == &**name && v.is_some())
                .and_then(|(_, v)| v.take())
                .ok_or_else(|| WasmValueError::MissingField(name.to_string()))?;
            out.push((name.clone(), v));
        }
        if let Some((n, _)) = given.iter().find(|(_, v)| v.is_some()) {
            return Err(WasmValueError::UnknownField((*n).to_owned()));
        }
        Ok(Value::Record(out))
    }

    fn make_tuple(ty: &ValueType, vals: impl IntoIterator<Item = Self>) -> Result<Self, WasmValueError> {
        let ValueType::Tuple(types) = ty else { return Err(wrong_kind(ty, WasmTypeKind::Tuple)) };
        let vals: Vec<Value> = vals.into_iter().collect();
        if vals.len() != types.len() {
            return Err(WasmValueError::WrongNumberOfTupleValues { want: types.len(), got: vals.len() });
        }
        Ok(Value::Tuple(vals))
    }

    fn make_variant(ty: &ValueType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        let ValueType::Variant(cases) = ty else { return Err(wrong_kind(ty, WasmTypeKind::Variant)) };
        let (name, t) =
            cases.iter().find(|(n, _)| &**n == case).ok_or_else(|| WasmValueError::UnknownCase(case.to_owned()))?;
        Ok(Value::Variant(name.clone(), payload(case, t.as_ref(), val)?))
    }

    fn make_enum(ty: &ValueType, case: &str) -> Result<Self, WasmValueError> {
        let ValueType::Enum(cases) = ty else { return Err(wrong_kind(ty, WasmTypeKind::Enum)) };
        let name = cases.iter().find(|n| &***n == case).ok_or_else(|| WasmValueError::UnknownCase(case.to_owned()))?;
        Ok(Value::Enum(name.clone()))
    }

    fn make_option(ty: &ValueType, val: Option<Self>) -> Result<Self, WasmValueError> {
        if !matches!(ty, ValueType::Option(_)) {
            return Err(wrong_kind(ty, WasmTypeKind::Option));
        }
        Ok(Value::Option(val.map(Box::new)))
    }

    fn make_result(ty: &ValueType, val: Result<Option<Self>, Option<Self>>) -> Result<Self, WasmValueError> {
        let ValueType::Result { ok, err } = ty else { return Err(wrong_kind(ty, WasmTypeKind::Result)) };
        Ok(Value::Result(match val {
            Ok(v) => Ok(payload("ok", ok.as_deref(), v)?),
            Err(v) => Err(payload("err", err.as_deref(), v)?),
        }))
    }

    fn make_flags<'a>(ty: &ValueType, names: impl IntoIterator<Item = &'a str>) -> Result<Self, WasmValueError> {
        let ValueType::Flags(labels) = ty else { return Err(wrong_kind(ty, WasmTypeKind::Flags)) };
        let mut set = vec![false; labels.len()];
        for name in names {
            let i =
                labels.iter().position(|l| &**l == name).ok_or_else(|| WasmValueError::UnknownCase(name.to_owned()))?;
            set[i] = true;
        }
        let flags: Vec<Arc<str>> = labels.iter().zip(set).filter(|(_, on)| *on).map(|(l, _)| l.clone()).collect();
        Ok(Value::Flags(flags))
    }

    unwrap_scalar! {
        unwrap_bool: Bool -> bool,
        unwrap_s8: S8 -> i8,
        unwrap_s16: S16 -> i16,
        unwrap_s32: S32 -> i32,
        unwrap_s64: S64 -> i64,
        unwrap_u8: U8 -> u8,
        unwrap_u16: U16 -> u16,
        unwrap_u32: U32 -> u32,
        unwrap_u64: U64 -> u64,
        unwrap_f32: F32 -> f32,
        unwrap_f64: F64 -> f64,
        unwrap_char: Char -> char,
    }

    fn unwrap_string(&self) -> Cow<'_, str> {
        match self {
            Value::String(s) => Cow::Borrowed(s),
            other => not_a("string", other),
        }
    }

    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Value::List(List::Values(vs)) => Box::new(vs.iter().map(Cow::Borrowed)),
            Value::List(l) => Box::new(l.iter().map(Cow::Owned)),
            other => not_a("list", other),
        }
    }

    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        match self {
            Value::Record(fs) => Box::new(fs.iter().map(|(n, v)| (Cow::Borrowed(&**n), Cow::Borrowed(v)))),
            other => not_a("record", other),
        }
    }

    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Value::Tuple(vs) => Box::new(vs.iter().map(Cow::Borrowed)),
            other => not_a("tuple", other),
        }
    }

    /// A variant's case and payload; a resource handle as the case `own` or `borrow` with its host-table index,
    /// a stream or future as the case `stream` or `future`, an error-context as `error-context` with its message.
    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match self {
            Value::Variant(name, p) => (Cow::Borrowed(&**name), p.as_deref().map(Cow::Borrowed)),
            Value::Resource(r) => {
                let case = if r.owned() { "own" } else { "borrow" };
                (Cow::Borrowed(case), Some(Cow::Owned(Value::U32(r.index()))))
            }
            Value::Stream(_) => (Cow::Borrowed("stream"), None),
            Value::Future(_) => (Cow::Borrowed("future"), None),
            Value::ErrorContext(e) => {
                (Cow::Borrowed("error-context"), Some(Cow::Owned(Value::String(e.debug_message().to_owned()))))
            }
            other => not_a("variant", other),
        }
    }

    fn unwrap_enum(&self) -> Cow<'_, str> {
        match self {
            Value::Enum(name) => Cow::Borrowed(&**name),
            other => not_a("enum", other),
        }
    }

    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        match self {
            Value::Option(p) => p.as_deref().map(Cow::Borrowed),
            other => not_a("option", other),
        }
    }

    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match self {
            Value::Result(Ok(p)) => Ok(p.as_deref().map(Cow::Borrowed)),
            Value::Result(Err(p)) => Err(p.as_deref().map(Cow::Borrowed)),
            other => not_a("result", other),
        }
    }

    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            Value::Flags(ls) => Box::new(ls.iter().map(|l| Cow::Borrowed(&**l))),
            other => not_a("flags", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{ResourceAny, ResourceType};

    fn t(ty: ValueType) -> Arc<ValueType> {
        Arc::new(ty)
    }

    fn names(ns: &[&str]) -> Arc<[Arc<str>]> {
        ns.iter().map(|n| Arc::from(*n)).collect()
    }

    fn some(v: Value) -> Value {
        Value::Option(Some(Box::new(v)))
    }

    /// Writes `v`, checks the text, reads it back as `ty` and checks that it is `v` again, bit for bit.
    fn round_trip(ty: &ValueType, v: &Value, text: &str) {
        let written = wasm_wave::to_string(v).unwrap();
        assert_eq!(written, text, "{v:?}");
        let back: Value = wasm_wave::from_str(ty, &written).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(format!("{back:?}"), format!("{v:?}"), "{written}");
        assert_eq!(back, *v);
    }

    #[test]
    fn scalars_round_trip_at_their_edges() {
        let cases: Vec<(ValueType, Value, &str)> = vec![
            (ValueType::Bool, Value::Bool(true), "true"),
            (ValueType::Bool, Value::Bool(false), "false"),
            (ValueType::S8, Value::S8(i8::MIN), "-128"),
            (ValueType::U8, Value::U8(u8::MAX), "255"),
            (ValueType::S16, Value::S16(i16::MIN), "-32768"),
            (ValueType::U16, Value::U16(u16::MAX), "65535"),
            (ValueType::S32, Value::S32(i32::MIN), "-2147483648"),
            (ValueType::U32, Value::U32(u32::MAX), "4294967295"),
            (ValueType::S64, Value::S64(i64::MIN), "-9223372036854775808"),
            (ValueType::U64, Value::U64(u64::MAX), "18446744073709551615"),
            (ValueType::F32, Value::F32(1.5), "1.5"),
            (ValueType::F32, Value::F32(-0.0), "-0"),
            (ValueType::F32, Value::F32(f32::INFINITY), "inf"),
            (ValueType::F32, Value::F32(f32::NEG_INFINITY), "-inf"),
            (ValueType::F32, Value::F32(f32::from_bits(1)), "0.000000000000000000000000000000000000000000001"),
            (ValueType::F64, Value::F64(f64::MAX), &*Box::leak(f64::MAX.to_string().into_boxed_str())),
            (ValueType::F64, Value::F64(-0.0), "-0"),
            (ValueType::F64, Value::F64(f64::NEG_INFINITY), "-inf"),
            (ValueType::Char, Value::Char('\0'), r"'\u{0}'"),
            (ValueType::Char, Value::Char('\u{7f}'), r"'\u{7f}'"),
            (ValueType::Char, Value::Char('\''), r"'\''"),
            (ValueType::Char, Value::Char('\\'), r"'\\'"),
            (ValueType::Char, Value::Char('\u{d7ff}'), r"'\u{d7ff}'"),
            (ValueType::Char, Value::Char('\u{e000}'), r"'\u{e000}'"),
            (ValueType::Char, Value::Char(char::MAX), r"'\u{10ffff}'"),
            (ValueType::Char, Value::Char('😀'), "'😀'"),
            (ValueType::String, Value::String(String::new()), r#""""#),
            (ValueType::String, Value::String("a\"b\\c\n\t\u{0}é😀".into()), r#""a\"b\\c\n\t\u{0}é😀""#),
        ];
        for (ty, v, text) in &cases {
            round_trip(ty, v, text);
        }
    }

    /// WAVE has one NaN: any payload is written `nan` and read back as the canonical NaN (serde keeps payloads).
    #[test]
    fn nan_payloads_are_written_as_nan() {
        for bits in [0x7fc0_0000, 0x7fc0_0001, 0xffc0_0000, 0x7f80_0001, 0xffff_ffff] {
            let v = Value::F32(f32::from_bits(bits));
            assert_eq!(wasm_wave::to_string(&v).unwrap(), "nan");
            let back: Value = wasm_wave::from_str(&ValueType::F32, "nan").unwrap();
            let Value::F32(x) = back else { panic!("{back:?}") };
            assert_eq!(x.to_bits(), 0x7fc0_0000);
            assert_eq!(back, v, "any NaN equals any NaN");
        }
        for bits in [0x7ff8_0000_0000_0000, 0x7ff0_0000_0000_0001, 0xfff8_0000_0000_0001] {
            let v = Value::F64(f64::from_bits(bits));
            assert_eq!(wasm_wave::to_string(&v).unwrap(), "nan");
            let back: Value = wasm_wave::from_str(&ValueType::F64, "nan").unwrap();
            let Value::F64(x) = back else { panic!("{back:?}") };
            assert_eq!(x.to_bits(), 0x7ff8_0000_0000_0000);
        }
    }

    #[test]
    fn lists_read_back_specialised() {
        let ty = ValueType::List(t(ValueType::U8));
        round_trip(&ty, &Value::List(List::U8(vec![0, 255])), "[0, 255]");
        let back: Value = wasm_wave::from_str(&ty, "[1, 2]").unwrap();
        assert!(matches!(back, Value::List(List::U8(ref b)) if b == &[1, 2]), "{back:?}");
        let floats = ValueType::List(t(ValueType::F64));
        round_trip(&floats, &Value::List(List::F64(vec![0.5, -1.0, f64::INFINITY])), "[0.5, -1, inf]");
        round_trip(&ValueType::List(t(ValueType::S16)), &Value::List(List::S16(vec![])), "[]");
        let strings = ValueType::List(t(ValueType::String));
        let v = Value::List(List::Values(vec![Value::String("x".into()), Value::String("".into())]));
        round_trip(&strings, &v, r#"["x", ""]"#);
        // A generic list of numbers (as a host may build one) is written the same way.
        let generic = Value::List(List::Values(vec![Value::U8(1), Value::U8(2)]));
        assert_eq!(wasm_wave::to_string(&generic).unwrap(), "[1, 2]");
    }

    #[test]
    fn records_variants_enums_options_results_and_flags_round_trip() {
        let point = ValueType::Record(Arc::from([
            (Arc::from("x"), ValueType::S32),
            (Arc::from("label"), ValueType::Option(t(ValueType::String))),
        ]));
        let p = |x, l: Option<&str>| {
            Value::Record(vec![
                ("x".into(), Value::S32(x)),
                ("label".into(), Value::Option(l.map(|l| Box::new(Value::String(l.into()))))),
            ])
        };
        round_trip(&point, &p(-1, Some("a")), r#"{x: -1, label: some("a")}"#);
        // An absent option field is left out, and read back as `none`.
        round_trip(&point, &p(3, None), "{x: 3}");
        // Fields in any order are put back in declaration order.
        let back: Value = wasm_wave::from_str(&point, r#"{label: some("b"), x: 2}"#).unwrap();
        assert_eq!(format!("{back:?}"), format!("{:?}", p(2, Some("b"))));

        let shape = ValueType::Variant(Arc::from([
            (Arc::from("none-yet"), None),
            (Arc::from("circle"), Some(ValueType::F32)),
            (Arc::from("true"), Some(ValueType::Bool)),
        ]));
        round_trip(&shape, &Value::Variant("none-yet".into(), None), "none-yet");
        round_trip(&shape, &Value::Variant("circle".into(), Some(Box::new(Value::F32(2.5)))), "circle(2.5)");
        // A case named like a keyword is escaped with `%`.
        round_trip(&shape, &Value::Variant("true".into(), Some(Box::new(Value::Bool(false)))), "%true(false)");

        let color = ValueType::Enum(names(&["red", "ok", "blue-green"]));
        round_trip(&color, &Value::Enum("blue-green".into()), "blue-green");
        round_trip(&color, &Value::Enum("ok".into()), "%ok");

        let nested = ValueType::Option(t(ValueType::Option(t(ValueType::U8))));
        round_trip(&nested, &Value::Option(None), "none");
        round_trip(&nested, &some(Value::Option(None)), "some(none)");
        round_trip(&nested, &some(some(Value::U8(7))), "some(some(7))");

        let full = ValueType::Result { ok: Some(t(ValueType::U32)), err: Some(t(ValueType::String)) };
        round_trip(&full, &Value::Result(Ok(Some(Box::new(Value::U32(1))))), "ok(1)");
        round_trip(&full, &Value::Result(Err(Some(Box::new(Value::String("e".into()))))), r#"err("e")"#);
        let empty = ValueType::Result { ok: None, err: None };
        round_trip(&empty, &Value::Result(Ok(None)), "ok");
        round_trip(&empty, &Value::Result(Err(None)), "err");
        let err_only = ValueType::Result { ok: None, err: Some(t(ValueType::Char)) };
        round_trip(&err_only, &Value::Result(Err(Some(Box::new(Value::Char('x'))))), "err('x')");

        let perms = ValueType::Flags(names(&["read", "write", "exec"]));
        round_trip(&perms, &Value::Flags(vec![]), "{}");
        round_trip(&perms, &Value::Flags(vec!["read".into(), "exec".into()]), "{read, exec}");
        // Flags in any order are put back in declaration order.
        let back: Value = wasm_wave::from_str(&perms, "{exec, write}").unwrap();
        assert_eq!(format!("{back:?}"), r#"Flags(["write", "exec"])"#);
    }

    #[test]
    fn nested_types_round_trip() {
        let item = ValueType::Record(Arc::from([
            (Arc::from("name"), ValueType::String),
            (Arc::from("tags"), ValueType::List(t(ValueType::Tuple(Arc::from([ValueType::Char, ValueType::S64]))))),
            (Arc::from("flags"), ValueType::Flags(names(&["a", "b"]))),
        ]));
        let ty = ValueType::List(t(ValueType::Result { ok: Some(t(item)), err: Some(t(ValueType::U8)) }));
        let v = Value::List(List::Values(vec![
            Value::Result(Ok(Some(Box::new(Value::Record(vec![
                ("name".into(), Value::String("n".into())),
                ("tags".into(), Value::List(List::Values(vec![Value::Tuple(vec![Value::Char('t'), Value::S64(-5)])]))),
                ("flags".into(), Value::Flags(vec!["b".into()])),
            ]))))),
            Value::Result(Err(Some(Box::new(Value::U8(9))))),
        ]));
        round_trip(&ty, &v, r#"[ok({name: "n", tags: [('t', -5)], flags: {b}}), err(9)]"#);
    }

    #[test]
    fn values_of_another_type_are_refused() {
        let point = ValueType::Record(Arc::from([(Arc::from("x"), ValueType::U8)]));
        for (ty, text) in [
            (&point, "{y: 1}"),
            (&ValueType::U8, "256"),
            (&ValueType::Enum(names(&["a"])), "b"),
            (&ValueType::Flags(names(&["a"])), "{b}"),
            (&ValueType::Tuple(Arc::from([ValueType::U8])), "(1, 2)"),
        ] {
            assert!(wasm_wave::from_str::<Value>(ty, text).is_err(), "{text} as {ty}");
        }
    }

    /// WAVE has no resources: a handle is written as a variant case `own(N)` / `borrow(N)` with its host-table
    /// index, and an `own` or `borrow` type cannot be read. Neither panics.
    #[test]
    fn resources_are_written_by_index_and_never_read() {
        let engine = crate::Engine::new(wasmi_runtime_layer::Engine::default());
        let mut store = crate::Store::new(&engine, ());
        let ty = ResourceType::host_dynamic(1);
        let own = ResourceAny::new_own(&mut store, ty.clone(), 10).unwrap();
        let borrow = ResourceAny::new_borrow(&mut store, ty.clone(), 11).unwrap();
        let (i, j) = (own.index(), borrow.index());
        let v = Value::List(List::Values(vec![Value::Resource(own), Value::Resource(borrow)]));
        assert_eq!(wasm_wave::to_string(&v).unwrap(), format!("[own({i}), borrow({j})]"));
        for ty in [ValueType::Own(ty.clone()), ValueType::List(t(ValueType::Borrow(ty)))] {
            let e = wasm_wave::from_str::<Value>(&ty, "[own(0)]").unwrap_err();
            assert!(e.to_string().contains("unsupported"), "{e}");
        }
    }
}
