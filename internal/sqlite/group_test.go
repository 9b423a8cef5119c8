package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// TestGroupCommit: writes that arrive while one waits for the disk (here:
// for a write lock another connection holds) are committed together, and
// one that fails fails alone.
func TestGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yibi.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Append(ctx, "alice", "shared", 0, "[0]", time.Now(), paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	unlock := holdLock(t, path)
	before := s.groups.Load()
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			now := time.Now()
			switch i {
			case 5: // a stale revision: fails alone
				_, errs[i] = s.Append(ctx, "alice", "shared", 7, "[5]", now, paint.Limits{})
			case 6: // the only append on rev 1: wins
				_, errs[i] = s.Append(ctx, "alice", "shared", 1, "[6]", now, paint.Limits{})
			case 7: // over a quota: fails alone
				_, errs[i] = s.Save(ctx, paint.Paint{OpenID: "bob", ID: "q", Actions: "[1,2,3]", CreatedAt: now, UpdatedAt: now}, paint.Limits{UserBytes: 2})
			default:
				_, errs[i] = s.Save(ctx, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: fmt.Sprintf("[%d]", i), CreatedAt: now, UpdatedAt: now}, paint.Limits{})
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // all 20 now wait for the lock
	unlock()
	wg.Wait()
	for i, err := range errs {
		var conflict *paint.ConflictError
		switch {
		case i == 5 && !errors.As(err, &conflict):
			t.Errorf("write %d: got %v, want a conflict", i, err)
		case i == 7 && !errors.Is(err, paint.ErrQuota):
			t.Errorf("write %d: got %v, want ErrQuota", i, err)
		case i != 5 && i != 7 && err != nil:
			t.Errorf("write %d: got %v, want nil", i, err)
		}
	}
	if got := s.groups.Load() - before; got > 3 {
		t.Errorf("got %d transactions for %d writes that waited together, want at most 3", got, n)
	}
	// Everything acknowledged is there; nothing refused is.
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	s.List(ctx, "alice", paint.Page{}, func(p paint.Paint) error { ids = append(ids, p.ID); return nil })
	if len(ids) != n-3+1 {
		t.Errorf("got %d paints of alice %v, want %d", len(ids), ids, n-3+1)
	}
	if p, err := s.Get(ctx, "alice", "shared"); err != nil || p.Actions != "[0,6]" {
		t.Errorf("got %q, %v, want [0,6]", p.Actions, err)
	}
	if _, err := s.Get(ctx, "bob", "q"); !errors.Is(err, paint.ErrNotFound) {
		t.Errorf("the refused save: got %v, want ErrNotFound", err)
	}
}

