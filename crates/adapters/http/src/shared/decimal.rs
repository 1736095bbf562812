use rust_decimal::Decimal;
use serde_json::Value;

use super::Problem;

/// An exact decimal from a JSON string (`"19.99"`) or number (`19.99`). The server parses JSON
/// with `arbitrary_precision`, so a number arrives as its literal text and never passes through
/// `f64`.
pub fn decimal(field: &str, value: &Value) -> Result<Decimal, Problem> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(Problem::field(
                field,
                "must be a decimal number or a decimal string",
            ))
        }
    };
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| Problem::field(field, format!("{text:?} is not a decimal number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_from_strings_and_numbers() {
        let parse = |json: &str| decimal("amount", &serde_json::from_str(json).unwrap());
        assert_eq!(parse("\"1234.5678\"").unwrap().to_string(), "1234.5678");
        assert_eq!(parse("5").unwrap().to_string(), "5");
        assert_eq!(parse("-5").unwrap().to_string(), "-5");
        assert_eq!(
            parse("12345678901234567.89").unwrap().to_string(),
            "12345678901234567.89"
        );
        assert_eq!(parse("19.99").unwrap().to_string(), "19.99");
        assert!(parse("\"12,5\"").is_err());
        assert!(parse("true").is_err());
    }
}
