import Synchronization

/// A generation counter that async tasks can wait on: a session's reader thread `bump`s it for every
/// chunk and at exit; watchers wait until it moves past the generation they last saw.
///
/// Never blocks a thread: waiters suspend on continuations, resumed by `bump`, their timeout, or cancellation.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextToken: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Tokens released (timeout, cancellation) before their continuation was registered.
        var released: Set<UInt64> = []
    }

    private let state = Mutex(State())

    public init() {}

    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Advances the generation and wakes every waiter.
    public func bump() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            guard !state.waiters.isEmpty else { return [] }
            defer { state.waiters.removeAll(keepingCapacity: true) }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until the generation is past `seen`, `timeout` elapses, or the task is cancelled.
    /// Returns whether the generation moved.
    @discardableResult
    public func wait(past seen: UInt64, timeout: Duration) async -> Bool {
        let token = state.withLock { state -> UInt64? in
            guard state.generation == seen else { return nil }
            state.nextToken &+= 1
            return state.nextToken
        }
        guard let token else { return true }
        let timer = Task { [self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            release(token)
        }
        defer {
            timer.cancel()
            state.withLock { _ = $0.released.remove(token) }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != seen || state.released.contains(token) { return true }
                    state.waiters[token] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            release(token)
        }
        return generation != seen
    }

    private func release(_ token: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: token) { return waiter }
            state.released.insert(token)
            return nil
        }
        waiter?.resume()
    }
}
