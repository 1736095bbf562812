//! The invoice desk: the use cases of the invoice contract (seed 003), each answering with what
//! that contract shows of a dispute.

use std::sync::Arc;

use disputes_domain::{
    Agent, Claim, Digest, Dispute, DisputeId, MessageText, Outcome, Role, Settlement, Subject,
    SubjectKind,
};
use rust_decimal::Decimal;

use crate::{
    Conditions, CredentialService, DisputeService, File, ListQuery, OpenRequest, PageSize,
    Principal, SentEmail, SentEmails, ServiceError, ThreadService, Ticket, TicketStore,
};

/// The disputes this desk serves.
const KIND: SubjectKind = SubjectKind::Invoice;

/// An invoice dispute with what the invoice contract shows beside it: the tenant's owner (who
/// handles it), the mail sent about it, oldest first, and its help-desk ticket once there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    pub dispute: Dispute,
    pub owner: Option<Agent>,
    pub emails: Vec<SentEmail>,
    pub ticket: Option<Ticket>,
}

/// One page of a listing: newest first, and where the next page starts when more may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePage {
    pub disputes: Vec<InvoiceView>,
    pub next: Option<DisputeId>,
}

/// A dispute about an invoice as a client opens it: the invoice and its customer, the disputed
/// part (or the whole invoice, [`disputes_domain::Quantity::whole_invoice`]) and the first
/// message of its thread, optionally with a file.
#[derive(Debug)]
pub struct InvoiceOpening {
    pub subject: Subject,
    pub claim: Claim,
    pub text: MessageText,
    pub file: Option<File>,
}

/// Which of the caller's invoice disputes a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvoiceListing {
    /// Only final disputes (`true`), only running ones (`false`), or all.
    pub resolved: Option<bool>,
    pub limit: PageSize,
    /// The page after this dispute (the previous page's [`InvoicePage::next`]).
    pub after: Option<DisputeId>,
}

/// The invoice contract's use cases: a merchant's client login opens a dispute about one of its
/// invoices with a first message, relays messages between itself and its customer, resolves it
/// with a credit, and reads it back. Every answer is an [`InvoiceView`].
#[derive(Debug, Clone)]
pub struct InvoiceDesk {
    disputes: DisputeService,
    messages: ThreadService,
    credentials: CredentialService,
    sent_emails: Arc<dyn SentEmails>,
    tickets: Arc<dyn TicketStore>,
}

impl InvoiceDesk {
    pub fn new(
        disputes: DisputeService,
        messages: ThreadService,
        credentials: CredentialService,
        sent_emails: Arc<dyn SentEmails>,
        tickets: Arc<dyn TicketStore>,
    ) -> Self {
        InvoiceDesk {
            disputes,
            messages,
            credentials,
            sent_emails,
            tickets,
        }
    }

    /// Opens a dispute about an invoice whose thread starts with the opening's message (see
    /// [`ThreadService::open`]).
    ///
    /// # Errors
    /// As [`DisputeService::open`], and what storing the file reports.
    pub async fn open(
        &self,
        by: &Principal,
        opening: InvoiceOpening,
    ) -> Result<InvoiceView, ServiceError> {
        let InvoiceOpening {
            subject,
            claim,
            text,
            file,
        } = opening;
        let request = OpenRequest {
            subject,
            claim,
            evidence: Default::default(),
            opened_by: None,
        };
        let dispute = self.messages.open(by, request, text, file).await?;
        self.view(by, dispute).await
    }

    /// Adds a message, written as `author` (the client itself or the customer it relays), and
    /// optionally a file, to one of the caller's invoice disputes (see [`ThreadService::post`]).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the caller has no such invoice dispute; domain errors for
    /// a final dispute or an author the caller may not write as.
    pub async fn post(
        &self,
        by: &Principal,
        id: DisputeId,
        author: Role,
        text: MessageText,
        file: Option<File>,
    ) -> Result<InvoiceView, ServiceError> {
        let dispute = self.messages.post(by, id, KIND, author, text, file).await?;
        self.view(by, dispute).await
    }

