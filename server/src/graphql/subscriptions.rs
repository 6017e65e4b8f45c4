//! `seats(eventUuid)`: the live seat numbers an event page shows, over a WebSocket speaking
//! graphql-ws (`graphql-transport-ws`, or the older `graphql-ws`) at `GET /graphql`.
//!
//! The numbers come from the same hub as the pages' server-sent stream
//! ([`crate::live::SeatChanges`]): one read per change however many watch, a share of open
//! streams per client address, and every stream ends when the server stops. Seat numbers of
//! published events are public, so a subscription needs no sign-in, and the socket carries no
//! session: a page of another site opening it learns nothing a visitor could not.
use super::errors::OrGql;
use crate::live::SeatChanges;
use app::bookings::LiveSeats;
use app::ssr::Services;
use async_graphql::{Context, ID, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use std::net::IpAddr;
use std::sync::Arc;

/// What a subscription needs besides the ports: the seat hub and the client's address (its
/// streams count against that address's share).
#[derive(Clone)]
pub struct Live {
    pub hub: Arc<SeatChanges>,
    pub ip: IpAddr,
}

/// The seats of one event at one moment.
#[derive(SimpleObject)]
pub struct Seats {
    pub event_uuid: uuid::Uuid,
    /// Seats still free to book.
    pub remaining: i64,
    /// Seats held by confirmed registrations.
    pub confirmed: i64,
    /// Seats the waitlist asks for.
    pub waitlisted: i64,
    /// Seats left per ticket type, in the event's order.
    pub ticket_types: Vec<TicketTypeSeats>,
}

/// Seats left of one ticket type.
#[derive(SimpleObject)]
pub struct TicketTypeSeats {
    pub id: ID,
    pub remaining: i64,
}

impl Seats {
    fn new(event_uuid: uuid::Uuid, seats: &LiveSeats) -> Self {
        Seats {
            event_uuid,
            remaining: seats.remaining,
            confirmed: seats.confirmed,
            waitlisted: seats.waitlisted,
            ticket_types: seats
                .types
                .iter()
                .map(|(id, remaining)| TicketTypeSeats {
                    id: ID(id.to_string()),
                    remaining: *remaining,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// The seat numbers of a published event: the current ones at once, then after every
    /// booking, cancellation or promotion from the waitlist that changed them (a burst within a
    /// quarter second is one change). `NOT_FOUND` for an event visitors cannot see;
    /// `RATE_LIMITED` when the client's address holds its share of open streams.
    async fn seats(
        &self,
        ctx: &Context<'_>,
        event_uuid: uuid::Uuid,
    ) -> async_graphql::Result<impl Stream<Item = Seats> + use<>> {
        let services = ctx.data::<Services>()?;
        let live = ctx.data::<Live>()?;
        let entry = services
            .event_queries
            .get_event_entry(None, &event_uuid.to_string())
            .await
            .gql()?;
        let stream = live.hub.follow(live.ip, entry.item.id.get()).await.gql()?;
        Ok(stream.map(move |seats| Seats::new(event_uuid, &seats)))
    }
}
