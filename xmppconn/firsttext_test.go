package xmppconn

import (
	"encoding/xml"
	"strings"
	"testing"
)

// TestDecodeFirstText: the body decoder reads what DecodeElement into a
// string reads (the element's own text, entities and CDATA resolved,
// nested elements left out), and keeps an earlier text.
func TestDecodeFirstText(t *testing.T) {
	tests := []string{
		`<body>hello</body>`,
		`<body></body>`,
		`<body/>`,
		`<body>a &lt;b&gt; &amp; &#x263A; &#65;</body>`,
		`<body>before<![CDATA[<raw & text>]]>after</body>`,
		`<body>a<b>nested</b>c<i/>d</body>`,
		`<body>line one
line two</body>`,
		`<body>  spaces  </body>`,
	}
	for _, in := range tests {
		want := ""
		wd := xml.NewDecoder(strings.NewReader(in))
		if err := wd.Decode(&want); err != nil {
			t.Fatalf("%s: reference: %v", in, err)
		}
		er := newElemReader(strings.NewReader(in), 4096)
		if _, err := er.tok.next(); err != nil {
			t.Fatal(err)
		}
		got := ""
		if err := er.decodeFirstText(&got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", in, got, want)
		}
		// A second body leaves the first alone and is consumed.
		er = newElemReader(strings.NewReader(in+"<next/>"), 4096)
		if _, err := er.tok.next(); err != nil {
			t.Fatal(err)
		}
		kept := "first"
		if err := er.decodeFirstText(&kept); err != nil || kept != "first" {
			t.Errorf("%s: second body: %q %v", in, kept, err)
		}
		if next, err := er.tok.next(); err != nil || next.kind != tokStart || next.name.Local != "next" {
			t.Errorf("%s: after a second body: %v %v", in, next, err)
		}
	}
}
