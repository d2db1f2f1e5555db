-- Refresh tokens (issue 17): opaque random secrets kept only as their
-- SHA-256. One row per token; a login starts a family, and each refresh
-- spends its row (used_at) and adds the family's next one. A spent row is
-- kept until it expires so that its reuse is recognised. Times are Unix ms;
-- used_at 0 means not spent yet.

-- +goose Up
CREATE TABLE refresh_tokens (
    hash        BLOB PRIMARY KEY,
    family_id   VARCHAR(64) NOT NULL,
    user_jid    VARCHAR(3071) NOT NULL,
    device      VARCHAR(255) NOT NULL DEFAULT '',
    method      VARCHAR(16) NOT NULL,
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
