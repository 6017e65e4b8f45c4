//! Text folding and query building for full-text search, the same on both engines: documents
//! and queries are lower-cased, stripped of diacritics (Polish ł too) and Hebrew points, so
//! "zazolc" finds "Zażółć" and a word typed with or without niqqud matches.
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases and removes diacritics.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ł' => 'l',
            'ø' => 'o',
            'ß' => 's',
            c => c,
        })
        .collect()
}

/// The words of a query, folded; anything that is not a letter or digit separates words.
pub fn words(query: &str) -> Vec<String> {
    fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_owned)
        .collect()
}

/// FTS5 query: every word must appear; the last one may be a prefix (search as you type).
pub fn fts5_query(words: &[String]) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == n {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// PostgreSQL tsquery text for `to_tsquery('simple', …)`: the same meaning as `fts5_query`.
pub fn tsquery(words: &[String]) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == n {
                format!("{w}:*")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The two indexed texts of an event: its title, and everything else people search by.
pub fn documents(
    title: &str,
    summary: &str,
    description: &str,
    venue: &str,
    city: &str,
    tags: &str,
) -> (String, String) {
    (
        fold(title),
        fold(&[summary, description, venue, city, tags].join(" ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_and_hebrew_text_folds_to_plain_letters() {
        assert_eq!(fold("Zażółć Gęślą Jaźń"), "zazolc gesla jazn");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("שָׁלוֹם"), "שלום");
    }

    #[test]
    fn queries_are_words_with_a_prefix_on_the_last() {
        let w = words("  Jazz, night-club ");
        assert_eq!(w, ["jazz", "night", "club"]);
        assert_eq!(fts5_query(&w), "\"jazz\" \"night\" \"club\"*");
        assert_eq!(tsquery(&w), "jazz & night & club:*");
        assert!(
            words("\"'*:&|!()").is_empty(),
            "operators never reach the engines"
        );
    }
}
