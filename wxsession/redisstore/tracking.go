package redisstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Tracking timings. A dead connection that the kernel does not report (a
// network partition rather than a closed socket) is noticed when no PONG
// has come back within trackDeadline.
const (
	trackPing     = 500 * time.Millisecond
	trackDeadline = 2 * time.Second
	trackRetryMin = 50 * time.Millisecond
	trackRetryMax = 2 * time.Second
)

// errNoTracking means the server does not know RESP3 or CLIENT TRACKING
// (Redis before 6, or a proxy that does not pass them on): the store then
// runs without a cache and does not try again. Any other refusal (a
// password being changed, BUSY, LOADING) is errRefused: tried again.
var (
	errNoTracking = errors.New("redisstore: server has no RESP3 client tracking")
	errRefused    = errors.New("redisstore: server refused client tracking")
)

// unsupported reports whether an error reply to HELLO or CLIENT TRACKING
// means the server cannot track at all, rather than not now.
func unsupported(reply string) bool {
	r := strings.ToLower(reply)
	return strings.HasPrefix(r, "noproto") || strings.Contains(r, "unknown command") || strings.Contains(r, "unknown subcommand")
}

// tracker keeps one dedicated RESP3 connection in broadcast tracking mode
// (CLIENT TRACKING on BCAST PREFIX <prefix>): Redis pushes the name of
// every key under the prefix that changes, expires or is evicted, whoever
// changed it. A goroutine blocks reading that connection, so an
// invalidation reaches the cache as soon as it arrives, without polling.
//
// The cache is live only while the connection is: whenever it breaks the
// cache is flushed and stays off (every Get asks Redis) until tracking is
// on again on a new connection, whose first act is another flush, since
// invalidations sent in between were lost.
type tracker struct {
	dial   func(ctx context.Context) (net.Conn, error)
	hello  []any
	prefix string
	cache  *cache

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	conn net.Conn // the live connection, for Close

	up atomic.Bool // tracking is on; read by tests and Tracking

	log *slog.Logger // tells when the cache is off for a reason Redis gave
}

// newTracker starts tracking prefix for c, which must be a single-node or
// Sentinel client (*redis.Client). The connection is dialled with the
// client's own dialer (TLS, Sentinel's master lookup) and credentials.
func newTracker(c *redis.Client, prefix string, ch *cache, log *slog.Logger) *tracker {
	opt := c.Options()
	hello := []any{"HELLO", 3}
	user, pass := opt.Username, opt.Password
	if opt.CredentialsProvider != nil {
		user, pass = opt.CredentialsProvider()
	}
	if pass != "" {
		if user == "" {
			user = "default"
		}
		hello = append(hello, "AUTH", user, pass)
	}
	hello = append(hello, "SETNAME", "yibi-session-tracking")
	dialer := opt.Dialer
	ctx, cancel := context.WithCancel(context.Background())
	t := &tracker{
		dial: func(ctx context.Context) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, max(opt.DialTimeout, time.Second))
			defer cancel()
			return dialer(ctx, opt.Network, opt.Addr)
		},
		hello:  hello,
		prefix: prefix,
		cache:  ch,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		log:    log,
	}
	go t.run()
	return t
}

// run keeps a tracking connection up until Close.
func (t *tracker) run() {
	defer close(t.done)
	wait := trackRetryMin
	refused := false // a refusal is logged once until tracking is on again
	for t.ctx.Err() == nil {
		start := time.Now()
		err := t.session()
		if t.up.Load() {
			refused = false
		}
		t.down()
		switch {
		case errors.Is(err, errNoTracking):
			t.log.Warn("redisstore: Redis cannot track keys; every session check asks Redis", "err", err)
			return
		case errors.Is(err, errRefused) && !refused:
			t.log.Warn("redisstore: Redis refused client tracking; every session check asks Redis until it accepts", "err", err)
			refused = true
		}
		if time.Since(start) > trackRetryMax {
			wait = trackRetryMin // it was up for a while: retry at once
		}
		select {
		case <-t.ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, trackRetryMax)
	}
}

// down turns the cache off and empties it, before Tracking reports false:
// whoever sees tracking down finds the cache empty.
func (t *tracker) down() {
	t.cache.setLive(false)
	t.up.Store(false)
}

