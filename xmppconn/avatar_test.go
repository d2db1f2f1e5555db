package xmppconn

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// TestImageSize: an avatar's bytes must be an image of the type it is
// published as; the size is read from PNG, JPEG and GIF.
func TestImageSize(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 7, 5))
	enc := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	pngData := enc(func(b *bytes.Buffer) error { return png.Encode(b, img) })
	jpegData := enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) })
	gifData := enc(func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) })
	webp := []byte("RIFF\x10\x00\x00\x00WEBPVP8 ")
	for _, c := range []struct {
		name, typ string
		data      []byte
		w, h      int
		bad       bool
	}{
		{"png", "image/png", pngData, 7, 5, false},
		{"jpeg", "image/jpeg", jpegData, 7, 5, false},
		{"gif", "image/gif", gifData, 7, 5, false},
		{"webp", "image/webp", webp, 0, 0, false},
		{"png-as-jpeg", "image/jpeg", pngData, 0, 0, true},
		{"garbage-png", "image/png", []byte("not an image"), 0, 0, true},
		{"short-webp", "image/webp", []byte("RIFF"), 0, 0, true},
		{"svg", "image/svg+xml", []byte("<svg/>"), 0, 0, true},
		{"empty", "image/png", nil, 0, 0, true},
	} {
		w, h, err := imageSize(c.typ, c.data)
		if c.bad {
			if !errors.Is(err, ErrInvalidStanza) {
				t.Errorf("%s: err %v, want ErrInvalidStanza", c.name, err)
			}
			continue
		}
		if err != nil || w != c.w || h != c.h {
			t.Errorf("%s: %dx%d %v, want %dx%d", c.name, w, h, err, c.w, c.h)
		}
	}
}
