package site

import (
	"math"
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

// Ranges of the range switch, shortest first. The product charts hold 90 days.
var ranges = []struct {
	Key   string
	Label string
	D     time.Duration
}{
	{"24h", "24 h", 24 * time.Hour},
	{"7d", "7 d", 7 * 24 * time.Hour},
	{"30d", "30 d", 30 * 24 * time.Hour},
	{"90d", "90 d", 90 * 24 * time.Hour},
}

// defaultRange is the range shown first (and the one charts are drawn at without the switch).
const defaultRange = "7d"

func rangeDuration(key string) time.Duration {
	for _, r := range ranges {
		if r.Key == key {
			return r.D
		}
	}
	return 7 * 24 * time.Hour
}

// chartBuckets downsamples the 90 days before now by time buckets that widen with age: every
// run (15 min) for the last 24 hours, hourly to 7 days, 4-hourly to 30 days, 12-hourly to 90
// days. Each range of the switch then draws at a fitting resolution (24 h: 96 points, 90 d:
// about 500), and no series holds more than about 500 points however many snapshots there are.
// Bucket edges are multiples of their width in UTC, so the same now gives the same buckets.
func chartBuckets(now time.Time) []bucket {
	segs := []struct{ age, width time.Duration }{
		{24 * time.Hour, 15 * time.Minute},
		{7 * 24 * time.Hour, time.Hour},
		{30 * 24 * time.Hour, 4 * time.Hour},
		{90 * 24 * time.Hour, 12 * time.Hour},
	}
	edges := []time.Time{now}
	t := now
	for _, s := range segs {
		limit := now.Add(-s.age)
		for t.After(limit) {
			e := t.Add(-time.Nanosecond).Truncate(s.width)
			if e.Before(limit) {
				e = limit
			}
			edges = append(edges, e)
			t = e
		}
	}
	out := make([]bucket, 0, len(edges)-1)
	for i := len(edges) - 1; i > 0; i-- {
		out = append(out, bucket{From: edges[i], To: edges[i-1]})
	}
	return out
}

// reducer turns the snapshots of one bucket into a value, or false when they hold none.
type reducer func([]record.Snapshot) (float64, bool)

// bucketSeries reduces snaps (sorted by time) over buckets, one point per bucket at its end.
// Buckets without a value become missing points only where they break a line between values,
// so a product that started last week does not carry 80 days of gaps.
func bucketSeries(snaps []record.Snapshot, buckets []bucket, f reducer) []point {
	out := make([]point, 0, len(buckets))
	i := 0
	for _, b := range buckets {
		for i < len(snaps) && !snaps[i].Time.After(b.From) {
			i++
		}
		j := i
		for j < len(snaps) && !snaps[j].Time.After(b.To) {
			j++
		}
		v, ok := f(snaps[i:j])
		i = j
		if !ok {
			if n := len(out); n > 0 && !out[n-1].Missing {
				out = append(out, point{T: b.To, Missing: true})
			}
			continue
		}
		out = append(out, point{T: b.To, V: v})
	}
	for len(out) > 0 && out[len(out)-1].Missing {
		out = out[:len(out)-1]
	}
	return out
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

// requestsPerMinute is the Cloudflare request rate of the snapshots, by the time they cover
// (one cadence each), so buckets of different widths compare.
func requestsPerMinute(snaps []record.Snapshot) (float64, bool) {
	var req int64
	n := 0
	for _, s := range snaps {
		if s.HTTP != nil {
			req += s.HTTP.Requests
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return float64(req) / (float64(n) * health.Cadence.Minutes()), true
}
