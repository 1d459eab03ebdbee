# Sourced by scripts/bench*; `bench_netns "$@"`, called once the script has built what it needs (a build
# may fetch packages, scripts/setup may install some), runs the calling script again from the top inside a
# network namespace made for this run, and exits with its status. There the server under benchmark, the
# veths and nftables table of its isolated agents, and the clients all live; nothing of it touches the
# host's network (as the tests' NetworkLab does). The namespace holds only its loopback: no packet leaves
# it. On exit (also on Ctrl-C or an error) whatever still runs in it is stopped and the namespace removed,
# which takes any veth left in it along. Inside, BENCH_NETNS names the namespace and `bench_netns` returns
# at once; the script's second pass re-runs its builds, which are then up to date.
bench_netns() {
  [ -n "${BENCH_NETNS:-}" ] && return 0
  bench_netns_run bash "$(pwd)/scripts/$(basename "$0")" "$@"   # every bench* cds to the repository's root first
}

# Runs a command in a namespace made for it (as above), removed when it ends; exits with its status.
bench_netns_run() {
  command -v ip >/dev/null && command -v nsenter >/dev/null || {
    echo "bench: ip (iproute2) and nsenter (util-linux) are needed to run benchmarks in their own network namespace" >&2; exit 1; }
  local status=0 child
  BENCH_NETNS=agent-sandbox-bench-$$
  ip netns add "$BENCH_NETNS"
  trap bench_netns_remove EXIT
  ip -n "$BENCH_NETNS" link set lo up
  # In the background, so that a signal to this shell is acted on at once: passed on, then cleaned up.
  BENCH_NETNS=$BENCH_NETNS nsenter --net="/run/netns/$BENCH_NETNS" -- "$@" <&0 &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 130' INT TERM
  wait "$child" || status=$?
  exit "$status"
}

# Stops what is left in the namespace (only this run's processes are in it), then removes it.
bench_netns_remove() {
  local pids
  pids=$(ip netns pids "$BENCH_NETNS" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    kill $pids 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(ip netns pids "$BENCH_NETNS" 2>/dev/null)" ] && break; sleep 0.1; done
    pids=$(ip netns pids "$BENCH_NETNS" 2>/dev/null || true)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  fi
  ip netns del "$BENCH_NETNS" 2>/dev/null || true
}

# `untracked_port PORT`: leaves a server's loopback connections on PORT out of connection tracking, as
# this tree's servers leave their own (ListenerFirewall's `notrack` chains). A server without such chains
# (a baseline from before them, a gateway, a reference proxy) alone in its namespace would not be tracked
# at all; beside this tree's server, whose table turns tracking on for the whole namespace, it would pay
# for it (about 2 us per call). Run inside the bench's namespace (`bench_netns`), which takes the table
# away with it.
untracked_port() {
  nft -f - <<NFT
table inet bench_untracked_$1 {
  chain out { type filter hook output priority raw; oif lo tcp dport $1 notrack; oif lo tcp sport $1 notrack; }
  chain pre { type filter hook prerouting priority raw; iif lo tcp dport $1 notrack; iif lo tcp sport $1 notrack; }
}
NFT
}
