use rust_decimal::Decimal;
use serde_json::Value;

use super::Problem;

/// An exact decimal from a JSON string (`"19.99"`) or number (`19.99`). The server parses JSON
/// with `arbitrary_precision`, so a number arrives as its literal text and never passes through
/// `f64`. A value with more digits than a `Decimal` holds is refused, never rounded.
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
    let exact = Decimal::from_str_exact(&text).or_else(|_| Decimal::from_scientific(&text));
    match exact {
        Ok(amount) => Ok(amount),
        // It reads as a number, but not exactly: rounding it would change what was claimed.
        Err(_)
            if text
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') =>
        {
            Err(Problem::field(
                field,
                format!("{text:?} has more digits than an amount holds exactly (at most 28)"),
            ))
        }
        Err(_) => Err(Problem::field(
            field,
            format!("{text:?} is not a decimal number"),
        )),
    }
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

    #[test]
    fn digits_beyond_what_a_decimal_holds_are_refused_not_rounded() {
        // What the documents' `maxLength` promises: any amount text of 28 characters fits.
        const MAX_AMOUNT_TEXT: usize = 28;
        let parse = |json: &str| decimal("amount", &serde_json::from_str(json).unwrap());
        for json in [
            "\"1.99999999999999999999999999999999999999\"",
            "\"5.00000000000000000000000000001\"",
            "5.00000000000000000000000000001",
            "\"99999999999999999999999999999\"",
        ] {
            let refused = parse(json).unwrap_err();
            assert!(
                refused.message.contains("more digits"),
                "{json}: {refused:?}"
            );
        }
        let longest = "9".repeat(MAX_AMOUNT_TEXT);
        assert_eq!(
            parse(&format!("\"{longest}\"")).unwrap().to_string(),
            longest
        );
        let fraction = format!("0.{}", "1".repeat(MAX_AMOUNT_TEXT - 2));
        assert_eq!(
            parse(&format!("\"{fraction}\"")).unwrap().to_string(),
            fraction
        );
    }
}
