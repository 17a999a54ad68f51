package redact_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
)

// env is a CI environment: standard variables, and custom-named ones the config points at.
var env = map[string]string{
	"GITHUB_TOKEN":          "ghp_standardTOKEN123",
	"CLOUDFLARE_API_TOKEN":  "cf-token-abcdef",
	"CLOUDFLARE_ACCOUNT_ID": "acct-not-a-secret",
	"POSTHOG_HOST":          "https://us.posthog.com",
	"OPS_SLACK_HOOK":        "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx",
	"MAIL_RELAY":            "smtp://alerts@example.com:s3cr%2Ft-pw@mail.example.com:587",
	"ONCALL_KEY":            "R0UTINGKEY0000000000000000000000",
	"ISSUES_PAT":            "github_pat_CUSTOM_issues_0042",
	"SHORT":                 "abc",
}

func getenv(k string) string { return env[k] }

func testConfig() *config.Config {
	return &config.Config{NotificationChannels: config.NotificationChannels{
		Slack:        &config.SlackChannel{WebhookURLEnv: "OPS_SLACK_HOOK"},
		Email:        &config.EmailChannel{SMTPURLEnv: "MAIL_RELAY", Recipients: []string{"ops@example.com"}},
		PagerDuty:    &config.PagerDutyChannel{RoutingKeyEnv: "ONCALL_KEY"},
		GitHubIssues: &config.GitHubIssuesChannel{Repository: "acme/ops", TokenEnv: "ISSUES_PAT"},
	}}
}

func TestEnvNamesFindsEveryEnvField(t *testing.T) {
	got := strings.Join(redact.EnvNames(testConfig()), ",")
	for _, want := range []string{"OPS_SLACK_HOOK", "MAIL_RELAY", "ONCALL_KEY", "ISSUES_PAT", "GITHUB_TOKEN", "SMTP_URL"} {
		if !strings.Contains(got, want) {
			t.Errorf("EnvNames = %s, missing %s", got, want)
		}
	}
	if strings.Contains(got, "CLOUDFLARE_ACCOUNT_ID") || strings.Contains(got, "POSTHOG_HOST") {
		t.Errorf("EnvNames = %s: ids and hosts are not secrets", got)
	}
}

func TestString(t *testing.T) {
	r := redact.New(testConfig(), getenv)
	hook := env["OPS_SLACK_HOOK"]
	tests := []struct{ name, in, want string }{
		{"a standard token", "auth failed for ghp_standardTOKEN123", "auth failed for [redacted]"},
		{"a custom-named token", "Bearer github_pat_CUSTOM_issues_0042 refused", "Bearer [redacted] refused"},
		{"a custom-named routing key", `{"routing_key":"R0UTINGKEY0000000000000000000000"}`, `{"routing_key":"[redacted]"}`},
		{"a webhook URL whole", "post " + hook + ": EOF", "post [redacted]: EOF"},
		{"a webhook's path alone", "404 for /services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx",
			"404 for /services/[redacted]/[redacted]/[redacted]"},
		{"a webhook URL escaped in a query", "next=" + url.QueryEscape(hook), "next=[redacted]"},
		{"the SMTP password", "535 auth failed: s3cr/t-pw", "535 auth failed: [redacted]"},
		{"the SMTP password URL-escaped", "dial s3cr%2Ft-pw", "dial [redacted]"},
		{"SMTP AUTH PLAIN in a trace", "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alerts@example.com\x00s3cr/t-pw")),
			"AUTH PLAIN [redacted]"},
		{"HTTP basic credentials", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("alerts@example.com:s3cr/t-pw")),
			"Authorization: Basic [redacted]"},
		{"a URL's query and user info", `Post "https://me:pw@x.test/a?key=1&b=2#frag": EOF`, `Post "https://redacted@x.test/a?redacted": EOF`},
		{"a short value is not a secret", "abc abc", "abc abc"},
		{"ids and words stay", "account acct-not-a-secret, services, https://us.posthog.com/api", "account acct-not-a-secret, services, https://us.posthog.com/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNilRedactorStillHidesURLCredentials(t *testing.T) {
	var r *redact.Redactor
	if got := r.String("dial smtp://me:pw@mail.test:25"); got != "dial smtp://redacted@mail.test:25" {
		t.Errorf("String = %q", got)
	}
	if got := string(r.Bytes([]byte("x"))); got != "x" {
		t.Errorf("Bytes = %q", got)
	}
}

