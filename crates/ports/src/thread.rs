use std::sync::Arc;

use disputes_domain::{
    Attachment, Digest, Dispute, DisputeId, MessageText, NewMessage, Role, SubjectKind,
};

use crate::{BlobStore, Conditions, DisputeService, OpenRequest, Principal, ServiceError};

/// A file as a caller sent it: the domain's description of it, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub attachment: Attachment,
    pub bytes: Vec<u8>,
}

impl File {
    /// Describes `bytes` named `name`; the domain refuses names, types and contents it does not
    /// accept (see [`Attachment::inspect`]).
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Result<Self, ServiceError> {
        let attachment = Attachment::inspect(name, &bytes)?;
        Ok(File { attachment, bytes })
    }
}

/// The use cases of a dispute's thread: messages with files, whose bytes go to the blob store and
/// whose descriptions go to the dispute.
#[derive(Debug, Clone)]
pub struct ThreadService {
    disputes: DisputeService,
    blobs: Arc<dyn BlobStore>,
}

impl ThreadService {
    pub fn new(disputes: DisputeService, blobs: Arc<dyn BlobStore>) -> Self {
        ThreadService { disputes, blobs }
    }

    /// Opens a dispute whose thread starts with `text` and, optionally, `file`.
    ///
    /// The file is stored first: a dispute must never refer to bytes that are not there. Should
    /// the opening then fail (a duplicate, say), the blob stays behind unreferenced; it is
    /// content-addressed, so a retry stores nothing new.
    pub async fn open(
        &self,
        by: &Principal,
        request: OpenRequest,
        text: MessageText,
        file: Option<File>,
    ) -> Result<Dispute, ServiceError> {
        let attachment = self.keep(by, file).await?;
        self.disputes
            .open_with_message(by, request, NewMessage { text, attachment }, None)
            .await
    }

    /// Adds `text` and, optionally, `file` to the thread of one of the caller's disputes, written
    /// as `author` (see [`DisputeService::post_message`]).
    pub async fn post(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        author: Role,
        text: MessageText,
        file: Option<File>,
    ) -> Result<Dispute, ServiceError> {
        // Refuse what would fail anyway before storing a file for it.
        self.disputes.get(by, id, kind).await?;
        let attachment = self.keep(by, file).await?;
        self.disputes
            .post_message(
                by,
                id,
                kind,
                Conditions::default(),
                author,
                NewMessage { text, attachment },
            )
            .await
    }

    /// A file attached to a message of one of the caller's disputes, and its bytes. Only files
    /// that a message of that dispute refers to are served, so knowing a digest is not enough.
    ///
    /// `None` when the dispute has no such file.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when the caller's tenant has no such dispute;
    /// [`ServiceError::Internal`] when the blob store lost a file a dispute refers to.
    pub async fn attachment(
        &self,
        by: &Principal,
        id: DisputeId,
        kind: SubjectKind,
        sha256: Digest,
    ) -> Result<Option<File>, ServiceError> {
        let dispute = self.disputes.get(by, id, kind).await?;
        let Some(attachment) = dispute
            .messages()
            .iter()
            .filter_map(|m| m.attachment())
            .find(|a| a.sha256() == sha256)
            .cloned()
        else {
            return Ok(None);
        };
        let bytes = self.blobs.get(&by.tenant, sha256).await?.ok_or_else(|| {
            ServiceError::Internal(format!(
                "dispute {id} of {} refers to blob {sha256}, which the blob store lacks",
                by.tenant
            ))
        })?;
        Ok(Some(File { attachment, bytes }))
    }

