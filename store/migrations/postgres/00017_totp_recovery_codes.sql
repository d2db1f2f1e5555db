-- PostgreSQL's form of ../00017_totp_recovery_codes.sql.

-- +goose Up
CREATE TABLE totp_recovery_codes (
    user_jid VARCHAR(3071) COLLATE "C" NOT NULL,
    code_mac BYTEA NOT NULL,
    PRIMARY KEY (user_jid, code_mac)
);

-- +goose Down
DROP TABLE totp_recovery_codes;
