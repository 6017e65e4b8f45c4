//! Production mode (`EVENTHUB_ENV=production`): the server refuses to start while a setting
//! is unsafe, naming each one; `eventhub check-config` prints the same checks in any mode.
use crate::config::Config;
use crate::db::Db;
use anyhow::Result;

/// One unsafe setting: the variable to change and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub setting: &'static str,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// What the settings alone show.
pub fn settings_problems(config: &Config) -> Vec<Problem> {
    let mut found = Vec::new();
    let mut problem = |setting, message: &str| {
        found.push(Problem {
            setting,
            message: message.to_owned(),
        });
    };
    if !config.secret_given {
        problem(
            "EVENTHUB_SECRET_KEY",
            "not set: production needs an explicit secret key of at least 32 characters, \
             kept outside the data dir (not the one generated into it)",
        );
    }
    if !config.public_url.starts_with("https://") {
        problem(
            "EVENTHUB_PUBLIC_URL",
            &format!(
                "is {}: production is served over https, or session cookies travel unprotected",
                config.public_url
            ),
        );
    }
    if config.metrics_token.is_none() {
        problem(
            "EVENTHUB_METRICS_TOKEN",
            "not set: /metrics would be open to anyone; set a token for the scraper",
        );
    }
    if let Some(cloudinary) = &config.cloudinary
        && !cloudinary.api_base.starts_with("https://")
    {
        problem(
            "EVENTHUB_CLOUDINARY_API",
            &format!(
                "is {}: Cloudinary is configured without TLS, so uploads and their signed \
                 requests would travel in the clear",
                cloudinary.api_base
            ),
        );
    }
    if let Some(smtp) = &config.smtp_url
        && !smtp_uses_tls(&smtp.0)
    {
        problem(
            "EVENTHUB_SMTP_URL",
            "asks for no TLS: use smtps://… or smtp://…?tls=required, or the password and \
             every mail travel in the clear",
        );
    }
    found
}

/// `smtps://`, or `smtp://` with `tls=required` (opportunistic TLS can be stripped on the way).
fn smtp_uses_tls(url: &str) -> bool {
    match url::Url::parse(url) {
        Ok(url) => {
            url.scheme() == "smtps"
                || (url.scheme() == "smtp"
                    && url
                        .query_pairs()
                        .any(|(name, value)| name == "tls" && value == "required"))
        }
        Err(_) => false,
    }
}

/// The demo accounts (`eventhub seed-demo`) present in the database.
pub async fn demo_accounts(db: &Db) -> Result<Vec<String>> {
    let mut present = Vec::new();
    for (email, ..) in crate::demo::DEMO_USERS {
        let sql = crate::sql::Sql::new("SELECT COUNT(*) FROM users WHERE lower(email) = lower($1)")
            .arg((*email).to_owned());
        let n: i64 = db.scalar(sql).await?;
        if n > 0 {
            present.push((*email).to_owned());
        }
    }
    Ok(present)
}

/// Every check: the settings, then what the database shows — the demo accounts, and other
/// server processes on it that cannot see the images this one would keep.
pub async fn problems(config: &Config, db: &Db) -> Result<Vec<Problem>> {
    let mut found = settings_problems(config);
    let me = super::instances::Instance::this(config);
    let conflicts = super::instances::media_conflicts(&me, db).await?;
    if !conflicts.is_empty() {
        found.push(Problem {
            setting: "EVENTHUB_MEDIA_SHARED",
            message: super::instances::conflict_message(&me, &conflicts),
        });
    }
    let demo = demo_accounts(db).await?;
    if !demo.is_empty() {
        found.push(Problem {
            setting: "demo accounts",
            message: format!(
                "{} exist with published passwords: start empty with `eventhub reset`, then \
                 create your admin with `eventhub create-user --role admin`",
                demo.join(", ")
            ),
        });
    }
    Ok(found)
}

