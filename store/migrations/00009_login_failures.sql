-- Failed logins (password, TOTP, registration) counted for the lockout,
-- when the gateway keeps them in the store rather than in its memory (a
-- store that several gateways share): one row per failure of a user from
-- a client address, and one with addr '*' for the user's count across
-- addresses. Times are Unix ms.

-- +goose Up
CREATE TABLE login_failures (
    user_jid  VARCHAR(3071) NOT NULL,
    addr      VARCHAR(64) NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_user_jid ON login_failures (user_jid, addr, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- +goose Down
DROP TABLE login_failures;
