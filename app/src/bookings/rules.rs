//! What may be booked and by whom, decided from plain values so both doors (pages and REST)
//! and both engines share one answer.
use crate::auth::{Role, UserId, UserView};
use crate::error::{AppError, Problem};
use crate::events::EventStatus;
use chrono::{DateTime, Utc};

/// Refuses a quantity outside `1..=max_per_registration` (field `quantity`, 422).
pub fn check_quantity(quantity: i64, max_per_registration: i64) -> Result<(), AppError> {
    if quantity < 1 {
        return Err(AppError::field("quantity", Problem::TooSmall { min: 1 }));
    }
    if quantity > max_per_registration {
        return Err(AppError::field(
            "quantity",
            Problem::TooLarge {
                max: max_per_registration,
            },
        ));
    }
    Ok(())
}

/// The facts about an event and ticket type that decide whether booking is open now.
pub struct Window {
    pub status: EventStatus,
    pub starts_at: DateTime<Utc>,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

/// Booking is open for a published event that has not started, inside the ticket type's sales
/// window; otherwise a conflict (409) that says why.
pub fn check_open(window: &Window, now: DateTime<Utc>) -> Result<(), AppError> {
    let closed = |problem| AppError::Conflict {
        field: "event".into(),
        problem,
    };
    if window.status != EventStatus::Published {
        return Err(closed(Problem::WrongStatus {
            status: window.status.code().into(),
        }));
    }
    if window.starts_at <= now {
        return Err(closed(Problem::EventStarted));
    }
    if window.sales_start.is_some_and(|s| now < s) {
        return Err(closed(Problem::SalesNotStarted));
    }
    if window.sales_end.is_some_and(|e| now >= e) {
        return Err(closed(Problem::SalesEnded));
    }
    Ok(())
}

/// Who may see a registration (and its tickets): its holder, the event's organizer, admins.
pub fn can_see_registration(actor: &UserView, holder: UserId, organizer: UserId) -> bool {
    actor.id == holder
        || actor.role >= Role::Admin
        || (actor.role >= Role::Agent && actor.id == organizer)
}

/// Whether the holder may still cancel a registration themselves: it is not cancelled and the
/// event has not started (organizers and admins may cancel later; see [`check_cancel`]).
pub fn holder_may_cancel(
    status: crate::bookings::RegistrationStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status != crate::bookings::RegistrationStatus::Cancelled && starts_at > now
}

/// Who may cancel a registration: its holder before the event starts; the event's organizer
/// and admins at any time. Anyone else learns nothing (`NotFound`).
pub fn check_cancel(
    actor: &UserView,
    holder: UserId,
    organizer: UserId,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if actor.role >= Role::Admin || (actor.role >= Role::Agent && actor.id == organizer) {
        return Ok(());
    }
    if actor.id != holder {
        return Err(AppError::NotFound);
    }
    if starts_at <= now {
        return Err(AppError::Conflict {
            field: "event".into(),
            problem: Problem::EventStarted,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn window(status: EventStatus) -> Window {
        Window {
            status,
            starts_at: Utc::now() + Duration::days(3),
            sales_start: None,
            sales_end: None,
        }
    }

    #[test]
    fn quantities_outside_the_limit_name_the_field() {
        assert!(check_quantity(1, 4).is_ok());
        assert!(check_quantity(4, 4).is_ok());
        assert_eq!(
            check_quantity(5, 4).unwrap_err().field_errors()["quantity"],
            Problem::TooLarge { max: 4 }
        );
        assert_eq!(
            check_quantity(0, 4).unwrap_err().field_errors()["quantity"],
            Problem::TooSmall { min: 1 }
        );
    }

    #[test]
    fn booking_is_open_only_for_published_future_events_inside_the_window() {
        let now = Utc::now();
        assert!(check_open(&window(EventStatus::Published), now).is_ok());
        for status in [
            EventStatus::Draft,
            EventStatus::Cancelled,
            EventStatus::Completed,
        ] {
            assert_eq!(check_open(&window(status), now).unwrap_err().status(), 409);
        }
        let mut w = window(EventStatus::Published);
        w.starts_at = now - Duration::minutes(1);
        assert!(check_open(&w, now).is_err());
        let mut w = window(EventStatus::Published);
        w.sales_start = Some(now + Duration::hours(1));
        assert_eq!(
            check_open(&w, now).unwrap_err().field_errors()["event"],
            Problem::SalesNotStarted
        );
        let mut w = window(EventStatus::Published);
        w.sales_end = Some(now);
        assert_eq!(
            check_open(&w, now).unwrap_err().field_errors()["event"],
            Problem::SalesEnded
        );
    }
}
