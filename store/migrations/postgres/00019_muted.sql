-- PostgreSQL's form of ../00019_muted.sql.

-- +goose Up
CREATE TABLE muted (
    user_jid VARCHAR(3071) NOT NULL,
    peer     VARCHAR(3071) NOT NULL,
    until_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_jid, peer)
);

-- +goose Down
DROP TABLE muted;
