//! WAVE text for values whose type is not at hand (outcomes in reports), written by the `wasm-wave` crate:
//! component-layer's `Value` is a `wasm_wave::wasm::WasmValue`. With a type at hand, prefer
//! `component_gen::wave`, which also checks the value against it.

use component_layer::Value;

/// A value in WAVE syntax; a resource handle as component-layer writes one, `own(N)` or `borrow(N)` with its
/// host-table index.
pub fn to_wave(v: &Value) -> String {
    // Writing into a `String` cannot fail.
    wasm_wave::to_string(v).unwrap_or_else(|e| format!("<{e}>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use component_layer::List;

    #[test]
    fn writes_wave_the_parser_reads() {
        let v = Value::Record(vec![
            ("true".into(), Value::Option(None)),
            ("xs".into(), Value::List(List::F32(vec![1.0, f32::NAN]))),
            ("e".into(), Value::Enum("none".into())),
            ("r".into(), Value::Result(Err(Some(Box::new(Value::Char('\u{0}')))))),
        ]);
        assert_eq!(to_wave(&v), r"{xs: [1, nan], e: %none, r: err('\u{0}')}");
        assert_eq!(to_wave(&Value::Record(vec![])), "{:}");
    }
}
