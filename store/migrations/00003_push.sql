-- Web Push subscriptions, one per user and resource. Times are Unix ms;
-- expires_at 0 means the browser gave no expiration.

-- +goose Up
CREATE TABLE push_subscriptions (
    user_jid   VARCHAR(3071) NOT NULL,
    resource   VARCHAR(128) NOT NULL,
    endpoint   VARCHAR(2048) NOT NULL,
    p256dh     VARCHAR(128) NOT NULL,
    auth       VARCHAR(64) NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, resource)
);
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (user_jid, endpoint);

-- +goose Down
DROP TABLE push_subscriptions;
