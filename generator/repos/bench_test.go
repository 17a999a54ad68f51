package repos_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// benchWorld is 200 products, each in its own repository holding 300 labels nobody configured,
// all in sync with the config but one drifted protection.
func benchWorld(b *testing.B) (*fake.GitHub, *repos.Client, repos.Desired) {
	f := fake.NewGitHub(b)
	two := 2
	cfg := &config.Config{Repositories: &config.RepositorySettings{
		Labels:           []config.Label{{Name: "needs-triage", Color: "fbca04"}},
		BranchProtection: &config.BranchProtection{RequiredApprovingReviewCount: &two, RequiredStatusChecks: []string{"test", "lint"}},
	}}
	for i := range 200 {
		repo := fmt.Sprintf("acme/p%03d", i)
		cfg.Products = append(cfg.Products, config.Product{ID: fmt.Sprintf("p%03d", i), Repository: repo})
		f.Update(repo, func(r *fake.GitHubRepo) {
			for j := range 300 {
				r.Labels = append(r.Labels, fake.GitHubLabel{ID: int64(j + 1), Name: fmt.Sprintf("area-%03d", j), Color: "cccccc"})
			}
		})
	}
	cfg.ApplyDefaults()
	c, err := repos.New(repos.Options{Token: f.Token, BaseURL: f.URL}, f.Server.Client(), nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := repos.DesiredState(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := repos.Apply(context.Background(), c, repos.Compute(d, c.Read(context.Background(), d)), nil); err != nil {
		b.Fatal(err)
	}
	f.Update("acme/p007", func(r *fake.GitHubRepo) { r.Protection["main"].AllowDeletions = true })
	return f, c, d
}

// BenchmarkCompute diffs 200 repositories (600 managed labels among 60,000, 200 branches).
func BenchmarkCompute(b *testing.B) {
	_, c, d := benchWorld(b)
	r := c.Read(context.Background(), d)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if p := repos.Compute(d, r); p.Summary.Update != 1 {
			b.Fatalf("summary %+v", p.Summary)
		}
	}
}

// BenchmarkRead reads the same 200 repositories from the fake: 4 label pages, the repository
// and the protection of each, four repositories at a time.
func BenchmarkRead(b *testing.B) {
	_, c, d := benchWorld(b)
	b.ResetTimer()
	for b.Loop() {
		r := c.Read(context.Background(), d)
		if len(r.Repos) != 200 {
			b.Fatal(len(r.Repos))
		}
	}
}
