package run_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// The end-to-end tests of the pipeline: run.Run, the whole of collect → store → alert → build →
// publish, against the fakes of every API on 127.0.0.1 and a health endpoint per product, with
// every retry's sleep replaced by one that returns at once. Email is configured but SMTP_URL is left unset, so its channel is
// skipped with its reason (the email channel is tested against Mailpit in its own package).

const (
	runStart     = "2026-06-30T12:00:00Z"
	runAlertRepo = "acme/alerts" // where the GitHub issues channel opens incidents
	runShopZone  = "023e105f4ecef8ad9ca31a8372d0c353"
	runAPIZone   = "372e67954025e0ba6aaa6d586b9e0b59"
)

// runProducts are the products of the test portfolio; every source is configured for each.
var runProducts = []string{"api", "shop"}

// runWorld is a portfolio of two products against local fakes of every API portfolio calls.
type runWorld struct {
	dir, config, data, out string

	gh     *fake.GitHub
	issues *fake.GitHubIssues
	cf     *fake.Cloudflare
	pages  *fake.Pages
	ph     *fake.PostHog
	slack  *fake.Slack
	pd     *fake.PagerDuty
	// front is the one GitHub API and the one Cloudflare API the program sees: GITHUB_API_URL
	// and CLOUDFLARE_API_BASE_URL are one base URL each, as in production, while the fakes are
	// split by concern (DORA reads vs issues; analytics vs Pages). It routes by path.
	front *httptest.Server

	// status is what each product's health endpoint answers.
	status map[string]*atomic.Int32
	probes map[string]*atomic.Int32 // requests each health endpoint received

	now atomic.Pointer[time.Time] // the clock of the current run, for the fakes
	env map[string]string
}

