-- PostgreSQL's form of ../00010_attempt_buckets.sql.

-- +goose Up
CREATE TABLE attempt_buckets (
    bucket VARCHAR(3100) COLLATE "C" PRIMARY KEY,
    tat    BIGINT NOT NULL
);
CREATE INDEX attempt_buckets_tat ON attempt_buckets (tat);

-- +goose Down
DROP TABLE attempt_buckets;
