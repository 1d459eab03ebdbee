#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import Synchronization

/// The cgroup hierarchy the server manages: `agent-sandbox/<agent>/call-<n>`.
///
/// Works on v2, v1 and hybrid layouts (this machine: v1 controllers plus a controller-less v2 tree
/// that still offers `cgroup.kill`). Per agent: limits (`pids`, `memory`). Per call: a leaf that is
/// killed as a whole when the call ends or times out, daemons and `setsid` children included.
public final class CgroupController: Sendable {
    /// `<v2 mount>/agent-sandbox`, when a v2 hierarchy is mounted.
    let unifiedRoot: String?
    /// Whether the v2 hierarchy carries the pids/memory controllers (pure v2).
    let unifiedHasControllers: Bool
    /// v1 controller name → `<mount>/agent-sandbox`.
    let legacyRoots: [String: String]
    private let callCounter = Atomic<UInt64>(0)
    /// Agents whose groups exist with their limits applied (so a call does not rewrite them).
    private let preparedAgents = Mutex<Set<String>>([])

    init(groupName: String, unifiedMount: String?, unifiedHasControllers: Bool, legacyMounts: [String: String]) {
        unifiedRoot = unifiedMount.map { "\($0)/\(groupName)" }
        self.unifiedHasControllers = unifiedHasControllers
        legacyRoots = legacyMounts.mapValues { "\($0)/\(groupName)" }
    }

