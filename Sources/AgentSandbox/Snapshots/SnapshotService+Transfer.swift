import NIOCore
import SandboxKernel

/// A move's copy of an agent's snapshots (driven by a gateway, see `GatewayMove`). Rows live in the
/// cluster's shared store and do not move; the stored archives sit on the agent's node, so the node the
/// agent leaves reads each one out, the node it goes to writes it in under the same key, and the node
/// it left then drops its copies.
extension SnapshotService {
    /// The stored archive of the agent's snapshot, opened for reading: 404 `SNAPSHOT_NOT_FOUND` before any
    /// byte is sent when the row or the blob is missing.
    public func openBlob(_ snapshotID: String, of agent: AgentID) async throws -> (SnapshotRecord, any SnapshotBlobDownload) {
        let record = try await record(snapshotID, of: agent)
        return (record, try blobs.open(key: record.blobKey))
    }

    /// Reads `download` to its end off the event loops, handing each chunk to `write`.
    public static func pump(_ download: any SnapshotBlobDownload, into write: (ByteBuffer) async throws -> Void) async throws {
        while true {
            let chunk: ByteBuffer? = try await BlockingWork.run {
                guard let bytes = download.next() else {
                    if let failure = download.failure { throw failure }
                    return nil
                }
                return ByteBuffer(bytes: bytes)
            }
            guard let chunk else { return }
            try await write(chunk)
        }
    }

    /// Stores `body` as the archive of the agent's snapshot `snapshotID` on this node. The bytes must
    /// add up to the size the row records; otherwise nothing is stored (a cut-off transfer never leaves
    /// a short blob behind a row).
    public func receiveBlob(_ snapshotID: String, of agent: AgentID, body: some AsyncSequence<ByteBuffer, any Error>) async throws -> SnapshotRecord {
        let record = try await record(snapshotID, of: agent)
        let upload = try blobs.beginUpload(key: record.blobKey)
        var received: Int64 = 0
        var pending = ByteBuffer()
        func flush() async throws {
            let bytes = pending
            pending.clear()
            let written = try await BlockingWork.run { bytes.withUnsafeReadableBytes { upload.write($0) } }
            if !written { throw upload.failure ?? ToolError(.ioError, "The snapshot store refused a write.") }
        }
        do {
            for try await var buffer in body {
                received += Int64(buffer.readableBytes)
                guard received <= record.size else { break }
                pending.writeBuffer(&buffer)
                if pending.readableBytes >= 1 << 20 { try await flush() }
            }
            guard received == record.size else {
                throw ToolError(.invalidRequest, "Snapshot \(record.id) has \(record.size) bytes, but \(received) arrived; send its whole stored archive.")
            }
            try await flush()
        } catch {
            upload.abort()
            throw error
        }
        _ = try await BlockingWork.run { try upload.commit() }
        return record
    }

    /// Removes this node's stored archives of the agent's snapshots (their rows stay: the agent and its
    /// snapshots live on another node now, or the move that copied them here failed).
    public func dropLocalBlobs(of agent: AgentID) async {
        guard let records = try? await store.snapshots(agent: agent.rawValue) else { return }
        let blobs = blobs
        _ = try? await BlockingWork.run { for record in records { blobs.delete(key: record.blobKey) } }
    }
}
