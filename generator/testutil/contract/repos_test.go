package contract_test

import (
	"context"
	"testing"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestReposContract plans and applies labels and branch protection on three repositories (one
// protected beyond the defaults, one left unprotected), then plans again.
func TestReposContract(t *testing.T) {
	g := fake.NewGitHub(t)
	rec := contract.NewRecorder(g.Server.Client().Transport)
	for _, r := range []string{"acme/shop", "acme/pay", "acme/docs", "acme/ops"} {
		g.Update(r, func(r *fake.GitHubRepo) {})
	}
	g.Update("acme/pay", func(r *fake.GitHubRepo) { r.Branches = []string{"release"} })
	g.Update("acme/shop", func(r *fake.GitHubRepo) { // a label to update, and a protection to replace
		r.Labels = []fake.GitHubLabel{{ID: 1, Name: "Needs-Triage", Color: "000000"}}
		r.Protection = map[string]*fake.GitHubProtection{"main": {EnforceAdmins: true, Reviews: &fake.GitHubReviews{}}}
	})
	cfg, err := config.Parse("portfolio.json", []byte(`{
  "products": [
    {"id": "shop", "repository": "acme/shop", "incidents": {"label": "sev"}},
    {"id": "pay", "repository": "acme/pay", "deploy": {"source": "deployments", "branch": "release"},
     "repository_settings": {"labels": [{"name": "pci", "color": "5319E7", "description": "Touches card data"}],
       "branch_protection": {"required_approving_review_count": 2, "enforce_admins": true}}},
    {"id": "docs", "repository": "acme/docs", "repository_settings": {"branch_protection": null}}
  ],
  "notification_channels": {"github_issues": {"repository": "acme/ops", "labels": ["ops"]}},
  "repositories": {
    "labels": [{"name": "needs-triage", "color": "fbca04", "description": "New, not yet looked at"}],
    "branch_protection": {"required_status_checks": ["test", "lint"], "strict": true, "dismiss_stale_reviews": true}
  }
}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := repos.New(repos.Options{Token: g.Token, BaseURL: g.URL, Sleep: noSleep}, rec.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := repos.DesiredState(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := repos.Apply(ctx, c, repos.Compute(d, c.Read(ctx, d)), nil); err != nil {
		t.Fatal(err)
	}
	if p := repos.Compute(d, c.Read(ctx, d)); !p.InSync() {
		t.Errorf("not in sync after apply: %+v", p.Summary)
	}
	r := contract.Checker{APIs: []contract.API{{Name: "github", Base: g.URL, Specs: []string{contract.GitHub}}}, Known: knownDivergences}.Check(t, rec.Exchanges())
	for _, op := range []string{"GET /repos/{owner}/{repo}/labels", "POST /repos/{owner}/{repo}/labels", "PATCH /repos/{owner}/{repo}/labels/{name}",
		"GET /repos/{owner}/{repo}/branches/{branch}/protection", "PUT /repos/{owner}/{repo}/branches/{branch}/protection"} {
		if r.Operations["github "+op] == 0 {
			t.Errorf("the flow never called %s; the test no longer covers it", op)
		}
	}
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}
