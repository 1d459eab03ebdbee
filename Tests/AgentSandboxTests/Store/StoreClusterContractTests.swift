@testable import AgentSandbox
import Foundation
import SandboxKernel
import Logging
import Testing

/// What a cluster adds: uids unique per node, node-local views, migrations safe when nodes start at once,
/// one winner when two nodes create the same agent. SQLite (one node) keeps the single-node half.
@Suite struct StoreClusterContractTests {
    @Test(arguments: StoreEngine.all)
    func oneNodeNeverHandsOutAUidTwiceAndTwoNodesMayReuseOne(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let a = try await fixture.open(node: "node-a")
        let aUids = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for index in 0..<8 { group.addTask { try await a.provisionAgent(id: "a\(index)", uids: StoreFixture.uids).0.uid } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(aUids).count == 8, "eight concurrent creates on one node get eight uids")
        // The schema refuses a duplicate uid on one node, whatever the code does.
        #expect(throws: (any Error).self) {
            try fixture.sql("UPDATE agents SET uid = (SELECT uid FROM agents WHERE id = 'a0') WHERE id = 'a1'")
        }
        guard engine == .postgres else { return }
        let b = try await fixture.open(node: "node-b")
        let (onB, created) = try await b.provisionAgent(id: "b0", uids: StoreFixture.uids)
        #expect(created && onB.uid == StoreFixture.uids.lowerBound && onB.nodeId == "node-b", "node b starts its own uid cursor")
        #expect(try await a.liveAgents().contains { $0.uid == onB.uid }, "the same uid lives on two nodes")
        #expect(try await a.agent(id: "b0")?.nodeId == "node-b", "a lookup by id is cluster-wide and names the owner")
        #expect(try await b.liveAgents().map(\.id) == ["b0"], "listings are node-local")
        #expect(try await a.liveAgents().count == 8)
        #expect(try await b.agentCountByState() == ["active": 1])
    }

    @Test(arguments: StoreEngine.all)
    func migrationsAreAppliedOnceWhenStoresStartAtOnce(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let stores = try await withThrowingTaskGroup(of: (any SandboxStore).self) { group in
            for index in 0..<4 { group.addTask { try await fixture.open(node: "node-\(index)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let table = engine == .sqlite ? "grdb_migrations" : "schema_migrations"
        let applied = try fixture.sql("SELECT COUNT(*) FROM \(table)")
        let reopened = try await fixture.open(node: "node-0")
        #expect(try fixture.sql("SELECT COUNT(*) FROM \(table)") == applied, "opening again applies nothing")
        _ = try await reopened.provisionAgent(id: "after", uids: StoreFixture.uids)
        #expect(try await reopened.agent(id: "after") != nil)
        if engine == .postgres {
            #expect(Int(applied) == PostgresStore.migrations.count)
            #expect(try fixture.sql("SELECT COUNT(*) FROM nodes") == "4", "each node registered itself")
        }
    }

    @Test(arguments: StoreEngine.all.filter { $0 == .postgres })
    func theSameAgentCreatedOnTwoNodesAtOnceHasOneOwner(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let (a, b) = (try await fixture.open(node: "node-a"), try await fixture.open(node: "node-b"))
        for round in 0..<10 {
            let id = "contested-\(round)"
            async let onA = a.provisionAgent(id: id, uids: StoreFixture.uids)
            async let onB = b.provisionAgent(id: id, uids: StoreFixture.uids)
            let results = try await [onA, onB]
            #expect(results.filter(\.created).count == 1, "round \(round): exactly one node created it")
            #expect(Set(results.map(\.0.nodeId)).count == 1, "both callers name the same owner")
        }
    }

    @Test(arguments: StoreEngine.all.filter { $0 == .postgres })
    func aNodeRestartRefreshesItsRowAndSweepsOnlyItsOwnSessions(engine: StoreEngine) async throws {
        let fixture = try await StoreFixture(engine)
        defer { Task { await fixture.close() } }
        let (a, b) = (try await fixture.open(node: "node-a"), try await fixture.open(node: "node-b"))
        _ = try await a.provisionAgent(id: "on-a", uids: StoreFixture.uids)
        _ = try await b.provisionAgent(id: "on-b", uids: StoreFixture.uids)
        try await a.insertExecSession(StoreSamples.session("sa", agent: "on-a"))
        try await b.insertExecSession(StoreSamples.session("sb", agent: "on-b"))
        #expect(try await a.markRunningExecSessionsLost(at: StoreSamples.now) == 1)
        #expect(try await b.execSession(id: "sb")?.state == "running", "node a's restart leaves node b's sessions running")
        try fixture.sql("UPDATE nodes SET state = 'down' WHERE id = 'node-a'")
        _ = try await fixture.open(node: "node-a")
        #expect(try fixture.sql("SELECT state FROM nodes WHERE id = 'node-a'") == "up")
    }

    @Test(arguments: StoreEngine.all.filter { $0 == .postgres })
    func anUnreachableDatabaseIsOneSentenceNamingTheFlag(engine: StoreEngine) async throws {
        var logger = Logger(label: "store-test")
        logger.logLevel = .critical
        do {
            _ = try await PostgresStore.connect(url: "postgres://nobody@127.0.0.1:1/none", nodeID: "n", logger: logger)
            Issue.record("connected to a closed port")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("--cluster") && error.description.contains("127.0.0.1:1") && !error.description.contains("\n"))
        }
        do {
            _ = try await PostgresStore.connect(url: "mysql://x@y/z", nodeID: "n", logger: logger)
            Issue.record("accepted a URL of another scheme")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("--cluster must be a URL such as postgres://"))
        }
    }
}
