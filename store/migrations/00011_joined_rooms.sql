-- The rooms each user is in (issue 20): rejoined when the user's session
-- opens again, caught up from the room's archive after last_id (or since
-- last_seen, Unix seconds, when no id is known).

-- +goose Up
CREATE TABLE joined_rooms (
    user_jid  VARCHAR(3071) NOT NULL,
    room      VARCHAR(3071) NOT NULL,
    nick      VARCHAR(1023) NOT NULL,
    password  VARCHAR(1024) NOT NULL DEFAULT '',
    last_id   VARCHAR(1023) NOT NULL DEFAULT '',
    last_seen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_jid, room)
);

-- +goose Down
DROP TABLE joined_rooms;
