package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// slowAfter is a history of 4 hours to t0 with 20,000 requests a run, p95 120 ms and no 5xx,
// whose p95 is p95 from the run after `from` on (until `until` when set).
func slowAfter(from, until time.Time, p95 float64) []record.Snapshot {
	return history(17, 15*time.Minute, func(i int, s *record.Snapshot) {
		s.HTTP = &record.HTTPStats{Requests: 20000, P95Ms: 120}
		if !s.Time.Before(from.Add(15*time.Minute)) && (until.IsZero() || !s.Time.After(until)) {
			s.HTTP.P95Ms = p95
		}
	})
}

func deployAt(id string, at time.Time) record.Deployment {
	return record.Deployment{ID: id, SHA: "abcdef0123456789" + id[len(id)-1:], Time: at, Outcome: record.OutcomeSuccess,
		URL: "https://github.com/acme/api/actions/runs/" + id[len("run:"):]}
}

func TestDeploymentRegressionRule(t *testing.T) {
	api := product("api")
	api.Repository = "acme/api"
	dep := t0.Add(-2 * time.Hour)
	subject := "run:1/response_time"
	for _, tc := range []struct {
		name       string
		product    func(*config.Product)
		snaps      []record.Snapshot
		deps       []record.Deployment
		wantFound  bool
		wantBreach bool
		wantSev    string
		wantValue  float64
		wantThresh float64
		summary    []string // parts of the summary
	}{
		{name: "p95 doubled after the deployment and stays up: breached",
			snaps: slowAfter(dep, time.Time{}, 300), deps: []record.Deployment{deployAt("run:1", dep)},
			wantFound: true, wantBreach: true, wantSev: Warning, wantValue: 300, wantThresh: 120,
			summary: []string{"response time (p95) went from 120 ms to 300 ms after deployment abcdef0 (run:1, 2026-06-30 10:00 UTC): ×2.5, +180 ms",
				"now 300 ms, before-window range 120 ms"}},
		{name: "the regression is over: back within the before-window's range, reported but not breached",
			snaps: slowAfter(dep, t0.Add(-30*time.Minute), 300), deps: []record.Deployment{deployAt("run:1", dep)},
			wantFound: true, wantSev: Warning, wantValue: 120, wantThresh: 120},
		{name: "a later deployment supersedes it",
			snaps: slowAfter(dep, time.Time{}, 300), deps: []record.Deployment{deployAt("run:1", dep), deployAt("run:2", t0.Add(-10*time.Minute))}},
		{name: "the severity is configurable",
			product: func(p *config.Product) { p.Impact.AlertSeverity = Critical },
			snaps:   slowAfter(dep, time.Time{}, 300), deps: []record.Deployment{deployAt("run:1", dep)},
			wantFound: true, wantBreach: true, wantSev: Critical, wantValue: 300, wantThresh: 120},
		{name: "and the rule can be turned off",
			product: func(p *config.Product) { p.Impact.AlertSeverity = config.ImpactAlertOff },
			snaps:   slowAfter(dep, time.Time{}, 300), deps: []record.Deployment{deployAt("run:1", dep)}},
		{name: "a deployment older than the lookback is no longer followed",
			snaps: slowAfter(dep, time.Time{}, 300), deps: []record.Deployment{deployAt("run:1", t0.Add(-ImpactLookback-time.Minute))}},
		{name: "noise is no regression",
			snaps: slowAfter(dep, time.Time{}, 135), deps: []record.Deployment{deployAt("run:1", dep)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := api
			if tc.product != nil {
				tc.product(&p)
			}
			o, found := find(Rules(ProductInput{Product: p, Snapshots: tc.snaps, Deployments: tc.deps}, t0), RuleDeploymentRegression, subject)
			if found != tc.wantFound {
				t.Fatalf("reported %v, want %v (%s)", found, tc.wantFound, o.Summary)
			}
			if !found {
				return
			}
			if o.Breach != tc.wantBreach || o.Severity != tc.wantSev || o.Value != tc.wantValue || o.Threshold != tc.wantThresh || o.Unit != "ms" {
				t.Errorf("breach %v severity %s value %v threshold %v %s, want %v %s %v %v ms", o.Breach, o.Severity, o.Value, o.Threshold, o.Unit,
					tc.wantBreach, tc.wantSev, tc.wantValue, tc.wantThresh)
			}
			for _, part := range tc.summary {
				if !strings.Contains(o.Summary, part) {
					t.Errorf("summary %q\nwant it to say %q", o.Summary, part)
				}
			}
			want := []Link{{"run", "https://github.com/acme/api/actions/runs/1"}, {"commit", "https://github.com/acme/api/commit/abcdef01234567891"}}
			if len(o.Links) != 2 || o.Links[0] != want[0] || o.Links[1] != want[1] {
				t.Errorf("links %v, want %v", o.Links, want)
			}
		})
	}
}

