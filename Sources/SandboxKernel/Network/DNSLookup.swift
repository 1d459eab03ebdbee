#if canImport(Glibc)
import Glibc
#endif

/// A minimal DNS client for egress host names: one A query over UDP to one nameserver, answering the
/// addresses and the smallest TTL of the answer (`getaddrinfo` hides TTLs, and the TTL is what tells
/// when to look again). CNAME chains are followed by the nameserver; every A record of the answer counts.
/// Blocking: call it from `BlockingWork`.
enum DNSLookup {
    /// The addresses (host order) and TTL in seconds; nil when the nameserver did not answer in time
    /// or answered with an error other than "no such name" (which is an empty answer).
    static func query(_ name: String, server: String, port: UInt16 = 53, timeoutMilliseconds: Int32 = 2000) -> (addresses: [UInt32], ttl: UInt32)? {
        guard let serverAddress = IPv4Network.parseAddress(server) else { return nil }
        let id = UInt16.random(in: 0...UInt16.max)
        var packet: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count < 64 else { return nil }
            packet.append(UInt8(bytes.count))
            packet += bytes
        }
        packet += [0, 0, 1, 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = serverAddress.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, send(fd, packet, packet.count, 0) == packet.count else { return nil }
        var reply = [UInt8](repeating: 0, count: 4096)
        var waitFor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            guard retryingEINTR({ poll(&waitFor, 1, timeoutMilliseconds) }) == 1 else { return nil }
            let count = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count >= 12 else { return nil }
            // A reply to another query (or a stray datagram) is skipped.
            guard reply[0] == packet[0], reply[1] == packet[1] else { continue }
            return parse(Array(reply[..<count]))
        }
    }

    /// The A records and the smallest TTL of a reply; nil on a server failure or a malformed reply.
    static func parse(_ reply: [UInt8]) -> (addresses: [UInt32], ttl: UInt32)? {
        guard reply.count >= 12 else { return nil }
        let code = reply[3] & 0x0f
        if code == 3 { return ([], 60) }
        guard code == 0 else { return nil }
        let questions = Int(reply[4]) << 8 | Int(reply[5])
        let answers = Int(reply[6]) << 8 | Int(reply[7])
        var offset = 12
        for _ in 0..<questions {
            guard let next = skipName(reply, offset) else { return nil }
            offset = next + 4
        }
        var addresses: [UInt32] = []
        var ttl = UInt32.max
        for _ in 0..<answers {
            guard let next = skipName(reply, offset), next + 10 <= reply.count else { return nil }
            let type = Int(reply[next]) << 8 | Int(reply[next + 1])
            let recordTTL = reply[(next + 4)..<(next + 8)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(reply[next + 8]) << 8 | Int(reply[next + 9])
            let data = next + 10
            guard data + length <= reply.count else { return nil }
            if type == 1, length == 4 {
                addresses.append(reply[data..<(data + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            ttl = min(ttl, recordTTL)
            offset = data + length
        }
        return (addresses, ttl == .max ? 60 : ttl)
    }

    /// The offset after a (possibly compressed) name starting at `offset`.
    private static func skipName(_ bytes: [UInt8], _ offset: Int) -> Int? {
        var offset = offset
        while offset < bytes.count {
            let length = Int(bytes[offset])
            if length == 0 { return offset + 1 }
            if length & 0xc0 == 0xc0 { return offset + 2 <= bytes.count ? offset + 2 : nil }
            offset += length + 1
        }
        return nil
    }
}
