package sqlitestore

// schemaVersion is stored in PRAGMA user_version.
const schemaVersion = 1

// schema creates the tables of version 1. Times are Unix nanoseconds. IDs
// are dashless UUIDs. commits.file_count and commits.dep_count let fsck
// prove that no commit is missing rows.
const schema = `
CREATE TABLE owners (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
	kind        INTEGER NOT NULL,
	create_time INTEGER NOT NULL,
	update_time INTEGER NOT NULL
);
CREATE TABLE members (
	org_id      TEXT NOT NULL REFERENCES owners(id),
	user_id     TEXT NOT NULL REFERENCES owners(id),
	create_time INTEGER NOT NULL,
	PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	hash        BLOB NOT NULL UNIQUE,
	user_id     TEXT NOT NULL REFERENCES owners(id),
	note        TEXT NOT NULL,
	create_time INTEGER NOT NULL
);
CREATE TABLE modules (
	id            TEXT PRIMARY KEY,
	owner_id      TEXT NOT NULL REFERENCES owners(id),
	name          TEXT NOT NULL COLLATE NOCASE,
	visibility    INTEGER NOT NULL,
	state         INTEGER NOT NULL,
	description   TEXT NOT NULL,
	url           TEXT NOT NULL,
	default_label TEXT NOT NULL,
	create_time   INTEGER NOT NULL,
	update_time   INTEGER NOT NULL,
	UNIQUE (owner_id, name)
);
CREATE TABLE commits (
	seq                INTEGER PRIMARY KEY AUTOINCREMENT,
	id                 TEXT NOT NULL UNIQUE,
	module_id          TEXT NOT NULL REFERENCES modules(id),
	digest             BLOB NOT NULL,
	create_time        INTEGER NOT NULL,
	created_by         TEXT NOT NULL,
	source_control_url TEXT NOT NULL,
	file_count         INTEGER NOT NULL,
	dep_count          INTEGER NOT NULL
);
CREATE INDEX commits_by_module_digest ON commits (module_id, digest);
CREATE TABLE commit_files (
	commit_id TEXT NOT NULL REFERENCES commits(id),
	path      TEXT NOT NULL,
	sha256    BLOB NOT NULL,
	size      INTEGER NOT NULL,
	PRIMARY KEY (commit_id, path)
) WITHOUT ROWID;
CREATE TABLE commit_deps (
	commit_id TEXT NOT NULL REFERENCES commits(id),
	dep_id    TEXT NOT NULL REFERENCES commits(id),
	direct    INTEGER NOT NULL,
	PRIMARY KEY (commit_id, dep_id)
) WITHOUT ROWID;
CREATE TABLE labels (
	id          TEXT PRIMARY KEY,
	module_id   TEXT NOT NULL REFERENCES modules(id),
	name        TEXT NOT NULL,
	commit_id   TEXT NOT NULL REFERENCES commits(id),
	create_time INTEGER NOT NULL,
	update_time INTEGER NOT NULL,
	updated_by  TEXT NOT NULL,
	UNIQUE (module_id, name)
);
CREATE TABLE label_moves (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	label_id   TEXT NOT NULL REFERENCES labels(id),
	commit_id  TEXT NOT NULL REFERENCES commits(id),
	time       INTEGER NOT NULL,
	updated_by TEXT NOT NULL
);
CREATE INDEX label_moves_by_label ON label_moves (label_id, seq);
`
