//! The append-only audit log: one entry per administrative change, written inside the
//! transaction of the change it records (database triggers refuse UPDATE and DELETE).
use crate::db::{Tx, now};
use crate::error::StoreResult;
use crate::sql::Sql;
use app::auth::UserId;

/// Appends an entry: who (`actor`) did what (`action`, e.g. `event.cancel`) to what (`target`,
/// e.g. `event:7`), with the before / after values in `details`.
pub async fn record(
    tx: &mut Tx<'_>,
    actor: UserId,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        Sql::new(
            "INSERT INTO audit_log (at, actor_id, action, target, details) VALUES ($1, $2, $3, $4, $5)",
        )
        .arg(now())
        .arg(actor)
        .arg(action)
        .arg(target)
        .arg(details.to_string()),
    )
    .await?;
    Ok(())
}
