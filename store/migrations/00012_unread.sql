-- What each user has not read yet, per conversation (package unread): the
-- count of messages from others since the last read, and the id of the
-- message last read up to (an XEP-0333 displayed marker).

-- +goose Up
CREATE TABLE unread (
    user_jid  VARCHAR(3071) NOT NULL,
    peer      VARCHAR(3071) NOT NULL,
    room      BOOLEAN NOT NULL DEFAULT FALSE,
    unread    INTEGER NOT NULL DEFAULT 0,
    last_read VARCHAR(256) NOT NULL DEFAULT '',
    PRIMARY KEY (user_jid, peer)
);

-- +goose Down
DROP TABLE unread;
