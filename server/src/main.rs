//! `eventhub`: serve (default), migrate, seed-demo, create-user.
use anyhow::{Context, Result};
use app::auth::{NewUser, Role};
use app::i18n::Locale;
use clap::{Parser, Subcommand};
use server::{AppState, config::Config};
use std::io::Read;
use std::net::SocketAddr;
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    tracing::info!(?config, "configuration");
    let state = AppState::new(config).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(state).await,
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
    let addr = state.config.addr;
    let grace = state.config.shutdown_grace;
    state.sessions.spawn_cleanup();
    let app = server::router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!("EventHub is serving at http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Requests in flight may finish; whatever still runs when the grace ends is cut off.
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            tracing::warn!(
                ?grace,
                "requests still running after the shutdown grace: exiting"
            );
            std::process::exit(0);
        });
    })
    .await
    .context("server failed")
}

async fn shutdown_signal() {
    let ctrl_c = async { tokio::signal::ctrl_c().await.ok() };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
