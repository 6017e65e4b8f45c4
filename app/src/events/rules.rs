//! Event rules: validation of what organizers enter, and who may manage an event.
//! Validation needs the IANA time-zone database, so it runs on the server only.
use super::{Category, EventStatus, Money};
#[cfg(feature = "ssr")]
use super::{NewEvent, NewTicketType};
use crate::auth::{Role, UserId, UserView};
#[cfg(feature = "ssr")]
use crate::error::FieldErrors;
use crate::error::{AppError, Problem};
use chrono::{DateTime, Utc};

pub const TITLE_MIN: usize = 3;
pub const TITLE_MAX: usize = 120;
pub const SUMMARY_MAX: usize = 280;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const TEXT_MAX: usize = 200;
pub const TAGS_MAX: usize = 12;
pub const CAPACITY_MAX: i64 = 1_000_000;
pub const PRICE_MAX: i64 = 100_000_000;
/// The most seats a ticket type may allow in one registration.
pub const MAX_PER_REGISTRATION: i64 = 100;

/// Active ISO 4217 currency codes.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN \
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF \
GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL \
LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG \
QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS \
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG";

pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && CURRENCIES.split_whitespace().any(|c| c == code)
}

/// An organizer may manage their own events; admins may manage any.
pub fn can_manage(actor: &UserView, organizer_id: UserId) -> bool {
    actor.role >= Role::Admin || (actor.role >= Role::Agent && actor.id == organizer_id)
}

/// Who may see an event that is not published yet: its organizer and admins.
pub fn can_see(actor: Option<&UserView>, organizer_id: UserId, status: EventStatus) -> bool {
    status != EventStatus::Draft || actor.is_some_and(|a| can_manage(a, organizer_id))
}

/// The longest reason an organizer or admin may give for cancelling an event.
pub const CANCEL_REASON_MAX: usize = 500;

/// The reason given for cancelling an event, trimmed: required, at most
/// [`CANCEL_REASON_MAX`] characters.
pub fn check_cancel_reason(reason: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    match reason.chars().count() {
        0 => Err(AppError::field("reason", Problem::Required)),
        n if n > CANCEL_REASON_MAX => Err(AppError::field(
            "reason",
            Problem::TooLong {
                max: CANCEL_REASON_MAX,
            },
        )),
        _ => Ok(reason.to_owned()),
    }
}

/// A URL-friendly version of a title; letters of any script are kept.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(80).collect()
}

/// A validated ticket type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidTicketType {
    pub name: String,
    pub price: Money,
    pub quantity: i64,
    pub max_per_registration: i64,
    pub sales_start: Option<DateTime<Utc>>,
    pub sales_end: Option<DateTime<Utc>>,
}

/// A validated event, times in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidEvent {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub description: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub venue: String,
    pub address: String,
    pub city: String,
    pub capacity: i64,
    pub max_seats_per_user: Option<i64>,
    pub ticket_types: Vec<ValidTicketType>,
}

#[cfg(feature = "ssr")]
fn text(errors: &mut FieldErrors, field: &str, value: &str, min: usize, max: usize) -> String {
    let value = value.trim();
    let len = value.chars().count();
    if min > 0 && len == 0 {
        errors.insert(field.into(), Problem::Required);
    } else if len < min {
        errors.insert(field.into(), Problem::TooShort { min });
    } else if len > max {
        errors.insert(field.into(), Problem::TooLong { max });
    }
    value.to_owned()
}

#[cfg(feature = "ssr")]
fn range(errors: &mut FieldErrors, field: &str, value: i64, min: i64, max: i64) -> i64 {
    if value < min {
        errors.insert(field.into(), Problem::TooSmall { min });
    } else if value > max {
        errors.insert(field.into(), Problem::TooLarge { max });
    }
    value
}

