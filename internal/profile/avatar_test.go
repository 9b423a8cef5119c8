package profile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"
)

// testImage is a w×h image with a gradient and an opaque red corner, so
// that scaling and colours can be checked.
func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	for y := range h / 4 {
		for x := range w / 4 {
			m.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 255})
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gpsSecret is written into the EXIF GPS block of the test JPEG; it must
// not be anywhere in the stored avatar.
const gpsSecret = "YIBI-GPS 39.9042N 116.4074E"

// withEXIFGPS inserts, after the SOI marker of jpg, an APP1 Exif segment
// whose IFD0 points (tag 0x8825) to a GPS IFD holding GPSLatitudeRef "N",
// GPSLatitude 39/1 54/1 15/1 and GPSAreaInformation gpsSecret: what a
// phone camera writes.
func withEXIFGPS(jpg []byte) []byte {
	be := binary.BigEndian
	var t bytes.Buffer // TIFF, offsets relative to its start
	t.WriteString("MM\x00\x2a")
	binary.Write(&t, be, uint32(8)) // IFD0 at 8
	// IFD0: 1 entry, GPSInfo → GPS IFD at 8+2+12+4 = 26.
	binary.Write(&t, be, uint16(1))
	binary.Write(&t, be, []uint16{0x8825, 4})
	binary.Write(&t, be, []uint32{1, 26})
	binary.Write(&t, be, uint32(0))
	// GPS IFD at 26: 3 entries; data after it at 26+2+3*12+4 = 68.
	binary.Write(&t, be, uint16(3))
	binary.Write(&t, be, []uint16{0x0001, 2}) // GPSLatitudeRef ASCII "N\0"
	binary.Write(&t, be, uint32(2))
	t.WriteString("N\x00\x00\x00")
	binary.Write(&t, be, []uint16{0x0002, 5}) // GPSLatitude 3 RATIONALs at 68
	binary.Write(&t, be, []uint32{3, 68})
	binary.Write(&t, be, []uint16{0x001c, 7}) // GPSAreaInformation UNDEFINED at 92
	binary.Write(&t, be, []uint32{uint32(8 + len(gpsSecret)), 92})
	binary.Write(&t, be, uint32(0))
	binary.Write(&t, be, []uint32{39, 1, 54, 1, 15, 1})
	t.WriteString("ASCII\x00\x00\x00" + gpsSecret)
	app1 := append([]byte("Exif\x00\x00"), t.Bytes()...)
	var seg bytes.Buffer
	seg.Write([]byte{0xff, 0xe1})
	binary.Write(&seg, be, uint16(len(app1)+2))
	seg.Write(app1)
	return append(append(append([]byte{}, jpg[:2]...), seg.Bytes()...), jpg[2:]...)
}

// withSize rewrites the dimensions in a PNG's IHDR or a JPEG's SOF0, so a
// small file claims to be w×h.
func withSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	b := bytes.Clone(data)
	if i := bytes.Index(b, []byte("IHDR")); i >= 0 && bytes.HasPrefix(b, []byte("\x89PNG")) {
		binary.BigEndian.PutUint32(b[i+4:], uint32(w))
		binary.BigEndian.PutUint32(b[i+8:], uint32(h))
		return b // the CRC is now wrong: DecodeConfig does not read it
	}
	if i := bytes.Index(b, []byte{0xff, 0xc0}); i >= 0 {
		binary.BigEndian.PutUint16(b[i+5:], uint16(h))
		binary.BigEndian.PutUint16(b[i+7:], uint16(w))
		return b
	}
	t.Fatal("withSize: no PNG IHDR or JPEG SOF0")
	return nil
}

func TestNewAvatar(t *testing.T) {
	webpData, err := os.ReadFile("testdata/gopher.webp")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		data          []byte
		wantType      string
		wantW, wantH  int
		wantRedCorner bool
	}{
		{"PNGKeptSize", encodePNG(t, testImage(100, 60)), "image/png", 100, 60, true},
		{"PNGScaledWide", encodePNG(t, testImage(1024, 512)), "image/png", 256, 128, true},
		{"JPEGScaledTall", encodeJPEG(t, testImage(300, 600)), "image/jpeg", 128, 256, true},
		{"JPEGWithEXIFGPS", withEXIFGPS(encodeJPEG(t, testImage(400, 300))), "image/jpeg", 256, 192, true},
		{"WebPBecomesPNG", webpData, "image/png", 0, 0, false},
		{"OnePixelHigh", encodePNG(t, testImage(4096, 1)), "image/png", 256, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewAvatar(tt.data)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if a.ContentType != tt.wantType {
				t.Errorf("got type %q, want %q", a.ContentType, tt.wantType)
			}
			if !ValidAvatarName(a.Name) || a.Name != AvatarName(a.Data, map[string]string{"image/png": "png", "image/jpeg": "jpg"}[tt.wantType]) {
				t.Errorf("got name %q, want the content hash of the stored bytes", a.Name)
			}
			m, format, err := image.Decode(bytes.NewReader(a.Data))
			if err != nil {
				t.Fatalf("stored avatar does not decode: %v", err)
			}
			if want := map[string]string{"image/png": "png", "image/jpeg": "jpeg"}[tt.wantType]; format != want {
				t.Errorf("got format %q, want %q", format, want)
			}
			b := m.Bounds()
			if b.Dx() > AvatarSide || b.Dy() > AvatarSide {
				t.Errorf("got %v, want at most %d a side", b, AvatarSide)
			}
			if tt.wantW != 0 && (b.Dx() != tt.wantW || b.Dy() != tt.wantH) {
				t.Errorf("got %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			if tt.wantRedCorner {
				r, g, bl, _ := m.At(2, 2).RGBA()
				if r>>8 < 200 || g>>8 > 60 || bl>>8 > 60 {
					t.Errorf("got corner %d,%d,%d, want red", r>>8, g>>8, bl>>8)
				}
			}
			if bytes.Contains(a.Data, []byte("Exif")) || bytes.Contains(a.Data, []byte(gpsSecret)) {
				t.Errorf("stored avatar still holds EXIF or the GPS text")
			}
		})
	}
	t.Run("EXIFWasThere", func(t *testing.T) {
		// The check above means something only if the upload had it.
		in := withEXIFGPS(encodeJPEG(t, testImage(40, 30)))
		if !bytes.Contains(in, []byte("Exif\x00\x00MM")) || !bytes.Contains(in, []byte(gpsSecret)) {
			t.Fatal("test JPEG lacks its EXIF GPS block")
		}
		if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
			t.Fatalf("test JPEG does not decode: %v", err)
		}
	})
	t.Run("PNGRoundTripExact", func(t *testing.T) {
		// Under AvatarSide nothing is scaled: every pixel comes back.
		src := testImage(64, 48)
		a, err := NewAvatar(encodePNG(t, src))
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(bytes.NewReader(a.Data))
		if err != nil {
			t.Fatal(err)
		}
		for y := range 48 {
			for x := range 64 {
				if got, want := color.NRGBAModel.Convert(m.At(x, y)), src.At(x, y); got != want {
					t.Fatalf("pixel %d,%d: got %v, want %v", x, y, got, want)
				}
			}
		}
		// The same upload is the same name: stored once.
		b, _ := NewAvatar(encodePNG(t, src))
		if b.Name != a.Name {
			t.Errorf("got %q then %q, want one name for one content", a.Name, b.Name)
		}
	})
}

