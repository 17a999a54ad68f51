package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// collectWorld is a portfolio of three products against local fakes of every API.
type collectWorld struct {
	dir, config, data string
	cf                *fake.Cloudflare
	ph                *fake.PostHog
	gh                *fake.GitHub
	env               map[string]string
}

const (
	collectNow = "2026-06-30T12:00:00Z"
	cliZone    = "023e105f4ecef8ad9ca31a8372d0c353"
)

func newCollectWorld(t *testing.T) *collectWorld {
	t.Helper()
	now, _ := time.Parse(time.RFC3339, collectNow)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(site.Close)
	w := &collectWorld{dir: t.TempDir(), cf: fake.NewCloudflare(t), ph: fake.NewPostHog(t), gh: fake.NewGitHub(t)}
	w.gh.Update("acme/shop", func(r *fake.GitHubRepo) {
		r.AddCommit("1111111111111111111111111111111111111111", now.Add(-50*time.Hour))
		r.AddCommit("2222222222222222222222222222222222222222", now.Add(-26*time.Hour), "1111111111111111111111111111111111111111")
		for i, sha := range []string{"1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"} {
			at := now.Add(-time.Duration(48-24*i) * time.Hour)
			r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(i + 1), Workflow: "deploy.yml", Branch: "main", SHA: sha,
				Status: "completed", Conclusion: "success", Created: at.Add(-5 * time.Minute), Updated: at})
		}
		r.Issues = append(r.Issues, fake.GitHubIssue{Number: 7, Title: "checkout down", State: "open", Labels: []string{"incident"},
			Created: now.Add(-3 * time.Hour), Updated: now.Add(-3 * time.Hour)})
	})
	w.cf.Now = func() time.Time { return now }
	w.cf.SetHTTP(cliZone, "shop.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 95, 500: 5}, P50Ms: 30, P95Ms: 90})
	w.cf.AddHealthcheck(cliZone, cf.Healthcheck{Name: "portfolio-shop", Address: "shop.example.com", Status: "healthy"})
	w.ph.SetDay("shop.example.com", "2026-06-30", fake.PostHogDay{DAU: 3, Pageviews: 10})
	w.ph.SetDay("docs", "2026-06-30", fake.PostHogDay{DAU: 1, Pageviews: 2})
	w.config = filepath.Join(w.dir, "portfolio.json")
	w.data = filepath.Join(w.dir, "data")
	cfg := fmt.Sprintf(`{"products": [
  {"id": "shop", "url": %q, "health_endpoint": "/healthz", "repository": "acme/shop", "deploy": {"workflow": "deploy.yml"},
   "cloudflare": {"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "hostname": "shop.example.com"}, "posthog": {"host": "shop.example.com"}},
  {"id": "docs", "url": %q, "health_endpoint": "/healthz", "posthog": {"product": "docs"}},
  {"id": "blog", "url": "https://blog.example.com"}
]}`, site.URL, site.URL)
	if err := os.WriteFile(w.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{
		"GITHUB_TOKEN": w.gh.Token, "GITHUB_API_URL": w.gh.URL,
		"CLOUDFLARE_API_TOKEN": w.cf.Token, "CLOUDFLARE_API_BASE_URL": w.cf.URL, "CLOUDFLARE_ACCOUNT_ID": "acc",
		"POSTHOG_HOST": w.ph.URL, "POSTHOG_PERSONAL_API_KEY": w.ph.PersonalKey, "POSTHOG_PROJECT_ID": w.ph.ProjectID,
	}
	return w
}

func (w *collectWorld) run(args ...string) (int, string) {
	var stdout, stderr bytes.Buffer
	args = append([]string{"collect", "--config", w.config, "--data", w.data, "--now", collectNow}, args...)
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return w.env[k] }, Sleep: noSleep}).Main(args)
	return code, stdout.String() + stderr.String()
}

func (w *collectWorld) assertNoSecrets(t *testing.T, output string) {
	t.Helper()
	secrets := []string{w.cf.Token, w.ph.PersonalKey, w.gh.Token}
	for _, s := range secrets {
		if strings.Contains(output, s) {
			t.Errorf("a secret is in the output")
		}
	}
	filepath.Walk(w.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || path == w.config {
			return err
		}
		data, _ := os.ReadFile(path)
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("a secret is in %s", path)
			}
		}
		return nil
	})
}

