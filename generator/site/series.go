package site

import (
	"math"
	"sort"
	"time"

	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// point is one value of a time series; a missing value (no data in its bucket) breaks the line.
type point struct {
	T       time.Time
	V       float64
	Missing bool
}

// bucket is the interval (From, To] of one chart point.
type bucket struct{ From, To time.Time }

// chartRange is one range of the switch: how far back it looks and the width of its buckets.
type chartRange struct {
	Key   string
	Label string
	D     time.Duration
	// Width is the one bucket width of the whole range, so that nothing changes character
	// across it: 96, 168 and 180 points, then 90 days.
	Width time.Duration
	// Days makes the buckets calendar days of the site's time zone (Width is then 24 h): a
	// bucket of half a day would alias the daily cycle of traffic and latency, and its phase
	// would jump by an hour where daylight saving time starts or ends.
	Days bool
	// Week makes the range's data chunks ISO weeks (Monday to Monday: UTC, or the site's
	// time zone for a range of days) instead of UTC days (see chunkPeriod).
	Week bool
}

// Ranges of the range switch, shortest first. The product charts hold 90 days.
var ranges = []chartRange{
	{"24h", "24 h", 24 * time.Hour, 15 * time.Minute, false, false},
	{"7d", "7 d", 7 * 24 * time.Hour, time.Hour, false, false},
	{"30d", "30 d", 30 * 24 * time.Hour, 4 * time.Hour, false, true},
	{"90d", "90 d", 90 * 24 * time.Hour, 24 * time.Hour, true, true},
}

// defaultRange is the range shown first (and the one charts are drawn at without the switch).
const defaultRange = "7d"

// rangeBuckets cuts range r before now into buckets of its one width: (k·w, (k+1)·w] for whole
// k counted from the Unix epoch (or, for a range of days, the calendar days of loc), the first
// starting at or after now−r.D, the last holding now (so it ends at or after now and fills as
// runs come in). Edges are fixed points of the calendar, so a bucket that is complete never
// changes as now moves on: the same data give the same points.
func rangeBuckets(now time.Time, r chartRange, loc *time.Location) []bucket {
	if r.Days {
		return dayRange(now, r.D, loc)
	}
	d, w := r.D, r.Width
	if w <= 0 || d <= 0 {
		return nil
	}
	first := ceilTo(now.Add(-d), w)
	last := ceilTo(now, w).Add(-w) // the bucket holding now: last < now <= last+w
	var out []bucket
	for t := first; !t.After(last); t = t.Add(w) {
		out = append(out, bucket{From: t, To: t.Add(w)})
	}
	return out
}

// dayRange is the calendar days of loc that cover the d before now: (midnight, next midnight],
// the first starting at or after now−d, the last holding now. A day is 23 or 25 hours long
// where daylight saving time starts or ends.
func dayRange(now time.Time, d time.Duration, loc *time.Location) []bucket {
	if loc == nil {
		loc = time.UTC
	}
	midnight := func(t time.Time) time.Time {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	}
	start := midnight(now.Add(-d))
	if start.Before(now.Add(-d)) {
		start = start.AddDate(0, 0, 1)
	}
	var out []bucket
	for t := start; t.Before(now); {
		next := t.AddDate(0, 0, 1)
		out = append(out, bucket{From: t, To: next})
		t = next
	}
	return out
}

// ceilTo rounds t up to a multiple of w since the Unix epoch.
func ceilTo(t time.Time, w time.Duration) time.Time {
	n := t.UnixNano()
	wn := int64(w)
	q := n / wn
	if n%wn != 0 && n > 0 {
		q++
	}
	return time.Unix(0, q*wn).UTC()
}

// downsample gives the snapshots of each bucket: snaps (sorted by time) with From < t <= To.
// The slices share snaps' backing array.
func downsample(snaps []record.Snapshot, buckets []bucket) [][]record.Snapshot {
	bounds := cut(snaps, buckets)
	out := make([][]record.Snapshot, len(buckets))
	for k := range buckets {
		out[k] = snaps[bounds[k]:bounds[k+1]]
	}
	return out
}

// cut gives the index in snaps of each bucket's first snapshot, and one past the last
// bucket's: bucket k holds snaps[bounds[k]:bounds[k+1]]. Buckets must follow one another.
func cut(snaps []record.Snapshot, buckets []bucket) []int {
	bounds := make([]int, len(buckets)+1)
	i := 0
	for k, b := range buckets {
		for i < len(snaps) && !snaps[i].Time.After(b.From) {
			i++
		}
		bounds[k] = i
		for i < len(snaps) && !snaps[i].Time.After(b.To) {
			i++
		}
	}
	bounds[len(buckets)] = i
	return bounds
}

// reducer turns the snapshots of one bucket into a value, or false when they hold none.
type reducer func([]record.Snapshot) (float64, bool)

// bucketSeries reduces snaps (sorted by time) over buckets, one point per bucket at its start.
// Buckets without a value become missing points only where they break a line between values,
// so a product that started last week does not carry 80 days of gaps.
func bucketSeries(snaps []record.Snapshot, buckets []bucket, f reducer) []point {
	parts := downsample(snaps, buckets)
	out := make([]point, 0, len(buckets))
	for k, b := range buckets {
		v, ok := f(parts[k])
		if !ok {
			if n := len(out); n > 0 && !out[n-1].Missing {
				out = append(out, point{T: b.From, Missing: true})
			}
			continue
		}
		out = append(out, point{T: b.From, V: v})
	}
	return trimMissing(out)
}

// trimMissing drops missing points at the end.
func trimMissing(ps []point) []point {
	for len(ps) > 0 && ps[len(ps)-1].Missing {
		ps = ps[:len(ps)-1]
	}
	return ps
}

// hasValues reports whether a series has at least one value.
func hasValues(ps []point) bool {
	for _, p := range ps {
		if !p.Missing {
			return true
		}
	}
	return false
}

// round rounds v to d decimals, so output does not depend on float noise.
func round(v float64, d int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// requests is the sum of Cloudflare requests of the snapshots; ok is false with no Cloudflare data.
func requests(snaps []record.Snapshot) (sum int64, ok bool) {
	for _, s := range snaps {
		if s.HTTP != nil {
			sum += s.HTTP.Requests
			ok = true
		}
	}
	return sum, ok
}

// requestRates is the traffic of each bucket in requests a minute: the requests of its
// snapshots (a sum) over the time they cover. Each snapshot counts the requests since the
// snapshot before it (that is what the Cloudflare source asks for), so a dropped run loses
// nothing and the next one covers two intervals; the current, partial bucket is judged by the
// time its snapshots cover, not by its width, so it does not look like a drop. ok is false for
// a bucket without Cloudflare data.
func requestRates(snaps []record.Snapshot, buckets []bucket) (rates []float64, ok []bool) {
	bounds := cut(snaps, buckets)
	rates, ok = make([]float64, len(buckets)), make([]bool, len(buckets))
	for k := range buckets {
		var req int64
		var covered time.Duration
		for i := bounds[k]; i < bounds[k+1]; i++ {
			if snaps[i].HTTP == nil {
				continue
			}
			req += snaps[i].HTTP.Requests
			if i > 0 {
				covered += snaps[i].Time.Sub(snaps[i-1].Time)
			} else {
				covered += health.Cadence
			}
		}
		if covered > 0 {
			rates[k], ok[k] = float64(req)/covered.Minutes(), true
		}
	}
	return rates, ok
}

// latencyBand is the lowest and highest per-run latency of a bucket, from the same source as
// health.P95 picks for it: Cloudflare's p95 of each run with requests, else each successful
// probe's time.
func latencyBand(snaps []record.Snapshot) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range snaps {
		if s.HTTP != nil && s.HTTP.Requests > 0 && s.HTTP.P95Ms > 0 {
			lo, hi, ok = min(lo, s.HTTP.P95Ms), max(hi, s.HTTP.P95Ms), true
		}
	}
	if ok {
		return lo, hi, true
	}
	for _, s := range snaps {
		if s.Probe.OK() {
			ms := float64(s.Probe.Ms)
			lo, hi, ok = min(lo, ms), max(hi, ms), true
		}
	}
	return lo, hi, ok
}

// budgetTimeline answers "how much of the 30-day error budget was left at t" for many t at
// once: prefix counts of the checks, so each answer is two binary searches instead of a pass
// over 30 days of snapshots.
type budgetTimeline struct {
	times     []time.Time
	good, all []int // prefix counts: checks among times[:i]
	objective float64
}

func newBudgetTimeline(snaps []record.Snapshot, objective float64) *budgetTimeline {
	bt := &budgetTimeline{objective: objective, times: make([]time.Time, 0, len(snaps)),
		good: make([]int, 1, len(snaps)+1), all: make([]int, 1, len(snaps)+1)}
	for _, s := range snaps {
		up, ok := health.Check(s)
		if !ok {
			continue
		}
		g := bt.good[len(bt.good)-1]
		if up {
			g++
		}
		bt.times = append(bt.times, s.Time)
		bt.good = append(bt.good, g)
		bt.all = append(bt.all, bt.all[len(bt.all)-1]+1)
	}
	return bt
}

// at is the budget over the SLO window ending at t: (t−30 d, t], as health.ErrorBudget.
func (bt *budgetTimeline) at(t time.Time) health.Budget {
	i := sort.Search(len(bt.times), func(i int) bool { return bt.times[i].After(t.Add(-health.SLOWindow)) })
	j := sort.Search(len(bt.times), func(i int) bool { return bt.times[i].After(t) })
	if j < i {
		j = i
	}
	return health.BudgetOf(health.Ratio{Good: bt.good[j] - bt.good[i], Total: bt.all[j] - bt.all[i]}, bt.objective)
}
