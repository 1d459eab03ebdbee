import AgentSandbox
import Foundation
import Synchronization
import Testing

/// The cluster's pure parts: rendezvous placement, the liveness rule, `{node}.{uuid}` ids, and the
/// gateway's catalog over an in-memory directory.
@Suite struct ClusterUnitTests {
    static func node(_ id: String, agents: Int = 0, max: Int = 100, age: Double = 0, state: ClusterNode.State = .up) -> ClusterNode {
        ClusterNode(id: id, advertiseURL: "http://\(id)", maxAgents: max, freeDiskBytes: 1 << 30, state: state,
                    heartbeatAt: Date().addingTimeInterval(-age), agents: agents)
    }

    @Test func rendezvousIsDeterministicAndIndependentOfNodeOrder() {
        let nodes = ["a", "b", "c"].map { Self.node($0) }
        for _ in 0..<50 {
            let key = UUID().uuidString.lowercased()
            #expect(Rendezvous.choose(key: key, among: nodes)?.id == Rendezvous.choose(key: key, among: nodes.reversed())?.id)
            #expect(Rendezvous.choose(key: key, among: nodes)?.id == Rendezvous.rank(key: key, nodes: ["c", "a", "b"]).first)
        }
    }

    @Test func rendezvousSpreadsKeysOverEveryNode() {
        let nodes = ["n1", "n2", "n3"].map { Self.node($0) }
        var counts: [String: Int] = [:]
        for _ in 0..<3000 { counts[Rendezvous.choose(key: UUID().uuidString.lowercased(), among: nodes)!.id, default: 0] += 1 }
        // Expected 1000 each; 800 is more than six standard deviations below.
        #expect(counts.count == 3)
        #expect(counts.values.allSatisfy { $0 > 800 }, "\(counts)")
    }

