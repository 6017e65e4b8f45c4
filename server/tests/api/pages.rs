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
