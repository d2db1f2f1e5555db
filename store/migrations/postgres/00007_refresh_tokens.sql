-- PostgreSQL's form of ../00007_refresh_tokens.sql.

-- +goose Up
CREATE TABLE refresh_tokens (
    hash        BYTEA PRIMARY KEY,
    family_id   VARCHAR(64) COLLATE "C" NOT NULL,
    user_jid    VARCHAR(3071) COLLATE "C" NOT NULL,
    device      VARCHAR(255) COLLATE "C" NOT NULL DEFAULT '',
    method      VARCHAR(16) COLLATE "C" NOT NULL,
    remember    BOOLEAN NOT NULL DEFAULT FALSE,
    started_at  BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_jid ON refresh_tokens (user_jid);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- +goose Down
DROP TABLE refresh_tokens;
