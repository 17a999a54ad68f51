package run_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func TestSourcesRegistry(t *testing.T) {
	env := map[string]string{}
	d := run.SourceDeps{Store: store.Open(t.TempDir()), Getenv: func(k string) string { return env[k] }}
	all, err := run.Sources(d)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range all {
		names = append(names, s.Name())
	}
	if got, want := strings.Join(names, ","), strings.Join(run.SourceNames(), ","); got != want {
		t.Errorf("sources = %s, want %s", got, want)
	}
	only, err := run.Sources(d, "probe")
	if err != nil || len(only) != 1 || only[0].Name() != "probe" {
		t.Errorf("only probe = %v, %v", only, err)
	}
	if _, err := run.Sources(d, "nope"); err == nil || !strings.Contains(err.Error(), `unknown source "nope"`) {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkCollect measures what a steady-state run costs at 10, 50 and 200 products against
// fakes that add 10 ms to every request: the requests each API receives per run (GitHub: those
// that count against its rate limit, with a token that changes every run as GitHub Actions'
// GITHUB_TOKEN does, so no stored ETag ever matches), reported with b.ReportMetric. The
// products have a repository, a zone (five products share one), a Worker, a PostHog host and a
// health URL each. The first run, which reads the history, is made before the timer starts;
// each timed run is the next 15-minute run.
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{10, 50, 200} {
		b.Run(fmt.Sprintf("products=%d", n), func(b *testing.B) { benchmarkCollect(b, n) })
	}
}

func benchmarkCollect(b *testing.B, products int) {
	const latency = 10 * time.Millisecond
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	cfk := fake.NewCloudflare(b)
	cfk.Latency = latency
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	cfk.Now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	ph := fake.NewPostHog(b)
	ph.Latency = latency
	gh := fake.NewGitHub(b)
	gh.Latency = latency
	var probes atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		probes.Add(1)
		time.Sleep(latency)
		w.Write([]byte("ok"))
	}))
	b.Cleanup(site.Close)

	var ps []config.Product
	for i := range products {
		id := fmt.Sprintf("p%03d", i)
		zone := fmt.Sprintf("%032x", i/5+1)
		host := id + ".example.com"
		cfk.SetHTTP(zone, host, fake.CloudflareHTTP{ByStatus: map[int]int64{200: 100, 404: 3, 502: 1}, P50Ms: 40, P95Ms: 120})
		cfk.AddHealthcheck(zone, cf.Healthcheck{Name: "portfolio-" + id, Address: host, Status: "healthy"})
		cfk.SetWorker("acc", id+"-worker", fake.CloudflareWorker{Requests: 10})
		for d := range 7 {
			ph.SetDay(host, now.AddDate(0, 0, -d).Format("2006-01-02"), fake.PostHogDay{DAU: 1, Pageviews: 3})
		}
		gh.Update("acme/"+id, func(r *fake.GitHubRepo) {
			r.AddCommit(fmt.Sprintf("%040d", 1), now.Add(-50*time.Hour))
			r.AddCommit(fmt.Sprintf("%040d", 2), now.Add(-26*time.Hour), fmt.Sprintf("%040d", 1))
			for k := 1; k <= 2; k++ {
				at := now.Add(-time.Duration(72-24*k) * time.Hour)
				r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(k), Workflow: "deploy.yml", Branch: "main", SHA: fmt.Sprintf("%040d", k),
					Status: "completed", Conclusion: "success", Created: at.Add(-5 * time.Minute), Updated: at})
			}
			r.Issues = []fake.GitHubIssue{{Number: 1, Title: "Down", Labels: []string{"incident"}, State: "closed",
				Created: now.Add(-30 * time.Hour), Updated: now.Add(-29 * time.Hour), Closed: ptr(now.Add(-29 * time.Hour))}}
		})
		ps = append(ps, config.Product{ID: id, URL: site.URL, HealthEndpoint: "/healthz",
			Repository: "acme/" + id, Deploy: config.Deploy{Source: "workflow_runs", Workflow: "deploy.yml"},
			Incidents:  config.Incidents{Label: "incident"},
			Probe:      config.Probe{Method: "GET", ExpectedStatus: 200, TimeoutSeconds: 10},
			Cloudflare: config.Cloudflare{ZoneID: zone, Hostname: host, Worker: id + "-worker"},
			PostHog:    config.PostHog{Host: host}})
	}
	st := store.Open(b.TempDir())
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	type counts struct{ github, cfGraphQL, cfREST, posthog, probe int }
	collect := func(at time.Time) counts {
		b.Helper()
		clock.Store(at.UnixNano())
		token := gh.RotateToken() // a new job, a new GITHUB_TOKEN
		env := map[string]string{
			"GITHUB_TOKEN": token, "GITHUB_API_URL": gh.URL,
			"CLOUDFLARE_API_TOKEN": cfk.Token, "CLOUDFLARE_API_BASE_URL": cfk.URL, "CLOUDFLARE_ACCOUNT_ID": "acc",
			"POSTHOG_HOST": ph.URL, "POSTHOG_PERSONAL_API_KEY": ph.PersonalKey, "POSTHOG_PROJECT_ID": ph.ProjectID,
		}
		srcs, err := run.Sources(run.SourceDeps{Store: st, Getenv: func(k string) string { return env[k] }, HTTP: hc,
			Now: func() time.Time { return at }})
		if err != nil {
			b.Fatal(err)
		}
		ghBefore, cfBefore, phBefore, prBefore := len(gh.Calls()), len(cfk.Calls()), len(ph.Calls()), probes.Load()
		sum, err := source.Collect(context.Background(), source.Options{Products: ps, Sources: srcs, Store: st, Now: at})
		if err != nil || sum.Failed() {
			b.Fatalf("collect: %v %v", err, sum.FailedOutcomes())
		}
		var c counts
		for _, call := range gh.Calls()[ghBefore:] {
			if call.Status != http.StatusNotModified {
				c.github++
			}
		}
		for _, call := range cfk.Calls()[cfBefore:] {
			if strings.HasPrefix(call, "POST /graphql") {
				c.cfGraphQL++
			} else {
				c.cfREST++
			}
		}
		c.posthog = len(ph.Calls()) - phBefore
		c.probe = int(probes.Load() - prBefore)
		return c
	}
	first := collect(now)
	b.Logf("%d products, first run: github %d counted, cloudflare %d GraphQL + %d REST, posthog %d, probe %d",
		products, first.github, first.cfGraphQL, first.cfREST, first.posthog, first.probe)
	var total counts
	b.ResetTimer()
	for i := range b.N {
		c := collect(now.Add(time.Duration(i+1) * 15 * time.Minute))
		total.github += c.github
		total.cfGraphQL += c.cfGraphQL
		total.cfREST += c.cfREST
		total.posthog += c.posthog
		total.probe += c.probe
	}
	b.StopTimer()
	per := func(n int) float64 { return float64(n) / float64(b.N) }
	b.ReportMetric(per(total.github), "github-counted/run")
	b.ReportMetric(per(total.cfGraphQL), "cf-graphql/run")
	b.ReportMetric(per(total.cfREST), "cf-rest/run")
	b.ReportMetric(per(total.posthog), "posthog/run")
	b.ReportMetric(per(total.probe), "probe/run")
}

func ptr[T any](v T) *T { return &v }
