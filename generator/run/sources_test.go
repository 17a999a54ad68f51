package run_test

import (
	"context"
	"fmt"
	"maps"
	"math"
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

// BenchmarkCollect collects 50 products from every source against fakes that add 100 ms to each
// request, and reports the wall time against the ideal: for each source, its requests divided
// by its concurrency times the latency; sources run side by side, so the ideal is the largest.
func BenchmarkCollect(b *testing.B) {
	const (
		products = 50
		zones    = 5
		latency  = 100 * time.Millisecond
	)
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	cfk := fake.NewCloudflare(b)
	cfk.Latency = latency
	cfk.Now = func() time.Time { return now }
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
		id := fmt.Sprintf("p%02d", i)
		zone := fmt.Sprintf("%032x", i%zones+1)
		host := id + ".example.com"
		cfk.SetHTTP(zone, host, fake.CloudflareHTTP{ByStatus: map[int]int64{200: 100}})
		cfk.AddHealthcheck(zone, cf.Healthcheck{Name: "portfolio-" + id, Address: host, Status: "healthy"})
		cfk.SetWorker("acc", id+"-worker", fake.CloudflareWorker{Requests: 10})
		ph.SetDay(host, "2026-06-30", fake.PostHogDay{DAU: 1})
		gh.Update("acme/"+id, func(r *fake.GitHubRepo) {
			r.AddCommit(fmt.Sprintf("%040d", 1), now.Add(-50*time.Hour))
			r.AddCommit(fmt.Sprintf("%040d", 2), now.Add(-26*time.Hour), fmt.Sprintf("%040d", 1))
			for k := 1; k <= 2; k++ {
				at := now.Add(-time.Duration(72-24*k) * time.Hour)
				r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(k), Workflow: "deploy.yml", Branch: "main", SHA: fmt.Sprintf("%040d", k),
					Status: "completed", Conclusion: "success", Created: at.Add(-5 * time.Minute), Updated: at})
			}
		})
		ps = append(ps, config.Product{ID: id, URL: site.URL, HealthEndpoint: "/healthz",
			Repository: "acme/" + id, Deploy: config.Deploy{Source: "workflow_runs", Workflow: "deploy.yml"},
			Incidents:  config.Incidents{Label: "incident"},
			Probe:      config.Probe{Method: "GET", ExpectedStatus: 200, TimeoutSeconds: 10},
			Cloudflare: config.Cloudflare{ZoneID: zone, Hostname: host, Worker: id + "-worker"},
			PostHog:    config.PostHog{Host: host}})
	}
	env := map[string]string{
		"GITHUB_TOKEN": gh.Token, "GITHUB_API_URL": gh.URL,
		"CLOUDFLARE_API_TOKEN": cfk.Token, "CLOUDFLARE_API_BASE_URL": cfk.URL, "CLOUDFLARE_ACCOUNT_ID": "acc",
		"POSTHOG_HOST": ph.URL, "POSTHOG_PERSONAL_API_KEY": ph.PersonalKey, "POSTHOG_PROJECT_ID": ph.ProjectID,
	}

	// GitHub needs ~8 requests a product at concurrency 4, so it sets the pace when it runs;
	// without its token, the other sources are measured on their own.
	for _, withGitHub := range []bool{true, false} {
		name := "all-sources"
		if !withGitHub {
			name = "without-github"
		}
		b.Run(name, func(b *testing.B) {
			env := maps.Clone(env)
			if !withGitHub {
				delete(env, "GITHUB_TOKEN")
			}
			var ideal time.Duration
			var wall time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				st := store.Open(b.TempDir())
				at := now.Add(time.Duration(i) * 15 * time.Minute)
				srcs, err := run.Sources(run.SourceDeps{Store: st, Getenv: func(k string) string { return env[k] },
					HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, Now: func() time.Time { return at }})
				if err != nil {
					b.Fatal(err)
				}
				cfBefore, phBefore, prBefore, ghBefore := len(cfk.Calls()), len(ph.Calls()), probes.Load(), len(gh.Calls())
				b.StartTimer()
				t0 := time.Now()
				sum, err := source.Collect(context.Background(), source.Options{Products: ps, Sources: srcs, Store: st, Now: at})
				wall += time.Since(t0)
				b.StopTimer()
				if err != nil || sum.Failed() {
					b.Fatalf("collect: %v %v", err, sum.FailedOutcomes())
				}
				// The ideal of this iteration, from the requests each fake actually served.
				var it time.Duration
				for _, s := range srcs {
					lim := source.DefaultLimits
					if l, ok := s.(source.Limited); ok {
						lim = l.Limits()
					}
					var n int
					switch s.Name() {
					case "cloudflare":
						n = len(cfk.Calls()) - cfBefore
					case "posthog":
						n = len(ph.Calls()) - phBefore
					case "github":
						n = len(gh.Calls()) - ghBefore
					case "probe":
						n = int(probes.Load() - prBefore)
					}
					d := time.Duration(math.Ceil(float64(n)/float64(lim.Concurrency))) * latency
					if i == 0 {
						b.Logf("%s: %d requests, concurrency %d → ideal %s", s.Name(), n, lim.Concurrency, d)
					}
					it = max(it, d)
				}
				ideal += it
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(wall)/float64(ideal), "wall/ideal")
			b.ReportMetric(float64(ideal)/float64(b.N)/1e6, "ideal-ms/op")
		})
	}
}
