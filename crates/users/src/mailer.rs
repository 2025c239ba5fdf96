//! Mail Rowbase sends (a password recovery link), through SMTP with `lettre`: `smtp://host:port`
//! in plain text (a local relay, a test sink), `smtp://host:port?tls=required` for STARTTLS,
//! `smtps://user:pass@host:465` for TLS from the first byte (lettre's URL forms).

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::UsersError;

/// Where mail goes and what its links point at.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    /// The SMTP server, as a URL (see the module's documentation).
    pub smtp_url: String,
    /// The sender, e.g. `Rowbase <no-reply@example.com>`.
    pub from: String,
    /// The public base URL of this server, for the links in mail (`https://api.example.com`).
    pub site_url: String,
}

/// Sends mail.
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
    pub(crate) site_url: String,
}

impl Mailer {
    pub(crate) fn new(config: &MailerConfig) -> Result<Mailer, UsersError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| UsersError::Internal(format!("the SMTP URL: {e}")))?
            .build();
        let from =
            config.from.parse().map_err(|e| UsersError::Internal(format!("the sender {:?}: {e}", config.from)))?;
        Ok(Mailer { transport, from, site_url: config.site_url.trim_end_matches('/').to_string() })
    }

    /// Sends a plain-text message to `to`.
    pub(crate) async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), UsersError> {
        let to = to.parse().map_err(|e| UsersError::Validation(format!("the address {to:?}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| UsersError::Internal(format!("building a message: {e}")))?;
        self.transport.send(message).await.map_err(|e| UsersError::Internal(format!("sending mail: {e}")))?;
        Ok(())
    }
}
