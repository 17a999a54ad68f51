// Package cloudflare is the source of a product's Cloudflare data: HTTP analytics for its
// hostname and Workers figures from the GraphQL Analytics API, and the status of its health
// check from the v4 REST API, all through the one Cloudflare client (generator/cloudflare).
// The figures and their limits are described in docs/collect.md.
package cloudflare

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	cfapi "github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// Options configure the source. Only the token is secret.
type Options struct {
	Token     string // CLOUDFLARE_API_TOKEN; empty: every product is skipped
	AccountID string // CLOUDFLARE_ACCOUNT_ID, needed for Workers
	BaseURL   string // CLOUDFLARE_API_BASE_URL, default cfapi.DefaultBaseURL
	// Now is the run's clock; every analytics range ends Lag before it. Default time.Now.
	Now func() time.Time
	// Lag is how far behind Now every range ends, because Cloudflare's analytics arrive late;
	// default 5 minutes, as Cloudflare's own Prometheus exporter reads.
	Lag time.Duration
	// Store holds the products' snapshots, where each range starts: at the end of the interval
	// the last figures covered. nil: the previous snapshot's time (Collect's since) is used.
	Store *store.Store
	// FirstWindow is the range read when a product has no figures yet; default 15 min.
	FirstWindow time.Duration
	// MaxQueriesPerRequest is how many queries (dataset nodes under each zones or accounts
	// scope) one GraphQL request may hold. Cloudflare limits it without publishing a number;
	// default 50, enough for 200 products in 200 zones in one request.
	MaxQueriesPerRequest int
	// Budgets: requests per five minutes (REST 1200, GraphQL 300 per the docs), and how many a
	// run may spend at once (default half of each).
	RESTPerFiveMin, GraphQLPerFiveMin int
	RESTBurst, GraphQLBurst           int
	// Sleep waits between retries (retry.CloudflareCollect); default retry.Sleep.
	Sleep retry.Sleeper
	// Concurrency is how many products are collected at once (default 8).
	Concurrency int
}

// OptionsFromEnv reads the standard environment variables.
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{
		Token:     getenv(config.EnvCloudflareToken),
		AccountID: getenv(config.EnvCloudflareAccount),
		BaseURL:   getenv(config.EnvCloudflareBaseURL),
	}
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FirstWindow <= 0 {
		o.FirstWindow = 15 * time.Minute
	}
	if o.Lag == 0 {
		o.Lag = 5 * time.Minute
	}
	if o.MaxQueriesPerRequest <= 0 {
		o.MaxQueriesPerRequest = 50
	}
	if o.RESTPerFiveMin <= 0 {
		o.RESTPerFiveMin = 1200
	}
	if o.GraphQLPerFiveMin <= 0 {
		o.GraphQLPerFiveMin = 300
	}
	if o.RESTBurst <= 0 {
		o.RESTBurst = o.RESTPerFiveMin / 2
	}
	if o.GraphQLBurst <= 0 {
		o.GraphQLBurst = o.GraphQLPerFiveMin / 2
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
}

// Source collects Cloudflare data. It keeps per run what Prepare asked for every product and
// what products share (a zone's health check list), so build one per run.
type Source struct {
	opt     Options
	api     *cfapi.Client // nil without a token
	log     *slog.Logger
	mu      sync.Mutex
	hcs     map[string]*zoneOnce[[]cfapi.Healthcheck]
	answers map[string]*answer // by product id, from Prepare
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Batcher = (*Source)(nil)
	_ source.Limited = (*Source)(nil)
	_ source.Readier = (*Source)(nil)
)

// zoneOnce computes a per-zone value once per run, however many products ask at once. A
// failure is not kept: it came under one product's deadline, and the next product tries again.
type zoneOnce[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
}

func (z *zoneOnce[T]) get(f func() (T, error)) (T, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.done {
		return z.v, nil
	}
	v, err := f()
	if err != nil {
		return v, err
	}
	z.v, z.done = v, true
	return v, nil
}

// New returns the source. client's transport carries the requests (tests pass a fake's client).
func New(o Options, client *http.Client, log *slog.Logger) (*Source, error) {
	o.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{opt: o, log: log, hcs: map[string]*zoneOnce[[]cfapi.Healthcheck]{}, answers: map[string]*answer{}}
	if o.Token == "" {
		return s, nil
	}
	policy := retry.CloudflareCollect().WithSleep(o.Sleep)
	s.api = cfapi.New(cfapi.Options{
		Token:   o.Token,
		BaseURL: o.BaseURL,
		REST:    cfapi.Limits{Budget: retry.Budget(o.RESTPerFiveMin, 5*time.Minute, o.RESTBurst), Retry: &policy},
		GraphQL: cfapi.Limits{Budget: retry.Budget(o.GraphQLPerFiveMin, 5*time.Minute, o.GraphQLBurst), Retry: &policy},
		Now:     o.Now,
	}, client)
	return s, nil
}

// Name implements source.Source.
func (s *Source) Name() string { return record.SourceCloudflare }

// Limits implements source.Limited. The request budgets are enforced by the transport; the
// timeout leaves room for retries and a short Retry-After.
func (s *Source) Limits() source.Limits {
	return source.Limits{Concurrency: s.opt.Concurrency, Timeout: 90 * time.Second}
}

