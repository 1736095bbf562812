//! Email over SMTP: the invoice customer hears of their dispute in its language, the tenant's
//! owner gets a plain notice of every entry, and every mail sent is recorded so that a retry
//! writes only to whoever has not had it.

pub mod templates;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use disputes_domain::{Agent, Email, Subject};
use disputes_ports::{CredentialStore, Event, Notifier, NotifyError, SentEmail, SentEmails};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

pub use templates::{customer_mail, owner_notice, Mail, PARTY_NOTICE};

/// How long one SMTP conversation may take; well below the dispatcher's lease.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why the email sink cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum EmailConfigError {
    #[error("SMTP_URL {url:?} is not usable: {reason} (use smtp://host:port, smtp://host:port?tls=required or smtps://host:port, with user:password@ if the relay asks)")]
    SmtpUrl { url: String, reason: String },
    #[error("EMAIL_FROM {from:?} is not a mailbox: {reason} (use disputes@example.com or \"Disputes <disputes@example.com>\")")]
    From { from: String, reason: String },
}

/// One mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub name: String,
    pub address: Email,
    /// The language the mail is written in, for `Content-Language`.
    pub language: &'static str,
    pub mail: Mail,
}

/// Everyone `event` is mailed to, and what: the invoice customer (in the dispute's language)
/// when the event concerns them, and the tenant's `owner`, if it has one, always. Each address
/// once.
pub fn outgoing(event: &Event, owner: Option<&Agent>) -> Vec<Outgoing> {
    let mut mails = Vec::new();
    if let (Subject::Invoice(invoice), Some(mail)) = (event.dispute.subject(), customer_mail(event))
    {
        mails.push(Outgoing {
            name: invoice.customer_name().to_owned(),
            address: invoice.customer_email().clone(),
            language: templates::language(invoice.locale().as_str()).code,
            mail,
        });
    }
    if let Some(owner) = owner {
        let already = mails
            .iter()
            .any(|m| same_address(&m.address, owner.email()));
        if let (false, Some(mail)) = (already, owner_notice(event, owner)) {
            mails.push(Outgoing {
                name: owner.name().to_owned(),
                address: owner.email().clone(),
                language: "en",
                mail,
            });
        }
    }
    mails
}

fn same_address(a: &Email, b: &Email) -> bool {
    a.as_str().eq_ignore_ascii_case(b.as_str())
}

/// The `Message-ID` of the mail about `event` to `recipient`: the same on every attempt, so a
/// receiving side can spot a repeat.
pub fn message_id(event: &disputes_ports::EventId, recipient: &Email, domain: &str) -> String {
    let digest = Sha256::digest(recipient.as_str().to_ascii_lowercase().as_bytes());
    format!("<{event}.{}@{domain}>", &hex::encode(digest)[..16])
}

/// Delivers events by email through an SMTP relay.
#[derive(Debug, Clone)]
pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    owners: Arc<dyn CredentialStore>,
    sent: Arc<dyn SentEmails>,
}

impl EmailNotifier {
    /// A notifier that sends through the relay at `smtp_url` as `from`. `smtp://` speaks plain
    /// SMTP (for local relays and tests), `smtp://...?tls=required` STARTTLS and `smtps://`
    /// implicit TLS, both verified against the web PKI roots. Nothing is connected until the
    /// first mail. Call it inside a Tokio runtime: the connection pool runs a task of its own.
    ///
    /// # Errors
    /// When the URL or the sender is malformed.
    pub fn new(
        smtp_url: &str,
        from: &str,
        owners: Arc<dyn CredentialStore>,
        sent: Arc<dyn SentEmails>,
    ) -> Result<Self, EmailConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| EmailConfigError::SmtpUrl {
                // The URL may carry a password: say what is wrong, not what it is.
                url: redact(smtp_url),
                reason: e.to_string(),
            })?
            .timeout(Some(TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| EmailConfigError::From {
                from: from.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(EmailNotifier {
            transport,
            from,
            owners,
            sent,
        })
    }

    /// The mail, ready for the relay.
    fn message(&self, event: &Event, out: &Outgoing) -> Result<Message, NotifyError> {
        let address = out
            .address
            .as_str()
            .parse::<Address>()
            // The same address never parses on a later attempt either.
            .map_err(|e| NotifyError::permanent(format!("{}: {e}", out.address)))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(Some(out.name.clone()), address))
            .subject(out.mail.subject.clone())
            .message_id(Some(message_id(
                &event.id,
                &out.address,
                self.from.email.domain(),
            )))
            .header(ContentType::TEXT_PLAIN)
            // RFC 3834: no vacation replies to a notice.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Content-Language"),
                out.language.to_owned(),
            ))
            .body(out.mail.body.clone())
            .map_err(|e| {
                NotifyError::permanent(format!("writing the mail to {}: {e}", out.address))
            })
    }
}

