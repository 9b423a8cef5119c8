// Package bench holds the benchmarks of the session middleware on every
// store (memstore, redisstore, redisstore behind cachestore), measured side
// by side; docs/benchmarks.md reports them.
//
// It is a module of its own, never imported, so that comparing the stores
// does not make the library's modules require one another: wxsession stays
// free of go-redis, and redisstore free of cachestore.
package bench
