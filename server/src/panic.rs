//! A panic while answering a request is caught, logged with what it said, and answered `500`
//! in the API's error shape (`{"error": {"kind": "internal", "message": …}}`, the generic
//! message of `AppError::Internal`), instead of the connection closing without an answer.
//! Pages, server functions and the REST API all get this one shape: the browser shows its
//! generic error, and no detail of the panic leaves the server.
use crate::rest::error::ApiError;
use app::error::AppError;
use axum::response::{IntoResponse, Response};
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// What [`answer`] is, as the layer names it.
pub type PanicAnswer = fn(Box<dyn Any + Send + 'static>) -> Response;

/// The layer `router()` puts around every route.
pub fn layer() -> CatchPanicLayer<PanicAnswer> {
    CatchPanicLayer::custom(answer as PanicAnswer)
}

/// Logs the panic's message (a `panic!` carries a `&str` or a `String`) and answers `500`.
/// The request's span (the trace layer's, outside this one) ties the line to its path.
fn answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request panicked; answered 500");
    ApiError(AppError::Internal).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(router: &Router, path: &str) -> (StatusCode, Option<String>, String) {
        let res = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape() {
        // A literal message panics with a `&str`, a formatted one with a `String`.
        async fn literal() -> &'static str {
            panic!("the handler broke")
        }
        async fn formatted() -> &'static str {
            panic!("{}", String::from("password hunter2 leaked"))
        }
        let router = Router::new()
            .route("/str", get(literal))
            .route("/string", get(formatted))
            .route("/fine", get(|| async { "ok" }))
            .layer(layer());
        for path in ["/str", "/string"] {
            let (status, content_type, body) = call(&router, path).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            assert_eq!(content_type.as_deref(), Some("application/json"));
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(json["error"]["kind"], "internal");
            assert_eq!(
                json["error"]["message"],
                AppError::Internal.text(app::i18n::Locale::En)
            );
            assert!(
                !body.contains("hunter2") && !body.contains("broke"),
                "{body}"
            );
        }
        // The router keeps serving after a panic.
        assert_eq!(call(&router, "/fine").await.2, "ok");
    }
}
