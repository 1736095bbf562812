use disputes_ports::PageSize;

use super::Problem;

/// The one page-size rule of every contract: `limit` absent is the default page (20), else a
/// whole number from 1 to 100, written as decimal digits; anything else is a 400 about `limit`.
pub fn page_size(limit: Option<&str>) -> Result<PageSize, Problem> {
    let Some(text) = limit else {
        return Ok(PageSize::default());
    };
    text.parse::<i64>()
        .ok()
        .and_then(|n| PageSize::new(n).ok())
        .ok_or_else(|| Problem::field("limit", "must be a whole number from 1 to 100"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_1_to_100_and_20_by_default() {
        assert_eq!(page_size(None).unwrap(), PageSize::default());
        assert_eq!(page_size(Some("1")).unwrap(), PageSize::new(1).unwrap());
        assert_eq!(page_size(Some("100")).unwrap(), PageSize::new(100).unwrap());
        for refused in ["0", "101", "-1", "ten", "", "1.5"] {
            let problem = page_size(Some(refused)).unwrap_err();
            assert_eq!(problem.details[0].field, "limit", "{refused}");
        }
    }
}
