//! Schemas of the OpenAPI document that every contract's wire types refer to: the names the
//! domain's enums have, read from the domain (its `ALL`), so that a name the domain adds is in the
//! document with nothing else to edit.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// Declares `$schema`, the document's schema of the names of a list of a domain enum's values
/// (its `ALL`, or a narrower list the domain keeps, each `as_str`), under `$name`: a name the
/// domain adds is in the document with nothing else to edit. Only the trait impls are written
/// here; the names come from the domain.
macro_rules! domain_names {
    ($(#[$doc:meta])* $schema:ident = $name:literal, $description:literal, $values:expr) => {
        $(#[$doc])*
        pub struct $schema;

        impl utoipa::PartialSchema for $schema {
            fn schema() -> RefOr<Schema> {
                names_schema($values.iter().map(|v| v.as_str()), $description)
            }
        }

        impl ToSchema for $schema {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

/// A string schema of `names` only.
fn names_schema<'n>(names: impl Iterator<Item = &'n str>, description: &str) -> RefOr<Schema> {
    RefOr::T(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names.collect::<Vec<_>>()))
            .description(Some(description))
            .into(),
    )
}

domain_names!(
    DisputeStatus = "DisputeStatus",
    "The states of a dispute, in every contract.",
    disputes_domain::Status::ALL
);
domain_names!(
    Outcome = "Outcome",
    "How a dispute ended.",
    disputes_domain::Outcome::ALL
);
domain_names!(
    Decision = "Decision",
    "The opener's answer to a response.",
    disputes_domain::Decision::ALL
);
domain_names!(
    TimelineKind = "DeliveryTimelineKind",
    "What happened in a timeline entry (`reminder`: the engine reminded whoever must act that `respondBy` is near).",
    disputes_domain::EntryKind::ALL
);

domain_names!(
    TicketStatus = "InvoiceFreshDeskTicketStatus",
    "A Freshdesk ticket's state, by Freshdesk's names.",
    disputes_ports::TicketStatus::ALL
);

domain_names!(
    DeliveryOutcome = "DeliveryOutcomeRequest",
    "How an operator resolves a dispute.",
    disputes_domain::Outcome::CHOSEN_BY_A_PARTY
);
domain_names!(
    InvoiceOutcome = "InvoiceOutcomeRequest",
    "How a dispute is resolved.",
    disputes_domain::Outcome::CHOSEN_BY_A_PARTY
);
