package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yibi/yibi/internal/loadgen"
)

// benchRevoke: two yibi on one Redis (tracked cache on, the default). A
// user's code is read on B (so B caches it), then A re-logs the user in
// or logs the code out; B is asked with the old code until it refuses.
// The time is from A's answer to B's first refusal.
func benchRevoke(ctx context.Context, e *env, o options) error {
	redis, err := e.startRedis()
	if err != nil {
		return err
	}
	a, err := e.startServer("A", filepath.Join(e.dir, "r-a"), "YIBI_REDIS_URL="+redis)
	if err != nil {
		return err
	}
	b, err := e.startServer("B", filepath.Join(e.dir, "r-b"), "YIBI_REDIS_URL="+redis)
	if err != nil {
		return err
	}
	// v1: a re-login revokes the user's old code, and so does a logout.
	// v2: a logout revokes its token, and a login past the cap of
	// sessions per user (5 by default) the oldest token.
	for _, kind := range []string{"re-login", "logout", "v2-logout", "v2-cap"} {
		var ms []float64
		for i := range o.trials {
			user := fmt.Sprintf("revoke-%s-%d", kind, i)
			var code string
			var err error
			if strings.HasPrefix(kind, "v2") {
				code, err = e.loginV2(ctx, a, user)
			} else {
				code, err = e.login(ctx, a, user)
			}
			if err != nil {
				return err
			}
			for range 3 { // B reads it: now in B's cache
				if status, body, err := e.call(ctx, b, code, base+"/list", nil); err != nil || status != http.StatusOK {
					return fmt.Errorf("B before revocation: %d %s %v", status, body, err)
				}
			}
			if kind == "v2-cap" {
				for range 4 { // sessions 2..5: the first still lives
					if _, err := e.loginV2(ctx, a, user); err != nil {
						return err
					}
				}
				if status, body, err := e.call(ctx, b, code, base+"/list", nil); err != nil || status != http.StatusOK {
					return fmt.Errorf("B with the first of 5 tokens: %d %s %v", status, body, err)
				}
			}
			switch kind {
			case "re-login":
				_, err = e.login(ctx, a, user)
			case "v2-cap":
				_, err = e.loginV2(ctx, a, user) // the 6th: the first goes
			default:
				status, body, lerr := e.call(ctx, a, code, "/applet/session/logout", []byte("{}"))
				if err = lerr; err == nil && status != http.StatusOK {
					err = fmt.Errorf("logout on A: %d %s", status, body)
				}
			}
			if err != nil {
				return err
			}
			t0 := time.Now()
			for {
				status, body, err := e.call(ctx, b, code, base+"/list", nil)
				if err != nil {
					return err
				}
				if status != http.StatusOK {
					if !bytes.Contains(body, []byte("ERR_SESSION_EXPIRED")) {
						return fmt.Errorf("B refused with %d %s, want ERR_SESSION_EXPIRED", status, body)
					}
					break
				}
				if time.Since(t0) > 2*time.Second {
					return fmt.Errorf("%s trial %d: B still accepts the old code after 2 s", kind, i)
				}
			}
			ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
		}
		s := slices.Sorted(slices.Values(ms))
		fmt.Printf("RESULT revoke %s on A, refused on B, %d trials: median %.2f ms, max %.2f ms (all: %s ms); target every trial ≤ 10 ms: %s\n",
			kind, len(ms), median(s), s[len(s)-1], fmtList(ms), verdict(s[len(s)-1] <= 10))
	}
	return nil
}

