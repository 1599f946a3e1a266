-- Version 3: the campaign lock names its holder (host, process, command),
-- so a second writer can say who it waits for.
ALTER TABLE locks ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE locks ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE locks ADD COLUMN command TEXT NOT NULL DEFAULT '';
