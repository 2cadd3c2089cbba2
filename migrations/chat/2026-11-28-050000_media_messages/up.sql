-- Media messages: the name the file was sent with, and the file found by its URL.
ALTER TABLE messages ADD COLUMN media_name TEXT;
CREATE INDEX messages_media_url ON messages (media_url) WHERE media_url IS NOT NULL;
