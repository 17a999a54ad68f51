package run_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/digest"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// digestOptions are options for one product with a week of good probes before the period's
// end and a Slack channel on the fake; collect, build and publish are skipped.
func digestOptions(t *testing.T, demo bool) (run.Options, *fake.Slack) {
	t.Helper()
	cfg := &config.Config{Products: []config.Product{{ID: "shop", Name: "Shop", URL: "http://127.0.0.1:1", HealthEndpoint: "/healthz"}}}
	cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
	cfg.ApplyDefaults()
	st := store.Open(filepath.Join(t.TempDir(), "data"))
	if demo {
		if err := st.SaveMeta(store.Meta{Generator: store.GeneratorDemo, Seed: 1, AsOf: stepsNow}); err != nil {
			t.Fatal(err)
		}
	}
	var snaps []record.Snapshot
	for at := stepsNow.AddDate(0, 0, -8); at.Before(stepsNow.AddDate(0, 0, -1)); at = at.Add(time.Hour) {
		snaps = append(snaps, record.Snapshot{Time: at, Probe: &record.Probe{Code: 200, Ms: 80}})
	}
	if err := st.AppendSnapshots("shop", snaps); err != nil {
		t.Fatal(err)
	}
	sl := fake.NewSlack(t)
	getenv := func(k string) string {
		if k == "SLACK_WEBHOOK_URL" {
			return sl.URL
		}
		return ""
	}
	return run.Options{Config: cfg, Store: st, Out: filepath.Join(t.TempDir(), "public"), Now: stepsNow, Getenv: getenv, Sleep: noSleep,
		Skip: []string{run.StepCollect, run.StepBuild, run.StepPublish}}, sl
}

func TestRunSendsTheDigestOncePerPeriod(t *testing.T) {
	o, sl := digestOptions(t, false)
	var names []string
	for i := range 3 {
		o.Now = stepsNow.Add(time.Duration(i) * 15 * time.Minute)
		rep, err := run.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		row, ok := rep.Row(run.StepDigest)
		if !ok {
			t.Fatalf("no digest row in %+v", rep.Rows)
		}
		want := "period 2026-06-29 (22 Jun – 29 Jun 2026): sent to slack"
		if i > 0 {
			want = "period 2026-06-29 (22 Jun – 29 Jun 2026): already sent to slack"
		}
		if row.Detail != want {
			t.Errorf("run %d: digest row %q, want %q", i, row.Detail, want)
		}
		if i == 0 {
			for _, r := range rep.Rows {
				names = append(names, r.Name)
			}
		}
	}
	if got := len(sl.Messages()); got != 1 {
		t.Errorf("%d Slack messages after 3 runs, want 1", got)
	}
	if strings.Join(names, ",") != "collect,alert,digest,build,publish" {
		t.Errorf("steps %v", names)
	}
	if _, err := os.Stat(filepath.Join(o.Store.Dir(), digest.StateFile)); err != nil {
		t.Error(err)
	}
}

func TestDigestDryRunAndDemoDataSendNothing(t *testing.T) {
	o, sl := digestOptions(t, false)
	o.DryRun = true
	sum, err := run.Digest(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Count(digest.OutcomeDryRun) != 1 || len(sl.Messages()) != 0 {
		t.Errorf("dry run: %+v, %d messages", sum.Outcomes, len(sl.Messages()))
	}

	o, sl = digestOptions(t, true)
	rep, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if row, _ := rep.Row(run.StepDigest); row.State != run.StateSkipped || !strings.Contains(row.Detail, "demo data") {
		t.Errorf("demo data: digest row %+v", row)
	}
	sum, err = run.Digest(context.Background(), o, nil)
	if err != nil || sum.Count(digest.OutcomeDryRun) != 1 || len(sl.Messages()) != 0 {
		t.Errorf("portfolio digest on demo data: %+v, %v, %d messages", sum.Outcomes, err, len(sl.Messages()))
	}
	if _, err := os.Stat(filepath.Join(o.Store.Dir(), digest.StateFile)); !os.IsNotExist(err) {
		t.Errorf("demo data: %s written", digest.StateFile)
	}
}

func TestFailedDigestIsAWarningAndRetried(t *testing.T) {
	o, sl := digestOptions(t, false)
	sl.Inject(fake.InjectedFault{Status: 500, Times: 3})
	rep, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if row, _ := rep.Row(run.StepDigest); row.State != run.StateWarning || !strings.Contains(row.Detail, "failed for slack") {
		t.Errorf("digest row %+v", row)
	}
	o.Now = o.Now.Add(15 * time.Minute)
	if _, err := run.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(sl.Messages()) != 1 {
		t.Errorf("%d messages after the retry, want 1", len(sl.Messages()))
	}
}
