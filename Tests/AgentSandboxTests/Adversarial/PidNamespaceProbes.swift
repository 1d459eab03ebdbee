import Foundation

/// Python programs the per-call pid namespace tests run inside the sandbox as the agent.
enum PidNamespaceProbes {
    /// Secrets the tests send look like this (then a UUID).
    static let secretPrefix = "pidns-secret-"

    /// `python3 spy.py NAME SECONDS until:FILE` or `... peer:OTHER`: sweeps every process it can see in
    /// /proc — its environ, cmdline and stack (through /proc/<pid>/mem) — for secrets
    /// (`pidns-secret-<uuid>`) for at most SECONDS. `until:FILE`: until FILE exists (and 20 sweeps).
    /// `peer:OTHER` (two spies in concurrent calls): waits for OTHER.started, sweeps 20 times, touches
    /// NAME.done, then sweeps on until OTHER.done — so each one's counted sweeps all run while the other's
    /// call is alive. Touches NAME.started first; logs every foreign secret to NAME.log; its last line
    /// (also printed) is `sweeps=N pids=P own=O peer=E hits=H`: O = 1 when it read its own secret ($SECRET)
    /// from another process of its own call (the sweep does read what it can see), E = 1 when the peer
    /// overlapped, H = foreign secrets seen.
    static let spy = #"""
    import os, sys, time
    prefix = b"pidns-secret-"
    name, seconds, (mode, target) = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(":", 1)
    own = os.environ.get("SECRET", "").encode()
    log = open(f"{name}.log", "w", buffering=1)
    me = os.getpid()
    def read(pid):
        found = []
        for part in ("environ", "cmdline"):
            try: found.append(open(f"/proc/{pid}/{part}", "rb").read())
            except OSError: pass
        try:
            maps = open(f"/proc/{pid}/maps").read().splitlines()
            with open(f"/proc/{pid}/mem", "rb", 0) as mem:
                for line in maps:
                    if line.endswith("[stack]"):
                        low, high = (int(x, 16) for x in line.split()[0].split("-"))
                        mem.seek(low); found.append(mem.read(high - low))
        except (OSError, ValueError, OverflowError): pass
        return b"\n".join(found)
    open(f"{name}.started", "w").close()
    end, sweeps, counted, hits, own_seen, peer_seen, pids = time.time() + seconds, 0, 0, 0, 0, 0, set()
    while time.time() < end:
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == me: continue
            pids.add(int(entry))
            for chunk in read(entry).split(prefix)[1:]:
                token = prefix + chunk[:36]
                if own and token == own: own_seen = 1
                else:
                    hits += 1
                    log.write(f"SAW {token.decode(errors='replace')} in pid {entry}\n")
        sweeps += 1
        if mode == "until":
            if sweeps >= 20 and os.path.exists(target): break
            continue
        if not peer_seen and os.path.exists(f"{target}.started"): peer_seen = 1
        if peer_seen: counted += 1
        if counted == 20: open(f"{name}.done", "w").close()
        if counted >= 20 and os.path.exists(f"{target}.done"): break
    summary = f"sweeps={sweeps} pids={len(pids)} own={own_seen} peer={peer_seen} hits={hits}"
    log.write(summary + "\n")
    print(summary)
    """#
}
