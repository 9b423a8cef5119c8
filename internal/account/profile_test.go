package account

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/wechat/wechatsim"
)

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gpsText is in the EXIF GPS block of exifJPEG and must not reach the
// stored avatar.
const gpsText = "GPS 22.5431N 114.0579E"

// exifJPEG is a 600×400 JPEG whose APP1 segment carries EXIF with a GPS
// IFD (GPSLatitudeRef "N", GPSAreaInformation gpsText), as a phone
// camera writes.
func exifJPEG(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 600, 400))
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	var j bytes.Buffer
	if err := jpeg.Encode(&j, m, nil); err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	var tf bytes.Buffer
	tf.WriteString("MM\x00\x2a")
	binary.Write(&tf, be, uint32(8))
	binary.Write(&tf, be, uint16(1))                             // IFD0: one entry,
	binary.Write(&tf, be, []uint16{0x8825, 4})                   // GPSInfo LONG
	binary.Write(&tf, be, []uint32{1, 26, 0})                    // → GPS IFD at 26; no next IFD
	binary.Write(&tf, be, uint16(2))                             // GPS IFD: two entries,
	binary.Write(&tf, be, []uint16{0x0001, 2})                   // GPSLatitudeRef ASCII
	binary.Write(&tf, be, uint32(2))                             //
	tf.WriteString("N\x00\x00\x00")                              //
	binary.Write(&tf, be, []uint16{0x001c, 7})                   // GPSAreaInformation UNDEFINED
	binary.Write(&tf, be, []uint32{uint32(len(gpsText)), 56, 0}) // at 56
	tf.WriteString(gpsText)
	app1 := append([]byte("Exif\x00\x00"), tf.Bytes()...)
	out := append([]byte{0xff, 0xd8, 0xff, 0xe1, byte((len(app1) + 2) >> 8), byte(len(app1) + 2)}, app1...)
	out = append(out, j.Bytes()[2:]...)
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("EXIF JPEG does not decode: %v", err)
	}
	return out
}

// upload builds a wx.uploadFile body: file part "avatar" (when file is
// not nil) and the nickName field (when not nil).
func upload(t *testing.T, file []byte, nick *string) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if nick != nil {
		mw.WriteField("nickName", *nick)
	}
	if file != nil {
		fw, err := mw.CreateFormFile("avatar", "tmp_avatar.png") // the name lies, as names do
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), &b
}

func ptr(s string) *string { return &s }

// meOf decodes the profile answer.
func meOf(t *testing.T, env envelope) me {
	t.Helper()
	var m me
	if err := json.Unmarshal(env.Data, &m); err != nil {
		t.Fatalf("data %s: %v", env.Data, err)
	}
	return m
}