#[cfg(feature = "ssr")]
fn parse_time(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    tz: Option<chrono_tz::Tz>,
) -> Option<DateTime<Utc>> {
    use chrono::{LocalResult, NaiveDateTime, TimeZone};
    let value = value.trim();
    if value.is_empty() {
        errors.insert(field.into(), Problem::Required);
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"));
    match (local, tz) {
        (Ok(local), Some(tz)) => match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => {
                errors.insert(field.into(), Problem::TimeInvalid);
                None
            }
        },
        // A local time with an unknown zone: the zone's own error says what to fix.
        (Ok(_), None) => None,
        (Err(_), _) => {
            errors.insert(field.into(), Problem::TimeInvalid);
            None
        }
    }
}

#[cfg(feature = "ssr")]
fn ticket_type(
    errors: &mut FieldErrors,
    i: usize,
    t: &NewTicketType,
    tz: Option<chrono_tz::Tz>,
) -> ValidTicketType {
    let f = |name: &str| format!("ticket_types[{i}].{name}");
    let name = text(errors, &f("name"), &t.name, 1, 60);
    let currency = t.currency.trim().to_ascii_uppercase();
    if !is_currency(&currency) {
        errors.insert(f("currency"), Problem::CurrencyUnknown);
    }
    let price = range(errors, &f("price_amount"), t.price_amount, 0, PRICE_MAX);
    let quantity = range(errors, &f("quantity"), t.quantity, 1, CAPACITY_MAX);
    let max_per_registration = range(
        errors,
        &f("max_per_registration"),
        t.max_per_registration,
        1,
        MAX_PER_REGISTRATION,
    );
    let opt_time = |errors: &mut FieldErrors, name: &str, v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| parse_time(errors, &f(name), s, tz))
    };
    let sales_start = opt_time(errors, "sales_start", &t.sales_start);
    let sales_end = opt_time(errors, "sales_end", &t.sales_end);
    if let (Some(s), Some(e)) = (sales_start, sales_end)
        && e <= s
    {
        errors.insert(f("sales_end"), Problem::EndsBeforeStart);
    }
    ValidTicketType {
        name,
        price: Money {
            amount: price,
            currency,
        },
        quantity,
        max_per_registration,
        sales_start,
        sales_end,
    }
}

/// Checks everything an organizer entered and reports every problem at once, by field.
#[cfg(feature = "ssr")]
pub fn validate_event(new: &NewEvent) -> Result<ValidEvent, FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = text(&mut errors, "title", &new.title, TITLE_MIN, TITLE_MAX);
    let summary = text(&mut errors, "summary", &new.summary, 0, SUMMARY_MAX);
    let description = text(
        &mut errors,
        "description",
        &new.description,
        0,
        DESCRIPTION_MAX,
    );
    let category = Category::from_code(new.category.trim());
    if category.is_none() {
        errors.insert("category".into(), Problem::CategoryUnknown);
    }
    let mut tags: Vec<String> = new
        .tags
        .iter()
        .flat_map(|t| t.split(','))
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    tags.dedup();
    if tags.len() > TAGS_MAX {
        errors.insert("tags".into(), Problem::TooMany { max: TAGS_MAX });
    }
    let tz: Option<chrono_tz::Tz> = new.timezone.trim().parse().ok();
    if tz.is_none() {
        errors.insert("timezone".into(), Problem::TimezoneUnknown);
    }
    let starts_at = parse_time(&mut errors, "starts_at", &new.starts_at, tz);
    let ends_at = parse_time(&mut errors, "ends_at", &new.ends_at, tz);
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        errors.insert("ends_at".into(), Problem::EndsBeforeStart);
    }
    let venue = text(&mut errors, "venue", &new.venue, 1, TEXT_MAX);
    let address = text(&mut errors, "address", &new.address, 0, TEXT_MAX);
    let city = text(&mut errors, "city", &new.city, 1, 80);
    let capacity = range(&mut errors, "capacity", new.capacity, 1, CAPACITY_MAX);
    let max_seats_per_user = new
        .max_seats_per_user
        .map(|n| range(&mut errors, "max_seats_per_user", n, 1, CAPACITY_MAX));
    let ticket_types: Vec<_> = new
        .ticket_types
        .iter()
        .enumerate()
        .map(|(i, t)| ticket_type(&mut errors, i, t, tz))
        .collect();
    if ticket_types.is_empty() {
        errors.insert("ticket_types".into(), Problem::Required);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidEvent {
        slug: slugify(&title),
        title,
        summary,
        description,
        category: category.expect("checked"),
        tags,
        starts_at: starts_at.expect("checked"),
        ends_at: ends_at.expect("checked"),
        timezone: new.timezone.trim().to_owned(),
        venue,
        address,
        city,
        capacity,
        max_seats_per_user,
        ticket_types,
    })
}

