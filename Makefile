# The two commands of the README: `make run` (or `go run ./cmd/yibi`) and `make test`.
.PHONY: run test bench
run:
	go run ./cmd/yibi
test:
	bash scripts/test.sh
bench:
	bash scripts/bench.sh
