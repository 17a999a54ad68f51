// Package posthog reads product analytics from PostHog's HogQL query API (plain net/http:
// posthog-go cannot query) and sends portfolio's own events with posthog-go (sender.go).
// The figures, the query and the limits are described in docs/collect.md.
package posthog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/httpbody"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
)

// Days is how many UTC days, today included, each run reads again (late events land in them).
const Days = 7

// Options configure the source. The keys are secret.
type Options struct {
	Host        string // POSTHOG_HOST, e.g. https://us.posthog.com (a path prefix is kept)
	PersonalKey string // POSTHOG_PERSONAL_API_KEY, scope query:read (annotation:write for markers)
	ProjectID   string // POSTHOG_PROJECT_ID
	ProjectKey  string // POSTHOG_API_KEY, the project key events are captured with (sender only)
	// CaptureHost receives events (POSTHOG_CAPTURE_HOST), default Host; PostHog Cloud's is
	// https://us.i.posthog.com or https://eu.i.posthog.com.
	CaptureHost string
	Now         func() time.Time // default time.Now
	// Concurrency is how many queries run at once: PostHog allows 3 per project.
	Concurrency int
	// Sleep waits between retries (retry.PostHog); default retry.Sleep.
	Sleep retry.Sleeper
	// MaxAnswer caps an answer's size; default MaxBody.
	MaxAnswer int64
}

// Env names beyond config's standard ones.
const EnvPostHogCaptureHost = "POSTHOG_CAPTURE_HOST"

// OptionsFromEnv reads the standard environment variables.
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{
		Host:        getenv(config.EnvPostHogHost),
		PersonalKey: getenv(config.EnvPostHogPersonalKey),
		ProjectID:   getenv(config.EnvPostHogProjectID),
		ProjectKey:  getenv(config.EnvPostHogAPIKey),
		CaptureHost: getenv(EnvPostHogCaptureHost),
	}
}

func (o *Options) defaults() {
	o.Host = strings.TrimRight(o.Host, "/")
	if o.CaptureHost == "" {
		o.CaptureHost = o.Host
	}
	o.CaptureHost = strings.TrimRight(o.CaptureHost, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 3
	}
	if o.MaxAnswer <= 0 {
		o.MaxAnswer = MaxBody
	}
}

// Source reads daily analytics per product. It keeps per run what Prepare's query answered,
// so build one per run.
type Source struct {
	opt    Options
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	answers map[string]*answer // by "property=value"
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Batcher = (*Source)(nil)
	_ source.Limited = (*Source)(nil)
	_ source.Readier = (*Source)(nil)
)

// New returns the source; client's transport carries the requests.
func New(o Options, client *http.Client, log *slog.Logger) *Source {
	o.defaults()
	client = httpclient.Wrap(client, time.Minute)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{opt: o, client: apiClient(o, client), log: log, answers: map[string]*answer{}}
}

// apiClient wraps client in PostHog's retry policy and budget (2400 requests an hour, 240 a
// minute: a run may spend a minute's worth at once). HogQL queries are POSTs that only read, so
// they are repeated like GETs; an annotation is looked for before it is made.
func apiClient(o Options, client *http.Client) *http.Client {
	c := *client
	c.Transport = &retry.Transport{
		Base:       client.Transport,
		Policy:     retry.PostHog().WithSleep(o.Sleep),
		Limiter:    retry.Budget(240, time.Minute, 120),
		Now:        o.Now,
		RepeatPOST: true,
	}
	return &c
}

// Name implements source.Source.
func (s *Source) Name() string { return record.SourcePostHog }

// Limits implements source.Limited: 3 concurrent queries per project; a query may run 10 s and
// wait 30 s in PostHog's queue.
func (s *Source) Limits() source.Limits {
	return source.Limits{Concurrency: s.opt.Concurrency, Timeout: 90 * time.Second}
}

