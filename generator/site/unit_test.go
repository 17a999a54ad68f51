package site

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
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

// TestHandlerCompresses: text answers are compressed as Cloudflare compresses them (brotli
// first, else gzip, by Accept-Encoding, with Vary), other types never, and the bytes decode to
// the file.
func TestHandlerCompresses(t *testing.T) {
	dir := t.TempDir()
	page := strings.Repeat("<p>status: operational</p>\n", 200)
	for name, body := range map[string]string{
		"index.html":    page,
		"404.html":      "missing " + page,
		"feed.xml":      page,
		"static/a.png":  page,
		"static/a.js":   page,
		"api/x.json":    page,
		"badges/s.svg":  page,
		"robots.txt":    page,
		"_headers":      "/feed.xml\n  Content-Type: application/atom+xml; charset=utf-8\n",
		"static/a.woff": page,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	tests := []struct {
		path, accept, enc, ctype string
		code                     int
	}{
		{"/", "gzip, deflate, br, zstd", "br", "text/html; charset=utf-8", 200},
		{"/", "gzip", "gzip", "text/html; charset=utf-8", 200},
		{"/", "br;q=0, gzip;q=0.5", "gzip", "text/html; charset=utf-8", 200},
		{"/", "", "", "text/html; charset=utf-8", 200},
		{"/feed.xml", "br", "br", "application/atom+xml; charset=utf-8", 200},
		{"/static/a.js", "br", "br", "text/javascript; charset=utf-8", 200},
		{"/api/x.json", "gzip", "gzip", "application/json", 200},
		{"/badges/s.svg", "br", "br", "image/svg+xml", 200},
		{"/robots.txt", "br", "br", "text/plain; charset=utf-8", 200},
		{"/static/a.png", "br, gzip", "", "image/png", 200},
		{"/static/a.woff", "br, gzip", "", "font/woff", 200},
		{"/no/such/", "br", "br", "text/html; charset=utf-8", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			// A transport that leaves the body as sent (no transparent gzip).
			resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.code || resp.Header.Get("Content-Encoding") != tt.enc || resp.Header.Get("Content-Type") != tt.ctype {
				t.Fatalf("GET %s (Accept-Encoding %q) = %d, Content-Encoding %q, Content-Type %q; want %d, %q, %q", tt.path, tt.accept,
					resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"), tt.code, tt.enc, tt.ctype)
			}
			var r io.Reader = resp.Body
			switch tt.enc {
			case "br":
				r = brotli.NewReader(resp.Body)
			case "gzip":
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				r = zr
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if tt.enc != "" {
				n, _ := strconv.Atoi(resp.Header.Get("Content-Length"))
				if n == 0 || n >= len(page)/4 {
					t.Errorf("compressed length %d of %d bytes", n, len(page))
				}
				if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
					t.Errorf("no Vary: Accept-Encoding")
				}
			}
			if !strings.HasSuffix(string(got), page) {
				t.Errorf("the body does not decode to the file (%d bytes)", len(got))
			}
		})
	}
}
