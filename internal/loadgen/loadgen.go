// Package loadgen is Yibi's load generator: it plays many 一笔到底 mini
// program users against any server that speaks the v1 contract
// (docs/api.md), then checks that no acknowledged drawing was lost.
//
// Each simulated user logs in through the WeChat simulator's /sim
// endpoints (wx.login, wx.getUserInfo) and behaves like the 2016 client
// SDK: all three X-WX headers on its first request, only X-WX-Code after,
// a fresh login on ERR_SESSION_EXPIRED. It lists its paints, draws stroke
// by stroke saving the whole actions array each time as the 2016 draw page
// did, and now and then deletes a drawing and starts a new one. A user
// does one request at a time, like a person.
//
// At the end every paint whose last save was acknowledged (and that was
// not deleted since with success) must be listed with exactly those
// actions; Report.Lost counts the ones that are not.
package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yibi/yibi/wechat/wechatsim"
)

// Errors of Run and Report.Err; check with errors.Is.
var (
	// ErrOptions: Options are invalid.
	ErrOptions = errors.New("loadgen: invalid options")
	// ErrLost: acknowledged drawings were missing or different at the end.
	ErrLost = errors.New("loadgen: acknowledged drawings lost")
	// ErrFailures: operations or verification requests failed.
	ErrFailures = errors.New("loadgen: requests failed")
)

// Defaults of Options.
const (
	DefaultURL             = "http://127.0.0.1:5757"
	DefaultBasePath        = "/applet"
	DefaultUsers           = 10
	DefaultDuration        = 10 * time.Second
	DefaultStrokesPerSave  = 1
	DefaultPointsPerStroke = 20
	DefaultMaxStrokes      = 30
	DefaultTimeout         = 10 * time.Second
)

// Options configure Run. Zero fields take the defaults stated.
type Options struct {
	// URL is the server's base URL; default DefaultURL.
	URL string
	// BasePath is the paint API's route base path; default "/applet".
	// The API is at URL + BasePath + "/session/paints/…".
	BasePath string
	// SimURL is the WeChat simulator's base URL (its /sim endpoints);
	// default "http://" + RunSim when RunSim is set, else URL + "/wechat"
	// (where yibi mounts it in development mode).
	SimURL string
	// AppID is sent to the simulator; may be empty when the simulator has
	// exactly one app (yibi's development mode).
	AppID string
	// RunSim, when set, is an address (e.g. 127.0.0.1:5758) on which Run
	// serves a WeChat simulator itself for the run, with the one app
	// AppID/Secret (both then required). Point the server's WeChat API
	// URL at it.
	RunSim string
	// Secret is the app secret of the simulator started by RunSim.
	Secret string
	// Users is the number of simulated users; default DefaultUsers.
	Users int
	// Concurrency is how many users act at the same time; default (and
	// at most) Users.
	Concurrency int
	// Duration bounds the run; Requests bounds the number of operations
	// (re-logins and verification not counted). Whichever ends first ends
	// the run; 0 is no bound, and both 0 means DefaultDuration.
	Duration time.Duration
	Requests int64
	// Mix weighs the operations; default DefaultMix.
	Mix Mix
	// StrokesPerSave strokes are drawn before each save, each of
	// PointsPerStroke points (a moveTo and PointsPerStroke-1 lineTo).
	// Defaults DefaultStrokesPerSave and DefaultPointsPerStroke.
	StrokesPerSave  int
	PointsPerStroke int
	// MaxStrokes: a drawing that has this many strokes is finished and the
	// next save starts a new one; default DefaultMaxStrokes.
	MaxStrokes int
	// Timeout bounds each request (and each simulator login); default
	// DefaultTimeout.
	Timeout time.Duration
	// UserPrefix starts every simulated user's name; default "lg-" and 6
	// random hex digits and "-", so that runs do not share users.
	UserPrefix string
	// Seed makes the users' choices and drawings repeatable; 0 is random.
	Seed uint64
	// Progress, when positive and ProgressOut is set, writes a progress
	// line to ProgressOut at that interval.
	Progress    time.Duration
	ProgressOut io.Writer
	// HTTPClient, when set, replaces the keep-alive client Run builds.
	HTTPClient *http.Client
}

// fill sets the defaults of the zero fields and checks the result.
func (o *Options) fill() error {
	if err := o.fillAddresses(); err != nil {
		return err
	}
	o.fillWorkload()
	o.fillRandom()
	return o.check()
}

// fillAddresses sets the server, paint API and simulator addresses.
func (o *Options) fillAddresses() error {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if !strings.HasPrefix(o.BasePath, "/") {
		o.BasePath = "/" + o.BasePath
	}
	o.BasePath = strings.TrimRight(o.BasePath, "/")
	if o.RunSim != "" && (o.AppID == "" || o.Secret == "") {
		return fmt.Errorf("%w: running a simulator needs an app id and a secret", ErrOptions)
	}
	if o.SimURL == "" {
		if o.RunSim != "" {
			o.SimURL = "http://" + o.RunSim
		} else {
			o.SimURL = o.URL + "/wechat"
		}
	}
	o.SimURL = strings.TrimRight(o.SimURL, "/")
	return nil
}

