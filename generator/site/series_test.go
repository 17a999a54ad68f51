package site

import (
	"fmt"
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

// TestDownsampleProperties: for random histories, nows and time zones, every range is cut into
// buckets of one width (of its sub-day width, aligned to multiples of it, or of calendar days
// of the site's time zone), back to back, covering the range with the last holding now; every
// snapshot of the covered span lands in exactly one bucket, so counts (requests, 5xx, checks)
// summed over the buckets equal the counts of the span.
func TestDownsampleProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2026))
	zones := []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"}
	for run := range 60 {
		loc, err := time.LoadLocation(zones[run%len(zones)])
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(330*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second)
		snaps := randomHistory(r, now)
		for _, rg := range ranges {
			where := fmt.Sprintf("run %d (%s, now %s) %s", run, loc, now.Format(time.RFC3339), rg.Key)
			buckets := rangeBuckets(now, rg, loc)
			if len(buckets) == 0 {
				t.Fatalf("%s: no buckets", where)
			}
			for i, b := range buckets {
				if rg.Days {
					from, to := b.From.In(loc), b.To.In(loc)
					if from.Hour() != 0 || from.Minute() != 0 || to.Hour() != 0 || to.Minute() != 0 || !from.AddDate(0, 0, 1).Equal(b.To) {
						t.Fatalf("%s: bucket %d (%s, %s] is not one calendar day", where, i, from, to)
					}
				} else {
					if b.To.Sub(b.From) != rg.Width {
						t.Fatalf("%s: bucket %d is %s wide, want %s", where, i, b.To.Sub(b.From), rg.Width)
					}
					if b.From.UnixNano()%int64(rg.Width) != 0 {
						t.Fatalf("%s: bucket %d starts at %s, not a multiple of %s", where, i, b.From, rg.Width)
					}
				}
				if i > 0 && !b.From.Equal(buckets[i-1].To) {
					t.Fatalf("%s: bucket %d does not follow bucket %d", where, i, i-1)
				}
			}
			first, last := buckets[0], buckets[len(buckets)-1]
			if first.From.Before(now.Add(-rg.D)) || !first.From.Add(-25*time.Hour).Before(now.Add(-rg.D)) {
				t.Errorf("%s: first bucket starts %s, want the first edge at or after %s", where, first.From, now.Add(-rg.D))
			}
			if !last.From.Before(now) || last.To.Before(now) {
				t.Errorf("%s: last bucket (%s, %s] does not hold now", where, last.From, last.To)
			}
			if want := int(math.Ceil(float64(rg.D) / float64(rg.Width))); len(buckets) < want-1 || len(buckets) > want+1 {
				t.Errorf("%s: %d buckets, want about %d", where, len(buckets), want)
			}

			span := health.Window(snaps, first.From.Add(time.Nanosecond), last.To.Add(time.Nanosecond))
			wantReq, wantN := sumRequests(span), len(span)
			wantChecks := health.Uptime(span)
			var gotReq, got5x int64
			gotN := 0
			var gotChecks health.Ratio
			for _, part := range downsample(snaps, buckets) {
				req, _ := requests(part)
				gotReq += req
				for _, s := range part {
					if s.HTTP != nil {
						got5x += s.HTTP.Status5x
					}
				}
				gotN += len(part)
				c := health.Uptime(part)
				gotChecks.Good += c.Good
				gotChecks.Total += c.Total
			}
			if gotReq != wantReq[0] || got5x != wantReq[1] || gotN != wantN || gotChecks != wantChecks {
				t.Errorf("%s: buckets hold %d requests, %d 5xx, %d snapshots, %+v checks; the span %d, %d, %d, %+v",
					where, gotReq, got5x, gotN, gotChecks, wantReq[0], wantReq[1], wantN, wantChecks)
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
		buckets := rangeBuckets(now, rg, time.UTC)
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
		buckets := rangeBuckets(now, rg, time.UTC)
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
	ps := bucketSeries(snaps, rangeBuckets(now, ranges[0], time.UTC), p50Reducer)
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

// TestDailyCycleDoesNotAlias: traffic with a daily cycle on the site's clock (busy at noon,
// quiet at night) must draw a flat line on the 90-day range, across the change from summer to
// winter time too. Half-day buckets drew a day/night zigzag whose size jumped where the clocks
// changed (the cycle's peak moved across a bucket edge): a "regime change" that was not there.
func TestDailyCycleDoesNotAlias(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) // 90 days back is before 25 October
	var snaps []record.Snapshot
	for t0 := now.Add(-95 * 24 * time.Hour); !t0.After(now); t0 = t0.Add(15 * time.Minute) {
		h := float64(t0.In(loc).Hour()) + float64(t0.In(loc).Minute())/60
		req := 1000 + 9000*math.Exp(-(h-13)*(h-13)/8) // night 1,000, noon 10,000 a run
		snaps = append(snaps, record.Snapshot{Time: t0, HTTP: &record.HTTPStats{Requests: int64(req)}})
	}
	rg := ranges[len(ranges)-1]
	buckets := rangeBuckets(now, rg, loc)
	rates, has := requestRates(snaps, buckets)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range buckets {
		if !has[i] || buckets[i].To.After(now) {
			continue
		}
		lo, hi = min(lo, rates[i]), max(hi, rates[i])
	}
	// The 25-hour day holds one more quiet hour, about 3 % below the others (half-day buckets
	// spread from 139 to 245). Nothing else moves.
	if hi/lo > 1.04 {
		t.Errorf("90-day traffic from %.1f to %.1f requests a minute: want a flat line", lo, hi)
	}
}
