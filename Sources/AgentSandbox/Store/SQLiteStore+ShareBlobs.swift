import Foundation
import GRDB

/// The `share_blobs` table: one row per distinct share content, reference-counted by the schema.
///
/// Invariants kept by SQLite, not by Swift:
/// - every share names an existing blob (`shares.sha256` → `share_blobs.sha256`, `ON DELETE RESTRICT`:
///   a blob row cannot go while a share refers to it);
/// - `refs` is the number of shares naming the blob (triggers on insert, delete and update of `shares`),
///   never negative (`CHECK`);
/// - a share's `size` is its blob's size (a trigger refuses a mismatch).
///
/// A blob whose `refs` reaches 0 is removed, row and file, in the transaction that dropped its last share.
extension SQLiteStore {
    /// Migration "v7: content-addressed shares": moves the shares' snapshot files under their content
    /// hash. Existing rows keep their snapshot file name in `legacy_file` until start-up adopts the file
    /// into the blob tree (`ShareService.adoptLegacySnapshots`): nothing is lost, and nothing is hashed here.
    static func registerShareBlobsMigration(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7: content-addressed shares") { db in
            try db.execute(sql: """
                CREATE TABLE share_blobs (
                    sha256 TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
                    size INTEGER NOT NULL CHECK (size >= 0),
                    refs INTEGER NOT NULL DEFAULT 0 CHECK (refs >= 0),
                    created_at DATETIME NOT NULL
                );
                INSERT INTO share_blobs (sha256, size, refs, created_at)
                    SELECT sha256, MAX(size), COUNT(*), MIN(created_at) FROM shares GROUP BY sha256;
                CREATE TABLE shares_v7 (
                    token TEXT PRIMARY KEY NOT NULL,
                    agent_id TEXT NOT NULL,
                    path TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    sha256 TEXT NOT NULL REFERENCES share_blobs(sha256) ON DELETE RESTRICT,
                    size INTEGER NOT NULL CHECK (size >= 0),
                    content_type TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    expires_at DATETIME NOT NULL,
                    legacy_file TEXT UNIQUE
                );
                INSERT INTO shares_v7 (token, agent_id, path, filename, sha256, size, content_type, created_at, expires_at, legacy_file)
                    SELECT token, agent_id, path, filename, sha256, size, content_type, created_at, expires_at, blob FROM shares;
                DROP TABLE shares;
                ALTER TABLE shares_v7 RENAME TO shares;
                CREATE INDEX shares_on_agent_id ON shares(agent_id, sha256);
                CREATE INDEX shares_on_expires_at ON shares(expires_at);
                CREATE INDEX shares_on_sha256 ON shares(sha256);
                CREATE INDEX share_blobs_unreferenced ON share_blobs(sha256) WHERE refs = 0;
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
                """)
        }
    }

    /// Inserts the blob row for `sha256` if there is none; true when it was inserted.
    static func ensureBlobRow(_ db: Database, sha256: String, size: Int64, now: Date) throws -> Bool {
        try db.execute(sql: "INSERT OR IGNORE INTO share_blobs (sha256, size, refs, created_at) VALUES (?, ?, 0, ?)",
                       arguments: [sha256, size, now])
        return db.changesCount > 0
    }

    /// Deletes the blob rows no share refers to any more; returns their hashes (their files are the
    /// caller's to remove, inside the same transaction).
    static func takeUnreferencedBlobs(_ db: Database) throws -> [String] {
        let hashes = try String.fetchAll(db, sql: "SELECT sha256 FROM share_blobs WHERE refs = 0")
        if !hashes.isEmpty { try db.execute(sql: "DELETE FROM share_blobs WHERE refs = 0") }
        return hashes
    }

    /// Every blob hash the store knows (to find orphan files left by a crash).
    public func shareBlobHashes() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT sha256 FROM share_blobs")) }
    }

    /// The snapshot files from before content addressing that are still in use.
    public func legacyShareFiles() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT legacy_file FROM shares WHERE legacy_file IS NOT NULL")) }
    }
}