// Ready implements source.Readier: the source needs CLOUDFLARE_API_TOKEN.
func (s *Source) Ready() error {
	if s.api == nil {
		return skip.Because(config.EnvCloudflareToken + " not set")
	}
	return nil
}

// Collect implements source.Source: the product's HTTP analytics and Workers figures as
// Prepare read them (or, when Prepare did not run, as it reads them for this product alone),
// over the range since the last figures ended up to Lag before now, and the status of its
// health check. Whatever part succeeds is returned even when another fails.
func (s *Source) Collect(ctx context.Context, p config.Product, since time.Time) (source.Result, error) {
	c := p.Cloudflare
	if c.ZoneID == "" && c.Worker == "" {
		return source.Result{}, skip.Because("no cloudflare.zone_id or cloudflare.worker configured")
	}
	if err := s.Ready(); err != nil {
		return source.Result{}, err
	}
	a := s.answer(ctx, p, since)
	var res source.Result
	var errs []error
	if c.ZoneID != "" {
		if host := hostOf(p); host != "" {
			if a.httpErr != nil {
				errs = append(errs, fmt.Errorf("http analytics for %s: %w", host, a.httpErr))
			} else {
				res.Snapshot.HTTP = a.http
			}
		}
		if !p.HealthCheck.Disabled || c.HealthcheckID != "" {
			st, err := s.healthStatus(ctx, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("health check: %w", err))
			} else {
				res.Snapshot.Health = st
			}
		}
	}
	if c.Worker != "" {
		switch {
		case s.opt.AccountID == "":
			errs = append(errs, fmt.Errorf("worker %s: %s not set", c.Worker, config.EnvCloudflareAccount))
		case a.workerErr != nil:
			errs = append(errs, fmt.Errorf("worker %s: %w", c.Worker, a.workerErr))
		default:
			res.Snapshot.Worker = a.worker
		}
	}
	if len(errs) > 0 {
		return res, &partError{errs}
	}
	return res, nil
}

// answer is what Prepare learned for the product; without Prepare, the product is asked
// about alone.
func (s *Source) answer(ctx context.Context, p config.Product, since time.Time) *answer {
	s.mu.Lock()
	a, ok := s.answers[p.ID]
	s.mu.Unlock()
	if ok {
		return a
	}
	s.prepare(ctx, []config.Product{p}, map[string]time.Time{p.ID: since})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.answers[p.ID]
}

// hostOf is the hostname whose requests are the product's: cloudflare.hostname, else url's.
func hostOf(p config.Product) string {
	if h := p.Cloudflare.Hostname; h != "" {
		return h
	}
	if u, err := url.Parse(p.URL); err == nil {
		return u.Hostname()
	}
	return ""
}

// partError joins the errors of a product's parts on one line (errors.Join uses newlines,
// which a snapshot line and a CI annotation should not carry). errors.As sees each part, so a
// rate-limited part marks the source rate limited.
type partError struct{ errs []error }

func (e *partError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return "cloudflare: " + strings.Join(msgs, "; ")
}

func (e *partError) Unwrap() []error { return e.errs }

// ---- health checks (REST) ----

// healthStatus is the product's health check status: the configured id, or the check named
// portfolio-<id> in the zone. No such check yet is not an error: Health stays empty.
func (s *Source) healthStatus(ctx context.Context, p config.Product) (string, error) {
	zone := p.Cloudflare.ZoneID
	if id := p.Cloudflare.HealthcheckID; id != "" {
		var hc cfapi.Healthcheck
		if err := s.api.Get(ctx, "/zones/"+url.PathEscape(zone)+"/healthchecks/"+url.PathEscape(id), &hc); err != nil {
			return "", fmt.Errorf("get %s: %w", id, err)
		}
		return healthState(hc), nil
	}
	all, err := s.zoneHealthchecks(ctx, zone)
	if err != nil {
		return "", err
	}
	want := cfapi.HealthcheckName(p.ID)
	for _, hc := range all {
		if hc.Name == want {
			return healthState(hc), nil
		}
	}
	s.log.Debug("no health check yet; run `portfolio healthchecks apply`", "product", p.ID, "name", want)
	return "", nil
}

func healthState(hc cfapi.Healthcheck) string {
	if hc.Suspended {
		return "suspended"
	}
	switch hc.Status {
	case "healthy", "unhealthy", "suspended":
		return hc.Status
	}
	return "unknown"
}

// zoneHealthchecks lists every health check of the zone, once per run.
func (s *Source) zoneHealthchecks(ctx context.Context, zone string) ([]cfapi.Healthcheck, error) {
	s.mu.Lock()
	z, ok := s.hcs[zone]
	if !ok {
		z = &zoneOnce[[]cfapi.Healthcheck]{}
		s.hcs[zone] = z
	}
	s.mu.Unlock()
	return z.get(func() ([]cfapi.Healthcheck, error) {
		all, err := cfapi.ListInto[cfapi.Healthcheck](ctx, s.api, "/zones/"+url.PathEscape(zone)+"/healthchecks", "", 50)
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		return all, nil
	})
}
