-- Per-user public properties set through the API (POST /config/properties,
-- PUT /user). Never secrets: those live in their own tables. Times are
-- Unix ms.

-- +goose Up
CREATE TABLE user_properties (
    user_jid   VARCHAR(3071) NOT NULL,
    name       VARCHAR(255) NOT NULL,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, name)
);
CREATE INDEX user_properties_name ON user_properties (name, value);

-- +goose Down
DROP TABLE user_properties;
