package render

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/yibi/yibi/internal/testenv"
)

// Chromium tolerance: Skia and rasterx anti-alias edges differently, so
// edge pixels differ a little; a misplaced, missing or wrongly coloured
// stroke moves both numbers far past these.
const (
	chromiumMeanDiff  = 1.0   // mean absolute difference per channel, of 255
	chromiumFarPixels = 0.005 // share of pixels with a channel off by more than 64
)

// jsLacks names the drawings the shared JS replay cannot draw, and why
// (none: it replays every form the Go renderer does).
var jsLacks = map[string]string{}

// chromiumWidths are the widths compared with Chromium.
var chromiumWidths = []int{120, 375, 750}

func TestChromiumMatches(t *testing.T) {
	bin, repo := testenv.Chromium(t)

	type item struct {
		Name    string `json:"name"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
		Actions string `json:"actions"`
	}
	out := t.TempDir()
	var items []item
	for _, d := range loadDrawings(t) {
		if why, ok := jsLacks[d.name]; ok {
			t.Logf("%s: not compared: %s", d.name, why)
			continue
		}
		for _, w := range chromiumWidths {
			ww, h := Size(w)
			items = append(items, item{fmt.Sprintf("%s-%d", d.name, w), ww, h, d.actions})
		}
	}
	job, err := json.Marshal(map[string]any{"repo": repo, "chromium": bin, "out": out, "items": items})
	if err != nil {
		t.Fatal(err)
	}
	jobPath := filepath.Join(out, "job.json")
	if err := os.WriteFile(jobPath, job, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "chromium.js"), jobPath)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node chromium.js: %v\n%s", err, b)
	}

	for _, it := range items {
		t.Run(it.Name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(out, it.Name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			canvas, err := png.Decode(f)
			if err != nil {
				t.Fatalf("decode Chromium's canvas: %v", err)
			}
			// The canvas is transparent where nothing was drawn; the page is white.
			want := image.NewRGBA(canvas.Bounds())
			draw.Draw(want, want.Bounds(), image.White, image.Point{}, draw.Src)
			draw.Draw(want, want.Bounds(), canvas, canvas.Bounds().Min, draw.Over)
			got, err := Image(it.Actions, it.Width)
			if err != nil {
				t.Fatal(err)
			}
			// The comparison must be able to fail: a blank image is far off.
			blank := image.NewRGBA(want.Bounds())
			draw.Draw(blank, blank.Bounds(), image.White, image.Point{}, draw.Src)
			if bm, bf, _ := imageDiff(blank, want); bm <= chromiumMeanDiff && bf <= chromiumFarPixels {
				t.Fatalf("a blank image is within tolerance (mean %.3f, far %.4f%%); the drawing is too small to compare", bm, bf*100)
			}
			mean, far, err := imageDiff(got, want)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("mean diff %.3f, far pixels %.4f%%", mean, far*100)
			if mean > chromiumMeanDiff || far > chromiumFarPixels {
				if dir := os.Getenv("YIBI_RENDER_DIFF_DIR"); dir != "" {
					saveImage(t, filepath.Join(dir, it.Name+"-chromium.png"), want)
					saveImage(t, filepath.Join(dir, it.Name+"-go.png"), got)
				}
				t.Errorf("got mean diff %.3f, far pixels %.4f%%; want at most %.3f, %.4f%% (set YIBI_RENDER_DIFF_DIR to keep both images)",
					mean, far*100, chromiumMeanDiff, chromiumFarPixels*100)
			}
		})
	}
}

func saveImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Error(err)
	}
}
