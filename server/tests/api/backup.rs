//! Backups, restore and reset on both engines through what the commands call: a backup taken
//! while people book restores into a fresh data dir with the manifest's counts (and never more
//! seats than there are); restore refuses to replace data unless forced; reset clears it all
//! or keeps the admins; production mode names demo accounts. Then the commands themselves on
//! SQLite, configured through a `.env` file the real environment overrides.
use crate::TestApp;
use crate::common::{self, Engine};
use crate::on_both_engines;
use app::auth::Role;
use server::ops::{backup, production, reset, restore};
use server::sql::Sql;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

async fn count(db: &server::db::Db, table: &str) -> i64 {
    db.scalar(Sql::new(&format!("SELECT COUNT(*) FROM {table}")))
        .await
        .unwrap()
}

on_both_engines! {
    async fn a_backup_during_a_booking_load_restores_with_the_manifests_counts(engine: Engine) {
        let app = Arc::new(TestApp::new(engine).await);
        let config = app.state.config.clone();
        let (_, agent) = app.bearer(Role::Agent).await;
        let (event, tt) = app.published_event(&agent, "Backup night", 60, 60, 2, 0).await;
        let media = config.data_dir.join("media");
        std::fs::create_dir_all(media.join("posters")).unwrap();
        std::fs::write(media.join("posters/night.webp"), b"RIFF....WEBP").unwrap();
        let mut bookers = Vec::new();
        for _ in 0..6 {
            bookers.push(app.bearer(Role::User).await.1);
        }
        // Six people book one seat at a time (60 seats: some end on the waitlist) until told.
        let stop = Arc::new(AtomicBool::new(false));
        let booked = Arc::new(AtomicUsize::new(0));
        let load: Vec<_> = bookers
            .into_iter()
            .map(|auth| {
                let (app, stop, booked) = (app.clone(), stop.clone(), booked.clone());
                let (event, tt) = (event.clone(), tt.clone());
                tokio::spawn(async move {
                    for _ in 0..30 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let (status, body) = app.book(&auth, &event, &tt, 1).await;
                        assert!(status.is_success(), "{status}: {body}");
                        booked.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        while booked.load(Ordering::Relaxed) < 6 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let archive = config.data_dir.join("backups").join("during-load.tar.gz");
        let written = backup::create(&app.state.db, &config.database_url, &config.data_dir, &archive)
            .await
            .expect("a backup while people book");
        stop.store(true, Ordering::Relaxed);
        for task in load {
            task.await.unwrap();
        }
        let manifest = &written.manifest;
        assert_eq!(manifest.engine, app.state.db.engine());
        assert_eq!(manifest.media_files, 1);
        assert_eq!(manifest.counts["events"], 1);
        let in_backup = manifest.counts["registrations"];
        assert!(in_backup >= 6, "the bookings before the backup are in it: {in_backup}");
        let after = count(&app.state.db, "registrations").await;
        assert!(in_backup <= after, "{in_backup} in the backup, {after} in all");
        assert!(written.bytes > 0 && archive.is_file());

        // Into a fresh data dir and database: the counts equal the manifest's.
        let fresh = common::fresh_db(engine).await;
        let restored = restore::restore(&fresh.config.database_url, &fresh.config.data_dir, &archive, false)
            .await
            .expect("restore into a fresh data dir");
        assert_eq!(&restored.manifest, manifest);
        for (table, n) in &manifest.counts {
            assert_eq!(restored.counts.get(table), Some(n), "{table}");
        }
        assert_eq!(
            std::fs::read(fresh.config.data_dir.join("media/posters/night.webp")).unwrap(),
            b"RIFF....WEBP"
        );
        // The restored installation starts, and its seats add up: confirmed never above 60.
        let state = server::AppState::new(fresh.config.clone()).await.expect("it starts");
        assert_eq!(count(&state.db, "registrations").await, in_backup);
        let confirmed: i64 = state
            .db
            .scalar(Sql::new(
                "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM registrations WHERE status = 'confirmed'",
            ))
            .await
            .unwrap();
        assert!(confirmed <= 60, "{confirmed} seats confirmed of 60");

        // Once it holds data, a second restore asks for --force.
        let refused = restore::restore(&fresh.config.database_url, &fresh.config.data_dir, &archive, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("--force"), "{refused}");
        drop(state);
        restore::restore(&fresh.config.database_url, &fresh.config.data_dir, &archive, true)
            .await
            .expect("a forced restore");
    }

    async fn a_damaged_or_foreign_archive_is_refused_and_changes_nothing(engine: Engine) {
        let app = TestApp::new(engine).await;
        let config = app.state.config.clone();
        let (_, agent) = app.bearer(Role::Agent).await;
        app.published_event(&agent, "Kept", 10, 10, 2, 0).await;
        let bad = config.data_dir.join("not-a-backup.tar.gz");
        std::fs::write(&bad, b"plain text").unwrap();
        let fresh = common::fresh_db(engine).await;
        let e = restore::restore(&fresh.config.database_url, &fresh.config.data_dir, &bad, true)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an EventHub backup"), "{e}");
        // A copy whose manifest lies about its rows is refused before anything is replaced.
        let archive = config.data_dir.join("b.tar.gz");
        let written = backup::create(&app.state.db, &config.database_url, &config.data_dir, &archive)
            .await
            .unwrap();
        let tampered = config.data_dir.join("tampered.tar.gz");
        let mut manifest = written.manifest.clone();
        *manifest.counts.get_mut("events").unwrap() += 1;
        rewrite_manifest(&archive, &tampered, &manifest);
        let e = restore::restore(&config.database_url, &config.data_dir, &tampered, true)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("events: 2 in the manifest, 1 found"), "{e}");
        assert_eq!(count(&app.state.db, "events").await, 1, "nothing changed");
    }

    async fn reset_clears_all_data_or_keeps_the_admins(engine: Engine) {
        let app = TestApp::new(engine).await;
        let config = app.state.config.clone();
        let (admin, _) = app.bearer(Role::Admin).await;
        let (_, agent) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (event, tt) = app.published_event(&agent, "Gone", 10, 10, 2, 0).await;
        let (status, _) = app.book(&user, &event, &tt, 1).await;
        assert!(status.is_success());
        std::fs::create_dir_all(config.data_dir.join("media")).unwrap();
        std::fs::write(config.data_dir.join("media/a.webp"), b"x").unwrap();

        let cleared = reset::reset(&app.state.db, &config.data_dir, true).await.unwrap();
        assert_eq!(cleared.admins_kept, 1);
        assert_eq!(cleared.removed["events"], 1);
        assert!(cleared.removed["registrations"] >= 1);
        assert_eq!(cleared.files_removed, 1);
        let left: Vec<(i64, String)> = app
            .state
            .db
            .fetch_all(Sql::new("SELECT id, role FROM users"))
            .await
            .unwrap();
        assert_eq!(left, [(admin.id.get(), "admin".to_owned())]);
        for table in ["events", "registrations", "tickets", "ticket_types", "jobs", "audit_log"] {
            assert_eq!(count(&app.state.db, table).await, 0, "{table}");
        }
        assert!(!config.data_dir.join("media/a.webp").exists());

        reset::reset(&app.state.db, &config.data_dir, false).await.unwrap();
        assert_eq!(count(&app.state.db, "users").await, 0);
        // The installation takes new data as on its first day.
        let (_, agent) = app.bearer(Role::Agent).await;
        app.published_event(&agent, "After", 10, 10, 2, 0).await;
    }

    async fn production_mode_names_the_demo_accounts(engine: Engine) {
        let app = TestApp::new(engine).await;
        let mut config = (*app.state.config).clone();
        config.production = true;
        config.public_url = "https://tickets.example".into();
        config.metrics_token = Some(server::config::Secret("scrape-token".into()));
        assert_eq!(production::problems(&config, &app.state.db).await.unwrap(), []);
        let (email, name, role, locale, password) = server::demo::DEMO_USERS[1];
        app.state
            .accounts
            .create(
                app::auth::NewUser { email: email.into(), display_name: name.into(), password: password.into() },
                role,
                locale,
            )
            .await
            .unwrap();
        let problems = production::problems(&config, &app.state.db).await.unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].setting, "demo accounts");
        assert!(problems[0].message.contains(email), "{}", problems[0].message);
    }
}

/// A copy of `archive` with another manifest (the rest unchanged).
fn rewrite_manifest(archive: &std::path::Path, to: &std::path::Path, manifest: &backup::Manifest) {
    let input = std::fs::File::open(archive).unwrap();
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let output = std::fs::File::create(to).unwrap();
    let mut out = tar::Builder::new(flate2::write::GzEncoder::new(
        output,
        flate2::Compression::fast(),
    ));
    for entry in entries.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut header = entry.header().clone();
        if path == std::path::Path::new("manifest.json") {
            let json = serde_json::to_vec(manifest).unwrap();
            header.set_size(json.len() as u64);
            header.set_cksum();
            out.append_data(&mut header, &path, json.as_slice())
                .unwrap();
        } else {
            out.append_data(&mut header, &path, &mut entry).unwrap();
        }
    }
    out.into_inner().unwrap().finish().unwrap();
}

