//! A report's charts, in the reader's language and direction; the page, its tables and the CSV
//! downloads are all drawn from these, so they cannot disagree.
use super::ReportSummary;
use crate::error::AppError;
use crate::i18n::{Locale, Msg, fill};
use crate::ui::chart::{ChartData, ChartRow, Kind, Plot};

/// The chart names, in page order.
pub const CHART_IDS: [&str; 5] = [
    "by-month",
    "new-events",
    "by-category",
    "seats-by-category",
    "by-event",
];

struct Table {
    id: &'static str,
    kind: Kind,
    title: String,
    label_header: Msg,
    columns: Vec<Msg>,
    rows: Vec<(String, Vec<f64>)>,
    /// Which value columns the chart draws.
    drawn: Vec<usize>,
    /// Value columns written with one decimal (the others are counts).
    decimal: Vec<usize>,
}

impl Table {
    fn render(self, locale: Locale) -> Result<ChartData, AppError> {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|m| m.text(locale).to_owned())
            .collect();
        let plot = Plot {
            kind: self.kind,
            title: &self.title,
            labels: self.rows.iter().map(|(l, _)| l.clone()).collect(),
            series: self
                .drawn
                .iter()
                .map(|&c| {
                    (
                        columns[c].clone(),
                        self.rows.iter().map(|(_, v)| v[c]).collect(),
                    )
                })
                .collect(),
        };
        let svg = plot.svg(locale.dir() == "rtl")?;
        let decimal = self.decimal;
        Ok(ChartData {
            id: self.id.into(),
            svg,
            title: self.title,
            label_header: self.label_header.text(locale).to_owned(),
            columns,
            rows: self
                .rows
                .into_iter()
                .map(|(label, values)| ChartRow {
                    label,
                    values: values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            if decimal.contains(&i) {
                                format!("{v:.1}")
                            } else {
                                format!("{v:.0}")
                            }
                        })
                        .collect(),
                })
                .collect(),
        })
    }
}

/// Every chart of the report, drawn from its numbers.
pub fn report_charts(summary: &ReportSummary, locale: Locale) -> Result<Vec<ChartData>, AppError> {
    let months = |f: &dyn Fn(&super::MonthFigures) -> Vec<f64>| {
        summary
            .by_month
            .iter()
            .map(|m| (m.month.clone(), f(m)))
            .collect::<Vec<_>>()
    };
    let categories = |f: &dyn Fn(&super::CategoryFigures) -> f64| {
        summary
            .by_category
            .iter()
            .map(|c| (c.category.label().text(locale).to_owned(), vec![f(c)]))
            .collect::<Vec<_>>()
    };
    let tables = [
        Table {
            id: CHART_IDS[0],
            kind: Kind::Line,
            title: Msg::ReportByMonth.text(locale).to_owned(),
            label_header: Msg::ReportMonth,
            columns: vec![Msg::ReportRegistrations, Msg::ReportSeats],
            rows: months(&|m| vec![m.registrations as f64, m.seats as f64]),
            drawn: vec![0, 1],
            decimal: vec![],
        },
        Table {
            id: CHART_IDS[1],
            kind: Kind::Bar,
            title: Msg::ReportNewEvents.text(locale).to_owned(),
            label_header: Msg::ReportMonth,
            columns: vec![Msg::ReportEvents],
            rows: months(&|m| vec![m.events as f64]),
            drawn: vec![0],
            decimal: vec![],
        },
        Table {
            id: CHART_IDS[2],
            kind: Kind::Bar,
            title: Msg::ReportByCategory.text(locale).to_owned(),
            label_header: Msg::EventsFilterCategory,
            columns: vec![Msg::ReportEvents],
            rows: categories(&|c| c.events as f64),
            drawn: vec![0],
            decimal: vec![],
        },
        Table {
            id: CHART_IDS[3],
            kind: Kind::Donut,
            title: Msg::ReportSeatsByCategory.text(locale).to_owned(),
            label_header: Msg::EventsFilterCategory,
            columns: vec![Msg::ReportSeats],
            rows: categories(&|c| c.seats as f64),
            drawn: vec![0],
            decimal: vec![],
        },
        Table {
            id: CHART_IDS[4],
            kind: Kind::HorizontalBar,
            title: fill(
                Msg::ReportByEvent.text(locale),
                &[("n", &summary.by_event.len())],
            ),
            label_header: Msg::ReportEvent,
            columns: vec![
                Msg::ReportCapacity,
                Msg::ReportSeats,
                Msg::ReportUtilisationPct,
            ],
            rows: summary
                .by_event
                .iter()
                .map(|e| {
                    (
                        e.title.clone(),
                        vec![
                            e.capacity as f64,
                            e.seats_confirmed as f64,
                            (e.utilisation * 1000.0).round() / 10.0,
                        ],
                    )
                })
                .collect(),
            drawn: vec![2],
            decimal: vec![2],
        },
    ];
    tables.into_iter().map(|t| t.render(locale)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Category;
    use crate::reports::{CategoryFigures, EventFigures, MonthFigures};

    #[test]
    fn tables_carry_the_summary_numbers_and_every_chart_is_an_svg() {
        let summary = ReportSummary {
            by_month: vec![MonthFigures {
                month: "2026-10".into(),
                registrations: 7,
                seats: 9,
                events: 2,
            }],
            by_category: vec![CategoryFigures {
                category: Category::Music,
                events: 2,
                seats: 9,
            }],
            by_event: vec![EventFigures {
                event_id: crate::events::EventId::new(4),
                title: "Jazz".into(),
                capacity: 12,
                seats_confirmed: 9,
                utilisation: 0.75,
            }],
            ..Default::default()
        };
        for locale in [Locale::En, Locale::He, Locale::Pl] {
            let charts = report_charts(&summary, locale).unwrap();
            assert_eq!(
                charts.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
                CHART_IDS
            );
            assert!(charts.iter().all(|c| c.svg.starts_with("<svg")));
            assert_eq!(charts[0].rows[0].values, ["7", "9"]);
            assert_eq!(
                charts[3].rows[0].label,
                Category::Music.label().text(locale)
            );
            assert_eq!(charts[4].rows[0].values, ["12", "9", "75.0"]);
        }
    }
}
