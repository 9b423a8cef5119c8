// Command yibibench measures the real yibi binary over loopback HTTP, two
// (or three) yibi processes side by side, taking turns in short blocks
// (A B A B …) so that load from elsewhere on the machine hits both sides
// alike, and prints the ratios the issues set as targets
// (docs/benchmarks.md):
//
//	sessions  authenticated list, Redis sessions ÷ memory sessions
//	saves     v1 saves on SQLite, group commit vs one transaction per save
//	revoke    re-login/logout on one instance, refusal on another
//	kill9     saves acknowledged over HTTP survive SIGKILL of the server
//	upload    bytes and latency of v1 whole saves vs appends
//	savecpu   saves on this binary vs -base (not run unless asked)
//
// Usage: yibibench -yibi path/to/yibi [-only sessions,saves] [-rounds 5]
//
// It starts its own redis-server and WeChat simulator, listens and
// connects on 127.0.0.1 only, and every phase is bounded in time.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"time"
)

type options struct {
	rounds int
	block  time.Duration
	conc   int
	trials int
	// profile, when set, is where the saves phase writes a CPU profile of
	// the group-commit yibi taken during its last block.
	profile string
	// base is a second yibi binary, the "before" of the savecpu phase.
	base string
}

func main() {
	yibi := flag.String("yibi", ".cache/bin/yibi", "the yibi binary to measure")
	only := flag.String("only", "sessions,saves,revoke,kill9,upload", "comma-separated phases to run")
	var o options
	flag.IntVar(&o.rounds, "rounds", 5, "interleaved rounds per comparison (each a block per side)")
	flag.DurationVar(&o.block, "block", 2*time.Second, "length of one side's block")
	flag.IntVar(&o.conc, "conc", 32, "concurrent clients (each its own keep-alive connection)")
	flag.IntVar(&o.trials, "trials", 20, "revocation trials of each kind")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the group-commit yibi during its last saves block to `file`")
	flag.StringVar(&o.base, "base", "", "savecpu phase: the yibi binary to compare this one's saves with")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4*o.conc, 2*o.conc
	tr.Proxy = nil
	dir, err := os.MkdirTemp("", "yibibench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	e := &env{yibi: *yibi, dir: dir, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	defer e.stop()
	if err := e.startSim(); err != nil {
		fatal(err)
	}
	phases := map[string]func(context.Context, *env, options) error{
		"sessions": benchSessions, "saves": benchSaves, "revoke": benchRevoke,
		"kill9": benchKill9, "upload": benchUpload, "savecpu": benchSaveCPU,
	}
	failed := false
	for _, name := range strings.Split(*only, ",") {
		fn, ok := phases[name]
		if !ok {
			fatal(fmt.Errorf("unknown phase %q", name))
		}
		fmt.Printf("\n== %s (load average %s)\n", name, loadavg())
		if err := fn(ctx, e, o); err != nil {
			fmt.Printf("FAIL %s: %v\n", name, err)
			failed = true
		}
	}
	if failed {
		e.stop()
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "yibibench:", err)
	os.Exit(1)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

// spread summarises ratios: median, min and max.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "no data"
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return fmt.Sprintf("median %.3f, min %.3f, max %.3f (rounds: %s)", median(s), s[0], s[len(s)-1], strings.Join(parts, " "))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
