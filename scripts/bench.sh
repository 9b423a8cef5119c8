#!/usr/bin/env bash
# Measures Yibi against its targets (docs/benchmarks.md): builds the yibi
# binary and cmd/yibibench, which runs two or three yibi processes side by
# side over loopback HTTP, interleaved, and prints a RESULT line per ratio:
# Redis ÷ memory sessions (empty and 3-paint list), group commit vs one
# transaction per save (rate and CPU per save), revocation across two
# instances, kill -9 of the server, and issue 13's upload numbers. Then,
# when asked, the go test micro-benchmarks and a loadgen run.
#
# Results go to stdout and to .cache/bench/bench-<UTC time>.txt.
#
# Environment:
#   BENCH_REPEAT=3         runs of yibibench (each run interleaves its sides)
#   BENCH_ROUNDS=5         interleaved rounds per comparison in one run
#   BENCH_BLOCK=2s         one side's block in a round
#   BENCH_CONC=32          concurrent clients
#   BENCH_ONLY=sessions,saves,revoke,kill9,upload   yibibench phases
#   BENCH_GO=0             1: also the go test benchmarks below
#   BENCH_COUNT=1          -count of go test (runs of each benchmark)
#   BENCH_TIME=2s          -benchtime of go test
#   BENCH_FILTER=.         -bench regexp
#   BENCH_PKGS="…"         packages to benchmark (default: all with benchmarks)
#   LOADGEN_DURATION=skip  length of a loadgen run (e.g. 10s; 0 or "skip": none)
#   LOADGEN_USERS=20       simulated users of the loadgen run
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin="$root/.cache/bin"
out_dir="$root/.cache/bench"
mkdir -p "$bin" "$out_dir"

count=${BENCH_COUNT:-1}
benchtime=${BENCH_TIME:-2s}
filter=${BENCH_FILTER:-.}
repeat=${BENCH_REPEAT:-3}
rounds=${BENCH_ROUNDS:-5}
block=${BENCH_BLOCK:-2s}
conc=${BENCH_CONC:-32}
only=${BENCH_ONLY:-sessions,saves,revoke,kill9,upload}
pkgs=${BENCH_PKGS:-"./wxsession ./wxsession/internal/bench ./wxsession/memstore ./internal/sqlite ./internal/mongo ./internal/server"}
lg_duration=${LOADGEN_DURATION:-skip}
lg_users=${LOADGEN_USERS:-20}

out="$out_dir/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee "$out") 2>&1
step() { printf '\n== %s\n' "$*"; }

step "machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
go version
echo "yibibench: repeat=$repeat rounds=$rounds block=$block conc=$conc only=$only; go test (BENCH_GO=${BENCH_GO:-0}): count=$count benchtime=$benchtime filter=$filter"

step "yibibench: the real yibi over loopback HTTP, sides interleaved"
command -v redis-server >/dev/null || {
	echo "redis-server not found: apt-get install redis-server" >&2
	exit 1
}
go build -o "$bin/yibi" ./cmd/yibi
go build -o "$bin/yibibench" ./cmd/yibibench
status=0
# The RESULT lines, collected apart: grepping $out while tee writes it
# would read the summary back in.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for i in $(seq "$repeat"); do
	step "yibibench run $i of $repeat"
	set +e
	"$bin/yibibench" -yibi "$bin/yibi" -only "$only" -rounds "$rounds" -block "$block" -conc "$conc" |
		tee /dev/stderr | grep '^RESULT' | sed "s/^RESULT/run $i:/" >>"$results"
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
	set -e
done
step "summary: the RESULT lines of every run"
cat "$results"
if [ "${BENCH_GO:-0}" != 1 ]; then
	printf '\nresults: %s\n' "${out#"$root"/}"
	exit "$status"
fi

step "services"
if ! command -v redis-server >/dev/null; then
	echo "redis-server not found: apt-get install redis-server (the Redis benchmarks need it)" >&2
	exit 1
fi
echo "redis-server: $(redis-server --version | head -1)"
if [ -z "${YIBI_FERRETDB_BIN:-}" ]; then
	(cd tools/ferretdb && GOWORK=off go build -o "$bin/ferretdb" .)
	export YIBI_FERRETDB_BIN="$bin/ferretdb"
fi
echo "ferretdb: $YIBI_FERRETDB_BIN"
# A missing server fails the benchmark instead of skipping it.
export YIBI_REQUIRE_SERVICES=1

step "go test -bench"
for pkg in $pkgs; do
	# One package at a time: benchmarks of two packages must not share
	# the two cores.
	go test -run='^$' -bench="$filter" -benchmem -count="$count" -benchtime="$benchtime" -timeout 30m "$pkg"
done

step "summary (ratios measured side by side in one run; see docs/benchmarks.md)"
grep -E '^Benchmark(MiddlewareHTTP|List/.*/conc|Heap100k)' "$out" |
	awk '{
		line = $1
		for (i = 2; i < NF; i++) {
			if ($(i+1) ~ /^(ratio|rps-ratio|mw-rps-ratio|heap-MB|heap-B\/session)$/) line = line "  " $(i+1) "=" $i
		}
		print line
	}' || true

step "yibi loadgen against a development-mode yibi"
if [ "$lg_duration" = "0" ] || [ "$lg_duration" = "skip" ]; then
	echo "skipped: LOADGEN_DURATION=$lg_duration"
else
	go build -o "$bin/yibi" ./cmd/yibi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
	data=$(mktemp -d)
	log="$data/yibi.log"
	# Development mode: no app id and secret, the simulator at /wechat.
	env -u YIBI_APP_ID -u YIBI_APP_SECRET -u YIBI_REDIS_URL -u YIBI_MONGO_URI \
		YIBI_PORT="$port" YIBI_DATA_DIR="$data" YIBI_LOG_LEVEL=warn "$bin/yibi" serve >"$log" 2>&1 &
	yibi_pid=$!
	cleanup() {
		kill "$yibi_pid" 2>/dev/null || true
		wait "$yibi_pid" 2>/dev/null || true
		rm -rf "$data"
	}
	trap cleanup EXIT
	url="http://127.0.0.1:$port"
	for _ in $(seq 100); do
		"$bin/yibi" healthcheck "$url/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! "$bin/yibi" healthcheck "$url/healthz" >/dev/null 2>&1; then
		echo "yibi did not come up on $url:" >&2
		cat "$log" >&2
		exit 1
	fi
	echo "yibi serve (development mode, SQLite, memory sessions) on $url"
	echo "+ yibi loadgen -url $url -users $lg_users -duration $lg_duration"
	"$bin/yibi" loadgen -url "$url" -users "$lg_users" -duration "$lg_duration"
fi

printf '\nresults: %s\n' "${out#"$root"/}"