func TestProfile(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) profile.Store) {
		e := newEnv(t, open(t))
		alice := e.login("alice")

		t.Run("MeEmpty", func(t *testing.T) {
			res, body := e.do("GET", base+"/session/me", alice, "", nil)
			got := meOf(t, wantStatus(t, res, body, 200, ""))
			if got != (me{}) {
				t.Errorf("got %+v, want an empty profile", got)
			}
		})
		t.Run("ERR_SESSION_EXPIRED", func(t *testing.T) {
			for _, r := range []struct{ method, path string }{
				{"GET", "/session/me"}, {"POST", "/session/profile"}, {"POST", "/session/phone"}, {"POST", "/session/decrypt"},
			} {
				res, body := e.do(r.method, base+r.path, "", "application/json", strings.NewReader(`{}`))
				if env := wantStatus(t, res, body, 401, "ERR_SESSION_EXPIRED"); env.Session != 1 {
					t.Errorf("%s: got %s, want the session envelope", r.path, body)
				}
			}
		})
		t.Run("JSONNickName", func(t *testing.T) {
			nick := " 一笔到底 😀 "
			res, body := e.postJSON(base+"/session/profile", alice, map[string]string{"nickName": nick})
			if got := meOf(t, wantStatus(t, res, body, 200, "")); got.NickName != nick {
				t.Errorf("got %q, want %q stored exactly", got.NickName, nick)
			}
			res, body = e.do("GET", base+"/session/me", alice, "", nil)
			if got := meOf(t, wantStatus(t, res, body, 200, "")); got.NickName != nick {
				t.Errorf("got %q, want %q", got.NickName, nick)
			}
		})
		t.Run("BadNickName", func(t *testing.T) {
			for _, nick := range []string{"", strings.Repeat("字", 33), "a\nb", "\x00", "a\u202eb"} {
				res, body := e.postJSON(base+"/session/profile", alice, map[string]string{"nickName": nick})
				wantStatus(t, res, body, 400, ReasonNickName)
				ct, b := upload(t, nil, &nick)
				res, body = e.do("POST", base+"/session/profile", alice, ct, b)
				wantStatus(t, res, body, 400, ReasonNickName)
			}
			ct, b := upload(t, nil, ptr(strings.Repeat("x", 5000)))
			res, body := e.do("POST", base+"/session/profile", alice, ct, b)
			wantStatus(t, res, body, 400, ReasonNickName)
		})
		t.Run("BadRequests", func(t *testing.T) {
			tests := []struct {
				name, ct, body string
				status         int
				reason         string
			}{
				{"NoFields", "application/json", `{}`, 400, ReasonNothingToSave},
				{"NotJSON", "application/json", `{"nickName":`, 400, ReasonBadBody},
				{"NickNameNotString", "application/json", `{"nickName":5}`, 400, ReasonBadBody},
				{"Form", "application/x-www-form-urlencoded", `nickName=a`, 415, ReasonContentType},
				{"BigJSON", "application/json", `{"nickName":"` + strings.Repeat("a", 5000) + `"}`, 413, ""},
				{"MultipartNoBoundary", "multipart/form-data", `x`, 400, ReasonBadBody},
				{"MultipartTruncated", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"avatar\"\r\n\r\nabc", 400, ReasonBadBody},
				{"MultipartEmpty", "multipart/form-data; boundary=XX", "--XX--\r\n", 400, ReasonNothingToSave},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res, body := e.do("POST", base+"/session/profile", alice, tt.ct, strings.NewReader(tt.body))
					wantStatus(t, res, body, tt.status, tt.reason)
				})
			}
		})
		t.Run("PNGUpload", func(t *testing.T) {
			ct, b := upload(t, testPNG(t, 512, 300), ptr("alice"))
			res, body := e.do("POST", base+"/session/profile", alice, ct, b)
			got := meOf(t, wantStatus(t, res, body, 200, ""))
			if got.NickName != "alice" || !strings.HasPrefix(got.AvatarURL, base+"/session/avatars/") || !strings.HasSuffix(got.AvatarURL, ".png") {
				t.Fatalf("got %+v, want nickName alice and a PNG avatarUrl", got)
			}
			// Public: no session headers.
			res, img := e.do("GET", got.AvatarURL, "", "", nil)
			if res.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", res.StatusCode, img)
			}
			for h, want := range map[string]string{
				"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
				"Cache-Control": "public, max-age=31536000, immutable",
			} {
				if v := res.Header.Get(h); v != want {
					t.Errorf("got %s %q, want %q", h, v, want)
				}
			}
			m, err := png.Decode(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != 256 || b.Dy() != 150 {
				t.Errorf("got %v, want 256×150", b)
			}
			t.Run("NotModified", func(t *testing.T) {
				req, _ := http.NewRequest("GET", e.srv.URL+got.AvatarURL, nil)
				req.Header.Set("If-None-Match", res.Header.Get("ETag"))
				res, _ := e.send(req)
				if res.StatusCode != http.StatusNotModified {
					t.Errorf("got %d, want 304", res.StatusCode)
				}
			})
			t.Run("LoginAnswerProfile", func(t *testing.T) {
				nick, url, err := e.svc.Profile(t.Context(), wechatsim.OpenID(appID, "alice"))
				if err != nil || nick != "alice" || url != got.AvatarURL {
					t.Errorf("got %q %q %v, want alice %q", nick, url, err, got.AvatarURL)
				}
			})
			t.Run("AvatarOnlyKeepsNickName", func(t *testing.T) {
				ct, b := upload(t, testPNG(t, 10, 10), nil)
				res, body := e.do("POST", base+"/session/profile", alice, ct, b)
				if got := meOf(t, wantStatus(t, res, body, 200, "")); got.NickName != "alice" {
					t.Errorf("got %+v, want nickName kept", got)
				}
			})
		})
		t.Run("SimulatorAvatar", func(t *testing.T) {
			// The browser app uploads the simulator's chooseAvatar PNG.
			in, err := wechatsim.Avatar("alice")
			if err != nil {
				t.Fatal(err)
			}
			ct, b := upload(t, in, nil)
			res, body := e.do("POST", base+"/session/profile", alice, ct, b)
			got := meOf(t, wantStatus(t, res, body, 200, ""))
			_, img := e.do("GET", got.AvatarURL, "", "", nil)
			want, _ := png.Decode(bytes.NewReader(in))
			m, err := png.Decode(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			if m.Bounds() != want.Bounds() || m.At(20, 20) != want.At(20, 20) || m.At(0, 0) != want.At(0, 0) {
				t.Errorf("got %v, want the simulator's %v picture back", m.Bounds(), want.Bounds())
			}
		})
		t.Run("JPEGWithEXIFGPS", func(t *testing.T) {
			in := exifJPEG(t)
			if !bytes.Contains(in, []byte(gpsText)) {
				t.Fatal("upload lacks the GPS text")
			}
			ct, b := upload(t, in, nil)
			res, body := e.do("POST", base+"/session/profile", alice, ct, b)
			got := meOf(t, wantStatus(t, res, body, 200, ""))
			if !strings.HasSuffix(got.AvatarURL, ".jpg") {
				t.Fatalf("got %q, want a .jpg", got.AvatarURL)
			}
			res, img := e.do("GET", got.AvatarURL, "", "", nil)
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("got %d %q, want 200 image/jpeg", res.StatusCode, res.Header.Get("Content-Type"))
			}
			if bytes.Contains(img, []byte("Exif")) || bytes.Contains(img, []byte(gpsText)) {
				t.Errorf("served avatar still carries EXIF GPS")
			}
			m, err := jpeg.Decode(bytes.NewReader(img))
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != 256 || b.Dy() != 170 {
				t.Errorf("got %v, want 256×170", b)
			}
		})
		t.Run("BadUploads", func(t *testing.T) {
			good := testPNG(t, 300, 300)
			bomb := bytes.Clone(good)
			i := bytes.Index(bomb, []byte("IHDR"))
			binary.BigEndian.PutUint32(bomb[i+4:], 10000)
			binary.BigEndian.PutUint32(bomb[i+8:], 10000)
			tests := []struct {
				name   string
				file   []byte
				status int
				reason string
			}{
				{"NotAnImage", []byte("#!/bin/sh\necho this is not an image\n"), 415, ReasonAvatarType},
				{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 415, ReasonAvatarType},
				{"TruncatedPNG", good[:len(good)/2], 400, ReasonAvatarImage},
				{"Bomb10kx10k", bomb, 400, ReasonAvatarImage},
				{"JustOver2MiB", append(bytes.Clone(good), make([]byte, profile.MaxAvatarBytes)...), 413, ReasonAvatarTooLarge},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ct, b := upload(t, tt.file, ptr("alice"))
					res, body := e.do("POST", base+"/session/profile", alice, ct, b)
					wantStatus(t, res, body, tt.status, tt.reason)
				})
			}
		})
		t.Run("Upload20MBBoundedMemory", func(t *testing.T) {
			// The body is generated as it is sent: the only big buffers
			// are the server's.
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				fw, _ := mw.CreateFormFile("avatar", "big.png")
				fw.Write([]byte("\x89PNG\r\n\x1a\n"))
				chunk := make([]byte, 64<<10)
				for range 20 << 20 / len(chunk) {
					if _, err := fw.Write(chunk); err != nil {
						pw.CloseWithError(err)
						return
					}
				}
				mw.Close()
				pw.Close()
			}()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			req, _ := http.NewRequest("POST", e.srv.URL+base+"/session/profile", pr)
			req.Header.Set("X-WX-Code", alice)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("got %v, want an answer", err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			runtime.ReadMemStats(&after)
			wantStatus(t, res, body, 413, ReasonAvatarTooLarge)
			t.Logf("allocated %.1f MiB while refusing a 20 MiB upload", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
			if got := after.TotalAlloc - before.TotalAlloc; got > 12<<20 {
				t.Errorf("got %d MiB allocated for a 20 MiB upload, want under 12", got>>20)
			}
		})
		t.Run("AvatarNotFound", func(t *testing.T) {
			for _, name := range []string{"0123456789abcdef0123456789abcdef.png", "x.png", "0123456789abcdef0123456789abcdef.gif"} {
				res, body := e.do("GET", base+"/session/avatars/"+name, "", "", nil)
				wantStatus(t, res, body, 404, "")
			}
		})
	})
}
