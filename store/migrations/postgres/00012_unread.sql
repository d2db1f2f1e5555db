-- PostgreSQL's form of ../00012_unread.sql.

-- +goose Up
CREATE TABLE unread (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL,
    peer      VARCHAR(3071) COLLATE "C" NOT NULL,
    room      BOOLEAN NOT NULL DEFAULT FALSE,
    unread    INTEGER NOT NULL DEFAULT 0,
    last_read VARCHAR(256) COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (user_jid, peer)
);

-- +goose Down
DROP TABLE unread;
