package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// world is one product with every channel pointed at a local fake (email at a real Mailpit
// when one is installed).
type world struct {
	dir   string
	st    *store.Store
	cfg   *config.Config
	slack *fake.Slack
	pd    *fake.PagerDuty
	gh    *fake.GitHubIssues
	mp    *fake.Mailpit
	env   map[string]string
	logs  bytes.Buffer
}

func mailpitInstalled() bool {
	if os.Getenv("MAILPIT_BIN") != "" {
		return true
	}
	_, err := exec.LookPath("mailpit")
	return err == nil
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{dir: t.TempDir(), slack: fake.NewSlack(t), pd: fake.NewPagerDuty(t), gh: fake.NewGitHubIssues(t)}
	w.st = store.Open(filepath.Join(w.dir, "data"))
	w.env = map[string]string{
		"SLACK_WEBHOOK_URL": w.slack.URL, "PAGERDUTY_ROUTING_KEY": w.pd.RoutingKey, "PAGERDUTY_EVENTS_URL": w.pd.URL,
		"GITHUB_TOKEN": w.gh.Token, "GITHUB_API_URL": w.gh.URL,
	}
	if mailpitInstalled() {
		w.mp = fake.StartMailpit(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
		w.env["SMTP_URL"] = "smtp://alerts:SMTPsecretPW@" + w.mp.SMTP + "?starttls=none"
	}
	cfg := `{"site": {"title": "Acme", "base_url": "https://status.example.com"},
  "products": [{"id": "shop", "name": "Shop", "url": "https://shop.example.com", "health_endpoint": "/healthz"}],
  "notification_channels": {
    "slack": {},
    "email": {"recipients": ["oncall@example.com"], "from": "portfolio@example.com"},
    "pagerduty": {"severities": ["critical"]},
    "github_issues": {"repository": "acme/ops"}
  }}`
	path := filepath.Join(w.dir, "portfolio.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if w.cfg, err = config.Load(path); err != nil {
		t.Fatal(err)
	}
	return w
}

// snap appends one run's snapshot at t: probe up or down.
func (w *world) snap(t *testing.T, at time.Time, up bool) {
	t.Helper()
	s := record.Snapshot{Time: at, Sources: map[string]record.SourceStatus{record.SourceProbe: {State: record.StateOK}},
		Probe: &record.Probe{Code: 200, Ms: 100}}
	if !up {
		s.Probe = &record.Probe{Code: 503, Ms: 50, Err: "want status 200, got 503"}
	}
	if err := w.st.AppendSnapshot("shop", s); err != nil {
		t.Fatal(err)
	}
}

// run evaluates at now like `portfolio alert` does.
func (w *world) run(t *testing.T, now time.Time) alert.Summary {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(&w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	set := run.Channels(w.cfg, run.ChannelOptions{Getenv: func(k string) string { return w.env[k] }, Logger: log,
		Retry: retry.Policy{Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}})
	sum, err := alert.Run(context.Background(), alert.Options{Config: w.cfg, Store: w.st, Now: now,
		Senders: set.Senders(), Disabled: set.Disabled, Redactor: redact.New(w.cfg, func(k string) string { return w.env[k] }), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// counts is how many messages each channel holds.
func (w *world) counts(t *testing.T) map[string]int {
	t.Helper()
	c := map[string]int{"slack": len(w.slack.Messages()), "pagerduty": len(w.pd.Events()), "github_issues": 0}
	for _, is := range w.gh.Issues("acme/ops") {
		c["github_issues"] += 1 + len(is.Comments)
	}
	if w.mp != nil {
		c["email"] = len(w.mp.Messages(t))
	}
	return c
}

func (w *world) wantCounts(t *testing.T, when string, want map[string]int) {
	t.Helper()
	got := w.counts(t)
	wantMail, gotMail := want["email"], got["email"]
	want = maps.Clone(want) // the caller's map is reused for the next run
	delete(want, "email")
	delete(got, "email")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: messages per channel %v, want %v", when, got, want)
	}
	w.email(t, when, func(t *testing.T) {
		if gotMail != wantMail {
			t.Errorf("%s: %d mails, want %d", when, gotMail, wantMail)
		}
	})
}

// email runs the email channel's checks as a subtest. Without Mailpit the world has no email
// channel, and the subtest says so with a skip rather than passing quietly.
func (w *world) email(t *testing.T, name string, check func(t *testing.T)) {
	t.Helper()
	t.Run("email "+name, func(t *testing.T) {
		if w.mp == nil {
			t.Skip("mailpit is not installed (no $MAILPIT_BIN, no mailpit on PATH): the email channel is left out; go install github.com/axllent/mailpit@v1.33.1")
		}
		check(t)
	})
}

// history writes 8 runs up to t0, the last two with the probe down: an outage.
func (w *world) outage(t *testing.T) {
	for i := 7; i >= 0; i-- {
		w.snap(t, t0.Add(-time.Duration(i)*15*time.Minute), i >= 2)
	}
}

func TestTwoRunsOverTheSameBreachNotifyOncePerChannel(t *testing.T) {
	w := newWorld(t)
	w.outage(t)
	sum := w.run(t, t0)
	if len(sum.Firing) != 1 || sum.Firing[0].Rule != alert.RuleProbeDown {
		t.Fatalf("firing %+v, want probe_down", sum.Firing)
	}
	one := map[string]int{"slack": 1, "pagerduty": 1, "github_issues": 1, "email": 1}
	w.wantCounts(t, "run 1", one)

	w.snap(t, t0.Add(15*time.Minute), false)
	sum = w.run(t, t0.Add(15*time.Minute))
	w.wantCounts(t, "run 2", one)
	if n := sum.Count(alert.OutcomeSent); n != 0 {
		t.Errorf("run 2 sent %d notifications, want 0", n)
	}
	// Uptime and burn-rate alerts fire too, but the outage inhibits them.
	for _, a := range sum.Firing {
		if a.Rule != alert.RuleProbeDown && !a.Inhibited {
			t.Errorf("%s fires uninhibited during the outage", a.Rule)
		}
	}

	st, err := alert.Load(w.st)
	if err != nil {
		t.Fatal(err)
	}
	fp := alert.Fingerprint("shop", alert.RuleProbeDown, "")
	a, _ := st.Find(fp)
	if a.IssueURL != "https://github.com/acme/ops/issues/1" || a.Deliveries["github_issues"].IssueNumber != 1 ||
		a.Deliveries["pagerduty"].DedupKey != fp {
		t.Errorf("references not recorded: %+v", a)
	}
	w.email(t, "Message-ID recorded", func(t *testing.T) {
		if a.Deliveries["email"].MessageID == "" {
			t.Error("the firing mail's Message-ID is not recorded")
		}
	})

	// Recovery: two good runs resolve it, on every channel, once; the resolve mail threads.
	w.snap(t, t0.Add(30*time.Minute), true)
	w.run(t, t0.Add(30*time.Minute))
	w.snap(t, t0.Add(45*time.Minute), true)
	w.run(t, t0.Add(45*time.Minute))
	if w.pd.Incident(fp) != "resolved" {
		t.Errorf("PagerDuty incident %q, want resolved", w.pd.Incident(fp))
	}
	if is := w.gh.Issues("acme/ops")[0]; is.State != "closed" {
		t.Errorf("issue #1 is %s, want closed", is.State)
	}
	w.email(t, "resolve threads", func(t *testing.T) {
		var resolvedMail *fake.MailpitMessage
		msgs := w.mp.Messages(t)
		for i := range msgs {
			if strings.Contains(msgs[i].Subject, "probe down — resolved") {
				resolvedMail = &msgs[i]
			}
		}
		if resolvedMail == nil || resolvedMail.Headers["In-Reply-To"][0] != "<"+msgs[0].MessageID+">" {
			t.Errorf("resolve mail missing or not threaded under %s", msgs[0].MessageID)
		}
	})

	// After the outage, the 24-hour uptime stays below the objective for a day: the outage was
	// paged once, so the alerts it inhibited stay quiet until they resolve.
	for i := 4; i <= 24; i++ {
		at := t0.Add(time.Duration(i) * 15 * time.Minute)
		w.snap(t, at, true)
		sum := w.run(t, at)
		for _, o := range sum.Outcomes {
			if o.Notification.Kind != alert.NotifyResolved {
				t.Errorf("run at +%dm after recovery sent %s %s for %s", i*15, o.Notification.Kind, o.Notification.Channel, o.Notification.Alert.Rule)
			}
		}
	}
	w.assertNoSecrets(t)
}

func TestAFailingChannelDoesNotBlockTheOthersAndIsRetried(t *testing.T) {
	w := newWorld(t)
	w.outage(t)
	w.slack.Inject(fake.InjectedFault{Status: 500, Times: 2}) // both attempts of run 1
	sum := w.run(t, t0)
	if got := sum.FailingChannels(); len(got) != 1 || got[0] != "slack" {
		t.Errorf("failing channels %v, want slack", got)
	}
	w.wantCounts(t, "run 1", map[string]int{"slack": 0, "pagerduty": 1, "github_issues": 1, "email": 1})
	st, _ := alert.Load(w.st)
	var slackStatus alert.ChannelStatus
	for _, c := range st.Channels {
		if c.Name == "slack" {
			slackStatus = c
		}
	}
	if slackStatus.Failures != 1 || slackStatus.Undelivered != 1 || !strings.Contains(slackStatus.LastError, "500 rollup_error") {
		t.Errorf("slack status %+v: want 1 failure, 1 undelivered, Slack's error", slackStatus)
	}

	w.snap(t, t0.Add(15*time.Minute), false)
	sum = w.run(t, t0.Add(15*time.Minute))
	w.wantCounts(t, "run 2", map[string]int{"slack": 1, "pagerduty": 1, "github_issues": 1, "email": 1})
	if len(sum.FailingChannels()) != 0 {
		t.Errorf("run 2 failing %v", sum.FailingChannels())
	}
	st, _ = alert.Load(w.st)
	for _, c := range st.Channels {
		if c.Failures != 0 || c.Undelivered != 0 || c.LastError != "" {
			t.Errorf("channel %+v not healthy again", c)
		}
	}
	w.assertNoSecrets(t)
}

func TestACrashBetweenSendAndSaveResendsHarmlessly(t *testing.T) {
	w := newWorld(t)
	w.outage(t)
	w.run(t, t0)
	// The run crashed before the state reached git: the next run starts from nothing.
	if err := os.Remove(filepath.Join(w.st.Dir(), alert.StateFile)); err != nil {
		t.Fatal(err)
	}
	w.snap(t, t0.Add(15*time.Minute), false)
	w.run(t, t0.Add(15*time.Minute))
	fp := alert.Fingerprint("shop", alert.RuleProbeDown, "")
	if n := len(w.gh.Issues("acme/ops")); n != 1 {
		t.Errorf("%d issues, want 1 (the resend comments on the open one)", n)
	}
	if w.pd.Incident(fp) != "triggered" || len(w.pd.Events()) != 2 {
		t.Errorf("PagerDuty: %d events for %s, incident %q: want the resend merged into one incident", len(w.pd.Events()), fp, w.pd.Incident(fp))
	}
	w.email(t, "resend keeps the Message-ID", func(t *testing.T) {
		msgs := w.mp.Messages(t)
		if len(msgs) != 2 || msgs[0].MessageID != msgs[1].MessageID {
			t.Errorf("the resent mail should carry the same Message-ID, so clients drop it as a duplicate: %d mails", len(msgs))
		}
	})
}

func TestDisabledChannelsAreSkippedAndOwed(t *testing.T) {
	w := newWorld(t)
	delete(w.env, "SLACK_WEBHOOK_URL")
	w.outage(t)
	sum := w.run(t, t0)
	if sum.Count(alert.OutcomeSkipped) != 1 || len(w.slack.Messages()) != 0 {
		t.Errorf("skipped %d, slack messages %d", sum.Count(alert.OutcomeSkipped), len(w.slack.Messages()))
	}
	for _, c := range sum.Channels {
		if c.Name == "slack" && (c.Enabled || c.Reason != "SLACK_WEBHOOK_URL is not set") {
			t.Errorf("slack channel %+v", c)
		}
	}
	// Once the webhook is set, the owed notification goes out.
	w.env["SLACK_WEBHOOK_URL"] = w.slack.URL
	w.run(t, t0.Add(15*time.Minute))
	if len(w.slack.Messages()) != 1 {
		t.Errorf("slack messages %d, want the owed one", len(w.slack.Messages()))
	}
}

func TestDryRunSendsAndSavesNothing(t *testing.T) {
	w := newWorld(t)
	w.outage(t)
	set := run.Channels(w.cfg, run.ChannelOptions{Getenv: func(k string) string { return w.env[k] }})
	sum, err := alert.Run(context.Background(), alert.Options{Config: w.cfg, Store: w.st, Now: t0, Senders: set.Senders(), DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := sum.Count(alert.OutcomeDryRun); n < 3 {
		t.Errorf("dry run lists %d notifications", n)
	}
	w.wantCounts(t, "dry run", map[string]int{"slack": 0, "pagerduty": 0, "github_issues": 0, "email": 0})
	if _, err := os.Stat(filepath.Join(w.st.Dir(), alert.StateFile)); !os.IsNotExist(err) {
		t.Errorf("dry run wrote the state: %v", err)
	}
}

func TestStateFileIsDeterministic(t *testing.T) {
	w := newWorld(t)
	w.outage(t)
	w.run(t, t0)
	first, err := os.ReadFile(filepath.Join(w.st.Dir(), alert.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := alert.Load(w.st)
	if err != nil {
		t.Fatal(err)
	}
	if err := alert.Save(w.st, st); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(w.st.Dir(), alert.StateFile))
	if !bytes.Equal(first, again) {
		t.Error("load + save changes the file")
	}
	var env struct {
		SchemaVersion int    `json:"schema_version"`
		Kind          string `json:"kind"`
	}
	if err := json.Unmarshal(bytes.SplitN(first, []byte("\n"), 2)[0], &env); err != nil {
		// the envelope may span lines; decode the whole file then
		if err := json.Unmarshal(first, &env); err != nil {
			t.Fatal(err)
		}
	}
	if env.Kind != "alerts" || env.SchemaVersion != 1 {
		t.Errorf("envelope %+v", env)
	}
}

// assertNoSecrets checks the logs and the state file for every secret of the environment.
func (w *world) assertNoSecrets(t *testing.T) {
	t.Helper()
	state, err := os.ReadFile(filepath.Join(w.st.Dir(), alert.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{w.slack.Secret, w.pd.RoutingKey, w.gh.Token, "SMTPsecretPW"} {
		if bytes.Contains(w.logs.Bytes(), []byte(secret)) {
			t.Errorf("the logs hold the secret %q", secret)
		}
		if bytes.Contains(state, []byte(secret)) {
			t.Errorf("alerts.json holds the secret %q", secret)
		}
	}
}
