package notify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// scripted answers Notify with the next error of its list (nil: success).
type scripted struct {
	errs  []error
	calls int
}

func (s *scripted) Name() string { return "test" }
func (s *scripted) Notify(context.Context, alert.Notification) (notify.Receipt, error) {
	s.calls++
	if len(s.errs) == 0 {
		return notify.Receipt{MessageID: "ok"}, nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	if err == nil {
		return notify.Receipt{MessageID: "ok"}, nil
	}
	return notify.Receipt{}, err
}

type ackScripted struct{ scripted }

func (a *ackScripted) Acknowledged(context.Context, []alert.Alert) (map[string]bool, error) {
	return map[string]bool{"fp": true}, nil
}

func TestWithRetry(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantSleep []time.Duration
		wantErr   string
	}{
		{name: "success needs one call", wantCalls: 1},
		{name: "a final error is not retried", errs: []error{boom}, wantCalls: 1, wantErr: "boom"},
		{name: "a retryable error is retried with backoff", errs: []error{retry.Retryable(boom, 0), retry.Retryable(boom, 0)},
			wantCalls: 3, wantSleep: []time.Duration{time.Second, 2 * time.Second}},
		{name: "Retry-After is honoured", errs: []error{retry.Retryable(boom, 7*time.Second)},
			wantCalls: 2, wantSleep: []time.Duration{7 * time.Second}},
		{name: "attempts run out", errs: []error{retry.Retryable(boom, 0), retry.Retryable(boom, 0), retry.Retryable(boom, 0)},
			wantCalls: 3, wantSleep: []time.Duration{time.Second, 2 * time.Second}, wantErr: "boom"},
		{name: "a Retry-After beyond MaxWait is left to the next run", errs: []error{retry.Retryable(boom, time.Hour)},
			wantCalls: 1, wantErr: "retried next run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{errs: tt.errs}
			var slept []time.Duration
			n := notify.WithRetry(s, retry.Notify().WithSleep(func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}))
			_, err := n.Notify(context.Background(), alert.Notification{})
			if s.calls != tt.wantCalls {
				t.Errorf("calls %d, want %d", s.calls, tt.wantCalls)
			}
			if !slices.Equal(slept, tt.wantSleep) {
				t.Errorf("slept %v, want %v", slept, tt.wantSleep)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWithRetryKeepsAcknowledger(t *testing.T) {
	n := notify.WithRetry(&ackScripted{}, retry.Notify())
	ak, ok := n.(alert.Acknowledger)
	if !ok {
		t.Fatal("the wrapper hides Acknowledged")
	}
	if got, _ := ak.Acknowledged(context.Background(), nil); !got["fp"] {
		t.Error("Acknowledged not passed through")
	}
	if _, ok := notify.WithRetry(&scripted{}, retry.Notify()).(alert.Acknowledger); ok {
		t.Error("a plain notifier became an Acknowledger")
	}
}

func TestPostJSONKeepsTheURLOutOfErrors(t *testing.T) {
	secret := "T0/B0/SECRETsecretSECRET"
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, u := range map[string]string{"timeout": hang.URL, "refused": closed.URL} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := notify.PostJSON(ctx, &http.Client{}, u+"/services/"+secret, []byte(`{}`))
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the URL: %v", err)
			}
			if _, ok := retry.IsRetryable(err); !ok {
				t.Errorf("a transport error should be retryable: %v", err)
			}
		})
	}
}
