import AgentSandbox
import Foundation
import Testing

/// The direct envelope writer produces the same document as the shared JSON encoder.
struct EnvelopeWriterTests {
    @Test func writerMatchesTheSharedEncoder() throws {
        var envelope = Envelope(stdout: "a \"quoted\" \\ back/slash\n\t\u{1}\u{1F}", stderr: nil, exitCode: -3,
                                content: "héllo ✓ 日本語 \r\n", path: "src/a.py", matches: [["file": "x", "line": 3]], url: nil)
        envelope.status = .error
        envelope.error = "bad"
        envelope.extras = ["total_lines": 12, "truncated": true, "ratio": .number(0.25), "results": [["path": "p", "replacements_made": 1]], "status": "ignored"]
        let direct = try JSONSerialization.jsonObject(with: Data(envelope.jsonBytes())) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: JSONCoding.makeEncoder().encode(envelope)) as? NSDictionary
        #expect(direct != nil && direct == encoded)
        #expect(String(decoding: envelope.jsonBytes(), as: UTF8.self).contains(#""path":"src/a.py""#), "slashes are not escaped")
    }
}
