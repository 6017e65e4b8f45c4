//! Feature-free components and the page frame.
pub mod chart;
pub mod form;
pub mod home;
pub mod layout;
pub mod not_found;
