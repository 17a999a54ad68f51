package site

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// randomHistory is up to 100 days of snapshots before now at roughly the 15-minute cadence,
// with dropped runs, late runs and outages, in time order.
func randomHistory(r *rand.Rand, now time.Time) []record.Snapshot {
	var out []record.Snapshot
	t := now.Add(-time.Duration(r.IntN(100*24)+1) * time.Hour)
	for !t.After(now) {
		s := record.Snapshot{Time: t}
		if r.IntN(10) > 0 {
			s.HTTP = &record.HTTPStats{Requests: int64(r.IntN(5000)), Status5x: int64(r.IntN(20)), P95Ms: float64(50 + r.IntN(900))}
		}
		switch r.IntN(20) {
		case 0: // no check this run
		case 1:
			s.Probe = &record.Probe{Err: "timeout"}
		default:
			s.Probe = &record.Probe{Code: 200, Ms: 40 + r.IntN(400)}
		}
		out = append(out, s)
		step := 15 * time.Minute
		switch r.IntN(12) {
		case 0:
			step = time.Duration(1+r.IntN(8)) * 15 * time.Minute // dropped runs
		case 1:
			step = time.Duration(r.IntN(29)+1) * time.Minute // a late or early run
		case 2:
			step = time.Duration(r.IntN(72)) * time.Hour // a gap of days
		}
		t = t.Add(max(step, time.Minute))
	}
	return out
}

// TestDownsampleProperties: for random histories and random nows, every range is cut into
// buckets of one width, aligned to multiples of it, back to back, covering the range with the
// last holding now; every snapshot of the covered span lands in exactly one bucket, so counts
// (requests, 5xx, checks) summed over the buckets equal the counts of the span.
func TestDownsampleProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2026))
	for run := range 60 {
		now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(90*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
		snaps := randomHistory(r, now)
		for _, rg := range ranges {
			buckets := rangeBuckets(now, rg.D, rg.Width)
			if len(buckets) == 0 {
				t.Fatalf("run %d %s: no buckets", run, rg.Key)
			}
			for i, b := range buckets {
				if b.To.Sub(b.From) != rg.Width {
					t.Fatalf("run %d %s: bucket %d is %s wide, want %s", run, rg.Key, i, b.To.Sub(b.From), rg.Width)
				}
				if b.From.UnixNano()%int64(rg.Width) != 0 {
					t.Fatalf("run %d %s: bucket %d starts at %s, not a multiple of %s", run, rg.Key, i, b.From, rg.Width)
				}
				if i > 0 && !b.From.Equal(buckets[i-1].To) {
					t.Fatalf("run %d %s: bucket %d does not follow bucket %d", run, rg.Key, i, i-1)
				}
			}
			first, last := buckets[0], buckets[len(buckets)-1]
			if first.From.Before(now.Add(-rg.D)) || !first.From.Add(-rg.Width).Before(now.Add(-rg.D)) {
				t.Errorf("run %d %s: first bucket starts %s, want the first edge at or after %s", run, rg.Key, first.From, now.Add(-rg.D))
			}
			if !last.From.Before(now) || last.To.Before(now) {
				t.Errorf("run %d %s: last bucket (%s, %s] does not hold now %s", run, rg.Key, last.From, last.To, now)
			}
			if want := int(math.Ceil(float64(rg.D) / float64(rg.Width))); len(buckets) < want-1 || len(buckets) > want+1 {
				t.Errorf("run %d %s: %d buckets, want about %d", run, rg.Key, len(buckets), want)
			}

			span := health.Window(snaps, first.From.Add(time.Nanosecond), last.To.Add(time.Nanosecond))
			wantReq, wantN := sumRequests(span), len(span)
			wantChecks := health.Uptime(span)
			var gotReq, got5x [1]int64
			gotN := 0
			var gotChecks health.Ratio
			for _, part := range downsample(snaps, buckets) {
				req, _ := requests(part)
				gotReq[0] += req
				for _, s := range part {
					if s.HTTP != nil {
						got5x[0] += s.HTTP.Status5x
					}
				}
				gotN += len(part)
				c := health.Uptime(part)
				gotChecks.Good += c.Good
				gotChecks.Total += c.Total
			}
			if gotReq[0] != wantReq[0] || got5x[0] != wantReq[1] || gotN != wantN || gotChecks != wantChecks {
				t.Errorf("run %d %s: buckets hold %d requests, %d 5xx, %d snapshots, %+v checks; the span %d, %d, %d, %+v",
					run, rg.Key, gotReq[0], got5x[0], gotN, gotChecks, wantReq[0], wantReq[1], wantN, wantChecks)
			}
		}
	}
}

func sumRequests(snaps []record.Snapshot) [2]int64 {
	var out [2]int64
	for _, s := range snaps {
		if s.HTTP != nil {
			out[0] += s.HTTP.Requests
			out[1] += s.HTTP.Status5x
		}
	}
	return out
}

