import Foundation
import Synchronization
import SandboxKernel

/// `GET /v1/agents/{id}/watch`: live file events of a workspace. Opens `WorkspaceWatcher`s through the
/// pipeline (the call is admitted, audited and counted; it lasts as long as the stream), keeps each
/// agent's open streams (at most `watchStreamsPerAgent`, sharing one `WatchBudget` of directories),
/// and ends them all when the agent is deleted.
public final class WatchService: Sendable {
    let pipeline: CallPipeline
    private let open = Mutex<[AgentID: [ObjectIdentifier: WorkspaceWatcher]]>([:])
    private let budgets = Mutex<[AgentID: WatchBudget]>([:])

    public init(pipeline: CallPipeline) {
        self.pipeline = pipeline
        pipeline.agents.onEnd { [weak self] agent, end in
            if end.leavesNode { self?.endAll(of: agent) }
        }
    }

    /// One open watch: its events, and `close()` (idempotent) for when the client leaves.
    public struct Stream: Sendable {
        public let events: AsyncStream<WatchEvent>
        public let close: @Sendable () -> Void
    }

    /// Starts watching `path` (relative to the workspace; "" for all of it) of agent `id`.
    public func watch(_ id: AgentID, path: String, recursive: Bool, entry: CallRequest.Entry) async throws(ToolError) -> Stream {
        let ticket = try await pipeline.begin(CallRequest(agentID: id, operation: "watch", entry: entry), admission: .anyAgent)
        let agent = ticket.admitted.agent
        let limits = pipeline.agents.limits(of: agent)
        let budget = budgets.withLock { budgets in
            if let existing = budgets[id] { return existing }
            let made = WatchBudget(limit: limits.watchedDirectoriesPerAgent)
            budgets[id] = made
            return made
        }
        let watcher: WorkspaceWatcher
        do {
            let relative = try Self.normalize(path, root: agent.workspacePath)
            watcher = try WorkspaceWatcher(root: agent.workspacePath, base: relative, recursive: recursive, budget: budget)
        } catch {
            throw ticket.fail(error)
        }
        let admitted = open.withLock { open in
            guard open[id, default: [:]].count < limits.watchStreamsPerAgent else { return false }
            open[id, default: [:]][ObjectIdentifier(watcher)] = watcher
            return true
        }
        guard admitted else {
            throw ticket.fail(ToolError(.tooManyRequests, "Agent \(id) already has \(limits.watchStreamsPerAgent) watch streams open; close one (or watch a common parent directory) and retry."))
        }
        do {
            _ = try await BlockingWork.run { () throws(ToolError) in try watcher.prepare() }
        } catch {
            remove(watcher, of: id)
            throw ticket.fail(error)
        }
        watcher.start()
        let close: @Sendable () -> Void = { [weak self] in
            watcher.stop()
            self?.remove(watcher, of: id)
            ticket.finish()
        }
        return Stream(events: watcher.events, close: close)
    }

    /// Ends every watch stream of the agent (it was deleted).
    public func endAll(of agent: AgentID) {
        let watchers = open.withLock { $0.removeValue(forKey: agent) } ?? [:]
        for watcher in watchers.values { watcher.stop() }
        budgets.withLock { _ = $0.removeValue(forKey: agent) }
    }

    /// Open watch streams of the agent (for tests and metrics).
    public func openStreams(of agent: AgentID) -> Int { open.withLock { $0[agent]?.count ?? 0 } }

    private func remove(_ watcher: WorkspaceWatcher, of agent: AgentID) {
        open.withLock { open in
            open[agent]?[ObjectIdentifier(watcher)] = nil
            if open[agent]?.isEmpty == true { open[agent] = nil }
        }
    }

    /// `path` as a clean path relative to the workspace `root`: no NUL, no `..`; an absolute path is
    /// accepted only inside the workspace (its host path, or `/workspace/…`).
    static func normalize(_ path: String, root: String) throws(ToolError) -> String {
        guard !path.utf8.contains(0), path.utf8.count <= 4096 else { throw ToolError.invalidField("path", "must be a path of at most 4096 bytes without NUL.") }
        var text = path
        if text.hasPrefix("/") {
            if let prefix = [root, "/workspace"].first(where: { text == $0 || text.hasPrefix($0 + "/") }) {
                text = String(text.dropFirst(prefix.count))
            } else {
                throw ToolError.invalidField("path", "must be inside the workspace: '\(path.prefix(200))' is not (paths are relative to the workspace root).")
            }
        }
        let parts = text.split(separator: "/").filter { $0 != "." && !$0.isEmpty }
        if parts.contains("..") {
            throw ToolError.invalidField("path", "must stay inside the workspace (no '..'); paths are relative to the workspace root.")
        }
        return parts.joined(separator: "/")
    }
}
