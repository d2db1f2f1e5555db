package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sparkgate/sparkgate/linkpreview"
)

// PreviewLink serves GET /preview/{quality}/{url} with package linkpreview.
// The URL is the client's, so every failure to fetch or read the page, and
// every refused address, is 400, as the spec says.
func (s *Server) PreviewLink(c echo.Context, quality int, rawURL string) error {
	if quality < 1 || quality > 9 {
		return errorf(http.StatusBadRequest, "quality must be between 1 and 9")
	}
	if len(rawURL) > linkpreview.MaxURL {
		return errorf(http.StatusBadRequest, "the URL is too long")
	}
	ctx := c.Request().Context()
	p, err := s.users.preview.Fetch(ctx, rawURL, quality)
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, linkPreview(p))
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return err // the client left
	case errors.Is(err, linkpreview.ErrRefused):
		return wrap(http.StatusBadRequest, "the address of this page is not allowed", err)
	}
	return wrap(http.StatusBadRequest, "the page could not be fetched", err)
}

// PreviewImage serves GET /preview/image/{url}: a preview's image, fetched
// as pages are (linkpreview's guard and bounds), answered with the type its
// bytes have. The page's Content-Security-Policy admits images of its own
// origin (and blob:) only, so a client shows an og:image through this.
func (s *Server) PreviewImage(c echo.Context, rawURL string) error {
	if len(rawURL) > linkpreview.MaxURL {
		return errorf(http.StatusBadRequest, "the URL is too long")
	}
	ctx := c.Request().Context()
	img, err := s.users.preview.Image(ctx, rawURL)
	switch {
	case err == nil:
		h := c.Response().Header()
		h.Set("Cache-Control", "private, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		return c.Blob(http.StatusOK, img.Type, img.Data)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return err // the client left
	case errors.Is(err, linkpreview.ErrRefused):
		return wrap(http.StatusBadRequest, "the address of this image is not allowed", err)
	case errors.Is(err, linkpreview.ErrNotImage):
		return wrap(http.StatusBadRequest, "this is not a PNG, JPEG, GIF or WebP image of at most 2 MiB", err)
	}
	return wrap(http.StatusBadRequest, "the image could not be fetched", err)
}

// linkPreview is p in the contract's shape: unknown fields are left out.
func linkPreview(p linkpreview.Preview) LinkPreview {
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return LinkPreview{
		Url:              opt(p.URL),
		Title:            opt(p.Title),
		DescriptionShort: opt(p.Description),
		SiteName:         opt(p.SiteName),
		Image:            opt(p.Image),
	}
}
