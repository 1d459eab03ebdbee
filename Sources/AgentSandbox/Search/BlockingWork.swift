import Foundation

/// Runs blocking file-system work (directory walks, file copies) on its own thread, so it never
/// stalls Swift's cooperative thread pool.
public enum BlockingWork {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
