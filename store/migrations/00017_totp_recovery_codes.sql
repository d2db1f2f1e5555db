-- TOTP recovery codes (auth/recovery.go): one row per unused code of a
-- user, holding only the HMAC of the code under a key kept in the key
-- directory. A code is deleted when used; DeleteTOTPSecret deletes the
-- user's codes with the secret.

-- +goose Up
CREATE TABLE totp_recovery_codes (
    user_jid VARCHAR(3071) NOT NULL,
    code_mac BLOB NOT NULL,
    PRIMARY KEY (user_jid, code_mac)
);

-- +goose Down
DROP TABLE totp_recovery_codes;
