package dora

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

func TestFraction(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0.15, "3/20"}, {0.05, "1/20"}, {0.1, "1/10"}, {1.0 / 7, "1/7"}, {1.0 / 30, "1/30"}, {4.0 / 28, "1/7"},
		{3600, "3600/1"}, {7 * 86400, "604800/1"}, {1, "1/1"}, {0, "0/1"}, {2.5, "5/2"}, {0.0333, "333/10000"},
		{0.1234567, "1234567/10000000"}, {-0.15, "-3/20"}, {0.0001, "1/10000"}, {1e-9, "1/1000000000"},
	}
	for _, tc := range tests {
		if got := fraction(tc.v).String(); got != tc.want {
			t.Errorf("fraction(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}

// TestFractionRoundTrips: for every p/q of small counts, fraction(float64(p)/float64(q)) is p/q
// in lowest terms, and the float of the answer is the float it was given.
func TestFractionRoundTrips(t *testing.T) {
	for q := int64(1); q <= 150; q++ {
		for p := int64(0); p <= 2*q; p++ {
			v := float64(p) / float64(q)
			got := fraction(v)
			if got.Cmp(big.NewRat(p, q)) != 0 {
				t.Fatalf("fraction(%d/%d = %v) = %s", p, q, v, got)
			}
			if f, _ := got.Float64(); f != v {
				t.Fatalf("fraction(%v) = %s rounds to %v", v, got, f)
			}
		}
	}
}

// levelByCounts is the level of num/den under bands given as fractions, decided by integer
// cross-multiplication: the property the engine must agree with.
func levelByCounts(higher bool, num, den int64, bands [3][2]int64) string {
	for i, b := range bands {
		// num/den against b[0]/b[1]: compare num·b1 with b0·den.
		l, r := num*b[1], b[0]*den
		if (higher && l >= r) || (!higher && l <= r) {
			return []string{Elite, High, Medium}[i]
		}
	}
	return Low
}

// trendByCounts decides the trend of a/b against c/d (b, d > 0) by integers: flat when equal or
// 20·|a·d − c·b| < c·b (both sides multiplied by b·d > 0).
func trendByCounts(higher bool, a, b, c, d int64) string {
	x, y := a*d, c*b
	if x == y {
		return Flat
	}
	diff := x - y
	if diff < 0 {
		diff = -diff
	}
	if y != 0 && 20*diff < y {
		return Flat
	}
	if (x > y) == higher {
		return Improving
	}
	return Declining
}

func bandsFloat(b [3][2]int64) config.LevelBands {
	f := func(x [2]int64) float64 { return float64(x[0]) / float64(x[1]) }
	return config.LevelBands{Elite: f(b[0]), High: f(b[1]), Medium: f(b[2])}
}

// Property: over every ratio of small counts, levels and trends of every metric are decided
// exactly as integer cross-multiplication decides them, with the default bands and with
// random bands that are themselves ratios of small counts. Through Compute, end to end.
func TestBoundariesAreExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	d0 := at(25)
	// deploys builds ok successful and bad failed deployments in the window starting at t0, the
	// failed ones first (so the first success is rework when bad > 0).
	deploys := func(t0 time.Time, prefix string, ok_, bad int) []record.Deployment {
		var out []record.Deployment
		for i := range bad {
			out = append(out, failed(fmt.Sprintf("%s:f%d", prefix, i), fmt.Sprintf("%sf%d", prefix, i), t0.Add(time.Duration(i)*time.Minute)))
		}
		for i := range ok_ {
			out = append(out, ok(fmt.Sprintf("%s:s%d", prefix, i), fmt.Sprintf("%ss%d", prefix, i), t0.Add(time.Duration(bad+i)*time.Minute)))
		}
		return out
	}

	t.Run("change failure rate levels", func(t *testing.T) {
		def := [3][2]int64{{1, 20}, {1, 10}, {3, 20}}
		for total := 1; total <= 60; total++ {
			for bad := 0; bad <= total; bad++ {
				bands := def
				if bad%2 == 1 { // random bands of small counts, ordered elite ≤ high ≤ medium
					q := rng.Int64N(30) + 1
					e := rng.Int64N(q + 1)
					h := e + rng.Int64N(q-e+1)
					m := max(h+rng.Int64N(q-h+1), 1) // all zero is "unset": the defaults
					bands = [3][2]int64{{e, q}, {h, q}, {m, q}}
				}
				c := cfg()
				c.Levels.ChangeFailureRate = bandsFloat(bands)
				got := ProductFigures(c, product("a", deploys(d0, "a", total-bad, bad), nil), now).Current.ChangeFailureRate
				want := levelByCounts(false, int64(bad), int64(total), bands)
				if got.Level == nil || *got.Level != want {
					t.Fatalf("%d of %d failed under %v: level %v, want %s", bad, total, bands, str(got.Level), want)
				}
			}
		}
	})

	t.Run("deployment frequency levels", func(t *testing.T) {
		def := [3][2]int64{{1, 1}, {1, 7}, {1, 30}}
		for w := 1; w <= 60; w++ {
			for n := 0; n <= 2*w; n++ {
				c := cfg()
				c.WindowDays = w
				bands := def
				if n%3 == 2 {
					q := rng.Int64N(40) + 1
					m := rng.Int64N(q) + 1
					h := m + rng.Int64N(q)
					e := h + rng.Int64N(q)
					bands = [3][2]int64{{e, q}, {h, q}, {m, q}}
				}
				c.Levels.DeploymentFrequency = bandsFloat(bands)
				var deps []record.Deployment
				start := now.Add(-time.Duration(w) * 24 * time.Hour)
				for i := range n {
					deps = append(deps, ok(fmt.Sprint("run:", i), fmt.Sprint("s", i), start.Add(time.Duration(i)*time.Minute)))
				}
				got := ProductFigures(c, product("a", deps, nil), now).Current.DeploymentFrequency
				want := levelByCounts(true, int64(n), int64(w), bands)
				if *got.Level != want {
					t.Fatalf("%d deployments in %d days under %v: level %s, want %s", n, w, bands, *got.Level, want)
				}
			}
		}
	})

	t.Run("duration levels on the boundary, and a nanosecond off it", func(t *testing.T) {
		// Lead time, time to restore and recovery time: a median that is the mean of two middle
		// values lands exactly on each default boundary.
		for _, bound := range []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour} {
			for _, off := range []time.Duration{0, time.Nanosecond, -time.Nanosecond} {
				mid := bound + off
				spread := time.Duration(rng.Int64N(int64(bound/2))) + 1
				a, b := mid-spread, mid+spread
				t0 := at(20)
				lead := product("a", []record.Deployment{
					ok("run:1", "s1", t0, ch("c1", t0.Add(-a)), ch("c2", t0.Add(-b))),
				}, nil)
				restore := product("a", nil, []record.Incident{
					incident(1, t0, tp(t0.Add(a))), incident(2, t0, tp(t0.Add(b))),
				})
				recovery := product("a", []record.Deployment{
					failed("run:1", "s1", t0), ok("run:2", "s2", t0.Add(a)),
					failed("run:3", "s3", t0.Add(a+time.Minute)), ok("run:4", "s4", t0.Add(a+time.Minute+b)),
				}, nil)
				if bound == 30*24*time.Hour {
					recovery.Deployments = recovery.Deployments[:2]
					recovery.Deployments[0].Time = at(59)
					recovery.Deployments[1].Time = at(59).Add(mid)
				}
				lv := config.DefaultLevels()
				wantOf := func(bands config.LevelBands) string {
					bs := [3][2]int64{{int64(bands.Elite), 1}, {int64(bands.High), 1}, {int64(bands.Medium), 1}}
					// mid in nanoseconds against seconds·1e9
					for i := range bs {
						bs[i][0] *= int64(time.Second)
					}
					return levelByCounts(false, int64(mid), 1, bs)
				}
				if bound <= 30*24*time.Hour {
					f := ProductFigures(cfg(), lead, now).Current.LeadTime
					if want := wantOf(lv.LeadTime); *f.Level != want {
						t.Errorf("lead time median %v: %s, want %s", mid, *f.Level, want)
					}
				}
				if bound <= 7*24*time.Hour {
					f := ProductFigures(cfg(), restore, now).Current.TimeToRestore
					if want := wantOf(lv.TimeToRestore); *f.Level != want {
						t.Errorf("restore median %v: %s, want %s", mid, *f.Level, want)
					}
				}
				c := ProductFigures(cfg(), recovery, now)
				f := c.Current.FailedDeploymentRecoveryTime
				if bound == 30*24*time.Hour {
					f = c.Previous.FailedDeploymentRecoveryTime
				}
				if want := wantOf(lv.TimeToRestore); f.Level == nil || *f.Level != want {
					t.Errorf("recovery median %v: %v, want %s (%s)", mid, str(f.Level), want, js(f))
				}
			}
		}
	})

	t.Run("trends of ratios", func(t *testing.T) {
		const n = 24
		for b := 1; b <= n; b++ {
			for a := 0; a <= b; a++ {
				for d := 1; d <= n; d++ {
					for c := 0; c <= d; c++ {
						// Change failure rate: a of b now, c of d before; rework rate: the same
						// counts (each failure is followed by a success, so the rework is the
						// failures when every one is followed by its own success).
						// Every case within a relative change of 4–6 % (around the band), and a
						// sample of the rest, keeps this quick. 1/2 against 10/19 is exactly 5 %:
						// floating point called it flat.
						x, y := int64(a*d), int64(c*b)
						diff := max(x-y, y-x)
						if near := 100*diff >= 4*y && 100*diff <= 6*y; !near && (a+b+c+d)%11 != 0 {
							continue
						}
						deps := append(deploys(at(20), "cur", b-a, a), deploys(at(50), "prev", d-c, c)...)
						cmp := ProductFigures(cfg(), product("a", deps, nil), now)
						if want := trendByCounts(false, int64(a), int64(b), int64(c), int64(d)); cmp.Trend.ChangeFailureRate != want {
							t.Fatalf("failure rate %d/%d against %d/%d: %s, want %s", a, b, c, d, cmp.Trend.ChangeFailureRate, want)
						}
						rc, rp := cmp.Current.ReworkRate, cmp.Previous.ReworkRate
						if rc.Successful > 0 && rp.Successful > 0 {
							want := trendByCounts(false, int64(rc.Rework), int64(rc.Successful), int64(rp.Rework), int64(rp.Successful))
							if cmp.Trend.ReworkRate != want {
								t.Fatalf("rework %s against %s: %s, want %s", js(rc), js(rp), cmp.Trend.ReworkRate, want)
							}
						}
						if want := trendByCounts(true, int64(b-a), 30, int64(d-c), 30); cmp.Trend.DeploymentFrequency != want {
							t.Fatalf("frequency %d against %d: %s, want %s", b-a, d-c, cmp.Trend.DeploymentFrequency, want)
						}
					}
				}
			}
		}
	})

	t.Run("trends of durations exactly 5 % apart", func(t *testing.T) {
		for range 200 {
			prev := time.Duration(rng.Int64N(int64(48*time.Hour))/20*20) + 20 // divisible by 20
			for _, cur := range []time.Duration{prev + prev/20, prev - prev/20, prev + prev/20 - 1, prev - prev/20 + 1} {
				p, c := seconds(prev), seconds(cur)
				want := trendByCounts(false, int64(cur), 1, int64(prev), 1)
				for _, m := range []string{MetricLeadTime, MetricTimeToRestore, MetricFailedDeploymentRecoveryTime} {
					if got := trend(m, &c, &p); got != want {
						t.Fatalf("%s %v against %v: %s, want %s", m, cur, prev, got, want)
					}
				}
			}
		}
	})

	t.Run("LevelOf and TrendOf read floats as the fractions they stand for", func(t *testing.T) {
		for q := int64(1); q <= 40; q++ {
			for p := int64(0); p <= q; p++ {
				v := float64(p) / float64(q)
				if got, want := LevelOf(MetricChangeFailureRate, v, config.DefaultLevels().ChangeFailureRate),
					levelByCounts(false, p, q, [3][2]int64{{1, 20}, {1, 10}, {3, 20}}); got != want {
					t.Fatalf("LevelOf(%d/%d) = %s, want %s", p, q, got, want)
				}
				for s := int64(1); s <= 40; s++ {
					prev := float64(s) / float64(q)
					if got, want := TrendOf(MetricReworkRate, &v, &prev), trendByCounts(false, p, q, s, q); got != want {
						t.Fatalf("TrendOf(%d/%d, %d/%d) = %s, want %s", p, q, s, q, got, want)
					}
				}
			}
		}
	})
}

// TestFracAgreesWithBigRat: the 64-bit fast path decides exactly as big.Rat does, also where
// the 128-bit products overflow into the big.Rat fallback.
func TestFracAgreesWithBigRat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	draw := func() uint64 {
		switch rng.IntN(3) {
		case 0:
			return rng.Uint64N(100) + 1
		case 1:
			return rng.Uint64N(1<<40) + 1
		}
		return rng.Uint64() | 1
	}
	for range 20000 {
		a, b := newFrac(draw(), draw()), newFrac(draw(), draw())
		if rng.IntN(4) == 0 { // exactly 5 % apart, or a hair either side
			b = newFrac(a.n*20, a.d*21)
			if a.n > 1<<50 || a.d > 1<<50 {
				continue
			}
		}
		ra, rb := a.rat(), b.rat()
		if got, want := a.cmp(b), ra.Cmp(rb); got != want {
			t.Fatalf("%s cmp %s = %d, want %d", ra, rb, got, want)
		}
		diff := new(big.Rat).Sub(ra, rb)
		diff.Abs(diff)
		want := diff.Cmp(new(big.Rat).Mul(rb, big.NewRat(1, 20))) < 0
		if got := withinBand(a, b); got != want {
			t.Fatalf("withinBand(%s, %s) = %v, want %v", ra, rb, got, want)
		}
		// The same through the big.Rat fallback.
		if got := withinBand(frac{r: ra}, b); got != want {
			t.Fatalf("withinBand(big %s, %s) = %v, want %v", ra, rb, got, want)
		}
	}
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}