    /// Resolves one of the caller's invoice disputes with `outcome`, the `credit` given (if
    /// any) and `text`, the message that closes the thread. One read-apply-write: whether the
    /// credit fits the outcome and the claim is the domain's rule (`Dispute::settle`).
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the caller has no such invoice dispute; domain errors for
    /// a dispute that cannot be settled now and for a credit that does not fit.
    pub async fn resolve(
        &self,
        by: &Principal,
        id: DisputeId,
        outcome: Outcome,
        credit: Option<Decimal>,
        text: MessageText,
    ) -> Result<InvoiceView, ServiceError> {
        let settlement = Settlement {
            outcome: Some(outcome),
            settled_amount: credit,
            notes: text.as_str().to_owned(),
            ..Settlement::default()
        };
        let dispute = self
            .disputes
            .settle(by, id, KIND, Conditions::default(), settlement)
            .await?;
        self.view(by, dispute).await
    }

    /// One of the caller's invoice disputes.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the caller has no such invoice dispute.
    pub async fn get(&self, by: &Principal, id: DisputeId) -> Result<InvoiceView, ServiceError> {
        let dispute = self.disputes.get(by, id, KIND).await?;
        self.view(by, dispute).await
    }

    /// A page of the caller's invoice disputes, newest first. The owner, the mail and the
    /// tickets are read once for the whole page, not once per dispute.
    ///
    /// # Errors
    /// When a store cannot be read.
    pub async fn list(
        &self,
        by: &Principal,
        listing: InvoiceListing,
    ) -> Result<InvoicePage, ServiceError> {
        let query = ListQuery {
            kind: Some(KIND),
            resolved: listing.resolved,
            limit: listing.limit,
            after: listing.after,
            ..ListQuery::default()
        };
        let page = self.disputes.list(by, &query).await?;
        let owner = self.credentials.owner(&by.tenant).await?;
        let ids = page.disputes.iter().map(Dispute::id).collect::<Vec<_>>();
        let emails = self.sent_emails.sent_for(&by.tenant, &ids).await?;
        let tickets = self.tickets.tickets(&by.tenant, &ids).await?;
        let disputes = page
            .disputes
            .into_iter()
            .map(|dispute| InvoiceView {
                owner: owner.clone(),
                emails: emails
                    .iter()
                    .filter(|mail| mail.dispute == dispute.id())
                    .cloned()
                    .collect(),
                ticket: tickets.iter().find(|t| t.dispute == dispute.id()).cloned(),
                dispute,
            })
            .collect();
        Ok(InvoicePage {
            disputes,
            next: page.next,
        })
    }

    /// A file that a message of one of the caller's invoice disputes refers to, and its bytes
    /// (see [`ThreadService::attachment`]); `None` when the dispute has no such file.
    ///
    /// # Errors
    /// As [`ThreadService::attachment`].
    pub async fn attachment(
        &self,
        by: &Principal,
        id: DisputeId,
        sha256: Digest,
    ) -> Result<Option<File>, ServiceError> {
        self.messages.attachment(by, id, KIND, sha256).await
    }

