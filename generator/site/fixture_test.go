package site_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/site"
	"github.com/portfolio-report/portfolio/generator/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// now is the clock of every test build.
var now = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// xssTitle and xssBody are untrusted text from GitHub that must stay inert everywhere.
const (
	xssTitle = `<script>alert(1)</script>`
	xssBody  = "Raw <script>alert(2)</script> and <img src=x onerror=alert(3)>.\n\n" +
		"[plain](javascript:alert(4)) [cased](JaVaScRiPt:alert(5)) [entity](jav&#x61;script:alert(6)) " +
		"[tab](java&#x09;script:alert(7)) <javascript:alert(8)> [ok](https://example.com/ok)\n\n" +
		"<a href=\"javascript:alert(9)\">raw link</a>\n\n![img](javascript:alert(10))\n"
)

// repoConfig is the repository's portfolio.json.
func repoConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fixture is the repository's config with `days` of demo history ending at now, an incident
// with hostile text, and an alert state with one alert of each severity.
func fixture(t testing.TB, days int) (*config.Config, *store.Store) {
	t.Helper()
	cfg := repoConfig(t)
	st := store.Open(filepath.Join(t.TempDir(), "data"))
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: days, Now: now}); err != nil {
		t.Fatal(err)
	}
	id := cfg.Products[0].ID
	incs, err := st.Incidents(id)
	if err != nil {
		t.Fatal(err)
	}
	incs = append(incs, record.Incident{Number: 9999, Title: xssTitle, Body: xssBody,
		URL: "javascript:alert(11)", CreatedAt: now.Add(-2 * time.Hour)})
	if err := st.SaveIncidents(id, incs); err != nil {
		t.Fatal(err)
	}
	if err := alert.Save(st, sampleAlerts(cfg)); err != nil {
		t.Fatal(err)
	}
	return cfg, st
}

func sampleAlerts(cfg *config.Config) alert.State {
	p0, p1 := cfg.Products[0].ID, cfg.Products[1].ID
	at := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	return alert.State{
		LastRun: now,
		Alerts: []alert.Alert{
			{Fingerprint: "a1", Product: p0, Rule: alert.RuleProbeDown, Severity: alert.Critical, Status: alert.Firing,
				Since: at(1), FiringSince: at(1), Value: 3, Threshold: 2, Unit: "failures",
				Summary: "Health endpoint failed 3 runs in a row " + xssTitle, IssueURL: "https://github.com/acme/ops/issues/7"},
			{Fingerprint: "a2", Product: p1, Rule: alert.RuleLatency, Severity: alert.Warning, Status: alert.Firing,
				Since: at(3), FiringSince: at(3), Value: 812.5, Threshold: 500, Unit: "ms", Summary: "p95 over the last hour above 500 ms",
				Acknowledged: true},
			{Fingerprint: "a3", Product: p1, Rule: alert.RuleDeployment, Subject: "run:1", Severity: alert.Info, Status: alert.Firing,
				Since: at(5), FiringSince: at(5), Summary: "Deployment recorded"},
			{Fingerprint: "a5", Product: p1, Rule: alert.RuleDeploymentRegression, Subject: "run:2/response_time", Severity: alert.Warning,
				Status: alert.Firing, Since: at(2), FiringSince: at(2), Value: 410, Threshold: 220, Unit: "ms", Muted: alert.MutedMaintenance,
				Summary: "response time (p95) went from 199 ms to 411 ms after deployment dd8dc19 (run:2, 2026-06-29 22:00 UTC): ×2.07, +212 ms (rule: ×1.5 and 20 ms); now 410 ms, before-window range 168–220 ms",
				Links:   []alert.Link{{Name: "run", URL: "https://github.com/acme/payments/actions/runs/2"}, {Name: "commit", URL: "javascript:alert(12)"}}},
			{Fingerprint: "a4", Product: p0, Rule: alert.RuleErrorRate, Severity: alert.Warning, Status: alert.Resolved,
				Since: at(30), FiringSince: at(40), ResolvedAt: at(30), Value: 0.2, Threshold: 1, Unit: "%", Summary: "error rate back to normal"},
		},
		Transitions: []alert.Transition{
			{At: at(40), Fingerprint: "a4", Product: p0, Rule: alert.RuleErrorRate, Severity: alert.Warning, From: "", To: alert.Firing, Value: 2.5, Threshold: 1, Unit: "%", Summary: "error rate above 1 %"},
			{At: at(30), Fingerprint: "a4", Product: p0, Rule: alert.RuleErrorRate, Severity: alert.Warning, From: alert.Firing, To: alert.Resolved, Value: 0.2, Threshold: 1, Unit: "%", Summary: "error rate back to normal"},
			{At: at(5), Fingerprint: "a3", Product: p1, Rule: alert.RuleDeployment, Subject: "run:1", Severity: alert.Info, From: "", To: alert.Firing, Summary: "Deployment recorded"},
			{At: at(3), Fingerprint: "a2", Product: p1, Rule: alert.RuleLatency, Severity: alert.Warning, From: "", To: alert.Firing, Value: 812.5, Threshold: 500, Unit: "ms", Summary: "p95 above 500 ms"},
			{At: at(1), Fingerprint: "a1", Product: p0, Rule: alert.RuleProbeDown, Severity: alert.Critical, From: "", To: alert.Firing, Value: 3, Threshold: 2, Unit: "failures", Summary: xssTitle},
		},
		Channels: []alert.ChannelStatus{
			{Name: alert.ChannelSlack, Enabled: true, LastSuccess: at(1)},
			{Name: alert.ChannelPagerDuty, Enabled: true, LastFailure: at(1), LastError: "pagerduty: 503 Service Unavailable", Failures: 2, Undelivered: 1},
		},
	}
}

// build renders the fixture into a fresh folder and returns it.
func build(t testing.TB, cfg *config.Config, st *store.Store) (string, site.Result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "public")
	res, err := site.Build(context.Background(), site.Options{Config: cfg, Store: st, Out: out, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return out, res
}

// siteFiles reads every file of a built site: path → content.
func siteFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
