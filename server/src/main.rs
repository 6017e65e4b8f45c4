//! `eventhub`: serve (default), worker, migrate, seed-demo, create-user.
use anyhow::{Context, Result};
use app::auth::{NewUser, Role};
use app::i18n::Locale;
use clap::{Parser, Subcommand};
use server::{AppState, config::Config};
use std::io::Read;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "eventhub",
    about = "EventHub: event discovery and ticketing",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site and the APIs (the default).
    Serve,
    /// Run job workers (mail, …) without the site, until SIGTERM or Ctrl-C; each finishes the
    /// job it holds before exiting.
    Worker {
        /// How many (default: EVENTHUB_WORKERS, at least 1).
        #[arg(long)]
        count: Option<usize>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo accounts and print their credentials.
    SeedDemo {
        /// Do nothing when the database already has users.
        #[arg(long)]
        if_empty: bool,
    },
    /// Create a user, e.g. the first admin.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["user", "agent", "admin"], default_value = "user")]
        role: String,
        /// A file holding the password, or `-` for standard input.
        #[arg(long)]
        password_file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut config = Config::from_env()?;
    // The long-lived processes keep a log file each; one-off commands write to stderr.
    let file = match cli.command {
        None | Some(Command::Serve) => Some("eventhub.log"),
        Some(Command::Worker { .. }) => Some("worker.log"),
        Some(_) => None,
    };
    let _logs = server::logs::init(&config.logs, file)?;
    // Workers run beside the site only in `serve`: `worker` starts its own, and a one-off
    // command would exit holding the jobs it claimed until their leases ran out.
    let workers = std::mem::take(&mut config.workers);
    if matches!(cli.command, None | Some(Command::Serve)) {
        config.workers = workers;
    }
    tracing::info!(?config, "configuration");
    let state = AppState::new(config).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let workers = state.workers.clone();
            let grace = state.config.shutdown_grace;
            let served = serve(state).await;
            // They were told to stop with the server; each finishes the job it holds, within
            // the grace (a job cut off runs again elsewhere once its lease ends).
            if tokio::time::timeout(grace, workers.stop()).await.is_err() {
                tracing::warn!(?grace, "a job was still running after the grace: exiting");
            }
            served
        }
        Command::Worker { count } => work(state, count.unwrap_or(workers).max(1)).await,
        Command::Migrate => {
            println!("migrations applied ({})", state.db.engine());
            Ok(())
        }
        Command::SeedDemo { if_empty } => {
            if !server::demo::seed(&state.accounts, &state.events, &state.bookings, if_empty)
                .await?
            {
                println!("the database already has users; demo data not loaded");
            }
            Ok(())
        }
        Command::CreateUser {
            email,
            name,
            role,
            password_file,
        } => {
            let mut password = String::new();
            if password_file.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut password)
                    .context("cannot read the password from stdin")?;
            } else {
                password = std::fs::read_to_string(&password_file)
                    .with_context(|| format!("cannot read {}", password_file.display()))?;
            }
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let role = Role::from_code(&role).expect("clap checked the role");
            let new = NewUser {
                email,
                display_name: name,
                password,
            };
            match state.accounts.create(new, role, Locale::En).await {
                Ok(user) => {
                    println!(
                        "created {} {} (id {})",
                        user.role.code(),
                        user.email,
                        user.id
                    );
                    Ok(())
                }
                Err(app::error::AppError::Invalid(fields)) => {
                    let lines: Vec<String> = fields
                        .iter()
                        .map(|(field, problem)| format!("  {field}: {}", problem.text(Locale::En)))
                        .collect();
                    anyhow::bail!("cannot create the user:\n{}", lines.join("\n"))
                }
                Err(e) => anyhow::bail!("cannot create the user: {}", e.text(Locale::En)),
            }
        }
    }
}

async fn serve(state: AppState) -> Result<()> {
    state.sessions.spawn_cleanup();
    server::serve::run(state).await
}

/// `eventhub worker`: `count` job workers until SIGTERM or Ctrl-C.
async fn work(state: AppState, count: usize) -> Result<()> {
    let workers = server::jobs::Workers::start(
        &state.jobs,
        state.job_handlers.clone(),
        count,
        state.shutdown.child_token(),
    );
    server::mail::reminders::start(
        state.db.clone(),
        state.config.reminders,
        state.shutdown.child_token(),
    );
    println!("EventHub runs {count} job workers");
    server::serve::stop_signal().await;
    workers.stop().await;
    Ok(())
}
