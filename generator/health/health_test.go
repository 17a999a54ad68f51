package health

import (
	"math"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

var t0 = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// series returns one snapshot per cadence ending at now, built by f(i) where i=0 is the oldest.
func series(n int, now time.Time, f func(i int) record.Snapshot) []record.Snapshot {
	out := make([]record.Snapshot, n)
	for i := range out {
		s := f(i)
		s.Time = now.Add(-time.Duration(n-1-i) * Cadence)
		out[i] = s
	}
	return out
}

func up() record.Snapshot { return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: 100}} }
func down() record.Snapshot {
	return record.Snapshot{Probe: &record.Probe{Code: 503, Ms: 30, Err: "status 503, want 200"}}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		snap   record.Snapshot
		up, ok bool
	}{
		{"probe ok", up(), true, true},
		{"probe failed", down(), false, true},
		{"probe ok but health check unhealthy", record.Snapshot{Probe: &record.Probe{Code: 200}, Health: "unhealthy"}, false, true},
		{"health check only, healthy", record.Snapshot{Health: "healthy"}, true, true},
		{"health check only, unhealthy", record.Snapshot{Health: "unhealthy"}, false, true},
		{"health check suspended is no check", record.Snapshot{Health: "suspended"}, false, false},
		{"nothing is no check", record.Snapshot{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, ok := Check(tt.snap)
			if up != tt.up || ok != tt.ok {
				t.Errorf("Check = (%v, %v), want (%v, %v)", up, ok, tt.up, tt.ok)
			}
		})
	}
}

func TestUptimeOver(t *testing.T) {
	// 96 checks in 24 h, 2 of them failed, plus older failures outside the window.
	snaps := series(200, t0, func(i int) record.Snapshot {
		if i == 150 || i == 199 || i < 50 {
			return down()
		}
		return up()
	})
	r := UptimeOver(snaps, 24*time.Hour, t0)
	if r.Total != 96 || r.Good != 94 {
		t.Fatalf("UptimeOver 24h = %+v, want 94 of 96", r)
	}
	pct, ok := r.Percent()
	if !ok || math.Abs(pct-97.9167) > 0.001 {
		t.Errorf("Percent = %v, %v", pct, ok)
	}
	if _, ok := UptimeOver(nil, time.Hour, t0).Percent(); ok {
		t.Error("no checks must report no uptime, not 0 or 100")
	}
}

func TestRecentShortWindowTakesLastRun(t *testing.T) {
	snaps := series(4, t0.Add(-10*time.Minute), func(int) record.Snapshot { return down() })
	if r := UptimeOver(snaps, 5*time.Minute, t0); r.Total != 1 {
		t.Errorf("5-minute window = %d checks, want the last run only", r.Total)
	}
	if r := UptimeOver(snaps, 5*time.Minute, t0.Add(time.Hour)); r.Total != 0 {
		t.Errorf("5-minute window an hour after the last run = %d checks, want 0", r.Total)
	}
}

func TestErrorRateAndP95(t *testing.T) {
	snaps := []record.Snapshot{
		{Time: t0.Add(-30 * time.Minute), HTTP: &record.HTTPStats{Requests: 900, Status5x: 9, P95Ms: 100}},
		{Time: t0.Add(-15 * time.Minute), HTTP: &record.HTTPStats{Requests: 100, Status5x: 11, P95Ms: 1000}},
	}
	rate, ok := ErrorRate(snaps)
	if !ok || rate != 2 {
		t.Errorf("ErrorRate = %v, %v; want 2 %% (20 of 1000)", rate, ok)
	}
	ms, src, ok := P95(snaps)
	if !ok || src != LatencyEdge || ms != 190 {
		t.Errorf("P95 = %v %q %v; want request-weighted 190 from cloudflare", ms, src, ok)
	}
	probes := series(20, t0, func(i int) record.Snapshot {
		return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: (i + 1) * 10}}
	})
	ms, src, ok = P95(probes)
	if !ok || src != LatencyProbe || ms != 190 {
		t.Errorf("probe P95 = %v %q %v; want nearest rank 190", ms, src, ok)
	}
	if _, ok := ErrorRate(probes); ok {
		t.Error("no Cloudflare data must give no error rate")
	}
}

