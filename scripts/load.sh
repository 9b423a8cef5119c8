#!/usr/bin/env bash
# Runs `yibi loadgen` against `yibi serve` in production mode on real
# stores, as docs/benchmarks.md reports it: sessions in Redis (a
# redis-server of its own), paints in SQLite or in FerretDB (the
# MongoDB-wire server of the tests), the WeChat code exchange served by
# loadgen's own simulator (-run-sim). Client and server share the machine.
#
#   bash scripts/load.sh sqlite|ferretdb [loadgen flags]
#
# Loadgen flags default to `-users 200 -duration 60s -progress 10s`; given
# flags replace them. Everything lands in .cache/load/<store>-<UTC time>/:
# loadgen.txt (the report), yibi.log, and with PROFILE=1 a 20 s CPU profile
# of yibi taken from the middle of the run (yibi.cpu) and one of FerretDB's
# whole run (ferretdb.cpu); read them with `go tool pprof -top FILE`.
#
# Environment:
#   MONGO_QUERY   appended to the MongoDB URI, e.g. '?maxPoolSize=4'
#   PROFILE=1     take the CPU profiles
# Exit status: loadgen's (0 only with errors: 0 and lost: 0).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin="$root/.cache/bin"
store=${1:-}
case "$store" in
sqlite | ferretdb) shift ;;
*)
	echo "usage: bash scripts/load.sh sqlite|ferretdb [loadgen flags]" >&2
	exit 2
	;;
esac
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-users 200 -duration 60s -progress 10s)

command -v redis-server >/dev/null || {
	echo "redis-server not found: apt-get install redis-server" >&2
	exit 1
}
mkdir -p "$bin"
go build -o "$bin/yibi" ./cmd/yibi
[ "$store" = sqlite ] || (cd tools/ferretdb && GOWORK=off go build -o "$bin/ferretdb" .)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
out="$root/.cache/load/$store-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --logfile "$out/redis.log" &
pids+=($!)

appid=wxloadgen0000001 secret=loadgen-secret
sim=127.0.0.1:$(free_port)
port=$(free_port)
debug=127.0.0.1:$(free_port)
env=(YIBI_PORT="$port" YIBI_APP_ID="$appid" YIBI_APP_SECRET="$secret" YIBI_WECHAT_API_URL="http://$sim"
	YIBI_REDIS_URL="redis://127.0.0.1:$redis_port/0" YIBI_DATA_DIR="$out/data" YIBI_LOG_LEVEL=warn
	YIBI_DEBUG_ADDR="$debug"
	# Every simulated user logs in from 127.0.0.1: no per-IP login limit.
	YIBI_LOGIN_BURST_PER_IP=0)
if [ "$store" = ferretdb ]; then
	fdb_port=$(free_port)
	prof=()
	[ "${PROFILE:-}" != 1 ] || prof=(-cpuprofile "$out/ferretdb.cpu")
	"$bin/ferretdb" -listen "127.0.0.1:$fdb_port" -dir "$out/ferretdb" "${prof[@]}" >"$out/ferretdb.log" 2>&1 &
	pids+=($!)
	env+=(YIBI_MONGO_URI="mongodb://127.0.0.1:$fdb_port/${MONGO_QUERY:-}")
fi
env -u YIBI_MONGO_URI "${env[@]}" "$bin/yibi" serve >"$out/yibi.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$port"
for _ in $(seq 100); do
	"$bin/yibi" healthcheck "$url/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
"$bin/yibi" healthcheck "$url/readyz" >/dev/null 2>&1 || {
	echo "yibi did not become ready on $url:" >&2
	cat "$out/yibi.log" >&2
	exit 1
}

prof_pid=
if [ "${PROFILE:-}" = 1 ]; then
	(sleep 20 && curl -s -o "$out/yibi.cpu" "http://$debug/debug/pprof/profile?seconds=20") &
	prof_pid=$!
fi
echo "yibi serve on $url: sessions in Redis, paints in $store; output in ${out#"$root"/}"
echo "+ yibi loadgen -url $url -run-sim $sim -appid $appid -secret … ${flags[*]}"
status=0
"$bin/yibi" loadgen -url "$url" -run-sim "$sim" -appid "$appid" -secret "$secret" "${flags[@]}" 2>&1 | tee "$out/loadgen.txt" || status=$?
[ -z "$prof_pid" ] || wait "$prof_pid" || true
exit "$status"