    /// `dispute` with its tenant's owner, its mail and its ticket.
    async fn view(&self, by: &Principal, dispute: Dispute) -> Result<InvoiceView, ServiceError> {
        let owner = self.credentials.owner(&by.tenant).await?;
        let emails = self
            .sent_emails
            .sent_for(&by.tenant, &[dispute.id()])
            .await?;
        let ticket = self.tickets.ticket(&by.tenant, dispute.id()).await?;
        Ok(InvoiceView {
            dispute,
            owner,
            emails,
            ticket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        EventId, ManualClock, MockBlobStore, MockCredentialStore, MockDisputeRepository,
        MockSentEmails, MockTicketStore, Page, TicketStatus,
    };
    use chrono::{TimeZone, Utc};
    use disputes_domain::{
        Actor, ActorId, DisputePolicy, EvidenceBundle, InvoiceSubject, NewMessage, OpenDispute,
        Quantity, TenantId,
    };

    fn client() -> Principal {
        Principal {
            tenant: TenantId::new("acme").unwrap(),
            actor: Actor::new(ActorId::new("shop").unwrap(), Role::Client),
        }
    }

    fn id(n: i64) -> DisputeId {
        DisputeId::new(n).unwrap()
    }

    fn text(t: &str) -> MessageText {
        MessageText::new("message", t).unwrap()
    }

    /// Dispute `n`, about the whole invoice `INV-<n>`, as a client written to the seed opens it.
    fn stored(n: i64) -> Dispute {
        let subject =
            InvoiceSubject::new(format!("INV-{n}"), "Jan", "jan@example.nl", "damaged", "nl")
                .unwrap();
        let command = OpenDispute {
            tenant: client().tenant,
            subject: Subject::Invoice(subject),
            claim: Claim::new(Quantity::whole_invoice()),
            opened_by: client().actor,
            evidence: EvidenceBundle::default(),
        };
        let message = NewMessage {
            text: text("kapot"),
            attachment: None,
        };
        Dispute::open_with_message(command, message, Utc::now(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(id(n))
    }

    fn mail(dispute: i64, template: &str) -> SentEmail {
        SentEmail {
            tenant: client().tenant,
            dispute: id(dispute),
            event: EventId::generate(),
            recipient: "jan@example.nl".into(),
            subject: "Uw geschil".into(),
            template: template.into(),
            sent_at: at(),
        }
    }

    fn at() -> disputes_domain::Timestamp {
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()
    }

    fn ticket(dispute: i64) -> Ticket {
        Ticket {
            tenant: client().tenant,
            dispute: id(dispute),
            id: 100 + dispute,
            url: format!("https://desk.example/a/tickets/{}", 100 + dispute),
            status: TicketStatus::Open,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn owner() -> Agent {
        Agent::new("Sanne Bakker", "sanne@billink.example").unwrap()
    }

    /// A tenant whose owner is [`owner`], asked at most `times` times.
    fn credentials(times: usize) -> CredentialService {
        let mut store = MockCredentialStore::new();
        store
            .expect_tenant_owner()
            .times(times)
            .returning(|_| Ok(Some(owner())));
        let clock = Arc::new(ManualClock::new(Utc::now()));
        CredentialService::new(Arc::new(store), clock)
    }

    fn desk(
        repo: MockDisputeRepository,
        credentials: CredentialService,
        sent: MockSentEmails,
        tickets: MockTicketStore,
    ) -> InvoiceDesk {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        let disputes =
            DisputeService::new(Arc::new(repo), Arc::new(clock), DisputePolicy::default());
        // No test here stores or reads a file: any call to this blob store would panic.
        let messages = ThreadService::new(disputes.clone(), Arc::new(MockBlobStore::new()));
        InvoiceDesk::new(
            disputes,
            messages,
            credentials,
            Arc::new(sent),
            Arc::new(tickets),
        )
    }

    #[tokio::test]
    async fn resolving_reads_once_writes_once_and_answers_with_the_mail_and_the_ticket() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get()
            .times(1)
            .returning(|_, _| Ok(Some(stored(3))));
        repo.expect_update().times(1).returning(|_, _, _| Ok(()));
        let mut sent = MockSentEmails::new();
        sent.expect_sent_for()
            .withf(|tenant, ids| tenant.as_str() == "acme" && ids == [id(3)])
            .times(1)
            .returning(|_, _| Ok(vec![mail(3, "customer_opened.nl")]));
        let mut tickets = MockTicketStore::new();
        tickets
            .expect_ticket()
            .withf(|_, dispute| *dispute == id(3))
            .times(1)
            .returning(|_, _| Ok(Some(ticket(3))));
        let view = desk(repo, credentials(1), sent, tickets)
            .resolve(
                &client(),
                id(3),
                Outcome::PartiallyGranted,
                Some("10".parse().unwrap()),
                text("Eén lamp gecrediteerd."),
            )
            .await
            .unwrap();
        let resolution = view.dispute.resolution().unwrap();
        // A whole-invoice dispute takes the credit as stated (the domain's rule).
        assert_eq!(resolution.settled_amount.to_string(), "10");
        assert_eq!(resolution.notes, "Eén lamp gecrediteerd.");
        assert_eq!(view.owner, Some(owner()));
        let mails = view
            .emails
            .iter()
            .map(|m| (m.dispute, m.template.as_str()))
            .collect::<Vec<_>>();
        assert_eq!(mails, [(id(3), "customer_opened.nl")]);
        assert_eq!(view.ticket, Some(ticket(3)));
    }

    #[tokio::test]
    async fn a_refused_resolution_writes_nothing_and_reads_nothing_beside_the_dispute() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get()
            .times(1)
            .returning(|_, _| Ok(Some(stored(3))));
        // No update, no mail, no ticket, no owner: any call to them would panic.
        let err = desk(
            repo,
            credentials(0),
            MockSentEmails::new(),
            MockTicketStore::new(),
        )
        .resolve(&client(), id(3), Outcome::PartiallyGranted, None, text("x"))
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Domain(disputes_domain::DomainError::PartialAmountMissing(_))
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_page_reads_the_mail_and_the_tickets_once_and_gives_each_dispute_its_own() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_list()
            .withf(|_, q| {
                q.kind == Some(SubjectKind::Invoice)
                    && q.resolved == Some(false)
                    && q.after == Some(id(9))
                    && q.limit.get() == 2
            })
            .times(1)
            .returning(|_, _| {
                Ok(Page {
                    disputes: vec![stored(8), stored(7)],
                    next: Some(id(7)),
                })
            });
        let mut sent = MockSentEmails::new();
        sent.expect_sent_for()
            .withf(|_, ids| ids == [id(8), id(7)])
            .times(1)
            .returning(|_, _| {
                Ok(vec![
                    mail(7, "customer_opened.nl"),
                    mail(8, "customer_opened.nl"),
                    mail(7, "party_notice"),
                ])
            });
        let mut tickets = MockTicketStore::new();
        tickets
            .expect_tickets()
            .withf(|_, ids| ids == [id(8), id(7)])
            .times(1)
            .returning(|_, _| Ok(vec![ticket(7)]));
        let listing = InvoiceListing {
            resolved: Some(false),
            limit: PageSize::new(2).unwrap(),
            after: Some(id(9)),
        };
        let page = desk(repo, credentials(1), sent, tickets)
            .list(&client(), listing)
            .await
            .unwrap();
        assert_eq!(page.next, Some(id(7)));
        let [eight, seven] = &page.disputes[..] else {
            panic!("two disputes: {page:?}")
        };
        assert_eq!(eight.dispute.id(), id(8));
        assert_eq!(eight.emails.len(), 1);
        assert_eq!(eight.ticket, None);
        let templates = seven
            .emails
            .iter()
            .map(|m| m.template.as_str())
            .collect::<Vec<_>>();
        assert_eq!(templates, ["customer_opened.nl", "party_notice"]);
        assert_eq!(seven.ticket, Some(ticket(7)));
        assert!(page.disputes.iter().all(|v| v.owner == Some(owner())));
    }

    #[tokio::test]
    async fn a_dispute_of_another_kind_is_not_found_at_the_invoice_desk() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        let err = desk(
            repo,
            credentials(0),
            MockSentEmails::new(),
            MockTicketStore::new(),
        )
        .get(&client(), id(5))
        .await
        .unwrap_err();
        assert!(matches!(err, ServiceError::NotFound), "{err:?}");
    }
}
