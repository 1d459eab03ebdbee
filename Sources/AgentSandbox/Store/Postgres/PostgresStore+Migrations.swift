import Foundation
import PostgresNIO

/// The PostgreSQL schema, in versioned migrations recorded in `schema_migrations`. Each runs in its own
/// transaction after `pg_advisory_xact_lock` on one key: nodes starting at once apply each migration
/// exactly once (the others wait, then see it recorded). Invariants match `SQLiteStore`'s schema —
/// unique agent id, one uid per live agent *per node*, `ON DELETE CASCADE` from an agent to its shares,
/// exec sessions, snapshots and preview links, blob reference counts kept by triggers — plus the
/// cluster's `nodes` table (the contract with the gateway: its columns are as listed here).
extension PostgresStore {
    /// The advisory lock key of migrations ("agent-sandbox schema").
    static let migrationLock: Int64 = 0x6167_7362_7363_6d61

    static let migrations: [(version: Int, name: String, statements: [String])] = [
        (1, "agents, nodes, api keys, audit", [
            """
            CREATE TABLE nodes (
                id text PRIMARY KEY,
                advertise_url text NOT NULL,
                max_agents integer NOT NULL,
                free_disk_bytes bigint NOT NULL DEFAULT 0,
                state text NOT NULL DEFAULT 'up',
                started_at timestamptz NOT NULL,
                heartbeat_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE agents (
                id text PRIMARY KEY,
                node_id text REFERENCES nodes(id),
                uid bigint,
                state text NOT NULL CHECK (state IN ('active', 'suspended', 'deleted')),
                created_at timestamptz NOT NULL,
                last_used_at timestamptz,
                settings text,
                UNIQUE (node_id, uid),
                CHECK (state = 'deleted' OR uid IS NOT NULL)
            )
            """,
            "CREATE INDEX agents_on_node_state ON agents (node_id, state)",
            """
            CREATE TABLE uid_cursor (
                node_id text PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,
                last_uid bigint NOT NULL
            )
            """,
            """
            CREATE TABLE api_keys (
                id bigserial PRIMARY KEY,
                key_hash text NOT NULL UNIQUE,
                name text NOT NULL,
                created_at timestamptz NOT NULL
            )
            """,
            """
            CREATE TABLE audit_log (
                id bigserial PRIMARY KEY,
                agent_id text NOT NULL,
                tool text NOT NULL,
                started_at timestamptz NOT NULL,
                duration_ms double precision NOT NULL,
                status text NOT NULL,
                bytes bigint NOT NULL
            )
            """,
            "CREATE INDEX audit_log_on_agent_id ON audit_log (agent_id)",
        ]),
        (2, "exec sessions, snapshots, preview links", [
            """
            CREATE TABLE exec_sessions (
                id text PRIMARY KEY,
                agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                command text NOT NULL,
                cwd text NOT NULL,
                pid bigint NOT NULL,
                background boolean NOT NULL,
                state text NOT NULL,
                exit_code bigint,
                signal bigint,
                timed_out boolean NOT NULL DEFAULT false,
                started_at timestamptz NOT NULL,
                finished_at timestamptz
            )
            """,
            "CREATE INDEX exec_sessions_on_agent_id ON exec_sessions (agent_id, started_at)",
            """
            CREATE TABLE snapshots (
                id text PRIMARY KEY,
                agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                name text,
                size bigint NOT NULL CHECK (size >= 0),
                entries bigint NOT NULL CHECK (entries >= 0),
                uncompressed_bytes bigint NOT NULL CHECK (uncompressed_bytes >= 0),
                blob_key text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX snapshots_on_agent_id ON snapshots (agent_id, created_at)",
            """
            CREATE TABLE preview_links (
                id text PRIMARY KEY,
                agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                port integer NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz,
                revoked_at timestamptz
            )
            """,
            "CREATE INDEX preview_links_on_agent_id ON preview_links (agent_id)",
        ]),
        (3, "shares and their content blobs", [
            // A blob is one node's file: its row is keyed by (node, content hash).
            """
            CREATE TABLE share_blobs (
                node_id text NOT NULL REFERENCES nodes(id),
                sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                size bigint NOT NULL CHECK (size >= 0),
                refs bigint NOT NULL DEFAULT 0 CHECK (refs >= 0),
                created_at timestamptz NOT NULL,
                PRIMARY KEY (node_id, sha256)
            )
            """,
            """
            CREATE TABLE shares (
                token text PRIMARY KEY,
                agent_id text NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
                node_id text NOT NULL,
                path text NOT NULL,
                filename text NOT NULL,
                sha256 text NOT NULL,
                size bigint NOT NULL CHECK (size >= 0),
                content_type text NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                legacy_file text UNIQUE,
                FOREIGN KEY (node_id, sha256) REFERENCES share_blobs (node_id, sha256) ON DELETE RESTRICT
            )
            """,
            "CREATE INDEX shares_on_agent_id ON shares (agent_id, sha256)",
            "CREATE INDEX shares_on_expires_at ON shares (node_id, expires_at)",
            "CREATE INDEX share_blobs_unreferenced ON share_blobs (node_id) WHERE refs = 0",
            """
            CREATE FUNCTION shares_size_is_blob_size() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.size IS DISTINCT FROM (SELECT size FROM share_blobs WHERE node_id = NEW.node_id AND sha256 = NEW.sha256) THEN
                    RAISE EXCEPTION 'a share''s size must be its blob''s size';
                END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER shares_size_is_blob_size BEFORE INSERT ON shares FOR EACH ROW EXECUTE FUNCTION shares_size_is_blob_size()",
            """
            CREATE FUNCTION shares_count_refs() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('DELETE', 'UPDATE') THEN
                    UPDATE share_blobs SET refs = refs - 1 WHERE node_id = OLD.node_id AND sha256 = OLD.sha256;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    UPDATE share_blobs SET refs = refs + 1 WHERE node_id = NEW.node_id AND sha256 = NEW.sha256;
                END IF;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER shares_count_refs AFTER INSERT OR DELETE OR UPDATE OF node_id, sha256 ON shares
                FOR EACH ROW EXECUTE FUNCTION shares_count_refs()
            """,
        ]),
        (4, "api keys announce their changes", [
            // Every node and gateway LISTENs (`APIKeyChangeFeed`) and re-reads its keys on a change,
            // instead of polling the table.
            """
            CREATE FUNCTION api_keys_announce() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(apiKeyChannel)', '');
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER api_keys_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
                FOR EACH STATEMENT EXECUTE FUNCTION api_keys_announce()
            """,
        ]),
    ]

    /// Applies the migrations this database has not recorded, each in a transaction under the lock.
    func migrate() async throws {
        // Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS can both try to create it.
        try await transaction { connection in
            try await execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", on: connection)
            try await execute("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", on: connection)
        }
        for migration in Self.migrations {
            try await transaction { connection in
                try await execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", on: connection)
                let done = try await values("SELECT version FROM schema_migrations WHERE version = \(migration.version)", as: Int.self, on: connection)
                guard done.isEmpty else { return }
                for statement in migration.statements {
                    try await execute(PostgresQuery(unsafeSQL: statement), on: connection)
                }
                try await execute("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))", on: connection)
            }
        }
    }
}
