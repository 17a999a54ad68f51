package run_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/run"
	"github.com/portfolio-report/portfolio/generator/store"
)

var stepsNow = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// stepsOptions are options for one product with a failing health endpoint and no credentials.
func stepsOptions(t *testing.T, demo bool) run.Options {
	t.Helper()
	cfg := &config.Config{Products: []config.Product{{ID: "shop", Name: "Shop", URL: "http://127.0.0.1:1", HealthEndpoint: "/healthz"}}}
	cfg.ApplyDefaults()
	st := store.Open(filepath.Join(t.TempDir(), "data"))
	if demo {
		if err := st.SaveMeta(store.Meta{Generator: store.GeneratorDemo, Seed: 1, AsOf: stepsNow}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 3; i > 0; i-- { // three failed probes: the outage alert is due
		s := record.Snapshot{Time: stepsNow.Add(-time.Duration(i) * 15 * time.Minute), Probe: &record.Probe{Code: 503, Err: "want status 200, got 503"}}
		if err := st.AppendSnapshot("shop", s); err != nil {
			t.Fatal(err)
		}
	}
	return run.Options{Config: cfg, Store: st, Out: filepath.Join(t.TempDir(), "public"), Now: stepsNow,
		Getenv: func(string) string { return "" }, Sleep: noSleep}
}

func TestBadOptionsAreUsageErrors(t *testing.T) {
	o := stepsOptions(t, false)
	o.Skip = []string{"deploy"}
	_, err := run.Run(context.Background(), o)
	var ue *run.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown step "deploy"`) {
		t.Errorf("Run with --skip deploy: %v, want a *run.UsageError", err)
	}
	o = stepsOptions(t, false)
	o.Sources = []string{"jira"}
	if _, err := run.Collect(context.Background(), o); !errors.As(err, &ue) || !strings.Contains(err.Error(), `unknown source "jira"`) {
		t.Errorf("Collect with source jira: %v, want a *run.UsageError", err)
	}
}

func TestDemoDataIsReadOnly(t *testing.T) {
	o := stepsOptions(t, true)
	before, err := o.Store.Snapshots("shop", time.Time{}, stepsNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := run.Collect(context.Background(), o); err == nil || !strings.Contains(err.Error(), "demo history") {
		t.Errorf("Collect on demo data: %v, want a refusal", err)
	}
	sum, err := run.Alert(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.DryRun || len(sum.Firing) != 1 {
		t.Errorf("Alert on demo data: dry run %v, %d firing; want a dry run that sees the outage", sum.DryRun, len(sum.Firing))
	}
	o.Now = time.Time{} // demo data brings its own clock
	rep, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Demo || !rep.Now.Equal(stepsNow) || rep.Outcome != run.OK {
		t.Errorf("Run on demo data: demo %v, as of %s, outcome %d; want demo, %s, OK", rep.Demo, rep.Now, rep.Outcome, stepsNow)
	}
	for _, step := range []string{run.StepCollect, run.StepAlert} {
		if row, _ := rep.Row(step); row.State != run.StateSkipped {
			t.Errorf("Run on demo data: %s is %s, want skipped", step, row.State)
		}
	}

	after, err := o.Store.Snapshots("shop", time.Time{}, stepsNow.Add(time.Hour))
	if err != nil || len(after) != len(before) {
		t.Errorf("demo data has %d snapshots after, %d before (%v)", len(after), len(before), err)
	}
	if _, err := os.Stat(filepath.Join(o.Store.Dir(), "alerts.json")); !os.IsNotExist(err) {
		t.Errorf("the alert state was written into demo data (stat: %v)", err)
	}
}

func TestPublishWithoutCredentials(t *testing.T) {
	o := stepsOptions(t, false)
	o.Config.Publish.CloudflarePages = &config.CloudflarePages{Project: "portfolio"}
	for name, content := range map[string]string{"index.html": "<h1>Portfolio</h1>", "api/summary.json": "{}"} {
		p := filepath.Join(o.Out, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	res, err := run.Publish(context.Background(), o)
	if err != nil || res.Skipped != "CLOUDFLARE_API_TOKEN not set" || res.Deployment.Stats.Files != 0 {
		t.Errorf("Publish without a token: %+v, %v; want skipped, naming the variable", res, err)
	}

	o.Publish.DryRun = true
	res, err = run.Publish(context.Background(), o)
	if err != nil || res.Skipped == "" || !res.Deployment.DryRun {
		t.Fatalf("a dry run without a token: %+v, %v; want a local plan", res, err)
	}
	var paths []string
	for _, f := range res.Deployment.Plan {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "api/summary.json,index.html" || res.Deployment.Stats.Missing != 2 {
		t.Errorf("the local plan lists %v (%d missing), want every file of the site", paths, res.Deployment.Stats.Missing)
	}
}
