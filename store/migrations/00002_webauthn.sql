-- WebAuthn user handles and passkey credentials. Times are Unix ms.

-- +goose Up
CREATE TABLE webauthn_users (
    user_jid VARCHAR(3071) PRIMARY KEY,
    handle   BLOB NOT NULL UNIQUE
);

CREATE TABLE webauthn_credentials (
    id           BLOB PRIMARY KEY,
    user_jid     VARCHAR(3071) NOT NULL REFERENCES webauthn_users (user_jid) ON DELETE CASCADE,
    name         VARCHAR(255) NOT NULL,
    data         BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webauthn_credentials_user_jid ON webauthn_credentials (user_jid, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
DROP TABLE webauthn_users;
