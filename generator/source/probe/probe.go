// Package probe is the source that needs no account: it fetches each product's health URL
// (url + health_endpoint) and records the status, the latency and its DNS/connect/TLS/first-byte
// split. A failed probe is data (the product is down), not a failed source.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
)

// errProbeFailed marks a failed attempt for the retry policy; the probe's Err says why.
var errProbeFailed = errors.New("probe failed")

// maxBody is how much of the response is read to look for the expected body text.
const maxBody = 64 << 10

// Source probes health URLs.
type Source struct {
	client *http.Client
	log    *slog.Logger
	// Sleep waits before the one retry of a failed probe (retry.Probe); default retry.Sleep.
	Sleep retry.Sleeper
	// Redactor scrubs the failure reasons stored with a probe (nil: URL credentials only).
	Redactor *redact.Redactor
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Limited = (*Source)(nil)
)

// New returns the probe source using client (its transport decides TLS roots and proxies).
func New(client *http.Client, log *slog.Logger) *Source {
	client = httpclient.Wrap(client, time.Minute) // each attempt has the product's own timeout too
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{client: client, log: log}
}

// Name implements source.Source.
func (s *Source) Name() string { return record.SourceProbe }

// Limits implements source.Limited: probes hit the products' own servers, not an API with a
// shared budget, so many run at once. The timeout covers two attempts at the longest timeout
// a product is likely to set; each attempt has the product's own timeout.
func (s *Source) Limits() source.Limits {
	return source.Limits{Concurrency: 16, Timeout: 2 * time.Minute}
}

// Collect implements source.Source. since is unused: a probe is a point in time.
func (s *Source) Collect(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
	if p.Probe.Disabled {
		return source.Result{}, skip.Because("probe disabled in config")
	}
	target := p.HealthURL()
	if target == "" {
		return source.Result{}, skip.Because("no url or health_endpoint configured")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return source.Result{}, fmt.Errorf("probe: health URL %q: want an absolute http(s) URL", redact.URL(target))
	}
	var pr *record.Probe
	policy := retry.Probe().WithSleep(s.Sleep)
	policy.OnRetry = func(error, time.Duration) {
		s.log.Debug("probe failed, retrying once", "product", p.ID, "err", pr.Err)
	}
	policy.Do(ctx, func(ctx context.Context) error {
		pr = s.attempt(ctx, p, target)
		if pr.OK() {
			return nil
		}
		return retry.Retryable(errProbeFailed, 0)
	})
	if ctx.Err() != nil && !pr.OK() {
		// The run was cancelled or the source ran out of time: that is not the product's fault.
		return source.Result{}, fmt.Errorf("probe: %w", ctx.Err())
	}
	return source.Result{Snapshot: record.Snapshot{Probe: pr}}, nil
}

// attempt makes one request and measures it.
func (s *Source) attempt(ctx context.Context, p config.Product, target string) *record.Probe {
	timeout := time.Duration(p.Probe.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var t timings
	start := time.Now()
	ctx = httptrace.WithClientTrace(ctx, t.trace(start))
	method := p.Probe.Method
	if method == "" {
		method = http.MethodGet
	}
	want := p.Probe.ExpectedStatus
	if want == 0 {
		want = http.StatusOK
	}
	pr := &record.Probe{}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		pr.Err = "bad request: " + s.Redactor.String(err.Error())
		return pr
	}
	req.Header.Set("User-Agent", "portfolio-probe/1")
	// A fresh connection each time, so connect and TLS times are measured, not skipped by reuse.
	req.Close = true
	resp, err := s.client.Do(req)
	if err != nil {
		pr.Ms = ms(time.Since(start))
		t.fill(pr)
		pr.Err = s.explain(err, timeout)
		return pr
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	pr.Ms = ms(time.Since(start))
	pr.Code = resp.StatusCode
	t.fill(pr)
	switch {
	case ctx.Err() != nil:
		// The answer came as the deadline passed: late is down, whatever the status.
		pr.Err = s.explain(ctx.Err(), timeout)
	case resp.StatusCode != want:
		pr.Err = fmt.Sprintf("wrong status %d, want %d", resp.StatusCode, want)
	case rerr != nil:
		pr.Err = "reading body: " + s.explain(rerr, timeout)
	case p.Probe.ExpectedBody != "" && !strings.Contains(string(body), p.Probe.ExpectedBody):
		pr.Err = fmt.Sprintf("body lacks %q", p.Probe.ExpectedBody)
	}
	return pr
}

// explain turns a transport error into a short reason a reader understands.
func (s *Source) explain(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its message repeats the URL
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("timeout after %s", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &dnsErr):
		return "DNS lookup failed: " + dnsErr.Err
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &invErr):
		return "TLS error: " + s.Redactor.String(err.Error())
	case errors.As(err, &recErr), strings.Contains(err.Error(), "tls:"):
		return "TLS error: " + s.Redactor.String(err.Error())
	}
	return s.Redactor.String(err.Error())
}

// timings are the moments httptrace reports, relative to the start of the request. The
// callbacks may come from the transport's goroutines (dialing races IPv4 and IPv6), hence mu.
type timings struct {
	mu                                                                   sync.Mutex
	dnsStart, dnsDone, connStart, connDone, tlsStart, tlsDone, firstByte time.Duration
}

func (t *timings) trace(start time.Time) *httptrace.ClientTrace {
	set := func(f *time.Duration, first bool) {
		t.mu.Lock()
		if !first || *f == 0 {
			*f = time.Since(start)
		}
		t.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		DNSStart:             func(httptrace.DNSStartInfo) { set(&t.dnsStart, true) },
		DNSDone:              func(httptrace.DNSDoneInfo) { set(&t.dnsDone, false) },
		ConnectStart:         func(string, string) { set(&t.connStart, true) },
		ConnectDone:          func(string, string, error) { set(&t.connDone, false) },
		TLSHandshakeStart:    func() { set(&t.tlsStart, true) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { set(&t.tlsDone, false) },
		GotFirstResponseByte: func() { set(&t.firstByte, true) },
	}
}

// fill writes the split into pr. TTFB is the time from the start of the request to the first
// response byte, so it includes DNS, connect and TLS, as curl's time_starttransfer does.
func (t *timings) fill(pr *record.Probe) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dnsDone > t.dnsStart {
		pr.DNS = ms(t.dnsDone - t.dnsStart)
	}
	if t.connDone > t.connStart {
		pr.Conn = ms(t.connDone - t.connStart)
	}
	if t.tlsDone > t.tlsStart {
		pr.TLS = ms(t.tlsDone - t.tlsStart)
	}
	if t.firstByte > 0 {
		pr.TTFB = ms(t.firstByte)
	}
}

// ms rounds to whole milliseconds.
func ms(d time.Duration) int { return int(d.Round(time.Millisecond) / time.Millisecond) }
