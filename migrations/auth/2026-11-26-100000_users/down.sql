DROP TABLE refresh_tokens;
DROP TABLE verification_codes;
DROP TABLE users;
