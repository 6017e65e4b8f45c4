//! Server-rendered pages, languages, health and the OpenAPI document.
use super::TestApp;
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

    async fn the_language_switch_sets_a_cookie_and_goes_back(engine: Engine) {
        let app = TestApp::new(engine).await;
        let reply = app.get("/lang?to=pl&back=/login", &[]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.headers["location"], "/login");
        assert_eq!(reply.cookie("eventhub_lang").as_deref(), Some("pl"));
        let page = app.get("/login", &[("cookie", "eventhub_lang=pl")]).await;
        assert!(page.body.contains(r#"lang="pl""#));
        let offsite = app.get("/lang?to=en&back=https://evil.example", &[]).await;
        assert_eq!(offsite.headers["location"], "/");
        let unknown = app.get("/lang?to=xx&back=/", &[]).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.body.contains("choose en, he or pl"));
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
