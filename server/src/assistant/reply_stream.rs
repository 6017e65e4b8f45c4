//! The reply of a model's JSON answer while it streams: the `"reply"` string is decoded piece
//! by piece (escapes cut between pieces wait for the rest), cut into sentences, and each is
//! checked against the [`Grounds`] before it reaches the page; an answer that repeats itself
//! (a periodic tail, or a sentence said twice) is told to end.
use super::grounding::{Grounds, repeats};
use crate::search::fold;
use std::collections::HashSet;

/// The reply of a streaming JSON answer, as it comes: the `"reply"` string decoded piece by
/// piece, then cut into sentences, each checked before it is let through.
pub struct ReplyStream {
    raw: String,
    /// Where reading `raw` stopped (bytes); `None` until the `"reply"` string starts.
    at: Option<usize>,
    done: bool,
    /// Decoded text of the reply not yet ended by a sentence mark.
    sentence: String,
    /// The folded sentences seen so far (kept or not), to notice a repeated one.
    seen: HashSet<String>,
}

/// What one piece of a streaming answer gave.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// Checked sentences to show now.
    pub show: Vec<String>,
    /// The answer repeats itself (this piece); it should end.
    pub repeats: Option<String>,
}

impl Default for ReplyStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyStream {
    pub fn new() -> Self {
        ReplyStream {
            raw: String::new(),
            at: None,
            done: false,
            sentence: String::new(),
            seen: HashSet::new(),
        }
    }

    /// Reads the next raw piece.
    pub fn push(&mut self, piece: &str, grounds: &Grounds) -> Step {
        self.raw.push_str(piece);
        let mut step = Step::default();
        if let Some(unit) = repeats(&self.raw) {
            step.repeats = Some(unit);
            return step;
        }
        if self.at.is_none() {
            self.at = reply_start(&self.raw);
        }
        let Some(mut at) = self.at else {
            return step;
        };
        if self.done {
            return step;
        }
        // Decode what is complete; an escape cut by the piece's end waits for the next.
        while at < self.raw.len() {
            let rest = &self.raw[at..];
            let c = rest.chars().next().expect("not at the end");
            match c {
                '"' => {
                    self.done = true;
                    at += 1;
                    break;
                }
                '\\' => match unescape(rest) {
                    Some((decoded, used)) => {
                        self.sentence.extend(decoded);
                        at += used;
                    }
                    None => break,
                },
                c => {
                    self.sentence.push(c);
                    at += c.len_utf8();
                }
            }
            // A sentence is complete when its mark is followed by a space.
            if let Some(end) = sentence_end(&self.sentence) {
                let whole: String = self.sentence.drain(..end).collect();
                if let Some(unit) = self.take(whole, grounds, &mut step.show) {
                    step.repeats = Some(unit);
                    self.at = Some(at);
                    return step;
                }
            }
        }
        self.at = Some(at);
        if self.done {
            let last = std::mem::take(&mut self.sentence);
            if let Some(unit) = self.take(last, grounds, &mut step.show) {
                step.repeats = Some(unit);
            }
        }
        step
    }

    /// Checks a finished sentence; `Some` when it was said before.
    fn take(
        &mut self,
        sentence: String,
        grounds: &Grounds,
        show: &mut Vec<String>,
    ) -> Option<String> {
        let sentence = sentence.trim().to_owned();
        if sentence.is_empty() {
            return None;
        }
        let folded = fold(&sentence);
        if folded.chars().count() >= 12 && !self.seen.insert(folded) {
            return Some(sentence);
        }
        if grounds.flaw(&sentence).is_none() {
            show.push(sentence);
        }
        None
    }
}

/// Where the `"reply"` string's text starts in a JSON answer (after its opening quote).
fn reply_start(raw: &str) -> Option<usize> {
    let key = raw.find("\"reply\"")?;
    let after = &raw[key + "\"reply\"".len()..];
    let colon = after.find(|c: char| !c.is_whitespace())?;
    if !after[colon..].starts_with(':') {
        return None;
    }
    let value = &after[colon + 1..];
    let quote = value.find(|c: char| !c.is_whitespace())?;
    value[quote..]
        .starts_with('"')
        .then(|| raw.len() - value.len() + quote + 1)
}

