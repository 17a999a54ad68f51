// Package health derives a product's health from its snapshots: uptime over a window, error
// rate, response time, current status, and the availability objective's error budget and burn
// rate. It is pure: snapshots and now in, figures out.
//
// A snapshot is one check. It is up when its probe succeeded (where the probe ran) and the
// Cloudflare health check was not unhealthy (where one is configured); a snapshot with neither is
// no check at all and counts for nothing.
package health

import (
	"math"
	"sort"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Cadence is the expected time between snapshots (the CI schedule).
const Cadence = 15 * time.Minute

// Window returns the snapshots with from <= t < to. snaps must be sorted by time.
func Window(snaps []record.Snapshot, from, to time.Time) []record.Snapshot {
	i := sort.Search(len(snaps), func(i int) bool { return !snaps[i].Time.Before(from) })
	j := sort.Search(len(snaps), func(i int) bool { return !snaps[i].Time.Before(to) })
	if i >= j {
		return nil
	}
	return snaps[i:j]
}

// recent returns the snapshots in the d before now: now-d < t <= now, so 24 hours at the
// 15-minute cadence are 96 runs. A window shorter than the
// cadence would usually hold no snapshot, so it holds the latest one when that is no older than
// one cadence: the 5-minute window of a burn-rate alert is "the last run".
func recent(snaps []record.Snapshot, d time.Duration, now time.Time) []record.Snapshot {
	w := Window(snaps, now.Add(-d+time.Nanosecond), now.Add(time.Nanosecond))
	if len(w) == 0 && d < Cadence {
		w = Window(snaps, now.Add(-Cadence+time.Nanosecond), now.Add(time.Nanosecond))
		if len(w) > 0 {
			w = w[len(w)-1:]
		}
	}
	return w
}

// Check reports whether the snapshot is a check (ok) and whether it was up.
func Check(s record.Snapshot) (up, ok bool) {
	switch {
	case s.Probe != nil && s.Health != "":
		return s.Probe.OK() && s.Health != "unhealthy", true
	case s.Probe != nil:
		return s.Probe.OK(), true
	case s.Health == "healthy":
		return true, true
	case s.Health == "unhealthy":
		return false, true
	}
	return false, false
}

// Ratio counts good checks among all checks.
type Ratio struct {
	Good, Total int
}

// Percent is Good/Total in percent; ok is false with no checks.
func (r Ratio) Percent() (pct float64, ok bool) {
	if r.Total == 0 {
		return 0, false
	}
	return float64(r.Good) * 100 / float64(r.Total), true
}

// Bad is the number of failed checks.
func (r Ratio) Bad() int { return r.Total - r.Good }

// Uptime counts up checks among the snapshots.
func Uptime(snaps []record.Snapshot) Ratio {
	var r Ratio
	for _, s := range snaps {
		if up, ok := Check(s); ok {
			r.Total++
			if up {
				r.Good++
			}
		}
	}
	return r
}

// UptimeOver is Uptime of the d before now.
func UptimeOver(snaps []record.Snapshot, d time.Duration, now time.Time) Ratio {
	return Uptime(recent(snaps, d, now))
}

// ErrorRate is 5xx responses over all requests in percent (Cloudflare data); ok is false when
// the snapshots hold no request.
func ErrorRate(snaps []record.Snapshot) (pct float64, ok bool) {
	var req, bad int64
	for _, s := range snaps {
		if s.HTTP != nil {
			req += s.HTTP.Requests
			bad += s.HTTP.Status5x
		}
	}
	if req == 0 {
		return 0, false
	}
	return float64(bad) * 100 / float64(req), true
}

// Latency sources.
const (
	LatencyEdge  = "cloudflare" // Cloudflare's percentile time to first byte, weighted by requests
	LatencyProbe = "probe"      // nearest-rank percentile of the probes' total times
)

// P95 is the response time in milliseconds that 95 % of requests beat. With Cloudflare data it
// is the request-weighted mean of each interval's p95 (percentiles of intervals cannot be merged
// exactly; the weighted mean is what a dashboard shows and is stable). Without, it is the
// nearest-rank p95 of successful probes. ok is false with neither.
func P95(snaps []record.Snapshot) (ms float64, source string, ok bool) {
	return latency(snaps, 95, func(h *record.HTTPStats) float64 { return h.P95Ms })
}

// P50 is the typical response time in milliseconds, computed as P95 is: the request-weighted
// mean of Cloudflare's interval p50, else the (lower) median of successful probes.
func P50(snaps []record.Snapshot) (ms float64, source string, ok bool) {
	return latency(snaps, 50, func(h *record.HTTPStats) float64 { return h.P50Ms })
}

// latency is the p-th percentile response time: edge's request-weighted mean over the
// Cloudflare intervals, or the nearest-rank percentile of the successful probes.
func latency(snaps []record.Snapshot, p float64, edge func(*record.HTTPStats) float64) (float64, string, bool) {
	var weight, sum float64
	for _, s := range snaps {
		if s.HTTP != nil && s.HTTP.Requests > 0 && edge(s.HTTP) > 0 {
			weight += float64(s.HTTP.Requests)
			sum += float64(s.HTTP.Requests) * edge(s.HTTP)
		}
	}
	if weight > 0 {
		return sum / weight, LatencyEdge, true
	}
	var probes []float64
	for _, s := range snaps {
		if s.Probe.OK() {
			probes = append(probes, float64(s.Probe.Ms))
		}
	}
	if len(probes) == 0 {
		return 0, "", false
	}
	return NearestRank(probes, p), LatencyProbe, true
}

// NearestRank returns the p-th percentile of v by the nearest-rank method. v is sorted in place.
func NearestRank(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	rank := int(math.Ceil(p / 100 * float64(len(v))))
	if rank < 1 {
		rank = 1
	}
	return v[rank-1]
}

// ProbeFailureStreak counts the failed probes at the end of snaps, stopping at the first
// success, and gives the time of the first failure of that streak (zero with none); snapshots
// without a probe are passed over.
func ProbeFailureStreak(snaps []record.Snapshot) (n int, since time.Time) {
	for i := len(snaps) - 1; i >= 0; i-- {
		p := snaps[i].Probe
		if p == nil {
			continue
		}
		if p.OK() {
			break
		}
		n++
		since = snaps[i].Time
	}
	return n, since
}

// SLOWindow is the period of the availability objective.
const SLOWindow = 30 * 24 * time.Hour

// Budget is the error budget of an availability objective over SLOWindow.
type Budget struct {
	Objective float64 // percent, e.g. 99.5
	Checks    Ratio   // checks in the window
	// Allowed is the number of failed checks the objective permits in the window so far.
	Allowed float64
	// Remaining is the share of the budget left: 1 untouched, 0 spent, negative overspent.
	// Meaningless when Checks.Total is 0.
	Remaining float64
}

// ErrorBudget computes the budget of objective (percent) over the 30 days before now.
func ErrorBudget(snaps []record.Snapshot, objective float64, now time.Time) Budget {
	return BudgetOf(UptimeOver(snaps, SLOWindow, now), objective)
}

// BudgetOf is the budget of objective (percent) given the checks of an SLO window.
func BudgetOf(checks Ratio, objective float64) Budget {
	b := Budget{Objective: objective, Checks: checks}
	b.Allowed = float64(b.Checks.Total) * (100 - objective) / 100
	switch {
	case b.Checks.Total == 0:
		b.Remaining = 1
	case b.Allowed == 0:
		if b.Checks.Bad() == 0 {
			b.Remaining = 1
		} else {
			b.Remaining = math.Inf(-1)
		}
	default:
		b.Remaining = 1 - float64(b.Checks.Bad())/b.Allowed
	}
	return b
}

// BurnRate is how fast the budget burns over the d before now: the failure ratio divided by the
// ratio the objective allows. 1 spends the budget exactly over the SLO window; 14.4 spends 2 % of
// a 30-day budget in an hour. ok is false with no check in the window.
func BurnRate(snaps []record.Snapshot, objective float64, d time.Duration, now time.Time) (rate float64, ok bool) {
	r := UptimeOver(snaps, d, now)
	if r.Total == 0 {
		return 0, false
	}
	allowed := (100 - objective) / 100
	failed := float64(r.Bad()) / float64(r.Total)
	if allowed <= 0 {
		if failed == 0 {
			return 0, true
		}
		return math.Inf(1), true
	}
	return failed / allowed, true
}

// Freshness is how current one source's data is.
type Freshness struct {
	Source string
	State  string     // ok | skipped | error | rate_limited | timed_out
	Msg    string     // reason or error
	LastOK *time.Time // last good data; nil when never
	Stale  bool       // the latest run did not get fresh data from a configured source
	Age    time.Duration
}

// SourceFreshness lists each source of the latest snapshot, sorted by name. Age is now minus
// the time of the last good data (zero when fresh).
func SourceFreshness(last record.Snapshot, now time.Time) []Freshness {
	names := make([]string, 0, len(last.Sources))
	for n := range last.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Freshness, 0, len(names))
	for _, n := range names {
		st := last.Sources[n]
		f := Freshness{Source: n, State: st.State, Msg: st.Msg}
		switch {
		case st.State == record.StateOK:
			t := last.Time
			f.LastOK = &t
			f.Age = now.Sub(last.Time)
			f.Stale = f.Age > 2*Cadence
		case st.Failed():
			f.Stale = true
			f.LastOK = st.LastOK
			if st.LastOK != nil {
				f.Age = now.Sub(*st.LastOK)
			}
		}
		out = append(out, f)
	}
	return out
}
