import Dispatch
import NIOCore
import Synchronization

/// Bridges an async request body to libarchive's synchronous read callback, with backpressure.
///
/// The request handler `push`es body buffers (suspending, never blocking, while `depth` buffers
/// wait); the import thread pulls them with `next()` (blocking on a semaphore). So the archive is
/// read as it arrives: no copy of the whole body in memory or on disk, and a refused archive stops
/// the upload early. `stop()` (the importer gave up) releases a suspended producer.
final class ImportFeed: Sendable {
    static let depth = 16

    private struct State: ~Copyable {
        var queue: [ByteBuffer] = []
        var finished = false
        var failure: ArchiveError?
        var stopped = false
        var producer: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// One signal per queued buffer, plus one for the end.
    private let available = DispatchSemaphore(value: 0)

    /// Producer: queues `buffer`; suspends while the queue is full. False once the consumer stopped.
    func push(_ buffer: ByteBuffer) async -> Bool {
        guard buffer.readableBytes > 0 else { return true }
        let accepted = state.withLock { state in
            guard !state.stopped else { return false }
            state.queue.append(buffer)
            return true
        }
        guard accepted else { return false }
        available.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.queue.count < Self.depth || state.stopped { return true }
                state.producer = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return state.withLock { !$0.stopped }
    }

    /// Producer: no more data. With `failure` (body too large, client gone) the importer sees the
    /// end of the input and then reports `failure` instead of whatever it made of the truncated archive.
    func finish(failure: ArchiveError? = nil) {
        state.withLock {
            $0.finished = true
            $0.failure = failure
        }
        available.signal()
    }

    /// Why the body ended early, if it did.
    var failure: ArchiveError? { state.withLock { $0.failure } }

    /// Consumer: the next buffer, blocking until one arrives; nil at the end.
    func next() -> ByteBuffer? {
        available.wait()
        let (buffer, producer, ended) = state.withLock { state -> (ByteBuffer?, CheckedContinuation<Void, Never>?, Bool) in
            guard !state.queue.isEmpty, state.failure == nil else { return (nil, nil, state.finished) }
            let buffer = state.queue.removeFirst()
            let producer = state.queue.count < Self.depth ? state.producer.take() : nil
            return (buffer, producer, false)
        }
        producer?.resume()
        if ended { available.signal() }  // later calls return nil at once
        return buffer
    }

    /// Consumer: gives up (refused or failed archive); a waiting producer resumes and stops pushing.
    func stop() {
        let producer = state.withLock { state in
            state.stopped = true
            return state.producer.take()
        }
        producer?.resume()
        available.signal()
    }
}
