//! Seats left, live: an open event page follows `/events/{id}/seats` (server-sent events) and
//! updates its numbers, booking buttons and the visitor's own booking without reloading.
use super::LiveSeats;
use crate::events::EventId;
use leptos::prelude::*;

/// The latest seat numbers pushed by the server, and how many changes arrived since the page
/// opened (the first message only repeats what the page was rendered with).
#[derive(Clone, Copy)]
pub struct SeatsFeed {
    pub seats: ReadSignal<Option<LiveSeats>>,
    pub changes: ReadSignal<u32>,
}

impl SeatsFeed {
    /// Seats left of a ticket type: the live number once one arrived, else `rendered`.
    pub fn type_remaining(&self, type_id: crate::events::TicketTypeId, rendered: i64) -> i64 {
        self.seats
            .with(|s| s.as_ref().and_then(|s| s.type_remaining(type_id)))
            .unwrap_or(rendered)
    }
}

/// Opens the event's seat stream in the browser (nothing happens on the server) and closes it
/// when the page goes away. The browser's `EventSource` reconnects by itself.
pub fn follow_seats(event_id: EventId) -> SeatsFeed {
    let (seats, set_seats) = signal(None::<LiveSeats>);
    let (changes, set_changes) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new(&format!("/events/{event_id}/seats")) else {
            return;
        };
        let on_seats =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                if let Ok(next) = serde_json::from_str::<LiveSeats>(&text) {
                    if seats.with_untracked(Option::is_some) {
                        set_changes.update(|n| *n += 1);
                    }
                    set_seats.set(Some(next));
                }
            });
        let _ = source.add_event_listener_with_callback("seats", on_seats.as_ref().unchecked_ref());
        let held = send_wrapper::SendWrapper::new((source, on_seats));
        on_cleanup(move || held.take().0.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (event_id, set_seats, set_changes);
    SeatsFeed { seats, changes }
}