    @Test func removingANodeMovesOnlyTheKeysItHeld() {
        let all = ["n1", "n2", "n3", "n4"].map { Self.node($0) }
        let rest = all.filter { $0.id != "n3" }
        for _ in 0..<500 {
            let key = UUID().uuidString.lowercased()
            let before = Rendezvous.choose(key: key, among: all)!.id
            let after = Rendezvous.choose(key: key, among: rest)!.id
            if before != "n3" { #expect(before == after) }
        }
    }

    @Test func aNodeIsUnavailableOnceItsHeartbeatIsOlderThanTheWindow() {
        #expect(Self.node("a", age: 3).isAlive(window: 10))
        #expect(!Self.node("a", age: 11).isAlive(window: 10))
        #expect(Self.node("a", age: 11).displayState(window: 10) == "unavailable")
        #expect(Self.node("a", state: .draining).displayState(window: 10) == "draining")
    }

    @Test func onlyLiveUpNodesBelowCapacityHaveRoom() {
        #expect(Self.node("a", agents: 5, max: 10).hasRoom(window: 10))
        #expect(!Self.node("a", agents: 10, max: 10).hasRoom(window: 10))
        #expect(!Self.node("a", state: .draining).hasRoom(window: 10))
        #expect(!Self.node("a", age: 60).hasRoom(window: 10))
        #expect(Self.node("a", agents: 5, max: 10).load == 0.5)
    }

    @Test func clusterIdsCarryANodeHintAndACanonicalUUID() throws {
        let plain = try ClusterAgentReference("3F2B6C1E-8D4A-4B7E-9C21-5A6D7E8F9A0B")
        #expect(plain.nodeHint == nil)
        #expect(plain.agent.rawValue == "3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b")
        let hinted = try ClusterAgentReference("node-2.3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b")
        #expect(hinted.nodeHint == "node-2")
        #expect(hinted.agent == plain.agent)
        #expect(throws: ToolError.self) { try ClusterAgentReference("node 2.3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b") }
        #expect(throws: ToolError.self) { try ClusterAgentReference("node-2.not-a-uuid") }
        #expect(throws: ToolError.self) { try ClusterAgentReference(".3f2b6c1e-8d4a-4b7e-9c21-5a6d7e8f9a0b") }
    }

    @Test func nodeUnavailableIs503AndMovingIs409WithRetryAfter() {
        #expect(ToolError(.nodeUnavailable, "x").httpStatus.code == 503)
        #expect(ToolError(.agentMoving, "x").httpStatus.code == 409)
        #expect(ToolError(.agentMoving, "x").retryAfterSeconds != nil)
    }

    @Test func catalogPlacesOnLiveNodesWithRoomOnly() async throws {
        let directory = MemoryDirectory(nodes: [Self.node("full", agents: 2, max: 2), Self.node("dead", age: 99), Self.node("ok"), Self.node("drain", state: .draining)])
        let catalog = AgentCatalog(directory: directory)
        for _ in 0..<30 { #expect(try await catalog.place(.random()).id == "ok") }
        await #expect(throws: ToolError.self) { try await catalog.place(.random(), excluding: ["ok"]) }
    }

    @Test func catalogAnswersNodeUnavailableForAgentsOfADeadNodeOnly() async throws {
        let (alive, dead) = (AgentID.random(), AgentID.random())
        let directory = MemoryDirectory(nodes: [Self.node("a"), Self.node("b", age: 99)])
        directory.owners.withLock { $0 = [alive: AgentOwner(node: "a", state: "active"), dead: AgentOwner(node: "b", state: "active")] }
        let catalog = AgentCatalog(directory: directory)
        #expect(try await catalog.locate(alive)?.id == "a")
        #expect(try await catalog.locate(.random()) == nil)
        do {
            _ = try await catalog.locate(dead)
            Issue.record("expected NODE_UNAVAILABLE")
        } catch let error as ToolError {
            #expect(error.code == .nodeUnavailable)
            #expect(error.message.contains("'b'"))
        }
    }

    @Test func catalogCachesOwnersUntilInvalidated() async throws {
        let agent = AgentID.random()
        let directory = MemoryDirectory(nodes: [Self.node("a"), Self.node("b")])
        directory.owners.withLock { $0 = [agent: AgentOwner(node: "a", state: "active")] }
        let catalog = AgentCatalog(directory: directory)
        #expect(try await catalog.locate(agent)?.id == "a")
        directory.owners.withLock { $0[agent] = AgentOwner(node: "b", state: "active") }
        #expect(try await catalog.locate(agent)?.id == "a")
        catalog.invalidate(agent)
        #expect(try await catalog.locate(agent)?.id == "b")
        #expect(directory.ownerReads.load(ordering: .relaxed) == 2)
    }
}

/// A `ClusterDirectory` in memory, for the catalog's unit tests.
final class MemoryDirectory: ClusterDirectory, @unchecked Sendable {
    let nodeList: Mutex<[ClusterNode]>
    let owners = Mutex<[AgentID: AgentOwner]>([:])
    let ownerReads = Atomic<Int>(0)
    /// Whether every node heartbeats (its `heartbeatAt` is now) except those in `stale`.
    let beating: Bool
    let stale = Mutex<Set<String>>([])

    init(nodes: [ClusterNode], beating: Bool = false) {
        nodeList = Mutex(nodes)
        self.beating = beating
    }

    func nodes() async throws -> [ClusterNode] {
        let (nodes, stale) = (nodeList.withLock { $0 }, stale.withLock { $0 })
        guard beating else { return nodes }
        return nodes.map { node in
            var node = node
            node.heartbeatAt = stale.contains(node.id) ? Date().addingTimeInterval(-60) : Date()
            return node
        }
    }
    func owner(of agent: AgentID) async throws -> AgentOwner? {
        ownerReads.wrappingAdd(1, ordering: .relaxed)
        return owners.withLock { $0[agent] }
    }
    func shareOwner(token: String) async throws -> String? { nil }
    func snapshotAgent(id: String) async throws -> AgentID? { nil }
    func previewLinkAgent(token: String) async throws -> AgentID? { nil }
    func agents(onNode node: String) async throws -> [AgentID] { owners.withLock { $0.filter { $0.value.node == node }.map(\.key) } }
    func heartbeat(node: String, advertiseURL: String, maxAgents: Int, freeDiskBytes: Int64) async throws {}
    func setState(_ state: ClusterNode.State, ofNode node: String) async throws -> Bool {
        nodeList.withLock { nodes in
            guard let index = nodes.firstIndex(where: { $0.id == node }) else { return false }
            nodes[index].state = state
            return true
        }
    }
}
