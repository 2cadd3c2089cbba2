DROP INDEX users_area_search_trgm;
DROP INDEX users_area_search_document;
ALTER TABLE users DROP COLUMN service_area;
CREATE INDEX users_search_document ON users USING gin (search_document) WHERE role = 'master';
CREATE INDEX users_search_trgm ON users USING gin (search_text gin_trgm_ops) WHERE role = 'master';
