package picture

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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
