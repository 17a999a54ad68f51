package status

import (
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func up(ago time.Duration) *Check   { return &Check{Time: now.Add(-ago), Up: true} }
func down(ago time.Duration) *Check { return &Check{Time: now.Add(-ago), Up: false} }

func TestOf(t *testing.T) {
	probeUp := Checks{Probe: up(0)}
	tests := []struct {
		name string
		in   Input
		want string
		// reason is a part of the first (weightiest) reason.
		reason string
	}{
		{"all well", Input{Checks: probeUp}, Operational, ""},
		{"health check only, healthy", Input{Checks: Checks{Health: up(5 * time.Minute)}}, Operational, ""},
		{"no check ever", Input{}, Unknown, "no check yet"},
		{"checks stale", Input{Checks: Checks{Probe: up(StaleAfter + time.Minute)}}, Unknown, "no check since 30 Jun 10:59 UTC"},
		{"check just within staleness", Input{Checks: Checks{Probe: up(StaleAfter)}}, Operational, ""},
		{"stale but an incident is open", Input{Checks: Checks{Probe: up(3 * time.Hour)}, OpenIncidents: []string{"#7 Checkout fails"}}, Degraded, "open incident #7 Checkout fails"},

		{"open incident", Input{Checks: probeUp, OpenIncidents: []string{"#1 Slow"}}, Degraded, "open incident #1 Slow"},
		{"firing critical alert", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleFastBurn, Severity: alert.Critical, Summary: "burning"}}}, PartialOutage, "critical alert (burn_rate_fast): burning"},
		{"critical rule unknown to this version", Input{Checks: probeUp, Alerts: []Alert{{Rule: "new_rule", Severity: alert.Critical}}}, PartialOutage, "new_rule"},
		{"critical alert recovering", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleProbeDown, Severity: alert.Critical, Recovering: true}}}, Degraded, "recovering"},
		{"uptime over 24 h looks back", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleUptime, Severity: alert.Critical}}}, Degraded, "uptime_24h"},
		{"warning alert", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleLatency, Severity: alert.Warning}}}, Degraded, "p95_latency"},
		{"failing data source is not the product", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleSourceFailing, Subject: "posthog", Severity: alert.Warning}}}, Operational, ""},
		{"DORA and deployment notices", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleDORADrop, Severity: alert.Info}, {Rule: alert.RuleDeployment, Severity: alert.Info}}}, Operational, ""},
		{"a deployment's regression is a change, not a level", Input{Checks: probeUp, Alerts: []Alert{{Rule: alert.RuleDeploymentRegression, Subject: "run:1/response_time", Severity: alert.Critical}}}, Operational, ""},
		{"info alert of another rule", Input{Checks: probeUp, Alerts: []Alert{{Rule: "x", Severity: alert.Info}}}, Operational, ""},
		{"threshold breached now", Input{Checks: probeUp, Breaches: []string{"p95 over the last hour is 1,200 ms, threshold 1,000 ms"}}, Degraded, "p95 over the last hour"},

		{"probe failed once", Input{Checks: Checks{Probe: down(0), ProbeFailures: 1, ProbeSince: now}, FailureThreshold: 2}, Degraded, "1 of 2 in a row"},
		{"probe failed twice", Input{Checks: Checks{Probe: down(0), ProbeFailures: 2, ProbeSince: now.Add(-15 * time.Minute)}, FailureThreshold: 2}, MajorOutage, "failed 2 runs in a row, since 30 Jun 11:45 UTC"},
		{"threshold 0 counts as 1", Input{Checks: Checks{Probe: down(0), ProbeFailures: 1, ProbeSince: now}}, MajorOutage, "failed 1 runs"},
		{"probe and health check both fail", Input{Checks: Checks{Probe: down(0), Health: down(0), ProbeFailures: 1}, FailureThreshold: 2}, MajorOutage, "both fail"},
		{"health check unhealthy, probe fine", Input{Checks: Checks{Probe: up(0), Health: down(0)}}, PartialOutage, "health check is unhealthy while"},
		{"probe fails, health check healthy", Input{Checks: Checks{Probe: down(0), Health: up(0), ProbeFailures: 5}, FailureThreshold: 2}, PartialOutage, "probe fails while"},
		{"health check only, unhealthy", Input{Checks: Checks{Health: down(0)}}, MajorOutage, "health check is unhealthy"},
		{"stale failed probe says nothing", Input{Checks: Checks{Probe: down(2 * time.Hour), ProbeFailures: 9}, FailureThreshold: 2}, Unknown, "no check since"},
		{"fresh health check, stale probe", Input{Checks: Checks{Probe: down(2 * time.Hour), Health: up(0), ProbeFailures: 9}, FailureThreshold: 2}, Operational, ""},
		{"outage beats an incident", Input{Checks: Checks{Probe: down(0), ProbeFailures: 3}, FailureThreshold: 2, OpenIncidents: []string{"#3 Down"}}, MajorOutage, "failed 3 runs"},

		{"maintenance hides a failing probe", Input{Checks: Checks{Probe: down(0), ProbeFailures: 4}, FailureThreshold: 2,
			Alerts:      []Alert{{Rule: alert.RuleProbeDown, Severity: alert.Critical}},
			Maintenance: []Window{{Start: now.Add(-time.Hour), End: now.Add(time.Hour), Summary: "database upgrade"}}}, Maintenance, "maintenance until 30 Jun 13:00 UTC: database upgrade"},
		{"maintenance does not hide an incident", Input{Checks: probeUp, OpenIncidents: []string{"#4 Broken"},
			Maintenance: []Window{{Start: now.Add(-time.Hour), End: now.Add(time.Hour)}}}, Degraded, "#4 Broken"},
		{"maintenance window ended", Input{Checks: probeUp, Maintenance: []Window{{Start: now.Add(-2 * time.Hour), End: now}}}, Operational, ""},
		{"maintenance window ahead", Input{Checks: probeUp, Maintenance: []Window{{Start: now.Add(time.Minute), End: now.Add(time.Hour)}}}, Operational, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Now = now
			got := Of(tt.in)
			if got.Status != tt.want {
				t.Errorf("status = %s, want %s (reasons %q)", got.Status, tt.want, got.Reasons)
			}
			switch {
			case tt.reason == "" && len(got.Reasons) > 0:
				t.Errorf("reasons = %q, want none", got.Reasons)
			case tt.reason != "" && (len(got.Reasons) == 0 || !strings.Contains(got.Reasons[0], tt.reason)):
				t.Errorf("reasons = %q, want the first to contain %q", got.Reasons, tt.reason)
			}
		})
	}
}

