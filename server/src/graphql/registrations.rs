//! `myRegistrations`: the signed-in account's bookings as a Relay connection, newest first,
//! with the event each is for. One port call (`my_registrations`, the list `/me` shows) per
//! request; the cursor is the registration's place in that order (booked at, id), so a window
//! read after a new booking starts right after the last registration read.
use super::errors::{OrGql, gql};
use super::events::{Category, EventStatus, PageInfo, caller, require};
use super::mutations::Registration;
use app::auth::Role;
use app::bookings::MyRegistration as Booking;
use app::error::{AppError, Problem};
use app::events::rules::PER_PAGE_MAX;
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many registrations a connection holds when neither `first` nor `last` is given.
const DEFAULT_SIZE: i32 = 20;

/// The event a registration is for, as a booking list shows it.
#[derive(SimpleObject)]
pub struct BookedEvent {
    pub uuid: uuid::Uuid,
    pub title: String,
    pub category: Category,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The venue's IANA time zone.
    pub timezone: String,
    pub venue: String,
    pub city: String,
    pub status: EventStatus,
    pub image_url: Option<String>,
}

/// One of the caller's registrations and its event.
#[derive(SimpleObject)]
pub struct MyRegistration {
    pub registration: Registration,
    pub event: BookedEvent,
}

#[derive(SimpleObject)]
pub struct MyRegistrationEdge {
    /// Pass as `after` (or `before`) to read on from this registration.
    pub cursor: String,
    pub node: MyRegistration,
}

#[derive(SimpleObject)]
pub struct MyRegistrationConnection {
    pub edges: Vec<MyRegistrationEdge>,
    pub page_info: PageInfo,
    /// How many registrations the account has (the latest 500 by event date), cancelled ones
    /// included.
    pub total_count: i64,
}

/// A registration's place in the list: booked at, then id (both descending).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    at: DateTime<Utc>,
    id: i64,
}

fn place(b: &Booking) -> Place {
    Place {
        at: b.registration.created_at,
        id: b.registration.id.get(),
    }
}

fn cursor(p: &Place) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&serde_json::to_vec(p).unwrap_or_default())
}

fn read_cursor(field: &str, text: &str) -> Result<Place, AppError> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.as_bytes())
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| {
            AppError::field(
                field,
                Problem::Malformed {
                    detail: format!("{field} is not a cursor this API gave"),
                },
            )
        })
}

fn size(field: &str, n: i32) -> Result<usize, AppError> {
    app::events::rules::check_range(n.into(), 1, PER_PAGE_MAX)
        .map_err(|problem| AppError::field(field, problem))?;
    Ok(usize::try_from(n).unwrap_or(1))
}

/// The window of `all` (newest first) that Relay's arguments name, and the page facts.
fn window(
    mut all: Vec<Booking>,
    first: Option<i32>,
    after: Option<&str>,
    last: Option<i32>,
    before: Option<&str>,
) -> Result<(Vec<Booking>, PageInfo, i64), AppError> {
    if first.is_some() && last.is_some() {
        return Err(AppError::field(
            "last",
            Problem::Malformed {
                detail: "give first or last, not both".into(),
            },
        ));
    }
    let first = first.map(|n| size("first", n)).transpose()?;
    let last = last.map(|n| size("last", n)).transpose()?;
    let after = after.map(|c| read_cursor("after", c)).transpose()?;
    let before = before.map(|c| read_cursor("before", c)).transpose()?;
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    all.sort_by_key(|b| std::cmp::Reverse(place(b)));
    // Newest first: "after" a place means older than it.
    all.retain(|b| {
        let p = place(b);
        after.is_none_or(|a| p < a) && before.is_none_or(|b| p > b)
    });
    let (has_next, has_previous);
    if let Some(n) = last {
        has_previous = all.len() > n;
        let skip = all.len().saturating_sub(n);
        all.drain(..skip);
        has_next = before.is_some();
    } else {
        let n = first.unwrap_or(DEFAULT_SIZE as usize);
        has_next = all.len() > n;
        all.truncate(n);
        has_previous = after.is_some();
    }
    let page_info = PageInfo {
        has_next_page: has_next,
        has_previous_page: has_previous,
        start_cursor: all.first().map(|b| cursor(&place(b))),
        end_cursor: all.last().map(|b| cursor(&place(b))),
    };
    Ok((all, page_info, total))
}

#[derive(Default)]
pub struct RegistrationQuery;

#[Object]
impl RegistrationQuery {
    /// The signed-in account's registrations, newest first, a window at a time: `first` after
    /// `after`, or `last` before `before` (at most 100; 20 when neither is given).
    #[graphql(
        complexity = "(first.or(last).unwrap_or(DEFAULT_SIZE).clamp(1, 100) as usize) * child_complexity"
    )]
    async fn my_registrations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MyRegistrationConnection> {
        let (caller, services) = caller(ctx)?;
        let user = require(caller, Role::User).gql()?;
        let all = services
            .booking_queries
            .my_registrations(&user)
            .await
            .gql()?;
        let (page, page_info, total_count) =
            window(all, first, after.as_deref(), last, before.as_deref()).gql()?;
        let edges = page
            .into_iter()
            .map(|b| {
                let cursor = cursor(&place(&b));
                let e = b.event;
                Ok(MyRegistrationEdge {
                    cursor,
                    node: MyRegistration {
                        registration: b.registration.into(),
                        event: BookedEvent {
                            uuid: uuid::Uuid::parse_str(&e.uuid)
                                .map_err(|err| gql(app::ssr::internal(err)))?,
                            title: e.title,
                            category: e.category.into(),
                            starts_at: e.starts_at,
                            ends_at: e.ends_at,
                            timezone: e.timezone,
                            venue: e.venue,
                            city: e.city,
                            status: e.status.into(),
                            image_url: e.image_url,
                        },
                    },
                })
            })
            .collect::<async_graphql::Result<Vec<_>>>()?;
        Ok(MyRegistrationConnection {
            edges,
            page_info,
            total_count,
        })
    }
}
