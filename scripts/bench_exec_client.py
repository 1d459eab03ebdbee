#!/usr/bin/env python3
"""Client half of scripts/bench-exec: measures exec-session streaming against a running server.

latency: a foreground exec streamed as SSE; the child prints its own CLOCK_REALTIME ($EPOCHREALTIME, taken
         by bash right before each write) once per line; the client compares it with its clock on arrival.
throughput: a background session running `yes` for 5 s, watched over SSE (base64); reports what the server
         read from the child (stdout_bytes) and what reached the client, against `yes | dd of=/dev/null`.
"""
import base64, json, socket, subprocess, sys, threading, time

PORT, KEY = int(sys.argv[1]), sys.argv[2]
AGENT = "5e1f0c2a-0b6e-4c1d-9a77-3b2f6d8e9a01"


def request(method, path, body=None):
    s = socket.create_connection(("127.0.0.1", PORT))
    data = json.dumps(body).encode() if body is not None else b""
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nx-api-key: {KEY}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
    reply = b""
    while chunk := s.recv(65536):
        reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    return json.loads(payload)


def sse(method, path, body=None):
    """Yields (arrival_ns, event, data) as events arrive (chunked transfer decoded)."""
    s = socket.create_connection(("127.0.0.1", PORT))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = json.dumps(body).encode() if body is not None else b""
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nx-api-key: {KEY}\r\nAccept: text/event-stream\r\n"
              f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    raw, body_buf, head_done = b"", b"", False
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return
        now = time.time_ns()
        raw += chunk
        if not head_done:
            if b"\r\n\r\n" not in raw:
                continue
            _, raw = raw.split(b"\r\n\r\n", 1)
            head_done = True
        while True:  # chunked decoding
            line_end = raw.find(b"\r\n")
            if line_end < 0:
                break
            size = int(raw[:line_end].split(b";")[0], 16)
            if len(raw) < line_end + 2 + size + 2:
                break
            body_buf += raw[line_end + 2:line_end + 2 + size]
            raw = raw[line_end + 2 + size + 2:]
            if size == 0:
                return
        while (end := body_buf.find(b"\n\n")) >= 0:
            frame, body_buf = body_buf[:end], body_buf[end + 2:]
            event, lines = "message", []
            for line in frame.split(b"\n"):
                if line.startswith(b"event: "):
                    event = line[7:].decode()
                elif line.startswith(b"data: "):
                    lines.append(line[6:])
            if lines:
                yield now, event, b"\n".join(lines)
                if event == "exit":
                    return


def latency():
    command = "for i in $(seq 1000); do echo $EPOCHREALTIME; sleep 0.002; done"
    samples = []
    for arrived, event, data in sse("POST", f"/v1/agents/{AGENT}/exec", {"command": command}):
        if event != "stdout":
            continue
        for line in data.split(b"\n"):
            if line.strip():
                samples.append((arrived - int(float(line) * 1e9)) / 1e3)
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print(f"latency child write -> SSE client: n={len(samples)} p50={pick(0.5):.0f} us p99={pick(0.99):.0f} us max={samples[-1]:.0f} us")


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) // 1024


def throughput(server_pid, encoding):
    started = request("POST", f"/v1/agents/{AGENT}/exec", {"command": "timeout 5 yes", "background": True})
    sid = started["session_id"]
    delivered = dropped = 0
    peak = [rss(server_pid)]
    stop = threading.Event()
    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss(server_pid)); time.sleep(0.05)
    threading.Thread(target=sample, daemon=True).start()
    t0 = time.time()
    for _, event, data in sse("GET", f"/v1/agents/{AGENT}/exec/{sid}/stream?encoding={encoding}"):
        if event == "stdout":
            delivered += len(base64.b64decode(data)) if encoding == "base64" else len(data) + data.count(b"\n") + 1
        elif event == "dropped":
            dropped += json.loads(data)["dropped_bytes"]
    elapsed = time.time() - t0
    stop.set()
    state = request("GET", f"/v1/agents/{AGENT}/exec/{sid}")
    read = state["stdout_bytes"]
    print(f"session `yes` 5 s ({encoding}): server read {read / 5 / 1e6:.0f} MB/s from the child; "
          f"client got {delivered / elapsed / 1e6:.0f} MB/s ({delivered / max(read, 1) * 100:.0f}% of it, "
          f"{dropped / 1e6:.0f} MB reported dropped); server RSS peak {peak[0]} MiB")
    request("DELETE", f"/v1/agents/{AGENT}/exec/{sid}")


def unwatched():
    started = request("POST", f"/v1/agents/{AGENT}/exec", {"command": "timeout 5 yes", "background": True})
    sid = started["session_id"]
    request("POST", f"/v1/agents/{AGENT}/exec/{sid}/wait", {"timeout": 30})
    read = request("GET", f"/v1/agents/{AGENT}/exec/{sid}")["stdout_bytes"]
    print(f"session `yes` 5 s, no watcher: server read {read / 5 / 1e6:.0f} MB/s from the child")
    request("DELETE", f"/v1/agents/{AGENT}/exec/{sid}")


def direct():
    out = subprocess.run("timeout 5 yes | dd of=/dev/null bs=64K 2>&1 | tail -1", shell=True,
                         capture_output=True, text=True).stdout.strip()
    copied = int(out.split()[0])
    print(f"direct `yes | dd of=/dev/null` 5 s: {copied / 5 / 1e6:.0f} MB/s")


if __name__ == "__main__":
    server_pid = int(sys.argv[3])
    request("POST", "/v1/agents", {"agent_id": AGENT})
    latency()
    unwatched()
    throughput(server_pid, "base64")
    throughput(server_pid, "text")
    direct()
