package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/time/rate"
)

// RateLimitedError is a call refused because the API's limit is spent: its data is stale, not
// failed. The collect loop records it as rate_limited.
type RateLimitedError struct {
	Reset time.Time // when the limit resets, if known
	Err   error
}

func (e *RateLimitedError) Error() string {
	if e.Reset.IsZero() {
		return "rate limited: " + e.Err.Error()
	}
	return "rate limited until " + e.Reset.UTC().Format(time.RFC3339) + ": " + e.Err.Error()
}

func (e *RateLimitedError) Unwrap() error { return e.Err }

// Budget returns a limiter for n requests per window that lets a run spend up to burst at once.
// The APIs count per fixed windows of several minutes and a run comes every 15 minutes, so a
// burst well under n is safe while steady use is held to the documented rate.
func Budget(n int, window time.Duration, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Every(window/time.Duration(n)), burst)
}

// Transport applies a Policy to HTTP requests, at the HTTP layer so that a library client
// (go-github aside, which has its own typed limit errors) gets it too:
//
//   - every try first waits for Limiter, the API's request budget;
//   - a transport error or a 5xx answer is tried again, unless the request may not be
//     repeated (a POST, unless RepeatPOST; or a body that cannot be sent twice); when the
//     attempts are spent the last 5xx answer is returned as it is;
//   - a 429 is tried again after its Retry-After (the backoff without one); when the attempts
//     are spent, or the wait is over the policy's MaxWait, the call ends with a
//     *RateLimitedError whose Reset comes from Retry-After.
type Transport struct {
	Base    http.RoundTripper // default http.DefaultTransport
	Policy  Policy
	Limiter *rate.Limiter    // nil: no budget
	Now     func() time.Time // for Reset; default time.Now
	// RepeatPOST says the API's POSTs only read (GraphQL, HogQL), so they are repeated like GETs.
	RepeatPOST bool
}

// errServerStatus marks a 5xx answer kept for the caller when the attempts run out.
var errServerStatus = errors.New("server error")

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	rewindable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	repeatable := rewindable && (req.Method != http.MethodPost && req.Method != http.MethodPatch || t.RepeatPOST)
	var last *http.Response // the latest 5xx answer, returned when the attempts run out
	tries := 0
	err := t.Policy.Do(req.Context(), func(ctx context.Context) error {
		if last != nil {
			drain(last)
			last = nil
		}
		if t.Limiter != nil {
			if err := t.Limiter.Wait(ctx); err != nil {
				return fmt.Errorf("waiting for the API budget: %w", err)
			}
		}
		r := req
		if tries > 0 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return err
				}
				r.Body = body
			}
		}
		tries++
		resp, err := base.RoundTrip(r)
		switch {
		case err != nil:
			if !repeatable {
				return err
			}
			return Retryable(err, 0)
		case resp.StatusCode == http.StatusTooManyRequests:
			ra, known := FromHeader(resp.Header, t.now())
			drain(resp)
			rl := &RateLimitedError{Err: fmt.Errorf("HTTP 429 from %s", req.URL.Host)}
			if known {
				rl.Reset = t.now().Add(ra)
			}
			if !rewindable {
				return rl
			}
			return Retryable(rl, ra) // the request was not taken: safe to send again
		case resp.StatusCode >= 500 && repeatable:
			last = resp
			return Retryable(errServerStatus, 0)
		}
		last = resp
		return nil
	})
	var tl *TooLongError
	switch {
	case err == nil:
		return last, nil
	case err == errServerStatus:
		return last, nil // the attempts are spent: the caller reads the answer
	case errors.As(err, &tl):
		err = tl.Err // a *RateLimitedError: its Reset says the rest
	}
	if last != nil {
		drain(last)
	}
	return nil, err
}

// RequestError is the error an http.Client call failed with, without the *url.Error net/http
// wraps around it, whose message repeats the request URL (the caller names the call instead).
// A *RateLimitedError the Transport gave up with comes out as it is.
func RequestError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
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