func newRunWorld(t *testing.T) *runWorld {
	t.Helper()
	start, _ := time.Parse(time.RFC3339, runStart)
	w := &runWorld{
		dir: t.TempDir(),
		gh:  fake.NewGitHub(t), issues: fake.NewGitHubIssues(t), cf: fake.NewCloudflare(t), pages: fake.NewPages(t),
		ph: fake.NewPostHog(t), slack: fake.NewSlack(t), pd: fake.NewPagerDuty(t),
		status: map[string]*atomic.Int32{}, probes: map[string]*atomic.Int32{},
	}
	w.config = filepath.Join(w.dir, "portfolio.json")
	w.data = filepath.Join(w.dir, "data")
	w.out = filepath.Join(w.dir, "public")
	w.now.Store(&start)
	clock := func() time.Time { return *w.now.Load() }
	w.cf.Now, w.issues.Now = clock, clock
	// One account token for analytics and Pages, one GitHub token for reads and issues.
	w.cf.Token = w.pages.Token
	w.issues.Token = w.gh.Token
	w.front = httptest.NewServer(http.HandlerFunc(w.route))
	t.Cleanup(w.front.Close)

	health := map[string]string{}
	for _, id := range runProducts {
		st, n := &atomic.Int32{}, &atomic.Int32{}
		st.Store(http.StatusOK)
		w.status[id], w.probes[id] = st, n
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			n.Add(1)
			if r.URL.Path != "/healthz" {
				http.NotFound(rw, r)
				return
			}
			code := int(st.Load())
			rw.WriteHeader(code)
			fmt.Fprintf(rw, "status %d", code)
		}))
		t.Cleanup(srv.Close)
		health[id] = srv.URL
	}

	// GitHub: two successful deploys of shop (a day apart), one of api, and an open incident on shop.
	const c1, c2, c3 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333"
	w.gh.Update("acme/shop", func(r *fake.GitHubRepo) {
		r.AddCommit(c1, start.Add(-50*time.Hour))
		r.AddCommit(c2, start.Add(-26*time.Hour), c1)
		for i, sha := range []string{c1, c2} {
			at := start.Add(-time.Duration(48-24*i) * time.Hour)
			r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(i + 1), Workflow: "deploy.yml", Branch: "main", SHA: sha,
				Status: "completed", Conclusion: "success", Created: at.Add(-5 * time.Minute), Updated: at})
		}
		r.Issues = append(r.Issues, fake.GitHubIssue{Number: 7, Title: "checkout down", State: "open", Labels: []string{"incident"},
			Created: start.Add(-3 * time.Hour), Updated: start.Add(-3 * time.Hour)})
	})
	w.gh.Update("acme/api", func(r *fake.GitHubRepo) {
		r.AddCommit(c3, start.Add(-30*time.Hour))
		r.Runs = append(r.Runs, fake.GitHubRun{ID: 10, Workflow: "deploy.yml", Branch: "main", SHA: c3,
			Status: "completed", Conclusion: "success", Created: start.Add(-29 * time.Hour), Updated: start.Add(-28 * time.Hour)})
	})

	// Cloudflare analytics and health checks; PostHog days.
	w.cf.SetHTTP(runShopZone, "shop.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 990, 404: 10}, P50Ms: 30, P95Ms: 90})
	w.cf.SetHTTP(runAPIZone, "api.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 500}, P50Ms: 20, P95Ms: 60})
	w.cf.AddHealthcheck(runShopZone, cf.Healthcheck{Name: "portfolio-shop", Address: "shop.example.com", Status: "healthy"})
	w.cf.AddHealthcheck(runAPIZone, cf.Healthcheck{Name: "portfolio-api", Address: "api.example.com", Status: "healthy"})
	for d := range 3 {
		day := start.AddDate(0, 0, -d).Format(time.DateOnly)
		w.ph.SetDay("shop.example.com", day, fake.PostHogDay{DAU: 30, Pageviews: 100, Events: map[string]int64{"checkout_completed": 4}})
		w.ph.SetDay("api.example.com", day, fake.PostHogDay{DAU: 5, Pageviews: 9})
	}

	cfg := fmt.Sprintf(`{
  "site": {"title": "Acme portfolio", "base_url": "https://status.example.com"},
  "products": [
    {"id": "shop", "name": "Shop", "url": %q, "health_endpoint": "/healthz", "repository": "acme/shop",
     "deploy": {"workflow": "deploy.yml"},
     "cloudflare": {"zone_id": %q, "hostname": "shop.example.com"},
     "posthog": {"host": "shop.example.com", "key_events": ["checkout_completed"]}},
    {"id": "api", "name": "API", "url": %q, "health_endpoint": "/healthz", "repository": "acme/api",
     "deploy": {"workflow": "deploy.yml"},
     "cloudflare": {"zone_id": %q, "hostname": "api.example.com"},
     "posthog": {"host": "api.example.com"}}
  ],
  "notification_channels": {
    "slack": {},
    "pagerduty": {},
    "github_issues": {"repository": %q},
    "email": {"recipients": ["oncall@example.com"]}
  },
  "publish": {"cloudflare_pages": {"project": %q}}
}`, health["shop"], runShopZone, health["api"], runAPIZone, runAlertRepo, w.pages.Project)
	if err := os.WriteFile(w.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{
		"GITHUB_TOKEN": w.gh.Token, "GITHUB_API_URL": w.front.URL + fake.GitHubPrefix + "/",
		"CLOUDFLARE_API_TOKEN": w.pages.Token, "CLOUDFLARE_ACCOUNT_ID": w.pages.AccountID,
		"CLOUDFLARE_API_BASE_URL": w.front.URL + fake.CloudflarePrefix,
		"POSTHOG_HOST":            w.ph.URL, "POSTHOG_PERSONAL_API_KEY": w.ph.PersonalKey, "POSTHOG_PROJECT_ID": w.ph.ProjectID,
		"POSTHOG_API_KEY":       w.ph.ProjectKey,
		"SLACK_WEBHOOK_URL":     w.slack.URL,
		"PAGERDUTY_ROUTING_KEY": w.pd.RoutingKey, "PAGERDUTY_EVENTS_URL": w.pd.URL,
		"GITHUB_SHA": "4f1c0de4f1c0de4f1c0de4f1c0de4f1c0de4f1c0",
	}
	return w
}

// route sends a request for the GitHub or Cloudflare API to the fake that serves it.
func (w *runWorld) route(rw http.ResponseWriter, r *http.Request) {
	forward := func(h http.Handler, from, to string) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = to + strings.TrimPrefix(r.URL.Path, from)
		r2.URL.RawPath = ""
		h.ServeHTTP(rw, r2)
	}
	p := r.URL.Path
	cfPath, isCF := strings.CutPrefix(p, fake.CloudflarePrefix+"/")
	switch {
	case strings.HasPrefix(p, fake.GitHubPrefix+"/repos/"+runAlertRepo+"/"):
		forward(w.issues.Server.Config.Handler, fake.GitHubPrefix, fake.GitHubIssuesPrefix)
	case strings.HasPrefix(p, fake.GitHubPrefix+"/"):
		w.gh.Server.Config.Handler.ServeHTTP(rw, r)
	case strings.HasPrefix(p, fake.GitHubIssuesPrefix+"/"): // a Link header of the issues fake
		w.issues.Server.Config.Handler.ServeHTTP(rw, r)
	case isCF && (strings.HasPrefix(cfPath, "pages/") || strings.HasPrefix(cfPath, "accounts/") && strings.Contains(cfPath, "/pages/")):
		forward(w.pages.Server.Config.Handler, fake.CloudflarePrefix, fake.PagesPrefix)
	case isCF:
		w.cf.Server.Config.Handler.ServeHTTP(rw, r)
	default:
		http.Error(rw, "the test's front server has no route for "+p, http.StatusNotFound)
	}
}

// secrets are every credential in the environment, and the webhook's secret path segment.
func (w *runWorld) secrets() []string {
	var out []string
	for _, k := range []string{"GITHUB_TOKEN", "CLOUDFLARE_API_TOKEN", "POSTHOG_PERSONAL_API_KEY", "POSTHOG_API_KEY",
		"SLACK_WEBHOOK_URL", "PAGERDUTY_ROUTING_KEY", "SMTP_URL"} {
		if v := w.env[k]; v != "" {
			out = append(out, v)
		}
	}
	return append(out, w.slack.Secret)
}

// runResult is what one run reported and logged.
type runResult struct {
	rep  run.Report
	err  error
	logs string
}

func (r runResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome %d, err %v\n", r.rep.Outcome, r.err)
	for _, row := range r.rep.Rows {
		fmt.Fprintf(&b, "  %-18s %-8s %s\n", row.Name, row.State, row.Detail)
	}
	return b.String() + "--- log:\n" + r.logs
}

// noSleep replaces every retry's wait: the tests need the retries, not the waiting.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// options are the run's options at now with the world's paths and environment.
func (w *runWorld) options(t *testing.T, now time.Time, logs io.Writer) run.Options {
	t.Helper()
	cfg, err := config.Load(w.config)
	if err != nil {
		t.Fatal(err)
	}
	env := w.env
	getenv := func(k string) string { return env[k] }
	red := redact.New(cfg, getenv) // as the CLI builds it: every secret of the environment and the config
	return run.Options{Config: cfg, Store: store.Open(w.data), Out: w.out, Now: now,
		Getenv: getenv, Sleep: noSleep, Redactor: red,
		Log: slog.New(red.Handler(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}
}

// run runs the pipeline at now, changed by each of opts.
func (w *runWorld) run(t *testing.T, now time.Time, opts ...func(*run.Options)) runResult {
	t.Helper()
	if !now.IsZero() {
		w.now.Store(&now)
	}
	var logs bytes.Buffer
	o := w.options(t, now, &logs)
	for _, f := range opts {
		f(&o)
	}
	rep, err := run.Run(context.Background(), o)
	return runResult{rep, err, logs.String()}
}

func skipSteps(steps ...string) func(*run.Options) {
	return func(o *run.Options) { o.Skip = steps }
}

func dryRun(o *run.Options) { o.DryRun = true }

// summaryRow finds the row of a step (or of a line under it, like "email") and returns its
// state and detail.
func summaryRow(t *testing.T, res runResult, name string) (state, detail string) {
	t.Helper()
	row, ok := res.rep.Row(name)
	if !ok {
		t.Errorf("the report has no row %q:\n%s", name, res)
		return "", ""
	}
	return row.State, row.Detail
}

// assertNoSecrets fails when a secret value is in a report, a log or any file under data/ or public/.
func (w *runWorld) assertNoSecrets(t *testing.T, results ...runResult) {
	t.Helper()
	secrets := w.secrets()
	for i, r := range results {
		for _, s := range secrets {
			if strings.Contains(r.String(), s) {
				t.Errorf("run %d reported or logged a secret (%d characters)", i+1, len(s))
			}
		}
	}
	for _, dir := range []string{w.data, w.out} {
		files := 0
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a secret (%d characters)", path, len(s))
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("walk %s: %v", dir, err)
		}
		if files == 0 {
			t.Errorf("%s is empty: nothing was checked", dir)
		}
	}
}

// snapshots returns every snapshot of the product.
func (w *runWorld) snapshots(t *testing.T, product string) []record.Snapshot {
	t.Helper()
	snaps, err := store.Open(w.data).Snapshots(product, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("snapshots of %s: %v", product, err)
	}
	return snaps
}

// assertSiteBuilt checks the pages a user opens first and the JSON API are there.
func (w *runWorld) assertSiteBuilt(t *testing.T) {
	t.Helper()
	want := []string{"index.html", "api/summary.json"}
	for _, id := range runProducts {
		want = append(want, "products/"+id+"/index.html", "api/products/"+id+".json")
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(w.out, f)); err != nil {
			t.Errorf("the site lacks %s: %v", f, err)
		}
	}
	var sum struct {
		Products []struct {
			ID string `json:"id"`
		} `json:"products"`
	}
	b, _ := os.ReadFile(filepath.Join(w.out, "api", "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Errorf("api/summary.json: %v", err)
	}
	var ids []string
	for _, p := range sum.Products {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, runProducts) {
		t.Errorf("api/summary.json lists products %v, want %v", ids, runProducts)
	}
}

// assertDeployedSite checks the last Pages deployment's manifest names every file of --out
// (but the _headers and _redirects parts) and that the fake holds each file's exact bytes
// under the manifest's hash.
func (w *runWorld) assertDeployedSite(t *testing.T) {
	t.Helper()
	deps := w.pages.Deployments()
	if len(deps) == 0 {
		t.Fatal("no Pages deployment was created")
	}
	d := deps[len(deps)-1]
	assets := w.pages.Assets()
	site := map[string]bool{}
	err := filepath.WalkDir(w.out, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(w.out, path)
		rel = "/" + filepath.ToSlash(rel)
		if rel == "/_headers" || rel == "/_redirects" {
			return nil
		}
		site[rel] = true
		h, ok := d.Manifest[rel]
		if !ok {
			t.Errorf("the manifest lacks %s", rel)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if a, ok := assets[h]; !ok || !bytes.Equal(a.Content, b) {
			t.Errorf("%s: Pages does not hold its content under %s", rel, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range d.Manifest {
		if !site[p] {
			t.Errorf("the manifest names %s, which is not in the site", p)
		}
	}
	if len(site) < 5 {
		t.Errorf("only %d files in the site", len(site))
	}
	if _, err := os.Stat(filepath.Join(w.out, "_headers")); err == nil && d.Headers == "" {
		t.Error("the site has _headers but the deployment did not send them")
	}
	if d.Deployment.Environment != "production" || d.CommitHash != w.env["GITHUB_SHA"] {
		t.Errorf("deployment environment %q commit %q; want production and GITHUB_SHA", d.Deployment.Environment, d.CommitHash)
	}
}

// notices counts what each alert channel received, by kind ("firing", "resolved") and alert
// fingerprint.
type notices map[string]map[string]int // channel → "kind fingerprint" → count

var slackFingerprint = regexp.MustCompile("fingerprint `([0-9a-f]{32})`")

func (w *runWorld) notices(t *testing.T) notices {
	t.Helper()
	n := notices{"slack": {}, "pagerduty": {}, "github_issues": {}}
	for _, raw := range w.slack.Messages() {
		var m struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("slack message: %v", err)
		}
		fp := slackFingerprint.FindStringSubmatch(string(raw))
		if fp == nil {
			t.Fatalf("a slack message without a fingerprint: %s", raw)
		}
		kind := "firing"
		switch {
		case strings.Contains(m.Text, "STILL FIRING"):
			kind = "repeat"
		case strings.Contains(m.Text, "RESOLVED"):
			kind = "resolved"
		}
		n["slack"][kind+" "+fp[1]]++
	}
	for _, e := range w.pd.Events() {
		kind := map[string]string{"trigger": "firing", "resolve": "resolved"}[e.EventAction]
		if kind == "" {
			kind = e.EventAction
		}
		n["pagerduty"][kind+" "+e.DedupKey]++
	}
	marker := regexp.MustCompile(`portfolio-alert: ([0-9a-f]{32})`)
	for _, is := range w.issues.Issues(runAlertRepo) {
		fp := marker.FindStringSubmatch(is.Body)
		if fp == nil {
			t.Fatalf("issue #%d has no marker: %q", is.Number, is.Body)
		}
		n["github_issues"]["firing "+fp[1]]++ // one issue per firing episode
		for _, c := range is.Comments {
			if strings.HasPrefix(c, "**Resolved**") {
				n["github_issues"]["resolved "+fp[1]]++
			}
		}
	}
	return n
}

// issueFor returns the alert's issue in the alerts repository.
func (w *runWorld) issueFor(t *testing.T, fingerprint string) fake.FakeIssue {
	t.Helper()
	for _, is := range w.issues.Issues(runAlertRepo) {
		if strings.Contains(is.Body, "portfolio-alert: "+fingerprint) {
			return is
		}
	}
	t.Fatalf("no issue for %s", fingerprint)
	return fake.FakeIssue{}
}

func runTime(t *testing.T, step int) time.Time {
	t.Helper()
	start, err := time.Parse(time.RFC3339, runStart)
	if err != nil {
		t.Fatal(err)
	}
	return start.Add(time.Duration(step) * 15 * time.Minute)
}

func TestRunHealthyPortfolio(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	res := w.run(t, runTime(t, 0))
	if res.err != nil || res.rep.Outcome != run.OK {
		t.Fatalf("want OK:\n%s", res)
	}

	// data/: one snapshot per product, every source ok; deployments and incidents stored.
	for _, id := range runProducts {
		snaps := w.snapshots(t, id)
		if len(snaps) != 1 {
			t.Fatalf("%s has %d snapshots, want 1", id, len(snaps))
		}
		s := snaps[0]
		for _, src := range []string{"github", "cloudflare", "posthog", "probe"} {
			if st := s.Sources[src]; st.State != "ok" {
				t.Errorf("%s %s = %+v, want ok", id, src, st)
			}
		}
		if len(s.Sources) != 4 {
			t.Errorf("%s sources = %v, want the four", id, s.Sources)
		}
		if !s.Probe.OK() || s.HTTP == nil || s.Health != "healthy" {
			t.Errorf("%s snapshot = %+v", id, s)
		}
		if w.probes[id].Load() == 0 {
			t.Errorf("%s's health endpoint was never probed", id)
		}
	}
	st := store.Open(w.data)
	shopDeps, _ := st.Deployments("shop")
	apiDeps, _ := st.Deployments("api")
	incs, _ := st.Incidents("shop")
	if len(shopDeps) != 2 || len(apiDeps) != 1 {
		t.Errorf("deployments: shop %d, api %d; want 2 and 1", len(shopDeps), len(apiDeps))
	}
	if len(incs) != 1 || incs[0].Title != "checkout down" {
		t.Errorf("shop incidents = %+v", incs)
	}
	if days, _ := st.Analytics("shop"); len(days) == 0 {
		t.Error("no analytics stored for shop")
	}
	if len(w.ph.Events()) == 0 {
		t.Error("no deployment event was sent to PostHog")
	}

	// the site, and its deployment.
	w.assertSiteBuilt(t)
	w.assertDeployedSite(t)
	if n := len(w.pages.Deployments()); n != 1 {
		t.Errorf("%d Pages deployments, want 1", n)
	}

	// nothing is wrong, so no channel hears from us; but the deploy notices are info alerts.
	for _, step := range []struct{ name, state, detail string }{
		{"collect", "ok", "2 products"},
		{"alert", "ok", "0 firing"},
		{"build", "ok", "pages"},
		{"publish", "ok", "https://"},
		{"email", "skipped", "SMTP_URL is not set"},
	} {
		state, detail := summaryRow(t, res, step.name)
		if state != step.state || !strings.Contains(detail, step.detail) {
			t.Errorf("summary %s: %s %q, want %s and %q", step.name, state, detail, step.state, step.detail)
		}
	}
	if _, detail := summaryRow(t, res, "publish"); strings.Count(detail, ".pages.dev") != 1 {
		t.Errorf("the publish row should name the deployment URL once: %q", detail)
	}
	if !res.rep.Now.Equal(runTime(t, 0)) || res.rep.Demo {
		t.Errorf("the report is as of %s (demo %v), want %s on collected data", res.rep.Now, res.rep.Demo, runTime(t, 0))
	}
	w.assertNoSecrets(t, res)
}

func TestRunAlertsOncePerBreachAndResolves(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	probeDown := alert.Fingerprint("api", alert.RuleProbeDown, "")
	firing, resolved := "firing "+probeDown, "resolved "+probeDown
	channels := []string{"slack", "pagerduty", "github_issues"}
	var results []runResult
	// Publishing is covered by the other tests; leaving it out here saves the deployment's
	// poll (a second a run).
	runAt := func(status int) runResult {
		t.Helper()
		w.status["api"].Store(int32(status))
		res := w.run(t, runTime(t, len(results)), skipSteps("publish"))
		results = append(results, res)
		if res.err != nil || res.rep.Outcome != run.OK {
			t.Fatalf("run %d: want OK (a product that is down is not a failed run):\n%s", len(results), res)
		}
		return res
	}

	runAt(http.StatusOK)
	// failure_threshold is 2 (the default): the first failing run only counts.
	res := runAt(http.StatusServiceUnavailable)
	if state, detail := summaryRow(t, res, "alert"); state != "ok" || !strings.HasPrefix(detail, "0 firing") {
		t.Errorf("after one failed run the summary says alert %s %q, want 0 firing", state, detail)
	}
	for _, ch := range channels {
		if n := w.notices(t)[ch][firing]; n != 0 {
			t.Fatalf("%s got %d probe-down notices after one failed run, want 0", ch, n)
		}
	}
	res = runAt(http.StatusServiceUnavailable)
	if !hasRow(res, "api", "firing", "[critical] probe down") {
		t.Errorf("the run that fired the alert does not say so:\n%s", res)
	}
	fired := w.notices(t)
	for _, ch := range channels {
		if n := fired[ch][firing]; n != 1 {
			t.Errorf("%s got %d firing notices for api's probe after 2 failed runs, want 1", ch, n)
		}
	}
	if is := w.issueFor(t, probeDown); is.State != "open" || !strings.Contains(is.Title, "API") {
		t.Errorf("issue #%d %q is %s, want open", is.Number, is.Title, is.State)
	}
	if got := w.pd.Incident(probeDown); got != "triggered" {
		t.Errorf("PagerDuty incident %q, want triggered", got)
	}

	// Two more runs over the same breach: nothing new on any channel, for any alert.
	runAt(http.StatusServiceUnavailable)
	runAt(http.StatusServiceUnavailable)
	if again := w.notices(t); !equalNotices(again, fired) {
		t.Errorf("the channels heard again about the same breach:\nbefore %v\nafter  %v", fired, again)
	}

	// success_threshold is 2 (the default): one good run does not resolve, the second does.
	runAt(http.StatusOK)
	for _, ch := range channels {
		if n := w.notices(t)[ch][resolved]; n != 0 {
			t.Errorf("%s got a resolve after one good run", ch)
		}
	}
	res = runAt(http.StatusOK)
	if !hasRow(res, "api", "resolved", "[critical] probe down") {
		t.Errorf("the run that resolved the alert does not say so:\n%s", res)
	}
	runAt(http.StatusOK) // and a run later, nothing is sent twice
	got := w.notices(t)
	for _, ch := range channels {
		if n := got[ch][firing]; n != 1 {
			t.Errorf("%s got %d firing notices for api's probe in all, want 1", ch, n)
		}
		if n := got[ch][resolved]; n != 1 {
			t.Errorf("%s got %d resolves for api's probe, want 1", ch, n)
		}
		for key, n := range got[ch] {
			if n != 1 {
				t.Errorf("%s got %q %d times, want once", ch, key, n)
			}
		}
	}
	if is := w.issueFor(t, probeDown); is.State != "closed" || is.StateReason != "completed" {
		t.Errorf("issue #%d is %s (%s), want closed as completed", is.Number, is.State, is.StateReason)
	}
	if got := w.pd.Incident(probeDown); got != "resolved" {
		t.Errorf("PagerDuty incident %q, want resolved", got)
	}
	for _, id := range runProducts {
		if n := len(w.snapshots(t, id)); n != len(results) {
			t.Errorf("%s has %d snapshots after %d runs", id, n, len(results))
		}
	}
	if state, detail := summaryRow(t, res, "publish"); state != "skipped" || detail != "--skip" {
		t.Errorf("summary publish: %s %q, want skipped --skip", state, detail)
	}
	if n := len(w.pages.Calls()); n != 0 {
		t.Errorf("--skip publish made %d Pages calls", n)
	}
	w.assertNoSecrets(t, results...)
}

// hasRow reports whether the report has a line under a step named name, in state, whose
// detail contains detail.
func hasRow(res runResult, name, state, detail string) bool {
	for _, r := range res.rep.Rows {
		if r.Sub && r.Name == name && r.State == state && strings.Contains(r.Detail, detail) {
			return true
		}
	}
	return false
}

func equalNotices(a, b notices) bool {
	for ch, m := range a {
		if len(m) != len(b[ch]) {
			return false
		}
		for k, n := range m {
			if b[ch][k] != n {
				return false
			}
		}
	}
	return len(a) == len(b)
}

func TestRunOneSourceFailing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault fake.InjectedFault
		msg   string // in the snapshot's cloudflare error
	}{
		{name: "GraphQL errors in a 200", msg: "rate limiter budget",
			fault: fake.InjectedFault{Match: "/graphql", Body: fake.CloudflareGraphQLErrorBody("rate limiter budget exceeded", "budget")}},
		{name: "HTTP 500", msg: "500",
			fault: fake.InjectedFault{Match: "/graphql", Status: http.StatusInternalServerError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRunWorld(t)
			w.cf.Inject(tc.fault)
			res := w.run(t, runTime(t, 0))
			if res.err != nil || res.rep.Outcome != run.SourcesFailed {
				t.Fatalf("want SourcesFailed:\n%s", res)
			}
			for _, id := range runProducts {
				snaps := w.snapshots(t, id)
				if len(snaps) != 1 {
					t.Fatalf("%s has %d snapshots, want 1", id, len(snaps))
				}
				s := snaps[0]
				if st := s.Sources["cloudflare"]; !st.Failed() || !strings.Contains(st.Msg, tc.msg) || st.Fails != 1 {
					t.Errorf("%s cloudflare = %+v, want a failure naming %q", id, st, tc.msg)
				}
				for _, src := range []string{"github", "posthog", "probe"} {
					if st := s.Sources[src]; st.State != "ok" {
						t.Errorf("%s %s = %+v, want ok", id, src, st)
					}
				}
			}
			if state, detail := summaryRow(t, res, "collect"); state != "warning" || !strings.Contains(detail, "6 ok, 2 error") {
				t.Errorf("summary collect: %s %q, want warning: 6 ok, 2 error", state, detail)
			}
			for _, step := range []string{"alert", "build", "publish"} {
				if state, _ := summaryRow(t, res, step); state != "ok" {
					t.Errorf("summary %s: %s, want ok", step, state)
				}
			}
			w.assertSiteBuilt(t)
			w.assertDeployedSite(t)
			w.assertNoSecrets(t, res)
		})
	}
}

func TestRunDryRun(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	w.status["api"].Store(http.StatusServiceUnavailable)
	var results []runResult
	for i := range 2 { // two failed runs: the outage's notifications are due
		res := w.run(t, runTime(t, i), dryRun)
		results = append(results, res)
		if res.err != nil || res.rep.Outcome != run.OK {
			t.Fatalf("run %d: want OK:\n%s", i+1, res)
		}
	}
	last := results[len(results)-1]
	if state, detail := summaryRow(t, last, "alert"); state != "ok" ||
		!strings.Contains(detail, "firing") || !strings.Contains(detail, "none sent (dry run)") {
		t.Errorf("summary alert: %s %q, want the due notifications listed as not sent", state, detail)
	}
	if state, detail := summaryRow(t, last, "publish"); state != "skipped" || detail != "--dry-run" {
		t.Errorf("summary publish: %s %q, want skipped --dry-run", state, detail)
	}
	if n := len(w.slack.Messages()) + w.slack.Calls(); n != 0 {
		t.Errorf("Slack got %d requests", n)
	}
	if n := len(w.pd.Events()); n != 0 {
		t.Errorf("PagerDuty got %d events", n)
	}
	if n := len(w.issues.Calls()); n != 0 {
		t.Errorf("the GitHub issues API got %d requests: %v", n, w.issues.Calls())
	}
	if n := len(w.pages.Calls()); n != 0 {
		t.Errorf("Cloudflare Pages got %d requests: %v", n, w.pages.Calls())
	}
	if n := len(w.ph.Events()); n != 0 {
		t.Errorf("PostHog got %d events", n)
	}
	if _, err := os.Stat(filepath.Join(w.data, "alerts.json")); !os.IsNotExist(err) {
		t.Errorf("the alert state was written (stat: %v)", err)
	}
	// A dry run still collects and builds: the history and the site are the point of a run.
	if n := len(w.snapshots(t, "api")); n != 2 {
		t.Errorf("api has %d snapshots after 2 dry runs, want 2", n)
	}
	w.assertSiteBuilt(t)
	w.assertNoSecrets(t, results...)
}

func TestRunNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	w := newRunWorld(t)
	w.status["api"].Store(http.StatusServiceUnavailable)
	// Every way out of the program carries a secret's neighbourhood: failing channels (their URL
	// and key are in the request), a failing source, and a Pages upload that needs a retry.
	w.slack.Inject(fake.InjectedFault{Status: http.StatusInternalServerError})
	w.pd.Inject(fake.InjectedFault{Status: http.StatusBadRequest, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`})
	w.gh.Inject(fake.InjectedFault{Match: "/repos/acme/api/actions", Status: http.StatusUnauthorized, Body: `{"message":"Bad credentials"}`})
	w.pages.Inject(fake.InjectedFault{Match: "POST /pages/assets/upload", Times: 1, Status: http.StatusTooManyRequests, RetryAfter: "0"})
	var results []runResult
	for i := range 2 { // the second failed probe fires the outage alert
		results = append(results, w.run(t, runTime(t, i)))
	}
	last := results[len(results)-1]
	if last.err != nil || last.rep.Outcome != run.SourcesFailed {
		t.Errorf("want SourcesFailed (a source failed):\n%s", last)
	}
	if state, _ := summaryRow(t, last, "alert"); state != "warning" {
		t.Errorf("summary alert: %s, want warning (channels failing):\n%s", state, last)
	}
	for ch, why := range map[string]string{"slack": "500", "pagerduty": "400"} {
		if state, detail := summaryRow(t, last, ch); state != "failing" || !strings.HasPrefix(detail, "failed 1 run(s) in a row") || !strings.Contains(detail, why) {
			t.Errorf("summary %s: %s %q, want failing with HTTP %s", ch, state, detail, why)
		}
	}
	if len(w.pages.Deployments()) != 2 {
		t.Errorf("%d deployments, want 2", len(w.pages.Deployments()))
	}
	w.assertNoSecrets(t, results...)
}

func TestRunOnDemoData(t *testing.T) {
	t.Parallel()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     func(w *runWorld) map[string]string
		reasons map[string]string // source → reason in the summary
		publish string            // the publish row's state
	}{
		{
			name: "no credentials",
			env:  func(*runWorld) map[string]string { return map[string]string{} },
			reasons: map[string]string{
				"github": "GITHUB_TOKEN not set", "cloudflare": "CLOUDFLARE_API_TOKEN not set",
				"posthog": "POSTHOG_HOST, POSTHOG_PERSONAL_API_KEY, POSTHOG_PROJECT_ID not set",
				"probe":   "not run against demo data",
			},
			publish: "skipped",
		},
		{
			name: "every credential set",
			env:  func(w *runWorld) map[string]string { return w.env },
			reasons: map[string]string{
				"github": "credentials set; not collected into demo data", "cloudflare": "credentials set; not collected into demo data",
				"posthog": "credentials set; not collected into demo data", "probe": "not run against demo data",
			},
			publish: "ok",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newRunWorld(t)
			w.config = filepath.Join(repo, "portfolio.json")
			cfg, err := config.Load(w.config)
			if err != nil || cfg.Publish.CloudflarePages == nil {
				t.Fatalf("the repository's portfolio.json: %v, publish %+v", err, cfg.Publish)
			}
			w.pages.Project = cfg.Publish.CloudflarePages.Project
			if err := os.CopyFS(w.data, os.DirFS(filepath.Join(repo, "data"))); err != nil {
				t.Fatal(err)
			}
			before := treeDigest(t, w.data)
			w.env = tc.env(w)
			// No Now: demo data brings its own clock.
			res := w.run(t, time.Time{})
			if res.err != nil || res.rep.Outcome != run.OK {
				t.Fatalf("want OK:\n%s", res)
			}
			meta, _ := store.Open(w.data).Meta()
			if !res.rep.Now.Equal(meta.AsOf) {
				t.Errorf("the run is as of %s, want the demo's last snapshot %s", res.rep.Now, meta.AsOf)
			}
			if after := treeDigest(t, w.data); !maps.Equal(after, before) {
				for f, d := range after {
					if before[f] != d {
						t.Errorf("%s was written", f)
					}
				}
				for f := range before {
					if _, ok := after[f]; !ok {
						t.Errorf("%s was removed", f)
					}
				}
			}
			if !res.rep.Demo {
				t.Errorf("the report does not say it ran on demo data:\n%s", res)
			}
			if state, detail := summaryRow(t, res, "collect"); state != "skipped" || !strings.Contains(detail, "demo history") {
				t.Errorf("summary collect: %s %q", state, detail)
			}
			for src, reason := range tc.reasons {
				if state, detail := summaryRow(t, res, src); state != "skipped" || !strings.Contains(detail, reason) {
					t.Errorf("summary %s: %s %q, want skipped: %q", src, state, detail, reason)
				}
			}
			if state, _ := summaryRow(t, res, "alert"); state != "skipped" {
				t.Errorf("summary alert: %s, want skipped", state)
			}
			if state, _ := summaryRow(t, res, "build"); state != "ok" {
				t.Errorf("summary build: %s, want ok", state)
			}
			if state, _ := summaryRow(t, res, "publish"); state != tc.publish {
				t.Errorf("summary publish: %s, want %s", state, tc.publish)
			}
			if _, err := os.Stat(filepath.Join(w.out, "index.html")); err != nil {
				t.Errorf("no site built: %v", err)
			}
			calls := len(w.gh.Calls()) + len(w.cf.Calls()) + len(w.ph.Calls()) + w.slack.Calls() + len(w.pd.Events()) + len(w.issues.Calls())
			if calls != 0 {
				t.Errorf("%d calls to the collect and alert APIs on demo data", calls)
			}
			for id, n := range w.probes {
				if n.Load() != 0 {
					t.Errorf("%s was probed", id)
				}
			}
		})
	}
}

// treeDigest maps each file under dir to a digest of its bytes and mode.
func treeDigest(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fmt.Sprintf("%x %s", sha256.Sum256(b), info.Mode())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s is empty", dir)
	}
	return out
}