/// The end (bytes) of the first finished sentence of `text`: a mark and the space after it, or
/// a line break.
fn sentence_end(text: &str) -> Option<usize> {
    let mut prev: Option<(usize, char)> = None;
    for (at, c) in text.char_indices() {
        if c == '\n' {
            return Some(at + 1);
        }
        if let Some((_, p)) = prev
            && matches!(p, '.' | '!' | '?' | '…')
            && c.is_whitespace()
        {
            return Some(at + c.len_utf8());
        }
        prev = Some((at, c));
    }
    None
}

/// Decodes the JSON escape at the start of `text` (`\n`, `\"`, `\u05D0`, a surrogate pair):
/// the characters and the bytes used; `None` when it is not complete yet.
fn unescape(text: &str) -> Option<(Vec<char>, usize)> {
    let mut chars = text.chars();
    chars.next(); // the backslash
    let c = chars.next()?;
    let simple = match c {
        'n' => Some('\n'),
        't' => Some(' '),
        'r' => Some(' '),
        'b' | 'f' => Some(' '),
        '"' | '\\' | '/' => Some(c),
        'u' => None,
        other => Some(other),
    };
    if let Some(s) = simple {
        return Some((vec![s], 2));
    }
    let hex = |from: usize| -> Option<u16> {
        let digits = text.get(from..from + 4)?;
        u16::from_str_radix(digits, 16).ok()
    };
    let first = hex(2)?;
    if (0xD800..0xDC00).contains(&first) {
        // A high surrogate needs its low half (`\uDC00`–`\uDFFF`) from the next escape.
        if text.len() < 12 {
            return None;
        }
        if text.get(6..8) == Some("\\u")
            && let Some(second) = hex(8)
        {
            let decoded: Vec<char> = char::decode_utf16([first, second])
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect();
            return Some((decoded, 12));
        }
        return Some((vec!['\u{FFFD}'], 6));
    }
    Some((
        vec![char::from_u32(u32::from(first)).unwrap_or('\u{FFFD}')],
        6,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::i18n::Locale;

    #[test]
    fn the_reply_streams_in_checked_sentences() {
        let g = Grounds::new(
            &[],
            &["Stand-up Night #3", "Comedy Basement", "Tel Aviv"],
            ["Barby".to_owned()],
            Locale::En,
        );
        let mut stream = ReplyStream::new();
        let mut shown = Vec::new();
        for piece in [
            "{\"re",
            "ply\": \"Try Stand-up Night #3",
            ". The Tel Aviv Comedy Fes",
            "tival is on too. Enjoy \\u0",
            "5D0 \\\"Stand-up\\\"!\", \"picks\": [{\"id\": 3}]}",
        ] {
            let step = stream.push(piece, &g);
            assert_eq!(step.repeats, None);
            shown.extend(step.show);
        }
        assert_eq!(
            shown,
            vec!["Try Stand-up Night #3.", "Enjoy א \"Stand-up\"!"]
        );
        // A sentence said twice ends the answer.
        let mut looping = ReplyStream::new();
        let step = looping.push(
            "{\"reply\": \"It is a great night out. It is a great night out. ",
            &g,
        );
        assert!(step.repeats.is_some());
    }

    #[test]
    fn escapes_decode_whole_or_wait() {
        assert_eq!(unescape("\\n rest"), Some((vec!['\n'], 2)));
        assert_eq!(unescape("\\u05D0x"), Some((vec!['א'], 6)));
        assert_eq!(unescape("\\u05"), None);
        assert_eq!(unescape("\\ud83c\\udfad"), Some((vec!['🎭'], 12)));
        assert_eq!(unescape("\\ud83c\\ud"), None);
        assert_eq!(reply_start("{\"reply\" : \"Hi"), Some(12));
        assert_eq!(reply_start("{\"reply\""), None);
    }
}
