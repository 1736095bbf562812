//! What Oracle Billing Care sends with a dispute beyond its terms: BRM's bookkeeping (the balance
//! adjusted, the object the action affects, the note's type and header, who wrote each comment).
//! The engine acts on none of it; it keeps it verbatim and shows it back, so that a Billing Care
//! client reads what it wrote.

use crate::subject::required_text;
use crate::{DomainError, Timestamp};

/// The longest text of a record's field, in characters.
const MAX_FIELD: usize = 255;
/// The longest note header, in characters.
const MAX_HEADER: usize = 1000;

/// Billing Care's bookkeeping of a billing dispute. Every part is optional.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BillingRecord {
    /// The BRM resource (balance) to adjust, such as a currency's numeric code (`resourceId`).
    pub resource_id: Option<i32>,
    /// The id of what the adjustment affects (`actionAffectsRef.id`).
    pub action_affects: Option<String>,
    /// The note's `type`, `subType` and `header`, as sent.
    pub note_type: Option<String>,
    pub note_sub_type: Option<String>,
    pub note_header: Option<String>,
    /// Who wrote each comment, in the comments' order: one per comment, or none at all.
    pub comment_authors: Vec<CommentAuthor>,
}

impl BillingRecord {
    /// Checks every text: ids and names 1 to 255 characters, the header at most 1000, none with
    /// control characters.
    pub fn new(
        resource_id: Option<i32>,
        action_affects: Option<String>,
        note: [Option<String>; 3],
        comment_authors: Vec<CommentAuthor>,
    ) -> Result<Self, DomainError> {
        let [note_type, note_sub_type, note_header] = note;
        Ok(BillingRecord {
            resource_id,
            action_affects: checked("actionAffectsRef.id", action_affects, MAX_FIELD)?,
            note_type: checked("notes.type", note_type, MAX_FIELD)?,
            note_sub_type: checked("notes.subType", note_sub_type, MAX_FIELD)?,
            note_header: checked("notes.header", note_header, MAX_HEADER)?,
            comment_authors,
        })
    }

    /// True when Billing Care sent none of it.
    pub fn is_empty(&self) -> bool {
        *self == BillingRecord::default()
    }
}

fn checked(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    value.map(|v| required_text(field, v, max)).transpose()
}

/// Who wrote a comment, as Billing Care attributes it (its CSR fields); each part optional.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CommentAuthor {
    pub csr_login_id: Option<String>,
    pub csr_first_name: Option<String>,
    pub csr_last_name: Option<String>,
    pub csr_account_id: Option<String>,
    pub external_user: Option<String>,
    pub tracking_id: Option<String>,
    /// When the comment was entered, in whole microseconds.
    pub entry_date: Option<Timestamp>,
}

/// Separates a [`CommentAuthor`]'s fields in its [record text](CommentAuthor::to_record): a
/// control character, which no field may hold.
const UNIT: char = '\u{1f}';

impl CommentAuthor {
    /// The six texts in the order of the struct, each 1 to 255 characters without control
    /// characters.
    pub fn new(
        texts: [Option<String>; 6],
        entry_date: Option<Timestamp>,
    ) -> Result<Self, DomainError> {
        let [login, first, last, account, external, tracking] = texts;
        Ok(CommentAuthor {
            csr_login_id: checked("csrLoginId", login, MAX_FIELD)?,
            csr_first_name: checked("csrFirstName", first, MAX_FIELD)?,
            csr_last_name: checked("csrLastName", last, MAX_FIELD)?,
            csr_account_id: checked("csrAccountId", account, MAX_FIELD)?,
            external_user: checked("externalUser", external, MAX_FIELD)?,
            tracking_id: checked("trackingId", tracking, MAX_FIELD)?,
            entry_date: entry_date.map(crate::period::to_micros),
        })
    }

    /// The author as one line of text for a store: the seven fields in order, separated by
    /// U+001F, an absent one empty, the entry date in microseconds since the epoch.
    pub fn to_record(&self) -> String {
        let texts = [
            &self.csr_login_id,
            &self.csr_first_name,
            &self.csr_last_name,
            &self.csr_account_id,
            &self.external_user,
            &self.tracking_id,
        ];
        let mut fields: Vec<String> = texts
            .iter()
            .map(|t| t.as_deref().unwrap_or_default().to_owned())
            .collect();
        fields.push(
            self.entry_date
                .map(|at| at.timestamp_micros().to_string())
                .unwrap_or_default(),
        );
        fields.join(&UNIT.to_string())
    }

    /// The author [`to_record`](Self::to_record) wrote.
    pub fn from_record(text: &str) -> Result<Self, DomainError> {
        let fields: Vec<&str> = text.split(UNIT).collect();
        let [login, first, last, account, external, tracking, entry] = fields[..] else {
            return Err(DomainError::invalid(
                "notes.comments",
                format!("{} fields where an author has 7", fields.len()),
            ));
        };
        let text = |t: &str| (!t.is_empty()).then(|| t.to_owned());
        let entry_date = match entry {
            "" => None,
            micros => Some(
                micros
                    .parse::<i64>()
                    .ok()
                    .and_then(chrono::DateTime::from_timestamp_micros)
                    .ok_or_else(|| {
                        DomainError::invalid("entryDate", format!("{micros:?} is not a time"))
                    })?,
            ),
        };
        CommentAuthor::new(
            [
                text(login),
                text(first),
                text(last),
                text(account),
                text(external),
                text(tracking),
            ],
            entry_date,
        )
    }

    /// True when the comment carried none of the CSR fields.
    pub fn is_empty(&self) -> bool {
        *self == CommentAuthor::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_author_survives_its_record_text() {
        let author = CommentAuthor::new(
            [
                Some("csr1".into()),
                Some("Ada".into()),
                None,
                Some("0.0.0.1+-account+1".into()),
                None,
                Some("T-9".into()),
            ],
            Some(chrono::Utc.timestamp_millis_opt(1_613_523_331_000).unwrap()),
        )
        .unwrap();
        assert_eq!(
            CommentAuthor::from_record(&author.to_record()).unwrap(),
            author
        );
        let nobody = CommentAuthor::default();
        assert_eq!(
            CommentAuthor::from_record(&nobody.to_record()).unwrap(),
            nobody
        );
        assert!(nobody.is_empty());
        assert!(CommentAuthor::from_record("a\u{1f}b").is_err());
    }

    #[test]
    fn texts_are_checked_and_named() {
        let bad = CommentAuthor::new(
            [Some("a\u{1f}b".into()), None, None, None, None, None],
            None,
        );
        assert_eq!(bad.unwrap_err().field(), Some("csrLoginId"));
        let header = "h".repeat(MAX_HEADER + 1);
        let bad = BillingRecord::new(None, None, [None, None, Some(header)], vec![]);
        assert_eq!(bad.unwrap_err().field(), Some("notes.header"));
        assert!(
            BillingRecord::new(Some(840), None, [None, None, None], vec![])
                .unwrap()
                .resource_id
                .is_some()
        );
        assert!(BillingRecord::default().is_empty());
    }
}
