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
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
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
}

// Source reads daily analytics per product.
type Source struct {
	opt    Options
	client *http.Client
	log    *slog.Logger
}

var (
	_ source.Source  = (*Source)(nil)
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
	return &Source{opt: o, client: apiClient(o, client), log: log}
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

// Query builds the product's daily HogQL query for the Days days ending with now's UTC day.
// It returns an error when a configured value is outside the allow-list.
func Query(p config.PostHog, now time.Time) (string, error) {
	var filter string
	switch {
	case p.Host != "":
		if !validHost.MatchString(p.Host) {
			return "", fmt.Errorf("posthog.host %q: want a host name like app.example.com", p.Host)
		}
		filter = "properties.$host = '" + p.Host + "'"
	case p.Product != "":
		if !validProduct.MatchString(p.Product) {
			return "", fmt.Errorf("posthog.product %q: want letters, digits, _ . -", p.Product)
		}
		filter = "properties.product = '" + p.Product + "'"
	default:
		return "", skip.Because("no posthog.host or posthog.product configured")
	}
	cols := []string{"toDate(toTimeZone(timestamp, 'UTC')) AS day", "count(DISTINCT person_id) AS dau",
		"countIf(event = '$pageview') AS pageviews"}
	for i, e := range p.KeyEvents {
		if !validEvent.MatchString(e) {
			return "", fmt.Errorf("posthog.key_events[%d] %q: want letters, digits, spaces, _ $ . : / -", i, e)
		}
		cols = append(cols, fmt.Sprintf("countIf(event = '%s') AS k%d", e, i))
	}
	end := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	start := end.AddDate(0, 0, -Days)
	const day = "2006-01-02"
	return fmt.Sprintf("SELECT %s FROM events WHERE %s AND timestamp >= toDateTime('%s 00:00:00', 'UTC') AND timestamp < toDateTime('%s 00:00:00', 'UTC') GROUP BY day ORDER BY day LIMIT 100",
		strings.Join(cols, ", "), filter, start.Format(day), end.Format(day)), nil
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

// Collect implements source.Source: DAU, pageviews and key events for each of the last Days
// days (days without events are zero). since is unused: the same days are read every run.
func (s *Source) Collect(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
	if p.PostHog.Host == "" && p.PostHog.Product == "" {
		return source.Result{}, skip.Because("no posthog.host or posthog.product configured")
	}
	if err := s.Ready(); err != nil {
		return source.Result{}, err
	}
	now := s.opt.Now()
	sql, err := Query(p.PostHog, now)
	if err != nil {
		return source.Result{}, fmt.Errorf("posthog: %w", err)
	}
	resp, err := s.query(ctx, sql, "portfolio daily "+p.ID)
	if err != nil {
		return source.Result{}, fmt.Errorf("posthog: %w", err)
	}
	days, err := parseDays(resp, p.PostHog.KeyEvents)
	if err != nil {
		return source.Result{}, fmt.Errorf("posthog: %w", err)
	}
	// Every day of the range, zero when PostHog has no row for it.
	end := now.UTC().Truncate(24 * time.Hour)
	var out []record.AnalyticsDay
	for d := end.AddDate(0, 0, -(Days - 1)); !d.After(end); d = d.AddDate(0, 0, 1) {
		key := d.Format("2006-01-02")
		day, ok := days[key]
		if !ok {
			day = record.AnalyticsDay{Day: key}
			if len(p.PostHog.KeyEvents) > 0 {
				day.Events = map[string]int64{}
				for _, e := range p.PostHog.KeyEvents {
					day.Events[e] = 0
				}
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
	return doJSON(ctx, s.client, s.opt.PersonalKey, method, endpoint, body, v)
}

func doJSON(ctx context.Context, client *http.Client, key, method, endpoint string, body []byte, v any) error {
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
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var drf struct {
			Detail string `json:"detail"`
			Code   string `json:"code"`
		}
		json.Unmarshal(data, &drf) // not DRF's shape: the status alone says it
		return &APIError{Status: resp.StatusCode, Detail: drf.Detail, Code: drf.Code}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("malformed answer: %w", err)
	}
	return nil
}

// parseDays maps the rows by the column names the query gave them.
func parseDays(r *queryResponse, keyEvents []string) (map[string]record.AnalyticsDay, error) {
	col := map[string]int{}
	for i, c := range r.Columns {
		col[c] = i
	}
	for _, c := range []string{"day", "dau", "pageviews"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("answer lacks column %q (columns %v)", c, r.Columns)
		}
	}
	out := map[string]record.AnalyticsDay{}
	for n, row := range r.Results {
		cell := func(name string) (json.RawMessage, error) {
			i, ok := col[name]
			if !ok || i >= len(row) {
				return nil, fmt.Errorf("row %d lacks column %q", n, name)
			}
			return row[i], nil
		}
		var d record.AnalyticsDay
		raw, err := cell("day")
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &d.Day); err != nil {
			return nil, fmt.Errorf("row %d: day: %w", n, err)
		}
		if _, err := time.Parse("2006-01-02", d.Day); err != nil {
			return nil, fmt.Errorf("row %d: day %q: want YYYY-MM-DD", n, d.Day)
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
		if d.DAU, err = num("dau"); err != nil {
			return nil, err
		}
		if d.Pageviews, err = num("pageviews"); err != nil {
			return nil, err
		}
		if len(keyEvents) > 0 {
			d.Events = map[string]int64{}
			for i, e := range keyEvents {
				if d.Events[e], err = num(fmt.Sprintf("k%d", i)); err != nil {
					return nil, err
				}
			}
		}
		out[d.Day] = d
	}
	return out, nil
}
