//! Administration pages: the organizer request panel on `/me`, `/admin` (the overview),
//! `/admin/agent-requests`, `/admin/users`, `/admin/events`, `/admin/audit`, `/admin/jobs`,
//! `/admin/mail` (+ `/:id`) and `/admin/system`. Every action is a plain form underneath.
mod agent_requests;
mod audit;
mod events;
mod jobs;
mod mail;
mod overview;
mod request_panel;
mod shared;
mod system;
mod users;

pub use agent_requests::AgentRequestsPage;
pub use audit::AuditPage;
pub use events::AdminEventsPage;
pub use jobs::{JobsPage, human_age};
pub use mail::{MailDetailPage, MailPage};
pub use overview::AdminPage;
pub use request_panel::AgentRequestPanel;
pub use system::{SystemPage, human_bytes};
pub use users::UsersPage;
