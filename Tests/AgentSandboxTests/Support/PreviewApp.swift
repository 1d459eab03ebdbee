/// A small app for preview tests, run inside an agent's sandbox with python3: `python3 app.py ADDRESS PORT NAME`.
///
/// - `GET /who` → `NAME`; `GET /headers` → the request's headers and path as JSON;
/// - `GET /big?n=N` → N bytes (`bytes(range(256))` repeated), with Content-Length;
/// - `POST`/`PUT` anything → `{"bytes": N, "sha256": …}` of the body (Content-Length or chunked);
/// - `GET /sse` → an event stream: `data: one`, then `data: two` only once the file `go` exists in
///   the working directory (so a client that sees `one` before creating `go` proves nothing buffered);
/// - a WebSocket upgrade on any path: each text or binary message is echoed back prefixed with `echo:`;
///   the text `bye` gets a close with code 4001 and reason `app says bye`.
enum PreviewApp {
    static let source = #"""
import base64, hashlib, http.server, json, os, sys, time

ADDRESS, PORT, NAME = sys.argv[1], int(sys.argv[2]), sys.argv[3]
BLOCK = bytes(range(256)) * 256

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, body, content_type="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if self.path in ("/", "/who"):
            return self.reply(NAME.encode())
        if self.path.startswith("/headers"):
            fields = {k.lower(): v for k, v in self.headers.items()}
            fields["path"] = self.path
            return self.reply(json.dumps(fields).encode(), "application/json")
        if self.path.startswith("/big"):
            left = int(self.path.split("n=")[1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(left))
            self.end_headers()
            while left:
                piece = BLOCK[: min(left, len(BLOCK))]
                self.wfile.write(piece)
                left -= len(piece)
            return
        if self.path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.chunk(b"data: one\n\n")
            for _ in range(600):
                if os.path.exists("go"):
                    break
                time.sleep(0.05)
            self.chunk(b"data: two\n\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_error(404)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_POST(self):
        digest, count = hashlib.sha256(), 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                digest.update(data)
                count += len(data)
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                data = self.rfile.read(min(left, 1 << 16))
                digest.update(data)
                count += len(data)
                left -= len(data)
        self.reply(json.dumps({"bytes": count, "sha256": digest.hexdigest()}).encode(), "application/json")

    do_PUT = do_POST

    def websocket(self):
        accept = base64.b64encode(hashlib.sha1((self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self._headers_buffer.append(b"\r\n")
        if self.path == "/ws-greet":
            # A greeting in the same write as the 101 (one segment): a proxy must pass it on.
            self._headers_buffer.append(self.framed(1, b"greeting"))
        self.flush_headers()
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 15, head[1] & 127
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), "big")
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if head[1] & 128 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
            if opcode == 8:
                self.frame(8, data)
                return
            if opcode in (1, 2):
                if data == b"bye":
                    self.frame(8, (4001).to_bytes(2, "big") + b"app says bye")
                    return
                self.frame(opcode, b"echo:" + data)

    def framed(self, opcode, data):
        length = len(data)
        if length < 126:
            head = bytes([0x80 | opcode, length])
        elif length < 65536:
            head = bytes([0x80 | opcode, 126]) + length.to_bytes(2, "big")
        else:
            head = bytes([0x80 | opcode, 127]) + length.to_bytes(8, "big")
        return head + data

    def frame(self, opcode, data):
        self.wfile.write(self.framed(opcode, data))
        self.wfile.flush()

http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer((ADDRESS, PORT), Handler).serve_forever()
"""#
}
