-- Retried refreshes (auth.Refresh): a client whose refresh answer was lost
-- presents its spent refresh token again; within a short window, while the
-- token that refresh issued is unused, that token is spent in its place and
-- a new one issued. parent is the hash of the token whose refresh (or
-- retry) issued the row, NULL for a login's: it is how a retry finds the
-- token to spend, since times alone can tie. A token spent by a retry has
-- no child, so presenting it again is always reuse.

-- +goose Up
ALTER TABLE refresh_tokens ADD COLUMN parent BLOB;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN parent;