func TestNewAvatarRefused(t *testing.T) {
	png300 := encodePNG(t, testImage(300, 300))
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"ErrAvatarTypeText", []byte("hello, this is not an image"), ErrAvatarType},
		{"ErrAvatarTypeGIF", gif, ErrAvatarType},
		{"ErrAvatarTypeEmpty", nil, ErrAvatarType},
		{"ErrAvatarTypeSVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrAvatarType},
		{"TruncatedPNG", png300[:len(png300)/2], ErrAvatarImage},
		{"PNGHeaderOnly", png300[:8], ErrAvatarImage},
		{"TruncatedJPEG", encodeJPEG(t, testImage(300, 300))[:600], ErrAvatarImage},
		{"PNG4097Wide", encodePNG(t, testImage(4097, 1)), ErrAvatarImage},
		{"PNG10kHeader", withSize(t, png300, 10000, 10000), ErrAvatarImage},
		{"JPEG10kHeader", withSize(t, encodeJPEG(t, testImage(16, 16)), 10000, 10000), ErrAvatarImage},
		{"PNGZeroWide", withSize(t, png300, 0, 10), ErrAvatarImage},
		{"PNGHeaderLies", withSize(t, png300, 400, 400), ErrAvatarImage},
		{"BrokenWebP", []byte("RIFF\x20\x00\x00\x00WEBPVP8L\x10\x00\x00\x00garbage garbage "), ErrAvatarImage},
		{"TooManyBytes", append(bytes.Clone(png300), make([]byte, MaxAvatarBytes)...), ErrAvatarImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAvatar(tt.data)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNewAvatarBomb: a file claiming 10000×10000 pixels is refused from
// its header, allocating nothing near the 400 MB its pixels would take.
func TestNewAvatarBomb(t *testing.T) {
	for _, data := range [][]byte{
		withSize(t, encodePNG(t, testImage(16, 16)), 10000, 10000),
		withSize(t, encodeJPEG(t, testImage(16, 16)), 10000, 10000),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := NewAvatar(data)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrAvatarImage) {
			t.Fatalf("got %v, want ErrAvatarImage", err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("got %d bytes allocated, want under 1 MiB", got)
		}
	}
}

func TestValidNickName(t *testing.T) {
	tests := []struct {
		nick string
		ok   bool
	}{
		{"a", true}, {"一笔到底", true}, {" spaces kept ", true}, {"😀", true},
		{string(bytes.Repeat([]byte("字"), 32)), true},
		{"", false}, {string(bytes.Repeat([]byte("字"), 33)), false},
		{"tab\there", false}, {"nl\n", false}, {"nul\x00", false}, {"del\x7f", false},
		{"c1\u0085", false}, {"rtl\u202egnp.exe", false}, {"bad\xffutf8", false},
	}
	for _, tt := range tests {
		err := ValidNickName(tt.nick)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrNickName)) {
			t.Errorf("ValidNickName(%q): got %v, want ok %v", tt.nick, err, tt.ok)
		}
	}
}

func TestValidAvatarName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"0123456789abcdef0123456789abcdef.png", true},
		{"0123456789abcdef0123456789abcdef.jpg", true},
		{"0123456789abcdef0123456789abcdef.gif", false},
		{"0123456789ABCDEF0123456789abcdef.png", false},
		{"0123456789abcdef0123456789abcde.png", false},
		{"../etc/passwd", false}, {"", false}, {".png", false},
	}
	for _, tt := range tests {
		if got := ValidAvatarName(tt.name); got != tt.ok {
			t.Errorf("ValidAvatarName(%q): got %v, want %v", tt.name, got, tt.ok)
		}
	}
}
