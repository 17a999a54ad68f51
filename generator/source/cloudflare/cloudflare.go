// Package cloudflare is the source of a product's Cloudflare data: HTTP analytics for its
// hostname and Workers figures from the GraphQL Analytics API, and the status of its health
// check from the v4 REST API, all through the one Cloudflare client (generator/cloudflare).
// The figures and their limits are described in docs/collect.md.
package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
)

// Options configure the source. Only the token is secret.
type Options struct {
	Token     string // CLOUDFLARE_API_TOKEN; empty: every product is skipped
	AccountID string // CLOUDFLARE_ACCOUNT_ID, needed for Workers
	BaseURL   string // CLOUDFLARE_API_BASE_URL, default cfapi.DefaultBaseURL
	// Now is the end of every analytics range (the run's clock), so consecutive snapshots
	// cover consecutive intervals. Default time.Now.
	Now func() time.Time
	// FirstWindow is the range read when a product has no previous snapshot; default 15 min.
	FirstWindow time.Duration
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

// Source collects Cloudflare data. It caches per run what products share (a zone's health
// check list and dataset limits), so build one per run.
type Source struct {
	opt  Options
	api  *cfapi.Client // nil without a token
	log  *slog.Logger
	mu   sync.Mutex
	hcs  map[string]*zoneOnce[[]cfapi.Healthcheck]
	lims map[string]*zoneOnce[datasetLimits]
}

var (
	_ source.Source  = (*Source)(nil)
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
	s := &Source{opt: o, log: log, hcs: map[string]*zoneOnce[[]cfapi.Healthcheck]{}, lims: map[string]*zoneOnce[datasetLimits]{}}
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

// Collect implements source.Source: HTTP analytics since the previous snapshot and the health
// check status when the product has a zone, Workers figures when it names a worker. Whatever
// part succeeds is returned even when another fails.
func (s *Source) Collect(ctx context.Context, p config.Product, since time.Time) (source.Result, error) {
	c := p.Cloudflare
	if c.ZoneID == "" && c.Worker == "" {
		return source.Result{}, skip.Because("no cloudflare.zone_id or cloudflare.worker configured")
	}
	if err := s.Ready(); err != nil {
		return source.Result{}, err
	}
	end := s.opt.Now().UTC().Truncate(time.Second)
	start := since.UTC()
	if start.IsZero() || !start.Before(end) {
		start = end.Add(-s.opt.FirstWindow)
	}
	var res source.Result
	var errs []error
	if c.ZoneID != "" {
		host := c.Hostname
		if host == "" {
			if u, err := url.Parse(p.URL); err == nil {
				host = u.Hostname()
			}
		}
		if host != "" {
			h, err := s.httpStats(ctx, c.ZoneID, host, start, end)
			if err != nil {
				errs = append(errs, fmt.Errorf("http analytics for %s: %w", host, err))
			} else {
				res.Snapshot.HTTP = h
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
		if s.opt.AccountID == "" {
			errs = append(errs, fmt.Errorf("worker %s: %s not set", c.Worker, config.EnvCloudflareAccount))
		} else {
			w, err := s.workerStats(ctx, c.Worker, start, end)
			if err != nil {
				errs = append(errs, fmt.Errorf("worker %s: %w", c.Worker, err))
			} else {
				res.Snapshot.Worker = w
			}
		}
	}
	if len(errs) > 0 {
		return res, &partError{errs}
	}
	return res, nil
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

// ---- GraphQL analytics ----

// datasetLimits are httpRequestsAdaptiveGroups' range limits for a zone.
type datasetLimits struct {
	MaxDuration  int  `json:"maxDuration"`  // seconds
	NotOlderThan int  `json:"notOlderThan"` // seconds
	Enabled      bool `json:"enabled"`
}

const settingsQuery = `query($zoneTag:string){viewer{zones(filter:{zoneTag:$zoneTag}){settings{httpRequestsAdaptiveGroups{enabled maxDuration notOlderThan maxPageSize}}}}}`

func (s *Source) datasetLimits(ctx context.Context, zone string) (datasetLimits, error) {
	s.mu.Lock()
	z, ok := s.lims[zone]
	if !ok {
		z = &zoneOnce[datasetLimits]{}
		s.lims[zone] = z
	}
	s.mu.Unlock()
	return z.get(func() (datasetLimits, error) {
		var out struct {
			Viewer struct {
				Zones []struct {
					Settings struct {
						HTTP *datasetLimits `json:"httpRequestsAdaptiveGroups"`
					} `json:"settings"`
				} `json:"zones"`
			} `json:"viewer"`
		}
		if err := s.api.GraphQL(ctx, settingsQuery, map[string]any{"zoneTag": zone}, &out); err != nil {
			return datasetLimits{}, fmt.Errorf("dataset limits: %w", err)
		}
		if len(out.Viewer.Zones) == 0 || out.Viewer.Zones[0].Settings.HTTP == nil {
			return datasetLimits{}, fmt.Errorf("dataset limits: zone %s not found or not readable with this token", zone)
		}
		return *out.Viewer.Zones[0].Settings.HTTP, nil
	})
}

const httpQuery = `query($zoneTag:string,$start:Time,$end:Time,$host:string){viewer{zones(filter:{zoneTag:$zoneTag}){
total: httpRequestsAdaptiveGroups(limit:1, filter:{datetime_geq:$start,datetime_lt:$end,clientRequestHTTPHost:$host,requestSource:"eyeball"}){
count quantiles{edgeTimeToFirstByteMsP50 edgeTimeToFirstByteMsP95}}
byStatus: httpRequestsAdaptiveGroups(limit:100, orderBy:[count_DESC], filter:{datetime_geq:$start,datetime_lt:$end,clientRequestHTTPHost:$host,requestSource:"eyeball"}){
count dimensions{edgeResponseStatus}}}}}`

// httpStats reads the hostname's requests, 4xx, 5xx and edge TTFB p50/p95 over [start, end),
// the range first cut to what the dataset allows (the most recent part is kept).
func (s *Source) httpStats(ctx context.Context, zone, host string, start, end time.Time) (*record.HTTPStats, error) {
	lim, err := s.datasetLimits(ctx, zone)
	if err != nil {
		return nil, err
	}
	if !lim.Enabled && lim.MaxDuration == 0 {
		return nil, errors.New("httpRequestsAdaptiveGroups is not enabled for this zone")
	}
	start = capRange(start, end, time.Duration(lim.MaxDuration)*time.Second, time.Duration(lim.NotOlderThan)*time.Second)
	var out struct {
		Viewer struct {
			Zones []struct {
				Total []struct {
					Count     int64 `json:"count"`
					Quantiles struct {
						P50 float64 `json:"edgeTimeToFirstByteMsP50"`
						P95 float64 `json:"edgeTimeToFirstByteMsP95"`
					} `json:"quantiles"`
				} `json:"total"`
				ByStatus []struct {
					Count      int64 `json:"count"`
					Dimensions struct {
						Status int `json:"edgeResponseStatus"`
					} `json:"dimensions"`
				} `json:"byStatus"`
			} `json:"zones"`
		} `json:"viewer"`
	}
	vars := map[string]any{"zoneTag": zone, "host": host,
		"start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339)}
	if err := s.api.GraphQL(ctx, httpQuery, vars, &out); err != nil {
		return nil, err
	}
	if len(out.Viewer.Zones) == 0 {
		return nil, fmt.Errorf("zone %s not found or not readable with this token", zone)
	}
	z := out.Viewer.Zones[0]
	h := &record.HTTPStats{}
	if len(z.Total) > 0 {
		h.Requests = z.Total[0].Count
		h.P50Ms = round1(z.Total[0].Quantiles.P50)
		h.P95Ms = round1(z.Total[0].Quantiles.P95)
	}
	for _, g := range z.ByStatus {
		switch g.Dimensions.Status / 100 {
		case 4:
			h.Status4x += g.Count
		case 5:
			h.Status5x += g.Count
		}
	}
	return h, nil
}

const workersQuery = `query($accountTag:string!,$script:string,$start:Time,$end:Time){viewer{accounts(filter:{accountTag:$accountTag}){
workersInvocationsAdaptive(limit:100, filter:{scriptName:$script,datetime_geq:$start,datetime_leq:$end}){
sum{requests errors} quantiles{cpuTimeP50 cpuTimeP99} dimensions{scriptName}}}}}`

// Workers data: at most a month per query, no older than three months (limits.mdx).
const (
	workersMaxDuration  = 30 * 24 * time.Hour
	workersNotOlderThan = 90 * 24 * time.Hour
)

// workerStats reads the script's invocations, errors and CPU p50/p99 (µs) over the range.
func (s *Source) workerStats(ctx context.Context, script string, start, end time.Time) (*record.WorkerStats, error) {
	start = capRange(start, end, workersMaxDuration, workersNotOlderThan)
	var out struct {
		Viewer struct {
			Accounts []struct {
				Rows []struct {
					Sum struct {
						Requests int64 `json:"requests"`
						Errors   int64 `json:"errors"`
					} `json:"sum"`
					Quantiles struct {
						P50 float64 `json:"cpuTimeP50"`
						P99 float64 `json:"cpuTimeP99"`
					} `json:"quantiles"`
				} `json:"workersInvocationsAdaptive"`
			} `json:"accounts"`
		} `json:"viewer"`
	}
	// The end is inclusive in this dataset; a second less keeps ranges from overlapping.
	vars := map[string]any{"accountTag": s.opt.AccountID, "script": script,
		"start": start.Format(time.RFC3339), "end": end.Add(-time.Second).Format(time.RFC3339)}
	if err := s.api.GraphQL(ctx, workersQuery, vars, &out); err != nil {
		return nil, err
	}
	if len(out.Viewer.Accounts) == 0 {
		return nil, errors.New("account not found or not readable with this token")
	}
	w := &record.WorkerStats{}
	// Grouped by scriptName only there is one row; should there be more, the quantiles are
	// weighted by requests (p50) and the worst is kept (p99): an estimate, like the data.
	var p50 float64
	for _, r := range out.Viewer.Accounts[0].Rows {
		w.Requests += r.Sum.Requests
		w.Errors += r.Sum.Errors
		p50 += r.Quantiles.P50 * float64(r.Sum.Requests)
		w.CPUP99 = max(w.CPUP99, r.Quantiles.P99)
	}
	if w.Requests > 0 {
		w.CPUP50 = round1(p50 / float64(w.Requests))
	}
	w.CPUP99 = round1(w.CPUP99)
	return w, nil
}

// capRange moves start forward so that [start, end) is at most maxDur wide and starts no
// earlier than notOlder before end (a minute of margin, as the API's clock runs on).
func capRange(start, end time.Time, maxDur, notOlder time.Duration) time.Time {
	if maxDur > 0 && end.Sub(start) > maxDur {
		start = end.Add(-maxDur)
	}
	if notOlder > time.Minute && end.Sub(start) > notOlder-time.Minute {
		start = end.Add(-(notOlder - time.Minute))
	}
	return start
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
