package run_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// latencyTransport answers every request latency later than the fakes would: the round trip
// and server time of a real API. It counts requests by the host they went to.
type latencyTransport struct {
	latency time.Duration
	mu      sync.Mutex
	byHost  map[string]int
}

func (l *latencyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.byHost[r.URL.Host]++
	l.mu.Unlock()
	select {
	case <-time.After(l.latency):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// BenchmarkCollectLatency is one collect of n products against the fakes of GitHub,
// Cloudflare and PostHog and a health endpoint, with every request 200 ms slow: what decides how
// many products one job collects within its --deadline (docs/sharding.md turns it into the rule).
// "first" is a product's first collect (no state); "next" the one 15 minutes later from a
// fresh checkout (the state committed, the ETag cache not): the steady state of the schedule. Reported per op: s/product (wall time / n) and the requests
// per product of each API.
func BenchmarkCollectLatency(b *testing.B) {
	const latency = 200 * time.Millisecond
	for _, n := range []int{16, 64} {
		for _, phase := range []string{"first", "next"} {
			b.Run(fmt.Sprintf("products=%d/%s", n, phase), func(b *testing.B) {
				cfg, env, hosts := latencyWorld(b, n)
				tr := &latencyTransport{latency: latency, byHost: map[string]int{}}
				start := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
				opts := func(st *store.Store, now time.Time) run.Options {
					return run.Options{Config: cfg, Store: st, Now: now, Getenv: func(k string) string { return env[k] },
						Sleep: func(context.Context, time.Duration) error { return nil }, HTTP: run.Clients{Sources: &http.Client{Transport: tr}}}
				}
				var runs int
				var elapsed time.Duration
				for b.Loop() {
					st := store.Open(b.TempDir())
					if err := st.SaveMeta(store.Meta{}); err != nil {
						b.Fatal(err)
					}
					now := start
					if phase == "next" { // untimed: the first collect leaves state and ETags behind
						b.StopTimer()
						if _, err := run.Collect(context.Background(), opts(st, now)); err != nil {
							b.Fatal(err)
						}
						// CI's checkout is fresh: data/.cache (the ETags, never committed) is gone.
						if err := os.RemoveAll(filepath.Join(st.Dir(), ".cache")); err != nil {
							b.Fatal(err)
						}
						now = now.Add(15 * time.Minute)
						tr.mu.Lock()
						clear(tr.byHost)
						tr.mu.Unlock()
						b.StartTimer()
					}
					t0 := time.Now()
					sum, err := run.Collect(context.Background(), opts(st, now))
					elapsed += time.Since(t0)
					runs++
					if err != nil || sum.Failed() {
						b.Fatalf("collect: %v; %v", err, sum.FailedOutcomes())
					}
				}
				perProduct := elapsed.Seconds() / float64(runs*n)
				b.ReportMetric(perProduct, "s/product")
				tr.mu.Lock()
				for name, host := range hosts {
					b.ReportMetric(float64(tr.byHost[host])/float64(runs*n), name+"-req/product")
				}
				tr.mu.Unlock()
			})
		}
	}
}

// latencyWorld is demo.Config(n) pointed at the fakes: every product deploys by workflow runs
// and has a health endpoint; every other one is behind Cloudflare (with a health check) and has
// PostHog analytics. It returns the config, the environment and the fakes' hosts by API.
func latencyWorld(b *testing.B, n int) (*config.Config, map[string]string, map[string]string) {
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	gh, cfl, ph := fake.NewGitHub(b), fake.NewCloudflare(b), fake.NewPostHog(b)
	cfl.Now = func() time.Time { return now }
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	b.Cleanup(health.Close)
	cfg := demo.Config(n)
	for i := range cfg.Products {
		p := &cfg.Products[i]
		p.URL, p.Cloudflare.Worker = health.URL, ""
		p.Deploy = config.Deploy{Source: config.DeploySourceWorkflowRuns, Workflow: "deploy.yml"}
		gh.Update(p.Repository, func(r *fake.GitHubRepo) {
			c1, c2 := strings.Repeat("1", 40), strings.Repeat("2", 40)
			r.AddCommit(c1, now.Add(-50*time.Hour))
			r.AddCommit(c2, now.Add(-26*time.Hour), c1)
			for k, sha := range []string{c1, c2} {
				at := now.Add(-time.Duration(48-24*k) * time.Hour)
				r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(100*i + k + 1), Workflow: "deploy.yml", Branch: "main", SHA: sha,
					Status: "completed", Conclusion: "success", Created: at.Add(-5 * time.Minute), Updated: at})
			}
		})
		if z := p.Cloudflare.ZoneID; z != "" {
			cfl.SetHTTP(z, p.Cloudflare.Hostname, fake.CloudflareHTTP{ByStatus: map[int]int64{200: 100}, P50Ms: 30, P95Ms: 90})
			cfl.AddHealthcheck(z, cf.Healthcheck{Name: "portfolio-" + p.ID, Address: p.Cloudflare.Hostname, Status: "healthy"})
		}
		if p.PostHog.Host != "" {
			ph.SetDay(p.PostHog.Host, "2026-06-30", fake.PostHogDay{DAU: 3, Pageviews: 10})
		}
	}
	env := map[string]string{
		"GITHUB_TOKEN": gh.Token, "GITHUB_API_URL": gh.URL,
		"CLOUDFLARE_API_TOKEN": cfl.Token, "CLOUDFLARE_API_BASE_URL": cfl.URL, "CLOUDFLARE_ACCOUNT_ID": "acc",
		"POSTHOG_HOST": ph.URL, "POSTHOG_PERSONAL_API_KEY": ph.PersonalKey, "POSTHOG_PROJECT_ID": ph.ProjectID,
	}
	hostOf := func(u string) string { return strings.SplitN(strings.TrimPrefix(u, "http://"), "/", 2)[0] }
	return cfg, env, map[string]string{"github": hostOf(gh.URL), "cloudflare": hostOf(cfl.URL), "posthog": hostOf(ph.URL), "probe": hostOf(health.URL)}
}