    /// The group name for a server: one per data root, so that several servers (tests, staging) never
    /// sweep or kill each other's groups, and a restarted server finds its predecessor's.
    public static func groupName(forDataRoot path: String) -> String {
        "agent-sandbox-" + SHA256.hash(data: Array(path.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads the layout from `/proc/self/mountinfo`; nil when no usable hierarchy is mounted or writable.
    public static func detect(groupName: String) -> CgroupController? {
        guard let mountinfo = readSmallFile("/proc/self/mountinfo") else { return nil }
        var unified: String?
        var legacy: [String: String] = [:]
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " "), tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let mountPoint = String(fields[4])
            if tail[0] == "cgroup2" {
                unified = mountPoint
            } else if tail[0] == "cgroup" {
                for option in tail[2].split(separator: ",") where ["pids", "memory", "freezer", "cpu"].contains(String(option)) {
                    legacy[String(option)] = mountPoint
                }
            }
        }
        let controllers = unified.flatMap { readSmallFile("\($0)/cgroup.controllers") } ?? ""
        let hasControllers = controllers.contains("pids") && controllers.contains("memory") && controllers.contains("cpu")
        let controller = CgroupController(groupName: groupName, unifiedMount: unified, unifiedHasControllers: hasControllers, legacyMounts: legacy)
        return controller.prepareRoots() ? controller : nil
    }

    /// Whether call leaves exist (a v2 tree, or a v1 pids hierarchy): the handle that kills a whole call.
    public var makesCallLeaves: Bool { unifiedRoot != nil || legacyRoots["pids"] != nil }

    /// A one-line description for the start-up log.
    public var summary: String {
        var parts: [String] = []
        if let unifiedRoot { parts.append("v2 \(unifiedRoot)\(unifiedHasControllers ? " (pids, memory)" : " (kill only)")") }
        for (name, root) in legacyRoots.sorted(by: { $0.key < $1.key }) { parts.append("v1 \(name) \(root)") }
        return parts.joined(separator: ", ")
    }

    private func prepareRoots() -> Bool {
        var ok = false
        if let unifiedRoot, makeDirectory(unifiedRoot) {
            ok = true
            if unifiedHasControllers { writeControlFile("\(unifiedRoot)/../cgroup.subtree_control", "+pids +memory +cpu") }
            if unifiedHasControllers { writeControlFile("\(unifiedRoot)/cgroup.subtree_control", "+pids +memory +cpu") }
        }
        for root in legacyRoots.values where makeDirectory(root) { ok = true }
        return ok
    }

    // MARK: Agents

    /// Creates the agent's groups and applies its limits. Idempotent.
    public func prepareAgent(_ agent: String, limits: ProcessLimits) {
        preparedAgents.withLock { _ = $0.insert(agent) }
        if let unifiedRoot {
            let path = "\(unifiedRoot)/\(agent)"
            makeDirectory(path)
            if unifiedHasControllers {
                writeControlFile("\(path)/cgroup.subtree_control", "+pids +memory +cpu")
                writeControlFile("\(path)/pids.max", "\(limits.pidsPerAgent)")
                writeControlFile("\(path)/memory.max", "\(limits.memoryPerAgent)")
                writeControlFile("\(path)/memory.swap.max", "0")
                writeControlFile("\(path)/cpu.weight", "\(limits.cpuWeight)")
            }
        }
        if let pids = legacyRoots["pids"] {
            makeDirectory("\(pids)/\(agent)")
            writeControlFile("\(pids)/\(agent)/pids.max", "\(limits.pidsPerAgent)")
        }
        if let memory = legacyRoots["memory"] {
            makeDirectory("\(memory)/\(agent)")
            writeControlFile("\(memory)/\(agent)/memory.limit_in_bytes", "\(limits.memoryPerAgent)")
        }
        if let cpu = legacyRoots["cpu"] {
            makeDirectory("\(cpu)/\(agent)")
            writeControlFile("\(cpu)/\(agent)/cpu.shares", "\(max(2, limits.cpuWeight * 1024 / 100))")
        }
        if unifiedRoot == nil, let freezer = legacyRoots["freezer"] { makeDirectory("\(freezer)/\(agent)") }
    }

    /// Leaf name prefixes: one process tree per call, or an agent's warm sandbox (its zygote).
    public enum LeafKind: String, Sendable, CaseIterable {
        case call
        case sandbox
    }

    /// A fresh per-call group for one process tree of `agent` (`kind`: what the leaf is named for).
    public func makeCallGroup(agent: String, limits: ProcessLimits, kind: LeafKind = .call) -> CallGroup {
        if !preparedAgents.withLock({ $0.contains(agent) }) { prepareAgent(agent, limits: limits) }
        let name = "\(kind.rawValue)-\(getpid())-\(callCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
        var join: [String] = []
        var leaf: String?
        if let unifiedRoot {
            let path = "\(unifiedRoot)/\(agent)/\(name)"
            if makeDirectory(path) { leaf = path; join.append(path) }
        }
        if !unifiedHasControllers {
            // v1 controllers: join the agent's groups; without v2, a per-call pids group is the kill handle.
            if let pids = legacyRoots["pids"] {
                if leaf == nil, makeDirectory("\(pids)/\(agent)/\(name)") {
                    leaf = "\(pids)/\(agent)/\(name)"
                    join.append(leaf!)
                } else {
                    join.append("\(pids)/\(agent)")
                }
            }
            if let memory = legacyRoots["memory"] { join.append("\(memory)/\(agent)") }
            if let cpu = legacyRoots["cpu"] { join.append("\(cpu)/\(agent)") }
            if unifiedRoot == nil, let freezer = legacyRoots["freezer"] { join.append("\(freezer)/\(agent)") }
        }
        return CallGroup(joinPaths: join, leaf: leaf, killable: leaf.map { access("\($0)/cgroup.kill", F_OK) == 0 } ?? false)
    }

    /// Freezes (suspend) or thaws (resume) every process of the agent.
    public func setFrozen(_ frozen: Bool, agent: String) {
        if let unifiedRoot, FileManager.default.fileExists(atPath: "\(unifiedRoot)/\(agent)/cgroup.freeze") {
            writeControlFile("\(unifiedRoot)/\(agent)/cgroup.freeze", frozen ? "1" : "0")
        } else if let freezer = legacyRoots["freezer"] {
            writeControlFile("\(freezer)/\(agent)/freezer.state", frozen ? "FROZEN" : "THAWED")
        }
    }

    /// At shutdown: removes this server's (empty) groups.
    public func removeEmptyGroups() {
        for root in [unifiedRoot].compactMap({ $0 }) + legacyRoots.values.sorted() {
            for agent in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where UUID(uuidString: agent) != nil {
                if !CallGroup.populated("\(root)/\(agent)") { CallGroup.removeTree("\(root)/\(agent)") }
            }
            rmdir(root)
        }
    }

    /// Kills every process of the agent (all calls, all sessions).
    public func killAgent(_ agent: String) {
        defer { setFrozen(false, agent: agent) }
        if let unifiedRoot { CallGroup.killTree("\(unifiedRoot)/\(agent)") }
        if let pids = legacyRoots["pids"] { CallGroup.killTree("\(pids)/\(agent)") }
    }

    /// Kills the agent's processes and removes its groups.
    public func removeAgent(_ agent: String) {
        preparedAgents.withLock { _ = $0.remove(agent) }
        killAgent(agent)
        for root in [unifiedRoot].compactMap({ $0 }) + legacyRoots.values.sorted() {
            CallGroup.removeTree("\(root)/\(agent)")
        }
    }

    /// At start-up: kills and removes call and sandbox groups a previous server process left behind.
    public func sweepStaleCalls() {
        for root in [unifiedRoot].compactMap({ $0 }) + legacyRoots.values.sorted() {
            for agent in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where UUID(uuidString: agent) != nil {
                for call in (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(agent)")) ?? []
                where LeafKind.allCases.contains(where: { call.hasPrefix("\($0.rawValue)-") }) {
                    CallGroup.killTree("\(root)/\(agent)/\(call)")
                    CallGroup.removeTree("\(root)/\(agent)/\(call)")
                }
            }
        }
    }

    @discardableResult
    private func makeDirectory(_ path: String) -> Bool {
        mkdir(path, 0o755) == 0 || errno == EEXIST
    }
}