func TestCollectAllSourcesOK(t *testing.T) {
	w := newCollectWorld(t)
	code, out := w.run()
	if code != ExitOK {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	st := store.Open(w.data)
	shop, ok, err := st.LastSnapshot("shop")
	if err != nil || !ok {
		t.Fatalf("no shop snapshot: %v", err)
	}
	for _, src := range []string{"github", "cloudflare", "posthog", "probe"} {
		if shop.Sources[src].State != "ok" {
			t.Errorf("shop %s = %+v", src, shop.Sources[src])
		}
	}
	if shop.HTTP == nil || shop.HTTP.Requests != 100 || shop.Health != "healthy" || !shop.Probe.OK() {
		t.Errorf("shop snapshot = %+v", shop)
	}
	blog, _, _ := st.LastSnapshot("blog")
	if blog.Sources["probe"].State != "skipped" || blog.Sources["cloudflare"].Msg != "no cloudflare.zone_id or cloudflare.worker configured" {
		t.Errorf("blog = %+v", blog.Sources)
	}
	days, _ := st.Analytics("docs")
	if len(days) != 7 || days[6].DAU != 1 {
		t.Errorf("docs analytics = %+v", days)
	}
	deps, _ := st.Deployments("shop")
	incs, _ := st.Incidents("shop")
	if len(deps) != 2 || len(incs) != 1 || incs[0].Title != "checkout down" {
		t.Errorf("shop deployments %+v, incidents %+v", deps, incs)
	}
	if !strings.Contains(out, "collected 3 products × 4 sources") || !strings.Contains(out, "shop                 cloudflare ok") {
		t.Errorf("output:\n%s", out)
	}
	w.assertNoSecrets(t, out)
}

func TestCollectExitsThreeWhenASourceFails(t *testing.T) {
	w := newCollectWorld(t)
	w.cf.Inject(fake.InjectedFault{Match: "/healthchecks", Body: fake.CloudflareErrorBody(10000, "Authentication error")})
	code, out := w.run()
	if code != ExitSourcesFailed {
		t.Fatalf("exit %d, want 3:\n%s", code, out)
	}
	if !strings.Contains(out, "portfolio: 1 of 12 source calls failed; their data is stale") {
		t.Errorf("output:\n%s", out)
	}
	shop, _, _ := store.Open(w.data).LastSnapshot("shop")
	if s := shop.Sources["cloudflare"]; s.State != "error" || !strings.Contains(s.Msg, "10000 Authentication error") || shop.HTTP == nil {
		t.Errorf("shop cloudflare = %+v, http %+v", s, shop.HTTP)
	}
	w.assertNoSecrets(t, out)
}

func TestCollectInGitHubActions(t *testing.T) {
	w := newCollectWorld(t)
	// One HogQL query asks about every product: PostHog's rate limit is shop's and docs'.
	w.ph.Inject(fake.InjectedFault{Match: "docs", Status: 429, RetryAfter: "600"})
	summary := filepath.Join(w.dir, "step-summary.md")
	w.env["GITHUB_ACTIONS"] = "true"
	w.env["GITHUB_STEP_SUMMARY"] = summary
	code, out := w.run()
	if code != ExitSourcesFailed {
		t.Fatalf("exit %d, want 3:\n%s", code, out)
	}
	for _, want := range []string{
		"::group::shop: 3 ok, 1 rate limited\n",
		"::group::blog: 4 skipped\n",
		"::endgroup::\n",
		"::warning title=collect docs/posthog::rate_limited: posthog: query: rate limited until 2026-06-30T12:10:00Z: HTTP 429 from 127.0.0.1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	md, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| Product | github | cloudflare | posthog | probe |",
		"| docs | ⏭️ skipped | ⏭️ skipped | ⏳ rate limited | ✅ ok |",
		"**Failed sources**",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("step summary lacks %q:\n%s", want, md)
		}
	}
}

func TestCollectShard(t *testing.T) {
	w := newCollectWorld(t)
	code, out := w.run("--shard", "2/3")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	entries, _ := os.ReadDir(filepath.Join(w.data, "products"))
	if len(entries) != 1 || entries[0].Name() != "docs" {
		t.Errorf("shard 2/3 touched %v, want only docs", entries)
	}
	if !strings.Contains(out, "(shard 2/3)") {
		t.Errorf("output:\n%s", out)
	}
}

func TestCollectUsage(t *testing.T) {
	w := newCollectWorld(t)
	for _, args := range [][]string{{"--shard", "4/3"}, {"--source", "nope"}} {
		if code, out := w.run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2:\n%s", args, code, out)
		}
	}
	if code, out := w.run("--source", "probe"); code != ExitOK || !strings.Contains(out, "× 1 sources") {
		t.Errorf("--source probe: exit %d:\n%s", code, out)
	}
}
