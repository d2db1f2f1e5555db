-- PostgreSQL's form of ../00015_operator_lockouts.sql.

-- +goose Up
CREATE TABLE operator_lockouts (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL PRIMARY KEY,
    locked_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE operator_lockouts;
