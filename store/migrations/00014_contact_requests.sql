-- The contact requests waiting for each user's answer (RFC 6121 section
-- 3.1): people who asked to see the user's presence. The XMPP server keeps
-- them too but shows them to a client only as a presence at login, never
-- in the roster; the gateway keeps them so that every tab and device of the
-- user sees them. A row goes when the user approves or declines, or the
-- person withdraws the request.

-- +goose Up
CREATE TABLE contact_requests (
    user_jid  VARCHAR(3071) NOT NULL,
    requester VARCHAR(3071) NOT NULL,
    asked_at  BIGINT NOT NULL,
    PRIMARY KEY (user_jid, requester)
);

-- +goose Down
DROP TABLE contact_requests;
