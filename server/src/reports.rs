//! The report port on the database. Registration numbers come from the rollup tables the
//! triggers of migration 0008 keep (`registration_totals`, `registration_months`), so a report
//! reads a few rows per event instead of every registration; event numbers come from the event
//! rows and their seat counters. Five statements per report, whatever the filter.
use crate::db::Db;
use crate::error::StoreError;
use crate::sql::Sql;
use app::auth::rules::check_role;
use app::auth::{Role, UserView};
use app::error::AppError;
use app::events::{Category, EventStatus, Money};
use app::reports::ports::ReportQueries;
use app::reports::{
    BY_EVENT_LIMIT, CategoryFigures, EventFigures, MONTHS, MonthFigures, ReportFilter, ReportScope,
    ReportSummary, ReportTotals, ratio,
};
use app::ssr::internal;
use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Reports {
    db: Db,
}

impl Reports {
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Reports { db })
    }
}

fn midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// The conditions on `events e` that put an event in the report.
fn scope_conditions(actor: &UserView, scope: ReportScope, filter: &ReportFilter) -> Sql {
    let mut sql = Sql::new("1 = 1");
    if scope == ReportScope::Own {
        sql.push(" AND e.organizer_id = ").bind(actor.id);
    }
    if let Some(category) = filter.category {
        sql.push(" AND e.category = ").bind(category.code());
    }
    if let Some(from) = filter.from {
        sql.push(" AND e.starts_at >= ").bind(midnight(from));
    }
    if let Some(to) = filter.to {
        let next = to.succ_opt().unwrap_or(to);
        sql.push(" AND e.starts_at < ").bind(midnight(next));
    }
    sql
}

/// The twelve months (`YYYY-MM`, oldest first) ending with the filter's end day or today.
fn month_window(filter: &ReportFilter) -> Vec<NaiveDate> {
    let end = filter.to.unwrap_or_else(|| Utc::now().date_naive());
    let last = end.with_day(1).expect("day 1 exists");
    (0..MONTHS)
        .rev()
        .map(|back| {
            last.checked_sub_months(Months::new(back))
                .expect("month in range")
        })
        .collect()
}

