package linkpreview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// MaxImageBytes bounds an image fetched for a preview (Fetcher.Image): a
// page's og:image is a picture for a card, and larger ones are refused
// rather than held in memory.
const MaxImageBytes = 2 << 20

// ErrNotImage is returned by Fetcher.Image for an answer that is not one
// of the image types it passes on (PNG, JPEG, GIF, WebP, as its bytes say,
// whatever the Content-Type claims; SVG, which can carry script, is not
// one), or that is larger than MaxImageBytes.
var ErrNotImage = errors.New("linkpreview: not an image it passes on")

// imageTypes are the types Image passes on, as http.DetectContentType
// names them.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// Image is an image fetched for a preview: its type, read from its bytes,
// and the bytes.
type Image struct {
	Type string
	Data []byte
}

// Image fetches the image at rawURL (a preview's Image), with the same
// guard, bounds and redirects as Fetch, so that a client whose pages may
// show images of the page's own origin only can show it. It is not
// cached: the caller's answer may be. A refused URL or address is an
// error wrapping ErrRefused; an answer that is no image it passes on, one
// wrapping ErrNotImage.
func (f *Fetcher) Image(ctx context.Context, rawURL string) (Image, error) {
	if len(rawURL) > MaxURL {
		return Image{}, fmt.Errorf("%w: the URL is longer than %d bytes", ErrRefused, MaxURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		return Image{}, fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	u.Fragment, u.RawFragment = "", ""
	if err := f.checkURL(u); err != nil {
		return Image{}, err
	}
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return Image{}, ctx.Err()
	}
	img, err := f.fetchImage(ctx, u)
	if err != nil && refusedByGuard(err) {
		return Image{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return img, err
}

func (f *Fetcher) fetchImage(ctx context.Context, u *url.URL) (Image, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Image{}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", "image/webp,image/png,image/jpeg,image/gif;q=0.9")
	resp, err := f.client.Do(req)
	if err != nil {
		return Image{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Image{}, fmt.Errorf("linkpreview: the image answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImageBytes+1))
	if err != nil {
		return Image{}, fmt.Errorf("linkpreview: read the image: %w", err)
	}
	if len(data) > MaxImageBytes {
		return Image{}, fmt.Errorf("%w: larger than %d bytes", ErrNotImage, MaxImageBytes)
	}
	typ := http.DetectContentType(data)
	if !imageTypes[typ] {
		return Image{}, fmt.Errorf("%w: %s", ErrNotImage, typ)
	}
	return Image{Type: typ, Data: data}, nil
}
