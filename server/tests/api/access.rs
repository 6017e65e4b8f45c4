//! Issue #14's access matrix: every server function, every REST route and the downloads the
//! REST handlers serve to pages, each called by a visitor, a user, a blocked user, the
//! organizer who owns the event, another organizer and an admin, with the answer the rules give
//! each (`check_role`, `can_manage` / `can_see`, the booking and admin rules, API.md).
//!
//! Server functions are called with the session cookie, REST with a bearer token, downloads
//! with the cookie. A blocked user was blocked after signing in: the pages treat them as signed
//! out (their session is ended), the API refuses their token (`403`). A write that uses up its
//! target (cancel, delete, decide, check in…) gets a fresh one per actor, so each cell checks
//! the permission and not what an earlier cell left behind.
//!
//! The table must name every server function the app registers and every operation of the
//! OpenAPI document: a new one without a row fails here.
use super::{Reply, TestApp};
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::{Role, UserView};
use app::events::EventId;
use axum::body::Body;
use axum::http::{Method, Request, header};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const PASSWORD: &str = "granite-lily-42";

/// The six callers, in the order of each row's expected answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Visitor,
    User,
    Blocked,
    Owner,
    Other,
    Admin,
}

const ACTORS: [Actor; 6] = [
    Actor::Visitor,
    Actor::User,
    Actor::Blocked,
    Actor::Owner,
    Actor::Other,
    Actor::Admin,
];

/// One caller's account and credentials (none for the visitor).
struct Caller {
    user: Option<UserView>,
    bearer: Option<String>,
    cookie: Option<String>,
}

/// What every row shares, made once per engine.
struct World {
    app: TestApp,
    callers: Vec<Caller>,
    /// The owner's draft (read, edited, given an image; never published).
    draft: String,
    /// The draft as its edit form shows it.
    draft_form: app::events::form::EventForm,
    /// The owner's published, priced event with room for every booking the matrix makes.
    event: String,
    ticket_type: String,
    /// The user's confirmed registration on `event`, and the code of its first ticket.
    registration: String,
    ticket: String,
    /// The user's conversation with the assistant.
    conversation: i64,
    /// An account the admin rows change.
    target_user: i64,
}

impl World {
    fn caller(&self, actor: Actor) -> &Caller {
        &self.callers[actor as usize]
    }

    fn user(&self, actor: Actor) -> Option<&UserView> {
        self.caller(actor).user.as_ref()
    }

    fn bearer(&self, actor: Actor) -> &str {
        self.caller(actor)
            .bearer
            .as_deref()
            .expect("a signed-in actor")
    }

    fn view(&self, actor: Actor) -> &UserView {
        self.user(actor).expect("a signed-in actor")
    }
}

/// What a row prepares for each actor before calling.
#[derive(Clone, Copy, Debug)]
enum Prep {
    /// Nothing: the row uses the shared world.
    Shared,
    /// A new draft of the owner's.
    Draft,
    /// A new published event of the owner's.
    Published,
    /// A new confirmed registration of the user's on the shared event (its id and a ticket code).
    Registration,
    /// A new pending organizer request from a new account.
    PendingRequest,
    /// A new conversation of the user's with the assistant.
    Conversation,
    /// A new session for the actor (the row ends or replaces it); the blocked user keeps theirs.
    Session,
    /// The actor has no pending organizer request (a pending one is rejected first).
    NoPendingRequest,
    /// The user has an organizer request (one is filed if none is).
    HasRequest,
    /// A new dead job (its last attempt failed).
    DeadJob,
    /// A new recorded mail.
    Mail,
    /// A new webhook of the owner's with one delivered delivery (its id and the delivery's).
    Webhook,
    /// A new account with the actor's role, signed in (cookie and token), for rows that sign
    /// every session and token of their caller out; the blocked user keeps their own.
    OwnAccount,
}

/// What `Prep` made: an id, a ticket code, a session that replaces the actor's own.
#[derive(Default)]
struct Target {
    id: String,
    code: String,
    cookie: Option<String>,
    bearer: Option<String>,
}

