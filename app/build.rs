//! Turns `locales/<lang>.ftl` into a typed message catalogue (`Msg`), so a missing or misspelt
//! key is a compile error and no translation file is parsed at run time (the WASM stays small).
//! Every key of `en.ftl` must exist in every other locale; the build fails otherwise.
use std::{collections::BTreeMap, env, fs, path::Path};

const LOCALES: [&str; 3] = ["en", "he", "pl"];

fn parse(lang: &str) -> BTreeMap<String, String> {
    let path = format!("locales/{lang}.ftl");
    println!("cargo:rerun-if-changed={path}");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{path}:{}: expected `key = value`", n + 1));
        let key = key.trim();
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{path}:{}: key `{key}` must be kebab-case",
            n + 1
        );
        if map
            .insert(key.to_owned(), value.trim().to_owned())
            .is_some()
        {
            panic!("{path}:{}: duplicate key `{key}`", n + 1);
        }
    }
    map
}

fn variant(key: &str) -> String {
    key.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn main() {
    let catalogues: Vec<_> = LOCALES.iter().map(|l| parse(l)).collect();
    let keys: Vec<&String> = catalogues[0].keys().collect();
    for (lang, cat) in LOCALES.iter().zip(&catalogues).skip(1) {
        for key in &keys {
            assert!(
                cat.contains_key(*key),
                "locales/{lang}.ftl lacks key `{key}`"
            );
        }
        for key in cat.keys() {
            assert!(
                catalogues[0].contains_key(key),
                "locales/{lang}.ftl has unknown key `{key}`"
            );
        }
    }
    let mut out = String::new();
    out.push_str("/// A translatable message; the text lives in `app/locales/*.ftl`.\n");
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\npub enum Msg {\n");
    for key in &keys {
        out.push_str(&format!("    /// `{key}`\n    {},\n", variant(key)));
    }
    out.push_str("}\n\nimpl Msg {\n    /// The message's text in `locale`.\n");
    out.push_str(
        "    pub fn text(self, locale: Locale) -> &'static str {\n        match (self, locale) {\n",
    );
    for key in &keys {
        for (lang, cat) in LOCALES.iter().zip(&catalogues) {
            let l = variant(lang);
            out.push_str(&format!(
                "            (Msg::{}, Locale::{l}) => {:?},\n",
                variant(key),
                cat[*key]
            ));
        }
    }
    out.push_str("        }\n    }\n}\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("messages.rs");
    fs::write(dest, out).unwrap();
}
