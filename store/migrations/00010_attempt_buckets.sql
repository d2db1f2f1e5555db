-- Login attempt budgets (token buckets, as GCRA: one theoretical arrival
-- time per bucket, Unix ms), when the gateway keeps them in the store
-- rather than in its memory (a store several gateways share). A bucket
-- whose time has passed is full again and may be deleted.

-- +goose Up
CREATE TABLE attempt_buckets (
    bucket VARCHAR(3100) PRIMARY KEY,
    tat    BIGINT NOT NULL
);
CREATE INDEX attempt_buckets_tat ON attempt_buckets (tat);

-- +goose Down
DROP TABLE attempt_buckets;
