package doctor_test

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
	"github.com/portfolio-report/portfolio/generator/doctor"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

const (
	zoneShop = "023e105f4ecef8ad9ca31a8372d0c353"
	zonePay  = "372e67954025e0ba6aaa6d586b9e0b59"
)

func noSleep(context.Context, time.Duration) error { return nil }

// world is a portfolio of two products and three channels against fakes of every API, with
// every credential good: storefront deploys with deploy.yml and reads PostHog and a health
// check; payments deploys to production; alerts go to acme/ops, Slack and PagerDuty.
type world struct {
	gh    *fake.GitHub
	cf    *fake.CloudflareAccount
	ph    *fake.PostHog
	slack *fake.Slack
	pd    *fake.PagerDuty
	env   map[string]string
	data  string
	json  string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{gh: fake.NewGitHub(t), cf: fake.NewCloudflareAccount(t), ph: fake.NewPostHog(t), slack: fake.NewSlack(t), pd: fake.NewPagerDuty(t), data: t.TempDir()}
	w.gh.UseToken("ghp_classicTokenForDoctor0123456789abcd", fake.GitHubToken{Kind: fake.GitHubTokenClassic, Scopes: []string{"repo", "workflow"}, Login: "octocat"})
	w.gh.Update("acme/storefront", func(r *fake.GitHubRepo) {
		r.Info.Private = true
		r.Workflows = []fake.GitHubWorkflow{{Name: "CI", File: "ci.yml"}, {Name: "Deploy", File: "deploy.yml"}}
		r.Runs = []fake.GitHubRun{{ID: 1, Workflow: "deploy.yml", Branch: "main", SHA: "abc", Status: "completed", Conclusion: "success", Created: now.Add(-time.Hour), Updated: now}}
		r.AddCommit("abc", now.Add(-2*time.Hour))
	})
	w.gh.Update("acme/payments", func(r *fake.GitHubRepo) {})
	w.gh.Update("acme/ops", func(r *fake.GitHubRepo) {})
	w.cf.AddZone(zoneShop, "example.com", "")
	w.cf.AddZone(zonePay, "pay.example.com", "")
	w.cf.Analytics.Now = func() time.Time { return now }
	w.cf.Pages.Project = "acme-portfolio"
	w.ph.SetHostEvents("shop.example.com", 1234)
	w.env = map[string]string{
		"GITHUB_TOKEN": w.gh.Token, "GITHUB_API_URL": w.gh.URL,
		"CLOUDFLARE_API_TOKEN": w.cf.Token, "CLOUDFLARE_ACCOUNT_ID": w.cf.AccountID, "CLOUDFLARE_API_BASE_URL": w.cf.URL,
		"POSTHOG_HOST": w.ph.URL, "POSTHOG_PERSONAL_API_KEY": w.ph.PersonalKey, "POSTHOG_PROJECT_ID": w.ph.ProjectID,
		"SLACK_WEBHOOK_URL": w.slack.URL, "PAGERDUTY_ROUTING_KEY": w.pd.RoutingKey, "PAGERDUTY_EVENTS_URL": w.pd.URL,
	}
	w.json = fmt.Sprintf(`{
  "site": {"title": "Acme", "base_url": "https://status.example.com"},
  "products": [
    {"id": "storefront", "repository": "acme/storefront", "url": "https://shop.example.com", "health_endpoint": "/healthz",
     "cloudflare": {"zone_id": %q, "hostname": "shop.example.com"}, "deploy": {"workflow": "deploy.yml"},
     "posthog": {"host": "shop.example.com"}},
    {"id": "payments", "repository": "acme/payments", "url": "https://api.pay.example.com",
     "cloudflare": {"zone_id": %q}, "deploy": {"source": "deployments"}, "incidents": {"label": "outage"}}
  ],
  "notification_channels": {
    "slack": {}, "pagerduty": {}, "github_issues": {"repository": "acme/ops"}
  },
  "publish": {"cloudflare_pages": {"project": "acme-portfolio"}}
}`, zoneShop, zonePay)
	return w
}

