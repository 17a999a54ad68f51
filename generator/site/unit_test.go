package site

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeURL(t *testing.T) {
	tests := []struct {
		url  string
		safe bool
	}{
		{"https://example.com/a", true},
		{"http://example.com", true},
		{"mailto:oncall@example.com", true},
		{"/products/api/", true},
		{"../x", true},
		{"#freshness", true},
		{"?q=a:b", true},
		{"path/with:colon", true},
		{"", true},
		{"javascript:alert(1)", false},
		{"JaVaScRiPt:alert(1)", false},
		{" javascript:alert(1)", false},
		{"java\tscript:alert(1)", false},
		{"java\nscript:alert(1)", false},
		{"jav&#x61;script:alert(1)", false},
		{"jav&#97;script:alert(1)", false},
		{"javascript&colon;alert(1)", false},
		{"\x01javascript:alert(1)", false},
		{"vbscript:msgbox(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"file:///etc/passwd", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := SafeURL(tt.url); got != tt.safe {
				t.Errorf("SafeURL(%q) = %v, want %v", tt.url, got, tt.safe)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := newMarkdown()
	tests := []struct {
		name, in   string
		want       []string
		wantAbsent []string
	}{
		{"emphasis and code", "The **shop**: `cart`.", []string{"<strong>shop</strong>", "<code>cart</code>"}, nil},
		{"raw HTML is dropped", "a <script>alert(1)</script> <b onclick=x>b</b>", []string{"raw HTML omitted"}, []string{"<script", "onclick"}},
		{"html block is dropped", "<div onmouseover=\"alert(1)\">x</div>", nil, []string{"<div", "onmouseover"}},
		{"javascript link", "[x](javascript:alert(1))", []string{`<a href="#">x</a>`}, []string{"javascript"}},
		{"entity-disguised link", "[x](jav&#x61;script:alert(1))", []string{`<a href="#">x</a>`}, []string{"script:"}},
		{"tab-disguised link", "[x](<java\tscript:alert(1)>)", nil, []string{"script:"}},
		{"autolink", "<javascript:alert(1)>", []string{"javascript:alert(1)"}, []string{"<a"}},
		{"image becomes a link", "![chart](https://example.com/c.png)", []string{`<a href="https://example.com/c.png">chart</a>`}, []string{"<img"}},
		{"bad image", "![x](javascript:alert(1))", []string{`<a href="#">x</a>`}, []string{"<img", "javascript"}},
		{"safe link", "[runbook](https://runbooks.example.com/x)", []string{`<a href="https://runbooks.example.com/x">runbook</a>`}, nil},
		{"linkify", "see www.example.com", []string{`<a href="http://www.example.com">`}, nil},
		{"empty", "  ", nil, []string{"<p>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(md.Render(tt.in))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", tt.in, got, w)
				}
			}
			for _, w := range tt.wantAbsent {
				if strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, must not contain %q", tt.in, got, w)
				}
			}
		})
	}
}

func TestHandler(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"index.html":            "home",
		"404.html":              "missing",
		"products/a/index.html": "product a",
		"static/x.1234.css":     "css",
		"_headers":              "/*\n  X-Test: all\n\n/static/*\n  Cache-Control: immutable\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	tests := []struct {
		path, body, cache string
		code              int
	}{
		{"/", "home", "", 200},
		{"/products/a/", "product a", "", 200},
		{"/static/x.1234.css", "css", "immutable", 200},
		{"/products/b/", "missing", "", 404},
		{"/_headers", "missing", "", 404},
		{"/../../etc/passwd", "missing", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := new(bytes.Buffer)
			_, _ = buf.ReadFrom(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(buf.String(), tt.body) {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, buf.String(), tt.code, tt.body)
			}
			if resp.Header.Get("X-Test") != "all" || resp.Header.Get("Cache-Control") != tt.cache {
				t.Errorf("GET %s headers %v, want X-Test and Cache-Control %q", tt.path, resp.Header, tt.cache)
			}
		})
	}
}

// TestRenderUnder: headings of an incident body nest under the incident's h3, keeping their
// order, and the link guard still applies.
func TestRenderUnder(t *testing.T) {
	md := newMarkdown()
	tests := []struct {
		in     string
		parent int
		want   []string
	}{
		{"# Impact\n\ntext\n\n## Timeline\n\n### Detail", 3, []string{"<h4>Impact</h4>", "<h5>Timeline</h5>", "<h6>Detail</h6>"}},
		{"## Timeline\n\n### Detail", 3, []string{"<h4>Timeline</h4>", "<h5>Detail</h5>"}},
		{"# A\n\n###### F", 3, []string{"<h4>A</h4>", "<h6>F</h6>"}},
		{"### Notes", 1, []string{"<h2>Notes</h2>"}},
		{"no heading [x](javascript:alert(1))", 3, []string{`<a href="#">x</a>`}},
	}
	for _, tt := range tests {
		got := string(md.RenderUnder(tt.in, tt.parent))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("RenderUnder(%q, %d) = %q, want %q", tt.in, tt.parent, got, w)
			}
		}
	}
}