// The bounds of what a URL, a query string or a filter form may ask for. Each is checked here,
// by the functions below, for the REST handlers and the server functions alike.

/// The years a day or a month in a filter or URL may name: those `YYYY` writes (RFC 3339's
/// `full-date`), so that month arithmetic and database timestamps stay in range.
pub const YEAR_MIN: i32 = 1;
pub const YEAR_MAX: i32 = 9999;
/// The deepest page a paged list serves (the event search, the admin tables, the audit log):
/// nobody pages that far, and `(page - 1) * per_page` stays far from overflowing.
pub const PAGE_MAX: i64 = 10_000;
/// The most events one page of the search holds.
pub const PER_PAGE_MAX: i64 = 100;

/// `value` if it lies in `min..=max`, else the problem saying which end it passed.
pub fn check_range(value: i64, min: i64, max: i64) -> Result<i64, Problem> {
    if value < min {
        Err(Problem::TooSmall { min })
    } else if value > max {
        Err(Problem::TooLarge { max })
    } else {
        Ok(value)
    }
}

/// A whole number as a URL or form carries it (surrounding spaces allowed): blank gives
/// `default`, anything else must be a whole number in `min..=max`; what is not goes into
/// `errors` under `field` (and `default` comes back).
pub fn read_number(
    errors: &mut crate::error::FieldErrors,
    field: &str,
    text: Option<&str>,
    default: i64,
    (min, max): (i64, i64),
) -> i64 {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return default;
    };
    let read = text.parse::<i64>().map_err(|_| Problem::Malformed {
        detail: format!("{field} must be a whole number from {min} to {max}"),
    });
    match read.and_then(|n| check_range(n, min, max)) {
        Ok(n) => n,
        Err(problem) => {
            errors.insert(field.into(), problem);
            default
        }
    }
}

/// A page number of a paged list: 1 to [`PAGE_MAX`], refused under `page`.
pub fn check_page(page: i64) -> Result<u32, AppError> {
    check_range(page, 1, PAGE_MAX)
        .map(|p| u32::try_from(p).expect("PAGE_MAX fits in u32"))
        .map_err(|problem| AppError::field("page", problem))
}

