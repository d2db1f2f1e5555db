-- PostgreSQL's form of ../00009_login_failures.sql.

-- +goose Up
CREATE TABLE login_failures (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL,
    addr      VARCHAR(64) COLLATE "C" NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_user_jid ON login_failures (user_jid, addr, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
