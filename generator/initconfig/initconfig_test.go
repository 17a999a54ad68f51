package initconfig_test

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/initconfig"
	"github.com/portfolio-report/portfolio/generator/repos"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

const (
	zoneExample = "023e105f4ecef8ad9ca31a8372d0c353" // example.com
	zonePay     = "372e67954025e0ba6aaa6d586b9e0b59" // pay.example.com
)

func noSleep(context.Context, time.Duration) error { return nil }

// acme fills the GitHub fake with an organisation of five repositories:
//   - storefront: two deploy-like workflows with runs on main (deploy.yml has more successes),
//     a CI workflow, deployments too, the label incident, a homepage;
//   - payments: no deploy workflow, deployments mostly to production, a label "type: incident",
//     a homepage without a scheme;
//   - docs: nothing to go on;
//   - old-site: archived;
//   - Marketing.Site: a name that is not a slug.
func acme(g *fake.GitHub) {
	day := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	g.Update("acme/storefront", func(r *fake.GitHubRepo) {
		r.Info = fake.GitHubRepoInfo{Homepage: "https://shop.example.com", Description: "The customer-facing shop.\nSecond line."}
		r.Workflows = []fake.GitHubWorkflow{{Name: "CI", File: "ci.yml"}, {Name: "Deploy", File: "deploy.yml"}, {Name: "Release", File: "release.yaml"}}
		id := int64(100)
		run := func(wf, branch, conclusion string, d int) {
			id++
			r.Runs = append(r.Runs, fake.GitHubRun{ID: id, Workflow: wf, Branch: branch, SHA: "abc", Status: "completed", Conclusion: conclusion, Created: day(d), Updated: day(d)})
		}
		for d := 1; d <= 5; d++ {
			run("deploy.yml", "main", "success", d)
			run("ci.yml", "main", "success", d)
		}
		run("deploy.yml", "main", "failure", 6)
		run("deploy.yml", "feature", "success", 2) // not the default branch
		run("release.yaml", "main", "success", 3)
		run("release.yaml", "main", "success", 40)
		run("deploy.yml", "main", "success", 200) // older than the window
		r.Deployments = []fake.GitHubDeployment{{ID: 1, SHA: "abc", Ref: "main", Environment: "production", Created: day(1), Updated: day(1)}}
		r.Labels = []fake.GitHubLabel{{ID: 1, Name: "bug", Color: "d73a4a"}, {ID: 2, Name: "incident", Color: "b60205"}}
	})
	g.Update("acme/payments", func(r *fake.GitHubRepo) {
		r.Info = fake.GitHubRepoInfo{Homepage: "api.pay.example.com"}
		r.DefaultBranch = "trunk"
		r.Workflows = []fake.GitHubWorkflow{{Name: "Tests", File: "test.yml"}}
		envs := []string{"production", "staging", "production", "production", "staging", "production"}
		for i, e := range envs {
			r.Deployments = append(r.Deployments, fake.GitHubDeployment{ID: int64(10 + i), SHA: "def", Ref: "trunk", Environment: e, Created: day(i + 1), Updated: day(i + 1)})
		}
		r.Labels = []fake.GitHubLabel{{ID: 3, Name: "outage-report", Color: "000000"}, {ID: 4, Name: "type: incident", Color: "b60205"}}
	})
	g.Update("acme/docs", func(r *fake.GitHubRepo) {})
	g.Update("acme/old-site", func(r *fake.GitHubRepo) {
		r.Info = fake.GitHubRepoInfo{Archived: true, Homepage: "https://old.example.com"}
	})
	g.Update("acme/Marketing.Site", func(r *fake.GitHubRepo) {
		r.Info = fake.GitHubRepoInfo{Homepage: "https://www.example.com", Fork: true}
		r.Workflows = []fake.GitHubWorkflow{{Name: "Deploy to Pages", File: "pages.yml", State: "disabled_manually"}}
	})
}

