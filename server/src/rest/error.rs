//! The REST error shape of API.md: `{"error": {"kind", "message", "fields"}}` with the kind's
//! status, and a JSON body extractor whose rejections use that shape (never a bare 4xx/500).
use app::error::{AppError, Problem};
use app::i18n::Locale;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// unauthenticated · forbidden · not_found · conflict · invalid · rate_limited ·
    /// payload_too_large · internal
    pub kind: String,
    pub message: String,
    /// Field name → what is wrong with it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// An `AppError` on its way out of a REST handler.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let fields = err
            .field_errors()
            .into_iter()
            .map(|(k, p)| (k, p.text(Locale::En)))
            .collect();
        let body = ErrorBody {
            error: ErrorDetail {
                kind: err.kind().into(),
                message: err.text(Locale::En),
                fields,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let Some(secs) = err.retry_after() {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// `Json<T>` whose rejections (bad syntax, wrong types, missing fields, wrong content type,
/// too large) answer in the API's error shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError(AppError::PayloadTooLarge))
            }
            Err(rejection) => Err(ApiError(AppError::field(
                "body",
                Problem::Malformed {
                    detail: rejection.body_text(),
                },
            ))),
        }
    }
}
