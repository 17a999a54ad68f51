package contract_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/notify/githubissues"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func sha(n int) string { return strings.Repeat(fmt.Sprintf("%02x", n), 20) }

func daysAgo(d float64) time.Time { return now.Add(-time.Duration(d * 24 * float64(time.Hour))) }

// TestGitHubSourceContract collects a product that deploys by workflow runs and one that uses
// Deployments, twice each (the second run is the conditional steady state), with incidents,
// and checks every exchange.
func TestGitHubSourceContract(t *testing.T) {
	g := fake.NewGitHub(t)
	rec := contract.NewRecorder(g.Server.Client().Transport)
	st := store.Open(t.TempDir())
	src := github.New(github.Options{BaseURL: g.URL, Token: g.Token, Now: func() time.Time { return now },
		Sleep: noSleep}, st, rec.Client(), nil)
	closed := daysAgo(4)
	for _, repo := range []string{"acme/shop", "acme/pay"} {
		g.Update(repo, func(r *fake.GitHubRepo) {
			for i := 1; i <= 8; i++ {
				var parents []string
				if i > 1 {
					parents = []string{sha(i - 1)}
				}
				r.AddCommit(sha(i), daysAgo(300).Add(time.Duration(i)*time.Hour), parents...)
			}
			r.Runs = []fake.GitHubRun{
				{ID: 11, Workflow: "deploy.yml", Branch: "main", SHA: sha(2), Status: "completed", Conclusion: "success", Created: daysAgo(20), Updated: daysAgo(20)},
				{ID: 12, Workflow: "deploy.yml", Branch: "main", SHA: sha(4), Status: "completed", Conclusion: "failure", Created: daysAgo(15), Updated: daysAgo(15), Attempt: 2},
				{ID: 13, Workflow: "deploy.yml", Branch: "main", SHA: sha(6), Status: "completed", Conclusion: "success", Created: daysAgo(10), Updated: daysAgo(10)},
				{ID: 14, Workflow: "deploy.yml", Branch: "main", SHA: sha(8), Status: "in_progress", Created: daysAgo(0.01), Updated: daysAgo(0.01)},
			}
			r.Deployments = []fake.GitHubDeployment{
				{ID: 21, SHA: sha(3), Ref: "main", Environment: "production", Created: daysAgo(12), Updated: daysAgo(12),
					Statuses: []fake.GitHubDeploymentStatus{{ID: 1, State: "in_progress", Created: daysAgo(12)}, {ID: 2, State: "success", Created: daysAgo(11.9)}}},
				{ID: 22, SHA: sha(7), Ref: "main", Environment: "production", Created: daysAgo(5), Updated: daysAgo(5),
					Statuses: []fake.GitHubDeploymentStatus{{ID: 3, State: "failure", Created: daysAgo(5)}}},
			}
			r.Issues = []fake.GitHubIssue{
				{Number: 1, Title: "Checkout down", Body: "Caused-by: " + sha(4)[:8], State: "closed", StateReason: "completed",
					Labels: []string{"incident"}, Created: daysAgo(15), Updated: closed, Closed: &closed},
				{Number: 2, Title: "Slow search", Labels: []string{"incident"}, Created: daysAgo(1), Updated: daysAgo(1)},
				{Number: 3, Title: "A fix", Labels: []string{"incident"}, PullRequest: true, Created: daysAgo(1), Updated: daysAgo(1)},
			}
		})
	}
	var products []config.Product
	c := config.Config{Products: []config.Product{
		{ID: "shop", Repository: "acme/shop", Deploy: config.Deploy{Workflow: "deploy.yml"}},
		{ID: "pay", Repository: "acme/pay", Deploy: config.Deploy{Source: config.DeploySourceDeployments}},
	}}
	c.ApplyDefaults()
	products = c.Products
	for _, at := range []time.Time{now, now.Add(15 * time.Minute)} {
		if _, err := source.Collect(context.Background(), source.Options{Products: products, Sources: []source.Source{src}, Store: st, Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	r := contract.Checker{APIs: []contract.API{{Name: "github", Base: g.URL, Specs: []string{contract.GitHub}}}, Known: knownDivergences}.Check(t, rec.Exchanges())
	for _, op := range []string{"GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs", "GET /repos/{owner}/{repo}/deployments",
		"GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "GET /repos/{owner}/{repo}/compare/{basehead}", "GET /repos/{owner}/{repo}/issues"} {
		if r.Operations["github "+op] == 0 {
			t.Errorf("the flow never called %s; the test no longer covers it", op)
		}
	}
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}

// TestGitHubIssuesNotifierContract opens an incident issue, repeats and resolves it.
func TestGitHubIssuesNotifierContract(t *testing.T) {
	g := fake.NewGitHubIssues(t)
	rec := contract.NewRecorder(g.Server.Client().Transport)
	n, err := githubissues.New(githubissues.Config{Repository: "acme/ops", Labels: []string{"ops"}, Token: g.Token, BaseURL: g.URL}, rec.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleProbeDown, ""), Product: "storefront",
		Rule: alert.RuleProbeDown, Severity: alert.Critical, Status: alert.Firing, FiringSince: now,
		Value: 3, Threshold: 2, Unit: "runs", Summary: "health probe failed 3 run(s) in a row"}
	note := func(kind string, d alert.Delivery) alert.Notification {
		x := a
		if kind == alert.NotifyResolved {
			x.Status, x.ResolvedAt = alert.Resolved, now.Add(time.Hour)
		}
		return alert.Notification{Channel: alert.ChannelGitHubIssues, Kind: kind, Alert: x, Delivery: d,
			ProductName: "Storefront", ProductURL: "https://status.example.com/products/storefront/", At: now}
	}
	ctx := context.Background()
	got, err := n.Notify(ctx, note(alert.NotifyFiring, alert.Delivery{}))
	if err != nil {
		t.Fatal(err)
	}
	d := alert.Delivery{At: now, State: alert.Firing, Episode: now, IssueNumber: got.IssueNumber}
	for _, kind := range []string{alert.NotifyRepeat, alert.NotifyResolved} {
		if _, err := n.Notify(ctx, note(kind, d)); err != nil {
			t.Fatal(err)
		}
	}
	r := contract.Checker{APIs: []contract.API{{Name: "github", Base: g.URL, Specs: []string{contract.GitHub}}}, Known: knownDivergences}.Check(t, rec.Exchanges())
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}
