package demo_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/impact"
)

// TestDemoShowsDeploymentImpact: the demo's history has what the deployment impact feature
// shows: a suspect deployment of the last week with a clear regression, fixed by the next
// deployment (an improvement), on the product with the most data; and a release just before the
// open incident, whose deployment_regression alert fires at now.
func TestDemoShowsDeploymentImpact(t *testing.T) {
	cfg := example(t)
	st := generate(t, cfg, demo.Options{Seed: 1, Days: 30, Now: now})
	verdicts := map[string][]impact.Report{}
	for _, p := range cfg.Products {
		snaps, err := st.Snapshots(p.ID, now.Add(-31*24*time.Hour), now.Add(time.Nanosecond))
		if err != nil {
			t.Fatal(err)
		}
		deps, err := st.Deployments(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		days, err := st.Analytics(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		verdicts[p.ID] = impact.Analyze(impact.Input{Product: p, Snapshots: snaps, Deployments: deps, Days: days,
			Settings: impact.SettingsOf(p.Impact), From: now.Add(-30 * 24 * time.Hour), Now: now})
	}

	shop := cfg.Products[0].ID // Cloudflare, Worker and PostHog: the most to show
	var suspect, fix *impact.Report
	reps := verdicts[shop]
	for i := range reps {
		if reps[i].Suspect() && reps[i].Deployment.Time.After(now.Add(-7*24*time.Hour)) && i+1 < len(reps) {
			suspect, fix = &reps[i], &reps[i+1]
		}
	}
	if suspect == nil {
		t.Fatalf("%s: no suspect deployment in the last 7 days", shop)
	}
	regressed := map[string]bool{}
	for _, c := range suspect.Regressions() {
		regressed[c.Metric] = true
	}
	if !regressed[impact.MetricResponseTime] || !regressed[impact.MetricErrorRate] {
		t.Errorf("%s: suspect %s regressed %v; want response time and error rate, visibly", shop, suspect.Deployment.SHA[:7], regressed)
	}
	improved := 0
	for _, c := range fix.Metrics {
		if c.Verdict == impact.Improvement {
			improved++
		}
	}
	if improved < 2 || fix.Suspect() {
		t.Errorf("%s: the deployment after the suspect improved %d metrics (suspect %v); want the fix", shop, improved, fix.Suspect())
	}

	state, err := alert.Load(st)
	if err != nil {
		t.Fatal(err)
	}
	firing := false
	for _, a := range state.Firing() {
		if a.Rule == alert.RuleDeploymentRegression && a.Product == cfg.Products[1].ID && strings.HasSuffix(a.Subject, "/"+impact.MetricResponseTime) {
			firing = len(a.Links) == 2
		}
	}
	if !firing {
		t.Errorf("%s: no firing deployment_regression alert with its run and commit at now", cfg.Products[1].ID)
	}
}
