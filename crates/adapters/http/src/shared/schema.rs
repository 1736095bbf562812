//! Schemas of the OpenAPI document that every contract's wire types refer to: the names the
//! domain's enums have, read from the domain (its `ALL`), so that a name the domain adds is in the
//! document with nothing else to edit.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// Declares `$schema`, the document's schema of the names a domain enum has (its `ALL`, each
/// `as_str`), under `$name`: a name the domain adds is in the document with nothing else to edit.
/// Only the trait impls are written here; the names come from the domain.
macro_rules! domain_names {
    ($(#[$doc:meta])* $schema:ident = $name:literal, $description:literal, $domain:ty) => {
        $(#[$doc])*
        pub struct $schema;

        impl utoipa::PartialSchema for $schema {
            fn schema() -> RefOr<Schema> {
                names_schema(<$domain>::ALL.iter().map(|v| v.as_str()), $description)
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
    disputes_domain::Status
);
domain_names!(
    Outcome = "Outcome",
    "How a dispute ended.",
    disputes_domain::Outcome
);
domain_names!(
    Decision = "Decision",
    "The opener's answer to a response.",
    disputes_domain::Decision
);
domain_names!(
    TimelineKind = "DeliveryTimelineKind",
    "What happened in a timeline entry (`reminder`: the engine reminded whoever must act that `respondBy` is near).",
    disputes_domain::EntryKind
);

domain_names!(
    TicketStatus = "InvoiceFreshDeskTicketStatus",
    "A Freshdesk ticket's state, by Freshdesk's names.",
    disputes_ports::TicketStatus
);
