//! Property tests of the event search's query parameters through the real router (SQLite):
//! whatever a visitor puts in the URL, `GET /api/v1/events` answers a page that keeps its
//! bounds or a 422 naming the parameters it could not read, and `/events` always renders.
#[path = "common/mod.rs"]
mod common;

use app::events::Category;
use app::ui::urlencode;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Every parameter the search reads.
const NAMES: [&str; 11] = [
    "q",
    "category",
    "city",
    "from",
    "to",
    "price_max",
    "free",
    "available",
    "sort",
    "page",
    "per_page",
];

/// The bounds the API documents: the deepest page, and the most events on one page.
const PAGE_MAX: i64 = app::events::rules::PAGE_MAX;
const PER_PAGE_MAX: i64 = app::events::rules::PER_PAGE_MAX;

/// How many published events the database holds.
const EVENTS: i64 = 3;

struct Site {
    rt: tokio::runtime::Runtime,
    router: Router,
    _db: common::TestDb,
}

impl Site {
    /// A migrated SQLite database with `EVENTS` published events, and the router in front.
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (router, db) = rt.block_on(async {
            let (state, db) = common::state(common::Engine::Sqlite).await;
            let new = app::auth::NewUser {
                email: "agent@example.com".into(),
                display_name: "Agent".into(),
                password: "granite-lily-42".into(),
            };
            let agent = state
                .accounts
                .create(new, app::auth::Role::Agent, Default::default())
                .await
                .expect("agent");
            let auth = format!("Bearer {}", state.tokens.issue(&agent, 0).expect("token"));
            let router = server::router(state);
            let start = chrono::Utc::now() + chrono::Duration::days(5);
            for (i, title) in ["Rooftop Jazz", "Late Laughs", "Wieczór pełen śmiechu"]
                .iter()
                .enumerate()
            {
                let body = json!({
                    "title": title, "summary": "s", "description": "d", "category": "music",
                    "tags": [], "starts_at": start + chrono::Duration::hours(i as i64),
                    "ends_at": start + chrono::Duration::hours(i as i64 + 2),
                    "timezone": "Asia/Jerusalem", "venue": "Barby", "address": "",
                    "city": "Tel Aviv", "capacity": 10,
                    "ticket_types": [{"name": "General",
                        "price": {"amount": 5000, "currency": "ILS"},
                        "quantity": 10, "max_per_registration": 4}]
                });
                let created = send(&router, "POST", "/api/v1/events", Some(body), &auth).await;
                assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
                let id = serde_json::from_str::<Value>(&created.1).expect("JSON")["event"]["id"]
                    .as_str()
                    .expect("an id")
                    .to_owned();
                let path = format!("/api/v1/events/{id}/publish");
                let published = send(&router, "POST", &path, None, &auth).await;
                assert_eq!(published.0, StatusCode::OK, "{}", published.1);
            }
            (router, db)
        });
        Site {
            rt,
            router,
            _db: db,
        }
    }

    fn get(&self, path: &str) -> (StatusCode, String) {
        self.rt.block_on(send(&self.router, "GET", path, None, ""))
    }
}

