-- PostgreSQL's form of ../00006_push_nodes.sql.

-- +goose Up
CREATE TABLE push_nodes (
    user_jid   VARCHAR(3071) COLLATE "C" NOT NULL PRIMARY KEY,
    node       VARCHAR(64) COLLATE "C" NOT NULL UNIQUE,
    secret     VARCHAR(64) COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE push_nodes;
