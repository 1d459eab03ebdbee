import Testing
@testable import AgentSandbox

/// The hex digest API keys and share checksums are stored under (FIPS 180-2 test vectors).
@Suite struct SHA256HasherTests {
    @Test func hexDigestMatchesTheStandardVectors() {
        #expect(SHA256Hasher.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hasher.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalUpdatesGiveTheSameDigestAsOneUpdate() {
        var hasher = SHA256Hasher()
        hasher.update(Array("ab".utf8))
        hasher.update(Array("c".utf8))
        #expect(hasher.finalizeHex() == SHA256Hasher.hex("abc"))
    }
}
