package site

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Handler serves a built site from dir the way Cloudflare Pages does: folders answer with their
// index.html, a missing file with 404.html and status 404, and the headers of _headers apply
// (rules ending in * match by prefix; every matching rule adds its headers). It is for
// `portfolio serve` and the tests: the browser test sees the production CSP.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rules := readHeaders(filepath.Join(dir, "_headers"))
		p := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
			p += "/"
		}
		for _, rule := range rules {
			if rule.match(p) {
				for _, h := range rule.headers {
					w.Header().Add(h[0], h[1])
				}
			}
		}
		if p == "/_headers" {
			notFound(w, dir)
			return
		}
		name := filepath.Join(dir, filepath.FromSlash(p))
		fi, err := os.Stat(name)
		if err == nil && fi.IsDir() {
			_, err = os.Stat(filepath.Join(name, "index.html"))
		}
		if err != nil {
			notFound(w, dir)
			return
		}
		files.ServeHTTP(w, r)
	})
}

func notFound(w http.ResponseWriter, dir string) {
	page, err := os.ReadFile(filepath.Join(dir, "404.html"))
	if err != nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(page)
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