// TestDeploymentRegressionLifecycle: the alert fires on the regression, resolves when the
// metric is back within its before-window range, and resolves when a later deployment
// supersedes the one it names, saying so.
func TestDeploymentRegressionLifecycle(t *testing.T) {
	api := product("api")
	api.Repository = "acme/api"
	dep := t0.Add(-2 * time.Hour)
	fp := Fingerprint("api", RuleDeploymentRegression, "run:1/response_time")
	routes := []Route{{Channel: ChannelSlack, RepeatInterval: 4 * time.Hour, SendResolved: true}}
	eval := func(st State, now time.Time, deps []record.Deployment, recovered time.Time) (State, []Notification) {
		snaps := history(40, 15*time.Minute, func(i int, s *record.Snapshot) {
			s.Time = now.Add(-time.Duration(i) * 15 * time.Minute)
			s.HTTP = &record.HTTPStats{Requests: 20000, P95Ms: 120}
			if s.Time.After(dep.Add(15*time.Minute)) && (recovered.IsZero() || s.Time.Before(recovered)) {
				s.HTTP.P95Ms = 320
			}
		})
		next, notes := Evaluate(st, Input{Products: []ProductInput{{Product: api, Snapshots: snaps, Deployments: deps}}, Routes: routes}, now)
		for _, n := range notes {
			Record(&next, n, Receipt{}, nil, now)
		}
		return next, notes
	}
	status := func(st State) string {
		a, _ := st.Find(fp)
		return a.Status
	}
	deps := []record.Deployment{deployAt("run:1", dep)}

	t.Run("back within range", func(t *testing.T) {
		var st State
		now := t0
		st, _ = eval(st, now, deps, time.Time{})
		if got := status(st); got != Pending {
			t.Fatalf("first breach: %q, want pending", got)
		}
		now = now.Add(15 * time.Minute)
		st, notes := eval(st, now, deps, time.Time{})
		if got := status(st); got != Firing || len(notes) != 1 || notes[0].Kind != NotifyFiring {
			t.Fatalf("second breach: %q with %d notes, want firing and told", got, len(notes))
		}
		if a, _ := st.Find(fp); len(a.Links) != 2 {
			t.Errorf("the firing alert carries links %v, want run and commit", a.Links)
		}
		recovered := now.Add(time.Minute)
		for range 2 {
			now = now.Add(15 * time.Minute)
			st, notes = eval(st, now, deps, recovered)
		}
		if got := status(st); got != Resolved || len(notes) != 1 || notes[0].Kind != NotifyResolved {
			t.Fatalf("two runs back within range: %q with %v, want resolved and told", got, notes)
		}
		// The metric drifts out of range again (a daily cycle): the deployment's regression was
		// told and is over; it does not page again.
		for range 3 {
			now = now.Add(15 * time.Minute)
			st, notes = eval(st, now, deps, time.Time{})
			if got := status(st); got != Resolved || len(notes) != 0 {
				t.Fatalf("out of range again: %q with %d notifications, want it to stay resolved and quiet", got, len(notes))
			}
		}
	})
	t.Run("superseded", func(t *testing.T) {
		var st State
		now := t0
		st, _ = eval(st, now, deps, time.Time{})
		now = now.Add(15 * time.Minute)
		st, _ = eval(st, now, deps, time.Time{})
		later := append(deps, deployAt("run:2", now.Add(5*time.Minute)))
		for range 2 {
			now = now.Add(15 * time.Minute)
			st, _ = eval(st, now, later, time.Time{})
		}
		for range 3 { // resolved alerts stay listed: their summary stays as it was
			now = now.Add(15 * time.Minute)
			st, _ = eval(st, now, later, time.Time{})
		}
		a, _ := st.Find(fp)
		if a.Status != Resolved || !strings.HasPrefix(a.Summary, "superseded by deployment abcdef0 (run:2)") || strings.Count(a.Summary, "; was: ") != 1 {
			t.Errorf("after a later deployment: %q, %q; want resolved as superseded, said once", a.Status, a.Summary)
		}
	})
}
