#!/usr/bin/env bash
# A private Redis Cluster of 3 masters for the Node and Python cluster tests
# (bindings-node/.../test/redis-cluster.test.mjs, bindings-python/tests/test_redis_cluster_stores.py):
# three `redis-server --cluster-enabled yes` on free ports (their bus ports, +10000, free
# too) in a temporary directory, joined by `redis-cli --cluster create`. Prints one line,
# the URL `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, once every node reports
# cluster_state:ok, then waits for its standard input to close: the test holds the write
# end of a pipe, so the cluster goes away when the test closes it, exits, fails or is
# killed (even with SIGKILL). The nodes are killed and the directory removed on any exit.
# Needs redis-server and redis-cli (>= 5) on the PATH; prints an error and exits 1 without.
set -euo pipefail

command -v redis-server >/dev/null && command -v redis-cli >/dev/null \
  || { echo "redis-cluster: redis-server and redis-cli are required" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/authcore-cluster.XXXXXX")
pids=()
ports=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# A node on a random port in 20000-44999; another port if it does not come up as ours
# (port or bus port taken: redis-server exits; a process id check, so that a foreign server
# on that port is never mistaken for ours).
start_node() {
  local tries port pid i
  for tries in $(seq 1 20); do
    port=$((20000 + RANDOM % 25000))
    for p in "${ports[@]}"; do [ "$p" = "$port" ] && continue 2; done
    redis-server --cluster-enabled yes --port "$port" --bind 127.0.0.1 \
      --cluster-config-file "nodes-$port.conf" --dir "$dir" \
      --save "" --appendonly no --daemonize no --protected-mode no \
      --logfile "$dir/redis-$port.log" &
    pid=$!
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      if [ "$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$pid" ]; then
        pids+=("$pid")
        ports+=("$port")
        return 0
      fi
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "redis-cluster: could not start a node" >&2
  exit 1
}

for _ in 1 2 3; do start_node; done

nodes=()
for p in "${ports[@]}"; do nodes+=("127.0.0.1:$p"); done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
  || { cat "$dir/create.log" >&2; exit 1; }
for p in "${ports[@]}"; do
  for i in $(seq 1 300); do
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
    [ "$i" = 300 ] && { echo "redis-cluster: node $p never reported cluster_state:ok" >&2; exit 1; }
    sleep 0.05
  done
done

echo "redis+cluster://$(IFS=,; echo "${nodes[*]}")"
# Until the test closes our standard input (or dies).
cat >/dev/null || true
