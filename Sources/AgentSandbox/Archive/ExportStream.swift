import Dispatch
import Foundation
import NIOCore
import Synchronization

/// Bridges a synchronous archive producer (libarchive calling a write callback) to an async HTTP
/// response body, with backpressure and without a temporary file.
///
/// The producer runs on a dedicated thread (it blocks, so it must not occupy a cooperative-pool
/// thread). Each output block is copied into a `ByteBuffer` and yielded to an `AsyncStream`; a
/// semaphore of `depth` slots makes the producer wait while that many blocks are not yet written to
/// the socket, so memory stays at about `depth × ArchiveWriter.blockSize` however large the
/// workspace and however slow the client. When the client goes away the consumer cancels: the next
/// write callback returns an error and libarchive unwinds.
public final class ExportStream: Sendable {
    /// Blocks in flight between the producer and the socket.
    static let depth = 8

    private let chunks: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    /// Starts at 0 and is raised to `depth` (so libdispatch never sees it freed below its start value).
    private let slots = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)
    private let failure = Mutex<ArchiveError?>(nil)
    private let produced = Atomic<Int>(0)

    init() {
        (chunks, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .unbounded)
        for _ in 0..<Self.depth { slots.signal() }
    }

    /// Total bytes handed to the consumer so far.
    public var bytes: Int { produced.load(ordering: .relaxed) }

    /// Starts `produce` on its own thread; it receives the sink to give `ArchiveWriter`.
    func start(_ produce: @escaping @Sendable (@escaping ArchiveWriter.Sink) throws(ArchiveError) -> Void) {
        let thread = Thread { [self] in
            do throws(ArchiveError) {
                try produce { bytes in self.send(bytes) }
            } catch {
                if error != .cancelled { failure.withLock { $0 = error } }
            }
            continuation.finish()
        }
        thread.name = "archive-export"
        thread.start()
    }

    /// Hands every block to `write` as it is produced. Throws (which aborts the chunked response, so the
    /// client sees an incomplete transfer) if the producer failed; the caller then finishes the body.
    public func pump(_ write: (ByteBuffer) async throws -> Void) async throws {
        do {
            try await withTaskCancellationHandler {
                for await chunk in chunks {
                    try await write(chunk)
                    slots.signal()
                }
            } onCancel: {
                cancel()
            }
        } catch {
            cancel()
            throw error
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
        if cancelled.load(ordering: .acquiring) { throw ArchiveError.cancelled }
    }

    /// Stops the producer at its next write.
    func cancel() {
        guard !cancelled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for _ in 0...Self.depth { slots.signal() }
    }

    /// Producer side: waits for a free slot, then hands a copy of `bytes` to the consumer.
    private func send(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if cancelled.load(ordering: .acquiring) { return false }
        slots.wait()
        if cancelled.load(ordering: .acquiring) { return false }
        produced.add(bytes.count, ordering: .relaxed)
        continuation.yield(ByteBuffer(bytes: bytes))
        return true
    }
}