// fillWorkload sets how many users do what, for how long.
func (o *Options) fillWorkload() {
	if o.Users == 0 {
		o.Users = DefaultUsers
	}
	if o.Concurrency == 0 || o.Concurrency > o.Users {
		o.Concurrency = o.Users
	}
	if o.Duration == 0 && o.Requests == 0 {
		o.Duration = DefaultDuration
	}
	if o.Mix == (Mix{}) {
		o.Mix = DefaultMix
	}
	if o.StrokesPerSave == 0 {
		o.StrokesPerSave = DefaultStrokesPerSave
	}
	if o.PointsPerStroke == 0 {
		o.PointsPerStroke = DefaultPointsPerStroke
	}
	if o.MaxStrokes == 0 {
		o.MaxStrokes = DefaultMaxStrokes
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
}

// fillRandom picks a user prefix and a seed where none is given, so runs
// do not share users and each run's choices differ.
func (o *Options) fillRandom() {
	if o.UserPrefix == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.UserPrefix = "lg-" + hex.EncodeToString(b[:]) + "-"
	}
	if o.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
}

// check rejects filled options that cannot run.
func (o *Options) check() error {
	switch {
	case o.Users < 0, o.Concurrency < 0, o.Duration < 0, o.Requests < 0, o.Timeout < 0:
		return fmt.Errorf("%w: users, concurrency, duration, requests and timeout must not be negative", ErrOptions)
	case o.Mix.List < 0 || o.Mix.Save < 0 || o.Mix.Delete < 0 || o.Mix.total() <= 0:
		return fmt.Errorf("%w: mix %s needs a positive weight and no negative one", ErrOptions, o.Mix)
	case o.StrokesPerSave < 0 || o.PointsPerStroke < 0 || o.MaxStrokes < 0:
		return fmt.Errorf("%w: strokes and points must not be negative", ErrOptions)
	case o.PointsPerStroke < 2:
		return fmt.Errorf("%w: a stroke needs at least 2 points", ErrOptions)
	}
	return nil
}

// user is one simulated person. Only one goroutine uses it at a time.
type user struct {
	name    string
	rng     *mrand.Rand
	code    string // the live session's X-WX-Code; "" before login
	drawing *Drawing
	// saved is true once the current drawing has been sent in a save.
	saved  bool
	paints map[string]*tracked
	order  []string // paint ids in creation order, for a stable report
}

// tracked is what the user knows about one of its paints.
type tracked struct {
	// certain is false while the last save or delete of the paint got no
	// success answer: the server may hold either version.
	certain bool
	// present and actions are the server's state as last acknowledged.
	present bool
	actions string
}

func (u *user) track(id string) *tracked {
	t := u.paints[id]
	if t == nil {
		t = &tracked{}
		u.paints[id] = t
		u.order = append(u.order, id)
	}
	return t
}

type runner struct {
	opts   Options
	base   string // URL + BasePath + "/session/paints"
	client *http.Client
	sim    simClient
	stats  *stats
	users  []*user
	issued atomic.Int64
	// running is the run's context while users play; nil after, so that
	// verification is not cut short by the run's end. Set before the
	// players start and cleared after they all returned.
	running context.Context
}

// Run plays the users until Duration or Requests is reached, waits for the
// requests in flight, verifies every acknowledged drawing and returns the
// report. It returns an error only when it could not run (bad options,
// RunSim's address taken) or ctx ended first; in the latter case the
// report so far comes with ctx's error, unverified. Lost drawings and
// failed requests are in the report: see Report.Err.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	r := &runner{opts: opts, base: opts.URL + opts.BasePath + "/session/paints", stats: newStats()}
	r.client = opts.HTTPClient
	if r.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Every user acting at once keeps one connection to the server
		// (and one to the simulator when it is elsewhere).
		tr.MaxIdleConns = 2 * opts.Concurrency
		tr.MaxIdleConnsPerHost = opts.Concurrency
		r.client = &http.Client{Transport: tr}
		defer tr.CloseIdleConnections()
	}
	if opts.RunSim != "" {
		stop, err := serveSim(opts)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	r.sim = &wechatsim.Remote{BaseURL: opts.SimURL, AppID: opts.AppID, HTTPClient: r.client, Unlisted: true}
	for i := range opts.Users {
		rng := mrand.New(mrand.NewPCG(opts.Seed, uint64(i)))
		r.users = append(r.users, &user{
			name:    fmt.Sprintf("%s%04d", opts.UserPrefix, i),
			rng:     rng,
			drawing: NewDrawing(rng),
			paints:  map[string]*tracked{},
		})
	}

	start := time.Now()
	stopProgress := r.progress(start)
	r.play(ctx)
	elapsed := time.Since(start)
	stopProgress()

	rep := r.report(elapsed)
	if err := ctx.Err(); err != nil {
		rep.Interrupted = true
		return rep, err
	}
	r.verify(ctx, rep)
	if err := ctx.Err(); err != nil {
		rep.Interrupted = true
		return rep, err
	}
	return rep, nil
}

