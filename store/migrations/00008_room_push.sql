-- What a user hears of a room while away (the gateway subscribed them to
-- it with MucSub): the nick a mention names, and the policy: all, mentions
-- or none.

-- +goose Up
CREATE TABLE room_push (
    user_jid VARCHAR(3071) NOT NULL,
    room     VARCHAR(3071) NOT NULL,
    nick     VARCHAR(1023) NOT NULL,
    policy   VARCHAR(16) NOT NULL,
    PRIMARY KEY (user_jid, room)
);

-- +goose Down
DROP TABLE room_push;
