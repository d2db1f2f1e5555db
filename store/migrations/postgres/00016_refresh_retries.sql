-- PostgreSQL's form of ../00016_refresh_retries.sql.

-- +goose Up
ALTER TABLE refresh_tokens ADD COLUMN parent BYTEA;

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN parent;