/// The first day of a calendar month, refused under `year` (outside [`YEAR_MIN`]..=
/// [`YEAR_MAX`]) or `month` (outside 1..=12).
pub fn check_month(year: i32, month: u32) -> Result<chrono::NaiveDate, AppError> {
    let mut errors = crate::error::FieldErrors::new();
    if let Err(problem) = check_range(year.into(), YEAR_MIN.into(), YEAR_MAX.into()) {
        errors.insert("year".into(), problem);
    }
    if let Err(problem) = check_range(month.into(), 1, 12) {
        errors.insert("month".into(), problem);
    }
    match chrono::NaiveDate::from_ymd_opt(year, month, 1) {
        Some(first) if errors.is_empty() => Ok(first),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A day as a filter or query string carries it (`YYYY-MM-DD`, a year of [`YEAR_MIN`]..=
/// [`YEAR_MAX`]); `None` when it is not one.
pub fn read_day(text: &str) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (YEAR_MIN..=YEAR_MAX).contains(&d.year()))
}

/// The `from` and `to` days typed in a filter (`YYYY-MM-DD`; empty means none); what cannot be
/// read, or names a year past the bounds, goes into `errors` under its field.
pub fn read_days(
    from: &str,
    to: &str,
    errors: &mut crate::error::FieldErrors,
) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
    let mut day = |field: &str, text: &str| {
        if text.trim().is_empty() {
            return None;
        }
        let day = read_day(text);
        if day.is_none() {
            errors.insert(field.into(), Problem::TimeInvalid);
        }
        day
    };
    (day("from", from), day("to", to))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    pub fn sample() -> NewEvent {
        NewEvent {
            title: "Late Night Stand-up".into(),
            summary: "Five comedians, one microphone.".into(),
            description: "Doors at 20:30.".into(),
            category: "stand-up".into(),
            tags: vec!["comedy, english".into()],
            starts_at: "2030-03-01T21:00".into(),
            ends_at: "2030-03-01T23:00".into(),
            timezone: "Asia/Jerusalem".into(),
            venue: "The Basement".into(),
            address: "12 Allenby St".into(),
            city: "Tel Aviv".into(),
            capacity: 80,
            max_seats_per_user: None,
            ticket_types: vec![NewTicketType {
                name: "General".into(),
                price_amount: 6000,
                currency: "ils".into(),
                quantity: 80,
                max_per_registration: 4,
                sales_start: None,
                sales_end: None,
            }],
        }
    }

    #[test]
    fn local_times_are_read_in_the_event_time_zone() {
        let valid = validate_event(&sample()).unwrap();
        assert_eq!(valid.starts_at.to_rfc3339(), "2030-03-01T19:00:00+00:00");
        assert_eq!(valid.tags, ["comedy", "english"]);
        assert_eq!(valid.ticket_types[0].price.currency, "ILS");
        assert_eq!(valid.slug, "late-night-stand-up");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = sample();
        bad.title = "ab".into();
        bad.ends_at = "2030-03-01T20:00".into();
        bad.capacity = 0;
        bad.timezone = "Mars/Olympus".into();
        bad.category = "opera".into();
        bad.ticket_types[0].price_amount = -1;
        bad.ticket_types[0].currency = "XYZ".into();
        let errors = validate_event(&bad).unwrap_err();
        for field in [
            "title",
            "capacity",
            "timezone",
            "category",
            "ticket_types[0].price_amount",
            "ticket_types[0].currency",
        ] {
            assert!(
                errors.contains_key(field),
                "{field} missing from {errors:?}"
            );
        }
        let mut backwards = sample();
        backwards.ends_at = "2030-03-01T20:00".into();
        assert_eq!(
            validate_event(&backwards).unwrap_err()["ends_at"],
            Problem::EndsBeforeStart
        );
    }

    #[test]
    fn slugs_keep_hebrew_and_polish_letters() {
        assert_eq!(slugify("  Wieczór  z jazzem! "), "wieczór-z-jazzem");
        assert_eq!(slugify("ערב סטנדאפ"), "ערב-סטנדאפ");
    }

    #[test]
    fn only_the_organizer_or_an_admin_manages_an_event() {
        let user = |id, role| UserView {
            id: UserId::new(id),
            email: String::new(),
            display_name: String::new(),
            role,
            locale: Default::default(),
            created_at: Utc::now(),
            email_verified: true,
            two_factor: false,
            role_held: None,
        };
        assert!(can_manage(&user(1, Role::Agent), UserId::new(1)));
        assert!(!can_manage(&user(2, Role::Agent), UserId::new(1)));
        assert!(!can_manage(&user(1, Role::User), UserId::new(1)));
        assert!(can_manage(&user(9, Role::Admin), UserId::new(1)));
        assert!(!can_see(None, UserId::new(1), EventStatus::Draft));
        assert!(can_see(None, UserId::new(1), EventStatus::Cancelled));
    }
}
