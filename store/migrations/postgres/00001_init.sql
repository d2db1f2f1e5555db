-- PostgreSQL's form of ../00001_init.sql (same version, same tables):
-- BYTEA for BLOB; every text column COLLATE "C", so that comparisons and
-- ORDER BY work on bytes, as SQLite's BINARY collation does, whatever the
-- database's locale. Times are integers: Unix milliseconds (UTC).

-- +goose Up
CREATE TABLE revoked_tokens (
    jti        VARCHAR(128) COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

CREATE TABLE user_revocations (
    user_jid VARCHAR(3071) COLLATE "C" PRIMARY KEY,
    cutoff   BIGINT NOT NULL
);

CREATE TABLE totp_secrets (
    user_jid   VARCHAR(3071) COLLATE "C" PRIMARY KEY,
    ciphertext BYTEA NOT NULL,
    nonce      BYTEA NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE totp_used_steps (
    user_jid   VARCHAR(3071) COLLATE "C" NOT NULL,
    step       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, step)
);
CREATE INDEX totp_used_steps_expires_at ON totp_used_steps (expires_at);

CREATE TABLE totp_failures (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX totp_failures_user_jid ON totp_failures (user_jid, failed_at);

CREATE TABLE settings (
    name       VARCHAR(255) COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE totp_failures;
DROP TABLE totp_used_steps;
DROP TABLE totp_secrets;
DROP TABLE user_revocations;
DROP TABLE revoked_tokens;
