import Foundation
import Synchronization

/// Single-use, short-lived tokens that open an agent's terminal WebSocket in place of the API key (a
/// browser cannot send `x-api-key` on a WebSocket).
///
/// A token is 256 random bits (`est_` + base64url); only its SHA-256 is kept, in memory: tokens live
/// seconds to minutes, so a restart simply invalidates the outstanding ones. Each is scoped to one agent
/// and, when minted for one, one session; it is used up by the first connection it authorises.
/// Refusals: unknown → `TOKEN_INVALID`, past its time → `TOKEN_EXPIRED`, already used → `TOKEN_USED`
/// (401 each); another agent's or session's → `TOKEN_FOREIGN` (403, and the token stays usable).
public final class ExecTokenStore: Sendable {
    /// What a token opens.
    public struct Grant: Sendable {
        public var agent: AgentID
        /// Attach to this session; nil: start a new terminal session from the fields below.
        public var sessionID: String?
        /// New session: a pseudo-terminal (else pipes, stdin kept open).
        public var tty: Bool
        public var command: String?
        public var size: TerminalSize
        public var expiresAt: Date
    }

    private struct Entry {
        var grant: Grant
        var used = false
        /// Why the connection this token authorised was refused after the token was spent (for the HTTP reply).
        var refusal: ToolError?
    }

    /// Seconds to connect: the default, and the longest a caller may ask for.
    public static let defaultTTL: Double = 60
    public static let maximumTTL: Double = 600

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// A new token for `grant`.
    public func mint(_ grant: Grant, now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        let token = "est_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        entries.withLock { entries in
            // Spent and expired tokens are remembered a while, so a late use hears why it is refused.
            entries = entries.filter { $0.value.grant.expiresAt > now.addingTimeInterval(-Self.maximumTTL) }
            entries[Self.hash(token)] = Entry(grant: grant)
        }
        return token
    }

    /// Spends `token` for a connection to `agent` (and `session`, when the URL names one): its grant,
    /// or the refusal. A foreign use leaves the token unspent.
    public func redeem(_ token: String, agent: AgentID, session: String?, now: Date = Date()) throws(ToolError) -> Grant {
        let key = Self.hash(token)
        return try entries.withLock { entries throws(ToolError) in
            guard var entry = entries[key] else { throw Self.invalid }
            try Self.check(entry, agent: agent, session: session, now: now)
            entry.used = true
            entries[key] = entry
            return entry.grant
        }
    }

    /// Why `token` cannot open a connection now (without spending it): the refusal recorded for it, a
    /// token error, or nil when it is still good.
    public func refusal(for token: String, agent: AgentID, session: String?, now: Date = Date()) -> ToolError? {
        entries.withLock { entries in
            guard let entry = entries[Self.hash(token)] else { return Self.invalid }
            if let refusal = entry.refusal { return refusal }
            do throws(ToolError) {
                try Self.check(entry, agent: agent, session: session, now: now)
                return nil
            } catch {
                return error
            }
        }
    }

    /// Records why the connection `token` authorised could not open (the session could not start …).
    public func recordRefusal(_ error: ToolError, for token: String) {
        entries.withLock { $0[Self.hash(token)]?.refusal = error }
    }

    private static func check(_ entry: Entry, agent: AgentID, session: String?, now: Date) throws(ToolError) {
        guard entry.grant.agent == agent else {
            throw ToolError(.tokenForeign, "This token was minted for another agent; mint one with POST /v1/agents/\(agent)/exec-token.")
        }
        guard session == nil || session == entry.grant.sessionID else {
            throw ToolError(.tokenForeign, entry.grant.sessionID == nil
                ? "This token starts a new terminal; mint one with \"session_id\" to attach to session \(session!.prefix(64))."
                : "This token opens another session; mint one with \"session_id\": \"\(session!.prefix(64))\".")
        }
        guard !entry.used else {
            throw ToolError(.tokenUsed, "This token was already used (tokens open one connection); mint a new one with POST /v1/agents/\(agent)/exec-token.")
        }
        guard entry.grant.expiresAt > now else {
            throw ToolError(.tokenExpired, "This token expired; connect within its ttl (default \(Int(defaultTTL)) s) of minting it, or mint a new one.")
        }
    }

    private static var invalid: ToolError {
        ToolError(.tokenInvalid, "Unknown exec token: mint one with POST /v1/agents/{agent_id}/exec-token (tokens are single use and forgotten when they expire or the server restarts).")
    }

    static func hash(_ token: String) -> String { SHA256Hasher.hex(token) }
}
