-- PostgreSQL's form of ../00014_contact_requests.sql.

-- +goose Up
CREATE TABLE contact_requests (
    user_jid  VARCHAR(3071) COLLATE "C" NOT NULL,
    requester VARCHAR(3071) COLLATE "C" NOT NULL,
    asked_at  BIGINT NOT NULL,
    PRIMARY KEY (user_jid, requester)
);

-- +goose Down
DROP TABLE contact_requests;
