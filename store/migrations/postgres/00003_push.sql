-- PostgreSQL's form of ../00003_push.sql.

-- +goose Up
CREATE TABLE push_subscriptions (
    user_jid   VARCHAR(3071) COLLATE "C" NOT NULL,
    resource   VARCHAR(128) COLLATE "C" NOT NULL,
    endpoint   VARCHAR(2048) COLLATE "C" NOT NULL,
    p256dh     VARCHAR(128) COLLATE "C" NOT NULL,
    auth       VARCHAR(64) COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, resource)
);
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (user_jid, endpoint);

-- +goose Down
DROP TABLE push_subscriptions;
