//! The assistant's model settings (`EVENTHUB_AI_*`, `EVENTHUB_OLLAMA_URL`): which API, which
//! models in which order, and the limits of one answer (time, tokens, how much of the catalogue
//! the model reads).
use super::Secret;
use crate::rate::parse_limit;
use anyhow::{Context, Result};

/// Which chat API the models speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AiProvider {
    /// Ollama's `/api/chat`, `/api/embed`, `/api/tags`.
    Ollama,
    /// An OpenAI-compatible `/chat/completions` and `/embeddings` (`EVENTHUB_AI_PROVIDER=openai`).
    OpenAi,
}

/// The assistant's models: `models` are tried in order (`EVENTHUB_AI_MODELS=a,b`), each within
/// `timeout` to its first and every next piece (`EVENTHUB_AI_TIMEOUT_SECS`, default 20).
/// `embed_model` (`EVENTHUB_AI_EMBED_MODEL`) turns on semantic retrieval.
#[derive(Clone, Debug)]
pub struct Ai {
    pub provider: AiProvider,
    /// `EVENTHUB_OLLAMA_URL` for Ollama; `EVENTHUB_AI_URL` (…/v1) for OpenAI-compatible ones.
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub models: Vec<String>,
    pub embed_model: Option<String>,
    pub timeout: std::time::Duration,
    /// Model calls this process makes at once, all users together (`EVENTHUB_AI_CONCURRENCY`,
    /// 4; `off` for no limit). A question that finds no free place within a moment is
    /// answered by the built-in recommender instead of queueing behind the model.
    pub concurrent_calls: Option<usize>,
    /// The whole answer's time, all models together (`EVENTHUB_AI_DEADLINE_SECS`, 20; `off`).
    /// When it passes, the retrieved cards and the built-in sentence are the answer.
    pub deadline: Option<std::time::Duration>,
    /// The most tokens a model may write for one answer (`EVENTHUB_AI_MAX_TOKENS`, 320; `off`).
    pub max_tokens: Option<u32>,
    /// How many of the retrieved events the model reads, best first
    /// (`EVENTHUB_AI_PROMPT_EVENTS`, 6; 1 to 12). Reading the prompt is most of a small model's
    /// time on a CPU, so fewer events there (4) answer sooner; the cards do not depend on it.
    pub prompt_events: usize,
    /// How much of each event's description the model reads, in characters
    /// (`EVENTHUB_AI_DESCRIPTION_CHARS`, 400; `0` for none — title, summary, tags and the facts
    /// remain — or `off` for all of it).
    pub description_chars: Option<usize>,
}

impl Ai {
    /// These models at this endpoint with the default limits (what unset settings give).
    pub fn new(provider: AiProvider, base_url: &str, models: Vec<String>) -> Self {
        Ai {
            provider,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: None,
            models,
            embed_model: None,
            timeout: std::time::Duration::from_secs(20),
            concurrent_calls: Some(4),
            deadline: Some(std::time::Duration::from_secs(20)),
            max_tokens: Some(320),
            prompt_events: 6,
            description_chars: Some(400),
        }
    }

