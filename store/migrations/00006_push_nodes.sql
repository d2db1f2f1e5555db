-- The node and secret each user's server pushes to (XEP-0357, the gateway
-- as its own push app server), one per user; the node finds the user when
-- a notification arrives.

-- +goose Up
CREATE TABLE push_nodes (
    user_jid   VARCHAR(3071) NOT NULL PRIMARY KEY,
    node       VARCHAR(64) NOT NULL UNIQUE,
    secret     VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE push_nodes;