// TestKill9: a process appending from 16 goroutines is killed with
// SIGKILL; every write it acknowledged (printed after Append returned)
// is in the database afterwards, in order.
func TestKill9(t *testing.T) {
	if dir := os.Getenv("YIBI_KILL9_CHILD"); dir != "" {
		kill9Child(t, dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), "YIBI_KILL9_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]int64{}
	lines := bufio.NewScanner(out)
	deadline := time.Now().Add(2 * time.Second)
	for lines.Scan() && time.Now().Before(deadline) {
		f := strings.Fields(lines.Text())
		if len(f) == 3 && f[0] == "ack" {
			rev, _ := strconv.ParseInt(f[2], 10, 64)
			acked[f[1]] = max(acked[f[1]], rev)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	s, err := Open(filepath.Join(dir, "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	total := int64(0)
	for id, rev := range acked {
		p, err := s.Get(context.Background(), "alice", id)
		if err != nil {
			t.Errorf("%s: acknowledged at rev %d, got %v", id, rev, err)
			continue
		}
		if p.Rev < rev || p.Actions != revs(p.Rev) {
			t.Errorf("%s: acknowledged rev %d, got rev %d with %q", id, rev, p.Rev, p.Actions)
		}
		total += rev
	}
	if total < 100 {
		t.Fatalf("got %d acknowledged appends before the kill, want a real run", total)
	}
	t.Logf("%d acknowledged appends on %d paints, all there after kill -9", total, len(acked))
}

// revs is the actions after appends [1], [2], … [n].
func revs(n int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := int64(1); i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(i, 10))
	}
	return b.String() + "]"
}

func kill9Child(t *testing.T, dir string) {
	s, err := Open(filepath.Join(dir, "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			id := fmt.Sprint("p", g)
			for rev := int64(0); ; rev++ {
				if _, err := s.Append(context.Background(), "alice", id, rev, fmt.Sprintf("[%d]", rev+1), time.Now(), paint.Limits{}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %d\n", id, rev+1)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// BenchmarkParallelSave: 32 goroutines save (replace) 1 KB drawings,
// group=1 being one transaction per save (no grouping), as before group
// commit.
func BenchmarkParallelSave(b *testing.B) {
	actions := "[" + strings.Repeat(`{"method":"lineTo","data":[1,2]},`, 30) + "1]"
	for _, group := range []int{1, MaxGroup} {
		b.Run(fmt.Sprint("group=", group), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			s.maxGroup = group
			var seq sync.Mutex
			next := 0
			b.SetParallelism(32 / max(1, runtimeProcs()))
			b.RunParallel(func(pb *testing.PB) {
				seq.Lock()
				id := fmt.Sprint("p", next)
				next++
				seq.Unlock()
				for pb.Next() {
					now := time.Now()
					if _, err := s.Save(context.Background(), paint.Paint{OpenID: "bench", ID: id, Actions: actions, CreatedAt: now, UpdatedAt: now}, paint.Limits{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/float64(s.groups.Load()), "saves/commit")
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// TestGroupFailsAlone: in one group, a write that has already changed rows
// and then fails is rolled back to its savepoint while the others commit;
// a write that breaks the transaction itself (here it ends it, so its
// savepoint cannot be rolled back) fails alone too: the group is rolled
// back whole and the others run again and commit.
func TestGroupFailsAlone(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fail  func(ctx context.Context, tx wtx) error
		wantN int64 // transactions committed: the holder's, then the group's
	}{
		{"AfterChangingRows", func(ctx context.Context, tx wtx) error {
			now := time.Now()
			if err := insert(ctx, tx, paint.Paint{OpenID: "alice", ID: "ghost", Actions: "[1]", CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			return errors.New("failed after its insert")
		}, 2},
		{"BreakingTheTransaction", func(ctx context.Context, tx wtx) error {
			now := time.Now()
			if err := insert(ctx, tx, paint.Paint{OpenID: "alice", ID: "ghost", Actions: "[1]", CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK"); err != nil {
				return err
			}
			return errors.New("failed after ending the transaction")
		}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(filepath.Join(t.TempDir(), "yibi.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			before := s.groups.Load()
			// A write that holds the committer until released: the
			// writes sent meanwhile queue up, in order, for one group.
			held, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				s.write(ctx, "hold", func(context.Context, wtx) error { close(held); <-release; return nil })
			})
			<-held
			errs := make([]error, 5)
			queue := func(i int) {
				wg.Go(func() {
					if i == 2 {
						errs[i] = s.write(ctx, "test", tt.fail)
						return
					}
					now := time.Now()
					_, errs[i] = s.Save(ctx, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[0]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
				})
			}
			for i := range errs {
				queue(i)
			}
			time.Sleep(300 * time.Millisecond) // all five wait to be taken, as one group
			close(release)
			wg.Wait()
			for i, err := range errs {
				if (i == 2) != (err != nil) {
					t.Errorf("write %d: got %v", i, err)
				}
			}
			if got := s.groups.Load() - before; got < tt.wantN {
				t.Errorf("got %d committed transactions, want at least %d", got, tt.wantN)
			}
			var ids []string
			s.List(ctx, "alice", paint.Page{}, func(p paint.Paint) error { ids = append(ids, p.ID); return nil })
			slices.Sort(ids)
			if got := strings.Join(ids, ","); got != "p0,p1,p3,p4" {
				t.Errorf("got paints %s, want p0,p1,p3,p4 (the failed write's insert undone)", got)
			}
		})
	}
}

// holdLock takes SQLite's write lock on path from another connection,
// so that writes queue up; unlock releases it.
func holdLock(t *testing.T, path string) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}