func (w *world) run(t *testing.T, sendTest bool) (doctor.Report, string) {
	t.Helper()
	cfg, err := config.Parse("portfolio.json", []byte(w.json))
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(context.Background(), doctor.Options{Config: cfg, Getenv: func(k string) string { return w.env[k] },
		DataDir: w.data, HTTPClient: &http.Client{Timeout: 10 * time.Second}, Now: now, Sleep: noSleep, SendTest: sendTest})
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, k := range redact.StandardEnv() {
		if v := w.env[k]; len(v) >= 8 && strings.Contains(b.String(), v) {
			t.Errorf("the report shows %s:\n%s", k, b.String())
		}
	}
	return r, b.String()
}

func check(t *testing.T, r doctor.Report, name string) doctor.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	t.Fatalf("no check %q; checks: %q", name, names)
	return doctor.Check{}
}

func want(t *testing.T, r doctor.Report, name string, status doctor.Status, detail, fix string) {
	t.Helper()
	c := check(t, r, name)
	if c.Status != status || !strings.Contains(c.Detail, detail) || !strings.Contains(c.Fix, fix) {
		t.Errorf("%s: %s %q (fix %q); want %s with %q (fix %q)", name, c.Status, c.Detail, c.Fix, status, detail, fix)
	}
}

func TestEverythingGood(t *testing.T) {
	w := newWorld(t)
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitOK {
		t.Errorf("exit %d, want 0:\n%s", r.ExitCode(), text)
	}
	want(t, r, "github token", doctor.OK, "classic personal access token of @octocat, scopes: repo, workflow; 5000 of 5000 requests left this hour", "")
	want(t, r, "github acme/storefront", doctor.OK, "readable: Actions (deploy.yml: 1 run on main), contents, issues labelled incident", "")
	want(t, r, "github acme/payments", doctor.OK, "deployments to production: none yet, contents, issues labelled outage", "")
	want(t, r, "github acme/ops (alert issues)", doctor.OK, "may open issues", "")
	want(t, r, "cloudflare token", doctor.OK, "valid, active, does not expire", "")
	want(t, r, "cloudflare zone "+zoneShop+" (shop.example.com)", doctor.OK, "readable: analytics, health checks", "")
	want(t, r, "cloudflare zone "+zonePay+" (api.pay.example.com)", doctor.OK, "readable: analytics", "")
	want(t, r, "cloudflare pages acme-portfolio", doctor.OK, "may deploy (production branch main)", "")
	want(t, r, "posthog", doctor.OK, "key valid, project 4242 readable; 1 host with events in the last 7 days", "")
	want(t, r, "posthog host shop.example.com", doctor.OK, "1234 events in the last 7 days", "")
	want(t, r, "slack", doctor.OK, "well-formed URL", "")
	want(t, r, "pagerduty", doctor.OK, "well-formed integration key; nothing sent", "")
	if len(w.gh.Issues("acme/ops")) != 0 {
		t.Errorf("the write probe created an issue: %+v", w.gh.Issues("acme/ops"))
	}
	if w.slack.Calls() != 0 || len(w.pd.Events()) != 0 {
		t.Errorf("without --send-test nothing is sent: slack %d, pagerduty %d", w.slack.Calls(), len(w.pd.Events()))
	}
	for _, c := range w.cf.Calls() {
		if !strings.HasPrefix(c, "GET ") && !strings.HasPrefix(c, "POST /graphql") {
			t.Errorf("doctor changed something at Cloudflare: %s", c)
		}
	}
}

func TestFineGrainedTokenWithoutActionsRead(t *testing.T) {
	w := newWorld(t)
	tok := "github_pat_11AAAAAAA0doctorTest_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
	w.gh.UseToken(tok, fake.GitHubToken{Kind: fake.GitHubTokenFineGrained, Login: "octocat",
		Permissions: map[string]string{"contents": "read", "issues": "read", "deployments": "read"}})
	w.env["GITHUB_TOKEN"] = tok
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitFail {
		t.Errorf("exit %d, want 1:\n%s", r.ExitCode(), text)
	}
	want(t, r, "github token", doctor.OK, "fine-grained personal access token of @octocat; 5000 of 5000", "")
	want(t, r, "github acme/storefront", doctor.Fail,
		`Actions (deploy.yml): HTTP 403 "Resource not accessible by personal access token" (needs actions=read) (readable: contents, issues labelled incident)`,
		`give it "Actions": Read-only on acme/storefront`)
	want(t, r, "github acme/payments", doctor.OK, "readable", "")
	want(t, r, "github acme/ops (alert issues)", doctor.Fail, `may not open issues: HTTP 403 "Resource not accessible by personal access token" (needs issues=write)`,
		`"Issues": Read and write on acme/ops`)
}

