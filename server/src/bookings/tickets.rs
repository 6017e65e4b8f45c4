//! Tickets: codes (128 random bits), the HMAC tokens a door verifies without the database,
//! and their QR codes.
use hmac::{Hmac, Mac};

/// Signs ticket codes so a door can verify a ticket without the database.
pub struct TicketKeys {
    key: Vec<u8>,
}

impl TicketKeys {
    pub fn new(secret: &str) -> Self {
        TicketKeys {
            key: format!("eventhub-tickets:{secret}").into_bytes(),
        }
    }

    /// `code.signature`: the signature covers the event and the code.
    pub fn token(&self, event_id: i64, code: &str) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{event_id}:{code}").as_bytes());
        let sig = data_encoding::BASE32_NOPAD.encode(&mac.finalize().into_bytes()[..10]);
        format!("{code}.{sig}")
    }

    /// The code inside a token, when its signature is right for `event_id`.
    pub fn verify(&self, event_id: i64, token: &str) -> Option<String> {
        let (code, signature) = token.trim().split_once('.')?;
        let code = code.to_ascii_uppercase();
        let presented = format!("{code}.{}", signature.to_ascii_uppercase());
        (self.token(event_id, &code) == presented).then_some(code)
    }
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
}
