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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use sqlx::SqlitePool;
    use sqlx::sqlite::SqlitePoolOptions;

    /// Text with what breaks query languages and folding, mixed with anything at all.
    fn nasty_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("\"".to_owned()),
            Just("*".to_owned()),
            Just(":*".to_owned()),
            Just("^".to_owned()),
            Just("-".to_owned()),
            Just("+".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just("{search_title}:".to_owned()),
            Just("search_body:".to_owned()),
            Just(" AND ".to_owned()),
            Just(" OR ".to_owned()),
            Just(" NOT ".to_owned()),
            Just("NEAR(".to_owned()),
            Just("&".to_owned()),
            Just("|".to_owned()),
            Just("!".to_owned()),
            Just("<->".to_owned()),
            Just("'".to_owned()),
            Just("\\".to_owned()),
            Just("\u{0}".to_owned()),
            "[łŁøØßẞİı²³½ⅧⒶⓐ\u{e000}\u{f8ff}\u{10ffff}\u{1d400}\u{1e900}ﬁ]",
            "[\u{5b0}-\u{5c7}\u{300}-\u{36f}\u{903}\u{200b}-\u{200f}\u{feff}]",
            "[a-zA-Z0-9]{1,6}",
            "[א-ת]{1,5}",
            "[а-яА-Я]{1,5}",
            any::<char>().prop_map(String::from),
            " +",
        ];
        prop_oneof![
            prop::collection::vec(piece, 0..12).prop_map(|p| p.concat()),
            any::<String>(),
        ]
    }

    /// Words people type: Latin with and without diacritics, Polish, Hebrew with niqqud, Cyrillic.
    fn typed_word() -> impl Strategy<Value = String> {
        concat!(
            "[a-zA-Z0-9ąćęłńóśźżĄĆĘŁŃÓŚŹŻäöüßéèàçñ",
            "א-ת\u{5b4}\u{5b8}\u{5bc}а-яё]{1,10}"
        )
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    /// The events index as migrations/sqlite/0003_event_search.sql makes it (same columns,
    /// same tokenizer), without the external content table.
    async fn index(docs: &[(String, String)]) -> SqlitePool {
        // One connection that lives as long as the pool: the in-memory database is its own.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        sqlx::query(
            "CREATE VIRTUAL TABLE events_fts USING fts5(search_title, search_body, \
             tokenize = 'unicode61 remove_diacritics 2')",
        )
        .execute(&pool)
        .await
        .expect("FTS5 table");
        for (title, body) in docs {
            sqlx::query("INSERT INTO events_fts (search_title, search_body) VALUES ($1, $2)")
                .bind(title)
                .bind(body)
                .execute(&pool)
                .await
                .expect("insert");
        }
        pool
    }

    /// The two statements the planner runs with a built query: the count, and the ranked ids.
    async fn run(pool: &SqlitePool, query: &str) -> Result<i64, sqlx::Error> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH $1")
                .bind(query)
                .fetch_one(pool)
                .await?;
        let ranked: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, bm25(events_fts, 10.0, 1.0) FROM events_fts \
             WHERE events_fts MATCH $1 ORDER BY 2",
        )
        .bind(query)
        .fetch_all(pool)
        .await?;
        assert_eq!(ranked.len() as i64, count);
        Ok(count)
    }

    proptest! {
        #[test]
        fn folding_is_lower_case_without_marks_and_stable(text in nasty_text()) {
            let folded = fold(&text);
            prop_assert!(!folded.chars().any(is_combining_mark), "{folded:?}");
            prop_assert!(!folded.chars().any(|c| "łøß".contains(c)), "{folded:?}");
            prop_assert_eq!(fold(&folded), folded.clone(), "folding twice changes nothing");
        }

        #[test]
        fn words_are_at_most_eight_folded_letters_and_digits(text in nasty_text()) {
            let w = words(&text);
            prop_assert!(w.len() <= 8);
            for word in &w {
                prop_assert!(!word.is_empty());
                prop_assert!(word.chars().all(char::is_alphanumeric), "{word:?}");
                prop_assert_eq!(&fold(word), word);
            }
            prop_assert_eq!(words(&w.join(" ")), w.clone(), "the words of the words are the same");
        }

        #[test]
        fn fts5_queries_are_quoted_phrases_with_one_prefix_star(text in nasty_text()) {
            let w = words(&text);
            prop_assume!(!w.is_empty());
            let q = fts5_query(&w);
            prop_assert_eq!(q.matches('"').count(), 2 * w.len(), "balanced quotes: {}", q);
            prop_assert!(q.ends_with("\"*"), "{}", q);
            // Outside the quoted phrases there are only the separating spaces and the star.
            let outside: String = q.split('"').step_by(2).collect();
            prop_assert_eq!(outside, format!("{}*", " ".repeat(w.len() - 1)), "{}", q);
            let phrases: Vec<&str> = q.split('"').skip(1).step_by(2).collect();
            prop_assert_eq!(phrases, w.iter().map(String::as_str).collect::<Vec<_>>());
        }

        #[test]
        fn tsqueries_are_words_joined_by_and_with_one_prefix(text in nasty_text()) {
            let w = words(&text);
            prop_assume!(!w.is_empty());
            let q = tsquery(&w);
            let operands: Vec<&str> = q.split(" & ").collect();
            prop_assert_eq!(operands.len(), w.len(), "{}", q);
            let (last, rest) = operands.split_last().expect("one operand at least");
            prop_assert_eq!(last.strip_suffix(":*"), Some(w[w.len() - 1].as_str()), "{}", q);
            for (operand, word) in rest.iter().zip(&w) {
                prop_assert_eq!(operand, word);
            }
            // No tsquery syntax but the `&`s and the final `:*`: no quotes, `!`, `|`, `<->`,
            // parentheses, weights or backslashes reach PostgreSQL.
            let bare = q.strip_suffix(":*").unwrap_or(&q).replace(" & ", "");
            prop_assert!(bare.chars().all(char::is_alphanumeric), "{}", q);
        }
    }

    #[test]
    fn fts5_runs_every_built_query() {
        let rt = runtime();
        let docs: Vec<(String, String)> = [
            ("Zażółć gęślą jaźń", "Łódź, ul. Piotrkowska"),
            ("ערב ג׳אז", "שָׁלוֹם תל אביב"),
            ("Rooftop Jazz ²³ Ⓐ", "ﬁnal night \u{e000} \u{1e900}"),
        ]
        .iter()
        .map(|(t, b)| documents(t, b, "", "", "", ""))
        .collect();
        let pool = rt.block_on(index(&docs));
        proptest!(ProptestConfig::with_cases(128), |(text in nasty_text())| {
            let w = words(&text);
            prop_assume!(!w.is_empty());
            let q = fts5_query(&w);
            let result = rt.block_on(run(&pool, &q));
            prop_assert!(result.is_ok(), "MATCH {:?} from {:?}: {:?}", q, text, result);
        });
    }

    #[test]
    fn a_word_of_an_event_finds_it_as_typed_or_without_diacritics() {
        let rt = runtime();
        proptest!(ProptestConfig::with_cases(128), |(
            title in prop::collection::vec(typed_word(), 1..6),
            body in prop::collection::vec(typed_word(), 0..6),
            pick in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
            prefix in 1usize..10,
            strip in any::<bool>(),
        )| {
            let all: Vec<String> = title.iter().chain(&body).cloned().collect();
            let doc = documents(&title.join(" "), &body.join(", "), "", "", "", "");
            let mut typed: Vec<String> = pick.iter().map(|i| i.get(&all).clone()).collect();
            if strip {
                typed = typed.iter().map(|w| fold(w)).collect();
            }
            // The last word is still being typed: a prefix of it.
            let last = typed.pop().expect("one word");
            let last: String = last.chars().take(prefix).collect();
            typed.push(last);
            let w = words(&typed.join(" "));
            prop_assume!(!w.is_empty());
            let pool = rt.block_on(index(std::slice::from_ref(&doc)));
            let found = rt.block_on(run(&pool, &fts5_query(&w)));
            prop_assert_eq!(found.ok(), Some(1), "{:?} in {:?}", typed, doc);
        });
    }
}
