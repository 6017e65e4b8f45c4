//! The chain of language models: Ollama (`/api/chat` streamed as JSON lines, `/api/embed`,
//! `/api/tags`) or an OpenAI-compatible endpoint (`/chat/completions` streamed as server-sent
//! events, `/embeddings`). Models are tried in order; each failure is logged with its reason and
//! counted, and the next model starts over. Answers are asked for in the provider's JSON output
//! mode (Ollama `format`, OpenAI-compatible `response_format`) with a token cap; the caller's
//! [`Listener`] reads each piece as it comes and may end the answer (it repeats itself). One
//! deadline bounds the whole chain. Nothing here reaches the user as text: a failure only makes
//! the caller fall back to the built-in recommender.
use crate::config::{Ai, AiProvider};
use crate::metrics::AiMetrics;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One message of a chat prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Turn {
    pub role: &'static str,
    pub content: String,
}

/// What a streamed answer sends while it is being written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delta {
    /// The matching events, before any model writes (the page shows them at once).
    Cards(Vec<app::assistant::Recommendation>),
    Text(String),
    /// The model writing failed; what was sent so far is void and the next model starts.
    Restart,
}

/// Reads a model's answer while it streams.
pub trait Listener: Send {
    /// The next piece of the answer's raw text; an error ends this model's answer as failed.
    fn piece(&mut self, piece: &str) -> Result<(), Failure>;
    /// This model's answer failed: what it wrote so far is void (the next model starts over).
    fn restart(&mut self);
}

/// How the chain ended.
#[derive(Debug)]
pub enum Outcome {
    Answered(Answer),
    /// Every model failed (each is logged and counted); `spoke` when one of them did answer
    /// but had to be cut off (it repeated itself), so the AI is not simply offline.
    Failed {
        spoke: bool,
    },
    /// The deadline passed before any model finished; the chain stopped there.
    DeadlineHit,
}

/// A finished answer and the model that wrote it.
#[derive(Clone, Debug)]
pub struct Answer {
    pub model: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("the server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the server sent something unreadable: {0}")]
    Format(String),
    #[error("the model reported an error: {0}")]
    Model(String),
    #[error("the answer was empty")]
    Empty,
    #[error("the model is not pulled on the Ollama server")]
    NotPulled,
    #[error("every place for a model call is taken")]
    Busy,
    #[error("the answer's deadline passed")]
    Deadline,
    #[error("the model repeats itself: {0:?}")]
    Repeats(String),
}

/// How long the list of pulled models (`/api/tags`) is trusted.
const TAGS_FRESH: Duration = Duration::from_secs(30);
/// Without a deadline, an answer may take this many timeouts in all, however steadily it
/// streams.
pub const TOTAL_TIMEOUTS: u32 = 6;

/// What `response_format` an OpenAI-compatible server takes: `json_schema` (OpenAI, vLLM,
/// llama.cpp's server) or `json_object` with a `schema` (llama-cpp-python). Learnt from the
/// first refusal and remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonMode {
    Schema,
    Object,
}

pub struct Models {
    http: reqwest::Client,
    config: Ai,
    metrics: AiMetrics,
    tags: Mutex<Option<(Instant, Vec<String>)>>,
    /// Places for model calls, all users together (`EVENTHUB_AI_CONCURRENCY`); `None`: no limit.
    places: Option<Arc<Semaphore>>,
    json_mode: Mutex<JsonMode>,
    /// The JSON schema answers are asked to follow.
    schema: Value,
}

/// How long a question waits for a free place before the built-in recommender answers it.
const PLACE_WAIT: Duration = Duration::from_secs(2);

