package contract_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/publish"
	"github.com/portfolio-report/portfolio/generator/publish/cloudflarepages"
	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestPagesPublisherContract publishes a site (a production and a preview deployment, the
// second finding every asset already there) and one that fails in the deploy stage.
func TestPagesPublisherContract(t *testing.T) {
	f := fake.NewPages(t)
	f.PollsUntilDone = 1
	rec := contract.NewRecorder(f.Server.Client().Transport)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"index.html": "<h1>portfolio</h1>", "products/api/index.html": "<p>api</p>", "static/css/site.css": "body{}",
		"_headers": "/*\n  X-Frame-Options: DENY\n", "_redirects": "/old /products/api/ 301\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := cloudflarepages.New(cloudflarepages.Config{AccountID: f.AccountID, APIToken: f.Token, Project: f.Project,
		BaseURL: f.URL, RateLimit: 1000}, rec.Client(), nil,
		cloudflarepages.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	dirty := false
	for _, meta := range []publish.Meta{{CommitHash: "0123abc", CommitMessage: "data: snapshot", CommitDirty: &dirty}, {Branch: "preview-1"}} {
		if _, err := pub.Publish(context.Background(), dir, meta); err != nil {
			t.Fatal(err)
		}
	}
	f.FailDeployments = true
	if _, err := pub.Publish(context.Background(), dir, publish.Meta{}); err == nil {
		t.Error("a failed deployment was reported as published")
	}
	r := contract.Checker{APIs: []contract.API{cloudflareAPI(f.URL)}, Known: knownDivergences}.Check(t, rec.Exchanges())
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}
