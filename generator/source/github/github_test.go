package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

const repoName = "acme/shop"

// sha is a 40-hex commit id for n.
func sha(n int) string { return strings.Repeat(fmt.Sprintf("%02x", n), 20) }

func daysAgo(d float64) time.Time { return now.Add(-time.Duration(d * 24 * float64(time.Hour))) }

func product() config.Product {
	c := config.Config{Products: []config.Product{{
		ID: "shop", Repository: repoName,
		Deploy: config.Deploy{Workflow: "deploy.yml"},
	}}}
	c.ApplyDefaults()
	return c.Products[0]
}

func setup(t *testing.T) (*fake.GitHub, *github.Source, *store.Store) {
	t.Helper()
	g := fake.NewGitHub(t)
	st := store.Open(t.TempDir())
	src := github.New(github.Options{BaseURL: g.URL, Token: g.Token, Now: func() time.Time { return now },
		Sleep: shortSleep}, st, g.Server.Client(), nil)
	return g, src, st
}

// chain adds commits 1..n, each authored hours before the previous one's successor, on one line.
func chain(r *fake.GitHubRepo, n int, start time.Time) {
	for i := 1; i <= n; i++ {
		var parents []string
		if i > 1 {
			parents = []string{sha(i - 1)}
		}
		r.AddCommit(sha(i), start.Add(time.Duration(i)*time.Hour), parents...)
	}
}

func run(id int64, commit int, status, conclusion string, updated time.Time) fake.GitHubRun {
	return fake.GitHubRun{ID: id, Workflow: "deploy.yml", Branch: "main", SHA: sha(commit), Status: status,
		Conclusion: conclusion, Created: updated.Add(-5 * time.Minute), Updated: updated}
}

