//! Tickets: codes (128 random bits), the HMAC tokens a door verifies without the database,
//! and their QR codes.
use hmac::{Hmac, Mac};

/// Signs ticket codes so a door can verify a ticket without the database.
pub struct TicketKeys {
    /// The key derived for tickets ([`crate::keys::Keys`]): signs every new token.
    key: Vec<u8>,
    /// The key tickets were signed with before keys were derived per use: printed tickets
    /// carry it, so it still verifies (it signs nothing new).
    legacy: Vec<u8>,
}

impl TicketKeys {
    pub fn new(secret: &str) -> Self {
        TicketKeys {
            key: crate::keys::Keys::derive(secret).tickets.to_vec(),
            legacy: format!("eventhub-tickets:{secret}").into_bytes(),
        }
    }

    /// `code.signature`: the signature covers the event and the code.
    pub fn token(&self, event_id: i64, code: &str) -> String {
        format!("{code}.{}", signature(&self.key, event_id, code))
    }

    /// The code inside a token, when its signature is right for `event_id` (under the current
    /// key or the one tickets were issued with before it).
    pub fn verify(&self, event_id: i64, token: &str) -> Option<String> {
        let (code, presented) = token.trim().split_once('.')?;
        let code = code.to_ascii_uppercase();
        let presented = presented.to_ascii_uppercase();
        [&self.key, &self.legacy]
            .into_iter()
            .any(|key| same(&signature(key, event_id, &code), &presented))
            .then_some(code)
    }
}

/// The first 80 bits of HMAC-SHA256 over `event:code`, base32: short enough for a QR code a
/// phone reads at a dim door, far too long to guess.
fn signature(key: &[u8], event_id: i64, code: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(format!("{event_id}:{code}").as_bytes());
    data_encoding::BASE32_NOPAD.encode(&mac.finalize().into_bytes()[..10])
}

/// Compares two signatures in time that does not depend on where they differ.
fn same(expected: &str, presented: &str) -> bool {
    expected.len() == presented.len()
        && expected
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// A new ticket code: 128 random bits, base32 (26 characters, no padding).
pub fn new_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// A QR code of `text` as an SVG document.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(176, 176)
            .quiet_zone(true)
            .build(),
        Err(e) => {
            tracing::error!(%e, "cannot draw a QR code");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_128_random_bits_and_tokens_verify_only_for_their_event() {
        let code = new_code();
        assert_eq!(code.len(), 26);
        assert_ne!(code, new_code());
        let keys = TicketKeys::new("secret-one");
        let token = keys.token(7, &code);
        assert_eq!(keys.verify(7, &token), Some(code.clone()));
        assert_eq!(keys.verify(8, &token), None);
        assert_eq!(TicketKeys::new("secret-two").verify(7, &token), None);
        assert_eq!(keys.verify(7, &code), None);
    }

    #[test]
    fn tickets_signed_before_keys_were_derived_still_verify() {
        let secret = "a secret of at least thirty-two characters";
        let code = new_code();
        // What TicketKeys::token gave before the derived key: HMAC under "eventhub-tickets:{secret}".
        let old_key = format!("eventhub-tickets:{secret}").into_bytes();
        let printed = format!("{code}.{}", signature(&old_key, 7, &code));
        let keys = TicketKeys::new(secret);
        assert_ne!(
            keys.token(7, &code),
            printed,
            "new tickets use the derived key"
        );
        assert_eq!(keys.verify(7, &printed), Some(code.clone()));
        assert_eq!(
            keys.verify(7, &printed.to_ascii_lowercase()),
            Some(code.clone())
        );
        assert_eq!(keys.verify(8, &printed), None);
    }
}
