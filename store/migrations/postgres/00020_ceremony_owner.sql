-- PostgreSQL's form of ../00020_ceremony_owner.sql.

-- +goose Up
ALTER TABLE webauthn_ceremonies ADD COLUMN owner VARCHAR(3071) COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX webauthn_ceremonies_owner ON webauthn_ceremonies (owner, expires_at);

-- +goose Down
DROP INDEX webauthn_ceremonies_owner;
ALTER TABLE webauthn_ceremonies DROP COLUMN owner;
