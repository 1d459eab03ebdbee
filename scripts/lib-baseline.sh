# Sourced by the bench scripts: `baseline_binary REV` prints the path of a release `agent-sandbox` built
# from REV (its tree exported to .build-baseline/src and built with its own scratch path, as
# scripts/bench-zygote does), so a bench can run the same load against BASE and this tree in one run.
# BASE_BUILD=DIR uses an existing release build of BASE instead (DIR/release/agent-sandbox).
baseline_binary() {
  if [ -n "${BASE_BUILD:-}" ]; then echo "$BASE_BUILD/release/agent-sandbox"; return; fi
  local rev src=.build-baseline/src
  rev=$(git rev-parse "$1")
  if [ "$(cat .build-baseline/rev 2>/dev/null)" != "$rev" ]; then
    rm -rf "$src"; mkdir -p "$src"
    git archive "$rev" | tar -x -C "$src"
    echo "$rev" >.build-baseline/rev
  fi
  for product in agent-sandbox-exec agent-sandbox; do
    swift build -c release --package-path "$src" --scratch-path .build-baseline/build --product "$product" >/dev/null
  done
  echo ".build-baseline/build/release/agent-sandbox"
}

# `untracked_port PORT`: leaves a server's loopback connections on PORT out of connection tracking, as
# this tree's servers leave their own (ListenerFirewall's `notrack` chains). A server without such chains
# (a baseline from before them, a gateway, a reference proxy) alone in its namespace would not be tracked
# at all; beside this tree's server, whose table turns tracking on for the whole namespace, it would pay
# for it (about 2 us per call). Run inside the bench's namespace, which takes the table away with it.
untracked_port() {
  nft -f - <<NFT
table inet bench_untracked_$1 {
  chain out { type filter hook output priority raw; oif lo tcp dport $1 notrack; oif lo tcp sport $1 notrack; }
  chain pre { type filter hook prerouting priority raw; iif lo tcp dport $1 notrack; iif lo tcp sport $1 notrack; }
}
NFT
}
