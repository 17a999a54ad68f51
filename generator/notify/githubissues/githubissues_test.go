package githubissues_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/notify/githubissues"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

const repo = "acme/ops"

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func notification(kind string, d alert.Delivery) alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleProbeDown, ""), Product: "storefront",
		Rule: alert.RuleProbeDown, Severity: alert.Critical, Status: alert.Firing, FiringSince: t0,
		Value: 3, Threshold: 2, Unit: "runs", Summary: "health probe failed 3 run(s) in a row: <img src=x> @octocat"}
	if kind == alert.NotifyResolved {
		a.Status, a.ResolvedAt, a.Summary = alert.Resolved, t0.Add(90*time.Minute), "health probe ok again"
	}
	return alert.Notification{Channel: alert.ChannelGitHubIssues, Kind: kind, Alert: a, Delivery: d,
		ProductName: "Storefront", ProductURL: "https://status.example.com/products/storefront/", At: t0.Add(4 * time.Hour)}
}

func newNotifier(t *testing.T, g *fake.GitHubIssues) *githubissues.Notifier {
	t.Helper()
	n, err := githubissues.New(githubissues.Config{Repository: repo, Labels: []string{"ops"}, Token: g.Token, BaseURL: g.URL}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func delivered(r notify.Receipt) alert.Delivery {
	return alert.Delivery{At: t0, State: alert.Firing, Episode: t0, IssueNumber: r.IssueNumber}
}

func TestIssueLifecycle(t *testing.T) {
	g := fake.NewGitHubIssues(t)
	gn := newNotifier(t, g)
	ctx := context.Background()

	r, err := gn.Notify(ctx, notification(alert.NotifyFiring, alert.Delivery{}))
	if err != nil {
		t.Fatal(err)
	}
	if r.IssueNumber != 1 || r.IssueURL != "https://github.com/acme/ops/issues/1" {
		t.Fatalf("receipt %+v", r)
	}
	is := g.Issues(repo)[0]
	if is.Title != "🛑 Storefront: probe down" {
		t.Errorf("title %q", is.Title)
	}
	if !slices.Equal(is.Labels, []string{"incident", "critical", "ops"}) {
		t.Errorf("labels %v, want incident, critical, ops", is.Labels)
	}
	fp := notification("", alert.Delivery{}).Alert.Fingerprint
	if !strings.Contains(is.Body, githubissues.Marker(fp)) {
		t.Errorf("body lacks the marker:\n%s", is.Body)
	}
	if strings.Contains(is.Body, "<img") || strings.Contains(is.Body, "@octocat") {
		t.Errorf("body passes outside text through raw:\n%s", is.Body)
	}

	if _, err := gn.Notify(ctx, notification(alert.NotifyRepeat, delivered(r))); err != nil {
		t.Fatal(err)
	}
	is = g.Issues(repo)[0]
	if len(is.Comments) != 1 || !strings.HasPrefix(is.Comments[0], "**Still firing**") {
		t.Errorf("comments after a repeat: %q", is.Comments)
	}

	if _, err := gn.Notify(ctx, notification(alert.NotifyResolved, delivered(r))); err != nil {
		t.Fatal(err)
	}
	is = g.Issues(repo)[0]
	if is.State != "closed" || is.StateReason != "completed" {
		t.Errorf("after resolve: state %s (%s), want closed (completed)", is.State, is.StateReason)
	}
	if len(is.Comments) != 2 || !strings.HasPrefix(is.Comments[1], "**Resolved** at 2026-06-30 13:30 UTC after 1h30m") {
		t.Errorf("resolve comment: %q", is.Comments)
	}
	if len(g.Issues(repo)) != 1 {
		t.Errorf("%d issues, want 1", len(g.Issues(repo)))
	}
}

func TestNoDuplicateIssueAfterACrash(t *testing.T) {
	g := fake.NewGitHubIssues(t)
	// Other open incidents, newer than ours, fill more than one page.
	gn := newNotifier(t, g)
	ctx := context.Background()
	if _, err := gn.Notify(ctx, notification(alert.NotifyFiring, alert.Delivery{})); err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		g.AddIssue(repo, fake.FakeIssue{Title: fmt.Sprintf("other %d", i), Body: githubissues.Marker(fmt.Sprint(i)), Labels: []string{"incident"}})
	}
	// The run crashed before it recorded issue #1: the next run sends the firing notice again.
	r, err := gn.Notify(ctx, notification(alert.NotifyFiring, alert.Delivery{}))
	if err != nil {
		t.Fatal(err)
	}
	if r.IssueNumber != 1 {
		t.Errorf("resend answered issue #%d, want the existing #1", r.IssueNumber)
	}
	opened := 0
	for _, c := range g.Calls() {
		if c == "POST /repos/acme/ops/issues" {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("%d issues opened, want 1", opened)
	}
	if is := g.Issues(repo)[0]; len(is.Comments) != 1 {
		t.Errorf("the resend should comment on #1: %q", is.Comments)
	}
	// A resolve whose issue number was lost finds it the same way.
	if _, err := gn.Notify(ctx, notification(alert.NotifyResolved, alert.Delivery{})); err != nil {
		t.Fatal(err)
	}
	if is := g.Issues(repo)[0]; is.State != "closed" {
		t.Errorf("issue #1 %s, want closed", is.State)
	}
}

func TestAFiringEpisodeAfterAClosedIssueOpensANewOne(t *testing.T) {
	g := fake.NewGitHubIssues(t)
	gn := newNotifier(t, g)
	ctx := context.Background()
	r, err := gn.Notify(ctx, notification(alert.NotifyFiring, alert.Delivery{}))
	if err != nil {
		t.Fatal(err)
	}
	g.Close(repo, r.IssueNumber)
	n := notification(alert.NotifyFiring, alert.Delivery{State: alert.Resolved, Episode: t0, IssueNumber: r.IssueNumber})
	n.Alert.FiringSince = t0.Add(24 * time.Hour)
	r2, err := gn.Notify(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if r2.IssueNumber != 2 {
		t.Errorf("new episode went to #%d, want a new issue #2", r2.IssueNumber)
	}
}

func TestAcknowledged(t *testing.T) {
	tests := []struct {
		name string
		act  func(g *fake.GitHubIssues, n int)
		want bool
	}{
		{name: "untouched", act: func(*fake.GitHubIssues, int) {}, want: false},
		{name: "assigned", act: func(g *fake.GitHubIssues, n int) { g.Assign(repo, n, "oncall") }, want: true},
		{name: "labelled acknowledged", act: func(g *fake.GitHubIssues, n int) { g.Label(repo, n, "Acknowledged") }, want: true},
		{name: "labelled something else", act: func(g *fake.GitHubIssues, n int) { g.Label(repo, n, "triage") }, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fake.NewGitHubIssues(t)
			gn := newNotifier(t, g)
			n := notification(alert.NotifyFiring, alert.Delivery{})
			r, err := gn.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			tt.act(g, r.IssueNumber)
			a := n.Alert
			a.Deliveries = map[string]alert.Delivery{alert.ChannelGitHubIssues: delivered(r)}
			got, err := gn.Acknowledged(context.Background(), []alert.Alert{a})
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := got[a.Fingerprint]; !ok || v != tt.want {
				t.Errorf("acknowledged %v (known %v), want %v", v, ok, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name          string
		token         string
		fault         *fake.InjectedFault
		wantText      string
		wantRetryable bool
	}{
		{name: "a wrong token", token: "ghp_WRONGtokenWRONG", wantText: "401 Bad credentials"},
		{name: "a 5xx is retried", fault: &fake.InjectedFault{Status: 502}, wantText: "502", wantRetryable: true},
		{name: "a secondary rate limit is retried", fault: &fake.InjectedFault{Status: 403, RetryAfter: "5",
			Body: `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`},
			wantText: "secondary rate limit", wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fake.NewGitHubIssues(t)
			if tt.fault != nil {
				g.Inject(*tt.fault)
			}
			token := tt.token
			if token == "" {
				token = g.Token
			}
			gn, err := githubissues.New(githubissues.Config{Repository: repo, Token: token, BaseURL: g.URL}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = gn.Notify(context.Background(), notification(alert.NotifyFiring, alert.Delivery{}))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v, want %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %v", err)
			}
			if _, ok := retry.IsRetryable(err); ok != tt.wantRetryable {
				t.Errorf("retryable %v, want %v", ok, tt.wantRetryable)
			}
		})
	}
}

func TestNewRejectsABadRepository(t *testing.T) {
	for _, r := range []string{"", "acme", "acme/ops/x", "/ops"} {
		if _, err := githubissues.New(githubissues.Config{Repository: r}, nil, nil); err == nil {
			t.Errorf("repository %q accepted", r)
		}
	}
}