func TestActionsTokenReadsOnlyItsRepository(t *testing.T) {
	w := newWorld(t)
	tok := "ghs_actionsTokenForDoctor0123456789abc"
	w.gh.UseToken(tok, fake.GitHubToken{Kind: fake.GitHubTokenInstallation, Repos: []string{"acme/ops"},
		Permissions: map[string]string{"contents": "write", "issues": "write"}})
	w.env["GITHUB_TOKEN"] = tok
	w.env["GITHUB_ACTIONS"], w.env["GITHUB_REPOSITORY"] = "true", "acme/ops"
	r, text := w.run(t, false)
	want(t, r, "github token", doctor.OK, "GitHub Actions' GITHUB_TOKEN for acme/ops", "")
	want(t, r, "github acme/storefront", doctor.Fail, `cannot read the repository: HTTP 404 "Not Found"`,
		"the workflow's own GITHUB_TOKEN reads only acme/ops: set the secret PORTFOLIO_GITHUB_TOKEN")
	want(t, r, "github acme/ops (alert issues)", doctor.OK, "may open issues", "")
	if !strings.Contains(text, "FAIL  github acme/storefront") {
		t.Errorf("one line per check:\n%s", text)
	}

	// The same kind of token outside a workflow run is a GitHub App's.
	delete(w.env, "GITHUB_ACTIONS")
	r, _ = w.run(t, false)
	want(t, r, "github token", doctor.OK, "GitHub App installation token", "")
	want(t, r, "github acme/storefront", doctor.Fail, "HTTP 404", "give the GitHub App access to acme/storefront")
}

func TestCloudflareTokenWithoutAnalytics(t *testing.T) {
	w := newWorld(t)
	w.cf.Deny(fake.CloudflareAnalyticsRead, fake.CloudflarePagesEdit)
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitFail {
		t.Errorf("exit %d, want 1:\n%s", r.ExitCode(), text)
	}
	want(t, r, "cloudflare token", doctor.OK, "valid", "")
	want(t, r, "cloudflare zone "+zoneShop+" (shop.example.com)", doctor.Fail,
		"analytics refused (graphql: HTTP 200: Actor does not have permission 'com.cloudflare.api.account.zone.analytics.read' for zone "+zoneShop+" (authz)) (readable: health checks)",
		"add Zone → Analytics → Read for this zone")
	want(t, r, "cloudflare pages acme-portfolio", doctor.Fail, "may read the project but not deploy to it (HTTP 403: 10000 Authentication error)",
		"Cloudflare Pages → Edit")
}

func TestCloudflareTokens(t *testing.T) {
	t.Run("an account-owned token expiring soon", func(t *testing.T) {
		w := newWorld(t)
		w.cf.AccountOwned = true
		w.cf.ExpiresOn = now.Add(3 * 24 * time.Hour)
		r, _ := w.run(t, false)
		want(t, r, "cloudflare token", doctor.Warn, "valid, active, owned by account "+w.cf.AccountID+", expires 2026-07-03 12:00 UTC", "roll the token")
	})
	t.Run("an unknown token", func(t *testing.T) {
		w := newWorld(t)
		w.env["CLOUDFLARE_API_TOKEN"] = "not-the-cloudflare-token-0000"
		r, text := w.run(t, false)
		want(t, r, "cloudflare token", doctor.Fail, "Cloudflare does not know the token (HTTP 401: 1000 Invalid API Token)", "copy the token again")
		if strings.Contains(text, "cloudflare zone") {
			t.Errorf("no zone is checked with a token Cloudflare does not know:\n%s", text)
		}
	})
	t.Run("a disabled token", func(t *testing.T) {
		w := newWorld(t)
		w.cf.Status = "disabled"
		r, _ := w.run(t, false)
		want(t, r, "cloudflare token", doctor.Fail, "the token is disabled", "re-enable")
	})
	t.Run("no health checks permission, no project", func(t *testing.T) {
		w := newWorld(t)
		w.cf.Deny(fake.CloudflareHealthChecksRead)
		w.cf.Pages.Project = "another"
		r, _ := w.run(t, false)
		want(t, r, "cloudflare zone "+zoneShop+" (shop.example.com)", doctor.Fail, "health checks refused (HTTP 403: 10000 Authentication error) (readable: analytics)", "Health Checks → Read")
		want(t, r, "cloudflare pages acme-portfolio", doctor.Fail, "no project acme-portfolio in account", "create it")
	})
}

