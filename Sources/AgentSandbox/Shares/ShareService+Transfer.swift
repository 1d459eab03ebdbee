#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import SandboxKernel

/// A move's copy of an agent's shares (driven by a gateway, see `GatewayMove`). A share's row lives in
/// the cluster's shared store; its content is a blob on the node that published it. The node the agent
/// leaves serves each blob (`openForTransfer`), the node it goes to stores it, checks it against the
/// row's size and SHA-256, and becomes the share's publisher (`receive`); the node it left then drops
/// the blobs no share refers to any more (`pruneMovedBlobs`). A share's link never changes.
extension ShareService {
    /// The agent's share `token` whose blob is on this node, and the blob's path: 404 `NOT_FOUND` when
    /// the agent has no such share, or its content is not here (a pre-v7 file, or published elsewhere).
    public func openForTransfer(token: String, agent: AgentID) async throws -> (ShareRecord, String) {
        guard let record = try await store.share(token: token), record.agentId == agent.rawValue, record.legacyFile == nil else {
            throw ToolError(.notFound, "Agent \(agent) has no share with that token on this node.")
        }
        let path = blobs.path(of: record.sha256)
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ToolError(.notFound, "The content of that share of agent \(agent) is not on this node.")
        }
        return (record, path)
    }

    /// Stores `body` as this node's copy of the agent's share `token` and makes this node its publisher.
    /// The bytes must match the row's size and SHA-256; otherwise nothing is recorded or kept.
    public func receive(token: String, agent: AgentID, body: some AsyncSequence<ByteBuffer, any Error>, moves: any AgentMoveStore) async throws -> ShareRecord {
        guard let record = try await store.share(token: token), record.agentId == agent.rawValue else {
            throw ToolError(.notFound, "Agent \(agent) has no share with that token.")
        }
        let blobs = self.blobs
        try blobs.prepare()
        let upload = try ShareBlobUpload(path: blobs.newTemporaryPath())
        do {
            for try await buffer in body {
                guard upload.size + Int64(buffer.readableBytes) <= record.size else {
                    throw ToolError(.invalidRequest, "More bytes arrived than the share's \(record.size); send its stored content.")
                }
                try await BlockingWork.run { try buffer.withUnsafeReadableBytes { try upload.write($0) } }
            }
            let sha256 = try await BlockingWork.run { try upload.finish() }
            guard upload.size == record.size, sha256 == record.sha256 else {
                throw ToolError(.invalidRequest, "The bytes that arrived (\(upload.size)) are not the share's content (\(record.size) bytes, SHA-256 \(record.sha256)); send its stored content.")
            }
            try await moves.adoptShare(record) { try blobs.place(temporary: upload.path, sha256: sha256) }
        } catch {
            upload.discard()
            throw error
        }
        return record
    }

    /// Drops this node's blobs whose shares moved to another node; returns how many went.
    @discardableResult
    public func pruneMovedBlobs(moves: any AgentMoveStore) async throws -> Int {
        try await removing { try await moves.pruneShareBlobs(retire: $0) }
    }
}

/// A share's content arriving from another node: written to the share store's `tmp/` and hashed on the
/// way (used by one task at a time).
final class ShareBlobUpload: @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    private var hasher = SHA256Hasher()
    private(set) var size: Int64 = 0
    private var closed = false

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ToolError(.ioError, "Cannot create the share's copy: \(String(cString: strerror(errno))).") }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let failure = writeFully(descriptor, bytes)
        guard failure == 0 else {
            throw failure == ENOSPC ? ToolError(.noSpace, "No space left for the share's copy.") : ToolError(.ioError, "Cannot write the share's copy: \(String(cString: strerror(failure))).")
        }
        hasher.update(bytes)
        size += Int64(bytes.count)
    }

    /// Syncs and closes the file; returns the content's SHA-256.
    func finish() throws -> String {
        defer { closeOnce() }
        try syscallRetrying("fsync", path) { fsync(descriptor) }
        return hasher.finalizeHex()
    }

    /// Closes and removes the file (the copy failed or was refused).
    func discard() {
        closeOnce()
        unlink(path)
    }

    private func closeOnce() {
        guard !closed else { return }
        closed = true
        close(descriptor)
    }
}