fn month_key(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

type EventGroup = (String, String, i64, i64, i64);
type RegistrationGroup = (String, String, Option<String>, i64, i64, i64);

#[async_trait::async_trait]
impl ReportQueries for Reports {
    async fn summary(
        &self,
        actor: &UserView,
        scope: ReportScope,
        filter: &ReportFilter,
    ) -> Result<ReportSummary, AppError> {
        check_role(
            actor,
            match scope {
                ReportScope::All => Role::Admin,
                ReportScope::Own => Role::Agent,
            },
        )?;
        let cond = scope_conditions(actor, scope, filter);
        let months = month_window(filter);
        let (first, last) = (months[0], *months.last().expect("twelve months"));
        let after_last = last
            .checked_add_months(Months::new(1))
            .expect("month in range");
        let sqlite = matches!(self.db, Db::Sqlite(_));
        let created_month = if sqlite {
            "substr(e.created_at, 1, 7)"
        } else {
            "to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM')"
        };

        let mut events = Sql::new(
            "SELECT e.category, e.status, COUNT(*), CAST(SUM(e.seats_confirmed) AS BIGINT), \
             CAST(SUM(e.capacity) AS BIGINT) FROM events e WHERE ",
        );
        events.append(&cond).push(" GROUP BY e.category, e.status");

        // Every event counts: the rollups alone answer, without a join to `events` (the
        // rollups of a deleted event go with it).
        let every_event = scope == ReportScope::All
            && filter.category.is_none()
            && filter.from.is_none()
            && filter.to.is_none();
        let join_events = |rollup: &str| {
            if every_event {
                String::new()
            } else {
                format!("JOIN events e ON e.id = {rollup}.event_id ")
            }
        };
        let on_events = if every_event {
            Sql::new("1 = 1")
        } else {
            cond.clone()
        };
        let mut registrations = Sql::new(&format!(
            "SELECT t.status, t.payment, tt.currency, CAST(SUM(t.registrations) AS BIGINT), \
             CAST(SUM(t.seats) AS BIGINT), CAST(SUM(t.seats * tt.price_amount) AS BIGINT) \
             FROM registration_totals t {}\
             LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id WHERE ",
            join_events("t")
        ));
        registrations
            .append(&on_events)
            .push(" GROUP BY t.status, t.payment, tt.currency");

        let mut by_month = Sql::new(&format!(
            "SELECT m.month, CAST(SUM(m.registrations) AS BIGINT), CAST(SUM(m.seats) AS BIGINT) \
             FROM registration_months m {} WHERE m.month >= ",
            join_events("m")
        ));
        by_month
            .bind(month_key(first))
            .push(" AND m.month <= ")
            .bind(month_key(last))
            .push(" AND ")
            .append(&on_events)
            .push(" GROUP BY m.month");

        let mut new_events = Sql::new(&format!(
            "SELECT {created_month}, COUNT(*) FROM events e WHERE e.created_at >= "
        ));
        new_events
            .bind(midnight(first))
            .push(" AND e.created_at < ")
            .bind(midnight(after_last))
            .push(" AND ")
            .append(&cond)
            .push(&format!(" GROUP BY {created_month}"));

        let mut by_event = Sql::new(
            "SELECT e.id, e.title, e.capacity, e.seats_confirmed FROM events e \
             WHERE e.status IN ('published', 'completed') AND ",
        );
        by_event
            .append(&cond)
            .push(" ORDER BY e.starts_at DESC, e.id DESC LIMIT ")
            .bind(BY_EVENT_LIMIT as i64);

        let people = match scope {
            ReportScope::All => Sql::new("SELECT role, COUNT(*) FROM users GROUP BY role"),
            ReportScope::Own => {
                let mut sql = Sql::new(
                    "SELECT 'attendees', COUNT(DISTINCT r.user_id) FROM registrations r \
                     JOIN events e ON e.id = r.event_id \
                     WHERE r.status IN ('confirmed', 'waitlisted') AND ",
                );
                sql.append(&cond);
                sql
            }
        };

        #[allow(clippy::type_complexity)]
        let (
            event_groups,
            registration_groups,
            month_rows,
            new_event_rows,
            event_rows,
            people_rows,
        ): (
            Vec<EventGroup>,
            Vec<RegistrationGroup>,
            Vec<(String, i64, i64)>,
            Vec<(String, i64)>,
            Vec<(i64, String, i64, i64)>,
            Vec<(String, i64)>,
        ) = {
            // Six reads on six connections at once: the report waits for the slowest one,
            // not for the sum of them.
            let db = &self.db;
            tokio::try_join!(
                db.fetch_all(events),
                db.fetch_all(registrations),
                db.fetch_all(by_month),
                db.fetch_all(new_events),
                db.fetch_all(by_event),
                db.fetch_all(people),
            )
            .map_err(StoreError::from)?
        };

        let mut totals = ReportTotals::default();
        let mut categories: BTreeMap<usize, CategoryFigures> = BTreeMap::new();
        let (mut seats_sold, mut capacity) = (0i64, 0i64);
        for (category, status, count, seats, cap) in event_groups {
            let status = EventStatus::from_code(&status)
                .ok_or_else(|| internal(format!("unknown event status {status:?}")))?;
            let category = Category::from_code(&category)
                .ok_or_else(|| internal(format!("unknown category {category:?}")))?;
            totals.events += count;
            if status == EventStatus::Published {
                totals.published_events += count;
            }
            if matches!(status, EventStatus::Published | EventStatus::Completed) {
                seats_sold += seats;
                capacity += cap;
                let position = Category::ALL
                    .iter()
                    .position(|c| *c == category)
                    .unwrap_or(0);
                let entry = categories.entry(position).or_insert(CategoryFigures {
                    category,
                    events: 0,
                    seats: 0,
                });
                entry.events += count;
                entry.seats += seats;
            }
        }

        let mut revenue: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (status, payment, currency, count, seats, amount) in registration_groups {
            match status.as_str() {
                "confirmed" => {
                    totals.registrations_confirmed += count;
                    totals.seats_confirmed += seats;
                    if let Some(currency) = currency {
                        let entry = revenue.entry(currency).or_default();
                        entry.0 += amount;
                        if payment == "paid" {
                            entry.1 += amount;
                        }
                    }
                }
                "waitlisted" => totals.registrations_waitlisted += count,
                _ => totals.registrations_cancelled += count,
            }
        }
        for (currency, (confirmed, paid)) in revenue {
            if confirmed > 0 {
                totals.revenue.push(Money {
                    amount: confirmed,
                    currency: currency.clone(),
                });
            }
            if paid > 0 {
                totals.revenue_paid.push(Money {
                    amount: paid,
                    currency,
                });
            }
        }

        for (role, count) in people_rows {
            match role.as_str() {
                "agent" => totals.agents += count,
                "admin" => totals.admins += count,
                _ => {}
            }
            totals.users += count;
        }

        let by_month = months
            .iter()
            .map(|m| {
                let key = month_key(*m);
                let (registrations, seats) = month_rows
                    .iter()
                    .find(|(k, _, _)| *k == key)
                    .map_or((0, 0), |(_, r, s)| (*r, *s));
                let events = new_event_rows
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(0, |(_, n)| *n);
                MonthFigures {
                    month: key,
                    registrations,
                    seats,
                    events,
                }
            })
            .collect();

        Ok(ReportSummary {
            totals,
            by_month,
            by_category: categories.into_values().collect(),
            by_event: event_rows
                .into_iter()
                .map(
                    |(event_id, title, capacity, seats_confirmed)| EventFigures {
                        event_id: event_id.into(),
                        title,
                        capacity,
                        seats_confirmed,
                        utilisation: ratio(seats_confirmed, capacity),
                    },
                )
                .collect(),
            utilisation: ratio(seats_sold, capacity),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_months_end_with_the_filter_end_and_cross_the_year() {
        let filter = ReportFilter {
            to: NaiveDate::from_ymd_opt(2026, 3, 15),
            ..Default::default()
        };
        let months: Vec<String> = month_window(&filter).into_iter().map(month_key).collect();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], "2025-04");
        assert_eq!(months[11], "2026-03");
    }
}
