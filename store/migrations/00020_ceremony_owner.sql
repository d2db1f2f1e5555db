-- The user each pending passkey ceremony is for (auth.CeremonyStore's
-- owner): a named login's or a registration's. A user holds at most a
-- few at once, so that no one user, and no one who knows a user's name,
-- can fill the table that every user's ceremonies share. Spent
-- challenges and older rows have none ('').

-- +goose Up
ALTER TABLE webauthn_ceremonies ADD COLUMN owner VARCHAR(3071) NOT NULL DEFAULT '';
CREATE INDEX webauthn_ceremonies_owner ON webauthn_ceremonies (owner, expires_at);

-- +goose Down
DROP INDEX webauthn_ceremonies_owner;
ALTER TABLE webauthn_ceremonies DROP COLUMN owner;
