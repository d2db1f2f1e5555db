-- The login (refresh token family, auth/logins.go) that stored each push
-- subscription, so that signing that login out from another device (a
-- lost phone) also stops its notifications. '' for a subscription stored
-- by a login without a family, or before this column.

-- +goose Up
ALTER TABLE push_subscriptions ADD COLUMN family_id VARCHAR(64) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE push_subscriptions DROP COLUMN family_id;
