//! The message thread of a dispute, and the collection hold an invoice dispute puts on its
//! invoice.

use chrono::Duration;

use crate::{Actor, Attachment, DomainError, Timestamp};

/// The longest message, in characters.
/// The longest message, in characters.
pub const MAX_MESSAGE: usize = 10_000;

/// Checks free text written by a person: not blank, at most `max` characters, and no control
/// characters but line breaks and tabs (a message may have paragraphs).
pub(crate) fn free_text(
    field: &'static str,
    value: impl Into<String>,
    max: usize,
) -> Result<String, DomainError> {
    let value = value.into();
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(value)
}

/// The text of a message: 1 to 10 000 characters, not blank, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageText(String);

impl MessageText {
    /// `field` names the text in the error.
    pub fn new(field: &'static str, text: impl Into<String>) -> Result<Self, DomainError> {
        free_text(field, text, MAX_MESSAGE).map(MessageText)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message about to be posted: validated text and, optionally, a file already described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub text: MessageText,
    pub attachment: Option<Attachment>,
}

/// Joins a message's text and its attachment in a timeline entry's notes. The unit separator
/// cannot occur in a message (it is a control character) nor in a file name, so no text can pass
/// for an attachment or the reverse.
const SEPARATOR: char = '\u{1f}';

/// One message of a dispute's thread. `seq` is the timeline entry that recorded it: the opening
/// entry for the message a dispute was opened with, a `message` entry for every later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    seq: i64,
    at: Timestamp,
    author: Actor,
    text: String,
    attachment: Option<Attachment>,
}

impl Message {
    pub(crate) fn new(seq: i64, at: Timestamp, author: Actor, message: NewMessage) -> Self {
        Message {
            seq,
            at,
            author,
            text: message.text.0,
            attachment: message.attachment,
        }
    }

    /// Rebuilds a message as a store kept it. Nothing is checked here;
    /// [`Dispute::verify`](crate::Dispute::verify) does that.
    pub fn restore(
        seq: i64,
        at: Timestamp,
        author: Actor,
        text: String,
        attachment: Option<Attachment>,
    ) -> Self {
        Message {
            seq,
            at,
            author,
            text,
            attachment,
        }
    }

    pub fn seq(&self) -> i64 {
        self.seq
    }

    pub fn at(&self) -> Timestamp {
        self.at
    }

    pub fn author(&self) -> &Actor {
        &self.author
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn attachment(&self) -> Option<&Attachment> {
        self.attachment.as_ref()
    }

    /// The notes of the `message` timeline entry that records this message: its text and, when
    /// there is one, its attachment's digest, size, type and name, so that the hash chain covers
    /// every part of the message.
    pub(crate) fn entry_notes(&self) -> String {
        match &self.attachment {
            None => self.text.clone(),
            Some(a) => format!(
                "{}{SEPARATOR}sha256:{} {} {} {}",
                self.text,
                a.sha256(),
                a.size(),
                a.file_type(),
                a.name()
            ),
        }
    }
}

/// The longest an invoice's collection may be held while its dispute runs.
pub const MAX_COLLECTION_HOLD: Duration = Duration::days(14);

/// An invoice's collection, paused while its dispute runs: placed when the dispute opens (so
/// from `opened_at`), until at most [`MAX_COLLECTION_HOLD`] later, released early when the
/// dispute ends before that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollectionHold {
    pub until: Timestamp,
    /// When the engine released the hold before `until`, because the dispute ended.
    pub released_at: Option<Timestamp>,
}

impl CollectionHold {
    /// When collection may resume: at release, or at `until`.
    pub fn ends_at(&self) -> Timestamp {
        self.released_at.unwrap_or(self.until)
    }

    /// Whether collection is still paused at `at`.
    pub fn is_active(&self, at: Timestamp) -> bool {
        at < self.ends_at()
    }

    /// The opening entry's notes when a hold is placed; [`Dispute::verify`] checks them against
    /// the hold a store reads back.
    ///
    /// [`Dispute::verify`]: crate::Dispute::verify
    pub(crate) fn placed_notes(until: Timestamp) -> String {
        format!(
            "collection on hold until {}",
            crate::period::canonical_time(until)
        )
    }
}

/// What a closing entry's notes gain when it releases a hold.
pub(crate) const RELEASED_NOTE: &str = "collection hold released";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActorId, Role};
    use chrono::{TimeZone, Utc};

    #[test]
    fn message_text_allows_paragraphs_but_no_other_control_characters() {
        assert!(MessageText::new("message", "Beste,\n\nHet pakket\twas kapot.\r\n").is_ok());
        for bad in ["", " \n ", "a\u{1f}b", "a\u{0}b", &"x".repeat(10_001)] {
            assert_eq!(
                MessageText::new("message", bad).unwrap_err().field(),
                Some("message"),
                "{bad:?}"
            );
        }
        assert!(MessageText::new("message", "x".repeat(10_000)).is_ok());
    }

    #[test]
    fn entry_notes_cover_the_attachment_unambiguously() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap();
        let author = Actor::new(ActorId::new("shop").unwrap(), Role::Client);
        let png = b"\x89PNG\r\n\x1a\n";
        let attachment = Attachment::inspect("a b.png", png).unwrap();
        let text = MessageText::new("message", "see photo").unwrap();
        let with = Message::new(
            2,
            at,
            author.clone(),
            NewMessage {
                text: text.clone(),
                attachment: Some(attachment.clone()),
            },
        );
        assert_eq!(
            with.entry_notes(),
            format!(
                "see photo\u{1f}sha256:{} 8 png a b.png",
                crate::Digest::of(png)
            )
        );
        let without = Message::new(
            2,
            at,
            author,
            NewMessage {
                text,
                attachment: None,
            },
        );
        assert_eq!(without.entry_notes(), "see photo");
    }

    #[test]
    fn a_hold_ends_at_release_or_at_its_end() {
        let t = Utc.with_ymd_and_hms(2026, 11, 22, 9, 15, 0).unwrap();
        let mut hold = CollectionHold {
            until: t + Duration::days(14),
            released_at: None,
        };
        assert!(hold.is_active(t));
        assert!(!hold.is_active(t + Duration::days(14)));
        hold.released_at = Some(t + Duration::days(1));
        assert_eq!(hold.ends_at(), t + Duration::days(1));
        assert!(!hold.is_active(t + Duration::days(2)));
        assert_eq!(
            CollectionHold::placed_notes(t),
            "collection on hold until 2026-11-22T09:15:00.000000Z"
        );
    }
}
