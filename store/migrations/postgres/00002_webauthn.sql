-- PostgreSQL's form of ../00002_webauthn.sql.

-- +goose Up
CREATE TABLE webauthn_users (
    user_jid VARCHAR(3071) COLLATE "C" PRIMARY KEY,
    handle   BYTEA NOT NULL UNIQUE
);

CREATE TABLE webauthn_credentials (
    id           BYTEA PRIMARY KEY,
    user_jid     VARCHAR(3071) COLLATE "C" NOT NULL REFERENCES webauthn_users (user_jid) ON DELETE CASCADE,
    name         VARCHAR(255) COLLATE "C" NOT NULL,
    data         BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webauthn_credentials_user_jid ON webauthn_credentials (user_jid, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
DROP TABLE webauthn_users;
