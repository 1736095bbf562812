//! What differs from run to run in an answer (ids, times, secrets), replaced with placeholders so
//! that a snapshot shows the shape and every stable value.

use serde_json::{json, Value};

/// `value` with the value of every key named in `volatile`, at any depth, replaced by `"[key]"`.
/// A `null` stays `null`, so a snapshot still shows which fields have no value yet.
pub fn redact_keys(value: &Value, volatile: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if volatile.contains(&k.as_str()) && !v.is_null() {
                        json!(format!("[{k}]"))
                    } else {
                        redact_keys(v, volatile)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| redact_keys(v, volatile)).collect())
        }
        other => other.clone(),
    }
}
