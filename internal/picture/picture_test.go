package picture

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

var drawing = paint.Paint{OpenID: "alice", ID: "p1", Rev: 3, CreatedAt: time.UnixMilli(1_795_000_000_000),
	Actions: `[{"method":"moveTo","data":[10,10]},{"method":"lineTo","data":[300,400]},{"method":"stroke","data":[]}]`}

func TestErrBusyWhenEverySlotIsTaken(t *testing.T) {
	rd := New(0, 1)
	rd.slots <- struct{}{} // a render that does not end
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := rd.Render(ctx, drawing, 120, PNG); !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v, want ErrBusy", err)
	}
	<-rd.slots
	if _, err := rd.Render(context.Background(), drawing, 120, PNG); err != nil {
		t.Fatalf("after the slot freed: got %v, want nil", err)
	}
}

func TestRenderCaches(t *testing.T) {
	rd := New(0, 1)
	a, err := rd.Render(context.Background(), drawing, 120, PNG)
	if err != nil {
		t.Fatal(err)
	}
	rd.slots <- struct{}{} // no slot: only the cache can answer now
	b, err := rd.Render(context.Background(), drawing, 120, PNG)
	if err != nil || &a.Data[0] != &b.Data[0] {
		t.Errorf("second render: got %v (same bytes %v), want the cached image", err, err == nil && &a.Data[0] == &b.Data[0])
	}
	if n, _ := rd.Cached(); n != 1 {
		t.Errorf("cached: got %d, want 1", n)
	}
}

func TestTagChangesWithRevisionAndCreation(t *testing.T) {
	base := Tag(drawing, 120, PNG)
	next := drawing
	next.Rev++
	again := drawing
	again.CreatedAt = again.CreatedAt.Add(time.Millisecond)
	for name, got := range map[string]string{"rev": Tag(next, 120, PNG), "created": Tag(again, 120, PNG),
		"width": Tag(drawing, 121, PNG), "format": Tag(drawing, 120, SVG)} {
		if got == base {
			t.Errorf("%s: got the same tag %s", name, got)
		}
	}
}

func TestWriteNotModified(t *testing.T) {
	img := Image{Data: []byte("png"), ContentType: "image/png", ETag: `"x.1.120.png"`}
	tests := []struct {
		name, inm string
		want      int
	}{
		{"Match", `"x.1.120.png"`, http.StatusNotModified},
		{"WeakMatch", `W/"x.1.120.png"`, http.StatusNotModified},
		{"InList", `"a", "x.1.120.png"`, http.StatusNotModified},
		{"Star", `*`, http.StatusNotModified},
		{"Other", `"x.2.120.png"`, http.StatusOK},
		{"None", ``, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.inm != "" {
				r.Header.Set("If-None-Match", tt.inm)
			}
			w := httptest.NewRecorder()
			Write(w, r, img, "private")
			if w.Code != tt.want {
				t.Errorf("got %d, want %d", w.Code, tt.want)
			}
		})
	}
}

// slowDraw makes rd's renders of owner's paints block until the returned
// release is called, telling started about each; others render at once.
func slowDraw(rd *Renderer, owner string) (started <-chan int, release func()) {
	ch := make(chan int, 16)
	gate := make(chan struct{})
	rd.draw = func(out io.Writer, actions string, width int, format string) error {
		if actions == owner {
			ch <- width
			<-gate
		}
		return draw(out, drawing.Actions, width, format)
	}
	return ch, sync.OnceFunc(func() { close(gate) })
}

