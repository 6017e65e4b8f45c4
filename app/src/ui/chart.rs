//! Charts: an SVG drawn on the server with charts-rs, always beside a data table with the same
//! numbers (for screen readers, and for anyone who wants the figures) and, where a page offers
//! one, a CSV download of that table.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A rendered chart and its numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    /// Stable name (`by-month`, …): the anchor and the CSV file name.
    pub id: String,
    pub title: String,
    pub svg: String,
    /// Header of the label column (month, category, event).
    pub label_header: String,
    /// Headers of the value columns.
    pub columns: Vec<String>,
    /// In reading order; each row has one value per column, written as the table shows it.
    pub rows: Vec<ChartRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartRow {
    pub label: String,
    pub values: Vec<String>,
}

/// How a chart draws its series.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Line,
    /// Bars along the x axis, labels down the side: for long labels such as event titles.
    HorizontalBar,
    /// One ring slice per label, of the first series.
    Donut,
}

/// What to draw: labels along the axis and one or more named series of values.
#[cfg(feature = "ssr")]
pub struct Plot<'a> {
    pub kind: Kind,
    pub title: &'a str,
    pub labels: Vec<String>,
    pub series: Vec<(String, Vec<f64>)>,
}

#[cfg(feature = "ssr")]
const COLORS: [&str; 9] = [
    "#5b3df5", "#e8590c", "#0b8a6f", "#c2255c", "#1971c2", "#f08c00", "#6741d9", "#2f9e44",
    "#868e96",
];

#[cfg(feature = "ssr")]
impl Plot<'_> {
    /// The SVG. On right-to-left pages bars and lines run right to left, like the text.
    pub fn svg(&self, rtl: bool) -> Result<String, crate::error::AppError> {
        use charts_rs::{BarChart, HorizontalBarChart, LineChart, PieChart, Series};
        let flip = rtl && matches!(self.kind, Kind::Bar | Kind::Line);
        let ordered = |values: &[f64]| -> Vec<f32> {
            let mut v: Vec<f32> = values.iter().map(|x| *x as f32).collect();
            if flip {
                v.reverse();
            }
            v
        };
        let mut labels = self.labels.clone();
        if flip {
            labels.reverse();
        }
        let series = || -> Vec<Series> {
            self.series
                .iter()
                .map(|(name, values)| {
                    let mut s = Series::new(name.clone(), ordered(values));
                    s.label_show = self.series.len() == 1;
                    s
                })
                .collect()
        };
        let colors = COLORS.iter().map(|c| (*c).into()).collect::<Vec<_>>();
        let legend = self.series.len() > 1 || self.kind == Kind::Donut;
        macro_rules! dress {
            ($chart:expr, $height:expr) => {{
                $chart.width = 760.0;
                $chart.height = $height;
                $chart.title.text = self.title.to_owned();
                $chart.legend.show = Some(legend);
                $chart.series.colors = colors;
                $chart.font_family = "system-ui, sans-serif".into();
            }};
        }
        let svg = match self.kind {
            Kind::Bar => {
                let mut chart = BarChart::new(series(), labels);
                dress!(chart, 320.0);
                chart.svg()
            }
            Kind::Line => {
                let mut chart = LineChart::new(series(), labels);
                dress!(chart, 320.0);
                chart.svg()
            }
            Kind::HorizontalBar => {
                let height = 80.0 + 28.0 * labels.len().max(1) as f32;
                let mut chart = HorizontalBarChart::new(series(), labels);
                dress!(chart, height);
                chart.svg()
            }
            Kind::Donut => {
                let values = self
                    .series
                    .first()
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let slices = labels
                    .iter()
                    .zip(values)
                    .map(|(label, v)| Series::new(label.clone(), vec![v as f32]))
                    .collect();
                let mut chart = PieChart::new(slices);
                chart.rose_type = Some(false);
                chart.inner_radius = 60.0;
                chart.radius = 120.0;
                dress!(chart, 340.0);
                chart.svg()
            }
        };
        svg.map_err(crate::ssr::internal)
    }
}

/// The chart and, under it, its table (and the CSV of that table when `csv` links one).
#[component]
pub fn Chart(data: ChartData, #[prop(optional, into)] csv: Option<String>) -> impl IntoView {
    let download = csv.map(|href| {
        view! {
            <a class="btn btn-ghost btn-sm" href=href download=format!("{}.csv", data.id)>
                {crate::i18n::t(crate::i18n::Msg::ChartCsv)}
            </a>
        }
    });
    view! {
        <figure class="chart" id=data.id.clone() data-chart=data.id.clone()>
            <div class="chart-svg" role="img" aria-label=data.title.clone() inner_html=data.svg></div>
            <figcaption class="visually-hidden">{data.title.clone()}</figcaption>
            <table class="data-table chart-table">
                <caption class="visually-hidden">{data.title.clone()}</caption>
                <thead><tr>
                    <th scope="col">{data.label_header}</th>
                    {data.columns.into_iter().map(|c| view! { <th scope="col" class="num">{c}</th> }).collect_view()}
                </tr></thead>
                <tbody>
                    {data.rows.into_iter().map(|row| view! {
                        <tr>
                            <th scope="row"><span dir="auto">{row.label}</span></th>
                            {row.values.into_iter().map(|v| view! { <td class="num">{v}</td> }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {download}
        </figure>
    }
}
