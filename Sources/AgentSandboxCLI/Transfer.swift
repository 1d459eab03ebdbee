import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP transfer through URLSession with progress: the response body either streams into a
/// file handle (export) or is collected (a JSON reply); the request body may stream from a file (import).
final class Transfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// The outcome: status, headers and — unless streamed into `sink` — the body.
    struct Reply {
        let status: Int
        let body: Data
    }

    private let progress: ProgressBar
    /// Where a 2xx body goes; nil collects it.
    private let sink: FileHandle?
    private var status = 0
    private var collected = Data()
    private var received: Int64 = 0
    private var writeError: Error?
    private var continuation: CheckedContinuation<Reply, Error>?

    init(progress: ProgressBar, sink: FileHandle?) {
        self.progress = progress
        self.sink = sink
    }

    /// Runs `request`, uploading `file` as its body when given.
    func run(_ request: URLRequest, uploading file: URL? = nil) async throws -> Reply {
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: .default, delegate: self, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            self.continuation = continuation
            let task = file.map { session.uploadTask(with: request, fromFile: $0) } ?? session.dataTask(with: request)
            task.resume()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let sink, (200..<300).contains(status) else {
            collected.append(data)
            return
        }
        do {
            try sink.write(contentsOf: data)
        } catch {
            writeError = error
            dataTask.cancel()
        }
        received += Int64(data.count)
        progress.update(done: received, total: nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64, totalBytesExpectedToSend: Int64) {
        progress.update(done: totalBytesSent, total: totalBytesExpectedToSend > 0 ? totalBytesExpectedToSend : nil, force: totalBytesSent == totalBytesExpectedToSend)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if sink != nil, (200..<300).contains(status) { progress.update(done: received, total: nil, force: true) }
        progress.finish()
        let continuation = self.continuation
        self.continuation = nil
        if let error = writeError ?? error {
            continuation?.resume(throwing: error)
        } else {
            continuation?.resume(returning: Reply(status: status, body: collected))
        }
    }
}

/// A failed request: the server's `error` sentence and `error_code` when it sent the envelope.
struct ServerError: Error, CustomStringConvertible {
    let description: String

    init(status: Int, body: Data) {
        let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        if let message = json?["error"] as? String {
            description = "\(message) (HTTP \(status), \(json?["error_code"] as? String ?? "error"))"
        } else {
            description = "HTTP \(status): \(String(decoding: body.prefix(500), as: UTF8.self))"
        }
    }
}
