-- Muted conversations (gateway/mute.go): a user's conversation (a contact,
-- a room, or a room occupant's room/nick) whose messages push nothing to
-- the user's devices until a time, or until unmuted (until_at 0). Times
-- are Unix ms.

-- +goose Up
CREATE TABLE muted (
    user_jid VARCHAR(3071) NOT NULL,
    peer     VARCHAR(3071) NOT NULL,
    until_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_jid, peer)
);

-- +goose Down
DROP TABLE muted;
