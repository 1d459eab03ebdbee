#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing

/// A real `agent-sandbox serve` process on a loopback port, with its own data root and uid range,
/// driven over HTTP. Tests never mock the server: they start this one.
final class TestServer: @unchecked Sendable {
    let dataRoot: URL
    var apiKey: String
    /// Arguments run instead of `serve …` (a cluster gateway: `gateway --cluster …`); nil: a server.
    var launchArguments: [String]?
    let uidBase: Int
    private(set) var port = 0
    private(set) var process: Process?
    var extraArguments: [String]
    /// A command the server runs under (e.g. `prlimit --nofile=256`); empty: run directly.
    private let wrapper: [String]
    private static let counter = Atomic<Int>(0)
    /// Uids per server.
    static let uidCount = 500

    /// One server shared by the tests that need nothing special (each test uses its own agents).
    static let shared = SharedServer()
    /// A separate server for resource attacks (fork bombs, floods), so they do not slow other suites' server.
    static let attackTarget = SharedServer()
    /// A separate server for archive imports, whose tests look at the (server-wide) staging directory.
    static let archiveTarget = SharedServer()
    private static let sharedByIsolation = ["full": SharedServer(), "cgroup": SharedServer(arguments: ["--isolation", "cgroup"]), "uid": SharedServer(arguments: ["--isolation", "uid"])]

    /// The shared server of an isolation level ("full" is the default server).
    static func shared(isolation: String) async throws -> TestServer {
        isolation == "full" ? try await shared.get() : try await sharedByIsolation[isolation]!.get()
    }

    init(dataRoot: URL? = nil, extraArguments: [String] = [], wrapper: [String] = []) {
        let serial = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        self.dataRoot = dataRoot ?? Self.makeDataRoot()
        apiKey = "test-key-\(UUID().uuidString)"
        // A distinct uid range per server (and per test process: `TestProcessSlot`) so parallel servers
        // never share uids. 500 uids per server (the shared server hosts every suite's agents), 40 servers
        // per process.
        uidBase = 400_000 + TestProcessSlot.index * 20_000 + serial * Self.uidCount
        self.extraArguments = extraArguments
        self.wrapper = wrapper
    }

    /// A client of a server that runs elsewhere (an in-process gateway) on `port`.
    convenience init(attachedTo port: Int, apiKey: String) {
        self.init()
        self.port = port
        self.apiKey = apiKey
    }

    static var buildDirectory: URL {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }

