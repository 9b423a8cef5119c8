package profile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Avatar limits of protocol-v2.md.
const (
	// MaxAvatarBytes is the largest avatar file accepted (2 MiB).
	MaxAvatarBytes = 2 << 20
	// MaxAvatarSide is the largest width or height of an accepted image.
	MaxAvatarSide = 4096
	// AvatarSide is the largest width or height of a stored avatar.
	AvatarSide = 256
)

// Errors of NewAvatar.
var (
	// ErrAvatarType: the file is not PNG, JPEG or WebP (by its content).
	ErrAvatarType = errors.New("profile: avatar is not PNG, JPEG or WebP")
	// ErrAvatarImage: the file has such a type but is broken, or larger
	// than MaxAvatarSide.
	ErrAvatarImage = errors.New("profile: avatar is broken or too large")
)

// format is an accepted image type: how to recognise, measure and decode it.
type format struct {
	magic  func([]byte) bool
	config func(*bytes.Reader) (image.Config, error)
	decode func(*bytes.Reader) (image.Image, error)
	// jpeg: stored as JPEG (a photo); otherwise as PNG (keeps alpha).
	jpeg bool
}

var formats = []format{
	{
		magic:  func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
		config: func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) },
		decode: func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) },
	},
	{
		magic:  func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}) },
		config: func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) },
		decode: func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) },
		jpeg:   true,
	},
	{
		magic: func(b []byte) bool {
			return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
		},
		config: func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) },
		decode: func(r *bytes.Reader) (image.Image, error) { return webp.Decode(r) },
	},
}

// NewAvatar turns an uploaded file into a stored avatar: the type is told
// by content (ErrAvatarType otherwise); the size is read from the header
// before anything is decoded, so a small file claiming 10000×10000 pixels
// is refused without allocating them (ErrAvatarImage, as is a broken
// file); the pixels are then decoded, scaled down to at most AvatarSide a
// side and encoded anew, so no metadata of the upload (EXIF GPS, comments,
// ICC profiles) survives. JPEG stays JPEG; PNG and WebP become PNG.
//
// Decoding allocates up to 4 bytes per pixel (64 MiB at 4096×4096): the
// caller bounds how many run at once.
func NewAvatar(data []byte) (Avatar, error) {
	if len(data) > MaxAvatarBytes {
		return Avatar{}, fmt.Errorf("%w: %d bytes", ErrAvatarImage, len(data))
	}
	var f *format
	for i := range formats {
		if formats[i].magic(data) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		return Avatar{}, ErrAvatarType
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return Avatar{}, fmt.Errorf("%w: %w", ErrAvatarImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return Avatar{}, fmt.Errorf("%w: %d×%d pixels", ErrAvatarImage, cfg.Width, cfg.Height)
	}
	src, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return Avatar{}, fmt.Errorf("%w: %w", ErrAvatarImage, err)
	}
	if b := src.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		// A decoder that disagrees with its own header: trust neither.
		return Avatar{}, fmt.Errorf("%w: header %d×%d, image %v", ErrAvatarImage, cfg.Width, cfg.Height, b)
	}
	dst := scaled(src, f.jpeg)
	var out bytes.Buffer
	a := Avatar{ContentType: "image/png"}
	ext := "png"
	if f.jpeg {
		a.ContentType, ext = "image/jpeg", "jpg"
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, dst)
	}
	if err != nil {
		// Encoding an in-memory RGBA image into a buffer does not fail.
		return Avatar{}, fmt.Errorf("profile: encode avatar: %w", err)
	}
	a.Data = out.Bytes()
	a.Name = AvatarName(a.Data, ext)
	return a, nil
}

// scaled draws src into a new image of at most AvatarSide a side, keeping
// its aspect ratio (and at least 1 pixel a side). The copy is made even
// when no scaling is needed: only pixels go from src to the result.
func scaled(src image.Image, opaque bool) image.Image {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > AvatarSide || h > AvatarSide {
		if w >= h {
			w, h = AvatarSide, max(1, h*AvatarSide/b.Dx())
		} else {
			w, h = max(1, w*AvatarSide/b.Dy()), AvatarSide
		}
	}
	r := image.Rect(0, 0, w, h)
	var dst draw.Image = image.NewNRGBA(r)
	if opaque {
		dst = image.NewRGBA(r)
	}
	if r.Dx() == b.Dx() && r.Dy() == b.Dy() {
		draw.Draw(dst, r, src, b.Min, draw.Src)
	} else {
		draw.CatmullRom.Scale(dst, r, src, b, draw.Src, nil)
	}
	return dst
}
