//! Where messages go: SMTP through lettre when `EVENTHUB_SMTP_URL` is set (STARTTLS or TLS,
//! credentials in the URL, optionally a private CA's roots), otherwise one `.eml` file per
//! message in the data dir's mail folder.
use crate::config::Config;
use anyhow::{Context, Result};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};

/// Where messages go.
pub(super) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `<id>.eml` file per message in this folder.
    Files(PathBuf),
}

impl Transport {
    /// SMTP when `config.smtp_url` is set, otherwise files in `folder`.
    pub(super) fn new(config: &Config, folder: PathBuf) -> Result<Self> {
        Ok(match &config.smtp_url {
            Some(url) => Transport::Smtp(smtp(&url.0, config.smtp_ca_file.as_deref())?),
            None => Transport::Files(folder),
        })
    }

    /// Sends `message`, the recorded mail `id` (the file's name when written to files).
    pub(super) async fn send(&self, id: i64, message: Message) -> Result<()> {
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .context("the SMTP server refused the message"),
            Transport::Files(dir) => write_file(dir, id, &message.formatted()).await,
        }
    }
}

/// The SMTP transport `url` describes (lettre's URL form: `smtp://` plain, `?tls=required`
/// STARTTLS, `smtps://` TLS from the first byte; credentials in the URL). With `ca_file`, TLS
/// trusts the certificates in that PEM file besides the public roots: a relay with a private CA.
fn smtp(url: &str, ca_file: Option<&Path>) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .context("EVENTHUB_SMTP_URL is not a valid smtp:// or smtps:// URL")?;
    let Some(ca_file) = ca_file else {
        return Ok(builder.build());
    };
    let parsed = reqwest::Url::parse(url).context("EVENTHUB_SMTP_URL is not a URL")?;
    let host = parsed
        .host_str()
        .context("EVENTHUB_SMTP_URL has no host")?
        .to_owned();
    let pem = std::fs::read(ca_file)
        .with_context(|| format!("cannot read EVENTHUB_SMTP_CA_FILE {}", ca_file.display()))?;
    let certificate = Certificate::from_pem(&pem).with_context(|| {
        format!(
            "EVENTHUB_SMTP_CA_FILE {} holds no PEM certificate",
            ca_file.display()
        )
    })?;
    let parameters = TlsParameters::builder(host)
        .add_root_certificate(certificate)
        .build()
        .context("cannot set up TLS for the SMTP server")?;
    let tls = match (
        parsed.scheme(),
        parsed
            .query_pairs()
            .find(|(name, _)| name == "tls")
            .map(|(_, value)| value.into_owned())
            .as_deref(),
    ) {
        ("smtps", _) => Tls::Wrapper(parameters),
        ("smtp", Some("required")) => Tls::Required(parameters),
        ("smtp", Some("opportunistic")) => Tls::Opportunistic(parameters),
        _ => anyhow::bail!(
            "EVENTHUB_SMTP_CA_FILE is set but EVENTHUB_SMTP_URL asks for no TLS \
             (use smtps:// or ?tls=required)"
        ),
    };
    Ok(builder.tls(tls).build())
}

/// Writes `<id>.eml` whole or not at all (a temporary file renamed into place), so a reader
/// never sees half a message and a second write of the same message replaces the first.
async fn write_file(dir: &Path, id: i64, bytes: &[u8]) -> Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{id}.eml"));
    let partial = dir.join(format!(".{id}.eml.partial"));
    tokio::fs::write(&partial, bytes)
        .await
        .with_context(|| format!("cannot write {}", partial.display()))?;
    tokio::fs::rename(&partial, &path)
        .await
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
