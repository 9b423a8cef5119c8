package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// Main is `yibi loadgen ARGS`: it parses the flags, runs, and writes the
// report to stdout (text, or JSON with -json) and progress lines to
// stderr. It returns an error when the flags are bad, the run could not
// happen or was interrupted, or the report is not clean (Report.Err): a
// drawing was lost or a request failed.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("yibi loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var mix string
	var jsonOut bool
	fs.StringVar(&o.URL, "url", DefaultURL, "base `URL` of the server")
	fs.StringVar(&o.BasePath, "base-path", DefaultBasePath, "route base `path` of the paint API")
	fs.StringVar(&o.SimURL, "sim", "", "base `URL` of the WeChat simulator (default {url}/wechat, or http://{run-sim})")
	fs.StringVar(&o.AppID, "appid", "", "app id sent to the simulator (may be empty when it has one app)")
	fs.StringVar(&o.RunSim, "run-sim", "", "serve a WeChat simulator on `ADDR` (e.g. 127.0.0.1:5758) for the run, with -appid and -secret")
	fs.StringVar(&o.Secret, "secret", "", "app secret of the -run-sim simulator")
	fs.IntVar(&o.Users, "users", DefaultUsers, "simulated users")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "users acting at once (default and at most -users)")
	fs.DurationVar(&o.Duration, "duration", DefaultDuration, "run length (0: until -requests)")
	fs.Int64Var(&o.Requests, "requests", 0, "operations to do in all (0: until -duration); whichever ends first")
	fs.StringVar(&mix, "mix", DefaultMix.String(), "operation weights")
	fs.IntVar(&o.StrokesPerSave, "strokes-per-save", DefaultStrokesPerSave, "strokes drawn before each save")
	fs.IntVar(&o.PointsPerStroke, "points-per-stroke", DefaultPointsPerStroke, "points per stroke (moveTo + lineTo)")
	fs.IntVar(&o.MaxStrokes, "max-strokes", DefaultMaxStrokes, "strokes after which a user starts a new drawing")
	fs.DurationVar(&o.Timeout, "timeout", DefaultTimeout, "timeout of each request")
	fs.StringVar(&o.UserPrefix, "user-prefix", "", "prefix of the simulated users' names (default lg-RANDOM-)")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the users' choices and drawings (0: random)")
	fs.BoolVar(&jsonOut, "json", false, "write the report as JSON")
	fs.DurationVar(&o.Progress, "progress", 0, "write a progress line to stderr at this `interval` (0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", ErrOptions, fs.Args())
	}
	m, err := ParseMix(mix)
	if err != nil {
		return err
	}
	o.Mix = m
	if o.Duration == 0 && o.Requests == 0 {
		return fmt.Errorf("%w: -duration 0 needs -requests", ErrOptions)
	}
	o.ProgressOut = stderr
	start := time.Now()
	rep, err := Run(ctx, o)
	if rep == nil {
		return err
	}
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(rep); werr != nil {
			return werr
		}
	} else if werr := rep.WriteText(stdout); werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("loadgen: interrupted after %s: %w", time.Since(start).Round(time.Millisecond), err)
	}
	return rep.Err()
}
