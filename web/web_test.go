package web_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/sparkgate/sparkgate/web"
)

// TestStaticFiles checks the client without a browser: no inline script
// or style in the pages, and every file a page or module refers to is
// embedded.
func TestStaticFiles(t *testing.T) {
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		t.Fatal(err)
	}
	exists := func(from, ref string) {
		t.Helper()
		name := strings.TrimPrefix(strings.TrimPrefix(ref, "./"), "/")
		if name == "" {
			return
		}
		if _, err := fs.Stat(static, name); err != nil {
			t.Errorf("%s refers to %q, which is not embedded", from, ref)
		}
	}
	page, err := fs.ReadFile(static, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAll(page, -1) {
		if !strings.Contains(string(tag), " src=") {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	for _, re := range []string{`(?i)<style\b`, `(?i)\sstyle\s*=`, `(?i)\son[a-z]+\s*=`, `(?i)javascript:`} {
		if m := regexp.MustCompile(re).Find(page); m != nil {
			t.Errorf("index.html has inline code or style: %q", m)
		}
	}
	for _, m := range regexp.MustCompile(`(?i)\s(?:src|href)="([^"#]*)"`).FindAllSubmatch(page, -1) {
		ref := string(m[1])
		if strings.Contains(ref, "://") || strings.HasPrefix(ref, "//") {
			t.Errorf("index.html loads %q from another origin", ref)
			continue
		}
		exists("index.html", ref)
	}
	imports := regexp.MustCompile(`(?:\bfrom\s+|\bimport\s*\(\s*|register\(\s*)['"]([^'"]+\.js)['"]`)
	files, err := fs.Glob(static, "*.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("only %d modules: %v", len(files), files)
	}
	for _, f := range files {
		src, err := fs.ReadFile(static, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imports.FindAllSubmatch(src, -1) {
			exists(f, string(m[1]))
		}
	}
}
