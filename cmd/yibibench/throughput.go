package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yibi/yibi/internal/loadgen"
	"github.com/yibi/yibi/internal/sqlite"
)

// block runs op from conc goroutines for d and returns the operations
// done per second; the first error stops the block.
func block(ctx context.Context, d time.Duration, conc int, op func(ctx context.Context, worker int) error) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var n atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range conc {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if err := op(ctx, w); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), first
}

// side is one yibi of a comparison with the codes of its users.
type side struct {
	srv   *server
	codes []string
}

// loginAll logs n users (prefix-0 … prefix-(n-1)) in on each side.
func (e *env) loginAll(ctx context.Context, sides []*side, prefix string, n int) error {
	for _, s := range sides {
		for i := range n {
			// Users of their own per side: sides on one Redis share
			// sessions, and a login revokes the user's code elsewhere.
			code, err := e.login(ctx, s.srv, fmt.Sprintf("%s%s-%d", prefix, s.srv.name, i))
			if err != nil {
				return err
			}
			s.codes = append(s.codes, code)
		}
	}
	return nil
}

// benchSessions: an authenticated list (empty, 3 paints of 2 KB) on a
// yibi with memory sessions, one with Redis sessions and the tracked cache
// (the default) and one with Redis sessions and no cache.
func benchSessions(ctx context.Context, e *env, o options) error {
	redis, err := e.startRedis()
	if err != nil {
		return err
	}
	mem, err := e.startServer("memory", filepath.Join(e.dir, "s-mem"))
	if err != nil {
		return err
	}
	cached, err := e.startServer("redis", filepath.Join(e.dir, "s-redis"), "YIBI_REDIS_URL="+redis)
	if err != nil {
		return err
	}
	nocache, err := e.startServer("redis-nocache", filepath.Join(e.dir, "s-nocache"), "YIBI_REDIS_URL="+redis, "YIBI_SESSION_CACHE_ENTRIES=0")
	if err != nil {
		return err
	}
	// One user per client per side for the empty list; one user with
	// three paints, shared by all clients, for the other.
	sides := []*side{{srv: mem}, {srv: cached}, {srv: nocache}}
	if err := e.loginAll(ctx, sides, "empty-", o.conc); err != nil {
		return err
	}
	// v2 bearer tokens of other users, for the same empty list.
	tokens := make([][]string, len(sides))
	for i, s := range sides {
		for w := range o.conc {
			tok, err := e.loginV2(ctx, s.srv, fmt.Sprintf("v2-%s-%d", s.srv.name, w))
			if err != nil {
				return err
			}
			tokens[i] = append(tokens[i], tok)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	full := make([]string, len(sides))
	for i, s := range sides {
		code, err := e.login(ctx, s.srv, fmt.Sprint("full-", i))
		if err != nil {
			return err
		}
		full[i] = code
		for range 3 {
			d := loadgen.NewDrawing(rng)
			for len(d.Actions()) < 2000 {
				d.AddStrokes(1, 10)
			}
			if err := e.save(ctx, s.srv, code, d.ID, d.Actions()); err != nil {
				return err
			}
		}
	}
	for _, list := range []string{"empty", "3-paint", "empty-v2"} {
		fmt.Printf("%s list, %d clients, %d rounds of %v per side (order rotates each round):\n", list, o.conc, o.rounds, o.block)
		var rCached, rNo []float64
		for round := -1; round < o.rounds; round++ { // round -1 warms up, unmeasured
			rates := make([]float64, len(sides))
			order := []int{0, 1, 2}
			if round%2 != 0 {
				order = []int{2, 1, 0}
			}
			for _, i := range order {
				s := sides[i]
				want := -1
				rate, err := block(ctx, o.block, o.conc, func(ctx context.Context, w int) error {
					code := s.codes[w]
					switch list {
					case "3-paint":
						code = full[i]
					case "empty-v2":
						code = tokens[i][w]
					}
					status, body, err := e.call(ctx, s.srv, code, base+"/list", nil)
					if err != nil {
						return err
					}
					if status != http.StatusOK {
						return fmt.Errorf("%s: list answered %d %s", s.srv.name, status, body)
					}
					if want < 0 {
						want = len(body)
					} else if len(body) != want {
						return fmt.Errorf("%s: list of %d bytes, want %d", s.srv.name, len(body), want)
					}
					return nil
				})
				if err != nil {
					return err
				}
				rates[i] = rate
			}
			if round < 0 {
				continue
			}
			rCached = append(rCached, rates[1]/rates[0])
			rNo = append(rNo, rates[2]/rates[0])
			fmt.Printf("  round %d: memory %.0f req/s, redis %.0f, redis-nocache %.0f (load %s)\n", round+1, rates[0], rates[1], rates[2], loadavg())
		}
		target := 0.95 // the issue sets it for v1 codes; v2 tokens go through the same cache
		if list == "3-paint" {
			target = 0.97
		}
		med := median(sorted(rCached))
		fmt.Printf("RESULT sessions %s: redis (tracked cache) ÷ memory: %s; target ≥ %.2f on the median: %s\n", list, spread(rCached), target, verdict(med >= target))
		fmt.Printf("RESULT sessions %s: redis (no cache) ÷ memory: %s\n", list, spread(rNo))
	}
	return nil
}

func sorted(xs []float64) []float64 { return slices.Sorted(slices.Values(xs)) }

// save is a v1 save: actions sent as a JSON string.
func (e *env) save(ctx context.Context, s *server, code, id, actions string) error {
	body, _ := json.Marshal(map[string]string{"id": id, "actions": actions})
	return e.post(ctx, s, code, "/save", body)
}

// benchSaves: v1 saves from conc clients, each replacing its own paint,
// on a yibi with group commit (the default) and one with one transaction
// per save (sqlite.BenchMaxGroupEnv=1); rate and CPU per save of the yibi
// process.
func benchSaves(ctx context.Context, e *env, o options) error {
	var debug []string
	var debugAddr string
	if o.profile != "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		debugAddr = fmt.Sprint("127.0.0.1:", port)
		debug = []string{"YIBI_DEBUG_ADDR=" + debugAddr}
	}
	group, err := e.startServer("group", filepath.Join(e.dir, "g-group"), debug...)
	if err != nil {
		return err
	}
	single, err := e.startServer("single", filepath.Join(e.dir, "g-single"), sqlite.BenchMaxGroupEnv+"=1")
	if err != nil {
		return err
	}
	rate, cpu, err := compareSaves(ctx, e, o, group, single, debugAddr)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT saves rate, group ÷ one tx per save: %s; target ≥ 2 on the median: %s\n", spread(rate), verdict(median(sorted(rate)) >= 2))
	fmt.Printf("RESULT saves CPU per save, group ÷ one tx per save: %s; target ≤ 0.5 on the median: %s\n", spread(cpu), verdict(median(sorted(cpu)) <= 0.5))
	return nil
}

// benchSaveCPU: the same saves on this yibi and on the -base binary, both
// with group commit: what a change to the save path did.
func benchSaveCPU(ctx context.Context, e *env, o options) error {
	if o.base == "" {
		return errors.New("savecpu needs -base")
	}
	this, err := e.startServer("this", filepath.Join(e.dir, "c-this"))
	if err != nil {
		return err
	}
	old, err := e.startServer("base", filepath.Join(e.dir, "c-base"))
	if err != nil {
		return err
	}
	old.bin = o.base
	if err := e.restart(old); err != nil {
		return err
	}
	rate, cpu, err := compareSaves(ctx, e, o, this, old, "")
	if err != nil {
		return err
	}
	fmt.Printf("RESULT savecpu rate, %s ÷ %s: %s\n", e.yibi, o.base, spread(rate))
	fmt.Printf("RESULT savecpu CPU per save, %s ÷ %s: %s\n", e.yibi, o.base, spread(cpu))
	return nil
}

// compareSaves runs v1 saves on a and b in turns and returns the ratios
// a ÷ b of each round: saves per second and CPU per save. With debugAddr,
// a CPU profile of a is taken during its last block.
func compareSaves(ctx context.Context, e *env, o options, a, b *server, debugAddr string) (rate, cpu []float64, err error) {
	sides := []*side{{srv: a}, {srv: b}}
	if err := e.loginAll(ctx, sides, "saver-", o.conc); err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	d := loadgen.NewDrawing(rng)
	for len(d.Actions()) < 2000 {
		d.AddStrokes(1, 10)
	}
	body := make([][]byte, o.conc)
	for w := range o.conc {
		body[w], _ = json.Marshal(map[string]string{"id": fmt.Sprintf("paint-%d", w), "actions": d.Actions()})
	}
	fmt.Printf("v1 saves of %d bytes of actions, %d clients each replacing its own paint, %d rounds of %v per side:\n", len(d.Actions()), o.conc, o.rounds, o.block)
	for round := -1; round < o.rounds; round++ { // round -1 warms up, unmeasured
		rates := make([]float64, 2)
		cpus := make([]float64, 2)
		order := []int{0, 1}
		if round%2 != 0 {
			order = []int{1, 0}
		}
		for _, i := range order {
			s := sides[i]
			pid := s.srv.cmd.Process.Pid
			t0, err := cpuTicks(pid)
			if err != nil {
				return nil, nil, err
			}
			var prof chan error
			if i == 0 && round == o.rounds-1 && debugAddr != "" {
				prof = make(chan error, 1)
				go func() {
					prof <- e.fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, max(1, int(o.block.Seconds()))), o.profile)
				}()
			}
			var n atomic.Int64
			r, err := block(ctx, o.block, o.conc, func(ctx context.Context, w int) error {
				status, answer, err := e.call(ctx, s.srv, s.codes[w], base+"/save", body[w])
				if err != nil {
					return err
				}
				if status != http.StatusOK {
					return fmt.Errorf("%s: save answered %d %s", s.srv.name, status, answer)
				}
				n.Add(1)
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
			if prof != nil {
				if err := <-prof; err != nil {
					return nil, nil, err
				}
				fmt.Printf("  CPU profile of %s's last block: %s\n", s.srv.name, o.profile)
			}
			t1, err := cpuTicks(pid)
			if err != nil {
				return nil, nil, err
			}
			rates[i] = r
			cpus[i] = float64(time.Duration(t1-t0)*clockTick) / float64(time.Microsecond) / float64(n.Load())
		}
		if round < 0 {
			continue
		}
		rate = append(rate, rates[0]/rates[1])
		cpu = append(cpu, cpus[0]/cpus[1])
		fmt.Printf("  round %[2]d: %[1]s %.0[3]f saves/s %.0[4]f µs CPU/save; %[5]s %.0[6]f saves/s %.0[7]f µs CPU/save (load %[8]s)\n",
			a.name, round+1, rates[0], cpus[0], b.name, rates[1], cpus[1], loadavg())
	}
	return rate, cpu, nil
}

// fetch GETs url into the file path.
func (e *env) fetch(url, path string) error {
	resp, err := e.client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
