// Package github is the source of a product's delivery data: deployments (workflow runs of the
// deploy workflow, or GitHub Deployments and their statuses), the commits each successful
// deployment shipped (compare with the previous one), and incident issues. It stores normalized
// records so that `portfolio dora` runs from data/ alone, and keeps ETags and cursors per product
// in data/state/github/<product>.json so that a run where nothing changed costs only conditional
// requests. See docs/dora.md (what is read and how it is counted) and docs/collect.md (limits).
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/httpbody"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// MaxBody is the largest answer read from GitHub: a compare page (100 commits and up to 300
// files with their patches) is the largest, a few MiB; a longer answer is an error, not cut.
const MaxBody = 32 << 20

// DefaultBaseURL is the public API.
const DefaultBaseURL = "https://api.github.com/"

// Options configure the source. Only the token is secret.
type Options struct {
	BaseURL string // GITHUB_API_URL, default DefaultBaseURL (GitHub Enterprise: https://host/api/v3)
	Token   string // GITHUB_TOKEN; empty: every product is skipped
	// HistoryDays is how far back the first collection of a product reads deployments: the
	// previous DORA window must be complete. Default 61 (two 30-day windows and a day).
	HistoryDays int
	// RecheckDays is how far back every run re-lists workflow runs, to see re-runs of recent
	// runs; the start is rounded down to a UTC day so the request URL, and its ETag, stays the
	// same all day. Default 3.
	RecheckDays int
	// MaxCompares bounds the compare requests of one product in one run (a first collection of
	// a busy repository continues in the next runs). Default 200.
	MaxCompares int
	// Sleep waits before the one retry a call gets (retry.GitHub); default retry.Sleep.
	Sleep retry.Sleeper
	// Concurrency is how many products are collected at once (default 4: GitHub asks clients
	// to avoid concurrency, so keep it low).
	Concurrency int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxAnswer caps an answer's size; default MaxBody.
	MaxAnswer int64
}

// OptionsFromEnv reads GITHUB_API_URL and GITHUB_TOKEN.
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{BaseURL: getenv(config.EnvGitHubAPIURL), Token: getenv(config.EnvGitHubToken)}
}

func (o *Options) defaults() {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	if o.HistoryDays <= 0 {
		o.HistoryDays = 61
	}
	if o.RecheckDays <= 0 {
		o.RecheckDays = 3
	}
	if o.MaxCompares <= 0 {
		o.MaxCompares = 200
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAnswer <= 0 {
		o.MaxAnswer = MaxBody
	}
}

// Source collects GitHub data. One client is shared by all products, so that once GitHub says
// the primary limit is exhausted the client fails fast (go-github remembers the reset) and the
// remaining products are marked rate_limited without another request.
type Source struct {
	opt    Options
	client *gh.Client
	store  *store.Store
	log    *slog.Logger
	err    error // a bad BaseURL, reported by every Collect
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Limited = (*Source)(nil)
	_ source.Readier = (*Source)(nil)
)

// New returns the source. httpClient may be nil; without a timeout it gets one of a minute,
// and its credentials stay with their origin (httpclient.Wrap).
func New(opts Options, st *store.Store, httpClient *http.Client, log *slog.Logger) *Source {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{opt: opts, store: st, log: log}
	var capped http.Client
	if httpClient != nil {
		capped = *httpClient
	}
	capped.Transport = &httpbody.Transport{Base: capped.Transport, Limit: opts.MaxAnswer}
	c := gh.NewClient(httpclient.Wrap(&capped, time.Minute))
	if opts.Token != "" {
		c = c.WithAuthToken(opts.Token)
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		s.err = fmt.Errorf("%s: want an http(s) URL like https://api.github.com/, got %q", config.EnvGitHubAPIURL, redact.URL(opts.BaseURL))
	} else {
		// Set directly: WithEnterpriseURLs would append api/v3/ to a test server's URL.
		c.BaseURL = u
	}
	s.client = c
	return s
}

// Name implements source.Source.
func (s *Source) Name() string { return record.SourceGitHub }

// Limits implements source.Limited: few products at once, and time for a first collection's
// compares.
func (s *Source) Limits() source.Limits {
	return source.Limits{Concurrency: s.opt.Concurrency, Timeout: 5 * time.Minute}
}

// Ready implements source.Readier: the source needs GITHUB_TOKEN.
func (s *Source) Ready() error {
	if s.opt.Token == "" {
		return skip.Because(config.EnvGitHubToken + " not set")
	}
	return nil
}

// Collect implements source.Source. It returns the product's new and changed deployments and
// incidents (the collect loop upserts deployments by ID and incidents by number, which is
// Merge's rule), even when a later step fails.
func (s *Source) Collect(ctx context.Context, p config.Product, _ time.Time) (source.Result, error) {
	if err := s.Ready(); err != nil {
		return source.Result{}, err
	}
	if p.Repository == "" {
		return source.Result{}, skip.Because("no repository configured")
	}
	if s.err != nil {
		return source.Result{}, s.err
	}
	owner, name, ok := strings.Cut(p.Repository, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return source.Result{}, fmt.Errorf("github: repository: want owner/name, got %q", p.Repository)
	}
	c := &collector{
		s: s, p: p, owner: owner, repo: name, now: s.opt.Now().UTC(),
		log: s.log.With("product", p.ID, "repository", p.Repository),
	}
	if err := c.load(); err != nil {
		return source.Result{}, err
	}
	err := c.run(ctx)
	res := c.result()
	// A call cut short (the collect deadline, Ctrl-C) writes nothing: its product has been
	// written without it, and the run may have released the data lock already.
	if ctx.Err() == nil {
		if serr := c.save(res); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	c.log.Debug("github collected", "deployments", len(res.Deployments), "incidents", len(res.Incidents),
		"requests", c.requests, "not_modified", c.notModified, "err", err)
	return res, err
}