func deps(res source.Result) string {
	var out []string
	for _, d := range res.Deployments {
		s := fmt.Sprintf("%s %s@%s %s", d.ID, d.Outcome, d.SHA[:4], d.Time.Format("01-02T15:04"))
		if d.Changes == nil {
			s += " changes:nil"
		} else {
			var cs []string
			for _, c := range d.Changes {
				cs = append(cs, c.SHA[:4])
			}
			s += " changes:[" + strings.Join(cs, " ") + "]"
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n")
}

func TestWorkflowRuns(t *testing.T) {
	t1, t2, t3 := daysAgo(10), daysAgo(9), daysAgo(8)
	tests := []struct {
		name  string
		setup func(r *fake.GitHubRepo)
		want  string
	}{
		{
			name: "first deployment's changes are its head commit; the next one's the compare",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", t1), run(2, 5, "completed", "success", t2)}
			},
			want: "run:1 success@0202 06-20T12:00 changes:[0202]\nrun:2 success@0505 06-21T12:00 changes:[0303 0404 0505]",
		},
		{
			name: "a re-run judged by its latest attempt: failed, then re-run to success",
			setup: func(r *fake.GitHubRepo) {
				rr := run(1, 2, "completed", "success", t2)
				rr.Attempt, rr.Created = 2, t1
				r.Runs = []fake.GitHubRun{rr}
			},
			want: "run:1 success@0202 06-21T12:00 changes:[0202]",
		},
		{
			name: "failure and timed_out are failed deployments; cancelled, skipped, neutral, action_required, stale, startup_failure are none",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{
					run(1, 2, "completed", "failure", t1), run(2, 2, "completed", "timed_out", t1.Add(time.Hour)),
					run(3, 2, "completed", "cancelled", t1.Add(2*time.Hour)), run(4, 2, "completed", "skipped", t1.Add(3*time.Hour)),
					run(5, 2, "completed", "neutral", t1.Add(4*time.Hour)), run(6, 2, "completed", "action_required", t1.Add(5*time.Hour)),
					run(7, 2, "completed", "stale", t1.Add(6*time.Hour)), run(8, 2, "completed", "startup_failure", t1.Add(7*time.Hour)),
				}
			},
			want: "run:1 failure@0202 06-20T12:00 changes:nil\nrun:2 failure@0202 06-20T13:00 changes:nil",
		},
		{
			name: "queued and in-progress runs are not deployments (yet)",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 2, "in_progress", "", t1), run(2, 3, "queued", "", t2)}
			},
			want: "",
		},
		{
			name: "runs on other branches and of other workflows are left out",
			setup: func(r *fake.GitHubRepo) {
				other := run(2, 3, "completed", "success", t2)
				other.Branch = "preview"
				ci := run(3, 4, "completed", "success", t3)
				ci.Workflow = "ci.yml"
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", t1), other, ci}
			},
			want: "run:1 success@0202 06-20T12:00 changes:[0202]",
		},
		{
			name: "redeploy of the same sha has no changes and needs no compare",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", t1), run(2, 2, "completed", "success", t2)}
			},
			want: "run:1 success@0202 06-20T12:00 changes:[0202]\nrun:2 success@0202 06-21T12:00 changes:[]",
		},
		{
			name: "rollback to an older sha: compare is behind, no changes",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", t1), run(2, 4, "completed", "success", t2), run(3, 2, "completed", "success", t3)}
			},
			want: "run:1 success@0202 06-20T12:00 changes:[0202]\nrun:2 success@0404 06-21T12:00 changes:[0303 0404]\nrun:3 success@0202 06-22T12:00 changes:[]",
		},
		{
			name: "a failed deployment is not a predecessor: changes accumulate to the next success",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", t1), run(2, 3, "completed", "failure", t2), run(3, 4, "completed", "success", t3)}
			},
			want: "run:1 success@0202 06-20T12:00 changes:[0202]\nrun:2 failure@0303 06-21T12:00 changes:nil\nrun:3 success@0404 06-22T12:00 changes:[0303 0404]",
		},
		{
			name: "the latest successful run before the history is fetched as the predecessor",
			setup: func(r *fake.GitHubRepo) {
				r.Runs = []fake.GitHubRun{run(1, 1, "completed", "success", daysAgo(200)), run(2, 2, "completed", "success", daysAgo(90)),
					run(3, 3, "completed", "failure", daysAgo(80)), run(4, 5, "completed", "success", t1)}
			},
			want: "run:2 success@0202 04-01T12:00 changes:[0202]\nrun:4 success@0505 06-20T12:00 changes:[0303 0404 0505]",
		},
		{
			name: "more than 100 runs: every page is read",
			setup: func(r *fake.GitHubRepo) {
				for i := range 130 {
					r.Runs = append(r.Runs, run(int64(100+i), 2, "completed", "cancelled", t1.Add(time.Duration(i)*time.Minute)))
				}
				r.Runs = append(r.Runs, run(1, 2, "completed", "success", daysAgo(12)))
			},
			want: "run:1 success@0202 06-18T12:00 changes:[0202]",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, src, _ := setup(t)
			g.Update(repoName, func(r *fake.GitHubRepo) {
				chain(r, 8, daysAgo(300))
				tc.setup(r)
			})
			res, err := src.Collect(context.Background(), product(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if got := deps(res); got != tc.want {
				t.Errorf("deployments:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestCompareAllPages(t *testing.T) {
	g, src, _ := setup(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		chain(r, 230, daysAgo(300))
		r.Runs = []fake.GitHubRun{run(1, 1, "completed", "success", daysAgo(20)), run(2, 230, "completed", "success", daysAgo(19))}
	})
	res, err := src.Collect(context.Background(), product(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deployments) != 2 {
		t.Fatalf("deployments:\n%s\nerr %v", deps(res), err)
	}
	if n := len(res.Deployments[1].Changes); n != 229 {
		t.Errorf("%d changes, want 229 (three pages of compare)", n)
	}
	pages := 0
	for _, c := range g.Calls() {
		if strings.Contains(c.Path, "/compare/") {
			pages++
			if !strings.Contains(c.Path, "per_page=100") {
				t.Errorf("compare without per_page=100: %s", c.Path)
			}
		}
	}
	if pages != 3 {
		t.Errorf("%d compare requests, want 3", pages)
	}
}

func TestDeploymentsSource(t *testing.T) {
	t1 := daysAgo(10)
	at := func(m int) time.Time { return t1.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name     string
		statuses []fake.GitHubDeploymentStatus
		want     string
	}{
		{"failed then successful: the later outcome decides, at its time",
			[]fake.GitHubDeploymentStatus{{ID: 1, State: "pending", Created: at(0)}, {ID: 2, State: "failure", Created: at(5)},
				{ID: 3, State: "in_progress", Created: at(10)}, {ID: 4, State: "success", Created: at(15)}},
			"deployment:7 success@0202 06-20T12:15 changes:[0202]"},
		{"inactive after success is passed over",
			[]fake.GitHubDeploymentStatus{{ID: 1, State: "success", Created: at(1)}, {ID: 2, State: "inactive", Created: at(60)}},
			"deployment:7 success@0202 06-20T12:01 changes:[0202]"},
		{"error is a failure",
			[]fake.GitHubDeploymentStatus{{ID: 1, State: "queued", Created: at(0)}, {ID: 2, State: "error", Created: at(3)}},
			"deployment:7 failure@0202 06-20T12:03 changes:nil"},
		{"no outcome status: not a deployment",
			[]fake.GitHubDeploymentStatus{{ID: 1, State: "queued", Created: at(0)}, {ID: 2, State: "in_progress", Created: at(3)}},
			""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, src, _ := setup(t)
			g.Update(repoName, func(r *fake.GitHubRepo) {
				chain(r, 4, daysAgo(300))
				r.Deployments = []fake.GitHubDeployment{
					{ID: 7, SHA: sha(2), Ref: "main", Environment: "production", Created: t1, Updated: at(60), Statuses: tc.statuses},
					{ID: 8, SHA: sha(3), Ref: "main", Environment: "staging", Created: t1, Updated: t1,
						Statuses: []fake.GitHubDeploymentStatus{{ID: 9, State: "success", Created: at(2)}}},
				}
			})
			p := product()
			p.Deploy.Source = config.DeploySourceDeployments
			res, err := src.Collect(context.Background(), p, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if got := deps(res); got != tc.want {
				t.Errorf("deployments:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestIncidents(t *testing.T) {
	g, src, _ := setup(t)
	closed := daysAgo(4)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		r.Issues = []fake.GitHubIssue{
			{Number: 1, Title: "Checkout down", Body: "Payments failed.\n\nCaused-by: 0A1B2C3D\n", State: "closed", StateReason: "completed",
				Labels: []string{"incident"}, Created: daysAgo(5), Updated: closed, Closed: &closed},
			{Number: 2, Title: "False alarm", State: "closed", StateReason: "not_planned", Labels: []string{"incident", "p2"},
				Created: daysAgo(3), Updated: daysAgo(3), Closed: &closed},
			{Number: 3, Title: "Slow search", Body: "caused-by: xyz\nCaused-by: 12345", Labels: []string{"Incident"}, Created: daysAgo(1), Updated: daysAgo(1)},
			{Number: 4, Title: "A fix", Labels: []string{"incident"}, PullRequest: true, Created: daysAgo(1), Updated: daysAgo(1)},
			{Number: 5, Title: "A bug", Labels: []string{"bug"}, Created: daysAgo(1), Updated: daysAgo(1)},
		}
	})
	p := product()
	p.Deploy.Workflow = "deploy.yml"
	res, err := src.Collect(context.Background(), p, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range res.Incidents {
		c := "open"
		if in.ClosedAt != nil {
			c = "closed " + in.StateReason
		}
		got = append(got, fmt.Sprintf("#%d %s caused-by=%q", in.Number, c, in.CausedBy))
	}
	want := `#1 closed completed caused-by="0a1b2c3d"` + "\n" + `#2 closed not_planned caused-by=""` + "\n" + `#3 open caused-by=""`
	if strings.Join(got, "\n") != want {
		t.Errorf("incidents:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestParseCausedBy(t *testing.T) {
	tests := []struct{ body, want string }{
		{"Caused-by: abcdef1", "abcdef1"},
		{"intro\r\nCaused-by:   ABCDEF1234567890abcdef1234567890abcdef12  \r\nmore", "abcdef1234567890abcdef1234567890abcdef12"},
		{"caused-by: 0123456", "0123456"},
		{"Caused-by: abc123", ""},                     // 6 digits: too short
		{"Caused-by: abcdefg", ""},                    // not hex
		{"See Caused-by: abcdef1", ""},                // not at a line start
		{strings.Repeat("a", 41), ""},                 // no key
		{"Caused-by: " + strings.Repeat("a", 41), ""}, // 41 digits
	}
	for _, tc := range tests {
		if got := github.ParseCausedBy(tc.body); got != tc.want {
			t.Errorf("ParseCausedBy(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestSkips(t *testing.T) {
	g := fake.NewGitHub(t)
	st := store.Open(t.TempDir())
	noToken := github.New(github.Options{BaseURL: g.URL}, st, g.Server.Client(), nil)
	_, err := noToken.Collect(context.Background(), product(), time.Time{})
	if !errors.As(err, new(*skip.Error)) || err.Error() != "GITHUB_TOKEN not set" {
		t.Errorf("no token: %v", err)
	}
	src := github.New(github.Options{BaseURL: g.URL, Token: g.Token}, st, g.Server.Client(), nil)
	p := product()
	p.Repository = ""
	_, err = src.Collect(context.Background(), p, time.Time{})
	if !errors.As(err, new(*skip.Error)) || err.Error() != "no repository configured" {
		t.Errorf("no repository: %v", err)
	}
	if n := len(g.Calls()); n != 0 {
		t.Errorf("%d requests for skipped products", n)
	}
}

func TestBadToken(t *testing.T) {
	g := fake.NewGitHub(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {})
	src := github.New(github.Options{BaseURL: g.URL, Token: "ghp_wrong_token_value"}, store.Open(t.TempDir()), g.Server.Client(), nil)
	_, err := src.Collect(context.Background(), product(), time.Time{})
	if err == nil || !strings.Contains(err.Error(), "401 Bad credentials") {
		t.Fatalf("err = %v, want a 401", err)
	}
	if strings.Contains(err.Error(), "ghp_wrong_token_value") {
		t.Errorf("the token leaked into the error: %v", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{"GITHUB_API_URL": "https://ghe.example.com/api/v3", "GITHUB_TOKEN": "t0k3n"}
	o := github.OptionsFromEnv(func(k string) string { return env[k] })
	if o.BaseURL != "https://ghe.example.com/api/v3" || o.Token != "t0k3n" {
		t.Errorf("got %+v", o)
	}
}

// collectLoop runs the real collect loop, which upserts what the source returns.
func collectLoop(t *testing.T, src source.Source, st *store.Store, at time.Time, p config.Product) source.Summary {
	t.Helper()
	sum, err := source.Collect(context.Background(), source.Options{Products: []config.Product{p}, Sources: []source.Source{src}, Store: st, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestSteadyStateIsConditional(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(p *config.Product)
	}{
		{"workflow runs, default branch", func(p *config.Product) {}},
		{"workflow runs, configured branch", func(p *config.Product) { p.Deploy.Branch = "main" }},
		{"deployments", func(p *config.Product) { p.Deploy.Source = config.DeploySourceDeployments }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, src, st := setup(t)
			g.Update(repoName, func(r *fake.GitHubRepo) {
				chain(r, 6, daysAgo(300))
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(20)), run(2, 4, "completed", "success", daysAgo(10))}
				r.Deployments = []fake.GitHubDeployment{{ID: 1, SHA: sha(3), Environment: "production", Created: daysAgo(5), Updated: daysAgo(5),
					Statuses: []fake.GitHubDeploymentStatus{{ID: 1, State: "success", Created: daysAgo(5)}}}}
				r.Issues = []fake.GitHubIssue{{Number: 1, Title: "Down", Labels: []string{"incident"}, Created: daysAgo(3), Updated: daysAgo(3)}}
			})
			p := product()
			tc.modify(&p)
			collectLoop(t, src, st, now, p)
			first := g.Counted()
			if d, _ := st.Deployments(p.ID); len(d) == 0 {
				t.Fatal("first collect stored no deployments")
			}

			g.ResetCalls()
			sum := collectLoop(t, src, st, now.Add(15*time.Minute), p)
			if sum.Deployments+sum.Incidents != 0 {
				t.Errorf("second collect changed %d deployments, %d incidents", sum.Deployments, sum.Incidents)
			}
			var paths []string
			for _, c := range g.Calls() {
				paths = append(paths, fmt.Sprintf("%d %s", c.Status, c.Path))
				if !c.Conditional || c.Status != http.StatusNotModified {
					t.Errorf("not a conditional 304: %d %s", c.Status, c.Path)
				}
			}
			if n := len(paths); n > 3 {
				t.Errorf("%d requests, want at most 3:\n%s", n, strings.Join(paths, "\n"))
			}
			t.Logf("first collect: %d counted requests; steady state: %d requests, %d counted, %d not modified",
				first, len(paths), g.Counted(), g.NotModified())
		})
	}
}

func TestSecondCollectSeesNewWork(t *testing.T) {
	g, src, st := setup(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		chain(r, 6, daysAgo(300))
		r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(20)), run(2, 4, "in_progress", "", daysAgo(1))}
	})
	p := product()
	collectLoop(t, src, st, now, p)

	// The run completes, an incident is opened.
	g.Update(repoName, func(r *fake.GitHubRepo) {
		r.Runs[1].Status, r.Runs[1].Conclusion, r.Runs[1].Updated = "completed", "success", now.Add(time.Minute)
		r.Issues = []fake.GitHubIssue{{Number: 9, Title: "Down", Labels: []string{"incident"}, Created: now.Add(2 * time.Minute), Updated: now.Add(2 * time.Minute)}}
	})
	g.ResetCalls()
	sum := collectLoop(t, src, st, now.Add(15*time.Minute), p)
	if sum.Deployments != 1 || sum.Incidents != 1 {
		t.Errorf("second collect: %d deployments, %d incidents; want 1 and 1", sum.Deployments, sum.Incidents)
	}
	stored, _ := st.Deployments(p.ID)
	if got := deps(source.Result{Deployments: stored}); !strings.Contains(got, "run:2 success@0404 06-30T12:01 changes:[0303 0404]") {
		t.Errorf("stored:\n%s", got)
	}
	// The incident moved the issues cursor: the third run asks with the new since once, and
	// the fourth is quiet again.
	g.ResetCalls()
	collectLoop(t, src, st, now.Add(30*time.Minute), p)
	if n := g.Counted(); n > 1 {
		t.Errorf("third collect: %d counted requests, want at most 1", n)
	}
	g.ResetCalls()
	collectLoop(t, src, st, now.Add(45*time.Minute), p)
	if n := g.Counted(); n != 0 {
		t.Errorf("fourth collect: %d counted requests, want 0", n)
	}
}

func TestInterruptedRunRefetches(t *testing.T) {
	g, src, st := setup(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		chain(r, 4, daysAgo(300))
		r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(20))}
	})
	p := product()
	// The source runs, but its records never reach data/ (say the run was cancelled).
	if _, err := src.Collect(context.Background(), p, time.Time{}); err != nil {
		t.Fatal(err)
	}
	collectLoop(t, src, st, now, p)
	if d, _ := st.Deployments(p.ID); len(d) != 1 {
		t.Fatalf("stored %d deployments after the interrupted run, want 1", len(d))
	}
}

func TestRateLimits(t *testing.T) {
	reset := now.Add(40 * time.Minute)
	tests := []struct {
		name      string
		inject    func(g *fake.GitHub)
		wantState string
		wantMsg   string
	}{
		{"primary exhausted, 403", func(g *fake.GitHub) { g.ExhaustRateLimit(http.StatusForbidden, reset) },
			record.StateRateLimited, "rate limited until 2026-06-30T12:40:00Z"},
		{"primary exhausted, 429", func(g *fake.GitHub) { g.ExhaustRateLimit(http.StatusTooManyRequests, reset) },
			record.StateRateLimited, "rate limited until 2026-06-30T12:40:00Z"},
		{"secondary 403 with Retry-After: waited once, then fine", func(g *fake.GitHub) {
			g.SecondaryLimit("/actions/workflows/", 1, http.StatusForbidden, "1")
		}, record.StateOK, ""},
		{"secondary 429 with Retry-After: waited once, then fine", func(g *fake.GitHub) {
			g.SecondaryLimit("/issues", 1, http.StatusTooManyRequests, "1")
		}, record.StateOK, ""},
		{"secondary twice in a row: rate limited", func(g *fake.GitHub) {
			g.SecondaryLimit("/actions/workflows/", 2, http.StatusForbidden, "1")
		}, record.StateRateLimited, "secondary rate limit"},
		{"secondary with a long Retry-After: rate limited without waiting", func(g *fake.GitHub) {
			g.SecondaryLimit("/actions/workflows/", 1, http.StatusTooManyRequests, "3600")
		}, record.StateRateLimited, "rate limited until 2026-06-30T13:00:00Z"},
		{"a 502 is retried once", func(g *fake.GitHub) {
			g.Inject(fake.InjectedFault{Match: "/issues", Times: 1, Status: http.StatusBadGateway})
		}, record.StateOK, ""},
		{"two 500s fail the source", func(g *fake.GitHub) {
			g.Inject(fake.InjectedFault{Match: "/issues", Times: 2, Status: http.StatusInternalServerError})
		}, record.StateError, "list incident issues"},
		{"malformed JSON fails the source", func(g *fake.GitHub) {
			g.Inject(fake.InjectedFault{Match: "/actions/workflows/", Body: `{"total_count": 1, "workflow_runs": [`})
		}, record.StateError, "list runs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, src, st := setup(t)
			g.Update(repoName, func(r *fake.GitHubRepo) {
				chain(r, 4, daysAgo(300))
				r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(20))}
			})
			tc.inject(g)
			sum := collectLoop(t, src, st, now, product())
			got := sum.Outcomes[0].Status
			if got.State != tc.wantState || !strings.Contains(got.Msg, tc.wantMsg) {
				t.Errorf("status %+v, want %s containing %q", got, tc.wantState, tc.wantMsg)
			}
			if strings.Contains(got.Msg, g.Token) {
				t.Errorf("token in message: %s", got.Msg)
			}
		})
	}
}

func TestPrimaryLimitFailsFastForLaterProducts(t *testing.T) {
	g, src, st := setup(t)
	var products []config.Product
	for i := range 3 {
		name := fmt.Sprintf("acme/p%d", i)
		g.Update(name, func(r *fake.GitHubRepo) {})
		p := product()
		p.ID, p.Repository = fmt.Sprintf("p%d", i), name
		products = append(products, p)
	}
	g.ExhaustRateLimit(http.StatusForbidden, time.Now().Add(time.Hour))
	sum, err := source.Collect(context.Background(), source.Options{Products: products, Sources: []source.Source{src}, Store: st, Now: now,
		Limits: map[string]source.Limits{"github": {Concurrency: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts[record.StateRateLimited] != 3 {
		t.Errorf("outcomes %+v, want 3 rate limited", sum.Counts)
	}
	if n := len(g.Calls()); n != 1 {
		t.Errorf("%d requests, want 1: the client remembers the reset", n)
	}
}

func TestWithoutStore(t *testing.T) {
	g := fake.NewGitHub(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		chain(r, 3, daysAgo(300))
		r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(2))}
	})
	src := github.New(github.Options{BaseURL: g.URL, Token: g.Token, Now: func() time.Time { return now }}, nil, g.Server.Client(), nil)
	res, err := src.Collect(context.Background(), product(), time.Time{})
	if err != nil || len(res.Deployments) != 1 {
		t.Fatalf("got %d deployments, err %v", len(res.Deployments), err)
	}
}

func TestOverThousandRunsAreSplitByCreatedDate(t *testing.T) {
	g, src, _ := setup(t)
	g.Update(repoName, func(r *fake.GitHubRepo) {
		chain(r, 3, daysAgo(300))
		for i := range 1500 {
			r.Runs = append(r.Runs, run(int64(10+i), 2, "completed", "failure", daysAgo(50).Add(time.Duration(i)*40*time.Minute)))
		}
	})
	res, err := src.Collect(context.Background(), product(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Deployments); n != 1500 {
		t.Errorf("%d deployments, want 1500 (GitHub lists at most 1,000 per filtered query)", n)
	}
}

// shortSleep waits at most a little over a second: go-github itself refuses requests until a
// secondary limit's Retry-After has passed in real time, so the tests' "Retry-After: 1" must
// really be waited out; anything longer would be a test waiting for nothing.
func shortSleep(ctx context.Context, d time.Duration) error {
	return retry.Sleep(ctx, min(d, 1100*time.Millisecond))
}
