-- The caller id as the trunk delivered it (issue 9.4).
ALTER TABLE tickets ADD COLUMN caller_raw TEXT;
