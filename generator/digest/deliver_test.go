package digest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/store"
)

// recorder is a channel that remembers what it was sent, and fails while fail is set.
type recorder struct {
	name string
	mu   sync.Mutex
	sent []string // period ids
	fail error
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Send(_ context.Context, d *digest.Digest) (digest.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return digest.Receipt{}, r.fail
	}
	r.sent = append(r.sent, d.Period.ID)
	return digest.Receipt{MessageID: "digest-" + d.Period.ID + "@test"}, nil
}

func (r *recorder) got() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.sent, ",")
}

// history is the demo history of the repository's config over 40 days to 2026-12-16, in a
// fresh data folder (generated once, copied for each test).
func history(t *testing.T) (*config.Config, *store.Store) {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	historyOnce.Do(func() {
		historyDir, historyErr = os.MkdirTemp("", "digest-history-")
		if historyErr == nil {
			historyErr = demo.Generate(cfg, store.Open(historyDir), demo.Options{Seed: 1, Days: 40, Now: time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC)})
		}
	})
	if historyErr != nil {
		t.Fatal(historyErr)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(historyDir)); err != nil {
		t.Fatal(err)
	}
	return cfg, store.Open(dir)
}

var (
	historyOnce sync.Once
	historyDir  string
	historyErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if historyDir != "" {
		os.RemoveAll(historyDir)
	}
	os.Exit(code)
}

func TestDeliverExactlyOnce(t *testing.T) {
	cfg, st := history(t)
	email, slack := &recorder{name: digest.ChannelEmail}, &recorder{name: digest.ChannelSlack}
	deliver := func(now string) digest.Summary {
		t.Helper()
		at, err := time.Parse(time.RFC3339, now)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := digest.Deliver(context.Background(), digest.Options{Config: cfg, Store: st, Now: at,
			Senders: []digest.Sender{email, slack}})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	statusFile := filepath.Join(st.Dir(), digest.StateFile)

	// Europe/Berlin: Monday 30 Nov 08:00 is 07:00 UTC.
	steps := []struct {
		now, email, slack string
		saved             bool
	}{
		{"2026-11-30T06:45:00Z", "2026-11-23", "2026-11-23", true},                       // the first run ever: last week's, late
		{"2026-11-30T06:59:59Z", "2026-11-23", "2026-11-23", false},                      // repeated: nothing
		{"2026-11-30T07:00:00Z", "2026-11-23,2026-11-30", "2026-11-23,2026-11-30", true}, // due
		{"2026-11-30T07:15:00Z", "2026-11-23,2026-11-30", "2026-11-23,2026-11-30", false},
		{"2026-11-30T07:15:00Z", "2026-11-23,2026-11-30", "2026-11-23,2026-11-30", false}, // the same run again
		// Monday 7 Dec: every run missed until Wednesday: sent late, once.
		{"2026-12-09T13:00:00Z", "2026-11-23,2026-11-30,2026-12-07", "2026-11-23,2026-11-30,2026-12-07", true},
		{"2026-12-09T13:15:00Z", "2026-11-23,2026-11-30,2026-12-07", "2026-11-23,2026-11-30,2026-12-07", false},
		// A whole week missed: only the latest period goes out, the week before is not sent twice.
		{"2026-12-14T07:30:00Z", "2026-11-23,2026-11-30,2026-12-07,2026-12-14", "2026-11-23,2026-11-30,2026-12-07,2026-12-14", true},
	}
	var last []byte
	for _, s := range steps {
		sum := deliver(s.now)
		if email.got() != s.email || slack.got() != s.slack {
			t.Fatalf("at %s: email got %s, slack %s; want %s and %s", s.now, email.got(), slack.got(), s.email, s.slack)
		}
		if sum.Saved != s.saved {
			t.Errorf("at %s: saved %v, want %v", s.now, sum.Saved, s.saved)
		}
		data, err := os.ReadFile(statusFile)
		if err != nil {
			t.Fatal(err)
		}
		if !s.saved && sum.Digest != nil {
			t.Errorf("at %s: nothing was due, yet the digest was computed (a run every 15 minutes pays for it)", s.now)
		}
		if !s.saved && string(data) != string(last) {
			t.Errorf("at %s: %s changed although nothing was sent", s.now, digest.StateFile)
		}
		last = data
	}
	state, err := digest.LoadState(st)
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Deliveries) != 8 {
		t.Errorf("%d deliveries recorded, want 8: %+v", len(state.Deliveries), state.Deliveries)
	}
	if d, ok := state.Sent("2026-12-07", digest.ChannelEmail); !ok || d.MessageID != "digest-2026-12-07@test" || d.Products != 3 {
		t.Errorf("delivery of 2026-12-07 to email: %+v, %v", d, ok)
	}
}

