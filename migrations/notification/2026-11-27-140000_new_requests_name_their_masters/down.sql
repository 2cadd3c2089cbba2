CREATE TABLE masters (
    master_id      BIGINT PRIMARY KEY,
    region_codes   TEXT[] NOT NULL,
    category_codes TEXT[] NOT NULL
);
CREATE INDEX masters_regions ON masters USING gin (region_codes);
