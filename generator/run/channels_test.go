package run_test

import (
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/run"
)

func seed() *config.Config {
	cfg := &config.Config{Site: config.Site{Title: "Acme", BaseURL: "https://status.example.com"},
		NotificationChannels: config.NotificationChannels{
			Slack:        &config.SlackChannel{},
			Email:        &config.EmailChannel{Recipients: []string{"oncall@example.com"}},
			PagerDuty:    &config.PagerDutyChannel{},
			GitHubIssues: &config.GitHubIssuesChannel{Repository: "acme/ops"},
		}}
	cfg.ApplyDefaults()
	return cfg
}

func TestChannels(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		wantEnabled  []string
		wantDisabled map[string]string
	}{
		{name: "nothing set: every channel off, saying why", env: map[string]string{},
			wantDisabled: map[string]string{"slack": "SLACK_WEBHOOK_URL is not set", "email": "SMTP_URL is not set",
				"pagerduty": "PAGERDUTY_ROUTING_KEY is not set", "github_issues": "GITHUB_TOKEN is not set"}},
		{name: "everything set", env: map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/SECRET",
			"SMTP_URL": "smtp://u:SECRETpw@mail.example.com:587", "PAGERDUTY_ROUTING_KEY": "SECRETkey", "GITHUB_TOKEN": "SECRETtoken"},
			wantEnabled: []string{"email", "github_issues", "pagerduty", "slack"}, wantDisabled: map[string]string{}},
		{name: "a bad SMTP URL turns email off without the password", env: map[string]string{
			"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/SECRET", "SMTP_URL": "imap://u:SECRETpw@mail.example.com"},
			wantEnabled: []string{"slack"},
			wantDisabled: map[string]string{"email": `SMTP_URL: SMTP URL: scheme "imap": want smtp or smtps`,
				"pagerduty": "PAGERDUTY_ROUTING_KEY is not set", "github_issues": "GITHUB_TOKEN is not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := run.Channels(seed(), run.ChannelOptions{Getenv: func(k string) string { return tt.env[k] }})
			var names []string
			for _, n := range set.Notifiers {
				names = append(names, n.Name())
			}
			if strings.Join(names, ",") != strings.Join(tt.wantEnabled, ",") {
				t.Errorf("enabled %v, want %v", names, tt.wantEnabled)
			}
			if len(set.Disabled) != len(tt.wantDisabled) {
				t.Errorf("disabled %v, want %v", set.Disabled, tt.wantDisabled)
			}
			for k, v := range tt.wantDisabled {
				if set.Disabled[k] != v {
					t.Errorf("disabled[%s] = %q, want %q", k, set.Disabled[k], v)
				}
				if strings.Contains(set.Disabled[k], "SECRET") {
					t.Errorf("reason leaks a secret: %q", set.Disabled[k])
				}
			}
			red := redact.New(seed(), func(k string) string { return tt.env[k] })
			for k, v := range tt.env {
				if got := red.String("x " + v + " y"); strings.Contains(got, v) {
					t.Errorf("the redactor built from the config does not hide %s: %q", k, got)
				}
			}
		})
	}
}

// TestCustomNamedSecretsAreKnown: channels read the variables a config names, and the
// redactor built from that config hides their values, however they are named.
func TestCustomNamedSecretsAreKnown(t *testing.T) {
	cfg := &config.Config{Site: config.Site{Title: "Acme", BaseURL: "https://status.example.com"},
		NotificationChannels: config.NotificationChannels{
			Slack:        &config.SlackChannel{WebhookURLEnv: "OPS_SLACK_HOOK"},
			PagerDuty:    &config.PagerDutyChannel{RoutingKeyEnv: "ONCALL_ROUTING"},
			GitHubIssues: &config.GitHubIssuesChannel{Repository: "acme/ops", TokenEnv: "ISSUES_PAT"},
		}}
	cfg.ApplyDefaults()
	env := map[string]string{"OPS_SLACK_HOOK": "https://hooks.slack.com/services/T0/B0/CUSTOMsecret",
		"ONCALL_ROUTING": "CUSTOMroutingKEY", "ISSUES_PAT": "CUSTOMpat0001"}
	getenv := func(k string) string { return env[k] }
	set := run.Channels(cfg, run.ChannelOptions{Getenv: getenv})
	if len(set.Notifiers) != 3 {
		t.Fatalf("enabled %d channels (disabled %v), want the 3 with custom variables", len(set.Notifiers), set.Disabled)
	}
	red := redact.New(cfg, getenv)
	for k, v := range env {
		if got := red.String("failed: " + v); got != "failed: [redacted]" {
			t.Errorf("%s: %q", k, got)
		}
	}
}