// Allow-lists for the values spliced into HogQL: PostHog documents no bind parameters for a
// plain HogQLQuery, so only values that cannot carry a quote or a backslash get in.
var (
	validHost    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?$`)
	validProduct = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)
	validEvent   = regexp.MustCompile(`^[A-Za-z0-9$][A-Za-z0-9_$ .:/-]{0,99}$`)
)

// filterOf is the product's filter, checked against the allow-lists: the property
// (properties.$host or properties.product) and its value.
func filterOf(p config.PostHog) (prop, value string, err error) {
	switch {
	case p.Host != "":
		if !validHost.MatchString(p.Host) {
			return "", "", fmt.Errorf("posthog.host %q: want a host name like app.example.com", p.Host)
		}
		return propHost, p.Host, nil
	case p.Product != "":
		if !validProduct.MatchString(p.Product) {
			return "", "", fmt.Errorf("posthog.product %q: want letters, digits, _ . -", p.Product)
		}
		return propProduct, p.Product, nil
	}
	return "", "", skip.Because("no posthog.host or posthog.product configured")
}

// The properties a product's events are found by.
const (
	propHost    = "properties.$host"
	propProduct = "properties.product"
)

// maxRows is the most rows one HogQL query may return (PostHog's query API: 50,000 with an
// explicit LIMIT, posthog.com/docs/api/queries); the products are split over several
// queries only beyond maxRows / Days keys.
const maxRows = 50000

// batch is one query's question: the hosts and product names it groups by, and the key event
// columns k0, k1, … it counts.
type batch struct {
	hosts, products []string
	events          []string
}

func (b batch) keys() int { return len(b.hosts) + len(b.products) }

// sql is the batch's HogQL: for each host (properties.$host) and product name
// (properties.product), its DAU, pageviews and key events per UTC day over the Days days
// ending with now's. A product filtered by host and one filtered by name may see the same
// event; each grouping is its own SELECT, joined with UNION ALL, so both count it.
func (b batch) sql(now time.Time) string {
	end := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	start := end.AddDate(0, 0, -Days)
	const day = "2006-01-02"
	cols := []string{"by", "key", "day", "dau", "pageviews"}
	for i := range b.events {
		cols = append(cols, fmt.Sprintf("k%d", i))
	}
	part := func(by, prop string, values []string) string {
		exprs := []string{"'" + by + "' AS by", prop + " AS key", "toDate(toTimeZone(timestamp, 'UTC')) AS day",
			"count(DISTINCT person_id) AS dau", "countIf(event = '$pageview') AS pageviews"}
		for i, e := range b.events {
			exprs = append(exprs, fmt.Sprintf("countIf(event = '%s') AS k%d", e, i))
		}
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = "'" + v + "'"
		}
		return fmt.Sprintf("SELECT %s FROM events WHERE timestamp >= toDateTime('%s 00:00:00', 'UTC') AND timestamp < toDateTime('%s 00:00:00', 'UTC') AND %s IN (%s) GROUP BY key, day",
			strings.Join(exprs, ", "), start.Format(day), end.Format(day), prop, strings.Join(quoted, ", "))
	}
	var parts []string
	if len(b.hosts) > 0 {
		parts = append(parts, part("host", propHost, b.hosts))
	}
	if len(b.products) > 0 {
		parts = append(parts, part("product", propProduct, b.products))
	}
	limit := b.keys() * Days
	if len(parts) == 1 {
		return fmt.Sprintf("%s ORDER BY key, day LIMIT %d", parts[0], limit)
	}
	return fmt.Sprintf("SELECT %s FROM (%s) ORDER BY by, key, day LIMIT %d", strings.Join(cols, ", "), strings.Join(parts, " UNION ALL "), limit)
}

// Query is the HogQL that reads one product's daily figures (a batch of one), or the error
// of a configured value outside the allow-list.
func Query(p config.PostHog, now time.Time) (string, error) {
	prop, value, err := filterOf(p)
	if err != nil {
		return "", err
	}
	for i, e := range p.KeyEvents {
		if !validEvent.MatchString(e) {
			return "", fmt.Errorf("posthog.key_events[%d] %q: want letters, digits, spaces, _ $ . : / -", i, e)
		}
	}
	b := batch{events: p.KeyEvents}
	if prop == propHost {
		b.hosts = []string{value}
	} else {
		b.products = []string{value}
	}
	return b.sql(now), nil
}

// Ready implements source.Readier: queries need the host, a personal API key and the project.
func (s *Source) Ready() error {
	var missing []string
	for _, kv := range [][2]string{{config.EnvPostHogHost, s.opt.Host}, {config.EnvPostHogPersonalKey, s.opt.PersonalKey}, {config.EnvPostHogProjectID, s.opt.ProjectID}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	if len(missing) > 0 {
		return skip.Because(strings.Join(missing, ", ") + " not set")
	}
	return nil
}

// Prepare implements source.Batcher: one HogQL query for every product's figures, grouped by
// host and product name, so a run costs one query whatever the number of products (PostHog
// throttles HogQL queries to 120 an hour for some projects and by default on self-hosted
// instances; at a 15-minute cadence a run may spend 30). Collect reads the answer.
func (s *Source) Prepare(ctx context.Context, ps []config.Product, _ map[string]time.Time) error {
	if s.Ready() != nil {
		return nil
	}
	s.prepare(ctx, ps)
	return nil
}

// answer is what the batched query said of one filter value (by "host" or "product").
type answer struct {
	days map[string]dayFigures // by YYYY-MM-DD
	err  error
}

type dayFigures struct {
	dau, pageviews int64
	events         map[string]int64
}

func (s *Source) prepare(ctx context.Context, ps []config.Product) {
	now := s.opt.Now()
	var hosts, products, events []string
	for _, p := range ps {
		prop, value, err := filterOf(p.PostHog)
		if err != nil {
			continue // Collect says why
		}
		bad := false
		for _, e := range p.PostHog.KeyEvents {
			bad = bad || !validEvent.MatchString(e)
		}
		if bad {
			continue
		}
		if prop == propHost && !slices.Contains(hosts, value) {
			hosts = append(hosts, value)
		}
		if prop == propProduct && !slices.Contains(products, value) {
			products = append(products, value)
		}
		for _, e := range p.PostHog.KeyEvents {
			if !slices.Contains(events, e) {
				events = append(events, e)
			}
		}
	}
	slices.Sort(hosts)
	slices.Sort(products)
	slices.Sort(events)
	answers := map[string]*answer{}
	// One query holds at most maxRows / Days keys: the products are split beyond that.
	per := maxRows / Days
	for len(hosts)+len(products) > 0 {
		b := batch{events: events}
		n := min(len(hosts), per)
		b.hosts, hosts = hosts[:n], hosts[n:]
		m := min(len(products), per-n)
		b.products, products = products[:m], products[m:]
		figures, err := s.runBatch(ctx, b, now)
		if err != nil && errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = &source.TimedOutError{Msg: "timed out", Err: err}
		}
		for _, h := range b.hosts {
			answers[propHost+"="+h] = &answer{days: figures["host\x00"+h], err: err}
		}
		for _, p := range b.products {
			answers[propProduct+"="+p] = &answer{days: figures["product\x00"+p], err: err}
		}
	}
	s.mu.Lock()
	for k, a := range answers {
		s.answers[k] = a
	}
	s.mu.Unlock()
}

// runBatch sends one batch and returns its figures by "by\x00key", then day.
func (s *Source) runBatch(ctx context.Context, b batch, now time.Time) (map[string]map[string]dayFigures, error) {
	resp, err := s.query(ctx, b.sql(now), fmt.Sprintf("portfolio daily (%d hosts, %d products)", len(b.hosts), len(b.products)))
	if err != nil {
		return nil, err
	}
	return parseBatch(resp, b)
}

// Collect implements source.Source: DAU, pageviews and key events for each of the last Days
// days (days without events are zero), from the batched query Prepare made (or, without
// Prepare, from a query of its own). since is unused: the same days are read every run.
func (s *Source) Collect(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
	if p.PostHog.Host == "" && p.PostHog.Product == "" {
		return source.Result{}, skip.Because("no posthog.host or posthog.product configured")
	}
	if err := s.Ready(); err != nil {
		return source.Result{}, err
	}
	now := s.opt.Now()
	if _, err := Query(p.PostHog, now); err != nil {
		return source.Result{}, fmt.Errorf("posthog: %w", err)
	}
	prop, value, _ := filterOf(p.PostHog)
	key := prop + "=" + value
	s.mu.Lock()
	a, ok := s.answers[key]
	s.mu.Unlock()
	if !ok {
		s.prepare(ctx, []config.Product{p})
		s.mu.Lock()
		a = s.answers[key]
		s.mu.Unlock()
	}
	if a.err != nil {
		return source.Result{}, fmt.Errorf("posthog: %w", a.err)
	}
	// Every day of the range, zero when PostHog has no row for it.
	end := now.UTC().Truncate(24 * time.Hour)
	var out []record.AnalyticsDay
	for d := end.AddDate(0, 0, -(Days - 1)); !d.After(end); d = d.AddDate(0, 0, 1) {
		k := d.Format("2006-01-02")
		f := a.days[k]
		day := record.AnalyticsDay{Day: k, DAU: f.dau, Pageviews: f.pageviews}
		if len(p.PostHog.KeyEvents) > 0 {
			day.Events = map[string]int64{}
			for _, e := range p.PostHog.KeyEvents {
				day.Events[e] = f.events[e]
			}
		}
		out = append(out, day)
	}
	return source.Result{Analytics: out}, nil
}

// queryResponse is the part of HogQLQueryResponse portfolio reads.
type queryResponse struct {
	Results [][]json.RawMessage `json:"results"`
	Columns []string            `json:"columns"`
	HasMore bool                `json:"hasMore"`
	Error   string              `json:"error"`
}

// query POSTs a HogQL query (trailing slash kept: PostHog's routes need it).
func (s *Source) query(ctx context.Context, sql, name string) (*queryResponse, error) {
	body, err := json.Marshal(map[string]any{
		"query":   map[string]string{"kind": "HogQLQuery", "query": sql},
		"name":    name,
		"refresh": "force_blocking", // today's figures change every run; the cache would hide that
	})
	if err != nil {
		return nil, err
	}
	endpoint := s.opt.Host + "/api/projects/" + url.PathEscape(s.opt.ProjectID) + "/query/"
	var out queryResponse
	if err := s.do(ctx, http.MethodPost, endpoint, body, &out); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	if out.HasMore {
		return nil, errors.New("query: result incomplete (hasMore): more rows than the query's LIMIT")
	}
	if out.Error != "" {
		return nil, fmt.Errorf("query: %s", out.Error)
	}
	return &out, nil
}

// do sends a request with the personal key and decodes a 2xx JSON answer into v. Other
// answers become errors carrying DRF's detail; a 429 is a *source.RateLimitedError.
func (s *Source) do(ctx context.Context, method, endpoint string, body []byte, v any) error {
	return doJSON(ctx, s.client, s.opt.PersonalKey, s.opt.MaxAnswer, method, endpoint, body, v)
}

func doJSON(ctx context.Context, client *http.Client, key string, limit int64, method, endpoint string, body []byte, v any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "portfolio")
	resp, err := client.Do(req)
	if err != nil {
		return retry.RequestError(err) // a *source.RateLimitedError stays one
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var drf struct {
			Detail string `json:"detail"`
			Code   string `json:"code"`
		}
		httpbody.DecodeJSON(resp.Body, 64<<10, &drf) // not DRF's shape: the status alone says it
		return &APIError{Status: resp.StatusCode, Detail: drf.Detail, Code: drf.Code}
	}
	if err := httpbody.DecodeJSON(resp.Body, limit, v); err != nil {
		var tl *httpbody.TooLargeError
		if errors.As(err, &tl) {
			return fmt.Errorf("read: %w", err)
		}
		return fmt.Errorf("malformed answer: %w", err)
	}
	return nil
}

// MaxBody is the largest answer read from PostHog: a HogQL answer of 50,000 rows (the most a
// query returns) with a dozen key event columns is ~10 MiB; 32 MiB leaves room. A longer
// answer is an error, not cut.
const MaxBody = 32 << 20

// parseBatch maps the rows by the column names the query gave them: by, key, day, dau,
// pageviews and k0, k1, … for the batch's key events.
func parseBatch(r *queryResponse, b batch) (map[string]map[string]dayFigures, error) {
	col := map[string]int{}
	for i, c := range r.Columns {
		col[c] = i
	}
	need := []string{"by", "key", "day", "dau", "pageviews"}
	for i := range b.events {
		need = append(need, fmt.Sprintf("k%d", i))
	}
	for _, c := range need {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("answer lacks column %q (columns %v)", c, r.Columns)
		}
	}
	out := map[string]map[string]dayFigures{}
	for n, row := range r.Results {
		cell := func(name string) (json.RawMessage, error) {
			i := col[name]
			if i >= len(row) {
				return nil, fmt.Errorf("row %d lacks column %q", n, name)
			}
			return row[i], nil
		}
		text := func(name string) (string, error) {
			raw, err := cell(name)
			if err != nil {
				return "", err
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", fmt.Errorf("row %d: %s: %w", n, name, err)
			}
			return v, nil
		}
		num := func(name string) (int64, error) {
			raw, err := cell(name)
			if err != nil {
				return 0, err
			}
			var v int64
			if err := json.Unmarshal(raw, &v); err != nil {
				return 0, fmt.Errorf("row %d: %s: %w", n, name, err)
			}
			return v, nil
		}
		by, err := text("by")
		if err != nil {
			return nil, err
		}
		key, err := text("key")
		if err != nil {
			return nil, err
		}
		day, err := text("day")
		if err != nil {
			return nil, err
		}
		if _, err := time.Parse("2006-01-02", day); err != nil {
			return nil, fmt.Errorf("row %d: day %q: want YYYY-MM-DD", n, day)
		}
		var f dayFigures
		if f.dau, err = num("dau"); err != nil {
			return nil, err
		}
		if f.pageviews, err = num("pageviews"); err != nil {
			return nil, err
		}
		f.events = map[string]int64{}
		for i, e := range b.events {
			if f.events[e], err = num(fmt.Sprintf("k%d", i)); err != nil {
				return nil, err
			}
		}
		k := by + "\x00" + key
		if out[k] == nil {
			out[k] = map[string]dayFigures{}
		}
		out[k][day] = f
	}
	return out, nil
}
