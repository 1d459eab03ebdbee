#!/usr/bin/env python3
"""Attacks on the HTTP listener, shared by scripts/bench-hardening and AdversarialListenerTests.

  listener_attacks.py flood  --port P [--mode idle|slow] [--count N] [--source ADDR] [--seconds S]
      Opens N connections from ADDR and holds them S seconds more: `idle` sends nothing, `slow` sends a
      request head one header line every 2 s and never finishes it. Prints one JSON line: how many
      connected, how many the server refused or closed, and when.
  listener_attacks.py probe  --port P --key K --case NAME
      Sends one malformed request (see CASES) and prints {"case", "status", "seconds", "closed"}.
  listener_attacks.py urllib --port P --key K --bytes N [--client urllib|requests]
      POSTs N bytes with urllib or requests (neither sends Expect: 100-continue); prints {"status", "seconds"}.

Each attack is a function; add one to ATTACKS (flood modes) or CASES (single requests) to extend.
"""
import argparse, json, os, resource, select, socket, sys, time, urllib.error, urllib.request

AGENT = "00000000-0000-4000-8000-00000000a11c"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect(port, source, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def idle_attack(sock, tick):
    """Sends nothing."""


def slow_attack(sock, tick):
    """A request head that never ends: the request line, then one header line per tick."""
    line = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if tick == 0 else b"X-Slow-%d: y\r\n" % tick
    sock.send(line)


ATTACKS = {"idle": idle_attack, "slow": slow_attack}


def flood(args):
    raise_nofile()
    attack = ATTACKS[args.mode]
    start = time.monotonic()
    open_socks, refused, errors = {}, 0, 0
    for i in range(args.count):
        try:
            s = connect(args.port, args.source)
            open_socks[s.fileno()] = (s, time.monotonic())
        except ConnectionRefusedError:
            refused += 1
        except OSError:
            errors += 1
    connected = len(open_socks)
    closed_by_server, close_times, tick = 0, [], 0
    deadline = time.monotonic() + args.seconds  # held this long once all are open
    poller = select.poll()  # not select(): thousands of descriptors
    for fd in open_socks:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    next_tick = time.monotonic()
    print(json.dumps({"event": "opened", "connected": connected}), flush=True)
    while time.monotonic() < deadline and open_socks:
        now = time.monotonic()
        if now >= next_tick:
            for fd, (s, _) in list(open_socks.items()):
                try:
                    attack(s, tick)
                except OSError:
                    pass
            tick += 1
            next_tick = now + 2
        for fd, _ in poller.poll(200):
            s, opened = open_socks[fd]
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:  # an answer (e.g. 408, or a refusal): wait for the close that follows
                continue
            closed_by_server += 1
            close_times.append(time.monotonic() - opened)
            poller.unregister(fd)
            del open_socks[fd]
            s.close()
    for s, _ in open_socks.values():
        s.close()
    close_times.sort()
    print(json.dumps({
        "event": "done", "mode": args.mode, "attempted": args.count, "connected": connected,
        "refused": refused, "errors": errors, "closed_by_server": closed_by_server,
        "median_close_seconds": close_times[len(close_times) // 2] if close_times else None,
        "max_close_seconds": close_times[-1] if close_times else None,
    }), flush=True)


def head(method, path, key, extra=b""):
    return (b"%s %s HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\n" % (method, path, key.encode())) + extra


BASH = b"/v1/agents/" + AGENT.encode() + b"/sandbox/bash"
CASES = {
    "garbage": lambda k: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03hello\r\n\r\n",
    "unknown_method": lambda k: b"FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "trace": lambda k: b"TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "trace_unknown_path": lambda k: b"TRACE /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
    "wrong_method": lambda k: head(b"PUT", b"/healthz", k, b"Content-Length: 0\r\n\r\n"),
    "header_1mib": lambda k: head(b"GET", b"/healthz", k, b"X-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"),
    "headers_10k": lambda k: head(b"GET", b"/healthz", k, b"".join(b"X-H%d: v\r\n" % i for i in range(10000)) + b"\r\n"),
    "url_1mib": lambda k: b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "content_length_negative": lambda k: head(b"POST", BASH, k, b"Content-Length: -1\r\n\r\n{}"),
    "chunk_size_huge": lambda k: head(b"POST", BASH, k, b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"),
    "chunk_size_not_hex": lambda k: head(b"POST", BASH, k, b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    "chunk_over_limit": lambda k: head(b"POST", BASH, k, b"Transfer-Encoding: chunked\r\n\r\n1000000\r\n" + b"a" * (16 << 20) + b"\r\n0\r\n\r\n"),
}


def probe(args):
    payload = CASES[args.case](args.key)
    s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    start = time.monotonic()
    try:
        s.sendall(payload)
    except OSError:
        pass  # the server may answer and stop reading before everything was sent
    data, closed = b"", False
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
    headers = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    print(json.dumps({"case": args.case, "status": status, "seconds": round(time.monotonic() - start, 3), "closed": closed,
                      "headers": {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in headers if ":" in h},
                      "body": data.split(b"\r\n\r\n", 1)[-1][:500].decode("utf-8", "replace")}), flush=True)


def post_with_urllib(args):
    body = b"{" + b" " * args.bytes + b"}"
    if args.client == "requests":
        import requests
        start = time.monotonic()
        try:
            status = requests.post(f"http://127.0.0.1:{args.port}{BASH.decode()}", data=body, timeout=args.timeout,
                                   headers={"x-api-key": args.key, "Content-Type": "application/json"}).status_code
        except Exception as error:
            status = repr(error)
        print(json.dumps({"status": status, "seconds": round(time.monotonic() - start, 3)}), flush=True)
        return
    request = urllib.request.Request(f"http://127.0.0.1:{args.port}{BASH.decode()}", data=body, method="POST",
                                     headers={"x-api-key": args.key, "Content-Type": "application/json"})
    start = time.monotonic()
    try:
        status = urllib.request.urlopen(request, timeout=args.timeout).status
    except urllib.error.HTTPError as error:
        status = error.code
    except Exception as error:  # a reset or a timeout: what this test is about
        status = repr(error)
    print(json.dumps({"status": status, "seconds": round(time.monotonic() - start, 3)}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--mode", choices=sorted(ATTACKS), default="idle")
    f.add_argument("--count", type=int, default=2000)
    f.add_argument("--source", default="")
    f.add_argument("--seconds", type=float, default=10)
    p = sub.add_parser("probe")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", default="")
    p.add_argument("--case", choices=sorted(CASES), required=True)
    p.add_argument("--timeout", type=float, default=10)
    u = sub.add_parser("urllib")
    u.add_argument("--port", type=int, required=True)
    u.add_argument("--key", default="")
    u.add_argument("--bytes", type=int, default=11 << 20)
    u.add_argument("--timeout", type=float, default=20)
    u.add_argument("--client", choices=["urllib", "requests"], default="urllib")
    args = parser.parse_args()
    {"flood": flood, "probe": probe, "urllib": post_with_urllib}[args.command](args)


if __name__ == "__main__":
    main()