func TestErrorBudgetAndBurnRate(t *testing.T) {
	// 30 days of checks = 2880; objective 99.5 % allows 14.4 failures.
	n := int(SLOWindow / Cadence)
	snaps := series(n, t0, func(i int) record.Snapshot {
		if i%400 == 0 { // 8 failures
			return down()
		}
		return up()
	})
	b := ErrorBudget(snaps, 99.5, t0)
	if b.Checks.Total != n || b.Checks.Bad() != 8 {
		t.Fatalf("checks = %+v", b.Checks)
	}
	if math.Abs(b.Allowed-14.4) > 1e-9 || math.Abs(b.Remaining-(1-8/14.4)) > 1e-9 {
		t.Errorf("budget = %+v", b)
	}
	// The last hour: 4 checks, 1 failed → 25 % failing against 0.5 % allowed = 50×.
	snaps[n-1] = down()
	snaps[n-1].Time = t0
	rate, ok := BurnRate(snaps, 99.5, time.Hour, t0)
	if !ok || math.Abs(rate-50) > 1e-9 {
		t.Errorf("BurnRate 1h = %v, %v; want 50", rate, ok)
	}
	before, after := ErrorBudget(snaps, 99.5, t0.Add(-6*24*time.Hour)), ErrorBudget(snaps, 99.5, t0)
	if after.Remaining >= before.Remaining {
		t.Errorf("a failure today must lower the budget: %v then %v", before.Remaining, after.Remaining)
	}
	if b := BudgetOf(Ratio{Good: 995, Total: 1000}, 99.5); math.Abs(b.Remaining) > 1e-9 || b.Allowed != 5 {
		t.Errorf("BudgetOf 5 failed of 1000 at 99.5 %% = %+v, want exactly spent", b)
	}
}

func TestSourceFreshness(t *testing.T) {
	okAt := t0.Add(-2 * time.Hour)
	last := record.Snapshot{Time: t0, Sources: map[string]record.SourceStatus{
		"probe":      {State: record.StateOK},
		"cloudflare": {State: record.StateError, Msg: "HTTP 502", LastOK: &okAt, Fails: 8},
		"posthog":    {State: record.StateSkipped, Msg: "POSTHOG_PERSONAL_API_KEY not set"},
	}}
	got := SourceFreshness(last, t0.Add(5*time.Minute))
	if len(got) != 3 || got[0].Source != "cloudflare" || got[2].Source != "probe" {
		t.Fatalf("order = %+v", got)
	}
	if !got[0].Stale || got[0].Age != 2*time.Hour+5*time.Minute {
		t.Errorf("cloudflare = %+v, want stale for 2h05m", got[0])
	}
	if got[1].Stale || got[2].Stale {
		t.Errorf("skipped and fresh sources are not stale: %+v", got)
	}
}

func TestP50(t *testing.T) {
	edge := []record.Snapshot{
		{Time: t0, HTTP: &record.HTTPStats{Requests: 300, P50Ms: 40, P95Ms: 100}},
		{Time: t0.Add(Cadence), HTTP: &record.HTTPStats{Requests: 100, P50Ms: 80, P95Ms: 300}},
	}
	if ms, src, ok := P50(edge); !ok || src != LatencyEdge || ms != 50 {
		t.Errorf("edge P50 = %v %q %v; want request-weighted 50 from cloudflare", ms, src, ok)
	}
	probes := series(4, t0, func(i int) record.Snapshot {
		return record.Snapshot{Probe: &record.Probe{Code: 200, Ms: (i + 1) * 10}}
	})
	if ms, src, ok := P50(probes); !ok || src != LatencyProbe || ms != 20 {
		t.Errorf("probe P50 = %v %q %v; want the lower median 20", ms, src, ok)
	}
}

func TestProbeFailureStreak(t *testing.T) {
	snaps := series(6, t0, func(i int) record.Snapshot {
		switch {
		case i == 4:
			return record.Snapshot{Health: "healthy"} // no probe: passed over
		case i >= 2:
			return down()
		}
		return up()
	})
	n, since := ProbeFailureStreak(snaps)
	if n != 3 || !since.Equal(snaps[2].Time) {
		t.Errorf("streak = %d since %s; want 3 since %s", n, since, snaps[2].Time)
	}
	if n, since := ProbeFailureStreak(snaps[:2]); n != 0 || !since.IsZero() {
		t.Errorf("no failures: %d since %s", n, since)
	}
}
