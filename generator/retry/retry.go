// Package retry is the one retry policy of portfolio: how often a failed call is tried again,
// how long it waits in between (a doubling backoff, or the server's Retry-After in seconds or
// as an HTTP date), the longest wait it accepts, and a context that stops it. Each API's
// numbers are named in policies.go; Transport applies a Policy to HTTP requests.
//
// Written here rather than with github.com/cenkalti/backoff/v5: its timer cannot be replaced
// (tests would really sleep), its RetryAfter error carries no cause and takes whole seconds,
// it resets the backoff after a Retry-After, it has no longest-acceptable wait, and its
// default backoff is randomised, where ours must be exact to be tested and documented.
package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sleeper waits d, or until ctx is done, whichever comes first; in the second case it returns
// ctx's error. Tests pass one that records d and returns at once.
type Sleeper func(ctx context.Context, d time.Duration) error

// Sleep is the real Sleeper. A non-positive d returns at once.
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

// Policy says how the calls of one API are tried again. The zero Policy tries once.
type Policy struct {
	// Attempts is how many tries a call gets in all, the first included (0 or 1: no retry).
	Attempts int
	// Backoff is the wait before the second try; it doubles before each later one.
	Backoff time.Duration
	// MaxBackoff cuts a backoff wait (Extra included) to at most this; 0: no cut.
	MaxBackoff time.Duration
	// MaxWait is the longest wait a server may ask for (Retry-After) that is honoured; a longer
	// one ends the call at once with a *TooLongError. 0: any wait is honoured.
	MaxWait time.Duration
	// Sleep waits between tries; nil: Sleep.
	Sleep Sleeper
	// OnRetry, when set, hears of each retry before its wait (for logs and counters).
	OnRetry func(err error, wait time.Duration)
}

// WithSleep returns p waiting with s (nil keeps p's).
func (p Policy) WithSleep(s Sleeper) Policy {
	if s != nil {
		p.Sleep = s
	}
	return p
}

// Error marks a failure as worth another try. Build it with Retryable, or directly for the
// rarer fields.
type Error struct {
	Err error
	// After is the wait the server asked for (Retry-After); 0: the backoff alone decides.
	After time.Duration
	// Extra is added to this retry's backoff (Pages waits longer after a 524).
	Extra time.Duration
	// Free says this try does not use up an attempt (a refreshed credential); the caller
	// bounds how often it says so.
	Free bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Retryable marks err as worth another try, after at least the wait the server asked for
// (0: the backoff). A nil err stays nil.
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err, After: after}
}

// IsRetryable reports whether err is marked retryable, and the wait the server asked for.
func IsRetryable(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.After, true
	}
	return 0, false
}

// TooLongError is a call given up because the server asked to wait longer than the policy's
// MaxWait: waiting would outlast the run, so the next run tries again.
type TooLongError struct {
	Err  error         // the failure that asked for the wait
	Wait time.Duration // what the server asked for
	Max  time.Duration // the policy's MaxWait
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("%v; not waiting longer than %s", e.Err, e.Max)
}

func (e *TooLongError) Unwrap() error { return e.Err }

// Do calls try until it returns nil or an error not marked retryable, the attempts are spent,
// the server asks for too long a wait, or ctx is done. It returns nil, try's unmarked error, the
// last failure (its retry mark removed, so an outer loop does not repeat it), a *TooLongError,
// or, when ctx ends a wait, the last failure joined with ctx's error.
func (p Policy) Do(ctx context.Context, try func(ctx context.Context) error) error {
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	used := 0 // failed tries that used up an attempt
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		var re *Error
		if !errors.As(err, &re) {
			return err
		}
		if used+1 >= p.Attempts || ctx.Err() != nil {
			return re.Err
		}
		if p.MaxWait > 0 && re.After > p.MaxWait {
			return &TooLongError{Err: re.Err, Wait: re.After, Max: p.MaxWait}
		}
		wait := p.backoff(used) + re.Extra
		if !re.Free {
			used++
		}
		if p.MaxBackoff > 0 {
			wait = min(wait, p.MaxBackoff)
		}
		wait = max(wait, re.After)
		if p.OnRetry != nil {
			p.OnRetry(re.Err, wait)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", re.Err, serr)
		}
	}
}

// backoff is the n-th backoff wait (n from 0): Backoff·2^n, without overflowing.
func (p Policy) backoff(n int) time.Duration {
	return p.Backoff << min(n, 20)
}

// FromHeader reads a response's Retry-After header: delay-seconds or an HTTP date (RFC 9110
// §10.2.3). ok is false when it is absent or unreadable; a date in the past is a zero wait.
// It is the only reader of that header in portfolio.
func FromHeader(h http.Header, now time.Time) (d time.Duration, ok bool) {
	return parseAfter(h.Get("Retry-After"), now)
}

func parseAfter(v string, now time.Time) (time.Duration, bool) {
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
