-- Server-side bookmarks (the Openfire "Client Control" model of the SparkWeb
-- API): a URL or group chat room offered to every user (global), to the
-- users named and to the members of the groups named. Times are Unix ms.

-- +goose Up
CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       VARCHAR(16) NOT NULL,
    name       VARCHAR(1024) NOT NULL,
    value      VARCHAR(4096) NOT NULL,
    creator    VARCHAR(3071) NOT NULL,
    global     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX bookmarks_creator ON bookmarks (creator);
CREATE INDEX bookmarks_global ON bookmarks (global);

-- Who sees a bookmark: kind 'user' (a username) or 'group' (a group id).
CREATE TABLE bookmark_audience (
    bookmark_id INTEGER NOT NULL REFERENCES bookmarks (id) ON DELETE CASCADE,
    kind        VARCHAR(8) NOT NULL,
    name        VARCHAR(1023) NOT NULL,
    PRIMARY KEY (bookmark_id, kind, name)
);
CREATE INDEX bookmark_audience_name ON bookmark_audience (kind, name);

CREATE TABLE bookmark_properties (
    bookmark_id INTEGER NOT NULL REFERENCES bookmarks (id) ON DELETE CASCADE,
    name        VARCHAR(255) NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (bookmark_id, name)
);

-- +goose Down
DROP TABLE bookmark_properties;
DROP TABLE bookmark_audience;
DROP TABLE bookmarks;
