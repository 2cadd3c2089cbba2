DROP TABLE call_lines;
DROP TABLE calls;