/// The commands as an operator runs them, from a folder with a `.env` (SQLite).
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new(dotenv: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), dotenv).unwrap();
        Cli { dir }
    }

    /// Runs `eventhub args…` in the folder with only `env` (and PATH) set: (success, stdout, stderr).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_eventhub"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let out = command.output().expect("run eventhub");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn production_mode_refuses_each_unsafe_setting_by_name_and_dotenv_yields_to_the_environment() {
    let cli = Cli::new(
        "# settings for this folder\nEVENTHUB_DATA_DIR=data\nEVENTHUB_ENV=production\n\
         EVENTHUB_PUBLIC_URL=http://tickets.example\n\
         EVENTHUB_SMTP_URL=smtp://mail.example:25\n",
    );
    // The environment's https URL wins over the file's http one.
    let env = [("EVENTHUB_PUBLIC_URL", "https://tickets.example")];
    let (ok, out, err) = cli.run(&["check-config"], &env);
    assert!(!ok, "production check-config fails while a check fails");
    assert!(
        out.contains("public_url: \"https://tickets.example\""),
        "{out}"
    );
    assert!(out.contains("mode: production"), "{out}");
    for setting in [
        "EVENTHUB_SECRET_KEY",
        "EVENTHUB_METRICS_TOKEN",
        "EVENTHUB_SMTP_URL",
    ] {
        assert!(
            out.contains(&format!("- {setting}: ")),
            "{setting} named:\n{out}"
        );
    }
    assert!(!out.contains("- EVENTHUB_PUBLIC_URL"), "{out}");
    assert!(err.contains("3 unsafe settings"), "{err}");
    // The server refuses to start, naming each; nothing listens.
    let (ok, _, err) = cli.run(&["serve"], &[("EVENTHUB_ADDR", "127.0.0.1:0")]);
    assert!(!ok);
    assert!(err.contains("refuses to start"), "{err}");
    for setting in [
        "EVENTHUB_SECRET_KEY",
        "EVENTHUB_PUBLIC_URL",
        "EVENTHUB_METRICS_TOKEN",
        "EVENTHUB_SMTP_URL",
    ] {
        assert!(err.contains(setting), "{setting} named:\n{err}");
    }
    assert!(
        !err.contains("smtp://mail.example:25?"),
        "no secret printed"
    );
    // With every setting safe, the checks pass.
    let safe = [
        ("EVENTHUB_PUBLIC_URL", "https://tickets.example"),
        (
            "EVENTHUB_SECRET_KEY",
            "a-production-secret-of-at-least-32-characters",
        ),
        ("EVENTHUB_METRICS_TOKEN", "scrape-token"),
        ("EVENTHUB_SMTP_URL", "smtps://mail.example:465"),
    ];
    let (ok, out, _) = cli.run(&["check-config"], &safe);
    assert!(ok, "{out}");
    assert!(out.contains("production checks: all pass"), "{out}");
    assert!(
        !out.contains("a-production-secret"),
        "the secret is hidden:\n{out}"
    );
}

