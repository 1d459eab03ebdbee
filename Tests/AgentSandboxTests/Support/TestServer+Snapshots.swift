import Foundation

/// Snapshot, fork and watch calls against a test server.
extension TestServer {
    /// Takes a snapshot; returns the reply (201 and the snapshot on success).
    func snapshot(_ agent: String, name: String? = nil) async throws -> Reply {
        try await post("/v1/agents/\(agent)/snapshots", json: name.map { ["name": $0] } ?? [:])
    }

    /// Takes a snapshot and returns its id, or fails.
    func snapshotID(_ agent: String) async throws -> String {
        let reply = try await snapshot(agent)
        guard reply.status == 201, let id = reply.string("snapshot_id") else { throw TestFailure("snapshot failed: \(reply.status) \(reply.text)") }
        return id
    }

    func restore(_ agent: String, _ snapshot: String) async throws -> Reply {
        try await post("/v1/agents/\(agent)/snapshots/\(snapshot)/restore", json: [:])
    }

    /// `POST /v1/agents` with `body` (a fork: `fork_of` or `from_snapshot`).
    func createAgent(_ body: [String: Any]) async throws -> Reply {
        try await post("/v1/agents", json: body)
    }

    /// A tree listing that shows what a snapshot must keep: type, mode, owner, size, mtime (seconds),
    /// symlink target and content hash of every entry below the root.
    func treeListing(_ agent: String) async throws -> String {
        let command = """
            find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
              printf '%s %s' "$f" "$(stat -c '%F %a %u %s %Y' "$f")"
              if [ -L "$f" ]; then printf ' -> %s' "$(readlink "$f")"; elif [ -f "$f" ]; then printf ' %s' "$(md5sum < "$f" | cut -c1-32)"; fi
              echo
            done
            """
        let reply = try await bash(agent, command)
        guard reply.string("status") == "ok", reply.int("exit_code") == 0 else { throw TestFailure("listing failed: \(reply.text)") }
        return reply.string("stdout") ?? ""
    }

    /// Open descriptors of the server process.
    func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }
}