    /// Reads the `EVENTHUB_AI_*` / `EVENTHUB_OLLAMA_URL` settings; `None` when no model or
    /// endpoint is set.
    pub(super) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let provider = match var("EVENTHUB_AI_PROVIDER").as_deref() {
            None | Some("ollama") => AiProvider::Ollama,
            Some("openai") => AiProvider::OpenAi,
            Some(other) => {
                anyhow::bail!("EVENTHUB_AI_PROVIDER must be ollama or openai, not {other:?}")
            }
        };
        let base_url = match provider {
            AiProvider::Ollama => var("EVENTHUB_OLLAMA_URL"),
            AiProvider::OpenAi => var("EVENTHUB_AI_URL"),
        };
        let models: Vec<String> = var("EVENTHUB_AI_MODELS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        let Some(base_url) = base_url else {
            return Ok(None);
        };
        if models.is_empty() {
            return Ok(None);
        }
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            anyhow::bail!("the AI endpoint must be an http:// or https:// URL");
        }
        let timeout = match var("EVENTHUB_AI_TIMEOUT_SECS") {
            Some(secs) => secs
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .context("EVENTHUB_AI_TIMEOUT_SECS must be a positive number of seconds")?,
            None => 20,
        };
        let concurrent_calls = match parse_limit(
            "EVENTHUB_AI_CONCURRENCY",
            var("EVENTHUB_AI_CONCURRENCY").as_deref(),
            4,
        )? {
            Some(0) => anyhow::bail!("EVENTHUB_AI_CONCURRENCY must be positive or `off`"),
            calls => calls.map(|n| n as usize),
        };
        let deadline = match parse_limit(
            "EVENTHUB_AI_DEADLINE_SECS",
            var("EVENTHUB_AI_DEADLINE_SECS").as_deref(),
            20,
        )? {
            Some(0) => anyhow::bail!("EVENTHUB_AI_DEADLINE_SECS must be positive or `off`"),
            secs => secs.map(std::time::Duration::from_secs),
        };
        let max_tokens = match parse_limit(
            "EVENTHUB_AI_MAX_TOKENS",
            var("EVENTHUB_AI_MAX_TOKENS").as_deref(),
            320,
        )? {
            Some(n) if !(64..=u64::from(u32::MAX)).contains(&n) => {
                anyhow::bail!("EVENTHUB_AI_MAX_TOKENS must be at least 64 (or `off`), not {n}")
            }
            n => n.map(|n| n as u32),
        };
        let prompt_events = match parse_limit(
            "EVENTHUB_AI_PROMPT_EVENTS",
            var("EVENTHUB_AI_PROMPT_EVENTS").as_deref(),
            6,
        )? {
            Some(n @ 1..=12) => n as usize,
            _ => anyhow::bail!("EVENTHUB_AI_PROMPT_EVENTS must be a number from 1 to 12"),
        };
        let description_chars = parse_limit(
            "EVENTHUB_AI_DESCRIPTION_CHARS",
            var("EVENTHUB_AI_DESCRIPTION_CHARS").as_deref(),
            400,
        )?
        .map(|n| n as usize);
        Ok(Some(Ai {
            prompt_events,
            description_chars,
            concurrent_calls,
            deadline,
            max_tokens,
            provider,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: var("EVENTHUB_AI_API_KEY").map(Secret),
            models,
            embed_model: var("EVENTHUB_AI_EMBED_MODEL"),
            timeout: std::time::Duration::from_secs(timeout),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;

    #[test]
    fn the_assistant_needs_an_endpoint_and_models_and_keeps_their_order() {
        assert!(Ai::from_vars(vars(&[])).unwrap().is_none());
        assert!(
            Ai::from_vars(vars(&[("EVENTHUB_AI_MODELS", "llama3.2")]))
                .unwrap()
                .is_none()
        );
        let ai = Ai::from_vars(vars(&[
            ("EVENTHUB_OLLAMA_URL", "http://127.0.0.1:11434/"),
            ("EVENTHUB_AI_MODELS", " llama3.2, qwen2.5:1.5b ,"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(ai.provider, AiProvider::Ollama);
        assert_eq!(ai.base_url, "http://127.0.0.1:11434");
        assert_eq!(ai.models, ["llama3.2", "qwen2.5:1.5b"]);
        assert_eq!(ai.timeout, std::time::Duration::from_secs(20));
        assert_eq!(ai.deadline, Some(std::time::Duration::from_secs(20)));
        assert_eq!(ai.max_tokens, Some(320));
        assert_eq!((ai.prompt_events, ai.description_chars), (6, Some(400)));
        let base = [
            ("EVENTHUB_OLLAMA_URL", "http://127.0.0.1:11434"),
            ("EVENTHUB_AI_MODELS", "a"),
        ];
        let with = |extra: (&str, &str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            Ai::from_vars(vars(&pairs))
        };
        let off = with(("EVENTHUB_AI_DEADLINE_SECS", "off")).unwrap().unwrap();
        assert_eq!(off.deadline, None);
        let uncapped = with(("EVENTHUB_AI_MAX_TOKENS", "off")).unwrap().unwrap();
        assert_eq!(uncapped.max_tokens, None);
        let small = with(("EVENTHUB_AI_PROMPT_EVENTS", "4")).unwrap().unwrap();
        assert_eq!(small.prompt_events, 4);
        let bare = with(("EVENTHUB_AI_DESCRIPTION_CHARS", "0"))
            .unwrap()
            .unwrap();
        assert_eq!(bare.description_chars, Some(0));
        let whole = with(("EVENTHUB_AI_DESCRIPTION_CHARS", "off"))
            .unwrap()
            .unwrap();
        assert_eq!(whole.description_chars, None);
        for bad in [
            ("EVENTHUB_AI_DEADLINE_SECS", "0"),
            ("EVENTHUB_AI_DEADLINE_SECS", "soon"),
            ("EVENTHUB_AI_MAX_TOKENS", "10"),
            ("EVENTHUB_AI_PROMPT_EVENTS", "0"),
            ("EVENTHUB_AI_PROMPT_EVENTS", "13"),
            ("EVENTHUB_AI_PROMPT_EVENTS", "off"),
            ("EVENTHUB_AI_DESCRIPTION_CHARS", "some"),
        ] {
            let err = with(bad).unwrap_err().to_string();
            assert!(err.contains(bad.0), "{err}");
        }
        let openai = Ai::from_vars(vars(&[
            ("EVENTHUB_AI_PROVIDER", "openai"),
            ("EVENTHUB_AI_URL", "https://api.example.com/v1"),
            ("EVENTHUB_AI_MODELS", "gpt-4o-mini"),
            ("EVENTHUB_AI_API_KEY", "sk-secret"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(openai.provider, AiProvider::OpenAi);
        assert!(!format!("{openai:?}").contains("sk-secret"));
        assert!(Ai::from_vars(vars(&[("EVENTHUB_AI_PROVIDER", "gemini")])).is_err());
        assert!(
            Ai::from_vars(vars(&[
                ("EVENTHUB_OLLAMA_URL", "127.0.0.1:11434"),
                ("EVENTHUB_AI_MODELS", "a")
            ]))
            .is_err()
        );
    }
}