func TestBytesLeavesLinksAlone(t *testing.T) {
	r := redact.New(testConfig(), getenv)
	page := `<a href="https://example.com/?q=1">x</a> <p>cf-token-abcdef</p> <p>` + "github_pat_CUSTOM_issues_0042" + `</p>`
	want := `<a href="https://example.com/?q=1">x</a> <p>[redacted]</p> <p>[redacted]</p>`
	if got := string(r.Bytes([]byte(page))); got != want {
		t.Errorf("Bytes:\n got %s\nwant %s", got, want)
	}
	// A secret with & and < in it, as encoding/json and html/template write it.
	signed := "https://x.test/hook?k=abc&sig=0123456789<"
	r.Add(signed)
	js, _ := json.Marshal(map[string]string{"u": signed})
	if got := string(r.Bytes(js)); got != `{"u":"[redacted]"}` {
		t.Errorf("Bytes(%s) = %s", js, got)
	}
	if got := string(r.Bytes([]byte(html.EscapeString(signed)))); got != "[redacted]" {
		t.Errorf("Bytes(HTML-escaped) = %s", got)
	}
}

func TestErrorKeepsTheChain(t *testing.T) {
	r := redact.New(testConfig(), getenv)
	cause := errors.New("cause")
	err := r.Error(fmt.Errorf("token github_pat_CUSTOM_issues_0042: %w", cause))
	if err.Error() != "token [redacted]: cause" || !errors.Is(err, cause) {
		t.Errorf("Error = %v (Is cause: %v)", err, errors.Is(err, cause))
	}
	if r.Error(nil) != nil || r.Error(cause) != cause {
		t.Error("nil and clean errors must come back as they are")
	}
}

func TestAddLearnsLaterSecrets(t *testing.T) {
	r := redact.New(nil, getenv)
	if got := r.String("github_pat_CUSTOM_issues_0042"); got != "github_pat_CUSTOM_issues_0042" {
		t.Fatalf("without the config the custom variable is unknown, got %q", got)
	}
	r.AddConfig(testConfig(), getenv)
	r.Add("eyJhbGciOiJIUzI1NiJ9.upload.jwt")
	if got := r.String("github_pat_CUSTOM_issues_0042 eyJhbGciOiJIUzI1NiJ9.upload.jwt"); got != "[redacted] [redacted]" {
		t.Errorf("after AddConfig and Add: %q", got)
	}
}

// TestCustomNamedSecretNeverReachesALog logs a custom-named secret every way a caller might:
// in the message, a string, an error, a group, a With attribute and a printed value.
func TestCustomNamedSecretNeverReachesALog(t *testing.T) {
	secret := env["ISSUES_PAT"]
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if format == "json" {
				h = slog.NewJSONHandler(&buf, nil)
			}
			r := redact.New(nil, getenv)
			log := slog.New(r.Handler(h))
			r.AddConfig(testConfig(), getenv) // the CLI reads the config after building its logger
			log = log.With("repo", "acme/ops", "early", "token "+secret)
			log.Info("sending with "+secret,
				"token", secret,
				"err", fmt.Errorf("github issues: 401 for %s", secret),
				slog.Group("req", "auth", "Bearer "+secret),
				"headers", map[string]string{"Authorization": "Bearer " + secret},
				"hook", env["OPS_SLACK_HOOK"])
			out := buf.String()
			if strings.Contains(out, secret) || strings.Contains(out, "abcdefghijklmnopqrstuvwx") {
				t.Errorf("the log holds a secret:\n%s", out)
			}
			if !strings.Contains(out, "acme/ops") || strings.Count(out, "[redacted]") < 6 {
				t.Errorf("the log lost its content or missed a secret:\n%s", out)
			}
		})
	}
}

