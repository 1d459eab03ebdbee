import GRDB

extension SQLiteStore {
    /// "v11: agent foreign keys" (after main's "v10: preview links"): shares and exec sessions name their agent with a foreign key
    /// (`ON DELETE CASCADE`), as snapshots already did and as `PostgresStore`'s schema has them — the
    /// same invariants on both engines. SQLite cannot add a constraint to a table, so both are rebuilt
    /// (rows, indexes and the share-blob triggers as v7 made them); rows of agents that no longer exist
    /// go first (their blob rows keep `refs` right through the delete trigger; an unreferenced blob is
    /// removed, file and row, by the next share removal).
    static func registerAgentForeignKeysMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11: agent foreign keys") { db in
            try db.execute(sql: """
                DELETE FROM shares WHERE agent_id NOT IN (SELECT id FROM agents);
                DELETE FROM exec_sessions WHERE agent_id NOT IN (SELECT id FROM agents);
                CREATE TABLE shares_v11 (
                    token TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    sha256 TEXT NOT NULL REFERENCES share_blobs(sha256) ON DELETE RESTRICT,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    content_type TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    expires_at DATETIME NOT NULL,
                    legacy_file TEXT UNIQUE
                );
                INSERT INTO shares_v11 (token, agent_id, path, filename, sha256, size, content_type, created_at, expires_at, legacy_file)
                    SELECT token, agent_id, path, filename, sha256, size, content_type, created_at, expires_at, legacy_file FROM shares;
                DROP TABLE shares;
                ALTER TABLE shares_v11 RENAME TO shares;
                CREATE INDEX shares_on_agent_id ON shares(agent_id, sha256);
                CREATE INDEX shares_on_expires_at ON shares(expires_at);
                CREATE INDEX shares_on_sha256 ON shares(sha256);
                CREATE TRIGGER shares_size_is_blob_size BEFORE INSERT ON shares
                    WHEN NEW.size IS NOT (SELECT size FROM share_blobs WHERE sha256 = NEW.sha256)
                    BEGIN SELECT RAISE(ABORT, 'a share''s size must be its blob''s size'); END;
                CREATE TRIGGER shares_ref_blob AFTER INSERT ON shares
                    BEGIN UPDATE share_blobs SET refs = refs + 1 WHERE sha256 = NEW.sha256; END;
                CREATE TRIGGER shares_unref_blob AFTER DELETE ON shares
                    BEGIN UPDATE share_blobs SET refs = refs - 1 WHERE sha256 = OLD.sha256; END;
                CREATE TRIGGER shares_move_blob AFTER UPDATE OF sha256 ON shares WHEN NEW.sha256 IS NOT OLD.sha256
                    BEGIN
                        UPDATE share_blobs SET refs = refs - 1 WHERE sha256 = OLD.sha256;
                        UPDATE share_blobs SET refs = refs + 1 WHERE sha256 = NEW.sha256;
                    END;
                CREATE TABLE exec_sessions_v11 (
                    id TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                    command TEXT NOT NULL,
                    cwd TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    background BOOLEAN NOT NULL,
                    state TEXT NOT NULL,
                    exit_code INTEGER,
                    signal INTEGER,
                    timed_out BOOLEAN NOT NULL DEFAULT 0,
                    started_at DATETIME NOT NULL,
                    finished_at DATETIME
                );
                INSERT INTO exec_sessions_v11 (id, agent_id, command, cwd, pid, background, state, exit_code, signal, timed_out, started_at, finished_at)
                    SELECT id, agent_id, command, cwd, pid, background, state, exit_code, signal, timed_out, started_at, finished_at FROM exec_sessions;
                DROP TABLE exec_sessions;
                ALTER TABLE exec_sessions_v11 RENAME TO exec_sessions;
                CREATE INDEX exec_sessions_on_agent_id ON exec_sessions(agent_id);
                """)
        }
    }
}