func githubClient(t *testing.T, g *fake.GitHub) *repos.Client {
	t.Helper()
	c, err := repos.New(repos.Options{Token: g.Token, BaseURL: g.URL, Sleep: noSleep}, g.Server.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cloudflareClient(f *fake.CloudflareAccount) *cloudflare.Client {
	return cloudflare.New(cloudflare.Options{Token: f.Token, BaseURL: f.URL}, f.Server.Client())
}

func posthogSource(f *fake.PostHog) *posthog.Source {
	return posthog.New(posthog.Options{Host: f.URL, PersonalKey: f.PersonalKey, ProjectID: f.ProjectID,
		Now: func() time.Time { return now }, Sleep: noSleep}, f.Server.Client(), nil)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/initconfig -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestProposeReadsWhatTheRepositoriesHave(t *testing.T) {
	g := fake.NewGitHub(t)
	acme(g)
	cf := fake.NewCloudflareAccount(t)
	cf.AddZone(zoneExample, "example.com", "")
	cf.AddZone(zonePay, "pay.example.com", "pending")
	ph := fake.NewPostHog(t)
	ph.SetHostEvents("shop.example.com", 1234)
	ph.SetHostEvents("app.example.com", 80)

	p, err := initconfig.Propose(context.Background(), initconfig.Options{
		Org: "acme", GitHub: githubClient(t, g), Cloudflare: cloudflareClient(cf), PostHog: posthogSource(ph), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.JSON("portfolio.json")
	if err != nil {
		t.Fatal(err)
	}
	var reasons bytes.Buffer
	if err := p.WriteReasons(&reasons); err != nil {
		t.Fatal(err)
	}
	golden(t, "acme.json", data)
	golden(t, "acme.reasons.txt", reasons.Bytes())

	byID := map[string]initconfig.Product{}
	for _, d := range p.Document.Products {
		byID[d.ID] = d
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if strings.Join(ids, " ") != "docs marketing-site payments storefront" {
		t.Fatalf("products %v: want one per non-archived repository, ids made slugs", ids)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"storefront counts deploy.yml, the deploy-like workflow with more successful runs on main",
			*byID["storefront"].Deploy == initconfig.Deploy{Source: "workflow_runs", Workflow: "deploy.yml"}},
		{"payments counts deployments to its most used environment",
			*byID["payments"].Deploy == initconfig.Deploy{Source: "deployments", Environment: "production"}},
		{"storefront keeps the default incident label unwritten", byID["storefront"].Incidents == nil},
		{"payments' incident label is the one whose name says so", byID["payments"].Incidents != nil && byID["payments"].Incidents.Label == "type: incident"},
		{"the homepage is the url, https added when it has no scheme",
			byID["storefront"].URL == "https://shop.example.com" && byID["payments"].URL == "https://api.pay.example.com" && byID["docs"].URL == ""},
		{"the zone is the longest one holding the host",
			*byID["storefront"].Cloudflare == initconfig.Cloudflare{ZoneID: zoneExample, Hostname: "shop.example.com"} &&
				*byID["payments"].Cloudflare == initconfig.Cloudflare{ZoneID: zonePay, Hostname: "api.pay.example.com"}},
		{"only a host PostHog saw becomes posthog.host", byID["storefront"].PostHog != nil && byID["payments"].PostHog == nil},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: got %+v", c.what, p.Document.Products)
		}
	}
	for _, want := range []string{
		"also deploy-like: release.yaml (\"Release\"), 2 runs, 2 successful: deploy.yml was chosen",
		"the repository also has deployments (production 1)",
		"deploy-like workflows not counted: pages.yml (disabled_manually)",
		"zone pay.example.com holds api.pay.example.com (the zone is pending",
		"PostHog saw 1234 events from shop.example.com in the last 7 days",
		"PostHog also saw app.example.com (80 events)",
		"acme/old-site  archived",
		"is a fork",
	} {
		if !strings.Contains(reasons.String(), want) {
			t.Errorf("the reasons do not say %q:\n%s", want, reasons.String())
		}
	}
}

func TestProposeWithAFineGrainedTokenWithoutActionsRead(t *testing.T) {
	g := fake.NewGitHub(t)
	acme(g)
	g.UseToken("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789", fake.GitHubToken{
		Kind: fake.GitHubTokenFineGrained, Permissions: map[string]string{"issues": "read", "deployments": "read", "contents": "read"}})
	p, err := initconfig.Propose(context.Background(), initconfig.Options{Org: "acme", GitHub: githubClient(t, g), Now: now,
		CloudflareSkip: "CLOUDFLARE_API_TOKEN not set", PostHogSkip: "POSTHOG_PERSONAL_API_KEY not set"})
	if err != nil {
		t.Fatal(err)
	}
	var reasons bytes.Buffer
	p.WriteReasons(&reasons)
	for _, want := range []string{
		`could not list the workflows: HTTP 403 "Resource not accessible by personal access token": the token needs actions=read`,
		"Cloudflare: CLOUDFLARE_API_TOKEN not set: no zones guessed",
		"PostHog: POSTHOG_PERSONAL_API_KEY not set: no hosts guessed",
	} {
		if !strings.Contains(reasons.String(), want) {
			t.Errorf("the reasons do not say %q:\n%s", want, reasons.String())
		}
	}
	for _, d := range p.Document.Products {
		if d.ID == "storefront" && (d.Deploy == nil || d.Deploy.Source != "deployments") {
			t.Errorf("storefront without Actions read: deploy %+v, want its deployments", d.Deploy)
		}
	}
	if _, err := p.JSON("portfolio.json"); err != nil {
		t.Errorf("the proposal does not validate: %v", err)
	}
}

func TestProposeNamedRepositoriesAndUsers(t *testing.T) {
	g := fake.NewGitHub(t)
	acme(g)
	g.Update("jane/blog", func(r *fake.GitHubRepo) { r.Info = fake.GitHubRepoInfo{Homepage: "https://jane.example"} })
	g.Update("jane/dotfiles", func(r *fake.GitHubRepo) { r.Info = fake.GitHubRepoInfo{Private: true} })
	g.SetUser("jane")
	ctx := context.Background()

	p, err := initconfig.Propose(ctx, initconfig.Options{Repos: []string{"acme/old-site", "jane/blog"}, GitHub: githubClient(t, g), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Document.Products) != 2 || p.Document.Products[0].ID != "old-site" || p.Document.Site.Title != "acme portfolio" {
		t.Errorf("--repos: got %+v, want the two named, archived or not", p.Document)
	}

	p, err = initconfig.Propose(ctx, initconfig.Options{Org: "jane", GitHub: githubClient(t, g), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Document.Products) != 1 || p.Document.Products[0].Repository != "jane/blog" {
		t.Errorf("a user: got %+v, want its public repository", p.Document.Products)
	}

	_, err = initconfig.Propose(ctx, initconfig.Options{Org: "nobody", GitHub: githubClient(t, g), Now: now})
	if err == nil || !strings.Contains(err.Error(), `list the repositories of nobody: HTTP 404 "Not Found": not found, or the token may not see it`) {
		t.Errorf("an unknown owner: %v", err)
	}
	_, err = initconfig.Propose(ctx, initconfig.Options{Repos: []string{"acme"}, GitHub: githubClient(t, g), Now: now})
	if err == nil || !strings.Contains(err.Error(), `--repos "acme": want owner/name`) {
		t.Errorf("a bad --repos: %v", err)
	}
}

func TestProposeKeepsGoingWhenARepositoryRefusesAPart(t *testing.T) {
	g := fake.NewGitHub(t)
	acme(g)
	g.Inject(fake.InjectedFault{Match: "GET /repos/acme/docs/labels", Status: http.StatusInternalServerError})
	p, err := initconfig.Propose(context.Background(), initconfig.Options{Org: "acme", GitHub: githubClient(t, g), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var reasons bytes.Buffer
	p.WriteReasons(&reasons)
	if !strings.Contains(reasons.String(), `could not read the labels (HTTP 500 "Internal Server Error"): the default label incident is used`) {
		t.Errorf("reasons:\n%s", reasons.String())
	}
}

func TestAsk(t *testing.T) {
	g := fake.NewGitHub(t)
	acme(g)
	cf := fake.NewCloudflareAccount(t)
	cf.AddZone(zoneExample, "example.com", "")
	p, err := initconfig.Propose(context.Background(), initconfig.Options{Org: "acme", GitHub: githubClient(t, g), Cloudflare: cloudflareClient(cf), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// docs: kept, renamed to handbook after an id that is not a slug; marketing-site: left
	// out; payments: kept as proposed; storefront: first asks for the taken id handbook, then
	// keeps its own, with another url.
	in := strings.Join([]string{
		"", "Bad ID", "handbook", "",
		"n",
		"", "", "",
		"y", "handbook", "", "https://store.example.org",
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := initconfig.Ask(initconfig.NewPrompter(strings.NewReader(in), &out), p); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var ids []string
	for _, d := range p.Document.Products {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, " ") != "handbook payments storefront" {
		t.Fatalf("products %v, want handbook payments storefront", ids)
	}
	if d := p.Document.Products[0]; d.URL != "" || d.HealthEndpoint != "" {
		t.Errorf("handbook %+v: want no url and no health endpoint", d)
	}
	sf := p.Document.Products[2]
	if sf.URL != "https://store.example.org" || sf.Cloudflare != nil {
		t.Errorf("storefront %+v: want the new url and no zone guessed from the old one", sf)
	}
	for _, want := range []string{"an id is a lowercase slug", "handbook is taken by another product"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the prompt does not say %q", want)
		}
	}
	if !slices.ContainsFunc(p.Skipped, func(s initconfig.Skipped) bool { return s.Repository == "acme/Marketing.Site" }) {
		t.Errorf("skipped %v, want the product left out at the prompt", p.Skipped)
	}
	if _, err := p.JSON("portfolio.json"); err != nil {
		t.Error(err)
	}
	if err := initconfig.Ask(initconfig.NewPrompter(strings.NewReader("\n"), &out), p); err == nil || !strings.Contains(err.Error(), "input ended") {
		t.Errorf("input ending early: %v", err)
	}
}

func TestClearDemoData(t *testing.T) {
	write := func(t *testing.T, dir string, files ...string) {
		for _, f := range files {
			p := filepath.Join(dir, f)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	t.Run("demo data goes, README stays", func(t *testing.T) {
		dir := t.TempDir()
		if err := store.Open(dir).SaveMeta(store.Meta{Generator: "demo", Seed: 1}); err != nil {
			t.Fatal(err)
		}
		write(t, dir, "README.md", "alerts.json", "snapshots/2026-11/shop.jsonl", "products/shop/deployments.json")
		removed, err := initconfig.ClearDemoData(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(removed, " ") != "alerts.json meta.json products/ snapshots/" {
			t.Errorf("removed %v", removed)
		}
		left, _ := os.ReadDir(dir)
		var names []string
		for _, e := range left {
			if !strings.HasPrefix(e.Name(), ".") { // the lock file, which git ignores
				names = append(names, e.Name())
			}
		}
		if strings.Join(names, " ") != "README.md" {
			t.Errorf("left %v, want README.md alone", names)
		}
	})
	t.Run("collected data is never touched", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "alerts.json", "snapshots/2026-11/shop.jsonl")
		removed, err := initconfig.ClearDemoData(ctx, dir, nil)
		if err != nil || removed != nil {
			t.Fatalf("removed %v, err %v", removed, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "snapshots/2026-11/shop.jsonl")); err != nil {
			t.Error(err)
		}
	})
	t.Run("no data folder yet", func(t *testing.T) {
		removed, err := initconfig.ClearDemoData(ctx, filepath.Join(t.TempDir(), "data"), nil)
		if err != nil || removed != nil {
			t.Fatalf("removed %v, err %v", removed, err)
		}
	})
}
