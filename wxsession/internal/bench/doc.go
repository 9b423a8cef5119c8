// Package bench holds the benchmarks of the session middleware on every
// store (memstore, redisstore with and without its tracked local cache), measured side
// by side; docs/benchmarks.md reports them.
//
// It is a module of its own, never imported, so that comparing the stores
// does not pull go-redis into the wxsession module.
package bench