// serveSim starts the simulator of Options.RunSim and returns its stop.
func serveSim(opts Options) (stop func(), err error) {
	ln, err := net.Listen("tcp", opts.RunSim)
	if err != nil {
		return nil, fmt.Errorf("loadgen: simulator: %w", err)
	}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{opts.AppID: opts.Secret}})
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		_ = srv.Close()
		<-done
	}, nil
}

// play runs the users until the run's end. Users wait in a queue; each of
// Concurrency workers takes one, does one operation and puts it back, so a
// user never has two requests in flight and users take turns when
// Concurrency < Users. Requests in flight when the run ends finish (within
// Timeout) so that their answers are known; only ctx's end aborts them.
func (r *runner) play(ctx context.Context) {
	runCtx := ctx
	if r.opts.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, r.opts.Duration)
		defer cancel()
	}
	r.running = runCtx
	defer func() { r.running = nil }()
	queue := make(chan *user, len(r.users))
	for _, u := range r.users {
		queue <- u
	}
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Go(func() {
			for {
				var u *user
				select {
				case u = <-queue:
				case <-runCtx.Done():
					return
				}
				if runCtx.Err() != nil || !r.reserve() {
					queue <- u
					return
				}
				r.step(ctx, u)
				queue <- u
			}
		})
	}
	wg.Wait()
}

// reserve takes one operation from the Requests budget.
func (r *runner) reserve() bool {
	if r.opts.Requests <= 0 {
		return true
	}
	return r.issued.Add(1) <= r.opts.Requests
}

// step does one operation for u, picked by the mix.
func (r *runner) step(ctx context.Context, u *user) {
	op := r.opts.Mix.pick(u.rng.IntN(r.opts.Mix.total()))
	if op == OpDelete && !u.saved {
		// Nothing of this drawing on the server yet: a person would draw.
		op = OpSave
	}
	switch op {
	case OpList:
		r.finish(OpList, r.do(ctx, u, OpList, http.MethodGet, "/list", nil))
	case OpSave:
		r.save(ctx, u)
	case OpDelete:
		r.delete(ctx, u)
	}
}

// finish counts a failed operation; interrupted ones, and throttled ones
// whose back-off the run's end cut short, are not failures.
func (r *runner) finish(op string, out outcome) {
	if !out.ok && !out.canceled && !out.throttled {
		r.stats.fail(op, out.kind, out.example)
	}
}

func (r *runner) save(ctx context.Context, u *user) {
	if u.drawing.Strokes() >= r.opts.MaxStrokes {
		u.drawing, u.saved = NewDrawing(u.rng), false
	}
	u.drawing.AddStrokes(max(1, r.opts.StrokesPerSave), r.opts.PointsPerStroke)
	actions := u.drawing.Actions()
	body, _ := json.Marshal(map[string]string{"id": u.drawing.ID, "actions": actions})
	t := u.track(u.drawing.ID)
	u.saved = true
	out := r.do(ctx, u, OpSave, http.MethodPost, "/save", body)
	if out.ok {
		t.certain, t.present, t.actions = true, true, actions
	} else {
		// No answer, or a refusal that may have come after the store
		// wrote: the server may hold either version now.
		t.certain = false
	}
	r.finish(OpSave, out)
}

// delete deletes the current drawing, then starts a new one, as a person
// long-pressing a drawing in the gallery and going back to draw.
func (r *runner) delete(ctx context.Context, u *user) {
	id := u.drawing.ID
	body, _ := json.Marshal(map[string]string{"id": id})
	t := u.track(id)
	out := r.do(ctx, u, OpDelete, http.MethodPost, "/delete", body)
	if out.ok {
		t.certain, t.present, t.actions = true, false, ""
	} else {
		t.certain = false
	}
	u.drawing, u.saved = NewDrawing(u.rng), false
	r.finish(OpDelete, out)
}

// progress starts the progress line and returns its stop.
func (r *runner) progress(start time.Time) (stop func()) {
	if r.opts.Progress <= 0 || r.opts.ProgressOut == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(r.opts.Progress)
		defer tick.Stop()
		last, lastAt := int64(0), start
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				n := r.stats.requests.Load()
				rps := float64(n-last) / now.Sub(lastAt).Seconds()
				fmt.Fprintf(r.opts.ProgressOut, "loadgen: elapsed %s, requests %d, rps %.1f, errors %d\n",
					now.Sub(start).Round(time.Second), n, rps, r.stats.errors.Load())
				last, lastAt = n, now
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
