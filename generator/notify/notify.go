// Package notify is the seam between alerts and the channels that carry them: the Notifier
// interface, a typed retryable error, the retry wrapper written once for every channel, and a
// small HTTP helper that keeps secrets (webhook URLs, routing keys) out of errors.
//
// The channels are subpackages (slack, email, githubissues, pagerduty); package channels
// builds them from the config and the environment.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/portfolio-report/portfolio/generator/retry"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
)

// Notifier delivers alert notifications to one channel. It is alert.Sender.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, n alert.Notification) (Receipt, error)
}

// Receipt is what a delivered notification left behind (message id, issue number, dedup key).
type Receipt = alert.Receipt

var _ alert.Sender = Notifier(nil)

// RetryableError marks a failure that may succeed when tried again: a timeout, a 5xx, a 429.
type RetryableError struct {
	Err error
	// RetryAfter is the wait the server asked for; 0 when it did not say.
	RetryAfter time.Duration
}

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// Retryable wraps err as retryable, after the given wait (0: the wrapper's backoff).
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &RetryableError{Err: err, RetryAfter: after}
}

// IsRetryable reports whether err is marked retryable, and the wait it asks for.
func IsRetryable(err error) (time.Duration, bool) {
	var re *RetryableError
	if errors.As(err, &re) {
		return re.RetryAfter, true
	}
	return 0, false
}

// RetryOptions tune WithRetry.
type RetryOptions struct {
	Attempts int           // tries in all, default 3
	Backoff  time.Duration // first wait, doubled each time, default 1s
	// MaxWait caps a server's Retry-After; a longer one gives up for this run (the
	// notification stays owed and is sent next run). Default 30s.
	MaxWait time.Duration
	// Sleep waits d or until ctx is done; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 30 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = retry.Sleep
	}
	return o
}

// WithRetry retries n's retryable failures within one run, honouring Retry-After. A
// notifier that reads acknowledgements keeps doing so through the wrapper.
func WithRetry(n Notifier, o RetryOptions) Notifier {
	r := &retrier{next: n, opts: o.withDefaults()}
	if ak, ok := n.(alert.Acknowledger); ok {
		return &ackRetrier{retrier: r, ack: ak}
	}
	return r
}

type retrier struct {
	next Notifier
	opts RetryOptions
}

func (r *retrier) Name() string { return r.next.Name() }

func (r *retrier) Notify(ctx context.Context, n alert.Notification) (Receipt, error) {
	wait := r.opts.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		var rc Receipt
		rc, err = r.next.Notify(ctx, n)
		if err == nil {
			return rc, nil
		}
		after, ok := IsRetryable(err)
		if !ok || attempt >= r.opts.Attempts {
			break
		}
		d := wait
		if after > 0 {
			d = after
		}
		if d > r.opts.MaxWait {
			err = fmt.Errorf("%w (server asked to wait %s; retried next run)", err, after)
			break
		}
		if serr := r.opts.Sleep(ctx, d); serr != nil {
			break
		}
		wait *= 2
	}
	return Receipt{}, err
}

type ackRetrier struct {
	*retrier
	ack alert.Acknowledger
}

func (a *ackRetrier) Acknowledged(ctx context.Context, alerts []alert.Alert) (map[string]bool, error) {
	return a.ack.Acknowledged(ctx, alerts)
}

// Response is an HTTP answer read whole (bodies here are small).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxBody caps how much of an answer is read.
const maxBody = 1 << 20

// PostJSON posts body to u. Errors never contain u: webhook URLs and query strings carry
// secrets, so a transport error keeps only its cause and the URL's host. A network error or
// timeout is retryable.
func PostJSON(ctx context.Context, c *http.Client, u string, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request to %s: invalid URL", RedactURL(u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "portfolio-alerts")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, Retryable(fmt.Errorf("post to %s: %w", RedactURL(u), err), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, Retryable(fmt.Errorf("read answer of %s: %w", RedactURL(u), err), 0)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// StatusError turns a non-success answer into an error that keeps the server's text (trimmed)
// and is retryable for 429 and 5xx.
func StatusError(what string, r *Response) error {
	text := strings.Join(strings.Fields(string(r.Body)), " ")
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	err := fmt.Errorf("%s: %d %s", what, r.Status, text)
	if text == "" {
		err = fmt.Errorf("%s: %d %s", what, r.Status, http.StatusText(r.Status))
	}
	if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
		return Retryable(err, retryAfter(r.Header.Get("Retry-After")))
	}
	return err
}

// RedactURL keeps a URL's scheme and host and hides the rest, which may hold a secret (a
// webhook path, a token in the query, a password in the user info).
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "[redacted URL]"
	}
	s := p.Scheme + "://" + p.Host
	if p.Path != "" && p.Path != "/" || p.RawQuery != "" {
		s += "/[redacted]"
	}
	return s
}

// retryAfter is how long a Retry-After header asks to wait; 0 when absent or unreadable.
func retryAfter(v string) time.Duration {
	d, _ := retry.After(v, time.Now())
	return d
}
