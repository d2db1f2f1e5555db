-- Times are integers: Unix milliseconds (UTC). Identifiers avoid words that
-- are reserved in PostgreSQL (user), so the queries stay portable.

-- +goose Up
CREATE TABLE revoked_tokens (
    jti        VARCHAR(128) PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

CREATE TABLE user_revocations (
    user_jid VARCHAR(3071) PRIMARY KEY,
    cutoff   BIGINT NOT NULL
);

CREATE TABLE totp_secrets (
    user_jid   VARCHAR(3071) PRIMARY KEY,
    ciphertext BLOB NOT NULL,
    nonce      BLOB NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE totp_used_steps (
    user_jid   VARCHAR(3071) NOT NULL,
    step       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, step)
);
CREATE INDEX totp_used_steps_expires_at ON totp_used_steps (expires_at);

CREATE TABLE totp_failures (
    user_jid  VARCHAR(3071) NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX totp_failures_user_jid ON totp_failures (user_jid, failed_at);

CREATE TABLE settings (
    name       VARCHAR(255) PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE totp_failures;
DROP TABLE totp_used_steps;
DROP TABLE totp_secrets;
DROP TABLE user_revocations;
DROP TABLE revoked_tokens;
