package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func notification(kind string) alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleProbeDown, ""), Product: "storefront",
		Rule: alert.RuleProbeDown, Severity: alert.Critical, Status: alert.Firing, Since: t0, FiringSince: t0,
		Value: 3, Threshold: 2, Unit: "runs", Summary: "health probe failed 3 run(s) in a row: 503 <b>down</b> & @here",
		IssueURL: "https://github.com/acme/ops/issues/7"}
	n := alert.Notification{Channel: alert.ChannelSlack, Kind: kind, Alert: a, ProductName: "Storefront",
		ProductURL: "https://status.example.com/products/storefront/", At: t0.Add(2*time.Hour + 5*time.Minute)}
	if kind == alert.NotifyResolved {
		n.Alert.Status, n.Alert.ResolvedAt, n.Alert.Value = alert.Resolved, t0.Add(2*time.Hour), 0
	}
	return n
}

// message is the part of a posted message a person sees.
type message struct {
	Text        string `json:"text"`
	Attachments []struct {
		Color    string `json:"color"`
		Fallback string `json:"fallback"`
		Blocks   []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields []struct {
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	} `json:"attachments"`
}

func post(t *testing.T, s *fake.Slack, n alert.Notification) message {
	t.Helper()
	sl := slack.New(slack.Config{WebhookURL: s.URL}, nil, nil)
	if _, err := sl.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	msgs := s.Messages()
	var m message
	if err := json.Unmarshal(msgs[len(msgs)-1], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMessageShowsTheAlert(t *testing.T) {
	tests := []struct {
		kind       string
		wantColour string
		wantHeader string
		wantFields []string
	}{
		{alert.NotifyFiring, slack.ColourCritical, "🔴 FIRING [critical] Storefront: probe down",
			[]string{"*Value*\n3 runs", "*Threshold*\n2 runs", "*Firing since*\n2026-06-30 12:00 UTC (2h5m ago)", "*Rule*\nprobe down"}},
		{alert.NotifyRepeat, slack.ColourCritical, "🔴 STILL FIRING [critical] Storefront: probe down", nil},
		{alert.NotifyResolved, slack.ColourResolved, "✅ RESOLVED [critical] Storefront: probe down",
			[]string{"*Value*\n0 runs", "*Threshold*\n2 runs", "*Resolved*\n2026-06-30 14:00 UTC (5m ago)", "*Rule*\nprobe down"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s := fake.NewSlack(t)
			m := post(t, s, notification(tt.kind))
			if len(m.Attachments) != 1 {
				t.Fatalf("attachments %d, want 1", len(m.Attachments))
			}
			at := m.Attachments[0]
			if at.Color != tt.wantColour {
				t.Errorf("colour %q, want %q", at.Color, tt.wantColour)
			}
			if m.Text != tt.wantHeader || at.Blocks[0].Text.Text != tt.wantHeader {
				t.Errorf("header %q / fallback text %q, want %q", at.Blocks[0].Text.Text, m.Text, tt.wantHeader)
			}
			if got := at.Blocks[1].Text.Text; got != "health probe failed 3 run(s) in a row: 503 &lt;b&gt;down&lt;/b&gt; &amp; @here" {
				t.Errorf("summary not escaped for mrkdwn: %q", got)
			}
			if tt.wantFields != nil {
				var got []string
				for _, f := range at.Blocks[2].Fields {
					got = append(got, f.Text)
				}
				if strings.Join(got, "|") != strings.Join(tt.wantFields, "|") {
					t.Errorf("fields\n got %q\nwant %q", got, tt.wantFields)
				}
			}
			links := at.Blocks[3].Elements[0].Text
			for _, want := range []string{"<https://status.example.com/products/storefront/|Product page>", "<https://github.com/acme/ops/issues/7|GitHub issue>"} {
				if !strings.Contains(links, want) {
					t.Errorf("links %q lack %q", links, want)
				}
			}
		})
	}
}

func TestMessageGolden(t *testing.T) {
	for _, kind := range []string{alert.NotifyFiring, alert.NotifyResolved} {
		got, err := json.MarshalIndent(slack.Message(notification(kind), time.UTC), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", kind+".json")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./generator/notify/slack -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s", path, got)
		}
	}
}

func TestNotifyErrorsKeepSlacksTextAndNotTheURL(t *testing.T) {
	tests := []struct {
		name          string
		fault         fake.InjectedFault
		url           func(s *fake.Slack) string
		wantText      string
		wantRetryable bool
		wantAfter     time.Duration
	}{
		{name: "invalid blocks", fault: fake.InjectedFault{Status: 400, Body: "invalid_blocks"}, wantText: "400 invalid_blocks"},
		{name: "archived channel", fault: fake.InjectedFault{Status: 410, Body: "channel_is_archived"}, wantText: "410 channel_is_archived"},
		{name: "rate limited", fault: fake.InjectedFault{Status: 429, RetryAfter: "7"}, wantText: "429 rate_limited", wantRetryable: true, wantAfter: 7 * time.Second},
		{name: "server error", fault: fake.InjectedFault{Status: 500}, wantText: "500 rollup_error", wantRetryable: true},
		{name: "200 that is not ok", fault: fake.InjectedFault{Status: 200, Body: "no_text"}, wantText: "200 no_text"},
		{name: "wrong webhook", url: func(s *fake.Slack) string { return strings.Replace(s.URL, s.Secret, "WRONGsecretWRONG", 1) }, wantText: "403 invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fake.NewSlack(t)
			if tt.fault.Status != 0 {
				s.Inject(tt.fault)
			}
			u := s.URL
			if tt.url != nil {
				u = tt.url(s)
			}
			_, err := slack.New(slack.Config{WebhookURL: u}, nil, nil).Notify(context.Background(), notification(alert.NotifyFiring))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v, want one with %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), s.Secret) || strings.Contains(err.Error(), "WRONGsecret") {
				t.Errorf("error leaks the webhook: %v", err)
			}
			after, retry := retry.IsRetryable(err)
			if retry != tt.wantRetryable || after != tt.wantAfter {
				t.Errorf("retryable %v after %v, want %v after %v", retry, after, tt.wantRetryable, tt.wantAfter)
			}
		})
	}
}

func TestNotifyTimesOutOnAHungWebhook(t *testing.T) {
	s := fake.NewSlack(t)
	s.Inject(fake.InjectedFault{Hang: true})
	sl := slack.New(slack.Config{WebhookURL: s.URL}, &http.Client{Timeout: 100 * time.Millisecond}, nil)
	_, err := sl.Notify(context.Background(), notification(alert.NotifyFiring))
	if err == nil {
		t.Fatal("want a timeout")
	}
	if strings.Contains(err.Error(), s.Secret) {
		t.Errorf("error leaks the webhook: %v", err)
	}
	if _, ok := retry.IsRetryable(err); !ok {
		t.Errorf("a timeout should be retryable: %v", err)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	s := fake.NewSlack(t)
	s.Inject(fake.InjectedFault{Status: 429, RetryAfter: "2", Times: 1})
	var slept []time.Duration
	n := notify.WithRetry(slack.New(slack.Config{WebhookURL: s.URL}, nil, nil), retry.Notify().WithSleep(func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }))
	if _, err := n.Notify(context.Background(), notification(alert.NotifyFiring)); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 2*time.Second || s.Calls() != 2 || len(s.Messages()) != 1 {
		t.Errorf("slept %v, calls %d, messages %d: want one 2s wait, 2 calls, 1 message", slept, s.Calls(), len(s.Messages()))
	}
}
