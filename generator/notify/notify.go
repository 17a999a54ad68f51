// Package notify is the seam between alerts and the channels that carry them: the Notifier
// interface, the retry wrapper written once for every channel (a channel marks what may pass
// with retry.Retryable), and a small HTTP helper that keeps secrets (webhook URLs, routing
// keys) out of errors.
//
// The channels are subpackages (slack, email, githubissues, pagerduty); run.Channels (the
// channel registry, in generator/run) builds them from the config and the environment.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Notifier delivers alert notifications to one channel. It is alert.Sender.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, n alert.Notification) (Receipt, error)
}

// Receipt is what a delivered notification left behind (message id, issue number, dedup key).
type Receipt = alert.Receipt

var _ alert.Sender = Notifier(nil)

// WithRetry retries n's retryable failures (retry.Retryable) within one run by p, usually
// retry.Notify(). A Retry-After longer than p's MaxWait leaves the send to the next run. A
// notifier that reads acknowledgements keeps doing so through the wrapper.
func WithRetry(n Notifier, p retry.Policy) Notifier {
	r := &retrier{next: n, policy: p}
	if ak, ok := n.(alert.Acknowledger); ok {
		return &ackRetrier{retrier: r, ack: ak}
	}
	return r
}

// Unwrap returns the channel inside WithRetry's wrapper (n itself when it is not wrapped), for
// what a channel sends besides alerts (the weekly digest).
func Unwrap(n Notifier) Notifier {
	switch r := n.(type) {
	case *retrier:
		return r.next
	case *ackRetrier:
		return r.next
	}
	return n
}

type retrier struct {
	next   Notifier
	policy retry.Policy
}

func (r *retrier) Name() string { return r.next.Name() }

func (r *retrier) Notify(ctx context.Context, n alert.Notification) (Receipt, error) {
	var rc Receipt
	err := r.policy.Do(ctx, func(ctx context.Context) error {
		var err error
		rc, err = r.next.Notify(ctx, n)
		return err
	})
	var tl *retry.TooLongError
	if errors.As(err, &tl) {
		err = fmt.Errorf("%w (server asked to wait %s; retried next run)", tl.Err, tl.Wait)
	}
	if err != nil {
		return Receipt{}, err
	}
	return rc, nil
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
		return nil, fmt.Errorf("request to %s: invalid URL", redact.Origin(u))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "portfolio-alerts")
	req.Header.Set("Accept", "application/json, text/plain") // Slack answers "ok" as text
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, retry.Retryable(fmt.Errorf("post to %s: %w", redact.Origin(u), err), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, retry.Retryable(fmt.Errorf("read answer of %s: %w", redact.Origin(u), err), 0)
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
		after, _ := retry.FromHeader(r.Header, time.Now())
		return retry.Retryable(err, after)
	}
	return err
}
