//! The one `AppError` as GraphQL errors: `message` in English (as REST's), `extensions.code`
//! its kind in capitals (`UNAUTHENTICATED`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`, `INVALID`,
//! `RATE_LIMITED`, …) and, for field problems, `extensions.fields` (field → what is wrong).
//! An internal error says nothing more (its cause was logged where it happened).
use app::error::AppError;
use app::i18n::Locale;
use async_graphql::{ErrorExtensions, Name, Response, ServerError, Value};
use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// The `extensions.code` of an error kind.
pub fn code(error: &AppError) -> String {
    error.kind().to_ascii_uppercase()
}

/// What a resolver returns: the error with its code, fields and `Retry-After` seconds.
pub fn gql(error: AppError) -> async_graphql::Error {
    async_graphql::Error::new(error.text(Locale::En)).extend_with(|_, e| {
        e.set("code", code(&error));
        let fields = error.field_errors();
        if !fields.is_empty() {
            let fields = fields
                .into_iter()
                .map(|(field, problem)| {
                    (
                        Name::new(camel(&field)),
                        Value::from(problem.text(Locale::En)),
                    )
                })
                .collect();
            e.set("fields", Value::Object(fields));
        }
        if let Some(secs) = error.retry_after() {
            e.set("retryAfter", secs);
        }
    })
}

/// A field as GraphQL spells it: `ticket_types[0].max_per_registration` →
/// `ticketTypes[0].maxPerRegistration` (the commands name the fields of REST's bodies).
fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

/// `?` on a port's answer inside a resolver.
pub trait OrGql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> OrGql<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(gql)
    }
}

/// Errors async-graphql made itself (the request was not valid GraphQL, or a variable did not
/// fit its type) come from the client's input: they get `INVALID`.
pub fn with_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "INVALID");
        }
    }
    response
}

/// A request refused before it ran (a bad token, a body that is not JSON): a GraphQL answer
/// with one error, under the HTTP status REST would give.
pub fn refused(error: AppError) -> impl IntoResponse {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let server_error: ServerError = gql(error).into_server_error(Default::default());
    let body = Response::from_errors(vec![server_error]);
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::error::Problem;

    #[test]
    fn field_problems_carry_invalid_and_the_fields() {
        let error = gql(AppError::field("title", Problem::Required));
        let extensions = error.extensions.expect("extensions");
        assert_eq!(extensions.get("code"), Some(&Value::from("INVALID")));
        let fields = extensions.get("fields").expect("fields").to_string();
        assert!(fields.contains("title"), "{fields}");
    }

    #[test]
    fn fields_are_named_as_graphql_spells_them() {
        assert_eq!(
            camel("ticket_types[0].max_per_registration"),
            "ticketTypes[0].maxPerRegistration"
        );
        assert_eq!(camel("title"), "title");
    }

    #[test]
    fn each_kind_has_its_code() {
        for (error, code_) in [
            (AppError::Unauthenticated, "UNAUTHENTICATED"),
            (AppError::Blocked, "FORBIDDEN"),
            (AppError::NotFound, "NOT_FOUND"),
            (
                AppError::RateLimited {
                    retry_after_secs: 2,
                },
                "RATE_LIMITED",
            ),
            (AppError::Internal, "INTERNAL"),
        ] {
            assert_eq!(code(&error), code_);
        }
    }
}
