package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// problems parses src as portfolio.json and returns the lines a user sees.
func problems(t *testing.T, src string) []string {
	t.Helper()
	cfg, err := Parse("portfolio.json", []byte(src))
	if err == nil {
		if cfg == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		return nil
	}
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Parse error is %T, want *ValidationError: %v", err, err)
	}
	if cfg != nil {
		t.Error("Parse returned a config along with problems")
	}
	if got, want := err.Error(), strings.Join(verr.Lines(), "\n"); got != want {
		t.Errorf("Error() and Lines() disagree:\n%s\n---\n%s", got, want)
	}
	return verr.Lines()
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "the brief's example: a word where a percentage belongs",
			src: `{"products": [
  {"id": "a"},
  {"id": "b"},
  {"id": "c", "alerting_config": {"uptime_threshold": "high"}}
]}`,
			want: []string{`portfolio.json:4:55: products[2].alerting_config.uptime_threshold: want a number from 0 to 100, got "high"`},
		},
		{
			name: "unknown top-level field with a suggestion",
			src:  `{"products": [{"id": "a"}], "sites": {}}`,
			want: []string{`portfolio.json:1:29: sites: unknown field; did you mean site?`},
		},
		{
			name: "unknown field far from any known one lists the known ones",
			src: `{"products": [{"id": "a",
  "deploy": {"pipeline": "x"}}]}`,
			want: []string{`portfolio.json:2:14: products[0].deploy.pipeline: unknown field; want one of branch, environment, source, workflow`},
		},
		{
			name: "products missing",
			src:  `{"site": {"title": "x"}}`,
			want: []string{`portfolio.json:1:1: products: want a non-empty list, got nothing (the field is required)`},
		},
		{
			name: "products empty",
			src:  `{"products": []}`,
			want: []string{`portfolio.json:1:14: products: want a non-empty list, got an empty list`},
		},
		{
			name: "products of the wrong type",
			src:  `{"products": {"id": "a"}}`,
			want: []string{`portfolio.json:1:14: products: want a non-empty list, got an object`},
		},
		{
			name: "the file is a list, not an object",
			src:  `[{"id": "a"}]`,
			want: []string{`portfolio.json:1:1: want an object, got a list`},
		},
		{
			name: "id missing",
			src:  `{"products": [{"name": "Shop"}]}`,
			want: []string{`portfolio.json:1:15: products[0].id: want a lowercase slug of at most 63 characters like payments-api, got nothing (the field is required)`},
		},
		{
			name: "ids that are not lowercase slugs",
			src: `{"products": [
  {"id": "Shop"},
  {"id": "pay_api"},
  {"id": "docs-"},
  {"id": ""},
  {"id": 7}
]}`,
			want: []string{
				`portfolio.json:2:10: products[0].id: want a lowercase slug of at most 63 characters like payments-api, got "Shop"`,
				`portfolio.json:3:10: products[1].id: want a lowercase slug of at most 63 characters like payments-api, got "pay_api"`,
				`portfolio.json:4:10: products[2].id: want a lowercase slug of at most 63 characters like payments-api, got "docs-"`,
				`portfolio.json:5:10: products[3].id: want a lowercase slug of at most 63 characters like payments-api, got ""`,
				`portfolio.json:6:10: products[4].id: want a lowercase slug of at most 63 characters like payments-api, got 7`,
			},
		},
		{
			name: "duplicate product ids",
			src: `{"products": [
  {"id": "shop"},
  {"id": "docs"},
  {"id": "shop"}
]}`,
			want: []string{`portfolio.json:4:10: products[2].id: want a unique id, got "shop" again (as products[0])`},
		},
		{
			name: "thresholds out of range",
			src: `{"products": [{"id": "a", "alerting_config": {
  "uptime_threshold": 101,
  "error_rate_threshold": -1,
  "response_time_threshold": 0,
  "failure_threshold": 0,
  "success_threshold": 1.5
}}]}`,
			want: []string{
				`portfolio.json:2:23: products[0].alerting_config.uptime_threshold: want a number from 0 to 100, got 101`,
				`portfolio.json:3:27: products[0].alerting_config.error_rate_threshold: want a number from 0 to 100, got -1`,
				`portfolio.json:4:30: products[0].alerting_config.response_time_threshold: want a number above 0, got 0`,
				`portfolio.json:5:24: products[0].alerting_config.failure_threshold: want a whole number from 1 to 1000, got 0`,
				`portfolio.json:6:24: products[0].alerting_config.success_threshold: want a whole number from 1 to 1000, got 1.5`,
			},
		},
		{
			name: "unknown deploy source",
			src:  `{"products": [{"id": "a", "deploy": {"source": "nightly"}}]}`,
			want: []string{`portfolio.json:1:48: products[0].deploy.source: want workflow_runs or deployments, got "nightly"`},
		},
		{
			name: "unknown time zone",
			src:  `{"site": {"timezone": "Mars/Olympus"}, "products": [{"id": "a"}]}`,
			want: []string{`portfolio.json:1:23: site.timezone: want an IANA time zone like Europe/Berlin or UTC, got "Mars/Olympus"`},
		},
		{
			name: "the host's local time zone is not reproducible",
			src:  `{"site": {"timezone": "Local"}, "products": [{"id": "a"}]}`,
			want: []string{`portfolio.json:1:23: site.timezone: want an IANA time zone like Europe/Berlin or UTC, got "Local"`},
		},
		{
			name: "repository not owner/name",
			src: `{"products": [
  {"id": "a", "repository": "acme"},
  {"id": "b", "repository": "https://github.com/acme/b"}
]}`,
			want: []string{
				`portfolio.json:2:29: products[0].repository: want a GitHub repository as owner/name, got "acme"`,
				`portfolio.json:3:29: products[1].repository: want a GitHub repository as owner/name, got "https://github.com/acme/b"`,
			},
		},
		{
			name: "bad URLs",
			src: `{"site": {"base_url": "status.example.com"}, "products": [
  {"id": "a", "url": "ftp://shop.example.com"},
  {"id": "b", "url": "https://"}
]}`,
			want: []string{
				`portfolio.json:1:23: site.base_url: want an absolute http(s) URL like https://shop.example.com, got "status.example.com"`,
				`portfolio.json:2:22: products[0].url: want an absolute http(s) URL like https://shop.example.com, got "ftp://shop.example.com"`,
				`portfolio.json:3:22: products[1].url: want an absolute http(s) URL like https://shop.example.com, got "https://"`,
			},
		},
		{
			name: "an id too long for a file name",
			src:  `{"products": [{"id": "` + strings.Repeat("a", 64) + `"}, {"id": "` + strings.Repeat("b", 63) + `"}]}`,
			want: []string{`portfolio.json:1:22: products[0].id: want a lowercase slug of at most 63 characters like payments-api, got "` + strings.Repeat("a", 57) + `..."`},
		},
		{
			name: "line breaks that would split _headers",
			src: `{"site": {"base_url": "https://status.example.com/a%0d%0aX-Injected:%20yes"}, "products": [
  {"id": "a", "url": "https://shop.example.com/%0Aevil"},
  {"id": "b", "url": "https://shop.example.com/\u2028"}
]}`,
			want: []string{
				`portfolio.json:1:23: site.base_url: want a URL without control characters or encoded line breaks (%0A, %0D), got "https://status.example.com/a%0d%0aX-Injected:%20yes"`,
				`portfolio.json:2:22: products[0].url: want a URL without control characters or encoded line breaks (%0A, %0D), got "https://shop.example.com/%0Aevil"`,
				`portfolio.json:3:22: products[1].url: want a URL without control characters or encoded line breaks (%0A, %0D), got "https://shop.example.com/\u2028"`,
			},
		},
		{
			name: "a base URL with a space in its path",
			src:  `{"site": {"base_url": "https://status.example.com/a%20b"}, "products": [{"id": "a"}]}`,
			want: []string{`portfolio.json:1:23: site.base_url: want a base URL whose path has no spaces (it is written into _headers), got "https://status.example.com/a%20b"`},
		},
		{
			name: "a URL with credentials is reported without them",
			src:  `{"products": [{"id": "a", "url": "https://admin:hunter2@shop.example.com"}]}`,
			want: []string{`portfolio.json:1:34: products[0].url: want a URL without credentials (put secrets in environment variables), got a value that looks like a secret (not shown)`},
		},
		{
			name: "health endpoint without url",
			src:  `{"products": [{"id": "a", "health_endpoint": "/healthz"}]}`,
			want: []string{`portfolio.json:1:46: products[0].health_endpoint: want url set too (the probe fetches url + health_endpoint), got no url`},
		},
		{
			name: "health endpoint that is not a path",
			src:  `{"products": [{"id": "a", "url": "https://a.example.com", "health_endpoint": "healthz"}]}`,
			want: []string{`portfolio.json:1:78: products[0].health_endpoint: want a path starting with /, got "healthz"`},
		},
		{
			name: "maintenance windows",
			src: `{"products": [{"id": "a", "maintenance": [
  {"start": "2026-07-01T22:00:00Z", "end": "2026-07-01T21:00:00Z"},
  {"start": "tonight", "end": "2026-07-01T23:00:00Z"},
  {"start": "2026-06-31T22:00:00Z", "end": "2026-07-01T23:00:00Z"},
  {"start": "2026-07-01T22:00:00Z"}
]}]}`,
			want: []string{
				`portfolio.json:2:44: products[0].maintenance[0].end: want a time after start (2026-07-01T22:00:00Z), got "2026-07-01T21:00:00Z"`,
				`portfolio.json:3:13: products[0].maintenance[1].start: want an RFC 3339 time like 2026-07-01T22:00:00Z, got "tonight"`,
				`portfolio.json:4:13: products[0].maintenance[2].start: want a valid RFC 3339 time, got "2026-06-31T22:00:00Z"`,
				`portfolio.json:5:3: products[0].maintenance[3].end: want an RFC 3339 time like 2026-07-01T23:30:00Z, got nothing (the field is required)`,
			},
		},
		{
			name: "impact windows and thresholds",
			src: `{"impact": {"before_window": "5m", "z": 0}, "products": [{"id": "a",
  "impact": {"after_window": "an hour", "change_ratio": 0.8, "alert_severity": "page"}}]}`,
			want: []string{
				`portfolio.json:1:30: impact.before_window: want a Go duration from 15m to 168h like 1h or 90m, got "5m"`,
				`portfolio.json:1:41: impact.z: want a number above 0, got 0`,
				`portfolio.json:2:30: products[0].impact.after_window: want a Go duration from 15m to 168h like 1h or 90m, got "an hour"`,
				`portfolio.json:2:57: products[0].impact.change_ratio: want a number above 1, got 0.8`,
				`portfolio.json:2:80: products[0].impact.alert_severity: want one of critical, warning, info, off, got "page"`,
			},
		},
		{
			name: "unknown and repeated severities",
			src: `{"products": [{"id": "a"}], "notification_channels": {
  "pagerduty": {"severities": ["critical", "page", "critical"]}
}}`,
			want: []string{
				`portfolio.json:2:44: notification_channels.pagerduty.severities[1]: want one of critical, warning, info, got "page"`,
				`portfolio.json:2:52: notification_channels.pagerduty.severities[2]: want each value once, got "critical" again (as at [0])`,
			},
		},
		{
			name: "run interval that is no schedule",
			src: `{"site": {"run_interval": "15 minutes"}, "products": [{"id": "a"}]}
`,
			want: []string{
				`portfolio.json:1:27: site.run_interval: want a Go duration from 1m to 24h like 15m or 1h (the report's schedule), got "15 minutes"`,
			},
		},
		{
			name: "run interval under a minute",
			src: `{"site": {"run_interval": "30s"}, "products": [{"id": "a"}]}
`,
			want: []string{
				`portfolio.json:1:27: site.run_interval: want a Go duration from 1m to 24h like 15m or 1h (the report's schedule), got "30s"`,
			},
		},
		{
			name: "repeat intervals that are not Go durations",
			src: `{"products": [{"id": "a"}], "notification_channels": {
  "slack": {"repeat_interval": "4 hours"},
  "pagerduty": {"repeat_interval": "-1h"}
}}`,
			want: []string{
				`portfolio.json:2:32: notification_channels.slack.repeat_interval: want a positive Go duration like 4h or 30m, got "4 hours"`,
				`portfolio.json:3:36: notification_channels.pagerduty.repeat_interval: want a positive Go duration like 4h or 30m, got "-1h"`,
			},
		},
		{
			name: "a digest schedule and routes that do not parse",
			src: `{"products": [{"id": "a"}], "digest": {"weekday": "someday", "time": "8am", "period_days": 0, "top": 100},
  "notification_channels": {"slack": {"digest": {"enabled": "no", "products": ["a", "b"]}}}}`,
			want: []string{
				`portfolio.json:1:51: digest.weekday: want one of monday, tuesday, wednesday, thursday, friday, saturday, sunday, got "someday"`,
				`portfolio.json:1:70: digest.time: want a time of day HH:MM like 08:00, got "8am"`,
				`portfolio.json:1:92: digest.period_days: want a whole number from 1 to 31, got 0`,
				`portfolio.json:1:102: digest.top: want a whole number from 1 to 25, got 100`,
				`portfolio.json:2:61: notification_channels.slack.digest.enabled: want true or false, got "no"`,
				`portfolio.json:2:85: notification_channels.slack.digest.products[1]: want the id of a product (a), got "b"`,
			},
		},
		{
			name: "email recipients and sender that are not addresses",
			src: `{"products": [{"id": "a"}], "notification_channels": {"email": {
  "recipients": ["oncall@example.com", "oncall", "On call <oncall@example.com>"],
  "from": "portfolio at example.com"
}}}`,
			want: []string{
				`portfolio.json:2:40: notification_channels.email.recipients[1]: want an email address like oncall@example.com, got "oncall"`,
				`portfolio.json:3:11: notification_channels.email.from: want an email address like oncall@example.com, got "portfolio at example.com"`,
			},
		},
		{
			name: "email without recipients",
			src:  `{"products": [{"id": "a"}], "notification_channels": {"email": {"from": "a@example.com"}}}`,
			want: []string{`portfolio.json:1:64: notification_channels.email.recipients: want a non-empty list, got nothing (the field is required)`},
		},
		{
			name: "secrets pasted where environment variable names belong are not echoed",
			src: `{"products": [{"id": "a"}], "notification_channels": {
  "slack": {"webhook_url_env": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"},
  "email": {"recipients": ["a@example.com"], "smtp_url_env": "smtps://user:pw@smtp.example.com"},
  "pagerduty": {"routing_key_env": "R0123456789abcdef0123456789abcdef"},
  "github_issues": {"repository": "acme/ops", "token_env": "ghp_0123456789abcdefghijABCDEFGHIJ012345"}
}}`,
			want: []string{
				`portfolio.json:2:32: notification_channels.slack.webhook_url_env: want the name of an environment variable like SLACK_WEBHOOK_URL, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)`,
				`portfolio.json:3:62: notification_channels.email.smtp_url_env: want the name of an environment variable like SMTP_URL, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)`,
				`portfolio.json:4:36: notification_channels.pagerduty.routing_key_env: want the name of an environment variable like PAGERDUTY_ROUTING_KEY, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)`,
				`portfolio.json:5:60: notification_channels.github_issues.token_env: want the name of an environment variable like GITHUB_TOKEN, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)`,
			},
		},
		{
			name: "a lowercase variable name is not a variable name either",
			src:  `{"products": [{"id": "a"}], "notification_channels": {"slack": {"webhook_url_env": "slack_webhook_url"}}}`,
			want: []string{`portfolio.json:1:84: notification_channels.slack.webhook_url_env: want the name of an environment variable like SLACK_WEBHOOK_URL, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)`},
		},
		{
			name: "a route names a product that does not exist",
			src:  `{"products": [{"id": "shop"}, {"id": "docs"}], "notification_channels": {"slack": {"products": ["shop", "blog"]}}}`,
			want: []string{`portfolio.json:1:105: notification_channels.slack.products[1]: want the id of a product (shop, docs), got "blog"`},
		},
		{
			name: "a channel set to null",
			src:  `{"products": [{"id": "a"}], "notification_channels": {"slack": null}}`,
			want: []string{`portfolio.json:1:64: notification_channels.slack: want an object, got null`},
		},
		{
			name: "a field given twice",
			src: `{"products": [{"id": "a",
  "name": "A",
  "name": "B"}]}`,
			want: []string{`portfolio.json:3:3: products[0].name: want each field once, got it again (the last one would win)`},
		},
		{
			name: "DORA levels out of order",
			src:  `{"dora": {"window_days": 0, "levels": {"lead_time": {"elite": 7200, "high": 3600}}}, "products": [{"id": "a"}]}`,
			want: []string{
				`portfolio.json:1:26: dora.window_days: want a whole number from 1 to 3650, got 0`,
				`portfolio.json:1:53: dora.levels.lead_time: want elite ≤ high ≤ medium (lower is better; set all three), got elite 7200, high 3600, medium 0`,
			},
		},
		{
			name: "columns count characters, not bytes",
			src:  `{"products": [{"id": "a", "name": "Café ☕", "url": "nope"}]}`,
			want: []string{`portfolio.json:1:52: products[0].url: want an absolute http(s) URL like https://shop.example.com, got "nope"`},
		},
		{
			name: "long values are shortened",
			src:  `{"products": [{"id": "a", "deploy": {"source": "` + strings.Repeat("x", 100) + `"}}]}`,
			want: []string{`portfolio.json:1:48: products[0].deploy.source: want workflow_runs or deployments, got "` + strings.Repeat("x", 57) + `..."`},
		},
		{
			name: "malformed JSON: a missing comma",
			src: `{"products": [
  {"id": "a"}
  {"id": "b"}
]}`,
			want: []string{`portfolio.json:3:3: invalid JSON: invalid character '{' after array element`},
		},
		{
			name: "malformed JSON: a trailing comma",
			src: `{"products": [{"id": "a"}],
}`,
			want: []string{`portfolio.json:2:1: invalid JSON: invalid character '}' looking for beginning of object key string`},
		},
		{
			name: "malformed JSON: a truncated file",
			src: `{"products": [
  {"id": "a"`,
			want: []string{`portfolio.json:2:13: invalid JSON: unexpected end of file`},
		},
		{
			name: "malformed JSON: an empty file",
			src:  ``,
			want: []string{`portfolio.json:1:1: invalid JSON: unexpected end of file`},
		},
		{
			name: "malformed JSON: two objects",
			src: `{"products": [{"id": "a"}]}
{"products": [{"id": "b"}]}`,
			want: []string{`portfolio.json:2:1: invalid JSON: want one JSON object, got more text after it`},
		},
		{
			name: "whole numbers written with a fraction or exponent",
			src:  `{"products": [{"id": "a", "probe": {"expected_status": 200.0}}]}`,
			want: []string{`portfolio.json:1:56: products[0].probe.expected_status: want a whole number without a fraction or exponent, got 200.0`},
		},
		{
			name: "a byte-order mark is allowed",
			src:  "\ufeff" + `{"products": [{"id": "a"}]}`,
		},
		{
			name: "the smallest valid config",
			src:  `{"products": [{"id": "a"}]}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.src)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestNoSecretInMessages puts credentials in every string field a secret could be pasted into
// and checks none of them reaches a message.
func TestNoSecretInMessages(t *testing.T) {
	secrets := []string{
		"https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX",
		"ghp_0123456789abcdefghijABCDEFGHIJ012345",
		"xoxb-1234-5678-abcdefghijkl",
		"phx_abcdefghijklmnopqrstuvwxyz0123456789",
		"smtps://user:s3cret@smtp.example.com:465",
	}
	for _, secret := range secrets {
		t.Run(secret[:8], func(t *testing.T) {
			src := strings.ReplaceAll(`{"site": {"base_url": "S", "timezone": "S"}, "products": [
  {"id": "S", "url": "S", "repository": "S", "health_endpoint": "S", "deploy": {"source": "S"},
   "cloudflare": {"zone_id": "S", "hostname": "S"}, "posthog": {"host": "S"}}
], "notification_channels": {
  "slack": {"webhook_url_env": "S", "repeat_interval": "S", "products": ["S"], "severities": ["S"]},
  "email": {"recipients": ["S"], "from": "S", "smtp_url_env": "S"},
  "pagerduty": {"routing_key_env": "S"},
  "github_issues": {"repository": "S", "token_env": "S"}
}}`, `"S"`, `"`+secret+`"`)
			got := problems(t, src)
			if len(got) < 10 {
				t.Fatalf("want a problem for nearly every field, got %d:\n%s", len(got), strings.Join(got, "\n"))
			}
			for _, line := range got {
				if strings.Contains(line, secret) || strings.Contains(line, "s3cret") {
					t.Errorf("message echoes the secret: %s", line)
				}
			}
		})
	}
}

// TestBrokenConfig checks that a config with many problems reports all of them, sorted.
func TestBrokenConfig(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "broken.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("testdata/broken.json", src)
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want a *ValidationError, got %v", err)
	}
	for i := 1; i < len(verr.Problems); i++ {
		a, b := verr.Problems[i-1], verr.Problems[i]
		if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("problems out of order: %v before %v", a, b)
		}
	}
	golden := filepath.Join("testdata", "broken.out")
	got := err.Error() + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("problems differ from %s (run go test ./generator/config -update and read the diff):\n%s", golden, got)
	}
	if n := strings.Count(string(want), "\n"); n < 20 {
		t.Errorf("broken.json yields %d problems, want every one of its 20+ mistakes", n)
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range cfg.Products {
		ids = append(ids, p.ID)
	}
	if got, want := strings.Join(ids, " "), "storefront payments-api docs"; got != want {
		t.Errorf("product ids %q, want %q", got, want)
	}
	if cfg.Schema != "./portfolio.schema.json" {
		t.Errorf("$schema %q, want ./portfolio.schema.json", cfg.Schema)
	}
	pay, _ := cfg.ProductByID("payments-api")
	if pay.AlertingConfig.UptimeThreshold != 99.9 || pay.AlertingConfig.FailureThreshold != 2 {
		t.Errorf("payments-api alerting %+v, want uptime 99.9 and the default failure threshold 2", pay.AlertingConfig)
	}
	if got := pay.HealthURL(); got != "https://api.pay.example.com/health" {
		t.Errorf("payments-api health URL %q", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "portfolio.json"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("want a not-found error, got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"../../portfolio.json", "testdata/broken.json"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"products":[{"id":"a","name":"a","name":"b"}],"x":[1,{"y":null}]}`))
	f.Add([]byte("\ufeff{\"products\": [}"))
	f.Add([]byte(`[[[[[[[[]]]]]]]]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("portfolio.json", data)
		if err == nil {
			if cfg == nil || len(cfg.Products) == 0 {
				t.Fatal("a valid config has products")
			}
			return
		}
		var verr *ValidationError
		if !errors.As(err, &verr) {
			t.Fatalf("error %T, want *ValidationError: %v", err, err)
		}
		if len(verr.Problems) == 0 {
			t.Fatal("a ValidationError without problems")
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, p := range verr.Problems {
			if p.Line < 1 || p.Col < 1 || p.Line > lines || p.Msg == "" {
				t.Fatalf("bad position or message %+v for %d lines", p, lines)
			}
		}
	})
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("portfolio.json", data); err != nil {
			b.Fatal(err)
		}
	}
}

// TestImpactInheritance: a product's impact settings override the portfolio's field by field,
// and what neither sets takes the default.
func TestImpactInheritance(t *testing.T) {
	cfg, err := Parse("portfolio.json", []byte(`{"impact": {"after_window": "2h", "rate_floor": 0, "alert_severity": "off"},
	  "products": [{"id": "a"}, {"id": "b", "impact": {"after_window": "30m", "min_requests": 50, "alert_severity": "critical"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Products[0].Impact, cfg.Products[1].Impact
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"a inherits the portfolio's after window", a.AfterWindow, "2h"},
		{"a takes the default before window", a.BeforeWindow, "1h"},
		{"an explicit 0 floor is kept, not defaulted", *a.RateFloor, 0.0},
		{"a's alert is off", a.AlertSeverity, "off"},
		{"b overrides the after window", b.AfterWindow, "30m"},
		{"b overrides min requests", b.MinRequests, 50},
		{"b overrides the severity", b.AlertSeverity, "critical"},
		{"b keeps the portfolio's floor", *b.RateFloor, 0.0},
		{"b takes the default latency floor", *b.LatencyFloorMs, 20.0},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if before, after := b.Windows(); before != time.Hour || after != 30*time.Minute {
		t.Errorf("b's windows: %v and %v, want 1h and 30m", before, after)
	}
}
