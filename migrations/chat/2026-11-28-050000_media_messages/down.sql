DROP INDEX messages_media_url;
ALTER TABLE messages DROP COLUMN media_name;
