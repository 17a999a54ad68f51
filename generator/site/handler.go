package site

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// Handler serves a built site from dir the way Cloudflare Pages does: folders answer with their
// index.html, a missing file with 404.html and status 404, and the headers of _headers apply
// (rules ending in * match by prefix; every matching rule adds its headers, and a rule's
// Content-Type replaces the type of the file's extension). Text (HTML, CSS, JavaScript, JSON,
// XML, SVG, plain text) is compressed as Cloudflare compresses it for a browser: brotli when
// the request accepts br, else gzip when it accepts gzip, with Vary: Accept-Encoding; so the
// sizes measured against `portfolio serve` are those of production. It is for
// `portfolio serve` and the tests: the browser test sees the production CSP.
func Handler(dir string) http.Handler {
	var cache compressed
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules := readHeaders(filepath.Join(dir, "_headers"))
		p := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
			p += "/"
		}
		for _, rule := range rules {
			if rule.match(p) {
				for _, h := range rule.headers {
					if http.CanonicalHeaderKey(h[0]) == "Content-Type" {
						w.Header().Set(h[0], h[1])
					} else {
						w.Header().Add(h[0], h[1])
					}
				}
			}
		}
		if p == "/_headers" {
			notFound(w, r, dir, &cache)
			return
		}
		name := filepath.Join(dir, filepath.FromSlash(p))
		fi, err := os.Stat(name)
		if err == nil && fi.IsDir() {
			name = filepath.Join(name, "index.html")
			fi, err = os.Stat(name)
		}
		if err != nil || fi.IsDir() {
			notFound(w, r, dir, &cache)
			return
		}
		serveFile(w, r, name, fi, http.StatusOK, &cache)
	})
}

func notFound(w http.ResponseWriter, r *http.Request, dir string, cache *compressed) {
	name := filepath.Join(dir, "404.html")
	fi, err := os.Stat(name)
	if err != nil {
		w.Header().Del("Content-Type")
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	serveFile(w, r, name, fi, http.StatusNotFound, cache)
}

// serveFile answers with the file, compressed when its type is text and the client accepts it.
func serveFile(w http.ResponseWriter, r *http.Request, name string, fi os.FileInfo, code int, cache *compressed) {
	h := w.Header()
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = mime.TypeByExtension(filepath.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.Set("Content-Type", ctype)
	}
	enc := ""
	if compressible(ctype) {
		h.Add("Vary", "Accept-Encoding")
		enc = acceptedEncoding(r.Header.Get("Accept-Encoding"))
	}
	if code == http.StatusOK && enc == "" {
		f, err := os.Open(name)
		if err != nil {
			http.Error(w, "not readable", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, name, fi.ModTime(), f)
		return
	}
	body, err := cache.get(name, fi, enc)
	if err != nil {
		http.Error(w, "not readable", http.StatusInternalServerError)
		return
	}
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if code == http.StatusOK {
		h.Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))
		if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !fi.ModTime().Truncate(time.Second).After(t) {
			h.Del("Content-Length")
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// compressible reports whether Cloudflare compresses a response of this type: text, and the
// text formats of the site (JavaScript, JSON, XML, Atom, SVG).
func compressible(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	switch {
	case strings.HasPrefix(t, "text/"), strings.HasSuffix(t, "+xml"), strings.HasSuffix(t, "+json"):
		return true
	}
	switch t {
	case "application/javascript", "application/json", "application/xml", "image/svg+xml":
		return true
	}
	return false
}

// acceptedEncoding picks br, else gzip, from an Accept-Encoding header ("" for neither): the
// order in which Cloudflare prefers them for browsers. A coding with q=0 is refused.
func acceptedEncoding(header string) string {
	ok := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		ok[name] = q > 0
	}
	switch {
	case ok["br"]:
		return "br"
	case ok["gzip"]:
		return "gzip"
	}
	return ""
}

// compressed keeps each file's encoded bytes while the file is unchanged (size and mtime), so
// a page is compressed once per build, not once per request.
type compressed struct {
	mu sync.Mutex
	m  map[string]compressedFile
}

type compressedFile struct {
	size  int64
	mtime time.Time
	body  []byte
}

func (c *compressed) get(name string, fi os.FileInfo, enc string) ([]byte, error) {
	key := enc + ":" + name
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		return e.body, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	body := data
	if enc != "" {
		var buf bytes.Buffer
		var zw io.WriteCloser
		if enc == "br" {
			zw = brotli.NewWriterLevel(&buf, 5) // about Cloudflare's on-the-fly level
		} else {
			zw, _ = gzip.NewWriterLevel(&buf, gzip.DefaultCompression) // a valid level cannot fail
		}
		if _, err := zw.Write(data); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		body = buf.Bytes()
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]compressedFile{}
	}
	c.m[key] = compressedFile{size: fi.Size(), mtime: fi.ModTime(), body: body}
	c.mu.Unlock()
	return body, nil
}

type headerRule struct {
	pattern string
	headers [][2]string
}

func (h headerRule) match(p string) bool {
	if pre, ok := strings.CutSuffix(h.pattern, "*"); ok {
		return strings.HasPrefix(p, pre)
	}
	return p == h.pattern
}

// readHeaders parses the _headers format: a URL pattern on its own line, then indented
// "Name: value" lines. A missing file has no rules.
func readHeaders(file string) []headerRule {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var rules []headerRule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
		case line[0] != ' ' && line[0] != '\t':
			rules = append(rules, headerRule{pattern: t})
		case len(rules) > 0:
			if k, v, ok := strings.Cut(t, ":"); ok {
				r := &rules[len(rules)-1]
				r.headers = append(r.headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	return rules
}
