//! The organizer's event form as the browser sends it (every value a string, as typed), and
//! its conversion to a `NewEvent`. Numbers that do not parse are reported under the same field
//! names that validation uses, so one map of problems drives the whole form.
use super::{EventDetail, NewEvent, NewTicketType};
use crate::error::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// How many ticket-type rows the form offers (empty rows are skipped).
pub const TICKET_ROWS: usize = 3;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTypeForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub max_per_registration: String,
    /// Venue wall-clock time (`datetime-local`); empty means "from publication".
    #[serde(default)]
    pub sales_start: String,
    /// Venue wall-clock time; empty means "until the event starts".
    #[serde(default)]
    pub sales_end: String,
}

impl TicketTypeForm {
    fn is_blank(&self) -> bool {
        self.name.trim().is_empty()
            && self.price.trim().is_empty()
            && self.quantity.trim().is_empty()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub ends_at: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub capacity: String,
    /// Empty: no cap on the seats one person holds.
    #[serde(default)]
    pub max_seats_per_user: String,
    #[serde(default)]
    pub ticket_types: Vec<TicketTypeForm>,
    /// The current image, shown beside the form (images have their own form; a posted value
    /// is ignored).
    #[serde(default)]
    pub image_url: Option<String>,
}

/// "45", "45.5", "45,50" → 4550 minor units.
pub fn parse_price(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// 4550 → "45.50".
pub fn format_price(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn number(errors: &mut FieldErrors, field: &str, text: &str) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(n) => n,
        Err(_) if text.trim().is_empty() => {
            errors.insert(field.into(), Problem::Required);
            0
        }
        Err(_) => {
            errors.insert(field.into(), Problem::NumberInvalid);
            0
        }
    }
}

impl EventForm {
    /// A blank form with sensible first choices.
    pub fn blank() -> Self {
        EventForm {
            timezone: "Asia/Jerusalem".into(),
            category: "stand-up".into(),
            ticket_types: vec![TicketTypeForm {
                name: "General".into(),
                currency: "ILS".into(),
                max_per_registration: "4".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// The event as the form last showed it, for editing.
    pub fn from_detail(event: &EventDetail) -> Self {
        let item = &event.item;
        EventForm {
            title: item.title.clone(),
            summary: item.summary.clone(),
            description: event.description.clone(),
            category: item.category.code().into(),
            tags: event.tags.join(", "),
            starts_at: item.local_starts_at.format("%Y-%m-%dT%H:%M").to_string(),
            ends_at: item.local_ends_at.format("%Y-%m-%dT%H:%M").to_string(),
            timezone: item.timezone.clone(),
            venue: item.venue.clone(),
            address: event.address.clone(),
            city: item.city.clone(),
            capacity: event.capacity.to_string(),
            max_seats_per_user: event
                .max_seats_per_user
                .map(|n| n.to_string())
                .unwrap_or_default(),
            image_url: item.image_url.clone(),
            ticket_types: event
                .ticket_types
                .iter()
                .map(|t| TicketTypeForm {
                    name: t.name.clone(),
                    price: format_price(t.price.amount),
                    currency: t.price.currency.clone(),
                    quantity: t.quantity.to_string(),
                    max_per_registration: t.max_per_registration.to_string(),
                    sales_start: t
                        .local_sales_start
                        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                        .unwrap_or_default(),
                    sales_end: t
                        .local_sales_end
                        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Turns the typed strings into a `NewEvent`, with the fields whose numbers did not parse
    /// (those hold 0, and the caller reports them together with validation's findings).
    pub fn to_new_event(&self) -> (NewEvent, FieldErrors) {
        let mut errors = FieldErrors::new();
        let capacity = number(&mut errors, "capacity", &self.capacity);
        let max_seats_per_user = (!self.max_seats_per_user.trim().is_empty())
            .then(|| number(&mut errors, "max_seats_per_user", &self.max_seats_per_user));
        let ticket_types = self
            .ticket_types
            .iter()
            .filter(|t| !t.is_blank())
            .enumerate()
            .map(|(i, t)| {
                let f = |name: &str| format!("ticket_types[{i}].{name}");
                let price_amount = parse_price(&t.price).unwrap_or_else(|| {
                    errors.insert(
                        f("price_amount"),
                        if t.price.trim().is_empty() {
                            Problem::Required
                        } else {
                            Problem::NumberInvalid
                        },
                    );
                    0
                });
                NewTicketType {
                    name: t.name.clone(),
                    price_amount,
                    currency: t.currency.clone(),
                    quantity: number(&mut errors, &f("quantity"), &t.quantity),
                    max_per_registration: number(
                        &mut errors,
                        &f("max_per_registration"),
                        &t.max_per_registration,
                    ),
                    sales_start: Some(t.sales_start.trim().to_owned()).filter(|v| !v.is_empty()),
                    sales_end: Some(t.sales_end.trim().to_owned()).filter(|v| !v.is_empty()),
                }
            })
            .collect();
        let event = NewEvent {
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            tags: vec![self.tags.clone()],
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            timezone: self.timezone.clone(),
            venue: self.venue.clone(),
            address: self.address.clone(),
            city: self.city.clone(),
            capacity,
            max_seats_per_user,
            ticket_types,
        };
        (event, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_read_as_typed_in_main_units() {
        assert_eq!(parse_price("45"), Some(4500));
        assert_eq!(parse_price("45.5"), Some(4550));
        assert_eq!(parse_price(" 45,05 "), Some(4505));
        assert_eq!(parse_price("0"), Some(0));
        for bad in ["", "-3", "4.567", "abc", "1e3", ".5"] {
            assert_eq!(parse_price(bad), None, "{bad:?}");
        }
        assert_eq!(format_price(4505), "45.05");
    }

    #[test]
    fn blank_ticket_rows_are_skipped_and_bad_numbers_named() {
        let mut form = EventForm::blank();
        form.capacity = "lots".into();
        form.ticket_types[0].price = "free".into();
        form.ticket_types[0].quantity = "10".into();
        form.ticket_types.push(TicketTypeForm::default());
        let (_, errors) = form.to_new_event();
        assert_eq!(errors["capacity"], Problem::NumberInvalid);
        assert_eq!(
            errors["ticket_types[0].price_amount"],
            Problem::NumberInvalid
        );
        assert_eq!(errors.len(), 2);
    }
}
