//! CSV downloads (attendee lists, report tables): quoting is the `csv` crate's; cells people
//! typed are defused against spreadsheet formulas here.
use app::bookings::{AttendeePage, TicketStatus};
use app::error::AppError;
use app::ssr::internal;

/// The attendee list as CSV: one row per registration, the same columns as the page.
pub fn attendees_csv(page: &AttendeePage) -> Result<String, AppError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "registration_id",
        "name",
        "email",
        "ticket_type",
        "quantity",
        "status",
        "waitlist_position",
        "payment",
        "checked_in",
        "tickets",
        "registered_at",
    ];
    out.write_record(header).map_err(internal)?;
    for a in &page.items {
        let codes = a
            .tickets
            .iter()
            .filter(|t| t.status == TicketStatus::Valid)
            .map(|t| t.code.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        out.write_record([
            a.registration_id.to_string(),
            csv_safe(&a.name),
            csv_safe(&a.email),
            csv_safe(&a.ticket_type_name),
            a.quantity.to_string(),
            a.status.code().to_owned(),
            a.waitlist_position
                .map(|p| p.to_string())
                .unwrap_or_default(),
            a.payment.code().to_owned(),
            a.checked_in().to_string(),
            codes,
            a.created_at.to_rfc3339(),
        ])
        .map_err(internal)?;
    }
    String::from_utf8(out.into_inner().map_err(internal)?).map_err(internal)
}

/// Text a person typed, made harmless for spreadsheets: a cell starting with `=`, `+`, `-` or
/// `@` would be run as a formula, so it gets a leading apostrophe (OWASP's advice).
pub fn csv_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_typed_as_names_are_defused_in_csv() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("Dana"), "Dana");
    }
}
