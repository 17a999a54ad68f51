// Package retry holds the two pieces every HTTP client of portfolio needs to wait politely:
// reading a Retry-After header and sleeping without outliving the context.
package retry

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// After reads a Retry-After header value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
// ok is false when the header is absent or unreadable; a date in the past is a zero wait.
func After(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0).Round(time.Second), true
	}
	return 0, false
}

// Sleep waits d, or until ctx is done, whichever comes first; it returns ctx's error in the
// second case. A non-positive d returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