async fn send(
    router: &Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    auth: &str,
) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path);
    if !auth.is_empty() {
        req = req.header("authorization", auth);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let res = router
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("router answers");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A value for parameter `name`, and whether it is one the search must accept.
fn value_of(name: &'static str) -> BoxedStrategy<(String, bool)> {
    let valid: BoxedStrategy<String> = match name {
        "q" | "city" => any::<String>().boxed(),
        "category" => {
            prop::sample::select(Category::ALL.map(|c| c.code().to_owned()).to_vec()).boxed()
        }
        "from" | "to" => prop_oneof![
            (2000i32..2100, 1u32..=12, 1u32..=28)
                .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}")),
            Just("2026-05-01T20:00:00+02:00".to_owned()),
            Just("2026-05-01T18:00:00Z".to_owned()),
        ]
        .boxed(),
        "price_max" => (0i64..1_000_000).prop_map(|n| n.to_string()).boxed(),
        "free" | "available" => prop::sample::select(vec!["true", "false", "1", "0"])
            .prop_map(str::to_owned)
            .boxed(),
        "sort" => prop::sample::select(vec![
            "starts_at",
            "-created_at",
            "popularity",
            "price",
            "relevance",
        ])
        .prop_map(str::to_owned)
        .boxed(),
        "page" => (1i64..=10).prop_map(|n| n.to_string()).boxed(),
        "per_page" => (1i64..=100).prop_map(|n| n.to_string()).boxed(),
        _ => unreachable!("{name}"),
    };
    // Values that sit on the edges of what parses, or anything at all: the search may take
    // them or refuse them, but only by a 422 naming this parameter.
    let edgy = prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "0",
            "-1",
            "1",
            "2",
            "100",
            "101",
            "10000",
            "10001",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "1e3",
            "1.5",
            "NaN",
            "inf",
            "+5",
            " 5 ",
            "٣",
            "true",
            "TRUE",
            "yes",
            "music",
            "Music",
            "2026-02-30",
            "2026-13-01",
            "+275760-09-13",
            "9999-12-31T23:59:59Z",
            "2026-05-01T25:00:00Z",
            "%",
            "%00",
            "\0",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9]{12,20}",
        any::<String>(),
    ];
    prop_oneof![
        // Mostly good values, so that a single bad one decides the answer.
        8 => valid.prop_map(|v| (v, true)),
        1 => edgy.prop_map(|v| (v, false)),
    ]
    .boxed()
}

/// Some of the parameters, each with a value.
fn params() -> impl Strategy<Value = Vec<(&'static str, String, bool)>> {
    let each: Vec<_> = NAMES
        .iter()
        .map(|&name| {
            proptest::option::weighted(0.5, value_of(name))
                .prop_map(move |v| v.map(|(value, ok)| (name, value, ok)))
        })
        .collect();
    each.prop_map(|all| all.into_iter().flatten().collect())
}

