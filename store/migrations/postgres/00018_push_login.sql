-- PostgreSQL's form of ../00018_push_login.sql.

-- +goose Up
ALTER TABLE push_subscriptions ADD COLUMN family_id VARCHAR(64) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE push_subscriptions DROP COLUMN family_id;
