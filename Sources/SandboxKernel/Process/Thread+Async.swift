import Foundation

extension Thread {
    /// Runs blocking work on a new, named thread (never on the cooperative pool) and awaits its result.
    /// The thread lives exactly as long as `body`: what it spawns may tie its lifetime to it
    /// (bubblewrap's `--die-with-parent` fires when the spawning *thread* exits).
    package static func run<T: Sendable, E: Error>(name: String, _ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            let thread = Thread {
                do throws(E) {
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