    static var repositoryRoot: URL {
        var candidate = URL(fileURLWithPath: #filePath)
        while candidate.path != "/" {
            candidate.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path) { return candidate }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// A fresh root-owned, 0711 directory under /tmp (reachable by agent uids).
    static func makeDataRoot() -> URL {
        var template = Array("/tmp/agent-sandbox-test.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        chmod(path, 0o711)
        return URL(fileURLWithPath: path).appendingPathComponent("data")
    }

    var logPath: String { dataRoot.deletingLastPathComponent().appendingPathComponent("server-\(uidBase).log").path }
    var pid: pid_t { process?.processIdentifier ?? 0 }
    /// The address the tests connect to (the server's `--host` when a suite runs it in a namespace).
    var connectHost = "127.0.0.1"
    var baseURL: String { "http://\(connectHost):\(port)" }

    /// Starts the server and waits for its "listening" line.
    @discardableResult
    func start() async throws -> TestServer {
        let process = Process()
        let executable = Self.buildDirectory.appendingPathComponent("agent-sandbox")
        process.executableURL = wrapper.isEmpty ? executable : URL(fileURLWithPath: wrapper[0])
        process.arguments = Array(wrapper.dropFirst()) + (wrapper.isEmpty ? [] : [executable.path]) + (launchArguments ?? serveArguments)
        var environment = ProcessInfo.processInfo.environment
        environment["AGENT_SANDBOX_API_KEY"] = apiKey
        environment["AGENT_SANDBOX_CANARY"] = "server-only-canary"
        process.environment = environment
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        ServerReaper.track(process.processIdentifier)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").last(where: { $0.contains(" listening on http://") }),
                let port = Int(line.split(separator: ":").last ?? "")
            {
                self.port = port
                return self
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("server did not start; log:\n" + ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""))
    }

    /// `serve` with this server's port, data root, uid range and schemas, plus `extraArguments`.
    private var serveArguments: [String] {
        ["serve", "--port", "0", "--data", dataRoot.path, "--uid-base", String(uidBase), "--uid-count", String(Self.uidCount),
                             "--schemas", Self.repositoryRoot.appendingPathComponent("schemas").path]
            // Disk caps (a loop-mounted image per agent) only where a suite asks for them.
            + (extraArguments.contains("--disk-bytes") ? [] : ["--disk-bytes", "0"])
            // The host's network unless a suite tests isolated networks (it passes a `--network…` flag):
            // a namespace per agent is the network suites' subject, not every functional suite's.
            + (extraArguments.contains { $0.hasPrefix("--network") } ? [] : ["--network", "host"]) + extraArguments
    }

    /// Stops the server: SIGTERM (graceful) or SIGKILL (crash).
    func stop(signal: Int32 = SIGTERM) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
    }

    /// Restarts on the same data root (a new port).
    func restart(signal: Int32 = SIGTERM) async throws {
        stop(signal: signal)
        try await start()
    }

    // MARK: HTTP

    struct Reply: Sendable {
        let status: Int
        let body: Data
        let headers: [String: String]
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func string(_ key: String) -> String? { json[key] as? String }
        func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue }
        func bool(_ key: String) -> Bool? { (json[key] as? NSNumber)?.boolValue }
    }

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String]? = nil, timeout: Double = 120) async throws -> Reply {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (name, value) in headers ?? ["x-api-key": apiKey] { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.httpBody = body
            if request.value(forHTTPHeaderField: "Content-Type") == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        return Reply(status: http.statusCode, body: data, headers: fields)
    }

    func post(_ path: String, json: Any) async throws -> Reply {
        try await request("POST", path, body: try JSONSerialization.data(withJSONObject: json))
    }

    /// Calls `tool` for `agent` on the envelope route.
    func call(_ tool: String, agent: String, _ input: [String: Any]) async throws -> Reply {
        try await post("/v1/agents/\(agent)/sandbox/\(tool)", json: input)
    }

    /// Runs a bash command; returns the envelope reply.
    func bash(_ agent: String, _ command: String, timeout: Int? = nil) async throws -> Reply {
        var input: [String: Any] = ["command": command]
        if let timeout { input["timeout"] = timeout }
        return try await call("bash", agent: agent, input)
    }

    /// The agent's record from `GET /v1/agents/{id}`.
    func agentInfo(_ agent: String) async throws -> Reply {
        try await request("GET", "/v1/agents/\(agent)")
    }

    func workspace(of agent: String) -> URL { dataRoot.appendingPathComponent(agent) }

    /// Resident memory of the server process, bytes.
    func residentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

/// Starts the shared server once, on first use.
actor SharedServer {
    /// One start shared by every caller: the actor is re-entrant across `await`, so caching only the
    /// finished server let concurrent first callers each start their own.
    private var starting: Task<TestServer, any Error>?
    private let arguments: [String]
    /// When set, the server runs inside its own `NetworkLab` (made with this offset, removed at exit).
    private let labOffset: Int?

    init(arguments: [String] = [], labOffset: Int? = nil) {
        self.arguments = arguments
        self.labOffset = labOffset
    }

    func get() async throws -> TestServer {
        if let starting { return try await starting.value }
        let (arguments, labOffset) = (self.arguments, self.labOffset)
        let task = Task {
            guard let labOffset else { return try await TestServer(extraArguments: arguments).start() }
            let lab = try NetworkLab(offset: labOffset)
            lab.tearDownAtExit()
            let server = TestServer(extraArguments: ["--host", lab.machineAddress] + arguments, wrapper: lab.wrapper)
            server.connectHost = lab.machineAddress
            return try await server.start()
        }
        starting = task
        return try await task.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `executable` (in `directory`) and waits: its exit status and what it wrote to stdout, and to
/// stderr too unless `stderrToo` is false (then stderr goes to the test's own).
func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil, stderrToo: Bool = true) throws -> (status: Int32, output: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    process.standardOutput = output
    if stderrToo { process.standardError = output }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, data)
}

/// Runs the `agent-sandbox` binary with `arguments`; returns its exit status and stdout+stderr.
func runCLI(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let run = try runProcess(TestServer.buildDirectory.appendingPathComponent("agent-sandbox").path, arguments)
    return (run.status, String(decoding: run.output, as: UTF8.self))
}

/// A new random agent id.
func newAgent() -> String { UUID().uuidString.lowercased() }

/// Live processes of `uid`, except the agent's warm sandbox (bubblewrap and the zygote, which live in a
/// `sandbox-*` cgroup leaf the agent cannot join): what a call or session left behind.
func processes(ownedBy uid: Int) -> [Int32] {
    liveProcesses(ownedBy: uid).filter { !isWarmSandboxProcess($0) }
}

/// The processes of the agent's warm sandbox (bubblewrap's monitor, the zygote).
func warmSandboxProcesses(ownedBy uid: Int) -> [Int32] {
    liveProcesses(ownedBy: uid).filter(isWarmSandboxProcess)
}

/// Live processes of `uid`, the warm sandbox included.
func liveProcesses(ownedBy uid: Int) -> [Int32] {
    everyProcess(ownedBy: uid).filter { pid in
        // Zombies are reaped by the server or the sandbox's init; count only live processes.
        let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
        return state != "Z"
    }
}

/// Every pid of `uid`, zombies and the warm sandbox included. The real uid comes from
/// `/proc/<pid>/status`: a non-dumpable process's `/proc/<pid>` is owned by root whatever its uid.
func everyProcess(ownedBy uid: Int) -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name in
        guard let pid = Int32(name), let status = try? String(contentsOfFile: "/proc/\(name)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        return line.split(separator: "\t").dropFirst().first.flatMap { Int($0) } == uid ? pid : nil
    }
}

/// Every pid of `uid` (zombies included) except the warm sandbox: what calls left behind.
func leftovers(ownedBy uid: Int) -> [Int32] {
    everyProcess(ownedBy: uid).filter { !isWarmSandboxProcess($0) }
}

/// Whether `pid` sits in a warm sandbox's cgroup leaf (read from the host, where the full path shows).
func isWarmSandboxProcess(_ pid: Int32) -> Bool {
    let groups = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
    return groups.split(separator: "\n").contains { $0.split(separator: "/").last?.hasPrefix("sandbox-") == true }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return condition()
}

let isRoot = getuid() == 0

/// Makes sure no test server outlives the test process (SIGTERM at exit: graceful, cleans its cgroups).
enum ServerReaper {
    private static let pids = Mutex<Set<Int32>>([])
    private static let installed = Atomic<Bool>(false)

    static func track(_ pid: Int32) {
        pids.withLock { _ = $0.insert(pid) }
        if installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            atexit {
                let all = ServerReaper.pids.withLock { $0 }
                for pid in all { kill(pid, SIGTERM) }
                for pid in all { var status: Int32 = 0; waitpid(pid, &status, 0) }
            }
        }
    }
}
