-- +goose ENVSUB ON
-- +goose Up
-- A ';' or '?' in a literal or comment is not a statement end or a placeholder?
INSERT INTO ${GOOSE_NOTES_TABLE} (id, body) VALUES (1, 'first; note?');
INSERT INTO ${GOOSE_NOTES_TABLE} (id, body) VALUES (2, 'second :note');
ALTER TABLE ${GOOSE_NOTES_TABLE} ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE ${GOOSE_NOTES_TABLE} DROP COLUMN pinned;
DELETE FROM ${GOOSE_NOTES_TABLE};