func TestInvalidCredentialsFail(t *testing.T) {
	w := newWorld(t)
	w.env["GITHUB_TOKEN"] = "ghp_revokedToken00000000000000000000000"
	w.env["POSTHOG_PERSONAL_API_KEY"] = "phx_wrong_key_0000000000000000"
	w.env["PAGERDUTY_ROUTING_KEY"] = "too-short-key"
	w.env["SLACK_WEBHOOK_URL"] = "hooks.slack.com/services/T000/B000/xyz"
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitFail {
		t.Errorf("exit %d, want 1:\n%s", r.ExitCode(), text)
	}
	want(t, r, "github token", doctor.Fail, "GitHub does not accept the token (401 Bad credentials)", "create a new token")
	want(t, r, "posthog", doctor.Fail, "PostHog does not accept the personal API key (posthog: hosts query: HTTP 401: Personal API key found in request Authorization header is invalid. (authentication_failed))", "Personal API keys")
	want(t, r, "pagerduty", doctor.Fail, "not an Events API v2 integration key (want 32 letters and digits, got 13 characters)", "Integration Key")
	want(t, r, "slack", doctor.Fail, "SLACK_WEBHOOK_URL is not an http(s) URL", "https://hooks.slack.com/services/")
	if strings.Contains(text, "github acme/") {
		t.Errorf("no repository is checked with a token GitHub refuses:\n%s", text)
	}
}

func TestMissingCredentialsDegrade(t *testing.T) {
	w := newWorld(t)
	w.env = map[string]string{}
	if err := store.Open(w.data).SaveMeta(store.Meta{Generator: "demo", AsOf: now}); err != nil {
		t.Fatal(err)
	}
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitDegraded {
		t.Errorf("exit %d, want 3:\n%s", r.ExitCode(), text)
	}
	want(t, r, "data folder "+w.data, doctor.Warn, "demo data", "portfolio init --org ORG --write")
	want(t, r, "github token", doctor.Warn, "GITHUB_TOKEN is not set", "PORTFOLIO_GITHUB_TOKEN")
	want(t, r, "cloudflare token", doctor.Warn, "CLOUDFLARE_API_TOKEN is not set: traffic, latency, errors and health checks are not collected, and the site is not published", "")
	want(t, r, "posthog", doctor.Warn, "POSTHOG_HOST, POSTHOG_PERSONAL_API_KEY, POSTHOG_PROJECT_ID not set", "")
	want(t, r, "slack", doctor.Warn, "SLACK_WEBHOOK_URL is not set", "")
	want(t, r, "pagerduty", doctor.Warn, "PAGERDUTY_ROUTING_KEY is not set", "")
}

func TestPostHogHostWithoutEvents(t *testing.T) {
	w := newWorld(t)
	w.json = strings.Replace(w.json, `"posthog": {"host": "shop.example.com"}`, `"posthog": {"host": "shop.example.org"}`, 1)
	r, text := w.run(t, false)
	if r.ExitCode() != doctor.ExitDegraded {
		t.Errorf("exit %d, want 3:\n%s", r.ExitCode(), text)
	}
	want(t, r, "posthog host shop.example.org", doctor.Warn, "no events from shop.example.org in the last 7 days", "busiest: shop.example.com")
}

