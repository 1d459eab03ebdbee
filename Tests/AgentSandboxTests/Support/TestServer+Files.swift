#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// File-tool calls and file-system checks shared by the file tool suites.
extension TestServer {
    func read(_ agent: String, _ path: String, _ extra: [String: Any] = [:]) async throws -> Reply {
        try await call("file_read", agent: agent, extra.merging(["path": path]) { a, _ in a })
    }

    func write(_ agent: String, _ path: String, _ content: String, _ extra: [String: Any] = [:]) async throws -> Reply {
        try await call("file_write", agent: agent, extra.merging(["path": path, "content": content]) { a, _ in a })
    }

    func edit(_ agent: String, _ path: String, _ old: String, _ new: String, _ extra: [String: Any] = [:]) async throws -> Reply {
        try await call("file_edit", agent: agent, extra.merging(["path": path, "old_text": old, "new_text": new]) { a, _ in a })
    }

    /// Creates the agent (and its workspace) and returns its uid.
    func provision(_ agent: String) async throws -> UInt32 {
        _ = try await bash(agent, "true")
        guard let uid = try await agentInfo(agent).int("uid") else { throw TestFailure("agent \(agent) has no uid") }
        return UInt32(uid)
    }

    /// The host path of `relative` in the agent's workspace.
    func file(_ agent: String, _ relative: String) -> String {
        workspace(of: agent).appendingPathComponent(relative).path
    }
}

/// A file's bytes as text, or nil when it cannot be read.
func fileText(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

/// `lstat` of a path (nil when missing).
func fileStatus(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

/// A fresh directory outside every workspace, for canaries the tools must never reach.
func makeOutsideDirectory() -> String {
    var template = Array("/tmp/agent-sandbox-outside.XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    chmod(path, 0o755)
    return path
}