// TestNeverOperational is the promise, over every check state: an open incident or a
// firing critical alert about the product is never operational.
func TestNeverOperational(t *testing.T) {
	checks := []Checks{{}, {Probe: up(0)}, {Health: up(0)}, {Probe: up(0), Health: up(0)}, {Probe: up(5 * time.Hour)}}
	for i, c := range checks {
		for _, in := range []Input{
			{Checks: c, OpenIncidents: []string{"#1"}},
			{Checks: c, Alerts: []Alert{{Rule: alert.RuleUptime, Severity: alert.Critical}}},
			{Checks: c, Alerts: []Alert{{Rule: alert.RuleProbeDown, Severity: alert.Critical, Recovering: true}}},
			{Checks: c, Alerts: []Alert{{Rule: alert.RuleFastBurn, Severity: alert.Critical}}},
		} {
			in.Now = now
			if s := Of(in).Status; s == Operational || s == Unknown {
				t.Errorf("checks #%d, incidents %v, alerts %v: %s", i, in.OpenIncidents, in.Alerts, s)
			}
		}
	}
}

func TestChecksOf(t *testing.T) {
	snap := func(min int, probeErr string, hc string) record.Snapshot {
		s := record.Snapshot{Time: now.Add(time.Duration(min) * time.Minute), Health: hc}
		if probeErr != "-" {
			s.Probe = &record.Probe{Ms: 100, Err: probeErr}
		}
		return s
	}
	snaps := []record.Snapshot{
		snap(-60, "", "healthy"),
		snap(-45, "timeout", "unhealthy"),
		snap(-30, "timeout", "unknown"),
		snap(-15, "-", "suspended"),
		snap(0, "timeout", ""),
	}
	c := ChecksOf(snaps)
	if c.Probe == nil || c.Probe.Up || !c.Probe.Time.Equal(now) {
		t.Errorf("probe = %+v, want down at now", c.Probe)
	}
	if c.Health == nil || c.Health.Up || !c.Health.Time.Equal(now.Add(-45*time.Minute)) {
		t.Errorf("health = %+v, want unhealthy 45 min ago (suspended and unknown are no verdict)", c.Health)
	}
	if c.ProbeFailures != 3 || !c.ProbeSince.Equal(now.Add(-45*time.Minute)) {
		t.Errorf("probe failures = %d since %v, want 3 since 45 min ago", c.ProbeFailures, c.ProbeSince)
	}
	if c := ChecksOf(nil); c.Probe != nil || c.Health != nil || c.ProbeFailures != 0 {
		t.Errorf("no snapshots: %+v", c)
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, Unknown},
		{[]string{Operational, Operational}, Operational},
		{[]string{Operational, Unknown}, Unknown},
		{[]string{Unknown, Maintenance, Operational}, Maintenance},
		{[]string{Degraded, Maintenance}, Degraded},
		{[]string{Degraded, PartialOutage, Operational}, PartialOutage},
		{[]string{MajorOutage, PartialOutage}, MajorOutage},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, "No products configured"},
		{[]string{Operational}, "The product is operational"},
		{[]string{Operational, Operational, Operational}, "All 3 products operational"},
		{[]string{MajorOutage}, "1 of 1 product in major outage"},
		{[]string{Degraded, Degraded, Degraded}, "3 of 3 products degraded"},
		{[]string{Degraded, Operational, Degraded}, "2 of 3 products degraded"},
		{[]string{Degraded, MajorOutage, Operational}, "1 of 3 products in major outage"},
		{[]string{PartialOutage, Operational}, "1 of 2 products in partial outage"},
		{[]string{Unknown, Operational}, "1 of 2 products of unknown status"},
		{[]string{Maintenance, Operational}, "1 of 2 products under maintenance"},
	}
	for _, tt := range tests {
		if got := Headline(tt.in); got != tt.want {
			t.Errorf("Headline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var parts []string
	for _, c := range Counts([]string{Operational, Degraded, MajorOutage, Degraded, Maintenance}) {
		parts = append(parts, c.String())
	}
	if got, want := strings.Join(parts, ", "), "1 major outage, 2 degraded, 1 maintenance, 1 operational"; got != want {
		t.Errorf("Counts = %q, want %q", got, want)
	}
}

func TestBreaches(t *testing.T) {
	ac := config.AlertingConfig{UptimeThreshold: 99, ErrorRateThreshold: 1, ResponseTimeThreshold: 500}
	// series is n snapshots at the 15-minute cadence ending at now.
	series := func(n int, f func(i int) record.Snapshot) []record.Snapshot {
		out := make([]record.Snapshot, n)
		for i := range out {
			out[i] = f(i)
			out[i].Time = now.Add(-time.Duration(n-1-i) * 15 * time.Minute)
		}
		return out
	}
	upSnap := func(int) record.Snapshot { return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: 100}} }
	tests := []struct {
		name  string
		snaps []record.Snapshot
		want  []string
	}{
		{"all well", series(96, upSnap), nil},
		{"uptime below the objective", series(96, func(i int) record.Snapshot {
			if i < 5 {
				return record.Snapshot{Probe: &record.Probe{Err: "timeout"}}
			}
			return upSnap(i)
		}), []string{"uptime over 24 hours is 94.792 %, objective 99 %"}},
		{"slow", series(8, func(int) record.Snapshot { return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: 900}} }),
			[]string{"p95 response time over the last hour is 900 ms, threshold 500 ms"}},
		{"slow before the last hour is over", series(8, func(i int) record.Snapshot {
			if i < 4 {
				return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: 900}}
			}
			return upSnap(i)
		}), nil},
		{"error rate on the threshold is fine", series(4, func(i int) record.Snapshot {
			s := upSnap(i)
			s.HTTP = &record.HTTPStats{Requests: 100, Status5x: 1, P95Ms: 100}
			return s
		}), nil},
		{"error rate above", series(4, func(i int) record.Snapshot {
			s := upSnap(i)
			s.HTTP = &record.HTTPStats{Requests: 100, Status5x: 2, P95Ms: 100}
			return s
		}), []string{"error rate over the last hour is 2 %, threshold 1 %"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Breaches(ac, tt.snaps, now)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Breaches = %q, want %q", got, tt.want)
			}
		})
	}
}
