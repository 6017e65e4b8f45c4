//! One secret (`EVENTHUB_SECRET_KEY`), a separate key for each use: HKDF-SHA256 (RFC 5869)
//! expands it with a label per purpose, so a key that leaks from one use (a session cookie
//! signature, an API token, a ticket's signature) tells nothing about the others, and no
//! signature made for one purpose is accepted for another.
use hkdf::Hkdf;
use sha2::Sha256;

/// Salt of the extraction step: fixed, it only separates EventHub's keys from other uses of
/// the same secret.
const SALT: &[u8] = b"eventhub key derivation v1";

/// The keys the server signs with, all derived from the one secret.
pub struct Keys {
    /// Signs the session cookie (tower-sessions wants 64 bytes: HMAC-SHA512).
    pub sessions: [u8; 64],
    /// HS256 key of API bearer tokens.
    pub api_tokens: [u8; 32],
    /// HMAC key of ticket tokens (what the QR code holds).
    pub tickets: [u8; 32],
    /// Seals the authenticator (TOTP) secrets in the database.
    pub totp: [u8; 32],
    /// HMAC key of the private calendar feed addresses.
    pub calendar: [u8; 32],
}

impl Keys {
    pub fn derive(secret: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), secret.as_bytes());
        let mut keys = Keys {
            sessions: [0; 64],
            api_tokens: [0; 32],
            tickets: [0; 32],
            totp: [0; 32],
            calendar: [0; 32],
        };
        // Expanding at most 255 × 32 bytes cannot fail; these are far below.
        hkdf.expand(b"sessions", &mut keys.sessions)
            .expect("64 bytes is a valid HKDF length");
        hkdf.expand(b"api tokens", &mut keys.api_tokens)
            .expect("32 bytes is a valid HKDF length");
        hkdf.expand(b"tickets", &mut keys.tickets)
            .expect("32 bytes is a valid HKDF length");
        hkdf.expand(b"totp secrets", &mut keys.totp)
            .expect("32 bytes is a valid HKDF length");
        hkdf.expand(b"calendar feeds", &mut keys.calendar)
            .expect("32 bytes is a valid HKDF length");
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_use_gets_its_own_key_and_one_secret_always_the_same_ones() {
        let keys = Keys::derive("a secret of at least thirty-two characters");
        assert_ne!(keys.api_tokens, keys.tickets);
        assert_ne!(keys.sessions[..32], keys.api_tokens);
        assert_ne!(keys.sessions[..32], keys.tickets);
        assert_ne!(keys.totp, keys.calendar);
        assert_ne!(keys.totp, keys.tickets);
        let again = Keys::derive("a secret of at least thirty-two characters");
        assert_eq!(keys.tickets, again.tickets);
        let other = Keys::derive("another secret of at least thirty-two chars");
        assert_ne!(keys.tickets, other.tickets);
        assert_ne!(keys.api_tokens, other.api_tokens);
    }
}
