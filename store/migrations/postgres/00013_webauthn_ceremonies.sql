-- PostgreSQL's form of ../00013_webauthn_ceremonies.sql.

-- +goose Up
CREATE TABLE webauthn_ceremonies (
    id         VARCHAR(64) COLLATE "C" PRIMARY KEY,
    state      BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE webauthn_ceremonies;
