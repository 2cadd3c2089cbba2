DROP TABLE admin_audit;
DROP TABLE blocks;
DROP TABLE subscriptions;
DROP TABLE refresh_tokens;
DROP TABLE verification_codes;
DROP TABLE users;