func TestURLAndOrigin(t *testing.T) {
	for _, tc := range []struct{ in, url, origin string }{
		{"https://hooks.slack.com/services/T0/B0/SECRET", "https://hooks.slack.com/services/T0/B0/SECRET", "https://hooks.slack.com/[redacted]"},
		{"https://events.pagerduty.com/", "https://events.pagerduty.com/", "https://events.pagerduty.com"},
		{"smtp://user:pass@mail.example.com:587", "smtp://redacted@mail.example.com:587", "smtp://mail.example.com:587"},
		{"https://api.example.com/?token=SECRET#x", "https://api.example.com/?redacted", "https://api.example.com/[redacted]"},
		{"::not a url", "[redacted-url]", "[redacted URL]"},
	} {
		if got := redact.URL(tc.in); got != tc.url {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.url)
		}
		if got := redact.Origin(tc.in); got != tc.origin {
			t.Errorf("Origin(%q) = %q, want %q", tc.in, got, tc.origin)
		}
	}
}

// BenchmarkBytes redacts a 1 MiB page holding no secret with the redactor of a CI environment:
// what every built file costs when secrets are set.
func BenchmarkBytes(b *testing.B) {
	r := redact.New(testConfig(), getenv)
	page := bytes.Repeat([]byte(`<tr><td><a href="/products/shop/">shop</a></td><td>99.95 %</td></tr>`+"\n"), 1<<20/70)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		r.Bytes(page)
	}
}

// TestCutSecret: an answer quoted up to a length ("…") or cut at the end of a message may end in
// the start of a secret; that start goes too, and nothing else does.
func TestCutSecret(t *testing.T) {
	r := redact.New(testConfig(), getenv)
	r.Add("hooks.slack.com/services/T0SCHEMELESS/B0SCHEMELESS/x")
	key := env["ONCALL_KEY"] // R0UTINGKEY0000000000000000000000
	tests := []struct{ name, in, want string }{
		{"cut before an ellipsis", `403 {"routing_key":"` + key[:20] + "…", `403 {"routing_key":"[redacted]…`},
		{"cut at the end", "send failed: Bearer " + env["ISSUES_PAT"][:12], "send failed: Bearer [redacted]"},
		{"two cuts", key[:9] + "… and " + env["GITHUB_TOKEN"][:10] + "…", "[redacted]… and [redacted]…"},
		{"a base64 form cut", "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alerts@example.com\x00s3cr/t-pw"))[:20] + "…",
			"AUTH PLAIN [redacted]…"},
		{"too short a start stays", "a key R0UTI…", "a key R0UTI…"},
		{"a word that starts like nothing stays", "waiting…", "waiting…"},
		{"the public start of a webhook URL stays", "post to https://hooks.slack.com/serv…", "post to https://hooks.slack.com/serv…"},
		{"a whole secret before an ellipsis", key + "…", "[redacted]…"},
		{"a webhook set without its scheme: its host stays", "set it to hooks.slack.com/services/…", "set it to hooks.slack.com/services/…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.String(tt.in); got != tt.want {
				t.Errorf("String(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
	page := []byte(`<td>pagerduty: 403 {&#34;routing_key&#34;:&#34;` + key[:25] + `…</td><td>` + key[:7] + `</td>`)
	if got := string(r.Bytes(page)); got != `<td>pagerduty: 403 {&#34;routing_key&#34;:&#34;[redacted]…</td><td>`+key[:7]+`</td>` {
		t.Errorf("Bytes = %s", got)
	}
}

// BenchmarkString is a log line's redaction: every known secret and its forms, and the search
// for a secret cut at the end.
func BenchmarkString(b *testing.B) {
	r := redact.New(testConfig(), getenv)
	line := `level=WARN msg="alert send failed; retried next run" channel=slack kind=firing product=storefront rule=probe_down error="slack: webhook: 500 rollup_error"`
	for b.Loop() {
		r.String(line)
	}
}
