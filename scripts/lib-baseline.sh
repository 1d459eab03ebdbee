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
