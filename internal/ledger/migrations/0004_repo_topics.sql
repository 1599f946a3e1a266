-- Version 4: a repository's topics as the forge lists them (a JSON array),
-- so commands select repositories by topic without asking the forge.
ALTER TABLE repos ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
