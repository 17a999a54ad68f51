package github_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source/github"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// busyRepo is a repository with history: deploy runs, Deployments and incident issues.
func busyRepo(r *fake.GitHubRepo) {
	chain(r, 6, daysAgo(300))
	r.Runs = []fake.GitHubRun{run(1, 2, "completed", "success", daysAgo(20)), run(2, 4, "completed", "success", daysAgo(10))}
	r.Deployments = []fake.GitHubDeployment{{ID: 1, SHA: sha(3), Environment: "production", Created: daysAgo(5), Updated: daysAgo(5),
		Statuses: []fake.GitHubDeploymentStatus{{ID: 1, State: "success", Created: daysAgo(5)}}}}
	r.Issues = []fake.GitHubIssue{{Number: 1, Title: "Down", Labels: []string{"incident"}, State: "closed",
		Created: daysAgo(3), Updated: daysAgo(3), Closed: ptr(daysAgo(3))}}
}

func ptr[T any](v T) *T { return &v }

// TestSteadyStateWithATokenThatChangesEveryRun: GitHub's ETags belong to the token that got
// them, and GitHub Actions' GITHUB_TOKEN changes every job, so no 304 ever comes. The steady
// state stays cheap on GitHub's filters and cursors alone: at most 3 requests that count
// against the rate limit per product and run, and data/state/github/<id>.json unchanged by
// runs where nothing happened upstream (only the uncommitted ETag cache moves).
func TestSteadyStateWithATokenThatChangesEveryRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		modify func(p *config.Product)
		want   int // counted requests of a quiet run
	}{
		// The default branch is read again once an hour, by the run in its first quarter.
		{"workflow runs, default branch", func(p *config.Product) {}, 3},
		{"workflow runs, configured branch", func(p *config.Product) { p.Deploy.Branch = "main" }, 2},
		{"deployments", func(p *config.Product) { p.Deploy.Source = config.DeploySourceDeployments }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := fake.NewGitHub(t)
			g.Update(repoName, busyRepo)
			st := store.Open(t.TempDir())
			p := product()
			tc.modify(&p)
			var states [][]byte
			hour := 0 // counted requests of the four quiet runs of an hour
			for i := range 5 {
				at := now.Add(time.Duration(i) * 15 * time.Minute)
				token := g.RotateToken()
				src := github.New(github.Options{BaseURL: g.URL, Token: token, Now: func() time.Time { return at }, Sleep: shortSleep}, st, g.Server.Client(), nil)
				g.ResetCalls()
				collectLoop(t, src, st, at, p)
				b, err := os.ReadFile(filepath.Join(st.Dir(), filepath.FromSlash(github.StateDoc(p.ID))))
				if err != nil {
					t.Fatal(err)
				}
				states = append(states, b)
				if i == 0 {
					continue
				}
				var paths []string
				for _, c := range g.Calls() {
					paths = append(paths, fmt.Sprintf("%d %s", c.Status, c.Path))
					if c.Status == http.StatusNotModified {
						t.Errorf("run %d: a 304 for another token's ETag: %s", i, c.Path)
					}
				}
				hour += g.Counted()
				if n := g.Counted(); n > tc.want {
					t.Errorf("run %d: %d counted requests, want at most %d:\n%s", i, n, tc.want, strings.Join(paths, "\n"))
				} else if i == 4 {
					t.Logf("a quiet run with a new token: %d counted requests:\n%s", n, strings.Join(paths, "\n"))
				}
			}
			t.Logf("an hour of quiet runs: %d counted requests (%.2f a run)", hour, float64(hour)/4)
			for i := 2; i < len(states); i++ {
				if !bytes.Equal(states[i], states[1]) {
					t.Errorf("run %d rewrote the state although nothing happened upstream:\n%s\nthen\n%s", i, states[1], states[i])
				}
			}
		})
	}
}