func fmtList(xs []float64) string {
	p := make([]string, len(xs))
	for i, x := range xs {
		p[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(p, " ")
}

// benchKill9: 8 clients append (each to its own paint, one element per
// append, so the drawing says which appends it holds) and 8 save (each
// save a drawing of one element numbering it) for 2 s; the server is
// killed with SIGKILL mid-stream, restarted on the same data, and every
// acknowledged append and save must be there.
func benchKill9(ctx context.Context, e *env, o options) error {
	srv, err := e.startServer("kill9", filepath.Join(e.dir, "k"))
	if err != nil {
		return err
	}
	const writers = 16
	codes := make([]string, writers)
	for w := range writers {
		if codes[w], err = e.login(ctx, srv, fmt.Sprint("kill9-", w)); err != nil {
			return err
		}
	}
	acked := make([]int64, writers) // last acknowledged number per writer
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprint("k", w)
			for n := int64(1); ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var body []byte
				path := base + "/save"
				if w%2 == 0 {
					path = base + "/append"
					body, _ = json.Marshal(map[string]any{"id": id, "rev": n - 1, "actions": json.RawMessage(fmt.Sprintf(`[{"method":"lineTo","data":[%d,%d]}]`, w, n))})
				} else {
					body, _ = json.Marshal(map[string]string{"id": id, "actions": fmt.Sprintf(`[{"method":"lineTo","data":[%d,%d]}]`, w, n)})
				}
				status, _, err := e.call(ctx, srv, codes[w], path, body)
				if err != nil || status != http.StatusOK {
					return // the kill
				}
				mu.Lock()
				acked[w] = n
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second)
	mu.Lock()
	if err := srv.kill9(); err != nil {
		mu.Unlock()
		return err
	}
	final := slices.Clone(acked)
	mu.Unlock()
	close(stop)
	wg.Wait()
	if err := e.run(srv); err != nil { // same data directory
		return err
	}
	var total int64
	var bad []string
	for w := range writers {
		code, err := e.login(ctx, srv, fmt.Sprint("kill9-", w))
		if err != nil {
			return err
		}
		status, body, err := e.call(ctx, srv, code, base+"/get?id="+fmt.Sprint("k", w), nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			bad = append(bad, fmt.Sprintf("k%d: acknowledged %d, get answered %d %s", w, final[w], status, body))
			continue
		}
		var got struct {
			Data struct {
				Actions string `json:"actions"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			return err
		}
		var acts []struct{ Data []int64 }
		if err := json.Unmarshal([]byte(got.Data.Actions), &acts); err != nil {
			return err
		}
		total += final[w]
		if w%2 == 0 { // appends: elements 1..n in order, n ≥ acknowledged
			ok := int64(len(acts)) >= final[w]
			for k, a := range acts {
				ok = ok && len(a.Data) == 2 && a.Data[1] == int64(k+1)
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("k%d: acknowledged %d appends, stored %s", w, final[w], shorten(got.Data.Actions)))
			}
		} else if len(acts) != 1 || acts[0].Data[1] < final[w] {
			bad = append(bad, fmt.Sprintf("k%d: acknowledged save %d, stored %s", w, final[w], got.Data.Actions))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	if total < 100 {
		return fmt.Errorf("only %d writes acknowledged before the kill: not a real run", total)
	}
	fmt.Printf("RESULT kill9: %d writes acknowledged over HTTP (appends and v1 saves, %d clients) before SIGKILL; after restart all %d present\n", total, writers, total)
	return nil
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// benchUpload: issue 13's numbers. Bytes of request bodies for a
// 200-stroke drawing saved after every stroke, v1 (the whole drawing each
// time) vs append (the new stroke); then the latency of a v1 save of a
// drawing of about 1 MiB vs an append of one stroke to such a drawing,
// interleaved.
func benchUpload(ctx context.Context, e *env, o options) error {
	srv, err := e.startServer("upload", filepath.Join(e.dir, "u"))
	if err != nil {
		return err
	}
	code, err := e.login(ctx, srv, "upload")
	if err != nil {
		return err
	}
	const strokes, points = 200, 20
	rng := rand.New(rand.NewPCG(5, 6))
	d := loadgen.NewDrawing(rng)
	var v1, app int64
	for i := range strokes {
		prev := len(d.Actions()) - 1 // without ']'
		d.AddStrokes(1, points)
		all := d.Actions()
		stroke := "[" + strings.TrimPrefix(all[prev:len(all)-1], ",") + "]"
		body, _ := json.Marshal(map[string]string{"id": d.ID, "actions": all})
		if err := e.post(ctx, srv, code, "/save", body); err != nil {
			return err
		}
		v1 += int64(len(body))
		body, _ = json.Marshal(map[string]any{"id": "append-" + d.ID, "rev": i, "actions": json.RawMessage(stroke)})
		if err := e.post(ctx, srv, code, "/append", body); err != nil {
			return err
		}
		app += int64(len(body))
	}
	// Both paints now hold the same drawing.
	var same [2]string
	for i, id := range []string{d.ID, "append-" + d.ID} {
		status, body, err := e.call(ctx, srv, code, base+"/get?id="+id, nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("get %s: %d %s %v", id, status, body, err)
		}
		var got struct {
			Data struct{ Actions string } `json:"data"`
		}
		json.Unmarshal(body, &got)
		same[i] = got.Data.Actions
	}
	if same[0] != d.Actions() || same[1] != d.Actions() {
		return errors.New("the saved and the appended drawing differ from the drawing")
	}
	fmt.Printf("RESULT upload 200 strokes of %d points (%d bytes of actions): v1 whole saves %d bytes of request bodies, appends %d bytes: %.0f× less; target ≫ 50×: %s\n",
		points, len(d.Actions()), v1, app, float64(v1)/float64(app), verdict(float64(v1)/float64(app) > 50))

	// A drawing of about 1 MiB, under the 1 MiB actions limit with room
	// for the appends.
	big := loadgen.NewDrawing(rng)
	for len(big.Actions()) < 1000000 {
		big.AddStrokes(1, points)
	}
	bigSize := len(big.Actions())
	bigSave, _ := json.Marshal(map[string]string{"id": "big-save", "actions": big.Actions()})
	appendID := "big-append"
	if err := e.post(ctx, srv, code, "/save", []byte(strings.Replace(string(bigSave), "big-save", appendID, 1))); err != nil {
		return err
	}
	rev := int64(1)
	n := 4 * o.rounds
	var tSave, tApp []float64
	for range n {
		t0 := time.Now()
		if err := e.post(ctx, srv, code, "/save", bigSave); err != nil {
			return err
		}
		tSave = append(tSave, float64(time.Since(t0).Microseconds())/1000)
		prev := len(big.Actions()) - 1
		big.AddStrokes(1, points)
		all := big.Actions()
		stroke := "[" + strings.TrimPrefix(all[prev:len(all)-1], ",") + "]"
		body, _ := json.Marshal(map[string]any{"id": appendID, "rev": rev, "actions": json.RawMessage(stroke)})
		t0 = time.Now()
		if err := e.post(ctx, srv, code, "/append", body); err != nil {
			return err
		}
		tApp = append(tApp, float64(time.Since(t0).Microseconds())/1000)
		rev++
	}
	ss, sa := slices.Sorted(slices.Values(tSave)), slices.Sorted(slices.Values(tApp))
	fmt.Printf("RESULT upload ~1 MiB drawing (%d bytes of actions at the start, v1 body %d bytes), %d of each interleaved: v1 save median %.2f ms (min %.2f, max %.2f); append of one stroke median %.2f ms (min %.2f, max %.2f); save ÷ append %.1f×\n",
		bigSize, len(bigSave), n, median(ss), ss[0], ss[len(ss)-1], median(sa), sa[0], sa[len(sa)-1], median(ss)/median(sa))
	return nil
}

// post sends an authenticated POST to the paint API and wants code 0.
func (e *env) post(ctx context.Context, s *server, code, path string, body []byte) error {
	status, answer, err := e.call(ctx, s, code, base+path, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK || !bytes.Contains(answer, []byte(`"code":0`)) {
		return fmt.Errorf("%s %s: %d %s", s.name, path, status, shorten(string(answer)))
	}
	return nil
}
