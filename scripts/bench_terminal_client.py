"""Client half of scripts/bench-terminal: keystroke echo latency and output throughput through the
terminal WebSocket, each beside the same `cat` on a local pty pair in the same run (stdlib only)."""
import base64, json, os, pty, socket, statistics, subprocess, sys, time, urllib.request, uuid

port, key, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
KEYSTROKES = 1000
BIG = 100_000_000


def post(path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"x-api-key": key, "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.loads(reply.read())


class Terminal:
    """A minimal RFC 6455 client for GET /v1/agents/{id}/terminal?token=…"""

    def __init__(self, agent, token):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wskey = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /v1/agents/{agent}/terminal?token={token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                           f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {wskey}\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _take(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        """(opcode, payload)."""
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._take(2), "big")
        elif n == 127:
            n = int.from_bytes(self._take(8), "big")
        return b0 & 0x0F, self._take(n)

    def send(self, payload, opcode=2):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode, 0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | opcode, 0x80 | 126]) + len(payload).to_bytes(2, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def read_until(self, marker):
        seen = b""
        while marker not in seen:
            opcode, payload = self.receive()
            if opcode == 2:
                seen += payload
            elif opcode == 8:
                raise EOFError(seen)
        return seen


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def echo_terminal(agent):
    token = post(f"/v1/agents/{agent}/exec-token", {"command": "stty -icanon -echo; echo ready; exec cat"})["token"]
    terminal = Terminal(agent, token)
    terminal.read_until(b"ready")
    samples = []
    for i in range(KEYSTROKES):
        byte = bytes([0x61 + i % 26])
        start = time.perf_counter()
        terminal.send(byte)
        terminal.read_until(byte)
        samples.append(time.perf_counter() - start)
    terminal.sock.close()
    return percentiles(samples)


def local_pty(command):
    master, slave = pty.openpty()
    child = subprocess.Popen(["sh", "-c", command], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    return master, child


def echo_local():
    master, child = local_pty("stty -icanon -echo; echo ready; exec cat")
    seen = b""
    while b"ready" not in seen:
        seen += os.read(master, 4096)
    samples = []
    for i in range(KEYSTROKES):
        byte = bytes([0x61 + i % 26])
        start = time.perf_counter()
        os.write(master, byte)
        got = b""
        while byte not in got:
            got += os.read(master, 4096)
        samples.append(time.perf_counter() - start)
    child.kill()
    os.close(master)
    return percentiles(samples)


def throughput_terminal(agent, path):
    token = post(f"/v1/agents/{agent}/exec-token", {"command": f"cat {path}"})["token"]
    terminal = Terminal(agent, token)
    received, dropped, start = 0, 0, time.perf_counter()
    while True:
        opcode, payload = terminal.receive()
        if opcode == 2:
            received += len(payload)
        elif opcode == 1 and b'"dropped"' in payload:
            dropped += json.loads(payload).get("dropped_bytes", 0)
        elif opcode == 8:
            break
    return received, dropped, time.perf_counter() - start


def throughput_local(path):
    master, child = local_pty(f"cat {path}")
    received, start = 0, time.perf_counter()
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        received += len(chunk)
    child.wait()
    os.close(master)
    return received, time.perf_counter() - start


agent = str(uuid.uuid4())
post(f"/v1/agents/{agent}/sandbox/bash", {"command": f"yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c {BIG} > big.txt"})
big = os.path.join(work, "data", agent, "big.txt")
t50, t99 = echo_terminal(agent)
l50, l99 = echo_local()
print(f"keystroke echo ({KEYSTROKES} keystrokes, byte -> cat in a pty -> back):")
print(f"  terminal WebSocket  p50 {t50:6.3f} ms  p99 {t99:6.3f} ms")
print(f"  local pty pair      p50 {l50:6.3f} ms  p99 {l99:6.3f} ms   (baseline, same run)")
received, dropped, seconds = throughput_terminal(agent, big)
local_received, local_seconds = throughput_local(big)
print(f"output throughput (cat of a {BIG // 1_000_000} MB file; a pty turns \\n into \\r\\n, so more bytes arrive):")
print(f"  terminal WebSocket  {received / seconds / 1e6:7.1f} MB/s  ({received} bytes in {seconds:.2f} s, {dropped} dropped by the session ring)")
print(f"  local pty pair      {local_received / local_seconds / 1e6:7.1f} MB/s  ({local_received} bytes in {local_seconds:.2f} s)   (baseline, same run)")