/// `url` without the password of its user part.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    async fn deliver(&self, event: &Event) -> Result<(), NotifyError> {
        let d = &event.dispute;
        let owner = self
            .owners
            .tenant_owner(d.tenant())
            .await
            .map_err(|e| NotifyError::retry(format!("reading the tenant's owner: {e}")))?;
        let mails = outgoing(event, owner.as_ref());
        if mails.is_empty() {
            // Nothing about this entry is anyone's news.
            return Ok(());
        }
        let had_it: HashSet<String> = self
            .sent
            .sent_for(d.tenant(), &[d.id()])
            .await
            .map_err(|e| NotifyError::retry(format!("reading the sent mail: {e}")))?
            .into_iter()
            .filter(|sent| sent.event == event.id)
            .map(|sent| sent.recipient.to_ascii_lowercase())
            .collect();
        let mut failures = Vec::new();
        for out in mails
            .iter()
            .filter(|out| !had_it.contains(&out.address.as_str().to_ascii_lowercase()))
        {
            let message = match self.message(event, out) {
                Ok(message) => message,
                Err(failure) => {
                    failures.push(failure);
                    continue;
                }
            };
            if let Err(e) = self.transport.send(message).await {
                let reason = format!("mail to {}: {e}", out.address);
                // A 5xx reply is the relay's word that this mail will not go (an unknown
                // mailbox, a refused sender); a 4xx, a dropped connection or a timeout may pass.
                failures.push(if e.is_permanent() {
                    NotifyError::permanent(reason)
                } else {
                    NotifyError::retry(reason)
                });
                continue;
            }
            let sent = SentEmail {
                tenant: d.tenant().clone(),
                dispute: d.id(),
                event: event.id.clone(),
                recipient: out.address.to_string(),
                subject: out.mail.subject.clone(),
                template: out.mail.template.clone(),
                sent_at: chrono::Utc::now(),
            };
            if let Err(e) = self.sent.record_sent(&sent).await {
                // Not recorded: the recipient gets it again, with the same Message-ID.
                failures.push(NotifyError::retry(format!("recording a sent mail: {e}")));
            }
        }
        // Given up on at once only when every recipient still waiting was refused for good;
        // a retry writes only to those who have not had it.
        NotifyError::combine(failures).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_per_event_and_recipient() {
        let event = disputes_ports::EventId::generate();
        let jan = Email::new("e", "jan@example.nl").unwrap();
        let sanne = Email::new("e", "sanne@example.nl").unwrap();
        let id = message_id(&event, &jan, "mail.example");
        assert_eq!(id, message_id(&event, &jan, "mail.example"));
        assert!(id.starts_with(&format!("<{event}.")) && id.ends_with("@mail.example>"));
        assert_ne!(id, message_id(&event, &sanne, "mail.example"));
        assert_ne!(
            id,
            message_id(&disputes_ports::EventId::generate(), &jan, "mail.example")
        );
    }

    fn notifier(url: &str, from: &str) -> Result<EmailNotifier, EmailConfigError> {
        EmailNotifier::new(
            url,
            from,
            Arc::new(disputes_ports::MockCredentialStore::new()),
            Arc::new(disputes_ports::MockSentEmails::new()),
        )
    }

    #[tokio::test]
    async fn plain_starttls_and_tls_relays_are_configured_and_anything_else_refused() {
        let from = "Billink disputes <disputes@billink.example>";
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example:587?tls=required",
            "smtps://user:secret@mail.example:465",
        ] {
            assert!(notifier(url, from).is_ok(), "{url}");
        }
        for url in ["http://mail.example", "smtp://", "mail.example:25", ""] {
            assert!(
                matches!(notifier(url, from), Err(EmailConfigError::SmtpUrl { .. })),
                "{url}"
            );
        }
        let refused = notifier("smtps://user:secret@mail.example:465?tls=bogus", "nobody");
        let Err(EmailConfigError::From { .. }) = refused else {
            panic!("a sender without an address is refused");
        };
        let Err(e) = notifier("ftp://user:secret@mail.example", from) else {
            panic!("ftp is no relay");
        };
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn passwords_in_smtp_urls_are_not_repeated() {
        assert_eq!(
            redact("smtps://user:secret@mail.example:465"),
            "smtps://***@mail.example:465"
        );
        assert_eq!(redact("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