impl Models {
    pub fn new(config: Ai, metrics: AiMetrics) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .build()
            .unwrap_or_default();
        Models {
            http,
            places: config.concurrent_calls.map(|n| Arc::new(Semaphore::new(n))),
            config,
            metrics,
            tags: Mutex::new(None),
            json_mode: Mutex::new(JsonMode::Schema),
            schema: super::grounding::answer_schema(),
        }
    }

    /// The deadline of an answer starting now, if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.config.deadline.map(|d| Instant::now() + d)
    }

    /// How many events the model reads, and how much of each description.
    pub fn prompt_size(&self) -> (usize, Option<usize>) {
        (self.config.prompt_events, self.config.description_chars)
    }

    /// The embeddings model, when semantic retrieval is on.
    pub fn embed_model(&self) -> Option<&str> {
        self.config.embed_model.as_deref()
    }

    /// Asks each model in turn; the first complete answer wins. `listener` reads the answer as
    /// it is written. Nothing is tried after `deadline`.
    pub async fn chat(
        &self,
        prompt: &[Turn],
        listener: &mut dyn Listener,
        deadline: Option<Instant>,
    ) -> Outcome {
        let Ok(_place) = self.place().await else {
            tracing::warn!("every place for a model call is taken: the recommender answers");
            self.metrics.busy();
            return Outcome::Failed { spoke: false };
        };
        let pulled = self.pulled().await;
        let mut spoke = false;
        for model in &self.config.models {
            let started = Instant::now();
            let result = match &pulled {
                Some(names) if !is_pulled(names, model) => Err(Failure::NotPulled),
                _ => self.stream_one(model, prompt, listener, deadline).await,
            };
            match result {
                Ok(text) => {
                    self.metrics.answered(model, started.elapsed());
                    return Outcome::Answered(Answer {
                        model: model.clone(),
                        text,
                    });
                }
                Err(reason) => {
                    tracing::warn!(model = %model, "model {model} failed: {reason}");
                    self.metrics.failed(model, started.elapsed());
                    listener.restart();
                    spoke |= matches!(reason, Failure::Repeats(_));
                    if matches!(reason, Failure::Deadline) {
                        tracing::warn!(
                            "the answer's deadline passed: the retrieved events and the built-in recommender answer"
                        );
                        return Outcome::DeadlineHit;
                    }
                }
            }
        }
        tracing::warn!("all AI models failed: the built-in recommender answers");
        Outcome::Failed { spoke }
    }

    /// An answer that came but cannot be used (not the JSON asked for, no valid pick):
    /// counted as the model's failure.
    pub fn unusable(&self, model: &str) {
        self.metrics.rejected(model);
    }

    /// The chat request's body for `model`, in the provider's JSON output mode.
    fn chat_body(&self, model: &str, prompt: &[Turn]) -> Value {
        match self.config.provider {
            AiProvider::Ollama => {
                let mut options = json!({ "temperature": 0.2 });
                if let Some(cap) = self.config.max_tokens {
                    options["num_predict"] = json!(cap);
                }
                json!({ "model": model, "messages": prompt, "stream": true,
                        "format": self.schema, "options": options })
            }
            AiProvider::OpenAi => {
                let format = match *self.json_mode.lock().expect("json mode lock") {
                    JsonMode::Schema => json!({ "type": "json_schema", "json_schema": {
                        "name": "eventhub_answer", "schema": self.schema } }),
                    JsonMode::Object => json!({ "type": "json_object", "schema": self.schema }),
                };
                let mut body = json!({ "model": model, "messages": prompt, "stream": true,
                                       "temperature": 0.2, "response_format": format });
                if let Some(cap) = self.config.max_tokens {
                    body["max_tokens"] = json!(cap);
                }
                body
            }
        }
    }

    /// Sends the chat request; an OpenAI-compatible server that refuses `json_schema` is asked
    /// again with `json_object` (and that is remembered).
    async fn send_chat(
        &self,
        model: &str,
        prompt: &[Turn],
        wait: Duration,
    ) -> Result<reqwest::Response, Failure> {
        loop {
            let request = match self.config.provider {
                AiProvider::Ollama => self.http.post(format!("{}/api/chat", self.config.base_url)),
                AiProvider::OpenAi => self.authorized(
                    self.http
                        .post(format!("{}/chat/completions", self.config.base_url)),
                ),
            }
            .json(&self.chat_body(model, prompt));
            let response = tokio::time::timeout(wait, request.send())
                .await
                .map_err(|_| Failure::Timeout(wait))?
                .map_err(|e| Failure::Network(e.without_url().to_string()))?;
            let schema_mode = self.config.provider == AiProvider::OpenAi
                && *self.json_mode.lock().expect("json mode lock") == JsonMode::Schema;
            if !schema_mode || response.status().is_success() {
                return checked(response, wait).await;
            }
            // Refused: when for `json_schema` (400 or 422, or llama-cpp-python's 500 naming
            // `response_format`), ask again with `json_object` and remember it.
            let status = response.status().as_u16();
            let body = tokio::time::timeout(wait, response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            if matches!(status, 400 | 422) || body.contains("response_format") {
                tracing::info!(
                    model = %model,
                    "the server refused response_format json_schema: asking with json_object"
                );
                *self.json_mode.lock().expect("json mode lock") = JsonMode::Object;
                continue;
            }
            return Err(Failure::Status {
                status,
                body: body.chars().take(200).collect(),
            });
        }
    }

    /// One model's streamed answer, whole.
    async fn stream_one(
        &self,
        model: &str,
        prompt: &[Turn],
        listener: &mut dyn Listener,
        deadline: Option<Instant>,
    ) -> Result<String, Failure> {
        let timeout = self.config.timeout;
        let deadline = deadline.unwrap_or_else(|| Instant::now() + timeout * TOTAL_TIMEOUTS);
        // The next wait: the timeout, or what is left before the deadline.
        let next_wait = || {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                Err(Failure::Deadline)
            } else {
                Ok((timeout.min(left), left <= timeout))
            }
        };
        let (wait, last) = next_wait()?;
        let response = match self.send_chat(model, prompt, wait).await {
            Err(Failure::Timeout(_)) if last => return Err(Failure::Deadline),
            other => other?,
        };
        let mut body = response.bytes_stream();
        let mut pending = Vec::<u8>::new();
        let mut text = String::new();
        let mut ended = false;
        loop {
            let (wait, last) = next_wait()?;
            match tokio::time::timeout(wait, body.next()).await {
                Err(_) if last => return Err(Failure::Deadline),
                Err(_) => return Err(Failure::Timeout(timeout)),
                Ok(None) => {
                    // The last line may come without its newline.
                    ended = true;
                    pending.push(b'\n');
                }
                Ok(Some(chunk)) => {
                    pending.extend_from_slice(&chunk.map_err(|e| Failure::Network(e.to_string()))?)
                }
            }
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let (piece, done) = match self.read_line(line.trim())? {
                    Piece::Text(piece) => (piece, false),
                    Piece::Last(piece) => (piece, true),
                    Piece::Nothing => continue,
                };
                if !piece.is_empty() {
                    listener.piece(&piece)?;
                }
                text.push_str(&piece);
                if done {
                    return non_empty(text);
                }
            }
            if ended {
                // A stream that ends without its closing line lost its connection mid-answer.
                return Err(Failure::Format(
                    "the stream ended before the answer was complete".into(),
                ));
            }
        }
    }

    fn read_line(&self, line: &str) -> Result<Piece, Failure> {
        if line.is_empty() {
            return Ok(Piece::Nothing);
        }
        let json = match self.config.provider {
            AiProvider::Ollama => line,
            AiProvider::OpenAi => match line.strip_prefix("data:") {
                Some(data) if data.trim() == "[DONE]" => return Ok(Piece::Last(String::new())),
                Some(data) => data.trim(),
                None => return Ok(Piece::Nothing), // `event:`, `id:`, comments
            },
        };
        let value: Value =
            serde_json::from_str(json).map_err(|e| Failure::Format(e.to_string()))?;
        if let Some(error) = value.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .or(error.as_str())
                .unwrap_or("unknown");
            return Err(Failure::Model(message.to_owned()));
        }
        Ok(match self.config.provider {
            AiProvider::Ollama => {
                // The closing line (`done: true`) may still carry the last piece of text.
                let piece = value["message"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if value["done"].as_bool() == Some(true) {
                    Piece::Last(piece)
                } else {
                    Piece::Text(piece)
                }
            }
            AiProvider::OpenAi => Piece::Text(
                value["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
        })
    }

    /// A place for one model call, waiting at most [`PLACE_WAIT`] (at once without a limit).
    async fn place(&self) -> Result<Option<OwnedSemaphorePermit>, Failure> {
        let Some(places) = &self.places else {
            return Ok(None);
        };
        match tokio::time::timeout(PLACE_WAIT, places.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            _ => Err(Failure::Busy),
        }
    }

    /// Embeds `inputs` with the embedding model, one vector per input.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, Failure> {
        let Some(model) = &self.config.embed_model else {
            return Ok(Vec::new());
        };
        let _place = self.place().await?;
        let timeout = self.config.timeout;
        let started = Instant::now();
        let request = match self.config.provider {
            AiProvider::Ollama => self
                .http
                .post(format!("{}/api/embed", self.config.base_url))
                .json(&json!({ "model": model, "input": inputs })),
            AiProvider::OpenAi => self
                .authorized(
                    self.http
                        .post(format!("{}/embeddings", self.config.base_url)),
                )
                .json(&json!({ "model": model, "input": inputs })),
        };
        let result = async {
            let response = tokio::time::timeout(timeout, request.send())
                .await
                .map_err(|_| Failure::Timeout(timeout))?
                .map_err(|e| Failure::Network(e.without_url().to_string()))?;
            let value: Value =
                tokio::time::timeout(timeout, checked(response, timeout).await?.json())
                    .await
                    .map_err(|_| Failure::Timeout(timeout))?
                    .map_err(|e| Failure::Format(e.to_string()))?;
            let vectors: Vec<Vec<f32>> = match self.config.provider {
                AiProvider::Ollama => serde_json::from_value(value["embeddings"].clone()),
                AiProvider::OpenAi => value["data"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .map(|i| i["embedding"].clone())
                            .collect::<Vec<_>>()
                    })
                    .map(|items| serde_json::from_value(Value::Array(items)))
                    .unwrap_or_else(|| serde_json::from_value(Value::Null)),
            }
            .map_err(|e| Failure::Format(e.to_string()))?;
            if vectors.len() != inputs.len() {
                return Err(Failure::Format(format!(
                    "{} vectors for {} inputs",
                    vectors.len(),
                    inputs.len()
                )));
            }
            Ok(vectors)
        }
        .await;
        match &result {
            Ok(_) => self.metrics.answered(model, started.elapsed()),
            Err(reason) => {
                tracing::warn!(model = %model, "model {model} failed: {reason}");
                self.metrics.failed(model, started.elapsed());
            }
        }
        result
    }

    /// The models the Ollama server has pulled (`/api/tags`), remembered for a while; `None`
    /// when unknown (another provider, or the list could not be read — the chat call will say).
    async fn pulled(&self) -> Option<Vec<String>> {
        if self.config.provider != AiProvider::Ollama {
            return None;
        }
        if let Some((at, names)) = &*self.tags.lock().expect("tags lock")
            && at.elapsed() < TAGS_FRESH
        {
            return Some(names.clone());
        }
        let timeout = self.config.timeout;
        let read = async {
            let response = self
                .http
                .get(format!("{}/api/tags", self.config.base_url))
                .send()
                .await
                .ok()?;
            let value: Value = response.error_for_status().ok()?.json().await.ok()?;
            value["models"].as_array().map(|models| {
                models
                    .iter()
                    .filter_map(|m| m["name"].as_str().or(m["model"].as_str()))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        let names = tokio::time::timeout(timeout, read).await.ok().flatten();
        match &names {
            Some(names) => {
                *self.tags.lock().expect("tags lock") = Some((Instant::now(), names.clone()))
            }
            None => tracing::warn!("the Ollama server's model list (/api/tags) could not be read"),
        }
        names
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.api_key {
            Some(key) => request.bearer_auth(&key.0),
            None => request,
        }
    }
}

enum Piece {
    Text(String),
    /// The closing piece: the answer is complete.
    Last(String),
    Nothing,
}

/// `llama3.2` is pulled when the server lists `llama3.2` or `llama3.2:latest`.
fn is_pulled(names: &[String], model: &str) -> bool {
    names
        .iter()
        .any(|name| name == model || name.strip_suffix(":latest") == Some(model))
}

fn non_empty(text: String) -> Result<String, Failure> {
    if text.trim().is_empty() {
        Err(Failure::Empty)
    } else {
        Ok(text)
    }
}

/// Turns a non-success status into a failure with the start of its body (for the log).
async fn checked(
    response: reqwest::Response,
    timeout: Duration,
) -> Result<reqwest::Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = tokio::time::timeout(timeout, response.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    Err(Failure::Status {
        status: status.as_u16(),
        body: body.chars().take(200).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_is_pulled_with_or_without_its_latest_tag() {
        let names = vec!["llama3.2:latest".to_owned(), "qwen2.5:1.5b".to_owned()];
        assert!(is_pulled(&names, "llama3.2"));
        assert!(is_pulled(&names, "qwen2.5:1.5b"));
        assert!(!is_pulled(&names, "qwen2.5"));
    }
}
