-- The AI assistant: conversations kept per user (deleting one deletes its messages), and the
-- embeddings of event texts per model, keyed by a digest of the text they were made from.
CREATE TABLE assistant_conversations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX assistant_conversations_user ON assistant_conversations (user_id, updated_at);

-- A question is `pending` until an answer is being written (`answering`, claimed at
-- `claimed_at`) and `done` once its answer row exists. An answer names its question
-- (`question_id`) and lists the recommended events.
CREATE TABLE assistant_messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES assistant_conversations (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'answering', 'done')),
    claimed_at      TIMESTAMPTZ,
    model           TEXT,
    fallback        BOOLEAN NOT NULL DEFAULT FALSE,
    event_ids       TEXT    NOT NULL DEFAULT '',
    question_id     BIGINT  REFERENCES assistant_messages (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX assistant_messages_conversation ON assistant_messages (conversation_id, id);
CREATE INDEX assistant_messages_question ON assistant_messages (question_id);

CREATE TABLE event_embeddings (
    event_id BIGINT  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    model    TEXT    NOT NULL,
    digest   TEXT    NOT NULL,
    vector   TEXT    NOT NULL,
    PRIMARY KEY (event_id, model)
);
