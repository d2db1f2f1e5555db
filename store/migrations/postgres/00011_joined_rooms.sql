-- PostgreSQL's form of ../00011_joined_rooms.sql.

-- +goose Up
CREATE TABLE joined_rooms (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL,
    room      VARCHAR(3071) COLLATE "C" NOT NULL,
    nick      VARCHAR(1023) COLLATE "C" NOT NULL,
    password  VARCHAR(1024) COLLATE "C" NOT NULL DEFAULT '',
    last_id   VARCHAR(1023) COLLATE "C" NOT NULL DEFAULT '',
    last_seen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_jid, room)
);

-- +goose Down
DROP TABLE joined_rooms;
