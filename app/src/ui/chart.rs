//! Charts: an SVG drawn on the server with charts-rs, always beside a data table with the same
//! numbers (for screen readers, and for anyone who wants the figures).
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A rendered chart and its numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub title: String,
    pub svg: String,
    /// (label, value), in reading order.
    pub rows: Vec<(String, i64)>,
    pub label_header: String,
    pub value_header: String,
}

/// Draws a bar chart. For right-to-left pages the bars run right to left, like the text.
#[cfg(feature = "ssr")]
pub fn bar_chart(
    title: &str,
    series: &str,
    rows: &[(String, i64)],
    rtl: bool,
) -> Result<String, crate::error::AppError> {
    use charts_rs::{BarChart, Series};
    let mut ordered = rows.to_vec();
    if rtl {
        ordered.reverse();
    }
    let labels = ordered.iter().map(|(l, _)| l.clone()).collect();
    let values = ordered.iter().map(|(_, v)| *v as f32).collect();
    let mut series = Series::new(series.to_owned(), values);
    series.label_show = true;
    let mut chart = BarChart::new(vec![series], labels);
    chart.width = 760.0;
    chart.height = 320.0;
    chart.title.text = title.to_owned();
    chart.legend.show = Some(false);
    chart.series.colors = vec!["#5b3df5".into()];
    chart.font_family = "system-ui, sans-serif".into();
    chart.svg().map_err(crate::ssr::internal)
}

/// The chart and, under it, its table.
#[component]
pub fn Chart(data: ChartData) -> impl IntoView {
    view! {
        <figure class="chart">
            <div class="chart-svg" role="img" aria-label=data.title.clone() inner_html=data.svg></div>
            <figcaption class="visually-hidden">{data.title.clone()}</figcaption>
            <table class="data-table chart-table">
                <thead><tr><th scope="col">{data.label_header}</th><th scope="col" class="num">{data.value_header}</th></tr></thead>
                <tbody>
                    {data.rows.into_iter().map(|(label, value)| view! {
                        <tr><th scope="row">{label}</th><td class="num">{value}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </figure>
    }
}
