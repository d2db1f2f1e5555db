-- PostgreSQL's form of ../00005_user_properties.sql. The index on
-- (name, value) would refuse values longer than a B-tree entry (about
-- 2,700 bytes); it indexes a hash of the value instead, which equality
-- lookups use as well.

-- +goose Up
CREATE TABLE user_properties (
    user_jid   VARCHAR(3071) COLLATE "C" NOT NULL,
    name       VARCHAR(255) COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_jid, name)
);
CREATE INDEX user_properties_name ON user_properties (name, md5(value));

-- +goose Down
DROP TABLE user_properties;