/// Which door a row knocks on; the coverage checks read these.
#[derive(Clone, Debug)]
enum Door {
    /// A server function at its `ServerFn::PATH`, with the session cookie.
    Sfn(&'static str),
    /// A REST operation as the OpenAPI document names it, with the bearer token.
    Rest(Method, &'static str),
    /// A download a page links to (served by a REST handler), with the session cookie.
    Page(&'static str),
}

/// The request of one cell: the arguments, the concrete path where the door has parameters.
enum Call {
    /// Server-function arguments, as the client encodes them (`serde_qs` over url-encoding).
    Form(Vec<(String, String)>),
    /// The image form (`multipart/form-data`) for the event `0`.
    Multipart(String),
    /// A REST call: the path and a JSON body, if any.
    Json(String, Option<Value>),
    /// A REST call with an image as its raw body.
    Png(String),
    /// A page download.
    Get(String),
}

type Args = fn(&World, Actor, &Target) -> Call;

struct Row {
    door: Door,
    prep: Prep,
    args: Args,
    /// The status each of [`ACTORS`] should get.
    expect: [u16; 6],
}

fn row(door: Door, prep: Prep, args: Args, expect: [u16; 6]) -> Row {
    Row {
        door,
        prep,
        args,
        expect,
    }
}

fn sfn<T: ServerFn>() -> Door {
    Door::Sfn(T::PATH)
}

fn rest(method: Method, template: &'static str) -> Door {
    Door::Rest(method, template)
}

/// A server function's arguments as `serde_qs` writes them (`new[ticket_types][0][name]=…`),
/// from the server function's own argument struct, so a changed signature does not compile.
fn form(args: &impl serde::Serialize) -> Call {
    fn walk(key: String, value: &Value, out: &mut Vec<(String, String)>) {
        let nested = |k: &str| {
            if key.is_empty() {
                k.to_owned()
            } else {
                format!("{key}[{k}]")
            }
        };
        match value {
            Value::Null => {}
            Value::Object(fields) => {
                for (k, v) in fields {
                    walk(nested(k), v, out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(nested(&i.to_string()), v, out);
                }
            }
            Value::String(s) => out.push((key, s.clone())),
            other => out.push((key, other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(
        String::new(),
        &serde_json::to_value(args).expect("arguments serialize"),
        &mut out,
    );
    Call::Form(out)
}

fn id(text: &str) -> EventId {
    text.parse().expect("an event id")
}

fn n(text: &str) -> i64 {
    text.parse().expect("a number")
}

fn json_call(path: String, body: Value) -> Call {
    Call::Json(path, Some(body))
}

fn no_body(path: String) -> Call {
    Call::Json(path, None)
}

fn unique_email() -> String {
    format!("new-{}@example.com", server::random_hex(6))
}

fn event_body(title: &str) -> Value {
    let start = chrono::Utc::now() + chrono::Duration::days(5);
    json!({
        "title": title, "summary": "s", "description": "d", "category": "music", "tags": ["late"],
        "starts_at": start, "ends_at": start + chrono::Duration::hours(2), "timezone": "Asia/Jerusalem",
        "venue": "Barby", "address": "", "city": "Tel Aviv", "capacity": 1000,
        "ticket_types": [{"name": "General", "price": {"amount": 4500, "currency": "ILS"}, "quantity": 1000, "max_per_registration": 4}]
    })
}

fn new_event() -> app::events::NewEvent {
    let start = chrono::Utc::now() + chrono::Duration::days(6);
    app::events::NewEvent {
        title: "Form night".into(),
        summary: "s".into(),
        description: "d".into(),
        category: "music".into(),
        tags: vec!["late".into()],
        starts_at: start.to_rfc3339(),
        ends_at: (start + chrono::Duration::hours(2)).to_rfc3339(),
        timezone: "Asia/Jerusalem".into(),
        venue: "Barby".into(),
        address: "1 Main St".into(),
        city: "Tel Aviv".into(),
        capacity: 100,
        max_seats_per_user: None,
        ticket_types: vec![app::events::NewTicketType {
            name: "General".into(),
            price_amount: 0,
            currency: "ILS".into(),
            quantity: 100,
            max_per_registration: 4,
            sales_start: None,
            sales_end: None,
        }],
    }
}

/// A small PNG the image service accepts (at least 100 pixels a side).
fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(120, 100, image::Rgb([200, 30, 30]))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

/// Every operation × actor. Columns: visitor, user, blocked, owner, other organizer, admin.
fn table() -> Vec<Row> {
    use Prep::*;
    use app::admin::{commands as ac, queries as aq};
    use app::assistant::{commands as sc, queries as sq};
    use app::auth::{commands as uc, queries as uq, security as us};
    use app::bookings::{commands as bc, queries as bq};
    use app::events::{commands as ec, queries as eq};
    use app::reports::queries as rq;
    use app::webhooks::{commands as wc, queries as wq};
    vec![
        // ---- server functions: accounts ----
        row(
            sfn::<uc::RegisterUser>(),
            Session,
            |_, _, _| {
                form(&uc::RegisterUser {
                    email: unique_email(),
                    display_name: "New".into(),
                    password: PASSWORD.into(),
                    next: None,
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<uc::SignIn>(),
            Session,
            |w, a, _| {
                form(&uc::SignIn {
                    email: w
                        .user(a)
                        .map_or_else(|| "nobody@example.com".into(), |u| u.email.clone()),
                    password: PASSWORD.into(),
                    next: None,
                })
            },
            [401, 200, 403, 200, 200, 200],
        ),
        row(
            sfn::<uc::SignOut>(),
            Session,
            |_, _, _| form(&uc::SignOut {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<uq::GetCurrentUser>(),
            Shared,
            |_, _, _| form(&uq::GetCurrentUser {}),
            [200, 200, 200, 200, 200, 200],
        ),
        // ---- server functions: keeping an account ----
        row(
            sfn::<us::RequestPasswordReset>(),
            Shared,
            |w, a, _| {
                form(&us::RequestPasswordReset {
                    email: w.user(a).map_or_else(unique_email, |u| u.email.clone()),
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<us::ResetPassword>(),
            Shared,
            |_, _, _| {
                form(&us::ResetPassword {
                    token: "f".repeat(64),
                    password: "walnut-harbour-61".into(),
                })
            },
            [422, 422, 422, 422, 422, 422],
        ),
        row(
            sfn::<us::VerifyEmail>(),
            Shared,
            |_, _, _| {
                form(&us::VerifyEmail {
                    token: "0".repeat(64),
                })
            },
            [422, 422, 422, 422, 422, 422],
        ),
        row(
            sfn::<us::ResendVerification>(),
            Shared,
            |_, _, _| form(&us::ResendVerification {}),
            [401, 200, 401, 200, 200, 200],
        ),
        // A wrong current password: refused for everyone signed in, nothing changes.
        row(
            sfn::<us::ChangePassword>(),
            Shared,
            |_, _, _| {
                form(&us::ChangePassword {
                    current_password: "not-the-password".into(),
                    new_password: "walnut-harbour-61".into(),
                })
            },
            [401, 422, 401, 422, 422, 422],
        ),
        row(
            sfn::<us::ChangeEmail>(),
            Shared,
            |_, _, _| {
                form(&us::ChangeEmail {
                    email: unique_email(),
                    password: "not-the-password".into(),
                })
            },
            [401, 422, 401, 422, 422, 422],
        ),
        row(
            sfn::<us::MySessions>(),
            Shared,
            |_, _, _| form(&us::MySessions {}),
            [401, 200, 401, 200, 200, 200],
        ),
        // No one's session by that id: each caller signs out only their own.
        row(
            sfn::<us::CloseSession>(),
            Shared,
            |_, _, _| form(&us::CloseSession { id: "0".repeat(32) }),
            [401, 404, 401, 404, 404, 404],
        ),
        row(
            sfn::<us::SignOutEverywhere>(),
            OwnAccount,
            |_, _, _| form(&us::SignOutEverywhere {}),
            [401, 200, 401, 200, 200, 200],
        ),
        // No password was right a moment ago in this browser: back to the sign-in form.
        row(
            sfn::<uc::SignInCode>(),
            Shared,
            |_, _, _| {
                form(&uc::SignInCode {
                    code: "123456".into(),
                    next: None,
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<us::MyTwoFactor>(),
            Shared,
            |_, _, _| form(&us::MyTwoFactor {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<us::BeginTwoFactor>(),
            OwnAccount,
            |_, _, _| form(&us::BeginTwoFactor {}),
            [401, 200, 401, 200, 200, 200],
        ),
        // Nothing to confirm: no enrolment was started for the shared accounts.
        row(
            sfn::<us::ConfirmTwoFactor>(),
            Shared,
            |_, _, _| {
                form(&us::ConfirmTwoFactor {
                    code: "123456".into(),
                })
            },
            [401, 409, 401, 409, 409, 409],
        ),
        row(
            sfn::<us::DisableTwoFactor>(),
            Shared,
            |_, _, _| {
                form(&us::DisableTwoFactor {
                    code: "123456".into(),
                })
            },
            [401, 409, 401, 409, 409, 409],
        ),
        row(
            sfn::<us::MyCalendarFeed>(),
            Shared,
            |_, _, _| form(&us::MyCalendarFeed {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<us::RenewCalendarFeed>(),
            OwnAccount,
            |_, _, _| form(&us::RenewCalendarFeed {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<us::StopCalendarFeed>(),
            OwnAccount,
            |_, _, _| form(&us::StopCalendarFeed {}),
            [401, 200, 401, 200, 200, 200],
        ),
        // A wrong password: refused for everyone signed in, nothing is deleted.
        row(
            sfn::<us::DeleteAccount>(),
            Shared,
            |_, _, _| {
                form(&us::DeleteAccount {
                    password: "not-the-password".into(),
                    otp: None,
                })
            },
            [401, 422, 401, 422, 422, 422],
        ),
        row(
            sfn::<us::GetTwoFactorRequirement>(),
            Shared,
            |_, _, _| form(&us::GetTwoFactorRequirement {}),
            [401, 403, 401, 403, 403, 200],
        ),
        // Nothing required (as it is by default): the admin's answer changes nothing.
        row(
            sfn::<us::SetTwoFactorRequirement>(),
            Shared,
            |_, _, _| {
                form(&us::SetTwoFactorRequirement {
                    agent: None,
                    admin: None,
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        // ---- server functions: events ----
        row(
            sfn::<eq::ListEvents>(),
            Shared,
            |_, _, _| {
                form(&eq::ListEvents {
                    search: app::events::EventSearch {
                        page: 1,
                        per_page: 20,
                        ..Default::default()
                    },
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        // A draft: only its organizer and admins see it; the blocked user is a visitor here.
        row(
            sfn::<eq::GetEvent>(),
            Shared,
            |w, _, _| form(&eq::GetEvent { id: id(&w.draft) }),
            [404, 404, 404, 200, 404, 200],
        ),
        row(
            sfn::<eq::GetEvent>(),
            Shared,
            |w, _, _| form(&eq::GetEvent { id: id(&w.event) }),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<eq::ListManagedEvents>(),
            Shared,
            |_, _, _| form(&eq::ListManagedEvents {}),
            [401, 403, 401, 200, 200, 200],
        ),
        row(
            sfn::<eq::GetEventForm>(),
            Shared,
            |w, _, _| form(&eq::GetEventForm { id: id(&w.draft) }),
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<eq::GetCategoryCounts>(),
            Shared,
            |_, _, _| form(&eq::GetCategoryCounts {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<eq::GetTrending>(),
            Shared,
            |_, _, _| form(&eq::GetTrending {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<eq::ListMonthEvents>(),
            Shared,
            |_, _, _| {
                let today = chrono::Utc::now().date_naive();
                form(&eq::ListMonthEvents {
                    year: chrono::Datelike::year(&today),
                    month: chrono::Datelike::month(&today),
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<eq::GetMonthChart>(),
            Shared,
            |_, _, _| form(&eq::GetMonthChart {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<eq::GetFeatured>(),
            Shared,
            |_, _, _| form(&eq::GetFeatured {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<ec::CreateEvent>(),
            Shared,
            |_, _, _| form(&ec::CreateEvent { new: new_event() }),
            [401, 403, 401, 200, 200, 200],
        ),
        row(
            sfn::<ec::PublishEvent>(),
            Draft,
            |_, _, t| form(&ec::PublishEvent { id: id(&t.id) }),
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<ec::CancelEvent>(),
            Published,
            |_, _, t| {
                form(&ec::CancelEvent {
                    id: id(&t.id),
                    reason: "Flood".into(),
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<ec::DeleteEvent>(),
            Draft,
            |_, _, t| form(&ec::DeleteEvent { id: id(&t.id) }),
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<ec::SaveEventForm>(),
            Shared,
            |w, _, _| {
                let mut edit = w.draft_form.clone();
                edit.title = "Draft, revised".into();
                form(&ec::SaveEventForm {
                    id: Some(id(&w.draft)),
                    form: edit,
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<ec::UploadEventImage>(),
            Shared,
            |w, _, _| Call::Multipart(w.draft.clone()),
            [401, 403, 401, 200, 404, 200],
        ),
        // ---- server functions: bookings ----
        row(
            sfn::<bc::BookSeats>(),
            Shared,
            |w, _, _| {
                form(&bc::BookSeats {
                    event_id: id(&w.event),
                    ticket_type_id: n(&w.ticket_type).into(),
                    quantity: 1,
                    form_token: None,
                })
            },
            [401, 200, 401, 200, 200, 200],
        ),
        // The holder, the event's organizer and admins may cancel; another organizer learns nothing.
        row(
            sfn::<bc::CancelBooking>(),
            Registration,
            |_, _, t| {
                form(&bc::CancelBooking {
                    id: n(&t.id).into(),
                })
            },
            [401, 200, 401, 200, 404, 200],
        ),
        row(
            sfn::<bc::SetReaction>(),
            Shared,
            |w, _, _| {
                form(&bc::SetReaction {
                    event_id: id(&w.event),
                    kind: "like".into(),
                    on: true,
                })
            },
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<bc::MarkPaid>(),
            Shared,
            |w, _, _| {
                form(&bc::MarkPaid {
                    id: n(&w.registration).into(),
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<bc::CheckInTicket>(),
            Registration,
            |w, _, t| {
                form(&bc::CheckInTicket {
                    event_id: id(&w.event),
                    code: t.code.clone(),
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<bq::NewBookingToken>(),
            Shared,
            |_, _, _| form(&bq::NewBookingToken {}),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<bq::GetRegistration>(),
            Shared,
            |w, _, _| {
                form(&bq::GetRegistration {
                    id: n(&w.registration).into(),
                })
            },
            [401, 200, 401, 200, 404, 200],
        ),
        row(
            sfn::<bq::MyRegistrations>(),
            Shared,
            |_, _, _| form(&bq::MyRegistrations {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<bq::MyNotices>(),
            Shared,
            |_, _, _| form(&bq::MyNotices {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<bq::GetMyReactionsOn>(),
            Shared,
            |w, _, _| {
                form(&bq::GetMyReactionsOn {
                    event_id: id(&w.event),
                })
            },
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            sfn::<bq::GetMyReactions>(),
            Shared,
            |_, _, _| form(&bq::GetMyReactions {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<bq::GetAttendees>(),
            Shared,
            |w, _, _| {
                form(&bq::GetAttendees {
                    event_id: id(&w.event),
                    q: String::new(),
                    page: 1,
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<bq::GetDoorCount>(),
            Shared,
            |w, _, _| {
                form(&bq::GetDoorCount {
                    event_id: id(&w.event),
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<bq::GetScannedTicket>(),
            Shared,
            |w, _, _| {
                form(&bq::GetScannedTicket {
                    event_id: id(&w.event),
                    code: w.ticket.clone(),
                })
            },
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            sfn::<bq::GetMyMarks>(),
            Shared,
            |_, _, _| form(&bq::GetMyMarks {}),
            [200, 200, 200, 200, 200, 200],
        ),
        // ---- server functions: administration ----
        // Organizers and admins have nothing to ask for (409 on `role`).
        row(
            sfn::<ac::RequestAgent>(),
            NoPendingRequest,
            |_, _, _| {
                form(&ac::RequestAgent {
                    organisation: "Club".into(),
                    message: "Let me organize, please".into(),
                })
            },
            [401, 200, 401, 409, 409, 409],
        ),
        row(
            sfn::<ac::DecideAgentRequest>(),
            PendingRequest,
            |_, _, t| {
                form(&ac::DecideAgentRequest {
                    id: n(&t.id),
                    approve: true,
                    note: "Welcome".into(),
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<ac::UpdateUser>(),
            Shared,
            |w, _, _| {
                form(&ac::UpdateUser {
                    id: w.target_user,
                    role: "user".into(),
                    blocked: String::new(),
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<ac::ChangeEvent>(),
            Shared,
            |w, _, _| {
                form(&ac::ChangeEvent {
                    id: id(&w.event),
                    status: String::new(),
                    featured: "true".into(),
                    reason: String::new(),
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::MyAgentRequest>(),
            Shared,
            |_, _, _| form(&aq::MyAgentRequest {}),
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<aq::ListAgentRequests>(),
            Shared,
            |_, _, _| {
                form(&aq::ListAgentRequests {
                    status: String::new(),
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::GetAuditLog>(),
            Shared,
            |_, _, _| {
                form(&aq::GetAuditLog {
                    filter: app::admin::AuditFilter {
                        page: 1,
                        ..Default::default()
                    },
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::ListUsers>(),
            Shared,
            |_, _, _| {
                form(&aq::ListUsers {
                    q: String::new(),
                    role: String::new(),
                    page: 1,
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::ListAllEvents>(),
            Shared,
            |_, _, _| {
                form(&aq::ListAllEvents {
                    status: String::new(),
                    organizer: String::new(),
                    from: String::new(),
                    to: String::new(),
                    page: 1,
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        // ---- server functions: operators (jobs and mail) ----
        row(
            sfn::<aq::GetJobOverview>(),
            Shared,
            |_, _, _| form(&aq::GetJobOverview {}),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::GetSystemStatus>(),
            Shared,
            |_, _, _| form(&aq::GetSystemStatus {}),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::ListJobs>(),
            Shared,
            |_, _, _| {
                form(&aq::ListJobs {
                    state: "dead".into(),
                    kind: String::new(),
                    page: 1,
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<ac::RetryJob>(),
            DeadJob,
            |_, _, t| form(&ac::RetryJob { id: n(&t.id) }),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<ac::DiscardJob>(),
            DeadJob,
            |_, _, t| form(&ac::DiscardJob { id: n(&t.id) }),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::ListMails>(),
            Shared,
            |_, _, _| {
                form(&aq::ListMails {
                    to: "example".into(),
                    page: 1,
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<aq::GetMail>(),
            Mail,
            |_, _, t| form(&aq::GetMail { id: n(&t.id) }),
            [401, 403, 401, 403, 403, 200],
        ),
        // ---- server functions: reports ----
        row(
            sfn::<rq::GetReport>(),
            Shared,
            |_, _, _| {
                form(&rq::GetReport {
                    scope: app::reports::ReportScope::All,
                    from: String::new(),
                    to: String::new(),
                    category: String::new(),
                })
            },
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            sfn::<rq::GetReport>(),
            Shared,
            |_, _, _| {
                form(&rq::GetReport {
                    scope: app::reports::ReportScope::Own,
                    from: String::new(),
                    to: String::new(),
                    category: String::new(),
                })
            },
            [401, 403, 401, 200, 200, 200],
        ),
        // ---- server functions: the assistant (conversations are their user's alone) ----
        row(
            sfn::<sc::AskAssistant>(),
            Shared,
            |_, _, _| {
                form(&sc::AskAssistant {
                    message: "jazz this week".into(),
                    conversation_id: None,
                })
            },
            [401, 200, 401, 200, 200, 200],
        ),
        row(
            sfn::<sc::DeleteConversation>(),
            Conversation,
            |_, _, t| form(&sc::DeleteConversation { id: n(&t.id) }),
            [401, 200, 401, 404, 404, 404],
        ),
        row(
            sfn::<sq::GetAssistant>(),
            Shared,
            |w, _, _| {
                form(&sq::GetAssistant {
                    conversation: Some(w.conversation),
                    new: false,
                })
            },
            [401, 200, 401, 404, 404, 404],
        ),
        // ---- REST: accounts ----
        row(
            rest(Method::POST, "/api/v1/auth/register"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/auth/register".into(),
                    json!({"email": unique_email(), "password": PASSWORD, "display_name": "New"}),
                )
            },
            [201, 201, 201, 201, 201, 201],
        ),
        row(
            rest(Method::POST, "/api/v1/auth/token"),
            Shared,
            |w, a, _| {
                json_call(
                    "/api/v1/auth/token".into(),
                    json!({"email": w.user(a).map_or("nobody@example.com", |u| u.email.as_str()), "password": PASSWORD}),
                )
            },
            [401, 200, 403, 200, 200, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/me"),
            Shared,
            |_, _, _| no_body("/api/v1/me".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        // ---- REST: keeping an account ----
        row(
            rest(Method::POST, "/api/v1/auth/password-reset"),
            Shared,
            |w, a, _| {
                let email = w.user(a).map_or_else(unique_email, |u| u.email.clone());
                json_call(
                    "/api/v1/auth/password-reset".into(),
                    json!({ "email": email }),
                )
            },
            [202, 202, 202, 202, 202, 202],
        ),
        row(
            rest(Method::POST, "/api/v1/auth/password-reset/confirm"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/auth/password-reset/confirm".into(),
                    json!({"token": "f".repeat(64), "password": "walnut-harbour-61"}),
                )
            },
            [422, 422, 422, 422, 422, 422],
        ),
        row(
            rest(Method::POST, "/api/v1/auth/verify-email"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/auth/verify-email".into(),
                    json!({"token": "0".repeat(64)}),
                )
            },
            [422, 422, 422, 422, 422, 422],
        ),
        row(
            rest(Method::PUT, "/api/v1/me/email"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/me/email".into(),
                    json!({"email": unique_email(), "password": "not-the-password"}),
                )
            },
            [401, 422, 403, 422, 422, 422],
        ),
        row(
            rest(Method::PUT, "/api/v1/me/password"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/me/password".into(),
                    json!({"current_password": "not-the-password", "new_password": "walnut-harbour-61"}),
                )
            },
            [401, 422, 403, 422, 422, 422],
        ),
        row(
            rest(Method::GET, "/api/v1/me/sessions"),
            Shared,
            |_, _, _| no_body("/api/v1/me/sessions".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        row(
            rest(Method::DELETE, "/api/v1/me/sessions/{id}"),
            Shared,
            |_, _, _| no_body(format!("/api/v1/me/sessions/{}", "0".repeat(32))),
            [401, 404, 403, 404, 404, 404],
        ),
        row(
            rest(Method::POST, "/api/v1/me/sign-out-everywhere"),
            OwnAccount,
            |_, _, _| no_body("/api/v1/me/sign-out-everywhere".into()),
            [401, 204, 403, 204, 204, 204],
        ),
        row(
            rest(Method::POST, "/api/v1/me/totp"),
            OwnAccount,
            |_, _, _| no_body("/api/v1/me/totp".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        // Nothing to confirm or turn off: the shared accounts never enrolled.
        row(
            rest(Method::POST, "/api/v1/me/totp/confirm"),
            Shared,
            |_, _, _| json_call("/api/v1/me/totp/confirm".into(), json!({"code": "123456"})),
            [401, 409, 403, 409, 409, 409],
        ),
        row(
            rest(Method::DELETE, "/api/v1/me/totp"),
            Shared,
            |_, _, _| json_call("/api/v1/me/totp".into(), json!({"code": "123456"})),
            [401, 409, 403, 409, 409, 409],
        ),
        row(
            rest(Method::GET, "/api/v1/me/export"),
            Shared,
            |_, _, _| no_body("/api/v1/me/export".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        // A wrong password: refused, nothing is deleted.
        row(
            rest(Method::DELETE, "/api/v1/me"),
            Shared,
            |_, _, _| json_call("/api/v1/me".into(), json!({"password": "not-the-password"})),
            [401, 422, 403, 422, 422, 422],
        ),
        // Nothing required, as by default.
        row(
            rest(Method::PATCH, "/api/v1/admin/settings"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/admin/settings".into(),
                    json!({"require_2fa_for": []}),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        // ---- REST: events ----
        row(
            rest(Method::GET, "/api/v1/events"),
            Shared,
            |_, _, _| no_body("/api/v1/events".into()),
            [200, 200, 200, 200, 200, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/events"),
            Shared,
            |_, _, _| json_call("/api/v1/events".into(), event_body("Made by REST")),
            [401, 403, 403, 201, 201, 201],
        ),
        row(
            rest(Method::GET, "/api/v1/events/{id}"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/events/{}", w.draft)),
            [404, 404, 403, 200, 404, 200],
        ),
        row(
            rest(Method::PATCH, "/api/v1/events/{id}"),
            Shared,
            |w, _, _| {
                json_call(
                    format!("/api/v1/events/{}", w.draft),
                    json!({"title": "Draft, patched"}),
                )
            },
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::DELETE, "/api/v1/events/{id}"),
            Draft,
            |_, _, t| no_body(format!("/api/v1/events/{}", t.id)),
            [401, 403, 403, 204, 404, 204],
        ),
        row(
            rest(Method::POST, "/api/v1/events/{id}/publish"),
            Draft,
            |_, _, t| no_body(format!("/api/v1/events/{}/publish", t.id)),
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/events/{id}/cancel"),
            Published,
            |_, _, t| {
                json_call(
                    format!("/api/v1/events/{}/cancel", t.id),
                    json!({"reason": "Flood"}),
                )
            },
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::PUT, "/api/v1/events/{id}/image"),
            Shared,
            |w, _, _| Call::Png(format!("/api/v1/events/{}/image", w.draft)),
            [401, 403, 403, 200, 404, 200],
        ),
        // ---- REST: registrations, door, reactions ----
        row(
            rest(Method::POST, "/api/v1/events/{id}/registrations"),
            Shared,
            |w, _, _| {
                json_call(
                    format!("/api/v1/events/{}/registrations", w.event),
                    json!({"ticket_type_id": w.ticket_type, "quantity": 1}),
                )
            },
            [401, 201, 403, 201, 201, 201],
        ),
        row(
            rest(Method::GET, "/api/v1/registrations/{id}"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/registrations/{}", w.registration)),
            [401, 200, 403, 200, 404, 200],
        ),
        row(
            rest(Method::DELETE, "/api/v1/registrations/{id}"),
            Registration,
            |_, _, t| no_body(format!("/api/v1/registrations/{}", t.id)),
            [401, 200, 403, 200, 404, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/registrations/{id}/paid"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/registrations/{}/paid", w.registration)),
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/events/{id}/attendees"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/events/{}/attendees", w.event)),
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/events/{id}/check-in"),
            Registration,
            |w, _, t| {
                json_call(
                    format!("/api/v1/events/{}/check-in", w.event),
                    json!({"code": t.code}),
                )
            },
            [401, 403, 403, 200, 404, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/me/registrations"),
            Shared,
            |_, _, _| no_body("/api/v1/me/registrations".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        row(
            rest(Method::PUT, "/api/v1/events/{id}/reactions/{kind}"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/events/{}/reactions/save", w.event)),
            [401, 204, 403, 204, 204, 204],
        ),
        row(
            rest(Method::DELETE, "/api/v1/events/{id}/reactions/{kind}"),
            Shared,
            |w, _, _| no_body(format!("/api/v1/events/{}/reactions/save", w.event)),
            [401, 204, 403, 204, 204, 204],
        ),
        row(
            rest(Method::GET, "/api/v1/me/reactions"),
            Shared,
            |_, _, _| no_body("/api/v1/me/reactions".into()),
            [401, 200, 403, 200, 200, 200],
        ),
        // ---- REST: organizer requests and administration ----
        row(
            rest(Method::POST, "/api/v1/agent-requests"),
            NoPendingRequest,
            |_, _, _| {
                json_call(
                    "/api/v1/agent-requests".into(),
                    json!({"organisation": "Club", "message": "Let me organize, please"}),
                )
            },
            [401, 201, 403, 409, 409, 409],
        ),
        // The latest request or 404: only the user has one.
        row(
            rest(Method::GET, "/api/v1/me/agent-request"),
            HasRequest,
            |_, _, _| no_body("/api/v1/me/agent-request".into()),
            [401, 200, 403, 404, 404, 404],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/agent-requests"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/agent-requests".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/admin/agent-requests/{id}/approve"),
            PendingRequest,
            |_, _, t| {
                json_call(
                    format!("/api/v1/admin/agent-requests/{}/approve", t.id),
                    json!({"note": "ok"}),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/admin/agent-requests/{id}/reject"),
            PendingRequest,
            |_, _, t| {
                json_call(
                    format!("/api/v1/admin/agent-requests/{}/reject", t.id),
                    json!({"note": "no"}),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/audit"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/audit".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/users"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/users".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::PATCH, "/api/v1/admin/users/{id}"),
            Shared,
            |w, _, _| {
                json_call(
                    format!("/api/v1/admin/users/{}", w.target_user),
                    json!({"role": "user"}),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/events"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/events".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::PATCH, "/api/v1/admin/events/{id}"),
            Shared,
            |w, _, _| {
                json_call(
                    format!("/api/v1/admin/events/{}", w.event),
                    json!({"featured": true}),
                )
            },
            [401, 403, 403, 403, 403, 200],
        ),
        // ---- REST: operators (jobs and mail, admins) ----
        row(
            rest(Method::GET, "/api/v1/admin/jobs"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/jobs?state=dead&page=1".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/admin/jobs/{id}/retry"),
            DeadJob,
            |_, _, t| no_body(format!("/api/v1/admin/jobs/{}/retry", t.id)),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::POST, "/api/v1/admin/jobs/{id}/discard"),
            DeadJob,
            |_, _, t| no_body(format!("/api/v1/admin/jobs/{}/discard", t.id)),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/mail"),
            Shared,
            |_, _, _| no_body("/api/v1/admin/mail?to=example".into()),
            [401, 403, 403, 403, 403, 200],
        ),
        row(
            rest(Method::GET, "/api/v1/admin/mail/{id}"),
            Mail,
            |_, _, t| no_body(format!("/api/v1/admin/mail/{}", t.id)),
            [401, 403, 403, 403, 403, 200],
        ),
        // ---- REST: reports (admins everything, organizers their own) ----
        row(
            rest(Method::GET, "/api/v1/reports/summary"),
            Shared,
            |_, _, _| no_body("/api/v1/reports/summary".into()),
            [401, 403, 403, 200, 200, 200],
        ),
        // ---- REST: the assistant ----
        row(
            rest(Method::POST, "/api/v1/assistant/chat"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/assistant/chat".into(),
                    json!({"message": "jazz this week"}),
                )
            },
            [401, 200, 403, 200, 200, 200],
        ),
        row(
            rest(Method::DELETE, "/api/v1/assistant/conversations/{id}"),
            Conversation,
            |_, _, t| no_body(format!("/api/v1/assistant/conversations/{}", t.id)),
            [401, 204, 403, 404, 404, 404],
        ),
        row(
            rest(Method::GET, "/api/v1/openapi.json"),
            Shared,
            |_, _, _| no_body("/api/v1/openapi.json".into()),
            [200, 200, 200, 200, 200, 200],
        ),
        // ---- webhooks: agents and admins, each their own endpoints ----
        row(
            sfn::<wq::ListWebhooks>(),
            Shared,
            |_, _, _| form(&wq::ListWebhooks {}),
            [401, 403, 401, 200, 200, 200],
        ),
        row(
            sfn::<wq::GetWebhookLog>(),
            Webhook,
            |_, _, t| form(&wq::GetWebhookLog { id: n(&t.id) }),
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            sfn::<wc::CreateWebhook>(),
            Shared,
            |_, _, _| {
                form(&wc::CreateWebhook {
                    url: "https://93.184.215.14/hook".into(),
                    events: vec!["event.published".into()],
                    event_id: String::new(),
                })
            },
            [401, 403, 401, 200, 200, 200],
        ),
        row(
            sfn::<wc::RotateWebhookSecret>(),
            Webhook,
            |_, _, t| form(&wc::RotateWebhookSecret { id: n(&t.id) }),
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            sfn::<wc::RevealWebhookSecret>(),
            Webhook,
            |_, _, t| form(&wc::RevealWebhookSecret { id: n(&t.id) }),
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            sfn::<wc::DeleteWebhook>(),
            Webhook,
            |_, _, t| form(&wc::DeleteWebhook { id: n(&t.id) }),
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            sfn::<wc::EnableWebhook>(),
            Webhook,
            |_, _, t| form(&wc::EnableWebhook { id: n(&t.id) }),
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            sfn::<wc::RetryWebhookDelivery>(),
            Webhook,
            |_, _, t| {
                form(&wc::RetryWebhookDelivery {
                    id: n(&t.id),
                    delivery: n(&t.code),
                })
            },
            [401, 403, 401, 200, 404, 404],
        ),
        row(
            rest(Method::POST, "/api/v1/webhooks"),
            Shared,
            |_, _, _| {
                json_call(
                    "/api/v1/webhooks".into(),
                    json!({"url": "https://93.184.215.14/hook", "events": ["event.published"]}),
                )
            },
            [401, 403, 403, 201, 201, 201],
        ),
        row(
            rest(Method::GET, "/api/v1/webhooks"),
            Shared,
            |_, _, _| no_body("/api/v1/webhooks".into()),
            [401, 403, 403, 200, 200, 200],
        ),
        row(
            rest(Method::DELETE, "/api/v1/webhooks/{id}"),
            Webhook,
            |_, _, t| no_body(format!("/api/v1/webhooks/{}", t.id)),
            [401, 403, 403, 204, 404, 404],
        ),
        row(
            rest(Method::POST, "/api/v1/webhooks/{id}/secret"),
            Webhook,
            |_, _, t| no_body(format!("/api/v1/webhooks/{}/secret", t.id)),
            [401, 403, 403, 200, 404, 404],
        ),
        row(
            rest(Method::POST, "/api/v1/webhooks/{id}/enable"),
            Webhook,
            |_, _, t| no_body(format!("/api/v1/webhooks/{}/enable", t.id)),
            [401, 403, 403, 200, 404, 404],
        ),
        row(
            rest(Method::GET, "/api/v1/webhooks/{id}/deliveries"),
            Webhook,
            |_, _, t| no_body(format!("/api/v1/webhooks/{}/deliveries", t.id)),
            [401, 403, 403, 200, 404, 404],
        ),
        row(
            rest(
                Method::POST,
                "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
            ),
            Webhook,
            |_, _, t| {
                no_body(format!(
                    "/api/v1/webhooks/{}/deliveries/{}/retry",
                    t.id, t.code
                ))
            },
            [401, 403, 403, 202, 404, 404],
        ),
        // ---- downloads the pages link to (REST handlers, session cookie) ----
        row(
            Door::Page("/agent/events/{id}/attendees.csv"),
            Shared,
            |w, _, _| Call::Get(format!("/agent/events/{}/attendees.csv", w.event)),
            [401, 403, 401, 200, 404, 200],
        ),
        row(
            Door::Page("/admin/reports/{file}"),
            Shared,
            |_, _, _| Call::Get("/admin/reports/by-month.csv".into()),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            Door::Page("/admin/mail/{id}/html"),
            Mail,
            |_, _, t| Call::Get(format!("/admin/mail/{}/html", t.id)),
            [401, 403, 401, 403, 403, 200],
        ),
        row(
            Door::Page("/agent/reports/{file}"),
            Shared,
            |_, _, _| Call::Get("/agent/reports/by-month.csv".into()),
            [401, 403, 401, 200, 200, 200],
        ),
        row(
            Door::Page("/me/data"),
            Shared,
            |_, _, _| Call::Get("/me/data".into()),
            [401, 200, 401, 200, 200, 200],
        ),
        // A feed address no one was given: the same for everyone, cookie or not.
        row(
            Door::Page("/feeds/{token}.ics"),
            Shared,
            |_, _, _| Call::Get("/feeds/1.1.0000.ics".into()),
            [404, 404, 404, 404, 404, 404],
        ),
    ]
}

impl std::fmt::Display for Door {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Door::Sfn(path) => write!(f, "server fn {path}"),
            Door::Rest(method, template) => write!(f, "{method} {template}"),
            Door::Page(template) => write!(f, "GET {template} (page download)"),
        }
    }
}

/// The six callers, the owner's events, the user's registration and conversation. The blocked
/// user signs in (cookie and token) before an admin blocks them through the API.
async fn world(engine: Engine) -> World {
    let app = TestApp::with_config(engine, |c| {
        c.assistant_rate = None;
        // Every actor asks for links on each door.
        c.limits.account_mail = None;
        c.limits.account_mail_address = None;
        // Every webhook row makes the owner a fresh endpoint.
        c.webhooks.per_owner = 10_000;
    })
    .await;
    let mut callers = vec![Caller {
        user: None,
        bearer: None,
        cookie: None,
    }];
    for role in [
        Role::User,
        Role::User,
        Role::Agent,
        Role::Agent,
        Role::Admin,
    ] {
        let (user, bearer, cookie) = app.signed_in(role).await;
        callers.push(Caller {
            user: Some(user),
            bearer: Some(bearer),
            cookie: Some(cookie),
        });
    }
    let blocked = callers[Actor::Blocked as usize].user.as_ref().unwrap().id;
    let admin = callers[Actor::Admin as usize].bearer.clone().unwrap();
    let reply = app
        .call(
            Method::PATCH,
            &format!("/api/v1/admin/users/{blocked}"),
            Some(json!({"blocked": true})),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 200, "blocking: {}", reply.body);

    let owner = callers[Actor::Owner as usize].bearer.clone().unwrap();
    let owner_view = callers[Actor::Owner as usize].user.clone().unwrap();
    let user = callers[Actor::User as usize].bearer.clone().unwrap();
    let user_view = callers[Actor::User as usize].user.clone().unwrap();
    let draft = app
        .create_event(&owner, event_body("Draft night"), false)
        .await;
    let draft = draft["id"].as_str().unwrap().to_owned();
    let draft_form = app::events::form::EventForm::from_detail(
        &app.state
            .services
            .event_queries
            .get_event(Some(&owner_view), id(&draft))
            .await
            .expect("the owner reads the draft"),
    );
    let event = app
        .create_event(&owner, event_body("Matrix night"), true)
        .await;
    let ticket_type = event["ticket_types"][0]["id"].as_str().unwrap().to_owned();
    let event = event["id"].as_str().unwrap().to_owned();
    let (status, booked) = app.book(&user, &event, &ticket_type, 1).await;
    assert_eq!(status.as_u16(), 201, "{booked}");
    let conversation = app
        .state
        .services
        .assistant_commands
        .ask(&user_view, "jazz this week", None)
        .await
        .expect("the user asks")
        .conversation_id;
    let target_user = app.bearer(Role::User).await.0.id.get();
    World {
        registration: booked["registration"]["id"].as_str().unwrap().to_owned(),
        ticket: booked["registration"]["tickets"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned(),
        app,
        callers,
        draft,
        draft_form,
        event,
        ticket_type,
        conversation,
        target_user,
    }
}

async fn prepare(w: &World, prep: Prep, actor: Actor) -> Target {
    use app::admin::{AgentRequestStatus, NewAgentRequest};
    let services = &w.app.state.services;
    let ask = || NewAgentRequest {
        organisation: "Club".into(),
        message: "Let me organize, please".into(),
    };
    match prep {
        Prep::Shared => Target::default(),
        Prep::OwnAccount => match actor {
            Actor::Visitor | Actor::Blocked => Target::default(),
            _ => {
                let (_, bearer, cookie) = w.app.signed_in(w.view(actor).role).await;
                Target {
                    cookie: Some(cookie),
                    bearer: Some(bearer),
                    ..Target::default()
                }
            }
        },
        Prep::Draft | Prep::Published => {
            let publish = matches!(prep, Prep::Published);
            let event = w
                .app
                .create_event(w.bearer(Actor::Owner), event_body("Fresh night"), publish)
                .await;
            Target {
                id: event["id"].as_str().unwrap().to_owned(),
                ..Target::default()
            }
        }
        Prep::Registration => {
            let (status, body) = w
                .app
                .book(w.bearer(Actor::User), &w.event, &w.ticket_type, 1)
                .await;
            assert_eq!(status.as_u16(), 201, "{body}");
            let registration = &body["registration"];
            Target {
                id: registration["id"].as_str().unwrap().to_owned(),
                code: registration["tickets"][0]["code"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                cookie: None,
                bearer: None,
            }
        }
        Prep::PendingRequest => {
            let (requester, _) = w.app.bearer(Role::User).await;
            let request = services
                .admin_commands
                .request_agent(&requester, ask())
                .await
                .expect("a request is filed");
            Target {
                id: request.id.to_string(),
                ..Target::default()
            }
        }
        Prep::Conversation => {
            let asked = services
                .assistant_commands
                .ask(w.view(Actor::User), "stand-up tonight", None)
                .await
                .expect("the user asks");
            Target {
                id: asked.conversation_id.to_string(),
                ..Target::default()
            }
        }
        Prep::Session => {
            let cookie = match actor {
                Actor::Visitor => None,
                // Blocked: no new session to be had; the old cookie is what they hold.
                Actor::Blocked => w.caller(actor).cookie.clone(),
                _ => {
                    let reply = w
                        .app
                        .server_fn(
                            app::auth::commands::SignIn::PATH,
                            &[("email", &w.view(actor).email), ("password", PASSWORD)],
                            None,
                        )
                        .await;
                    Some(
                        reply
                            .cookie(server::sessions::SESSION_COOKIE)
                            .expect("a fresh session"),
                    )
                }
            };
            Target {
                cookie,
                ..Target::default()
            }
        }
        Prep::NoPendingRequest => {
            if let Some(user) = w.user(actor)
                && let Some(request) = services
                    .admin_queries
                    .my_agent_request(user)
                    .await
                    .expect("the latest request")
                && request.status == AgentRequestStatus::Pending
            {
                services
                    .admin_commands
                    .decide_agent_request(w.view(Actor::Admin), request.id, false, "")
                    .await
                    .expect("rejected");
            }
            Target::default()
        }
        Prep::DeadJob => {
            let jobs = &w.app.state.jobs;
            let now = server::db::now();
            let job = server::jobs::NewJob::new("matrix", json!({}), now).max_attempts(1);
            jobs.enqueue(&[job], now).await.expect("enqueued");
            let lease = jobs
                .claim("matrix", &["matrix"], now)
                .await
                .expect("claimed")
                .expect("the job is due");
            let failed = jobs.fail(&lease, "failed on purpose", now).await;
            assert_eq!(failed.expect("failed"), server::jobs::Failure::Dead);
            Target {
                id: lease.job.id.to_string(),
                ..Target::default()
            }
        }
        Prep::Mail => Target {
            id: super::ops::record_mail(&w.app, "matrix@example.com", "Matrix")
                .await
                .to_string(),
            ..Target::default()
        },
        Prep::Webhook => {
            let db = &w.app.state.db;
            let (owner, now) = (w.view(Actor::Owner).id.get(), server::db::now());
            let webhook: i64 = server::on_db!(db, pool => sqlx::query_scalar(
                "INSERT INTO webhook_endpoints (owner_id, url, event_types, secret, created_at) \
                 VALUES ($1, 'https://93.184.215.14/hook', 'registration.confirmed', $2, $3) RETURNING id")
                .bind(owner).bind(server::webhooks::new_secret()).bind(now).fetch_one(pool).await)
            .expect("a webhook");
            let delivery: i64 = server::on_db!(db, pool => sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (endpoint_id, event_key, event_type, body, status, attempts, created_at) \
                 VALUES ($1, $2, 'registration.confirmed', '{}', 'delivered', 1, $3) RETURNING id")
                .bind(webhook).bind(format!("evt_{}", server::random_hex(12))).bind(now).fetch_one(pool).await)
            .expect("a delivery");
            Target {
                id: webhook.to_string(),
                code: delivery.to_string(),
                ..Target::default()
            }
        }
        Prep::HasRequest => {
            if actor == Actor::User {
                let user = w.view(actor);
                let latest = services.admin_queries.my_agent_request(user).await;
                if latest.expect("the latest request").is_none() {
                    services
                        .admin_commands
                        .request_agent(user, ask())
                        .await
                        .expect("a request is filed");
                }
            }
            Target::default()
        }
    }
}

/// Whether `path` is `template` with its `{parameters}` filled in.
fn fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

async fn send(w: &World, door: &Door, actor: Actor, target: &Target, call: Call) -> Reply {
    let caller = w.caller(actor);
    let cookie = target.cookie.as_deref().or(caller.cookie.as_deref());
    let bearer = target.bearer.as_deref().or(caller.bearer.as_deref());
    let session = |c: &str| format!("{}={c}", server::sessions::SESSION_COOKIE);
    match (door, call) {
        (Door::Sfn(path), Call::Form(pairs)) => {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            w.app.server_fn(path, &pairs, cookie).await
        }
        (Door::Sfn(path), Call::Multipart(event)) => {
            let boundary = "----eventhub-matrix";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{event}\r\n--{boundary}\r\n\
                 Content-Disposition: form-data; name=\"image\"; filename=\"poster.png\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .into_bytes();
            body.extend_from_slice(&png());
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            let mut req = Request::post(*path)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header(header::ACCEPT, "application/json");
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, session(c));
            }
            w.app.send(req.body(Body::from(body)).unwrap()).await
        }
        (Door::Rest(method, template), Call::Json(path, body)) => {
            assert!(fits(template, &path), "{path} is not {template}");
            w.app.call(method.clone(), &path, body, bearer).await
        }
        (Door::Rest(method, template), Call::Png(path)) => {
            assert!(fits(template, &path), "{path} is not {template}");
            w.app
                .send_bytes(method.clone(), &path, "image/png", png(), bearer)
                .await
        }
        (Door::Page(template), Call::Get(path)) => {
            assert!(fits(template, &path), "{path} is not {template}");
            match cookie {
                Some(c) => w.app.get(&path, &[("cookie", &session(c))]).await,
                None => w.app.get(&path, &[]).await,
            }
        }
        (door, _) => panic!("{door}: a call of another door"),
    }
}

/// Every server function the app registers has a row.
fn check_server_functions(rows: &[Row]) -> Vec<String> {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    let tabled: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| match r.door {
            Door::Sfn(path) => Some(path.to_owned()),
            _ => None,
        })
        .collect();
    let mut problems: Vec<String> = registered
        .difference(&tabled)
        .map(|p| format!("server fn {p} has no row in the access matrix"))
        .collect();
    problems.extend(
        tabled
            .difference(&registered)
            .map(|p| format!("server fn {p} has a row but is not registered")),
    );
    assert!(registered.len() >= 40, "the registry lists {registered:?}");
    problems
}

/// Every operation of the OpenAPI document has a row, and every REST row is documented (the
/// document itself aside).
fn check_rest(rows: &[Row], doc: &Value) -> Vec<String> {
    const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(|k| (k.to_uppercase(), path.clone()))
        })
        .collect();
    let tabled: BTreeSet<(String, String)> = rows
        .iter()
        .filter_map(|r| match &r.door {
            Door::Rest(method, template) => Some((method.to_string(), (*template).to_owned())),
            _ => None,
        })
        .collect();
    let mut problems: Vec<String> = documented
        .difference(&tabled)
        .map(|(m, p)| format!("{m} {p} is documented but has no row in the access matrix"))
        .collect();
    problems.extend(
        tabled
            .difference(&documented)
            .filter(|(_, p)| p != "/api/v1/openapi.json")
            .map(|(m, p)| format!("{m} {p} has a row but is not in the OpenAPI document")),
    );
    problems
}

on_both_engines! {
    async fn every_server_function_and_rest_route_answers_each_role_as_the_rules_say(engine: Engine) {
        let started = std::time::Instant::now();
        let w = world(engine).await;
        let rows = table();
        let mut failures = Vec::new();
        for row in &rows {
            for (actor, expected) in ACTORS.into_iter().zip(row.expect) {
                let target = prepare(&w, row.prep, actor).await;
                let call = (row.args)(&w, actor, &target);
                let reply = send(&w, &row.door, actor, &target, call).await;
                if reply.status.as_u16() != expected {
                    let body: String = reply.body.chars().take(300).collect();
                    failures.push(format!("{} as {actor:?}: expected {expected}, got {}: {body}", row.door, reply.status.as_u16()));
                }
            }
        }
        let doc = w.app.get("/api/v1/openapi.json", &[]).await.json();
        let mut uncovered = check_server_functions(&rows);
        uncovered.extend(check_rest(&rows, &doc));
        eprintln!("{engine:?}: {} operations × {} actors in {:?}", rows.len(), ACTORS.len(), started.elapsed());
        assert!(uncovered.is_empty(), "the matrix does not cover:\n{}", uncovered.join("\n"));
        assert!(failures.is_empty(), "{} of {} cells answered otherwise:\n{}", failures.len(), rows.len() * ACTORS.len(), failures.join("\n"));
    }
}
