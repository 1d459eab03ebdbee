import AgentSandbox
import Foundation
import GRDB
import Tools

// scripts/bench-coding (.build/release/CodingBench [schemas directory])
// Two same-run comparisons, each alternating its variants round by round and printing medians:
// 1. the store: 10,000 agent rows fetched (and inserted) with hand-written CodingKeys versus GRDB's own
//    snake_case column coding (what `Records.swift` uses now);
// 2. request bodies: what the tool routes do today (our parser → schema validator → JSONValueDecoder)
//    versus Foundation's JSONDecoder after the same validation (the normalised value re-encoded: the
//    validator's defaults and aliases live in that value, and its sentences need the parsed tree), and
//    the decode step alone (JSONValueDecoder on the value vs JSONDecoder on the same value as bytes).

func median(_ samples: [Double]) -> Double { samples.sorted()[samples.count / 2] }

/// Runs each variant once per round, `rounds` times, and returns their median seconds.
func alternate(rounds: Int, _ variants: [() throws -> Void]) throws -> [Double] {
    var samples = Array(repeating: [Double](), count: variants.count)
    for _ in 0..<rounds {
        for (index, variant) in variants.enumerated() {
            let start = ContinuousClock.now
            try variant()
            let elapsed = ContinuousClock.now - start
            samples[index].append(Double(elapsed.components.attoseconds) * 1e-18 + Double(elapsed.components.seconds))
        }
    }
    return samples.map(median)
}

// MARK: 1. GRDB column coding

struct KeyedAgent: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "agents"
    var id: String
    var uid: Int64?
    var state: String
    var createdAt: Date
    var lastUsedAt: Date?
    var settings: String?
    enum CodingKeys: String, CodingKey {
        case id, uid, state, settings
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
    }
}

struct SnakeAgent: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "agents"
    static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
    var id: String
    var uid: Int64?
    var state: String
    var createdAt: Date
    var lastUsedAt: Date?
    var settings: String?
}

func storeBench() throws {
    let rows = 10_000
    let queue = try DatabaseQueue()
    try queue.write { db in
        try db.create(table: "agents") { table in
            table.primaryKey("id", .text)
            table.column("uid", .integer).unique()
            table.column("state", .text).notNull()
            table.column("created_at", .datetime).notNull()
            table.column("last_used_at", .datetime)
            table.column("settings", .text)
        }
        for index in 0..<rows {
            try KeyedAgent(id: UUID().uuidString.lowercased(), uid: Int64(100_000 + index), state: "active",
                           createdAt: Date(), lastUsedAt: index % 2 == 0 ? Date() : nil, settings: nil).insert(db)
        }
    }
    // The same rows read back both ways must be equal.
    let keyed = try queue.read { try KeyedAgent.fetchAll($0) }
    let snake = try queue.read { try SnakeAgent.fetchAll($0) }
    precondition(keyed.count == rows && zip(keyed, snake).allSatisfy { $0.id == $1.id && $0.createdAt == $1.createdAt && $0.lastUsedAt == $1.lastUsedAt })
    let fetch = try alternate(rounds: 21, [
        { _ = try queue.read { try KeyedAgent.fetchAll($0) } },
        { _ = try queue.read { try SnakeAgent.fetchAll($0) } },
    ])
    let insert = try alternate(rounds: 11, [
        { try queue.write { db in for agent in keyed { try agent.update(db) } } },
        { try queue.write { db in for agent in snake { try agent.update(db) } } },
    ])
    print("store: \(rows) agent rows, median of alternated rounds")
    print(String(format: "  fetchAll  CodingKeys %7.2f ms   GRDB snake_case %7.2f ms   (%+.1f %%)", fetch[0] * 1000, fetch[1] * 1000, (fetch[1] / fetch[0] - 1) * 100))
    print(String(format: "  update    CodingKeys %7.2f ms   GRDB snake_case %7.2f ms   (%+.1f %%)", insert[0] * 1000, insert[1] * 1000, (insert[1] / insert[0] - 1) * 100))
}

// MARK: 2. Request bodies

func bodyBench(schemas: URL) throws {
    let catalog = try SchemaCatalog(directory: schemas)
    let content = String(repeating: String(repeating: "x", count: 63) + "\n", count: 64)
    func json(_ object: [String: Any]) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object)) }
    let snakeDecoder = JSONDecoder()
    snakeDecoder.keyDecodingStrategy = .convertFromSnakeCase
    let encoder = JSONEncoder()

    func compare<Input: Decodable>(_ name: String, _ tool: String, _ body: [UInt8], _ type: Input.Type) throws {
        let validator = catalog.validator(for: tool)!
        // The decode step alone: from the validated (normalised) value, and from that value as JSON bytes.
        let normalized = try validator.validate(JSONParser.parse(body))
        let normalizedData = try encoder.encode(normalized)
        let calls = 2000
        let times = try alternate(rounds: 15, [
            { for _ in 0..<calls { _ = try JSONValueDecoder().decode(Input.self, from: validator.validate(JSONParser.parse(body))) } },
            { for _ in 0..<calls { _ = try snakeDecoder.decode(Input.self, from: encoder.encode(validator.validate(JSONParser.parse(body)))) } },
            { for _ in 0..<calls { _ = try JSONValueDecoder().decode(Input.self, from: normalized) } },
            { for _ in 0..<calls { _ = try snakeDecoder.decode(Input.self, from: normalizedData) } },
        ])
        let us = times.map { $0 / Double(calls) * 1e6 }
        print(String(format: "  %-16@ %5d B  whole: ours %6.2f µs, with JSONDecoder %6.2f µs (%+.0f %%)   decode step: JSONValueDecoder %6.2f µs, JSONDecoder %6.2f µs (%+.0f %%)",
                     name as NSString, body.count, us[0], us[1], (us[1] / us[0] - 1) * 100, us[2], us[3], (us[3] / us[2] - 1) * 100))
    }
    print("request bodies: parse + validate + decode, per call, median of alternated rounds")
    try compare("bash", "bash", json(["command": "ls -la src && cat README.md", "timeout": 30]), BashTool.Input.self)
    try compare("file_read", "file_read", json(["path": "bench/r.txt"]), FileReadTool.Input.self)
    try compare("file_write 4 KiB", "file_write", json(["path": "bench/w.txt", "content": content]), FileWriteTool.Input.self)
    try compare("file_edit", "file_edit", json(["path": "src/app.py", "old_text": "def main():\n    pass\n", "new_text": "def main():\n    run()\n"]), FileEditTool.Input.self)
}

let schemas = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "schemas")
try storeBench()
try bodyBench(schemas: schemas)
