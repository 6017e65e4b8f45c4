//! Browser sessions in the database (they survive a restart), through tower-sessions' SQLx
//! stores; one enum so the rest of the server does not care which engine holds them.
use crate::db::Db;
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::service::SignedCookie;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "eventhub_session";

/// A session unused this many days is over (the store forgets it, the session list too).
pub const SESSION_IDLE_DAYS: i64 = 14;

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// Opens the store on `db` and creates its table when missing.
    pub async fn open(db: &Db) -> anyhow::Result<Self> {
        let store = match db {
            Db::Sqlite(pool) => Store::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => Store::Postgres(PostgresStore::new(pool.clone())),
        };
        match &store {
            Store::Sqlite(s) => s.migrate().await?,
            Store::Postgres(s) => s.migrate().await?,
        }
        Ok(store)
    }

    /// Removes expired sessions every ten minutes, for as long as the server runs.
    pub fn spawn_cleanup(&self) {
        let period = std::time::Duration::from_secs(600);
        match self.clone() {
            Store::Sqlite(s) => tokio::spawn(s.continuously_delete_expired(period)),
            Store::Postgres(s) => tokio::spawn(s.continuously_delete_expired(period)),
        };
    }

    /// HttpOnly, SameSite=Lax, Secure over https, two weeks of inactivity; the cookie signed
    /// with the session key derived from `secret` (a forged or altered id is refused before
    /// the store is asked).
    pub fn layer(self, secure: bool, secret: &str) -> SessionManagerLayer<Store, SignedCookie> {
        let key = Key::from(&crate::keys::Keys::derive(secret).sessions[..]);
        SessionManagerLayer::new(self)
            .with_name(SESSION_COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_expiry(Expiry::OnInactivity(Duration::days(SESSION_IDLE_DAYS)))
            .with_signed(key)
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.create(record).await,
            Store::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.save(record).await,
            Store::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(s) => s.load(id).await,
            Store::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(s) => s.delete(id).await,
            Store::Postgres(s) => s.delete(id).await,
        }
    }
}
