#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Helpers for the archive suites: real tools (python3, bsdtar, tar) run as subprocesses, a
/// fingerprint of a directory tree, and the archive routes over HTTP.
enum ArchiveSupport {
    /// A fresh scratch directory for archives the tests build.
    static func scratch() -> URL {
        var template = Array("/tmp/agent-sandbox-test.XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        return URL(fileURLWithPath: path)
    }

    /// Runs `/bin/bash -c script`; returns exit status and what it wrote to stdout and stderr.
    @discardableResult
    static func shell(_ script: String, in directory: URL? = nil) throws -> (status: Int32, output: String) {
        let run = try runProcess("/bin/bash", ["-c", script], in: directory?.path)
        return (run.status, String(decoding: run.output, as: UTF8.self))
    }

    /// Runs a Python program (tarfile / zipfile build the hostile archives) that writes `output`.
    static func python(_ program: String, output: URL) throws -> Data {
        let script = output.deletingLastPathComponent().appendingPathComponent(output.lastPathComponent + ".py")
        try ("import sys, io, os, tarfile, zipfile, gzip, stat\nOUT = sys.argv[1]\n" + program).write(to: script, atomically: true, encoding: .utf8)
        let result = try shell("python3 '\(script.path)' '\(output.path)'")
        guard result.status == 0 else { throw TestFailure("python failed: \(result.output)") }
        return try Data(contentsOf: output)
    }

    /// Every entry below `root` (not following symlinks): path → "type mode sha256-or-link-target [uid]".
    static func fingerprint(_ root: URL, owners: Bool = false) throws -> [String: String] {
        let format = owners ? "%P\\t%y %m %U:%G %l\\n" : "%P\\t%y %m %l\\n"
        let listing = try shell("cd '\(root.path)' && find . -mindepth 1 -printf '\(format)'")
        let sums = try shell("cd '\(root.path)' && find . -mindepth 1 -type f -print0 | xargs -0r sha256sum")
        var result: [String: String] = [:]
        for line in listing.output.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            result[String(parts[0])] = String(parts.count > 1 ? parts[1] : "")
        }
        for line in sums.output.split(separator: "\n") {
            let hash = line.prefix(64)
            let path = String(line.dropFirst(66).dropFirst(2))  // "HASH  ./path"
            result[path, default: ""] += " " + hash
        }
        return result
    }
}

extension TestServer {
    /// `PUT /v1/agents/{agent}/archive?mode=` with `archive` as the body.
    func importArchive(_ agent: String, _ archive: Data, mode: String = "merge") async throws -> Reply {
        try await request("PUT", "/v1/agents/\(agent)/archive?mode=\(mode)", body: archive,
                          headers: ["x-api-key": apiKey, "Content-Type": "application/octet-stream"])
    }

    /// `GET /v1/agents/{agent}/archive?format=`.
    func exportArchive(_ agent: String, format: String = "tar.gz") async throws -> Reply {
        try await request("GET", "/v1/agents/\(agent)/archive?format=\(format)")
    }

    /// Creates `agent` with a small tree made by its own shell: files of several modes, an empty and
    /// a nested directory, relative symlinks (one dangling), a FIFO (never exported).
    func seedWorkspace(_ agent: String) async throws {
        let reply = try await bash(agent, """
            set -e
            mkdir -p src/lib docs/empty 'sp ace'
            printf 'print("hi")\\n' > src/main.py; chmod 755 src/main.py
            head -c 200000 /dev/urandom > src/lib/blob.bin; chmod 640 src/lib/blob.bin
            printf 'notes\\n' > docs/readme.md; chmod 600 docs/readme.md
            printf 'x' > 'sp ace/f ile'; printf '' > empty.txt
            chmod 750 docs
            ln -s ../docs/readme.md src/readme-link
            ln -s missing dangling
            mkfifo pipe
            """)
        guard reply.int("exit_code") == 0 else { throw TestFailure("seed failed: \(reply.text)") }
    }
}
