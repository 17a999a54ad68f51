package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestNothingLeaksFromHostileUpstreams runs every source, every channel, the publisher, the
// PostHog events and doctor against APIs that echo each request (path, headers with the
// Authorization, body) back in their error bodies, and an SMTP server that echoes the base64
// credentials of its AUTH in its refusal. Then it searches stdout, stderr, data/ and public/
// for every secret in every form it can take: as it is, URL- and path-escaped, HTML- and
// JSON-escaped, in base64 (alone, as HTTP Basic, as SMTP AUTH PLAIN), and a webhook's path.
func TestNothingLeaksFromHostileUpstreams(t *testing.T) {
	api := fake.NewEcho(t, http.StatusForbidden)
	cf := fake.NewEcho(t, http.StatusForbidden)
	cf.NumericCodes = true
	smtp := fake.NewSMTPEcho(t)
	const (
		smtpUser = "alerts@example.com"
		smtpPass = "s3cr/t-SMTP+pw=42"
		hookPath = "/services/T0LEAKTEST/B0LEAKTEST/leaktestwebhooksecret0001"
	)
	secrets := map[string]string{
		"GITHUB_TOKEN":             "ghp_LEAKtestGITHUBtoken0000000000000000",
		"CLOUDFLARE_API_TOKEN":     "cfLEAKtestCLOUDFLAREtoken00000000000000",
		"POSTHOG_PERSONAL_API_KEY": "phx_LEAKtestPERSONALkey000000000000000",
		"POSTHOG_API_KEY":          "phc_LEAKtestPROJECTkey0000000000000000",
		"SLACK_WEBHOOK_URL":        api.URL + hookPath,
		"OPS_SMTP":                 fmt.Sprintf("smtp://%s:%s@%s?starttls=none", url.QueryEscape(smtpUser), url.QueryEscape(smtpPass), smtp),
		"PAGERDUTY_ROUTING_KEY":    "R0LEAKTEST0000000000000000000000",
		"OPS_ISSUES_PAT":           "github_pat_LEAKtest_issues_000000000000",
	}
	env := map[string]string{
		"GITHUB_API_URL": api.URL + "/github/", "CLOUDFLARE_API_BASE_URL": cf.URL + "/cloudflare",
		"CLOUDFLARE_ACCOUNT_ID": "acct0000", "POSTHOG_HOST": api.URL + "/posthog", "POSTHOG_PROJECT_ID": "1",
		"PAGERDUTY_EVENTS_URL": api.URL + "/pagerduty/v2/enqueue",
	}
	for k, v := range secrets {
		env[k] = v
	}
	dir := t.TempDir()
	cfgPath, data, out := filepath.Join(dir, "portfolio.json"), filepath.Join(dir, "data"), filepath.Join(dir, "public")
	cfg := fmt.Sprintf(`{
  "site": {"title": "Leak test", "base_url": "https://status.example.com"},
  "products": [{"id": "shop", "name": "Shop", "repository": "acme/shop", "url": %q, "health_endpoint": "/healthz",
    "cloudflare": {"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "hostname": "shop.example.com", "worker": "shop-edge"},
    "deploy": {"workflow": "deploy.yml"}, "posthog": {"host": "shop.example.com"}}],
  "notification_channels": {
    "slack": {"webhook_url_env": "SLACK_WEBHOOK_URL", "severities": ["critical", "warning", "info"]},
    "email": {"smtp_url_env": "OPS_SMTP", "recipients": ["oncall@example.com"], "from": "portfolio@example.com", "severities": ["critical", "warning", "info"]},
    "pagerduty": {"severities": ["critical", "warning", "info"]},
    "github_issues": {"repository": "acme/ops", "token_env": "OPS_ISSUES_PAT", "severities": ["critical", "warning", "info"]}
  },
  "publish": {"cloudflare_pages": {"project": "leak-test"}}
}`, api.URL+"/site")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	cli := func(args ...string) int {
		c := &Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Sleep: noSleep}
		return c.Main(append([]string{"--config", cfgPath, "--data", data, "--out", out}, args...))
	}
	// Five runs a quarter of an hour apart: every source fails each time, so after four the
	// source-failure alert fires and every channel is notified; each run also builds, sends
	// PostHog events and publishes. Then doctor checks every credential and sends a test.
	start := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	// A deployment of the last week gives the PostHog sender an event to capture.
	if err := store.Open(data).SaveDeployments("shop", []record.Deployment{{ID: "run:1", SHA: "abcdef1234567890", Outcome: "success",
		Time: start.Add(-time.Hour), Changes: []record.Change{}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		now := start.Add(time.Duration(i) * 15 * time.Minute).Format(time.RFC3339)
		format := "text"
		if i == 5 {
			format = "json"
		}
		if code := cli("run", "--now", now, "--log-format", format); code != ExitFailure && code != ExitSourcesFailed {
			t.Fatalf("run %d: exit %d:\n%s%s", i, code, stdout.String(), stderr.String())
		}
	}
	cli("doctor", "--send-test")
	cli("alert", "--now", start.Add(2*time.Hour).Format(time.RFC3339))

	// Every API was reached, so every echo had its chance.
	reached := strings.Join(append(api.Paths(), cf.Paths()...), "\n")
	for _, want := range []string{"/github/repos/acme/shop", "/github/repos/acme/ops/issues", "/cloudflare/graphql", "/posthog/api/projects/1/query/",
		"/posthog/batch/", "/pagerduty/v2/enqueue", hookPath, "/site/healthz", "/cloudflare/accounts/acct0000/pages/projects/leak-test", "/cloudflare/user/tokens/verify"} {
		if !strings.Contains(reached, want) {
			t.Errorf("nothing reached %s; the APIs were asked for:\n%s", want, reached)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Fatalf("no site was built: %v\n%s", err, stdout.String())
	}

	forms := map[string]string{} // form → what it is
	for name, s := range secrets {
		for what, f := range secretForms(s) {
			forms[f] = name + " " + what
		}
	}
	for what, f := range map[string]string{
		"SMTP AUTH PLAIN":     base64.StdEncoding.EncodeToString([]byte("\x00" + smtpUser + "\x00" + smtpPass)),
		"SMTP AUTH LOGIN pw":  base64.StdEncoding.EncodeToString([]byte(smtpPass)),
		"HTTP Basic of SMTP":  base64.StdEncoding.EncodeToString([]byte(smtpUser + ":" + smtpPass)),
		"SMTP password":       smtpPass,
		"SMTP password (URL)": url.QueryEscape(smtpPass),
		"webhook path":        hookPath,
		"webhook secret":      "leaktestwebhooksecret0001",
	} {
		forms[f] = what
	}
	scan := func(where string, b []byte) {
		for f, what := range forms {
			if bytes.Contains(b, []byte(f)) {
				i := bytes.Index(b, []byte(f))
				t.Errorf("%s holds %s: …%s…", where, what, b[max(0, i-80):min(len(b), i+len(f)+40)])
			}
		}
	}
	scan("stdout", stdout.Bytes())
	scan("stderr", stderr.Bytes())
	for _, root := range []string{data, out} {
		filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(dir, path)
			scan(rel, b)
			return nil
		})
	}
	if !strings.Contains(stdout.String()+stderr.String(), "[redacted]") {
		t.Error("nothing was redacted: the echoes did not reach the output")
	}
}

// secretForms are the encodings of s the scan looks for, by name.
func secretForms(s string) map[string]string {
	j, _ := json.Marshal(s)
	out := map[string]string{
		"as it is":       s,
		"URL-escaped":    url.QueryEscape(s),
		"path-escaped":   url.PathEscape(s),
		"HTML-escaped":   html.EscapeString(s),
		"JSON-escaped":   string(j[1 : len(j)-1]),
		"base64":         base64.StdEncoding.EncodeToString([]byte(s)),
		"base64 for URL": base64.URLEncoding.EncodeToString([]byte(s)),
		"base64 raw":     base64.RawStdEncoding.EncodeToString([]byte(s)),
	}
	// A message cut short (a 300-character excerpt) must not keep the start of a token either.
	if !strings.Contains(s, "://") && len(s) >= 24 {
		out["its first 16 characters"] = s[:16]
	}
	return out
}