// TestSteadyTrafficIsFlat is the "regime change": a product with the same traffic
// every run must draw a flat line on every range, where the old buckets (which widened with
// age) drew a step where the stored resolution changed.
func TestSteadyTrafficIsFlat(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 7, 0, 0, time.UTC)
	var snaps []record.Snapshot
	for t0 := now.Add(-100 * 24 * time.Hour).Truncate(15 * time.Minute); !t0.After(now); t0 = t0.Add(15 * time.Minute) {
		snaps = append(snaps, record.Snapshot{Time: t0, HTTP: &record.HTTPStats{Requests: 1500, Status5x: 3, P95Ms: 200},
			Probe: &record.Probe{Code: 200, Ms: 100}})
	}
	for _, rg := range ranges {
		buckets := rangeBuckets(now, rg.D, rg.Width)
		parts := downsample(snaps, buckets)
		rates, has := requestRates(snaps, buckets)
		for i, b := range buckets {
			if len(parts[i]) == 0 {
				if i != len(buckets)-1 {
					t.Errorf("%s bucket %d (%s) is empty", rg.Key, i, b.From)
				}
				continue // the current bucket, before its first run
			}
			if rate := rates[i]; !has[i] || math.Abs(rate-100) > 1e-9 {
				t.Errorf("%s bucket %d (%s): %v requests a minute, want 100", rg.Key, i, b.From, rate)
			}
			if e, _ := errorRateReducer(parts[i]); math.Abs(e-0.2) > 1e-9 {
				t.Errorf("%s bucket %d: error rate %v, want 0.2", rg.Key, i, e)
			}
			if u, _ := uptimeReducer(parts[i]); u != 100 {
				t.Errorf("%s bucket %d: availability %v, want 100", rg.Key, i, u)
			}
		}
	}
}

// TestRequestRatesSurviveDroppedRuns: a run that did not happen leaves its requests to the
// next one, which covers both intervals: the rate stays the same.
func TestRequestRatesSurviveDroppedRuns(t *testing.T) {
	now := time.Date(2026, 6, 30, 0, 37, 0, 0, time.UTC)
	var snaps []record.Snapshot
	for t0 := now.Add(-24 * time.Hour).Truncate(15 * time.Minute); !t0.After(now); t0 = t0.Add(15 * time.Minute) {
		req := int64(1500)
		switch t0.Minute() {
		case 0:
			if t0.Hour()%3 == 0 {
				continue // dropped: the next run counts its requests
			}
		case 15:
			if t0.Hour()%3 == 0 {
				req = 3000
			}
		}
		snaps = append(snaps, record.Snapshot{Time: t0, HTTP: &record.HTTPStats{Requests: req}})
	}
	for _, rg := range ranges[:2] {
		buckets := rangeBuckets(now, rg.D, rg.Width)
		rates, has := requestRates(snaps, buckets)
		for i := range buckets {
			if has[i] && math.Abs(rates[i]-100) > 1e-9 {
				t.Errorf("%s bucket %d (%s): %v requests a minute, want 100", rg.Key, i, buckets[i].From, rates[i])
			}
		}
	}
}

// TestBucketSeriesGaps: a gap in the data breaks the line once; leading and trailing empty
// buckets are left out.
func TestBucketSeriesGaps(t *testing.T) {
	now := time.Date(2026, 6, 30, 0, 7, 0, 0, time.UTC)
	var snaps []record.Snapshot
	for t0 := now.Add(-20 * time.Hour).Truncate(15 * time.Minute); t0.Before(now.Add(-time.Hour)); t0 = t0.Add(15 * time.Minute) {
		if t0.Hour() == 12 {
			continue // an hour without data
		}
		snaps = append(snaps, record.Snapshot{Time: t0, Probe: &record.Probe{Code: 200, Ms: 100}})
	}
	ps := bucketSeries(snaps, rangeBuckets(now, 24*time.Hour, 15*time.Minute), p50Reducer)
	values, missing := 0, 0
	for _, p := range ps {
		if p.Missing {
			missing++
		} else {
			values++
		}
	}
	if values != len(snaps) || missing != 1 || ps[0].Missing || ps[len(ps)-1].Missing {
		t.Errorf("%d values and %d gaps, want %d values and 1 gap inside", values, missing, len(snaps))
	}
}

// TestBudgetTimeline: the prefix-count budget equals health.ErrorBudget at any time.
func TestBudgetTimeline(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	snaps := randomHistory(r, now)
	tl := newBudgetTimeline(snaps, 99.5)
	for i := range 200 {
		at := now.Add(-time.Duration(r.IntN(100*24*60)) * time.Minute)
		got, want := tl.at(at), health.ErrorBudget(snaps, 99.5, at)
		if got.Checks != want.Checks || math.Abs(got.Remaining-want.Remaining) > 1e-12 {
			t.Fatalf("#%d at %s: %+v, want %+v", i, at, got, want)
		}
	}
}
