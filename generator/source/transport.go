package source

import (
	"fmt"
	"github.com/portfolio-report/portfolio/generator/retry"
	"io"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// Transport is the one retry and rate-limit policy of the API sources, written once here and
// wrapped around their http.Client (alertmanager's notify/retry_stage.go idea, at the HTTP layer
// so that a library client such as cloudflare-go gets it too):
//
//   - every request first waits for Limiter, the API's request budget;
//   - transport errors and 5xx answers are retried MaxRetries times, waiting Backoff, then
//     twice that, and so on;
//   - a 429 whose Retry-After is at most MaxRetryAfter is retried after that wait (without the
//     header, after the backoff); any other 429, or one with no retries left, ends the call with
//     a *RateLimitedError (Reset from Retry-After), which the collect loop records as rate_limited.
//
// Only read calls go through it: GraphQL and HogQL queries are POSTs, but repeating them is safe.
type Transport struct {
	Base          http.RoundTripper // default http.DefaultTransport
	Limiter       *rate.Limiter     // nil: no budget
	MaxRetries    int
	Backoff       time.Duration
	MaxRetryAfter time.Duration
	Now           func() time.Time // for Reset; default time.Now
}

// Budget returns a limiter for n requests per window that lets a run spend up to burst at once.
// The APIs count per fixed windows of several minutes and a run comes every 15 minutes, so a
// burst well under n is safe while steady use is held to the documented rate.
func Budget(n int, window time.Duration, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Every(window/time.Duration(n)), burst)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx := req.Context()
	wait := t.Backoff
	for attempt := 0; ; attempt++ {
		if t.Limiter != nil {
			if err := t.Limiter.Wait(ctx); err != nil {
				return nil, fmt.Errorf("waiting for the API budget: %w", err)
			}
		}
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := base.RoundTrip(r)
		last := attempt >= t.MaxRetries || (req.Body != nil && req.GetBody == nil)
		switch {
		case err != nil:
			if last || ctx.Err() != nil {
				return nil, err
			}
		case resp.StatusCode == http.StatusTooManyRequests:
			ra, known := retry.After(resp.Header.Get("Retry-After"), t.now())
			drain(resp)
			if !known {
				ra = wait // no Retry-After: back off as for a 5xx
			}
			if ra > t.MaxRetryAfter || last {
				var reset time.Time
				if known {
					reset = t.now().Add(ra)
				}
				return nil, &RateLimitedError{Reset: reset, Err: fmt.Errorf("HTTP 429 from %s", req.URL.Host)}
			}
			if err := retry.Sleep(ctx, ra); err != nil {
				return nil, err
			}
			if !known {
				wait *= 2
			}
			continue
		case resp.StatusCode >= 500 && !last:
			drain(resp)
		default:
			return resp, nil
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
