-- PostgreSQL's form of ../00008_room_push.sql.

-- +goose Up
CREATE TABLE room_push (
    user_jid VARCHAR(3071) COLLATE "C" NOT NULL,
    room     VARCHAR(3071) COLLATE "C" NOT NULL,
    nick     VARCHAR(1023) COLLATE "C" NOT NULL,
    policy   VARCHAR(16) COLLATE "C" NOT NULL,
    PRIMARY KEY (user_jid, room)
);

-- +goose Down
DROP TABLE room_push;
