import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP requests whose response body is handed over as it arrives (for Server-Sent Events): a
/// `URLSession` with a data delegate, since `bytes(for:)` is not available on Linux.
final class StreamingHTTPClient: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// What one request does with its response.
    struct Handlers: Sendable {
        var response: @Sendable (HTTPURLResponse) -> Void
        var data: @Sendable (Data) -> Void
    }

    private struct Pending {
        let handlers: Handlers
        let done: CheckedContinuation<Void, any Error>
    }

    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]
    private var session: URLSession!

    override init() {
        super.init()
        let configuration = URLSessionConfiguration.default
        // A tool call may run for an hour with nothing on its reply stream until the result.
        configuration.timeoutIntervalForRequest = 4000
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// Sends `request`; returns when the response body has ended (handlers have seen all of it).
    func send(_ request: URLRequest, _ handlers: Handlers) async throws {
        let task = session.dataTask(with: request)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.withLock { pending[task.taskIdentifier] = Pending(handlers: handlers, done: continuation) }
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    private func handlers(of task: URLSessionTask) -> Handlers? {
        lock.withLock { pending[task.taskIdentifier]?.handlers }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse { handlers(of: dataTask)?.response(http) }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        handlers(of: dataTask)?.data(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let entry = lock.withLock({ pending.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let error { entry.done.resume(throwing: error) } else { entry.done.resume() }
    }
}

/// Splits a Server-Sent Events byte stream into events (`id`, joined `data` lines).
struct SSEParser {
    private var buffer = Data()

    /// Feeds bytes; returns the events completed by them.
    mutating func feed(_ bytes: Data) -> [(id: String?, data: String)] {
        buffer.append(bytes)
        var events: [(id: String?, data: String)] = []
        while let end = Self.eventEnd(in: buffer) {
            let block = String(decoding: buffer[buffer.startIndex..<end.start], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex..<end.end)
            var id: String?
            var data: [String] = []
            for line in block.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
                if line.hasPrefix("data:") { data.append(Self.value(line.dropFirst(5))) }
                else if line.hasPrefix("id:") { id = Self.value(line.dropFirst(3)) }
            }
            if !data.isEmpty || id != nil { events.append((id, data.joined(separator: "\n"))) }
        }
        return events
    }

    private static func value(_ text: Substring) -> String {
        String(text.hasPrefix(" ") ? text.dropFirst() : text)
    }

    /// The blank line that ends the first complete event: where it starts and where the next begins.
    private static func eventEnd(in buffer: Data) -> (start: Data.Index, end: Data.Index)? {
        let found = [Data("\n\n".utf8), Data("\r\n\r\n".utf8)].compactMap { buffer.range(of: $0) }
        return found.min { $0.lowerBound < $1.lowerBound }.map { ($0.lowerBound, $0.upperBound) }
    }
}
