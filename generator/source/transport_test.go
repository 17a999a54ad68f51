package source_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/source"
)

func TestTransport(t *testing.T) {
	type answer struct {
		status     int
		retryAfter string
	}
	tests := []struct {
		name      string
		answers   []answer // then 200
		wantCalls int
		wantErr   string
		wantReset time.Time
	}{
		{"5xx then ok", []answer{{503, ""}, {502, ""}}, 3, "", time.Time{}},
		{"5xx every time returns the last answer", []answer{{500, ""}, {500, ""}, {500, ""}, {500, ""}}, 4, "status 500", time.Time{}},
		{"429 with a short retry-after", []answer{{429, "0"}}, 2, "", time.Time{}},
		{"429 without retry-after backs off", []answer{{429, ""}}, 2, "", time.Time{}},
		{"429 with a long retry-after", []answer{{429, "300"}}, 1, "rate limited until 2026-06-30T12:05:00Z: HTTP 429", t0.Add(5 * time.Minute)},
		{"429 with an HTTP date", []answer{{429, "Tue, 30 Jun 2026 13:00:00 GMT"}}, 1, "rate limited until 2026-06-30T13:00:00Z", t0.Add(time.Hour)},
		{"429 every time", []answer{{429, ""}, {429, ""}, {429, ""}, {429, ""}}, 4, "rate limited: HTTP 429", time.Time{}},
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
			c := &http.Client{Transport: &source.Transport{MaxRetries: 3, Backoff: time.Millisecond,
				MaxRetryAfter: 10 * time.Second, Now: func() time.Time { return t0 }}}
			resp, err := c.Post(srv.URL+"/q?token=secret", "text/plain", strings.NewReader("query"))
			switch {
			case err != nil:
				if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				var rl *source.RateLimitedError
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
		})
	}
}