#[test]
fn the_commands_back_up_reset_and_restore_a_sqlite_installation() {
    let cli = Cli::new("EVENTHUB_DATA_DIR=data\n");
    std::fs::write(cli.dir.path().join("pw"), "granite-lily-42\n").unwrap();
    let (ok, out, err) = cli.run(
        &[
            "create-user",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--password-file",
            "pw",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli.run(
        &[
            "create-user",
            "--email",
            "bo@example.com",
            "--name",
            "Bo",
            "--password-file",
            "pw",
        ],
        &[],
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = cli.run(&["backup", "--to", "one.tar.gz"], &[]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("backup written to one.tar.gz") && out.contains("users 2"),
        "{out}"
    );
    // Not at a terminal, reset wants --yes.
    let (ok, _, err) = cli.run(&["reset"], &[]);
    assert!(!ok && err.contains("--yes"), "{err}");
    let (ok, out, err) = cli.run(&["reset", "--yes", "--keep-admins"], &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("kept 1 admin accounts"), "{out}");
    let (ok, _, err) = cli.run(&["restore", "one.tar.gz"], &[]);
    assert!(!ok && err.contains("--force"), "the admin is data: {err}");
    let (ok, out, err) = cli.run(&["restore", "one.tar.gz", "--force"], &[]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("users 2") && out.contains("the counts match the manifest"),
        "{out}"
    );
}