func TestWorkflowThatDoesNotExist(t *testing.T) {
	w := newWorld(t)
	w.json = strings.Replace(w.json, `"workflow": "deploy.yml"`, `"workflow": "ship.yml"`, 1)
	r, _ := w.run(t, false)
	want(t, r, "github acme/storefront", doctor.Fail, "workflow ship.yml not found in acme/storefront", "set deploy.workflow of storefront")
}

func TestSendTest(t *testing.T) {
	w := newWorld(t)
	r, text := w.run(t, true)
	if r.ExitCode() != doctor.ExitOK {
		t.Fatalf("exit %d:\n%s", r.ExitCode(), text)
	}
	want(t, r, "slack", doctor.OK, "a test message was posted", "")
	want(t, r, "pagerduty", doctor.OK, "a test incident (severity info) was opened and resolved", "")
	if n := len(w.slack.Messages()); n != 1 || !strings.Contains(string(w.slack.Messages()[0]), "portfolio doctor") {
		t.Errorf("slack got %d messages, want one test", n)
	}
	ev := w.pd.Events()
	if len(ev) != 2 || ev[0].EventAction != "trigger" || ev[1].EventAction != "resolve" || ev[0].DedupKey != ev[1].DedupKey {
		t.Errorf("pagerduty got %+v, want a trigger and its resolve", ev)
	}
}

func TestEmail(t *testing.T) {
	auth := filepath.Join(t.TempDir(), "smtp-auth")
	if err := os.WriteFile(auth, []byte("alerts:SECRETpw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := fake.StartMailpit(t, "--smtp-auth-file", auth, "--smtp-auth-allow-insecure")
	w := newWorld(t)
	w.json = strings.Replace(w.json, `"slack": {},`, `"slack": {}, "email": {"recipients": ["oncall@example.com"]},`, 1)

	w.env["SMTP_URL"] = "smtp://alerts:SECRETpw@" + mp.SMTP + "?starttls=none"
	r, _ := w.run(t, false)
	want(t, r, "email", doctor.OK, mp.SMTP+" reachable, login accepted, sender portfolio@status.example.com accepted; no mail sent", "")
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("%d mails without --send-test", n)
	}

	w.env["SMTP_URL"] = "smtp://alerts:WRONGpw@" + mp.SMTP + "?starttls=none"
	r, text := w.run(t, false)
	want(t, r, "email", doctor.Fail, "535", "a 535 is a wrong user or password")
	if strings.Contains(text, "WRONGpw") {
		t.Errorf("the report shows the SMTP password:\n%s", text)
	}

	w.env["SMTP_URL"] = "smtp://alerts:SECRETpw@" + mp.SMTP + "?starttls=none"
	r, _ = w.run(t, true)
	want(t, r, "email", doctor.OK, "a test mail went to oncall@example.com", "")
	if msgs := mp.Messages(t); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "portfolio doctor") {
		t.Errorf("want one test mail, got %d", len(msgs))
	}
}

func TestReportFormats(t *testing.T) {
	r := doctor.Report{Checks: []doctor.Check{
		{Name: "github token", Status: doctor.OK, Detail: "classic"},
		{Name: "github a/b", Status: doctor.Fail, Detail: "HTTP 403 | <b>", Fix: "give it\nActions"},
		{Name: "posthog", Status: doctor.Skip, Detail: "not configured"},
	}}
	var text, md bytes.Buffer
	r.WriteText(&text)
	r.WriteMarkdown(&md)
	wantText := "ok    github token  classic\n" +
		"FAIL  github a/b    HTTP 403 | <b>\n" +
		"                    → give it Actions\n" +
		"skip  posthog       not configured\n" +
		"\n1 ok, 0 warnings, 1 failures, 1 skipped: something will fail (exit 1)\n"
	if text.String() != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), wantText)
	}
	if !strings.Contains(md.String(), `| ❌ | github a/b | HTTP 403 \| &lt;b&gt; | give it Actions |`) {
		t.Errorf("markdown:\n%s", md.String())
	}
}
