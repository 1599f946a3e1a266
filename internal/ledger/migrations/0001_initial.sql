-- Version 1: the campaign, repositories and their packages, waves,
-- changes, step outcomes, flags, canary verifications, npm tokens and
-- revocations, CI secrets and the append-only event log.
CREATE TABLE campaign (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	name          TEXT NOT NULL,
	config_digest TEXT NOT NULL DEFAULT '',
	created       TEXT NOT NULL,
	updated       TEXT NOT NULL
);

CREATE TABLE repos (
	full_name      TEXT PRIMARY KEY,
	forge_id       INTEGER NOT NULL DEFAULT 0,
	default_branch TEXT NOT NULL DEFAULT '',
	visibility     TEXT NOT NULL DEFAULT '',
	clone_url      TEXT NOT NULL DEFAULT '',
	commit_sha     TEXT NOT NULL DEFAULT '',
	publishes      INTEGER NOT NULL DEFAULT 0,
	credential     TEXT NOT NULL DEFAULT '',
	classification TEXT,
	detected_at    TEXT,
	updated        TEXT NOT NULL
);

CREATE TABLE packages (
	repo              TEXT NOT NULL REFERENCES repos (full_name),
	name              TEXT NOT NULL,
	dir               TEXT NOT NULL DEFAULT '.',
	private           INTEGER NOT NULL DEFAULT 0,
	publishable       INTEGER NOT NULL DEFAULT 0,
	access            TEXT NOT NULL DEFAULT '',
	registry          TEXT NOT NULL DEFAULT '',
	trust_repository  TEXT NOT NULL DEFAULT '',
	trust_workflow    TEXT NOT NULL DEFAULT '',
	trust_environment TEXT NOT NULL DEFAULT '',
	trust_state       TEXT NOT NULL DEFAULT 'unknown'
		CHECK (trust_state IN ('unknown', 'missing', 'configured', 'mismatch', 'unpublished')),
	trust_detail      TEXT NOT NULL DEFAULT '',
	trust_checked     TEXT,
	PRIMARY KEY (repo, name)
);

CREATE TABLE waves (
	number   INTEGER PRIMARY KEY CHECK (number >= 0),
	name     TEXT NOT NULL DEFAULT '',
	gate     TEXT NOT NULL DEFAULT '{}',
	state    TEXT NOT NULL DEFAULT 'planned'
		CHECK (state IN ('planned', 'running', 'gated', 'done')),
	started  TEXT,
	finished TEXT
);

CREATE TABLE wave_members (
	wave     INTEGER NOT NULL REFERENCES waves (number) ON DELETE CASCADE,
	repo     TEXT NOT NULL UNIQUE REFERENCES repos (full_name),
	position INTEGER NOT NULL,
	PRIMARY KEY (wave, repo)
);

CREATE TABLE changes (
	repo       TEXT PRIMARY KEY REFERENCES repos (full_name),
	branch     TEXT NOT NULL,
	base       TEXT NOT NULL DEFAULT '',
	playbook   TEXT NOT NULL DEFAULT '',
	pushed_sha TEXT NOT NULL DEFAULT '',
	pr_number  INTEGER NOT NULL DEFAULT 0,
	url        TEXT NOT NULL DEFAULT '',
	title      TEXT NOT NULL DEFAULT '',
	state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'closed')),
	draft      INTEGER NOT NULL DEFAULT 0,
	checks     TEXT NOT NULL DEFAULT '',
	mergeable  TEXT NOT NULL DEFAULT '',
	updated    TEXT NOT NULL
);

CREATE TABLE steps (
	repo     TEXT PRIMARY KEY REFERENCES repos (full_name),
	name     TEXT NOT NULL,
	outcome  TEXT NOT NULL CHECK (outcome IN ('ok', 'skipped', 'failed')),
	reason   TEXT NOT NULL DEFAULT '',
	error    TEXT NOT NULL DEFAULT '',
	hint     TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 1,
	at       TEXT NOT NULL
);
CREATE INDEX steps_outcome ON steps (outcome);

CREATE TABLE flags (
	repo     TEXT NOT NULL REFERENCES repos (full_name),
	variable TEXT NOT NULL,
	value    TEXT NOT NULL,
	updated  TEXT NOT NULL,
	PRIMARY KEY (repo, variable)
);

CREATE TABLE verifications (
	id          INTEGER PRIMARY KEY,
	repo        TEXT NOT NULL REFERENCES repos (full_name),
	package     TEXT NOT NULL,
	version     TEXT NOT NULL,
	tag         TEXT NOT NULL DEFAULT '',
	checks      TEXT NOT NULL DEFAULT '[]',
	passed      INTEGER NOT NULL DEFAULT 0,
	verified_at TEXT NOT NULL
);
CREATE INDEX verifications_repo ON verifications (repo, package, id);

CREATE TABLE tokens (
	key      TEXT PRIMARY KEY,
	prefix   TEXT NOT NULL DEFAULT '',
	name     TEXT NOT NULL DEFAULT '',
	created  TEXT,
	expires  TEXT,
	readonly INTEGER NOT NULL DEFAULT 0,
	cidr     TEXT NOT NULL DEFAULT '[]',
	source   TEXT NOT NULL DEFAULT '',
	repo     TEXT REFERENCES repos (full_name),
	updated  TEXT NOT NULL
);

CREATE TABLE revocations (
	key        TEXT PRIMARY KEY REFERENCES tokens (key),
	revoked_at TEXT NOT NULL,
	revoked_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE secrets (
	id          INTEGER PRIMARY KEY,
	repo        TEXT REFERENCES repos (full_name),
	scope       TEXT NOT NULL CHECK (scope IN ('repo', 'env', 'org')),
	environment TEXT NOT NULL DEFAULT '',
	name        TEXT NOT NULL,
	updated_at  TEXT,
	seen        TEXT NOT NULL,
	deleted_at  TEXT,
	deleted_by  TEXT NOT NULL DEFAULT '',
	CHECK ((scope = 'org') = (repo IS NULL))
);
CREATE UNIQUE INDEX secrets_key ON secrets (ifnull(repo, ''), scope, environment, name);

CREATE TABLE events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    TEXT NOT NULL,
	kind    TEXT NOT NULL,
	repo    TEXT NOT NULL DEFAULT '',
	wave    INTEGER,
	message TEXT NOT NULL DEFAULT '',
	data    TEXT
);
CREATE INDEX events_repo ON events (repo, id);
CREATE INDEX events_kind ON events (kind, id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'the event log is append-only: events cannot be updated');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted');
END;

-- INSERT OR REPLACE deletes the row it replaces without firing delete
-- triggers (unless recursive_triggers is on): refuse it too.
CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id)
BEGIN
	SELECT RAISE(ABORT, 'the event log is append-only: events cannot be replaced');
END;
