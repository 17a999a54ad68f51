package retry_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/retry"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func TestFromHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"absent", "", 0, false},
		{"seconds", "120", 2 * time.Minute, true},
		{"seconds with spaces", " 7 ", 7 * time.Second, true},
		{"zero", "0", 0, true},
		{"negative is unreadable", "-5", 0, false},
		{"HTTP date ahead", "Tue, 30 Jun 2026 12:01:30 GMT", 90 * time.Second, true},
		{"HTTP date past waits nothing", "Tue, 30 Jun 2026 11:00:00 GMT", 0, true},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h.Set("Retry-After", tt.in)
			}
			got, ok := retry.FromHeader(h, t0)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FromHeader(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestSleepStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := retry.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if err := retry.Sleep(context.Background(), 0); err != nil {
		t.Errorf("Sleep(0) = %v", err)
	}
	if err := retry.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v", err)
	}
}

func TestDo(t *testing.T) {
	boom := errors.New("boom")
	s := time.Second
	base := retry.Policy{Attempts: 3, Backoff: s, MaxWait: 30 * s}
	tests := []struct {
		name      string
		policy    retry.Policy
		errs      []error // the tries' answers in order; then success
		wantTries int
		wantWaits []time.Duration
		wantErr   string // empty: success
		wantMark  bool   // the error returned is still marked retryable
		tooLong   bool
	}{
		{name: "success needs one try", policy: base, wantTries: 1},
		{name: "an unmarked error is final", policy: base, errs: []error{boom}, wantTries: 1, wantErr: "boom"},
		{name: "retryable errors back off, doubling", policy: base,
			errs:      []error{retry.Retryable(boom, 0), retry.Retryable(boom, 0)},
			wantTries: 3, wantWaits: []time.Duration{s, 2 * s}},
		{name: "attempts run out: the last error, unmarked", policy: base,
			errs:      []error{retry.Retryable(boom, 0), retry.Retryable(boom, 0), retry.Retryable(boom, 0)},
			wantTries: 3, wantWaits: []time.Duration{s, 2 * s}, wantErr: "boom"},
		{name: "a Retry-After longer than the backoff wins", policy: base,
			errs: []error{retry.Retryable(boom, 7*s)}, wantTries: 2, wantWaits: []time.Duration{7 * s}},
		{name: "a Retry-After shorter than the backoff does not shorten it", policy: base,
			errs:      []error{retry.Retryable(boom, 0), retry.Retryable(boom, s)},
			wantTries: 3, wantWaits: []time.Duration{s, 2 * s}},
		{name: "a Retry-After over MaxWait ends the call", policy: base,
			errs: []error{retry.Retryable(boom, time.Hour)}, wantTries: 1, tooLong: true,
			wantErr: "boom; not waiting longer than 30s"},
		{name: "the zero policy tries once", errs: []error{retry.Retryable(boom, 0)}, wantTries: 1, wantErr: "boom"},
		{name: "MaxBackoff cuts the backoff and the extra", policy: retry.Policy{Attempts: 3, Backoff: s, MaxBackoff: 3 * s},
			errs:      []error{&retry.Error{Err: boom, Extra: 10 * s}, retry.Retryable(boom, 0)},
			wantTries: 3, wantWaits: []time.Duration{3 * s, 2 * s}},
		{name: "free tries do not use up attempts nor advance the backoff", policy: retry.Policy{Attempts: 2, Backoff: s},
			errs:      []error{&retry.Error{Err: boom, Free: true}, &retry.Error{Err: boom, Free: true}, retry.Retryable(boom, 0)},
			wantTries: 4, wantWaits: []time.Duration{s, s, s}},
		{name: "free tries end with the attempts", policy: retry.Policy{Attempts: 2, Backoff: s},
			errs:      []error{retry.Retryable(boom, 0), &retry.Error{Err: boom, Free: true}},
			wantTries: 2, wantWaits: []time.Duration{s}, wantErr: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var waits, heard []time.Duration
			p := tt.policy.WithSleep(func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			})
			p.OnRetry = func(_ error, d time.Duration) { heard = append(heard, d) }
			tries := 0
			err := p.Do(context.Background(), func(context.Context) error {
				tries++
				if tries > len(tt.errs) {
					return nil
				}
				return tt.errs[tries-1]
			})
			if tries != tt.wantTries {
				t.Errorf("tries %d, want %d", tries, tt.wantTries)
			}
			if !slices.Equal(waits, tt.wantWaits) || !slices.Equal(heard, waits) {
				t.Errorf("waits %v (OnRetry heard %v), want %v", waits, heard, tt.wantWaits)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			case err != nil:
				if _, marked := retry.IsRetryable(err); marked {
					t.Errorf("the error %v is still marked retryable: an outer loop would repeat it", err)
				}
				var tl *retry.TooLongError
				if errors.As(err, &tl) != tt.tooLong || !errors.Is(err, boom) {
					t.Errorf("error %#v: TooLongError %v, want %v, and the cause kept", err, !tt.tooLong, tt.tooLong)
				}
			}
		})
	}
}

func TestDoStopsWhenTheContextEnds(t *testing.T) {
	boom := errors.New("boom")
	ctx, cancel := context.WithCancel(context.Background())
	p := retry.Policy{Attempts: 5, Backoff: time.Hour, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	tries := 0
	err := p.Do(ctx, func(context.Context) error { tries++; return retry.Retryable(boom, 0) })
	if tries != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, boom) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("tries %d, err %v; want one try and an error naming both the failure and the cancel", tries, err)
	}
	// A real wait is cut short too.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = retry.Policy{Attempts: 2, Backoff: time.Hour}.Do(ctx, func(context.Context) error { return retry.Retryable(boom, 0) })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Errorf("err %v after %s; want the deadline, promptly", err, time.Since(start))
	}
}