// session dials, turns tracking on, and applies invalidations until the
// connection fails or the tracker closes.
func (t *tracker) session() error {
	conn, err := t.dial(t.ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		conn.Close()
		return t.ctx.Err()
	}
	t.conn = conn
	t.mu.Unlock()
	defer conn.Close()

	r := bufio.NewReader(conn)
	setup := appendCommand(nil, t.hello...)
	setup = appendCommand(setup, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", t.prefix)
	// Only a master hears every write as it happens: a connection made
	// during a Sentinel failover can reach the old master, a replica by
	// now, which hears of writes late or not at all.
	setup = appendCommand(setup, "ROLE")
	conn.SetDeadline(time.Now().Add(trackDeadline))
	if _, err := conn.Write(setup); err != nil {
		return err
	}
	for _, what := range []string{"HELLO 3", "CLIENT TRACKING", "ROLE"} {
		v, err := readValue(r)
		if err != nil {
			return err
		}
		if v.kind == '-' || v.kind == '!' {
			if unsupported(v.str) {
				return fmt.Errorf("%w: %s: %s", errNoTracking, what, v.str)
			}
			return fmt.Errorf("%w: %s: %s", errRefused, what, v.str)
		}
		if what == "ROLE" && (len(v.elems) == 0 || v.elems[0].str != "master") {
			role := "unknown"
			if len(v.elems) > 0 {
				role = v.elems[0].str
			}
			return fmt.Errorf("%w: the server is a %s, not a master", errRefused, role)
		}
	}
	conn.SetWriteDeadline(time.Time{})

	// Invalidations sent before tracking was on here are lost to us: start
	// from an empty cache.
	t.cache.setLive(true)
	t.up.Store(true)

	pingErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		ping := appendCommand(nil, "PING")
		tick := time.NewTicker(trackPing)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write(ping); err != nil {
					pingErr <- err
					conn.Close()
					return
				}
			}
		}
	}()
	for {
		conn.SetReadDeadline(time.Now().Add(trackDeadline))
		v, err := readValue(r)
		if err != nil {
			select {
			case perr := <-pingErr:
				return perr
			default:
			}
			return err
		}
		switch {
		case v.kind == '>' && len(v.elems) >= 2 && v.elems[0].str == "invalidate":
			keys := v.elems[1]
			if keys.null {
				// FLUSHALL / FLUSHDB, or the server ran out of tracking table.
				t.cache.flush()
				continue
			}
			for _, k := range keys.elems {
				t.cache.invalidate(k.str)
			}
		case v.kind == '-' || v.kind == '!':
			return fmt.Errorf("redisstore: tracking connection: %s", v.str)
		}
	}
}

// close stops the tracker and waits for its goroutine.
func (t *tracker) close() {
	t.cancel()
	t.mu.Lock()
	if t.conn != nil {
		t.conn.Close()
	}
	t.mu.Unlock()
	<-t.done
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...any) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		var s string
		switch a := a.(type) {
		case string:
			s = a
		case int:
			s = strconv.Itoa(a)
		default:
			panic(fmt.Sprintf("redisstore: appendCommand: %T", a))
		}
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, '\r', '\n')
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	return b
}

// respValue is one RESP3 value as the tracker needs it: a kind (the type
// byte), a string for scalars and errors, elements for aggregates (a map's
// keys and values alternate), null for RESP3 null and RESP2 nil.
type respValue struct {
	kind  byte
	str   string
	elems []respValue
	null  bool
}

// maxBulk bounds one string the tracker will read (key names, error
// texts); anything longer means a broken stream.
const maxBulk = 1 << 20

// readValue reads one RESP3 value. Attributes ('|') are read and dropped.
func readValue(r *bufio.Reader) (respValue, error) {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return respValue{}, err
		}
		if len(line) < 3 || line[len(line)-2] != '\r' {
			return respValue{}, errors.New("redisstore: tracking: malformed RESP line")
		}
		kind, body := line[0], string(line[1:len(line)-2])
		switch kind {
		case '+', '-', ':', ',', '(', '#':
			return respValue{kind: kind, str: body}, nil
		case '_':
			return respValue{kind: kind, null: true}, nil
		case '$', '!', '=':
			n, err := strconv.Atoi(body)
			if err != nil || n > maxBulk {
				return respValue{}, fmt.Errorf("redisstore: tracking: bad length %q", body)
			}
			if n < 0 {
				return respValue{kind: kind, null: true}, nil
			}
			buf := make([]byte, n+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return respValue{}, err
			}
			s := string(buf[:n])
			if kind == '=' && len(s) >= 4 {
				s = s[4:] // verbatim string: drop "txt:"
			}
			return respValue{kind: kind, str: s}, nil
		case '*', '~', '>', '%', '|':
			n, err := strconv.Atoi(body)
			if err != nil || n > maxBulk {
				return respValue{}, fmt.Errorf("redisstore: tracking: bad length %q", body)
			}
			if n < 0 {
				return respValue{kind: kind, null: true}, nil
			}
			if kind == '%' || kind == '|' {
				n *= 2
			}
			v := respValue{kind: kind, elems: make([]respValue, 0, n)}
			for range n {
				e, err := readValue(r)
				if err != nil {
					return respValue{}, err
				}
				v.elems = append(v.elems, e)
			}
			if kind == '|' {
				continue // an attribute precedes the value it describes
			}
			return v, nil
		default:
			return respValue{}, fmt.Errorf("redisstore: tracking: unknown RESP type %q", kind)
		}
	}
}
