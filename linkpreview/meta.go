package linkpreview

import (
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Bounds of the parser's work, beside the reader's MaxBytes.
const (
	maxTokens = 1 << 20   // tokens read from one page
	maxBuf    = 256 << 10 // bytes of one token
	maxAttrs  = 16        // attributes kept per tag
	maxImages = 32        // images kept per source (OpenGraph, Twitter)
)

// texts are the three texts a page may give, from one source.
type texts struct{ title, description, siteName string }

// image is a candidate image; width is 0 when the page gives none.
type image struct {
	url   string
	width int
}

// scan gathers what a page says about itself, per source, as the
// tokenizer goes.
type scan struct {
	base            *url.URL
	og, tw, plain   texts
	ogImgs, twImgs  []image
	fallbackImg     string // link rel=image_src, or the first <img>
	inTitle, titled bool
	title           strings.Builder
}

// extractMeta reads the title, description, site name and image of the
// HTML page r, as the package doc describes; base is the page's URL, for
// relative references. It leaves Preview.URL empty.
func extractMeta(r io.Reader, base *url.URL, quality int) Preview {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(maxBuf)
	s := &scan{base: base}
	for range maxTokens {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return s.result(quality)
		case html.TextToken:
			if s.inTitle && s.title.Len() < 4*maxTitle {
				s.title.Write(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); s.inTitle && string(name) == "title" {
				s.inTitle, s.titled = false, true
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			s.tag(string(name), attrsOf(z, more), tt == html.StartTagToken)
		}
	}
	return s.result(quality)
}

// attrsOf reads the current tag's attributes, names lower-cased, the first
// of each name and at most maxAttrs of them.
func attrsOf(z *html.Tokenizer, more bool) map[string]string {
	attrs := make(map[string]string)
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		key := strings.ToLower(string(k))
		if _, dup := attrs[key]; !dup && len(attrs) < maxAttrs {
			attrs[key] = string(v)
		}
	}
	return attrs
}

func (s *scan) tag(name string, attrs map[string]string, opens bool) {
	switch name {
	case "title":
		// Only the first title counts: an <svg> may hold titles too.
		if opens && !s.titled {
			s.inTitle = true
		}
	case "meta":
		prop := attrs["property"]
		if strings.TrimSpace(prop) == "" {
			prop = attrs["name"]
		}
		s.meta(strings.ToLower(strings.TrimSpace(prop)), attrs["content"])
	case "link":
		if s.fallbackImg == "" && strings.EqualFold(strings.TrimSpace(attrs["rel"]), "image_src") {
			s.fallbackImg = resolveImage(s.base, attrs["href"])
		}
	case "img":
		if s.fallbackImg == "" {
			s.fallbackImg = resolveImage(s.base, attrs["src"])
		}
	}
}

func (s *scan) meta(prop, content string) {
	switch prop {
	case "og:title":
		setOnce(&s.og.title, content)
	case "og:description":
		setOnce(&s.og.description, content)
	case "og:site_name":
		setOnce(&s.og.siteName, content)
	case "og:image", "og:image:url", "og:image:secure_url":
		// og:image starts an image; its :url and :secure_url forms only
		// stand in when no og:image came first.
		if u := resolveImage(s.base, content); u != "" && len(s.ogImgs) < maxImages &&
			(prop == "og:image" || len(s.ogImgs) == 0) {
			s.ogImgs = append(s.ogImgs, image{url: u})
		}
	case "og:image:width":
		if n, err := strconv.Atoi(strings.TrimSpace(content)); err == nil && n > 0 && len(s.ogImgs) > 0 {
			s.ogImgs[len(s.ogImgs)-1].width = n
		}
	case "twitter:title":
		setOnce(&s.tw.title, content)
	case "twitter:description":
		setOnce(&s.tw.description, content)
	case "twitter:image", "twitter:image:src":
		if u := resolveImage(s.base, content); u != "" && len(s.twImgs) < maxImages {
			s.twImgs = append(s.twImgs, image{url: u})
		}
	case "description":
		setOnce(&s.plain.description, content)
	case "application-name":
		setOnce(&s.plain.siteName, content)
	}
}

// result picks, per field, the first source that gave it, and cleans the
// texts.
func (s *scan) result(quality int) Preview {
	s.plain.title = s.title.String()
	p := Preview{
		Title:       clean(firstOf(s.og.title, s.tw.title, s.plain.title), maxTitle),
		Description: clean(firstOf(s.og.description, s.tw.description, s.plain.description), maxDescription),
		SiteName:    clean(firstOf(s.og.siteName, s.plain.siteName), maxTitle),
		Image:       s.fallbackImg,
	}
	switch {
	case len(s.ogImgs) > 0:
		p.Image = pickImage(s.ogImgs, quality)
	case len(s.twImgs) > 0:
		p.Image = s.twImgs[0].url
	}
	return p
}

// setOnce sets *dst to v, trimmed, unless *dst is set already.
func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = strings.TrimSpace(v)
	}
}

// firstOf returns the first of vs that is not blank.
func firstOf(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// clean makes s valid UTF-8 without control characters, collapses runs
// of white space (and control characters) into one space, trims it, and
// cuts it to at most n runes.
func clean(s string, n int) string {
	var b strings.Builder
	runes := 0
	gap := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			if runes++; runes > n {
				break
			}
			b.WriteByte(' ')
		}
		gap = false
		if runes++; runes > n {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// resolveImage resolves ref against base and returns it when it is an
// http or https URL with a host, valid UTF-8, of at most MaxURL bytes;
// otherwise "".
func resolveImage(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > MaxURL {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if scheme := strings.ToLower(u.Scheme); (scheme != "http" && scheme != "https") || u.Host == "" {
		return ""
	}
	out := u.String()
	if len(out) > MaxURL || !utf8.ValidString(out) {
		return ""
	}
	// What the client gets must parse again, with a host name: Parse
	// takes a reference such as "//:0:" whose resolved form it then
	// refuses ("https://:0:", an invalid port), and "//:80" has a port
	// but no host (found by FuzzExtractMeta).
	if v, err := url.Parse(out); err != nil || v.Hostname() == "" {
		return ""
	}
	return out
}

// pickImage returns the image whose width is closest to quality×160
// pixels, or the first image when none has a width.
func pickImage(images []image, quality int) string {
	target := min(max(quality, 1), 9) * 160
	best, bestDist := images[0].url, -1
	for _, im := range images {
		if im.width <= 0 {
			continue
		}
		d := im.width - target
		if d < 0 {
			d = -d
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = im.url, d
		}
	}
	return best
}