// TestETagsStayOutOfGit: the ETags live in data/.cache, which ignores itself, and a cache that
// does not belong to the state (a state restored from git) is not used: its 304s would hide
// what that state never saw.
func TestETagsStayOutOfGit(t *testing.T) {
	g, src, st := setup(t)
	g.Update(repoName, busyRepo)
	p := product()
	collectLoop(t, src, st, now, p)
	ignore, err := os.ReadFile(filepath.Join(st.Dir(), ".cache", ".gitignore"))
	if err != nil || !strings.Contains(string(ignore), "*") {
		t.Fatalf(".cache/.gitignore = %q, %v", ignore, err)
	}
	statePath := filepath.Join(st.Dir(), filepath.FromSlash(github.StateDoc(p.ID)))
	if b, _ := os.ReadFile(statePath); bytes.Contains(b, []byte("etag")) {
		t.Errorf("the committed state holds ETags:\n%s", b)
	}
	old, _ := os.ReadFile(statePath)
	// Upstream moves on; a run sees it (its ETags are for the new state) …
	g.Update(repoName, func(r *fake.GitHubRepo) {
		r.Runs = append(r.Runs, run(3, 6, "completed", "success", now.Add(time.Minute)))
	})
	collectLoop(t, src, st, now.Add(15*time.Minute), p)
	// … then data/ is restored from git to the state before, the cache stays.
	if err := os.WriteFile(statePath, old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(st.Dir(), "products", p.ID, "deployments.json")); err != nil {
		t.Fatal(err)
	}
	g.ResetCalls()
	collectLoop(t, src, st, now.Add(30*time.Minute), p)
	if d, _ := st.Deployments(p.ID); len(d) != 3 {
		t.Errorf("%d deployments after the restore, want 3: a 304 for the newer state hid run 3", len(d))
	}
}

// TestListingsEnd: a next link back to a page already read, or next links past the listing's
// total or past 100 pages, end the listing with an error instead of following it.
func TestListingsEnd(t *testing.T) {
	for _, tc := range []struct{ name, match, mode, want string }{
		{"incident issues: next link back to page 1", "/issues", "loop", "page 1 links to page 1, already read"},
		{"incident issues: endless", "/issues", "endless", "more than 100 pages"},
		{"workflow runs: more pages than total_count", "/runs?branch=main&created=2026", "endless", "more than its total allows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, src, st := setup(t)
			g.Update(repoName, busyRepo)
			g.BreakPaging(tc.match, tc.mode)
			sum := collectLoop(t, src, st, now, product())
			got := sum.Outcomes[0].Status
			if got.State != "error" || !strings.Contains(got.Msg, tc.want) {
				t.Errorf("status %+v, want an error with %q", got, tc.want)
			}
			if n := len(g.Calls()); n > 110 {
				t.Errorf("%d requests: the listing was followed too far", n)
			}
		})
	}
}

// TestAnAnswerLongerThanTheCapIsAnError: GitHub answers are capped (32 MiB; 1 MiB here), so a
// runaway body fails the product's collection instead of filling memory.
func TestAnAnswerLongerThanTheCapIsAnError(t *testing.T) {
	g := fake.NewGitHub(t)
	g.Update(repoName, busyRepo)
	g.Inject(fake.InjectedFault{Match: "/issues", Body: `[{"number":1,"title":"` + strings.Repeat("x", 2<<20) + `"}]`})
	src := github.New(github.Options{BaseURL: g.URL, Token: g.Token, Now: func() time.Time { return now }, Sleep: shortSleep,
		MaxAnswer: 1 << 20}, nil, g.Server.Client(), nil)
	_, err := src.Collect(context.Background(), product(), time.Time{})
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("err = %v", err)
	}
}

// TestIssuesWithOptionalFieldsAbsent: an issue whose body, closed_at and state_reason are
// null, with a field the source does not know, is an open incident with no body.
func TestIssuesWithOptionalFieldsAbsent(t *testing.T) {
	g, src, _ := setup(t)
	g.Update(repoName, func(r *fake.GitHubRepo) { chain(r, 2, daysAgo(300)) })
	g.Inject(fake.InjectedFault{Match: "/issues", Body: `[{"id":1,"node_id":"I_1","number":5,"title":"Checkout down","state":"open",` +
		`"labels":[{"name":"incident"}],"body":null,"closed_at":null,"state_reason":null,"html_url":"https://github.com/acme/shop/issues/5",` +
		`"created_at":"2026-06-29T10:00:00Z","updated_at":"2026-06-29T11:00:00Z","sub_issues_summary":{"total":0},"x_future":{"a":1}}]`})
	res, err := src.Collect(context.Background(), product(), time.Time{})
	if err != nil || len(res.Incidents) != 1 {
		t.Fatalf("incidents %+v, err %v", res.Incidents, err)
	}
	if in := res.Incidents[0]; in.Number != 5 || in.ClosedAt != nil || in.Body != "" || in.StateReason != "" {
		t.Errorf("incident %+v", in)
	}
}
