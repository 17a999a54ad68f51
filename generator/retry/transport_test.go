package retry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/retry"
)

func TestTransport(t *testing.T) {
	type answer struct {
		status     int
		retryAfter string
	}
	s := time.Second
	tests := []struct {
		name      string
		method    string   // default POST with a rewindable body and RepeatPOST
		noRepeat  bool     // RepeatPOST false
		answers   []answer // then 200
		wantCalls int
		wantWaits []time.Duration
		wantErr   string // an error, or "status N" for the answer returned
		wantReset time.Time
	}{
		{name: "5xx then ok", answers: []answer{{503, ""}, {502, ""}}, wantCalls: 3, wantWaits: []time.Duration{s, 2 * s}},
		{name: "5xx every time returns the last answer", answers: []answer{{500, ""}, {500, ""}, {500, ""}, {500, ""}},
			wantCalls: 4, wantWaits: []time.Duration{s, 2 * s, 4 * s}, wantErr: "status 500"},
		{name: "429 with a short retry-after", answers: []answer{{429, "3"}}, wantCalls: 2, wantWaits: []time.Duration{3 * s}},
		{name: "429 without retry-after backs off", answers: []answer{{429, ""}}, wantCalls: 2, wantWaits: []time.Duration{s}},
		{name: "429 with a long retry-after", answers: []answer{{429, "300"}}, wantCalls: 1,
			wantErr: "rate limited until 2026-06-30T12:05:00Z: HTTP 429", wantReset: t0.Add(5 * time.Minute)},
		{name: "429 with an HTTP date", answers: []answer{{429, "Tue, 30 Jun 2026 13:00:00 GMT"}}, wantCalls: 1,
			wantErr: "rate limited until 2026-06-30T13:00:00Z", wantReset: t0.Add(time.Hour)},
		{name: "429 every time", answers: []answer{{429, ""}, {429, ""}, {429, ""}, {429, ""}}, wantCalls: 4,
			wantWaits: []time.Duration{s, 2 * s, 4 * s}, wantErr: "rate limited: HTTP 429"},
		{name: "a POST that writes is not repeated after a 5xx", noRepeat: true, answers: []answer{{500, ""}},
			wantCalls: 1, wantErr: "status 500"},
		{name: "a POST that writes is repeated after a 429: it was not taken", noRepeat: true, answers: []answer{{429, "2"}},
			wantCalls: 2, wantWaits: []time.Duration{2 * s}},
		{name: "a PUT is repeated", method: http.MethodPut, noRepeat: true, answers: []answer{{502, ""}},
			wantCalls: 2, wantWaits: []time.Duration{s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				if body, _ := io.ReadAll(r.Body); string(body) != "query" {
					t.Errorf("call %d: body %q: a retry must send the body again", n, body)
				}
				if n <= len(tt.answers) {
					a := tt.answers[n-1]
					if a.retryAfter != "" {
						w.Header().Set("Retry-After", a.retryAfter)
					}
					w.WriteHeader(a.status)
					return
				}
				w.Write([]byte("ok"))
			}))
			defer srv.Close()
			var waits []time.Duration
			policy := retry.Policy{Attempts: 4, Backoff: time.Second, MaxWait: 10 * time.Second,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			c := &http.Client{Transport: &retry.Transport{Policy: policy, RepeatPOST: !tt.noRepeat, Now: func() time.Time { return t0 }}}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, srv.URL+"/q?token=secret", strings.NewReader("query"))
			resp, err := c.Do(req)
			switch {
			case err != nil:
				if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var rl *retry.RateLimitedError
				if !errors.As(err, &rl) || !rl.Reset.Equal(tt.wantReset) {
					t.Errorf("err = %#v, want a RateLimitedError resetting at %v", err, tt.wantReset)
				}
			case tt.wantErr != "":
				resp.Body.Close()
				if !strings.Contains("status "+resp.Status, tt.wantErr) {
					t.Errorf("status = %s, want %s", resp.Status, tt.wantErr)
				}
			default:
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status = %d", resp.StatusCode)
				}
			}
			if int(calls.Load()) != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tt.wantCalls)
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
		})
	}
}

func TestTransportKeepsToTheBudget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	// One request now, then one per hour: the second call cannot get a token before the deadline.
	c := &http.Client{Transport: &retry.Transport{Limiter: retry.Budget(1, time.Hour, 1)}}
	if resp, err := c.Get(srv.URL); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "waiting for the API budget") {
		t.Errorf("err = %v, want the budget to hold the second call", err)
	}
}
