-- The users an operator locked out through the operator API (PUT
-- /operator/lockouts/{username}): the gateway refuses their logins and
-- session reconnects until an operator unlocks them. One row per user;
-- locked_at is Unix ms.

-- +goose Up
CREATE TABLE operator_lockouts (
    user_jid  VARCHAR(3071) NOT NULL PRIMARY KEY,
    locked_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE operator_lockouts;
