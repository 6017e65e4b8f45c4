//! Server-rendered pages, languages, health and the OpenAPI document.
use super::{Reply, TestApp};
use crate::common::Engine;
use crate::on_both_engines;
use axum::http::StatusCode;

on_both_engines! {
    async fn the_home_page_renders_in_the_browser_language(engine: Engine) {
        let app = TestApp::new(engine).await;
        let en = app.get("/", &[]).await;
        assert_eq!(en.status, StatusCode::OK);
        assert!(en.body.contains(r#"<html lang="en" dir="ltr""#), "{}", &en.body[..200.min(en.body.len())]);
        assert!(en.body.contains("Find your next night out"));
        let he = app.get("/", &[("accept-language", "he-IL,he;q=0.9,en;q=0.5")]).await;
        assert!(he.body.contains(r#"<html lang="he" dir="rtl""#));
        assert!(he.body.contains("מצאו את הערב הבא שלכם"));
    }

    async fn the_language_switch_is_a_post_that_sets_a_cookie_and_goes_back(engine: Engine) {
        let app = TestApp::new(engine).await;
        let reply = app.switch_language("to=pl&back=%2Flogin", "http://127.0.0.1", None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.headers["location"], "/login");
        assert_eq!(reply.cookie("eventhub_lang").as_deref(), Some("pl"));
        let page = app.get("/login", &[("cookie", "eventhub_lang=pl")]).await;
        assert!(page.body.contains(r#"lang="pl""#));
        let offsite = app.switch_language("to=en&back=https%3A%2F%2Fevil.example", "http://127.0.0.1", None).await;
        assert_eq!(offsite.headers["location"], "/");
        let unknown = app.switch_language("to=xx&back=%2F", "http://127.0.0.1", None).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.body.contains("choose en, he or pl"));
        // Another site's page cannot switch a visitor's language.
        let forged = app.switch_language("to=he&back=%2F", "https://evil.example", None).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(forged.cookie("eventhub_lang").is_none());
        // A GET changes nothing: no cookie, no profile change, just "use POST".
        let (user, _, session) = app.signed_in(app::auth::Role::User).await;
        let session = format!("{}={session}", server::sessions::SESSION_COOKIE);
        let get = app.get("/lang?to=he&back=/me", &[("cookie", &session)]).await;
        assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(get.headers["allow"], "POST");
        assert!(get.cookie("eventhub_lang").is_none());
        let stored = || async {
            use app::auth::ports::AccountQueries;
            app.state.accounts.get_user(user.id).await.unwrap().unwrap().user.locale
        };
        assert_eq!(stored().await, app::i18n::Locale::En);
        // The signed-in person's post is remembered in the profile too.
        let post = app.switch_language("to=he&back=%2Fme", "http://127.0.0.1", Some(&session)).await;
        assert_eq!(post.status, StatusCode::SEE_OTHER);
        assert_eq!(stored().await, app::i18n::Locale::He);
    }

    async fn the_header_switches_language_with_a_form_post(engine: Engine) {
        let app = TestApp::new(engine).await;
        let page = app.get("/events?q=jazz", &[]).await;
        let form = page.body.split(r#"<form method="post" action="/lang">"#).nth(1).expect("the switcher's form");
        let form = &form[..form.find("</form>").unwrap()];
        assert!(form.contains(r#"name="back" value="/events?q=jazz""#), "{form}");
        for code in ["en", "he", "pl"] {
            assert!(form.contains(&format!(r#"type="submit" name="to" value="{code}""#)), "{code}: {form}");
        }
        assert!(!page.body.contains("/lang?"), "no link changes the language");
    }

    async fn unknown_pages_are_404_and_health_checks_answer(engine: Engine) {
        let app = TestApp::new(engine).await;
        let missing = app.get("/no-such-page", &[]).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.body.contains("Page not found"));
        assert_eq!(app.get("/healthz", &[]).await.status, StatusCode::OK);
        assert_eq!(app.get("/readyz", &[]).await.body, "ready");
        let api_missing = app.get("/api/v1/nothing-here", &[]).await;
        assert_eq!(api_missing.status, StatusCode::NOT_FOUND);
        assert_eq!(api_missing.json()["error"]["kind"], "not_found");
    }

    async fn the_profile_page_sends_visitors_to_sign_in(engine: Engine) {
        let app = TestApp::new(engine).await;
        let reply = app.get("/me", &[("accept", "text/html")]).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
        assert_eq!(reply.headers["location"], "/login?next=/me");
    }

    async fn the_openapi_document_describes_the_auth_endpoints(engine: Engine) {
        let app = TestApp::new(engine).await;
        let doc = app.get("/api/v1/openapi.json", &[]).await.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in ["/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/me"] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}

on_both_engines! {
    async fn writes_from_other_sites_are_refused_and_every_answer_carries_its_defences(engine: Engine) {
        use axum::http::header;
        let app = TestApp::new(engine).await;
        let (user, _) = app.bearer(app::auth::Role::User).await;
        let body = serde_json::json!({"email": user.email, "password": "granite-lily-42"}).to_string();
        // A sign-in posted from another site's page: refused, in the error shape, nothing done.
        for hostile in [
            [("origin", "https://evil.example")],
            [("sec-fetch-site", "cross-site")],
        ] {
            let reply = app.post_json("/api/v1/auth/token", &body, &hostile).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
            assert_eq!(reply.json()["error"]["kind"], "forbidden");
        }
        let form = app
            .send(
                axum::http::Request::post(<app::auth::commands::SignIn as leptos::server_fn::ServerFn>::PATH)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "https://evil.example")
                .body(axum::body::Body::from(format!("email={}&password=granite-lily-42", user.email.replace('@', "%40"))))
                .unwrap(),
            )
            .await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
        assert!(form.cookie(server::sessions::SESSION_COOKIE).is_none(), "no session for a forged sign-in");
        // The same requests from this site, or from an API client (no Origin), go through.
        let same = app.post_json("/api/v1/auth/token", &body, &[("origin", "http://127.0.0.1")]).await;
        assert_eq!(same.status, StatusCode::OK, "{}", same.body);
        let client = app.post_json("/api/v1/auth/token", &body, &[]).await;
        assert_eq!(client.status, StatusCode::OK, "{}", client.body);

        let home = app.get("/", &[]).await;
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
        ] {
            assert_eq!(home.headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
        }
        assert!(home.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_ne!(home.headers.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"));
        let me = app.get("/me", &[]).await;
        assert_eq!(me.headers[header::CACHE_CONTROL], "no-store");
        let api_me = app.call(axum::http::Method::GET, "/api/v1/me", None, Some(&format!("Bearer {}", client.json()["access_token"].as_str().unwrap()))).await;
        assert_eq!(api_me.status, StatusCode::OK, "{}", api_me.body);
        assert_eq!(api_me.headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(api_me.headers["x-content-type-options"], "nosniff");
    }
}

impl TestApp {
    /// The same state served with another request time limit (`None`: off).
    fn with_request_timeout(&self, limit: Option<std::time::Duration>) -> TestApp {
        let mut config = (*self.state.config).clone();
        config.request_timeout = limit;
        let state = server::AppState {
            config: std::sync::Arc::new(config),
            ..self.state.clone()
        };
        TestApp {
            router: server::router(state.clone()),
            state,
            _db: None,
        }
    }

    /// Posts the language switcher's form (`body` urlencoded) as a page of `origin` would.
    async fn switch_language(&self, body: &str, origin: &str, cookie: Option<&str>) -> Reply {
        use axum::http::header;
        let mut req = axum::http::Request::post("/lang")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, origin);
        if let Some(cookie) = cookie {
            req = req.header(header::COOKIE, cookie);
        }
        self.send(req.body(axum::body::Body::from(body.to_owned())).unwrap())
            .await
    }
}

/// The nonce a page's Content-Security-Policy names.
fn nonce_of(reply: &Reply) -> String {
    let csp = reply.headers[axum::http::header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let rest = csp
        .split("'nonce-")
        .nth(1)
        .unwrap_or_else(|| panic!("no nonce in {csp}"));
    rest[..rest.find('\'').unwrap()].to_owned()
}

/// The opening tags of the page's inline scripts (no `src`), JSON-LD data blocks left out.
fn inline_scripts(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .map(|(at, _)| &html[at..at + html[at..].find('>').unwrap() + 1])
        .filter(|tag| !tag.contains(" src=") && !tag.contains("application/ld+json"))
        .collect()
}

on_both_engines! {
    async fn pages_get_a_strict_policy_whose_fresh_nonce_their_scripts_carry(engine: Engine) {
        use axum::http::header::CONTENT_SECURITY_POLICY;
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(app::auth::Role::Agent).await;
        let (event, _) = app.published_event(&agent, "Night of jazz", 50, 50, 4, 0).await;
        let home = app.get("/", &[]).await;
        let csp = home.headers[CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        let nonce = nonce_of(&home);
        assert_eq!(
            csp,
            format!(
                "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
                 style-src 'self'; img-src 'self' data: https://res.cloudinary.com; \
                 connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
                 frame-ancestors 'none'"
            )
        );
        assert!(nonce.len() >= 22, "at least 128 bits: {nonce}");
        assert_ne!(nonce_of(&app.get("/", &[]).await), nonce, "one nonce per request");
        // The hydration script and the streamed resource data carry the nonce; so does every
        // other inline script, on the home page, an event page (its JSON-LD is data, not a
        // script) and the 404 page the fallback renders.
        let event_page = app.get(&format!("/events/{event}"), &[]).await;
        assert!(event_page.body.contains(r#"<script type="application/ld+json">"#));
        for page in [home, event_page, app.get("/no-such-page", &[]).await] {
            let nonce = nonce_of(&page);
            let scripts = inline_scripts(&page.body);
            assert!(scripts.len() >= 2, "{scripts:?}");
            for tag in scripts {
                assert!(tag.contains(&format!(r#"nonce="{nonce}""#)), "{tag} lacks {nonce}");
            }
            assert!(!page.body.contains(" style=") && !page.body.contains("<style"), "inline styles need a policy change");
        }
        // Everything that is not a page may do nothing in a browser.
        for path in ["/api/v1/events", "/healthz", &format!("/events/{event}/calendar.ics")] {
            let reply = app.get(path, &[]).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(reply.headers[CONTENT_SECURITY_POLICY], "default-src 'none'; frame-ancestors 'none'", "{path}");
        }
    }

    async fn only_the_listed_origins_get_cors_and_only_on_the_rest_api(engine: Engine) {
        use axum::http::{Method, Request, header};
        let preflight = |origin: &str| {
            Request::builder()
                .method(Method::OPTIONS)
                .uri("/api/v1/events")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type,idempotency-key")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let cors_headers = |reply: &Reply| {
            reply.headers.keys().filter(|k| k.as_str().starts_with("access-control-")).count()
        };
        // Unset: no CORS header at all.
        let plain = TestApp::new(engine).await;
        assert_eq!(cors_headers(&plain.send(preflight("https://app.example")).await), 0);
        assert_eq!(cors_headers(&plain.get("/api/v1/events", &[("origin", "https://app.example")]).await), 0);

        let app = TestApp::with_config(engine, |c| {
            c.cors_origins = vec!["https://app.example".into(), "http://localhost:8080".into()];
        })
        .await;
        let ok = app.send(preflight("https://app.example")).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        let methods = ok.headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().unwrap();
        for method in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
            assert!(methods.contains(method), "{methods}");
        }
        let allowed = ok.headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().to_ascii_lowercase();
        for name in ["authorization", "content-type", "idempotency-key"] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert!(ok.headers.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none(), "no credentials");
        // Another origin learns nothing; pages and server functions never answer CORS.
        let other = app.send(preflight("https://evil.example")).await;
        assert!(other.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(cors_headers(&app.get("/", &[("origin", "https://app.example")]).await), 0);

        // The listed site's page signs in (the guard lets its API writes through) and writes
        // with the token; the same posts from another site stay refused.
        let (user, _) = app.bearer(app::auth::Role::Agent).await;
        let body = serde_json::json!({"email": user.email, "password": "granite-lily-42"}).to_string();
        let browser = |origin| [("origin", origin), ("sec-fetch-site", "cross-site")];
        let token = app.post_json("/api/v1/auth/token", &body, &browser("https://app.example")).await;
        assert_eq!(token.status, StatusCode::OK, "{}", token.body);
        assert_eq!(token.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        let refused = app.post_json("/api/v1/auth/token", &body, &browser("https://evil.example")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let bearer = format!("Bearer {}", token.json()["access_token"].as_str().unwrap());
        let delete = app
            .send(
                Request::delete("/api/v1/events/987654")
                    .header(header::ORIGIN, "https://app.example")
                    .header("sec-fetch-site", "cross-site")
                    .header(header::AUTHORIZATION, &bearer)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(delete.status, StatusCode::NOT_FOUND, "past the guard: {}", delete.body);
        assert_eq!(delete.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://app.example");
        // A listed origin is no pass for the pages' own forms (server functions, /lang).
        let form = app.switch_language("to=he&back=%2F", "https://app.example", None).await;
        assert_eq!(form.status, StatusCode::FORBIDDEN);
    }

    async fn slow_requests_get_503_but_streams_are_not_cut(engine: Engine) {
        use axum::http::header;
        let app = TestApp::new(engine).await;
        let (_, agent) = app.bearer(app::auth::Role::Agent).await;
        let (event, _) = app.published_event(&agent, "Open air", 50, 50, 4, 0).await;
        // The same server with a limit that a sign-in (an Argon2 hash: milliseconds) exceeds.
        let limited = app.with_request_timeout(Some(std::time::Duration::from_nanos(1)));
        let (user, _) = app.bearer(app::auth::Role::User).await;
        let slow = limited.token(&user.email, "granite-lily-42").await;
        assert_eq!(slow.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(slow.headers["x-content-type-options"], "nosniff", "the guard's headers too");
        // A stream is exempt: it opens and stays open.
        let stream = limited.open_stream(&format!("/events/{event}/seats")).await;
        assert_eq!(stream.status(), StatusCode::OK);
        assert_eq!(stream.headers()[header::CONTENT_TYPE], "text/event-stream");
        // `off`: no limit.
        let unlimited = app.with_request_timeout(None);
        let signed_in = unlimited.token(&user.email, "granite-lily-42").await;
        assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    }
}
