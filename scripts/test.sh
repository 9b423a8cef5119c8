#!/usr/bin/env bash
# Runs every Yibi test suite. On a fresh Debian machine it first installs what
# the suites need: Redis, nginx, Chromium and OpenSSL from Debian's packages,
# npm packages for the JavaScript clients, and FerretDB built from the Go
# module proxy. Each suite starts its own servers on loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin="$root/.cache/bin"
mkdir -p "$bin"
step() { printf '\n== %s\n' "$*"; }

step "system packages"
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || missing+=(nginx)
command -v chromium >/dev/null || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
# Chinese text in the browser tests' screenshots.
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
if ((${#missing[@]})); then
	# Package scripts must not start services: the tests start their own.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi
echo "ok: redis-server nginx chromium openssl fonts-wqy-microhei"

step "FerretDB (test-only MongoDB-wire server)"
(cd tools/ferretdb && GOWORK=off go build -o "$bin/ferretdb" .)
export YIBI_FERRETDB_BIN="$bin/ferretdb"
export YIBI_REQUIRE_SERVICES=1

step "npm packages for the JavaScript clients (also used by Go tests that drive Chromium)"
(cd clients && npm ci --no-audit --no-fund --loglevel=error)

step "yibi binary"
go build -o "$bin/yibi" ./cmd/yibi
export YIBI_BIN="$bin/yibi"

# go.work joins the app's module and the session library's modules
# (wechat, wxsession, wxsession/redisstore, …). `./...` covers only the
# module of the current directory, so the Go steps name them all by their
# common path prefix, which matches every workspace module's packages.
all=github.com/yibi/yibi/...

step "gofmt, go vet, go mod tidy"
unformatted=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
go vet "$all"
# Each module must be tidy on its own (GOWORK=off: as a user builds it).
for mod in $(go list -m -f '{{.Dir}}') tools/ferretdb; do
	(cd "$mod" && GOWORK=off go mod tidy -diff) || { echo "go mod tidy would change $mod"; exit 1; }
done

step "go test -race"
go test -race -count=1 -timeout 20m "$all"

step "bounds the race detector would distort (run again without it)"
# -race multiplies memory and slows rendering and the scheduler, so under
# it these tests loosen their bounds; here they hold the real ones: peak
# RSS of ten concurrent lists, the renderer's time on hostile drawings and
# on the largest paint at full width, revocation across instances in 10 ms.
go test -count=1 -run '^TestListMemory$' ./internal/api
go test -count=1 -run '^TestHostileDrawingsAreBounded$' ./internal/render
go test -count=1 -run '^TestImage$/./^LargestPaintWithinBound$' ./internal/server
go test -count=1 -run '^TestRevocationAcrossInstances$' github.com/yibi/yibi/wxsession/redisstore

step "fuzz (brief)"
go test -run='^$' -fuzz='^FuzzHeaders$' -fuzztime=20s ./wxsession
go test -run='^$' -fuzz='^FuzzUserUnmarshal$' -fuzztime=10s ./wxsession
go test -run='^$' -fuzz='^FuzzBearer$' -fuzztime=10s ./wxsession
go test -run='^$' -fuzz='^FuzzWriteList$' -fuzztime=10s ./internal/api
go test -run='^$' -fuzz='^FuzzRender$' -fuzztime=10s ./internal/render
go test -run='^$' -fuzz='^FuzzDecrypt$' -fuzztime=10s github.com/yibi/yibi/wechat

step "JavaScript clients (node --test, Playwright on Chromium)"
(cd clients && node --test)