// TestOneOwnerCannotTakeEverySlot: mallory's render holds one of two
// slots (a hostile drawing); mallory's next render, at another width,
// waits its turn instead of taking the other slot, and is ErrBusy after
// the wait; alice's thumbnail meanwhile renders at once.
func TestOneOwnerCannotTakeEverySlot(t *testing.T) {
	rd := New(0, 2)
	hostile := paint.Paint{OpenID: "mallory", ID: "h", Rev: 1, CreatedAt: drawing.CreatedAt, Actions: "mallory"}
	started, release := slowDraw(rd, "mallory")
	defer release()

	rd.wait = time.Minute
	first := make(chan error, 1)
	go func() {
		_, err := rd.Render(context.Background(), hostile, 100, PNG)
		first <- err
	}()
	<-started

	t.Run("OwnersNextRenderWaitsItsTurn", func(t *testing.T) {
		rd.wait = 500 * time.Millisecond
		second := make(chan error, 1)
		go func() {
			_, err := rd.Render(context.Background(), hostile, 101, PNG)
			second <- err
		}()
		waiting(t, rd, started, "mallory", 2)
		t.Run("OtherOwnerRenders", func(t *testing.T) {
			img, err := rd.Render(context.Background(), drawing, 120, PNG)
			if err != nil || len(img.Data) == 0 {
				t.Fatalf("alice: got %v (%d bytes), want her picture", err, len(img.Data))
			}
		})
		if err := <-second; !errors.Is(err, ErrBusy) {
			t.Fatalf("mallory's second render: got %v, want ErrBusy", err)
		}
	})
	t.Run("TurnsComeInOrder", func(t *testing.T) {
		rd.wait = time.Minute
		third := make(chan error, 1)
		go func() {
			_, err := rd.Render(context.Background(), hostile, 102, PNG)
			third <- err
		}()
		waiting(t, rd, started, "mallory", 2)
		release()
		if err := <-first; err != nil {
			t.Fatalf("first: %v", err)
		}
		if err := <-third; err != nil {
			t.Fatalf("third, after the first: got %v, want its picture", err)
		}
	})
	if n := rd.owners.Len(); n != 0 {
		t.Errorf("owners after every render ended: got %d, want none", n)
	}
}

// waiting waits until owner has n renders running or waiting, failing if
// another of the owner's renders starts meanwhile.
func waiting(t *testing.T, rd *Renderer, started <-chan int, owner string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		select {
		case w := <-started:
			t.Fatalf("%s's render at %d started while another of theirs runs", owner, w)
		default:
		}
		if rd.owners.Users(owner) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %d renders running or waiting after 5s", owner, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestOwnerTurnEndsWithContext: a render waiting for its owner's turn
// gives up when its request ends.
func TestOwnerTurnEndsWithContext(t *testing.T) {
	rd := New(0, 2)
	hostile := paint.Paint{OpenID: "mallory", ID: "h", Rev: 1, CreatedAt: drawing.CreatedAt, Actions: "mallory"}
	started, release := slowDraw(rd, "mallory")
	defer release()
	go func() { _, _ = rd.Render(context.Background(), hostile, 100, PNG) }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := rd.Render(ctx, hostile, 101, PNG); !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want ErrBusy and the deadline", err)
	}
}

func TestCard(t *testing.T) {
	rd := New(0, 1)
	img, err := rd.Render(context.Background(), drawing, 500, Card)
	if err != nil {
		t.Fatal(err)
	}
	pic, err := png.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := pic.Bounds(); b.Dx() != 500 || b.Dy() != 400 || img.ContentType != "image/png" {
		t.Fatalf("got %dx%d %s, want 500x400 image/png", b.Dx(), b.Dy(), img.ContentType)
	}
	if r, g, b, _ := pic.At(0, 0).RGBA(); r>>8 != 0xf4 || g>>8 != 0xf4 || b>>8 != 0xf4 {
		t.Errorf("corner: got %v, want the apps' background #f4f4f4", pic.At(0, 0))
	}
	if img.ETag == Tag(drawing, 500, PNG) {
		t.Errorf("card and picture share the ETag %s", img.ETag)
	}
	rd.slots <- struct{}{} // no slot: only the cache can answer now
	again, err := rd.Render(context.Background(), drawing, 500, Card)
	if err != nil || &again.Data[0] != &img.Data[0] {
		t.Errorf("second card: got %v, want the cached image", err)
	}
}
