package fake

// Hostile upstreams shared by the reliability tests: a server that redirects everything to
// another origin, a listener that records what reaches it, and one that echoes each request
// back in an error body (as some APIs and most proxies do), for the leak tests.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
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

// Echo answers every request with an error status and a body that echoes the request: the
// method, path and query, every header (Authorization included) and the body, as the JSON
// fields APIs use for errors ("message", "detail", "error", "errors") and as text, the way a
// debugging proxy or a careless API does, after a filler whose length changes with every
// request. It records the paths it was asked for.
type Echo struct {
	*httptest.Server
	// NumericCodes shapes "errors" as Cloudflare's ({"code": 10000, "message": …}) instead of
	// GitHub's ({"resource", "field", "code": "custom", "message"}): each client decodes only
	// its own.
	NumericCodes bool

	mu    sync.Mutex
	paths []string
}

// NewEcho starts an Echo answering status, closed when the test ends.
func NewEcho(t testing.TB, status int) *Echo {
	e := &Echo{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		rec := Received{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header, Body: string(body)}
		e.mu.Lock()
		e.paths = append(e.paths, req.Method+" "+req.URL.Path)
		numeric, n := e.NumericCodes, len(e.paths)
		e.mu.Unlock()
		// A filler of a different length each time moves the secrets across the places where
		// clients cut long messages short.
		echo := strings.Repeat("x", n*13%151) + " " + rec.String()
		errs := []map[string]any{{"resource": "Echo", "field": "request", "code": "custom", "message": echo}}
		if numeric {
			errs = []map[string]any{{"code": 10000, "message": echo}}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{
			"message": "echo: " + echo,
			"detail":  echo,
			"error":   echo,
			"errors":  errs,
			"success": false,
		})
	}))
	t.Cleanup(e.Close)
	return e
}

// Paths are the "METHOD /path" of the requests so far.
func (e *Echo) Paths() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.paths...)
}

// NewSMTPEcho starts an SMTP server that offers AUTH PLAIN and LOGIN without TLS and refuses
// every login with a 535 that echoes what the client sent (the base64 credentials), and
// returns its host:port. It stops when the test ends.
func NewSMTPEcho(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go smtpEcho(c)
		}
	}()
	return ln.Addr().String()
}

func smtpEcho(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { io.WriteString(c, s+"\r\n") }
	say("220 echo.test ESMTP")
	var login []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		switch {
		case login != nil:
			login = append(login, line)
			if len(login) == 2 {
				say("334 UGFzc3dvcmQ6")
				continue
			}
			say("535 5.7.8 login refused for " + strings.Join(login[1:], " "))
			login = nil
		case cmd == "EHLO" || cmd == "HELO":
			say("250-echo.test")
			say("250 AUTH PLAIN LOGIN")
		case cmd == "AUTH" && strings.Contains(strings.ToUpper(line), "LOGIN"):
			login = []string{line}
			if f := strings.Fields(line); len(f) == 3 {
				login = append(login, f[2])
				say("334 UGFzc3dvcmQ6")
				continue
			}
			say("334 VXNlcm5hbWU6")
		case cmd == "AUTH":
			say("535 5.7.8 authentication failed: " + line)
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}