/// The refusal a production server stops with, or `None` when every check passes.
pub fn refusal(problems: &[Problem]) -> Option<String> {
    (!problems.is_empty()).then(|| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        format!(
            "EVENTHUB_ENV=production refuses to start with unsafe settings:\n{}",
            lines.join("\n")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings changed from the safe ones: a value, or `None` to remove it.
    type Change<'a> = &'a [(&'a str, Option<&'a str>)];

    /// Production settings that pass, with `change` applied (`None` removes a setting).
    fn config(change: &[(&str, Option<&str>)]) -> (Config, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut vars: Vec<(String, String)> = [
            ("EVENTHUB_ENV", "production"),
            (
                "EVENTHUB_SECRET_KEY",
                "a-production-secret-of-at-least-32-characters",
            ),
            ("EVENTHUB_PUBLIC_URL", "https://tickets.example"),
            ("EVENTHUB_METRICS_TOKEN", "scrape-token"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        vars.push(("EVENTHUB_DATA_DIR".into(), dir.path().display().to_string()));
        for (name, value) in change {
            vars.retain(|(k, _)| k != name);
            if let Some(value) = value {
                vars.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let config =
            Config::from_vars(|n| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
                .unwrap();
        (config, dir)
    }

    #[test]
    fn safe_settings_pass_and_each_unsafe_one_is_named_on_its_own() {
        let (safe, _dir) = config(&[]);
        assert!(safe.production);
        assert_eq!(settings_problems(&safe), []);
        let cloudinary = Some("cloudinary://key:secret@demo");
        let cases: &[(Change, &str, &str)] = &[
            (
                &[("EVENTHUB_SECRET_KEY", None)],
                "EVENTHUB_SECRET_KEY",
                "explicit secret key",
            ),
            (
                &[("EVENTHUB_PUBLIC_URL", Some("http://tickets.example"))],
                "EVENTHUB_PUBLIC_URL",
                "is http://tickets.example",
            ),
            (
                &[("EVENTHUB_METRICS_TOKEN", None)],
                "EVENTHUB_METRICS_TOKEN",
                "/metrics would be open",
            ),
            (
                &[
                    ("EVENTHUB_CLOUDINARY_URL", cloudinary),
                    (
                        "EVENTHUB_CLOUDINARY_API",
                        Some("http://cloudinary.internal"),
                    ),
                ],
                "EVENTHUB_CLOUDINARY_API",
                "without TLS",
            ),
            (
                &[("EVENTHUB_SMTP_URL", Some("smtp://u:p@mail.example:587"))],
                "EVENTHUB_SMTP_URL",
                "no TLS",
            ),
            (
                &[(
                    "EVENTHUB_SMTP_URL",
                    Some("smtp://mail.example:587?tls=opportunistic"),
                )],
                "EVENTHUB_SMTP_URL",
                "no TLS",
            ),
        ];
        for (change, setting, says) in cases {
            let problems = settings_problems(&config(change).0);
            assert_eq!(problems.len(), 1, "{change:?}: {problems:?}");
            assert_eq!(problems[0].setting, *setting);
            assert!(
                problems[0].message.contains(says),
                "{}",
                problems[0].message
            );
            let refusal = refusal(&problems).unwrap();
            assert!(
                refusal.contains(setting) && !refusal.contains(":p@"),
                "{refusal}"
            );
        }
        for fine in [
            &[("EVENTHUB_SMTP_URL", Some("smtps://u:p@mail.example:465"))][..],
            &[(
                "EVENTHUB_SMTP_URL",
                Some("smtp://mail.example:587?tls=required"),
            )],
            &[("EVENTHUB_CLOUDINARY_URL", cloudinary)],
        ] {
            assert_eq!(settings_problems(&config(fine).0), [], "{fine:?}");
        }
    }

    #[test]
    fn the_mode_is_production_or_development_and_nothing_else() {
        assert!(!config(&[("EVENTHUB_ENV", None)]).0.production);
        assert!(
            !config(&[("EVENTHUB_ENV", Some("development"))])
                .0
                .production
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().display().to_string();
        let e = Config::from_vars(|n| match n {
            "EVENTHUB_ENV" => Some("prod".into()),
            "EVENTHUB_DATA_DIR" => Some(data.clone()),
            _ => None,
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("EVENTHUB_ENV must be production or development"),
            "{e}"
        );
    }
}
