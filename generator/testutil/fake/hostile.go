package fake

// Hostile upstreams shared by the reliability tests: a server that redirects everything to
// another origin, a listener that records what reaches it, and one that echoes each request
// back in an error body (as some APIs and most proxies do), for the leak tests.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Received is one request as a Recorder saw it.
type Received struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// String is the request as text, for searching it for a secret.
func (r Received) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s?%s\n", r.Method, r.Path, r.Query)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	b.WriteString("\n" + r.Body)
	return b.String()
}

// Recorder is a listener on its own origin that records every request and answers 200 with an
// empty JSON object (or Status/Body when set).
type Recorder struct {
	*httptest.Server
	Status int
	Body   string

	mu   sync.Mutex
	reqs []Received
}

// NewRecorder starts a Recorder, closed when the test ends.
func NewRecorder(t testing.TB) *Recorder {
	r := &Recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		r.mu.Lock()
		r.reqs = append(r.reqs, Received{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
			Header: req.Header.Clone(), Body: string(body)})
		status, answer := r.Status, r.Body
		r.mu.Unlock()
		if status == 0 {
			status = http.StatusOK
		}
		if answer == "" {
			answer = "{}"
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

// Requests are the requests received so far.
func (r *Recorder) Requests() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.reqs...)
}

// NewRedirector starts a server that answers every request with status (301, 302, 307, 308)
// and the Location location: a redirect to another origin when location is another server's.
// It is closed when the test ends.
func NewRedirector(t testing.TB, status int, location string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("Location", location)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// NewEcho starts a server that answers every request with status and a body echoing it: the
// method, path and query, every header (Authorization included) and the body, as JSON fields
// an API might use for errors ("message", "detail", "error") and as plain text after them. It
// is closed when the test ends.
func NewEcho(t testing.TB, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		rec := Received{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header, Body: string(body)}
		echo := rec.String()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{
			"message": "echo: " + echo,
			"detail":  echo,
			"error":   echo,
			"errors":  []map[string]any{{"code": 10000, "message": echo}},
			"success": false,
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}