func TestDeliverRetriesAFailedChannelOnly(t *testing.T) {
	cfg, st := history(t)
	email, slack := &recorder{name: digest.ChannelEmail, fail: errors.New("smtp: 421 try later")}, &recorder{name: digest.ChannelSlack}
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	o := digest.Options{Config: cfg, Store: st, Now: now, Senders: []digest.Sender{email, slack}}
	sum, err := digest.Deliver(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(digest.OutcomeFailed) != 1 || sum.Count(digest.OutcomeSent) != 1 {
		t.Fatalf("outcomes %+v", sum.Outcomes)
	}
	email.fail = nil
	o.Now = now.Add(15 * time.Minute)
	if _, err := digest.Deliver(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if email.got() != "2026-11-30" || slack.got() != "2026-11-30" {
		t.Errorf("email got %q, slack %q: want the period once each", email.got(), slack.got())
	}
}

func TestDeliverRoutes(t *testing.T) {
	cfg, st := history(t)
	no := false
	cfg.NotificationChannels.Email.Digest = &config.DigestRoute{Enabled: &no}
	cfg.NotificationChannels.Slack.Digest = &config.DigestRoute{Products: []string{"docs"}}
	email, slack := &recorder{name: digest.ChannelEmail}, &recorder{name: digest.ChannelSlack}
	var got *digest.Digest
	sum, err := digest.Deliver(context.Background(), digest.Options{Config: cfg, Store: st, Now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC),
		Senders: []digest.Sender{email, slack}})
	if err != nil {
		t.Fatal(err)
	}
	if email.got() != "" {
		t.Errorf("the email channel opted out, got %s", email.got())
	}
	for _, o := range sum.Outcomes {
		if o.Channel == digest.ChannelSlack {
			got = o.Digest
		}
	}
	if got == nil || len(got.Products) != 1 || got.Products[0].ID != "docs" || len(got.DORA.Products) != 1 {
		t.Fatalf("slack's digest should cover docs alone: %+v", got)
	}
	for _, i := range got.Incidents.List {
		if i.Product != "docs" {
			t.Errorf("incident of %s in docs' digest", i.Product)
		}
	}

	// Off for everyone.
	cfg.Digest.Enabled = &no
	sum, err = digest.Deliver(context.Background(), digest.Options{Config: cfg, Store: st, Now: time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC),
		Senders: []digest.Sender{email, slack}})
	if err != nil || sum.Off == "" || len(sum.Outcomes) != 0 {
		t.Errorf("digest.enabled false: %+v, %v", sum, err)
	}
}

func TestDeliverOwesDisabledChannelsAndSkipsEmptyPeriods(t *testing.T) {
	cfg, st := history(t)
	slack := &recorder{name: digest.ChannelSlack}
	o := digest.Options{Config: cfg, Store: st, Now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), Senders: []digest.Sender{slack},
		Disabled: map[string]string{digest.ChannelEmail: "SMTP_URL is not set"}}
	sum, err := digest.Deliver(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(digest.OutcomeSkipped) != 1 || !strings.Contains(digest.Line(sum), "owed to disabled email") {
		t.Errorf("line %q", digest.Line(sum))
	}
	if _, ok := mustState(t, st).Sent("2026-11-30", digest.ChannelEmail); ok {
		t.Error("a disabled channel's digest was recorded as sent")
	}

	// Before the first snapshot there is nothing to say.
	o.Now = time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC)
	o.Senders = []digest.Sender{slack}
	sum, err = digest.Deliver(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(digest.OutcomeNoData) != 2 || slack.got() != "2026-11-30" {
		t.Errorf("an empty period: outcomes %+v, slack got %s", sum.Outcomes, slack.got())
	}
}

func TestDryRunSendsAndSavesNothing(t *testing.T) {
	cfg, st := history(t)
	slack := &recorder{name: digest.ChannelSlack}
	sum, err := digest.Deliver(context.Background(), digest.Options{Config: cfg, Store: st, Now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC),
		Senders: []digest.Sender{slack}, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if slack.got() != "" || sum.Saved || sum.Count(digest.OutcomeDryRun) != 2 {
		t.Errorf("dry run: sent %q, saved %v, outcomes %+v", slack.got(), sum.Saved, sum.Outcomes)
	}
	if _, err := os.Stat(filepath.Join(st.Dir(), digest.StateFile)); !os.IsNotExist(err) {
		t.Errorf("dry run wrote %s: %v", digest.StateFile, err)
	}
}

func TestStateIsValidatedOnRead(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"a period that is not a date", `{"schema_version":1,"kind":"digests","data":{"deliveries":[{"period":"last week","channel":"email","at":"2026-11-30T07:00:00Z","products":3}]}}`, "deliveries[0].period"},
		{"an unknown channel", `{"schema_version":1,"kind":"digests","data":{"deliveries":[{"period":"2026-11-30","channel":"fax","at":"2026-11-30T07:00:00Z","products":3}]}}`, "deliveries[0].channel"},
		{"no time", `{"schema_version":1,"kind":"digests","data":{"deliveries":[{"period":"2026-11-30","channel":"email","products":3}]}}`, "deliveries[0].at"},
		{"a newer schema", `{"schema_version":2,"kind":"digests","data":{"deliveries":[]}}`, "newer"},
		{"cut short", `{"schema_version":1,"kind":"digests","data":{"deliveries":[`, "digests.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.Open(t.TempDir())
			if err := os.WriteFile(filepath.Join(st.Dir(), digest.StateFile), []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := digest.LoadState(st)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to name %q", err, tt.want)
			}
			if tt.name == "a newer schema" {
				if err := digest.SaveState(st, digest.State{}, time.Now()); err == nil {
					t.Error("a newer file was overwritten")
				}
			}
		})
	}
}

func mustState(t *testing.T, st *store.Store) digest.State {
	t.Helper()
	s, err := digest.LoadState(st)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
