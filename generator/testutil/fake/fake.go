// Package fake holds httptest fakes of the external APIs portfolio talks to, for tests only.
//
// This file holds what the fakes share: injected faults, the request key faults match and
// call logs list, a status recorder, a lock-guarded log, and JSON helpers.
package fake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// InjectedFault makes a fake answer matching requests badly. Every fake takes them.
type InjectedFault struct {
	// Match is a substring of "METHOD /path?query body" (the path without the fake's prefix);
	// empty matches every request.
	Match string
	// Times is how many matching requests get the fault; 0 means all of them.
	Times int
	// Status is the HTTP status to answer; 0 means 200.
	Status int
	// RetryAfter is sent as the retry-after header when set.
	RetryAfter string
	// Body is the raw body to answer (use it for malformed JSON, an envelope with
	// success:false, GraphQL errors in a 200). Empty: the fake's error body for the status.
	Body string
	// Hang makes the fake wait until the client gives up (a timeout).
	Hang bool
	// Delay is added before answering.
	Delay time.Duration

	hits int
}

// faults is a list of injected faults, consulted in order.
type faults struct {
	mu   sync.Mutex
	list []*InjectedFault
}

func (fs *faults) add(f InjectedFault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, &f)
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = nil
}

func (fs *faults) match(key string) *InjectedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		if f.Match == "" || strings.Contains(key, f.Match) {
			f.hits++
			c := *f
			return &c
		}
	}
	return nil
}

// answer serves the first fault matching key, if any, and says whether it did; defaultBody
// renders the body of a fault that names none.
func (fs *faults) answer(w http.ResponseWriter, r *http.Request, key string, defaultBody func(status int) string) bool {
	f := fs.match(key)
	if f != nil {
		f.serve(w, r, defaultBody)
	}
	return f != nil
}

// serve answers with the fault as JSON; defaultBody renders the body when the fault names none.
func (f *InjectedFault) serve(w http.ResponseWriter, r *http.Request, defaultBody func(status int) string) {
	f.serveAs(w, r, "application/json", defaultBody)
}

// serveAs answers with the fault in contentType (an API whose errors are plain text).
func (f *InjectedFault) serveAs(w http.ResponseWriter, r *http.Request, contentType string, defaultBody func(status int) string) {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.Hang {
		<-r.Context().Done()
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		body = defaultBody(status)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// requestKey reads the body (restoring it) and returns "METHOD /path?query body".
func requestKey(r *http.Request, prefix string) (string, []byte) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r.Method + " " + requestPath(r, prefix) + " " + string(body), body
}

// requestPath is the request's "/path?query" without prefix.
func requestPath(r *http.Request, prefix string) string {
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	return path
}

// sleepCtx waits d; false means the client gave up first.
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

// nowOr is now(), or time.Now() when now is nil: a fake's optional clock.
func nowOr(now func() time.Time) time.Time {
	if now != nil {
		return now()
	}
	return time.Now()
}

// startServer serves h until the test ends and returns the server and its URL with prefix.
func startServer(t testing.TB, prefix string, h http.Handler) (*httptest.Server, string) {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s, s.URL + prefix
}

// statusRecorder remembers the status written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// lockedList is a log that handlers append to while a test reads it.
type lockedList[T any] struct {
	mu    sync.Mutex
	items []T
}

func (l *lockedList[T]) add(v ...T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v...)
}

// all returns a copy of the items, oldest first.
func (l *lockedList[T]) all() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

func (l *lockedList[T]) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = nil
}

// writeJSON answers v as application/json with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// viaJSON converts v to T through its JSON form, as a client decoding the fake's answer would:
// a deep copy when T is map[string]any. Fields that do not fit T are left zero, as
// encoding/json leaves them.
func viaJSON[T any](v any) T {
	var out T
	b, _ := json.Marshal(v)
	json.Unmarshal(b, &out)
	return out
}

// jsonObject is v as a JSON object: a deep copy to edit, or a struct's fields by JSON name.
func jsonObject(v any) map[string]any { return viaJSON[map[string]any](v) }
