//! Demo data for a first start: an admin, two organizers and a few members, with the
//! credentials printed (and listed in the README).
use crate::accounts::Accounts;
use app::auth::{NewUser, Role};
use app::i18n::Locale;

/// (email, display name, role, locale, password)
pub const DEMO_USERS: &[(&str, &str, Role, Locale, &str)] = &[
    (
        "admin@eventhub.test",
        "Avigail Admin",
        Role::Admin,
        Locale::En,
        "demo-admin-2026",
    ),
    (
        "noa@eventhub.test",
        "Noa Bar-Lev (Comedy Basement)",
        Role::Agent,
        Locale::He,
        "demo-agent-2026",
    ),
    (
        "marek@eventhub.test",
        "Marek Nowak (Scena Kraków)",
        Role::Agent,
        Locale::Pl,
        "demo-agent-2026",
    ),
    (
        "dana@eventhub.test",
        "Dana Levi",
        Role::User,
        Locale::He,
        "demo-user-2026",
    ),
    (
        "ola@eventhub.test",
        "Ola Wiśniewska",
        Role::User,
        Locale::Pl,
        "demo-user-2026",
    ),
    (
        "sam@eventhub.test",
        "Sam Carter",
        Role::User,
        Locale::En,
        "demo-user-2026",
    ),
];

/// Creates the demo accounts. With `only_if_empty`, does nothing when any user exists.
pub async fn seed(accounts: &Accounts, only_if_empty: bool) -> anyhow::Result<bool> {
    if only_if_empty && accounts.count_users().await? > 0 {
        return Ok(false);
    }
    println!("Demo accounts (email / password):");
    for (email, name, role, locale, password) in DEMO_USERS {
        let new = NewUser {
            email: (*email).into(),
            display_name: (*name).into(),
            password: (*password).into(),
        };
        match accounts.create(new, *role, *locale).await {
            Ok(_) => println!("  {:<6} {email:<22} {password}", role.code()),
            Err(app::error::AppError::Conflict { .. }) => {
                println!("  {:<6} {email:<22} (already there)", role.code())
            }
            Err(e) => anyhow::bail!("cannot create demo user {email}: {e}"),
        }
    }
    Ok(true)
}
