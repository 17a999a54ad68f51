package alert

import (
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/record"
)

// history returns n snapshots every step, the last at t0, each healthy (probe ok, 1000
// requests, no 5xx, p95 200 ms) before edit changes it; i counts back from the last (0).
func history(n int, step time.Duration, edit func(i int, s *record.Snapshot)) []record.Snapshot {
	out := make([]record.Snapshot, n)
	for k := range out {
		i := n - 1 - k
		s := record.Snapshot{Time: t0.Add(-time.Duration(i) * step),
			Sources: map[string]record.SourceStatus{record.SourceProbe: {State: record.StateOK}},
			Probe:   &record.Probe{Code: 200, Ms: 120},
			HTTP:    &record.HTTPStats{Requests: 1000, P95Ms: 200}}
		if edit != nil {
			edit(i, &s)
		}
		out[k] = s
	}
	return out
}

func fail(s *record.Snapshot) {
	s.Probe = &record.Probe{Code: 503, Ms: 80, Err: "503 Service Unavailable"}
}

func find(obs []Observation, rule, subject string) (Observation, bool) {
	for _, o := range obs {
		if o.Rule == rule && o.Subject == subject {
			return o, true
		}
	}
	return Observation{}, false
}

func level(l string) *string { return &l }

func TestRuleBoundaries(t *testing.T) {
	p := product("api")
	tests := []struct {
		name       string
		snaps      []record.Snapshot
		deps       []record.Deployment
		dora       *dora.Comparison
		threshold  func(*ProductInput)
		rule       string
		subject    string
		wantFound  bool // false: the rule reports nothing for the subject
		wantBreach bool
		wantNoData bool
		wantValue  float64
	}{
		{name: "probe failed N-1 runs in a row: not yet", rule: RuleProbeDown, wantFound: true, wantValue: 1,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i < 1 {
					fail(s)
				}
			})},
		{name: "probe failed exactly N runs in a row: outage", rule: RuleProbeDown, wantFound: true, wantBreach: true, wantValue: 2,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i < 2 {
					fail(s)
				}
			})},
		{name: "no probe at all: no data", rule: RuleProbeDown, wantFound: true, wantNoData: true,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) { s.Probe = nil })},
		{name: "uptime exactly on the objective is fine", rule: RuleUptime, wantFound: true, wantValue: 95,
			threshold: func(in *ProductInput) { in.Product.AlertingConfig.UptimeThreshold = 95 },
			snaps: history(120, 12*time.Minute, func(i int, s *record.Snapshot) {
				if i%20 == 10 { // 6 of 120 failed, never two in a row
					fail(s)
				}
			})},
		{name: "uptime just below the objective breaches", rule: RuleUptime, wantFound: true, wantBreach: true, wantValue: 94.167,
			threshold: func(in *ProductInput) { in.Product.AlertingConfig.UptimeThreshold = 95 },
			snaps: history(120, 12*time.Minute, func(i int, s *record.Snapshot) {
				if i%20 == 10 || i == 3 {
					fail(s)
				}
			})},
		{name: "error rate exactly on the threshold is fine", rule: RuleErrorRate, wantFound: true, wantValue: 1,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 0 {
					s.HTTP.Status5x = 40 // 40 of the hour's 4000 requests
				}
			})},
		{name: "error rate above the threshold breaches", rule: RuleErrorRate, wantFound: true, wantBreach: true, wantValue: 1.025,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 0 {
					s.HTTP.Status5x = 41
				}
			})},
		{name: "errors older than an hour do not count", rule: RuleErrorRate, wantFound: true, wantValue: 0,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 4 {
					s.HTTP.Status5x = 1000
				}
			})},
		{name: "p95 exactly on the threshold is fine", rule: RuleLatency, wantFound: true, wantValue: 1000,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) { s.HTTP.P95Ms = 1000 })},
		{name: "p95 above the threshold breaches", rule: RuleLatency, wantFound: true, wantBreach: true, wantValue: 1000.5,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) { s.HTTP.P95Ms = 1000.5 })},
		{name: "no traffic: no error rate", rule: RuleErrorRate, wantFound: true, wantNoData: true,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) { s.HTTP = nil })},
		{name: "a source failing 3 runs in a row is not reported", rule: RuleSourceFailing, subject: "github",
			snaps: history(4, 15*time.Minute, func(i int, s *record.Snapshot) {
				s.Sources["github"] = record.SourceStatus{State: record.StateError, Fails: 3 - i}
			})},
		{name: "a source failing 4 runs in a row warns", rule: RuleSourceFailing, subject: "github", wantFound: true, wantBreach: true, wantValue: 4,
			snaps: history(4, 15*time.Minute, func(i int, s *record.Snapshot) {
				s.Sources["github"] = record.SourceStatus{State: record.StateRateLimited, Fails: 4 - i}
			})},
		{name: "fast burn: a blip that is over does not page", rule: RuleFastBurn, wantFound: true, wantValue: 50,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 1 {
					fail(s)
				}
			})},
		{name: "fast burn: burning in the hour and in the last run", rule: RuleFastBurn, wantFound: true, wantBreach: true, wantValue: 50,
			snaps: history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 0 {
					fail(s)
				}
			})},
		{name: "slow burn: one failure in 6 h is 8.3× but the last half hour is clean", rule: RuleSlowBurn, wantFound: true, wantValue: 8.33,
			snaps: history(30, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 10 {
					fail(s)
				}
			})},
		{name: "slow burn: a steady leak warns", rule: RuleSlowBurn, wantFound: true, wantBreach: true, wantValue: 16.67,
			snaps: history(30, 15*time.Minute, func(i int, s *record.Snapshot) {
				if i == 1 || i == 12 {
					fail(s)
				}
			})},
		{name: "a DORA level that dropped is told", rule: RuleDORADrop, subject: dora.MetricLeadTime, wantFound: true, wantBreach: true, wantValue: 2,
			snaps: history(2, 15*time.Minute, nil),
			dora: &dora.Comparison{Current: dora.Figures{LeadTime: dora.LeadTime{Level: level(dora.Medium)}},
				Previous: dora.Figures{LeadTime: dora.LeadTime{Level: level(dora.High)}}}},
		{name: "a DORA level that rose is not", rule: RuleDORADrop, subject: dora.MetricLeadTime,
			snaps: history(2, 15*time.Minute, nil),
			dora: &dora.Comparison{Current: dora.Figures{LeadTime: dora.LeadTime{Level: level(dora.Elite)}},
				Previous: dora.Figures{LeadTime: dora.LeadTime{Level: level(dora.High)}}}},
		{name: "a deployment inside 24 h is an event", rule: RuleDeployment, subject: "run:1", wantFound: true, wantBreach: true,
			deps: []record.Deployment{{ID: "run:1", SHA: "abcdef0123", Time: t0.Add(-24*time.Hour + time.Second), Outcome: record.OutcomeSuccess}}},
		{name: "a deployment exactly 24 h old is not", rule: RuleDeployment, subject: "run:1",
			deps: []record.Deployment{{ID: "run:1", SHA: "abcdef0123", Time: t0.Add(-24 * time.Hour), Outcome: record.OutcomeSuccess}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ProductInput{Product: p, Snapshots: tt.snaps, Deployments: tt.deps, DORA: tt.dora}
			if tt.threshold != nil {
				tt.threshold(&in)
			}
			o, found := find(Rules(in, t0), tt.rule, tt.subject)
			if found != tt.wantFound {
				t.Fatalf("reported %v, want %v (%+v)", found, tt.wantFound, o)
			}
			if !found {
				return
			}
			if o.Breach != tt.wantBreach || o.NoData != tt.wantNoData {
				t.Errorf("breach %v no data %v, want %v %v: %s", o.Breach, o.NoData, tt.wantBreach, tt.wantNoData, o.Summary)
			}
			if !tt.wantNoData && o.Value != tt.wantValue {
				t.Errorf("value %v, want %v: %s", o.Value, tt.wantValue, o.Summary)
			}
		})
	}
}