    async fn keep(
        &self,
        by: &Principal,
        file: Option<File>,
    ) -> Result<Option<Attachment>, ServiceError> {
        let Some(File { attachment, bytes }) = file else {
            return Ok(None);
        };
        let stored = self.blobs.put(&by.tenant, bytes).await?;
        if stored != attachment.sha256() {
            return Err(ServiceError::Internal(format!(
                "the blob store filed {} under {stored}",
                attachment.sha256()
            )));
        }
        Ok(Some(attachment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, MockBlobStore, MockDisputeRepository, StoreError};
    use chrono::{TimeZone, Utc};
    use disputes_domain::{
        Actor, ActorId, Claim, DisputePolicy, EvidenceBundle, InvoiceSubject, OpenDispute,
        Quantity, Subject, TenantId,
    };

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest";

    fn client() -> Principal {
        Principal {
            tenant: TenantId::new("acme").unwrap(),
            actor: Actor::new(ActorId::new("shop").unwrap(), Role::Client),
        }
    }

    fn request() -> OpenRequest {
        OpenRequest {
            subject: Subject::Invoice(
                InvoiceSubject::new("INV-1", "Jan", "jan@example.nl", "damaged", "nl").unwrap(),
            ),
            claim: Claim::new(Quantity::whole_invoice()),
            evidence: EvidenceBundle::default(),
            opened_by: None,
        }
    }

    fn text(t: &str) -> MessageText {
        MessageText::new("message", t).unwrap()
    }

    fn stored(with_file: bool) -> Dispute {
        let file = with_file.then(|| Attachment::inspect("a.png", PNG).unwrap());
        let command = OpenDispute {
            tenant: client().tenant,
            subject: request().subject,
            claim: request().claim,
            opened_by: client().actor,
            evidence: EvidenceBundle::default(),
        };
        let message = NewMessage {
            text: text("kapot"),
            attachment: file,
        };
        Dispute::open_with_message(command, message, Utc::now(), &DisputePolicy::default())
            .unwrap()
            .into_dispute(DisputeId::new(3).unwrap())
    }

    fn service(repo: MockDisputeRepository, blobs: MockBlobStore) -> ThreadService {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        let disputes =
            DisputeService::new(Arc::new(repo), Arc::new(clock), DisputePolicy::default());
        ThreadService::new(disputes, Arc::new(blobs))
    }

    #[tokio::test]
    async fn a_file_is_stored_before_the_dispute_that_refers_to_it() {
        let mut seq = mockall::Sequence::new();
        let mut blobs = MockBlobStore::new();
        blobs
            .expect_put()
            .withf(|tenant, bytes| tenant.as_str() == "acme" && bytes == PNG)
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, bytes| Ok(Digest::of(&bytes)));
        let mut repo = MockDisputeRepository::new();
        repo.expect_create()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|new, _| Ok(new.into_dispute(DisputeId::new(1).unwrap())));
        let file = File::new("a.png", PNG.to_vec()).unwrap();
        let d = service(repo, blobs)
            .open(&client(), request(), text("kapot"), Some(file))
            .await
            .unwrap();
        assert_eq!(
            d.messages()[0].attachment().unwrap().sha256(),
            Digest::of(PNG)
        );
    }

    #[tokio::test]
    async fn a_store_fault_stores_no_dispute() {
        let mut blobs = MockBlobStore::new();
        blobs
            .expect_put()
            .returning(|_, _| Err(StoreError::Unavailable("disk gone".into())));
        let repo = MockDisputeRepository::new(); // any call would panic
        let file = File::new("a.png", PNG.to_vec()).unwrap();
        let err = service(repo, blobs)
            .open(&client(), request(), text("kapot"), Some(file))
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Unavailable(_)));
    }

    #[tokio::test]
    async fn a_client_relays_its_customer_but_may_not_write_as_the_provider_of_another_role() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored(false))));
        repo.expect_update().times(1).returning(|_, _, _| Ok(()));
        let svc = service(repo, MockBlobStore::new());
        let id = DisputeId::new(3).unwrap();
        let d = svc
            .post(
                &client(),
                id,
                SubjectKind::Invoice,
                Role::Customer,
                text("ja"),
                None,
            )
            .await
            .unwrap();
        assert_eq!(d.messages()[1].author().role, Role::Customer);
        assert_eq!(d.messages()[1].author().id.as_str(), "shop");
        let err = svc
            .post(
                &client(),
                id,
                SubjectKind::Invoice,
                Role::Operator,
                text("x"),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ServiceError::Domain(disputes_domain::DomainError::RoleNotPermitted { .. })
        ));
    }

    #[tokio::test]
    async fn only_files_the_dispute_refers_to_are_served() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored(true))));
        let mut blobs = MockBlobStore::new();
        blobs
            .expect_get()
            .withf(|tenant, sha| tenant.as_str() == "acme" && *sha == Digest::of(PNG))
            .returning(|_, _| Ok(Some(PNG.to_vec())));
        let svc = service(repo, blobs);
        let id = DisputeId::new(3).unwrap();
        let file = svc
            .attachment(&client(), id, SubjectKind::Invoice, Digest::of(PNG))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(file.bytes, PNG);
        assert_eq!(file.attachment.name(), "a.png");
        let other = svc
            .attachment(&client(), id, SubjectKind::Invoice, Digest::of(b"other"))
            .await;
        assert!(matches!(other, Ok(None)));
    }

    #[tokio::test]
    async fn a_file_lost_by_the_blob_store_is_our_fault() {
        let mut repo = MockDisputeRepository::new();
        repo.expect_get().returning(|_, _| Ok(Some(stored(true))));
        let mut blobs = MockBlobStore::new();
        blobs.expect_get().returning(|_, _| Ok(None));
        let err = service(repo, blobs)
            .attachment(
                &client(),
                DisputeId::new(3).unwrap(),
                SubjectKind::Invoice,
                Digest::of(PNG),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Internal(_)));
    }
}
