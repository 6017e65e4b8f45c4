//! Assistant benchmark (issue #21): the evaluation set (`server/tests/eval/assistant.json`, 43
//! questions in English, Hebrew and Polish over the demo catalogue) asked with the built-in
//! recommender, the fake model, and — when `EVENTHUB_BENCH_AI_URL` names an OpenAI-compatible
//! endpoint (`EVENTHUB_BENCH_AI_MODEL`, default `smollm2`) — a real model. For each: the share
//! of answerable questions with a card and with a right card, the share of cards that fit their
//! question, answers whose prose names what the catalogue does not hold, and p50 / p95 time to
//! the first card and to the whole answer. Results go to `bench-results/assistant.md`.
//! Run: `scripts/bench-assistant` (it installs and starts SmolLM2-135M on loopback), or
//! `cargo bench -p server --bench assistant` for the first two alone.
#[path = "../tests/eval/mod.rs"]
mod eval;

use chrono::Utc;
use server::AppState;
use server::config::{Ai, AiProvider, Config, Secret};
use std::fmt::Write as _;
use std::time::Duration;

async fn state(dir: &std::path::Path, ai: Option<Ai>) -> anyhow::Result<AppState> {
    let mut config = Config::embedded(
        dir.to_path_buf(),
        format!("sqlite://{}/bench.db", dir.display()),
        Secret("bench-secret-key-that-is-long-enough-000000".into()),
    )
    .at(
        "127.0.0.1:0".parse()?,
        "target/site".into(),
        "http://127.0.0.1".into(),
    );
    config.ai = ai;
    config.assistant_rate = None;
    config.limits.booking = None;
    config.workers = 0;
    AppState::new(config).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let questions = eval::questions();
    let fake = eval::fake_model().await;
    let mut runs: Vec<(String, Option<Ai>)> = vec![
        ("built-in recommender".into(), None),
        (
            "fake model".into(),
            Some(eval::models(
                AiProvider::Ollama,
                &fake,
                "fake",
                Some(Duration::from_secs(20)),
            )),
        ),
    ];
    let real = std::env::var("EVENTHUB_BENCH_AI_URL").ok();
    if let Some(url) = &real {
        let model = std::env::var("EVENTHUB_BENCH_AI_MODEL").unwrap_or_else(|_| "smollm2".into());
        let ai = eval::models(
            AiProvider::OpenAi,
            url,
            &model,
            Some(Duration::from_secs(20)),
        );
        // The default prompt, and the one the README gives small models on a CPU.
        let small = Ai {
            prompt_events: 4,
            description_chars: Some(0),
            ..ai.clone()
        };
        runs.push((
            format!(
                "{model}, default prompt ({} events, descriptions cut at {})",
                ai.prompt_events,
                ai.description_chars.unwrap_or(0)
            ),
            Some(ai),
        ));
        runs.push((
            format!("{model}, small-model prompt (4 events, no descriptions)"),
            Some(small),
        ));
    }
    let mut report = format!(
        "# Assistant benchmark\n\nRun at {} on {} cores (release build), SQLite, the demo \
         catalogue ({} events), {} questions of `server/tests/eval/assistant.json` (English, \
         Hebrew, Polish), asked one after another by a member whose last event was a stand-up \
         night. A card is right when it satisfies every constraint of its question; a question \
         is answerable when the catalogue holds a bookable event that does. The answer's \
         deadline is 20 s.\n\nGoals with the small model: ≥ 95 % of answerable questions get a \
         right card, ≥ 95 % of cards fit, no prose naming what is not in the catalogue, first \
         card p95 ≤ 2 s, whole answer p95 ≤ 20 s. \"Fell back\" counts the answers in which \
         the model gave no usable pick (output that is not the JSON asked for, or only ids it \
         was not given): the retrieved ranking and the built-in sentence answered. The cards \
         are sent before any model is asked, so the first card does not wait for it.\n\n{}\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        server::demo::DEMO_EVENTS,
        questions.len(),
        eval::Scores::HEADER,
    );
    let mut details = String::new();
    for (name, ai) in runs {
        let dir = tempfile::tempdir()?;
        let state = state(dir.path(), ai).await?;
        let asker = eval::prepare(&state).await;
        let judged = eval::run(&state, &asker, &questions).await;
        let scores = eval::score(&judged);
        println!("{}", scores.row(&name));
        writeln!(report, "{}", scores.row(&name))?;
        let wrong: Vec<&eval::Judged> = judged
            .iter()
            .filter(|j| {
                (j.answerable && j.right_cards == 0)
                    || j.right_cards < j.cards
                    || j.invented.is_some()
            })
            .collect();
        writeln!(details, "\n### {name}\n")?;
        if wrong.is_empty() {
            writeln!(details, "Every answer right.")?;
        }
        for j in wrong {
            writeln!(
                details,
                "- {}: {} of {} cards fit{}{}",
                j.id,
                j.right_cards,
                j.cards,
                if j.answerable {
                    ""
                } else {
                    " (nothing matches)"
                },
                j.invented
                    .as_ref()
                    .map(|i| format!("; prose {i}"))
                    .unwrap_or_default()
            )?;
        }
        state.shutdown.cancel();
    }
    if real.is_none() {
        report.push_str(
            "\nThe real model: NOT RUN (set EVENTHUB_BENCH_AI_URL, or run scripts/bench-assistant).\n",
        );
    }
    writeln!(report, "\n## Answers that were not right\n{details}")?;
    std::fs::create_dir_all("../bench-results")?;
    std::fs::write("../bench-results/assistant.md", &report)?;
    println!("{report}\nwritten to bench-results/assistant.md");
    Ok(())
}
