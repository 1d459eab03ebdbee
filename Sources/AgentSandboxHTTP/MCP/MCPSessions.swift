import AgentSandbox
import Foundation
import MCP
import Synchronization

/// The live MCP sessions (`Mcp-Session-Id` → the agent, its transport and its server). A session ends
/// on `DELETE`, after `idleLimit` without requests, or when `capacity` is reached and it is the least
/// recently used one.
final class MCPSessions: Sendable {
    struct Entry: Sendable {
        let agent: AgentID
        let transport: MCPSessionTransport
        let server: Server
        var lastUsed: ContinuousClock.Instant
    }

    static let idleLimit: Duration = .seconds(3600)
    static let capacity = 1024

    private let entries = Mutex<[String: Entry]>([:])

    /// The transport of session `id` if it belongs to `agent` (marks it used).
    func transport(_ id: String, agent: AgentID) -> MCPSessionTransport? {
        entries.withLock { entries in
            guard var entry = entries[id], entry.agent == agent else { return nil }
            entry.lastUsed = .now
            entries[id] = entry
            return entry.transport
        }
    }

    /// Adds a session; stops the ones that idled out or that make room.
    func insert(_ id: String, _ entry: Entry) async {
        let ended: [Entry] = entries.withLock { entries in
            let now = ContinuousClock.now
            var ended: [Entry] = []
            for (key, value) in entries where now - value.lastUsed > Self.idleLimit {
                ended.append(value)
                entries[key] = nil
            }
            while entries.count >= Self.capacity, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                ended.append(oldest.value)
                entries[oldest.key] = nil
            }
            entries[id] = entry
            return ended
        }
        for entry in ended { await entry.server.stop() }
    }

    /// Forgets session `id` and stops its server.
    func remove(_ id: String) async {
        guard let entry = entries.withLock({ $0.removeValue(forKey: id) }) else { return }
        await entry.server.stop()
    }
}
