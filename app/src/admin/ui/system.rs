//! `/admin/system`: the installation at a glance — version and engine, uptime, the database's
//! size, the job queue (with a link to `/admin/jobs`), the last backup and the free disk.
use super::human_age;
use super::shared::{refusal, utc};
use crate::admin::SystemStatus;
use crate::admin::queries::get_system_status;
use crate::i18n::{Locale, Msg, fill, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;

/// Bytes in the units people read (`B`, `kB`, `MB`, `GB`, `TB`; powers of 1000), one decimal
/// from MB on, with the locale's decimal mark; in right-to-left text the number and its unit
/// stay in their order (a left-to-right isolate).
pub fn human_bytes(locale: Locale, bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let number = if unit < 2 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let number = match locale {
        Locale::Pl => number.replace('.', ","),
        _ => number,
    };
    isolate(locale, &format!("{number}\u{a0}{}", UNITS[unit]))
}

/// Left-to-right text (a size, a file name) inside a right-to-left sentence keeps its order.
fn isolate(locale: Locale, text: &str) -> String {
    if locale.dir() == "rtl" {
        format!("\u{2066}{text}\u{2069}")
    } else {
        text.to_owned()
    }
}

#[component]
pub fn SystemPage() -> impl IntoView {
    let locale = use_locale();
    let status = Resource::new(|| (), |_| get_system_status());
    view! {
        <Title text=t(Msg::SystemTitle)/>
        <section class="page-head">
            <h1>{t(Msg::SystemTitle)}</h1>
            <p class="muted">{t(Msg::SystemLead)}</p>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Err(e) => refusal(e, "/admin/system", locale),
                    Ok(s) => view! { <Status s locale/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Status(s: SystemStatus, locale: Locale) -> impl IntoView {
    let disk = match (s.disk_free_bytes, s.disk_total_bytes) {
        (Some(free), Some(total)) if total > 0 => fill(
            t(Msg::SystemDiskOf),
            &[
                ("free", &human_bytes(locale, free)),
                ("total", &human_bytes(locale, total)),
                ("percent", &(free * 100 / total)),
            ],
        ),
        _ => t(Msg::SystemUnknown).to_owned(),
    };
    let low_disk = matches!(
        (s.disk_free_bytes, s.disk_total_bytes),
        (Some(free), Some(total)) if total > 0 && free * 10 < total
    );
    let backup = match &s.last_backup {
        Some(b) => fill(
            t(Msg::SystemBackupAt),
            &[
                ("at", &utc(locale, b.created_at)),
                ("file", &isolate(locale, &b.file)),
                ("size", &human_bytes(locale, b.bytes)),
            ],
        ),
        None => t(Msg::SystemBackupNone).to_owned(),
    };
    let schedule = match s.backup_every_seconds {
        Some(every) => fill(
            t(Msg::SystemBackupEvery),
            &[("every", &human_age(locale, every))],
        ),
        None => t(Msg::SystemBackupOff).to_owned(),
    };
    let queue = if s.oldest_pending_age_seconds > 0 {
        fill(
            t(Msg::SystemQueueWaiting),
            &[
                ("pending", &s.jobs_pending),
                ("age", &human_age(locale, s.oldest_pending_age_seconds)),
            ],
        )
    } else {
        fill(t(Msg::SystemQueue), &[("pending", &s.jobs_pending)])
    };
    view! {
        <dl class="panel system-facts" data-testid="system">
            <div><dt>{t(Msg::SystemVersion)}</dt><dd data-testid="system-version">{s.version.clone()}</dd></div>
            <div><dt>{t(Msg::SystemEngine)}</dt><dd data-testid="system-engine">{match s.engine.as_str() {
                "postgres" => "PostgreSQL",
                _ => "SQLite",
            }}</dd></div>
            <div><dt>{t(Msg::SystemUptime)}</dt><dd data-testid="system-uptime" data-seconds=s.uptime_seconds.to_string()>
                {fill(t(Msg::SystemSince), &[
                    ("age", &human_age(locale, s.uptime_seconds)),
                    ("at", &utc(locale, s.started_at)),
                ])}
            </dd></div>
            <div><dt>{t(Msg::SystemDatabase)}</dt><dd data-testid="system-database" data-bytes=s.database_bytes.to_string()>
                {human_bytes(locale, s.database_bytes)}
            </dd></div>
            <div><dt>{t(Msg::SystemJobs)}</dt><dd data-testid="system-jobs" data-pending=s.jobs_pending.to_string()>
                {queue}
                {(s.jobs_running > 0).then(|| format!(" · {}", fill(t(Msg::SystemJobsRunning), &[("n", &s.jobs_running)])))}
                {(s.jobs_dead > 0).then(|| view! {
                    " · " <a class="status status-dead" href="/admin/jobs?state=dead#list">{fill(t(Msg::SystemJobsDead), &[("n", &s.jobs_dead)])}</a>
                })}
                " · " <a href="/admin/jobs">{t(Msg::JobsTitle)}</a>
            </dd></div>
            <div><dt>{t(Msg::SystemBackup)}</dt><dd data-testid="system-backup">{backup}<br/><span class="muted">{schedule}</span></dd></div>
            <div><dt>{t(Msg::SystemDisk)}</dt><dd data-testid="system-disk" class:low-disk=low_disk>{disk}</dd></div>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_powers_of_a_thousand_with_the_locales_decimal_mark() {
        assert_eq!(human_bytes(Locale::En, 512), "512\u{a0}B");
        assert_eq!(human_bytes(Locale::En, 4_096), "4\u{a0}kB");
        assert_eq!(human_bytes(Locale::En, 12_345_678), "12.3\u{a0}MB");
        assert_eq!(human_bytes(Locale::Pl, 12_345_678), "12,3\u{a0}MB");
        assert_eq!(
            human_bytes(Locale::He, 3_000_000_000_000),
            "\u{2066}3.0\u{a0}TB\u{2069}"
        );
        assert_eq!(human_bytes(Locale::En, -5), "0\u{a0}B");
    }
}
