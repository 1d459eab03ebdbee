import Foundation

extension Thread {
    /// Runs blocking work on a new thread (never on the cooperative pool) and awaits its result.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, ArchiveError>, Never>) in
            let thread = Thread {
                do throws(ArchiveError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = name
            thread.start()
        }
        return try result.get()
    }
}
