//! Ids that cannot be swapped: each table's id is its own type, so a call that passes an event
//! id where a user id belongs does not compile. On the wire each is a plain number
//! (`#[serde(transparent)]`); the app crate stays free of sqlx, so the server converts at the
//! row (`EventId::from(row.id)`, `id.get()`). In the server build each has an OpenAPI schema: an
//! integer, as serde writes it (the REST API's own DTOs write ids as strings).
//!
//! Tickets have no id type on purpose: nothing outside the database addresses a ticket by its
//! row id. A ticket is found by its code (128 random bits, the secret in the QR code) or by its
//! signed token, both strings that cannot be confused with a number.
use serde::{Deserialize, Serialize};

/// Declares the id newtypes: a macro because the five are identical but for their names.
macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            /// The number the database and the URLs use.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    )*};
}

ids! {
    /// A user account (`users.id`).
    UserId;
    /// An event (`events.id`).
    EventId;
    /// A ticket type of an event (`ticket_types.id`).
    TicketTypeId;
    /// A registration: one booking of a group of seats (`registrations.id`).
    RegistrationId;
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn ids_are_integers_in_the_openapi_schema() {
        let schema = <super::EventId as utoipa::PartialSchema>::schema();
        let schema = serde_json::to_value(schema).expect("a schema is JSON");
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["format"], "int64");
    }
}