func TestRulesSummaryReadsWell(t *testing.T) {
	snaps := history(8, 15*time.Minute, func(i int, s *record.Snapshot) {
		if i < 3 {
			fail(s)
		}
	})
	o, _ := find(Rules(ProductInput{Product: product("api"), Snapshots: snaps}, t0), RuleProbeDown, "")
	want := "health probe failed 3 run(s) in a row (alert at 2): 503 Service Unavailable"
	if o.Summary != want {
		t.Errorf("summary %q, want %q", o.Summary, want)
	}
}

func TestDORALevelDrop(t *testing.T) {
	lv := func(cur, prev string) dora.Comparison {
		return dora.Comparison{
			Current:  dora.Figures{FailedDeploymentRecoveryTime: dora.FailedDeploymentRecoveryTime{Level: level(cur)}, ReworkRate: dora.ReworkRate{Rate: ptrF(0.5)}},
			Previous: dora.Figures{FailedDeploymentRecoveryTime: dora.FailedDeploymentRecoveryTime{Level: level(prev)}, ReworkRate: dora.ReworkRate{Rate: ptrF(0.1)}},
			Trend:    dora.Trend{ReworkRate: dora.Declining},
		}
	}
	tests := []struct {
		name          string
		cur, prev     string
		want          string // summary; "" for no alert
		value, thresh string
	}{
		{"one level", dora.Medium, dora.High, "failed deployment recovery time dropped one level: high → medium (against the previous window)", "medium", "high"},
		{"two levels", dora.Low, dora.High, "failed deployment recovery time dropped two levels: high → low (against the previous window)", "low", "high"},
		{"three levels", dora.Low, dora.Elite, "failed deployment recovery time dropped three levels: elite → low (against the previous window)", "low", "elite"},
		{"a level that rose is not told", dora.High, dora.Medium, "", "", ""},
		{"no data before is not a drop", dora.Low, "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := lv(tc.cur, tc.prev)
			if tc.prev == "" {
				c.Previous.FailedDeploymentRecoveryTime.Level = nil
			}
			obs := Rules(ProductInput{Product: product("api"), Snapshots: history(2, 15*time.Minute, nil), DORA: &c}, t0)
			o, found := find(obs, RuleDORADrop, dora.MetricFailedDeploymentRecoveryTime)
			if found != (tc.want != "") {
				t.Fatalf("found %v, want %v", found, tc.want != "")
			}
			if _, rework := find(obs, RuleDORADrop, dora.MetricReworkRate); rework {
				t.Error("rework rate has no levels, so no level alert, however its rate rose")
			}
			if !found {
				return
			}
			if o.Summary != tc.want {
				t.Errorf("summary %q, want %q", o.Summary, tc.want)
			}
			a := Alert{Value: o.Value, Threshold: o.Threshold, Unit: o.Unit}
			if a.ValueText() != tc.value || a.ThresholdText() != tc.thresh {
				t.Errorf("value %q threshold %q, want %q %q", a.ValueText(), a.ThresholdText(), tc.value, tc.thresh)
			}
		})
	}
}

func ptrF(v float64) *float64 { return &v }

func TestFingerprintIsStable(t *testing.T) {
	// The fingerprint names PagerDuty incidents and GitHub issues already out there: it must never change.
	if got, want := Fingerprint("api", RuleProbeDown, ""), Fingerprint("api", RuleProbeDown, ""); got != want || len(got) != 32 {
		t.Fatalf("fingerprint %q", got)
	}
	if Fingerprint("api", RuleSourceFailing, "github") == Fingerprint("api", RuleSourceFailing, "posthog") {
		t.Error("subjects share a fingerprint")
	}
	if Fingerprint("a", "b_c", "") == Fingerprint("a_b", "c", "") {
		t.Error("label boundaries are ambiguous")
	}
}
