//! Booking pages and the parts of other pages that bookings draw: the booking panel and the
//! like / save bar of the event page, the reactions on event cards, the notices, tickets and
//! marks on `/me`, the organizer's attendee list and check-in door, and the printable tickets.
//! Every form is a plain form underneath, so booking, cancelling and checking in work without
//! scripts.
mod attendees_page;
mod booking_panel;
mod check_in_page;
mod my_bookings;
mod my_marks;
mod my_notices;
mod reactions;
mod ticket_page;

pub use attendees_page::AttendeesPage;
pub use booking_panel::BookingPanel;
pub use check_in_page::CheckInPage;
pub use my_bookings::MyBookings;
pub use my_marks::MyMarks;
pub use my_notices::MyNotices;
pub use reactions::{CardMarks, CardReactions, ReactionBar, provide_card_marks};
pub use ticket_page::TicketPage;
