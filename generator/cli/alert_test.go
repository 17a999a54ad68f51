package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// alertWorld is a product in an outage and a Slack fake; the other channels have no secrets.
type alertWorld struct {
	config, data string
	slack        *fake.Slack
	env          map[string]string
}

const alertNow = "2026-06-30T12:00:00Z"

func newAlertWorld(t *testing.T) *alertWorld {
	t.Helper()
	dir := t.TempDir()
	w := &alertWorld{config: filepath.Join(dir, "portfolio.json"), data: filepath.Join(dir, "data"), slack: fake.NewSlack(t)}
	cfg := `{"site": {"base_url": "https://status.example.com"},
  "products": [{"id": "shop", "name": "Shop", "url": "https://shop.example.com", "health_endpoint": "/healthz"}],
  "notification_channels": {"slack": {}, "pagerduty": {"severities": ["critical"]},
    "email": {"recipients": ["oncall@example.com"], "from": "portfolio@example.com"}}}`
	if err := os.WriteFile(w.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse(time.RFC3339, alertNow)
	st := store.Open(w.data)
	for i := 7; i >= 0; i-- {
		s := record.Snapshot{Time: now.Add(-time.Duration(i) * 15 * time.Minute), Probe: &record.Probe{Code: 200, Ms: 90}}
		if i < 2 {
			s.Probe = &record.Probe{Code: 503, Ms: 40, Err: "want status 200, got 503"}
		}
		if err := st.AppendSnapshot("shop", s); err != nil {
			t.Fatal(err)
		}
	}
	w.env = map[string]string{"SLACK_WEBHOOK_URL": w.slack.URL}
	return w
}

func (w *alertWorld) run(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	args = append([]string{"alert", "--config", w.config, "--data", w.data, "--now", alertNow}, args...)
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return w.env[k] }, Sleep: noSleep}).Main(args)
	return code, stdout.String(), stderr.String()
}

func TestAlertCommand(t *testing.T) {
	t.Run("dry run prints what would go out and saves nothing", func(t *testing.T) {
		w := newAlertWorld(t)
		code, out, errOut := w.run("--dry-run")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{
			"alert: 1 firing (1 critical), 3 pending; 3 notification(s) due, none sent (dry run)",
			"  firing    critical shop: probe down since 2026-06-30 11:45Z",
			"  would send email         firing   [critical] shop: probe down",
			"  would send pagerduty     firing   [critical] shop: probe down",
			"  would send slack         firing   [critical] shop: probe down",
			"  channel email is off: SMTP_URL is not set",
			"  channel pagerduty is off: PAGERDUTY_ROUTING_KEY is not set",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if len(w.slack.Messages()) != 0 {
			t.Error("a dry run posted to Slack")
		}
		if _, err := os.Stat(filepath.Join(w.data, "alerts.json")); !os.IsNotExist(err) {
			t.Errorf("a dry run wrote alerts.json: %v", err)
		}
	})
	t.Run("sends to the channels that are set up, says which are not, and saves the state", func(t *testing.T) {
		w := newAlertWorld(t)
		code, out, errOut := w.run()
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{
			"alert: 1 firing (1 critical), 3 pending; 1 sent, 0 failed, 2 owed to disabled channels",
			"  sent       slack         firing   [critical] shop: probe down",
			"  skipped    pagerduty     firing   [critical] shop: probe down — PAGERDUTY_ROUTING_KEY is not set",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if len(w.slack.Messages()) != 1 {
			t.Errorf("%d Slack messages, want 1", len(w.slack.Messages()))
		}
		data, err := os.ReadFile(filepath.Join(w.data, "alerts.json"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(w.slack.Secret)) || strings.Contains(errOut, w.slack.Secret) || strings.Contains(out, w.slack.Secret) {
			t.Error("the webhook secret leaked into alerts.json or the output")
		}
		// The same breach on the next run sends nothing more.
		if code, out, _ := w.run(); code != ExitOK || !strings.Contains(out, "0 sent, 0 failed") {
			t.Errorf("second run: exit %d\n%s", code, out)
		}
	})
	t.Run("a failed send exits 1 after saving, with Slack's reason", func(t *testing.T) {
		w := newAlertWorld(t)
		w.slack.Inject(fake.InjectedFault{Status: 400, Body: "invalid_blocks"})
		code, out, errOut := w.run()
		if code != ExitFailure {
			t.Fatalf("exit %d, want 1", code)
		}
		if !strings.Contains(out, "FAILED     slack         firing   [critical] shop: probe down — slack: webhook: 400 invalid_blocks") {
			t.Errorf("output:\n%s", out)
		}
		if !strings.Contains(errOut, "sending failed on slack (retried next run)") {
			t.Errorf("stderr: %s", errOut)
		}
		if strings.Contains(out+errOut, w.slack.Secret) {
			t.Error("the webhook secret leaked")
		}
		if _, err := os.Stat(filepath.Join(w.data, "alerts.json")); err != nil {
			t.Errorf("the state was not saved: %v", err)
		}
	})
}
