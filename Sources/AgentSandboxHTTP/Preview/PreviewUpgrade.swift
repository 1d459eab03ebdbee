import AgentSandbox
import HTTPTypes

/// Recognises a WebSocket upgrade for a preview (any of `PreviewAddress`'s forms) and resolves its
/// target; nil for every other upgrade, and for a preview that cannot be opened (no key, unknown
/// link, …) — the request then reaches the HTTP routes, which answer with the error envelope.
struct PreviewUpgrade: Sendable {
    let proxy: PreviewProxy
    let domain: String?

    func target(_ head: HTTPRequest) async -> ProxyTarget? {
        let target = head.path ?? "/"
        let address = PreviewAddress.parse(host: head.authority, target: target, domain: domain)
            ?? PreviewAddress.parse(target: target)
        guard let address else { return nil }
        return try? await proxy.target(for: address, headers: head.headerFields)
    }
}