fn query_string(params: &[(&'static str, String, bool)]) -> String {
    params
        .iter()
        .map(|(k, v, _)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What holds for every answer of `GET /api/v1/events`, whatever was asked.
fn check_answer(status: StatusCode, body: &str) -> Result<Value, TestCaseError> {
    prop_assert!(
        status == StatusCode::OK || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}: {body}"
    );
    let json: Value =
        serde_json::from_str(body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
    if status == StatusCode::OK {
        let (page, per_page) = (json["page"].as_i64(), json["per_page"].as_i64());
        let (Some(page), Some(per_page)) = (page, per_page) else {
            return Err(TestCaseError::fail(format!("no page in {body}")));
        };
        prop_assert!((1..=PAGE_MAX).contains(&page), "{body}");
        prop_assert!((1..=PER_PAGE_MAX).contains(&per_page), "{body}");
        let items = json["items"].as_array().map_or(0, Vec::len) as i64;
        let total = json["total"].as_i64().expect("a total");
        prop_assert!(total <= EVENTS, "{body}");
        // The page holds what is left after the pages before it, up to a page full.
        let before = (page - 1).saturating_mul(per_page);
        prop_assert_eq!(items, (total - before.min(total)).min(per_page), "{}", body);
    } else {
        prop_assert_eq!(json["error"]["kind"].as_str(), Some("invalid"), "{}", body);
        let fields = json["error"]["fields"].as_object();
        prop_assert!(
            fields.is_some_and(|f| !f.is_empty()),
            "a 422 names its fields: {}",
            body
        );
    }
    Ok(json)
}

#[test]
fn the_api_search_answers_a_bounded_page_or_names_the_bad_parameters() {
    let site = Site::new();
    proptest!(ProptestConfig::with_cases(256), |(params in params())| {
        let path = format!("/api/v1/events?{}", query_string(&params));
        let (status, body) = site.get(&path);
        let json = check_answer(status, &body)?;
        let blank = |v: &str| v.trim().is_empty();
        if status == StatusCode::OK {
            let page = params
                .iter()
                .find(|p| p.0 == "page" && !blank(&p.1))
                .map(|p| p.1.trim().parse::<i64>().expect("a page that was taken"));
            prop_assert_eq!(json["page"].as_i64(), Some(page.unwrap_or(1)), "{}", path);
        } else {
            for field in json["error"]["fields"].as_object().expect("fields").keys() {
                let given = params.iter().find(|p| p.0 == field);
                let bad = given.is_some_and(|(_, v, ok)| !ok && !blank(v));
                prop_assert!(bad, "{} named for {}", field, path);
            }
        }
        if params.iter().all(|p| p.2) {
            prop_assert_eq!(status, StatusCode::OK, "{}: {}", path, body);
        }
    });
}

/// A page number as a visitor or a script might send it.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-3i64..200).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..64).prop_map(|shift| (1i64 << shift).to_string()),
        prop::sample::select(vec![
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "00000000000000000001",
            "1e2",
            "+3",
            " 7 "
        ])
        .prop_map(str::to_owned),
    ]
}

#[test]
fn the_api_pages_stay_in_bounds() {
    let site = Site::new();
    // What the API promises for a page number: blank is the default, a whole number in its
    // range is taken, anything else is a 422 naming it.
    let read = |v: &Option<String>, default: i64, max: i64| match v.as_deref().map(str::trim) {
        None | Some("") => Some(default),
        Some(v) => v.parse().ok().filter(|n| (1..=max).contains(n)),
    };
    proptest!(ProptestConfig::with_cases(256), |(
        page in proptest::option::of(number()),
        per_page in proptest::option::of(number()),
    )| {
        let mut params = Vec::new();
        if let Some(page) = &page {
            params.push(("page", page.clone(), false));
        }
        if let Some(per_page) = &per_page {
            params.push(("per_page", per_page.clone(), false));
        }
        let path = format!("/api/v1/events?{}", query_string(&params));
        let (status, body) = site.get(&path);
        let json = check_answer(status, &body)?;
        match (read(&page, 1, PAGE_MAX), read(&per_page, 20, PER_PAGE_MAX)) {
            (Some(page), Some(per_page)) => {
                prop_assert_eq!(status, StatusCode::OK, "{}: {}", path, body);
                prop_assert_eq!(json["page"].as_i64(), Some(page));
                prop_assert_eq!(json["per_page"].as_i64(), Some(per_page));
            }
            (page_ok, per_page_ok) => {
                prop_assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}: {}", path, body);
                let fields = &json["error"]["fields"];
                let named = fields.get("page").is_some();
                prop_assert_eq!(named, page_ok.is_none(), "{}", body);
                let named = fields.get("per_page").is_some();
                prop_assert_eq!(named, per_page_ok.is_none(), "{}", body);
            }
        }
    });
}

#[test]
fn the_api_search_survives_any_query_string() {
    let site = Site::new();
    let piece = prop_oneof![
        prop::sample::select(NAMES.to_vec()).prop_map(|n| format!("{n}=")),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("%".to_owned()),
        "%[0-9A-Fa-f]{2}",
        Just("%zz".to_owned()),
        Just("+".to_owned()),
        Just("page=1&page=2".to_owned()),
        "[0-9]{1,20}",
        "-?[0-9]{1,4}",
        any::<String>().prop_map(|s| urlencode(&s)),
    ];
    proptest!(ProptestConfig::with_cases(256), |(pieces in prop::collection::vec(piece, 0..16))| {
        let path = format!("/api/v1/events?{}", pieces.concat());
        let (status, body) = site.get(&path);
        let json = check_answer(status, &body)?;
        if let Some(fields) = json["error"]["fields"].as_object() {
            for field in fields.keys() {
                prop_assert!(NAMES.contains(&field.as_str()), "{} named for {}", field, path);
            }
        }
    });
}

#[test]
fn the_events_page_renders_whatever_the_url_says() {
    let site = Site::new();
    proptest!(ProptestConfig::with_cases(64), |(
        params in params(),
        page in proptest::option::of(number()),
    )| {
        let mut params = params;
        if let Some(page) = page {
            params.retain(|p| p.0 != "page");
            params.push(("page", page, false));
        }
        let path = format!("/events?{}", query_string(&params));
        let (status, body) = site.get(&path);
        prop_assert_eq!(status, StatusCode::OK, "{}: {}", path, body);
        prop_assert!(body.contains("results-count"), "the results rendered for {}", path);
        // The page reads `page` leniently (1 when unreadable); past the first page of 12
        // there is nothing left of the 3 events, however deep the page.
        let page = params
            .iter()
            .find(|p| p.0 == "page")
            .and_then(|p| p.1.trim().parse::<i64>().ok());
        if page.is_some_and(|p| p > 1) {
            let empty = body.contains(r#"class="empty panel""#);
            prop_assert!(empty, "a page past the end lists nothing: {}", path);
        }
    });
}
