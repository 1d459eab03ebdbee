import Foundation

/// What "the internet" of issue 18's test layout holds (`NetworkLab` makes the namespace): its address
/// (198.51.100.1/24; the machine's side is 198.51.100.254), more hosts for allow and deny lists, the
/// addresses agents must not reach (169.254.169.254, 10.99.0.10 and the host's nameserver, where it
/// answers DNS), and the one Python program that answers on all of them — so a firewall that let a
/// forbidden address through would be seen answering, and no packet of a network test leaves this machine.
enum FakeInternet {
    static let address = "198.51.100.1"
    static let hostSide = "198.51.100.254"

    /// More hosts of "the internet" (on its loopback), for allow and deny lists: each answers like `address`.
    static let otherHosts = ["203.0.113.10", "203.0.113.20", "203.0.113.30"]

    /// The host's first IPv4 nameserver when it is not on the host's loopback (DNS is then routed here).
    static var routedNameserver: String? {
        let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
        let server = text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.count > 1 && words[0] == "nameserver" && words[1].contains(".") ? String(words[1]) : nil
        }.first
        return server.flatMap { $0.hasPrefix("127.") ? nil : $0 }
    }

    /// The internet's servers: TCP 8080 and 8081 answer `peer=ADDR`; DNS at the host's nameserver
    /// address answers every name with `address`.
    static let program = """
        import socket, struct, threading
        def tcp(port):
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(64)
            while True:
                c, a = s.accept()
                try:
                    c.settimeout(2)
                    try: c.recv(4096)
                    except Exception: pass
                    body = ("peer=%s\\n" % a[0]).encode()
                    c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
                finally: c.close()
        def dns():
            # Bound to the nameserver's address: a reply must come from the address the query went to.
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("\(FakeInternet.routedNameserver ?? "127.0.0.1")", 53))
            while True:
                q, a = s.recvfrom(512)
                end = q.index(b"\\0", 12) + 5
                answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("\(FakeInternet.address)")
                s.sendto(q[:2] + b"\\x81\\x80" + q[4:6] + b"\\x00\\x01\\x00\\x00\\x00\\x00" + q[12:end] + answer, a)
        threading.Thread(target=dns, daemon=True).start()
        threading.Thread(target=tcp, args=(8081,), daemon=True).start()
        tcp(8080)
        """
}
