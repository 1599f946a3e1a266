-- Version 2: owners, the bypass-2FA flag of npm tokens, reminders for
-- rotation sweeps, and the scheduler's runs and lock.
ALTER TABLE repos ADD COLUMN owner TEXT NOT NULL DEFAULT '';

ALTER TABLE tokens ADD COLUMN bypass_2fa INTEGER CHECK (bypass_2fa IN (0, 1));

CREATE TABLE reminders (
	repo         TEXT NOT NULL REFERENCES repos (full_name),
	topic        TEXT NOT NULL,
	issue_number INTEGER NOT NULL DEFAULT 0,
	issue_url    TEXT NOT NULL DEFAULT '',
	level        INTEGER NOT NULL DEFAULT 0,
	state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
	message      TEXT NOT NULL DEFAULT '',
	last_sent    TEXT NOT NULL,
	closed_at    TEXT,
	PRIMARY KEY (repo, topic)
);

CREATE TABLE schedule_runs (
	id       INTEGER PRIMARY KEY,
	job      TEXT NOT NULL,
	owner    TEXT NOT NULL DEFAULT '',
	started  TEXT NOT NULL,
	finished TEXT,
	outcome  TEXT NOT NULL DEFAULT 'running'
		CHECK (outcome IN ('running', 'ok', 'skipped', 'failed')),
	message  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX schedule_runs_job ON schedule_runs (job, id);

CREATE TABLE locks (
	name     TEXT PRIMARY KEY,
	owner    TEXT NOT NULL,
	acquired TEXT NOT NULL,
	expires  TEXT NOT NULL
);
