-- Pending passkey ceremonies (auth.CeremonyStore), kept in the store so
-- that a ceremony begun on one gateway node finishes on another. state is
-- the auth package's own encoding; expires_at is Unix ms, and Purge
-- deletes what is past it.

-- +goose Up
CREATE TABLE webauthn_ceremonies (
    id         VARCHAR(64) PRIMARY KEY,
    state      BLOB NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE webauthn_ceremonies;
