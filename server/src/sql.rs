//! SQL text with its arguments, for queries whose conditions depend on the request (the event
//! search): only the filters a visitor chose reach the planner, so indexes stay usable.
use chrono::{DateTime, Utc};

/// One bound value; both engines encode every variant.
#[derive(Clone, Debug)]
pub enum Arg {
    Int(i64),
    Bool(bool),
    Text(String),
    Time(DateTime<Utc>),
    /// SQL NULL of the given kind (the engines want a type even for NULL).
    Null(Kind),
}

/// The kind of a NULL argument.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Int,
    Text,
    Time,
}

/// The app's ids bind as the numbers they are.
macro_rules! id_args {
    ($($id:ty),*) => {$(
        impl From<$id> for Arg {
            fn from(v: $id) -> Self {
                Arg::Int(v.get())
            }
        }
        impl From<Option<$id>> for Arg {
            fn from(v: Option<$id>) -> Self {
                v.map_or(Arg::Null(Kind::Int), |v| Arg::Int(v.get()))
            }
        }
    )*};
}
id_args!(
    app::ids::UserId,
    app::ids::EventId,
    app::ids::TicketTypeId,
    app::ids::RegistrationId
);

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::Null(Kind::Int), Arg::Int)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::Null(Kind::Text), Arg::Text)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Arg::Null(Kind::Text), Arg::from)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Self {
        v.map_or(Arg::Null(Kind::Time), Arg::Time)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Self {
        Arg::Time(v)
    }
}

/// A query being written: text with `$n` placeholders and the values they stand for.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Adds the value of the next `$n` already written in the text:
    /// `Sql::new("… WHERE id = $1 AND n <= $2").arg(id).arg(n)`.
    pub fn arg(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends another query's text and arguments, renumbering its placeholders.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.args.len();
        let mut rest = other.text.as_str();
        while let Some(at) = rest.find('$') {
            self.text.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                let n: usize = rest[..digits].parse().unwrap_or(0);
                self.text.push_str(&(n + offset).to_string());
                rest = &rest[digits..];
            }
        }
        self.text.push_str(rest);
        self.args.extend(other.args.iter().cloned());
        self
    }
}

/// A `LIKE … ESCAPE '\'` pattern finding `text` anywhere (lower-cased), with LIKE's own
/// characters taken literally.
pub fn like_contains(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_in_order_and_renumber_when_appended() {
        let mut inner = Sql::new("a = ");
        inner.bind(1i64).push(" AND b = ").bind("x");
        let mut outer = Sql::new("SELECT * WHERE c = ");
        outer
            .bind(7i64)
            .push(" AND ")
            .append(&inner)
            .push(" LIMIT ")
            .bind(3i64);
        assert_eq!(
            outer.text,
            "SELECT * WHERE c = $1 AND a = $2 AND b = $3 LIMIT $4"
        );
        assert_eq!(outer.args.len(), 4);
    }
}
