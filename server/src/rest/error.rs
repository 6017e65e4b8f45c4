//! The REST error shape of API.md: `{"error": {"kind", "message", "fields"}}` with the kind's
//! status, and a JSON body extractor whose rejections use that shape (never a bare 4xx/500).
use app::error::{AppError, Problem};
use app::i18n::Locale;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
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
    /// payload_too_large · unavailable · internal
    pub kind: String,
    pub message: String,
    /// Field name → what is wrong with it (absent when no field is to blame).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(required = false)]
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

/// `Query<T>` whose rejection (a query string that does not fit `T`) answers 422 in the API's
/// error shape under `query`. Numbers and times are better read as text and checked by field
/// (`app::events::rules::read_number`), so the answer names the parameter.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError(AppError::field(
                "query",
                Problem::Malformed {
                    detail: rejection.body_text(),
                },
            ))),
        }
    }
}

/// Whole numbers in JSON bodies as JSON Schema counts them: `5` and `5.0` alike (a number
/// with no fraction is an integer there), anything else refused as serde refuses a wrong type.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn from_number<E: Error>(n: serde_json::Number) -> Result<i64, E> {
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        match n.as_f64() {
            // Below 2^63 in magnitude: the cast is exact.
            Some(f) if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 => Ok(f as i64),
            _ => Err(E::custom(format!(
                "invalid value: {n}, expected a whole number (i64)"
            ))),
        }
    }

    pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        from_number(serde_json::Number::deserialize(d)?)
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(from_number)
            .transpose()
    }
}
