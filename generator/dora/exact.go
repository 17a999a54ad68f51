package dora

import (
	"math"
	"math/big"
	"math/bits"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Levels and trends are decided in exact rational arithmetic (math/big.Rat): the figures are
// quotients of counts (3 failures in 20 deployments, 1 deployment in 30 days) or of whole
// nanoseconds, and binary floating point cannot hold most of them, so a value exactly on a
// boundary (3/20 against 0.15) could land on either side of it. Written by hand because no
// library decides "which fraction did the configuration mean" (fraction, below).

// flatBand is FlatBand as a fraction: a relative change under 1/20 is flat.
var flatBand = big.NewRat(1, 20)

// fraction returns the fraction that a configured or computed float64 stands for: among the
// rationals that round to v, the one with the smallest denominator. 0.15 is 3/20 (not the
// binary 0.1499999999999999944…), the default band 1.0/7 is 1/7, 3600 is 3600. A number
// with at most four decimals, below 10⁷, is always read as the decimal it is written as.
func fraction(v float64) *big.Rat {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return new(big.Rat)
	}
	if v < 0 {
		r := fraction(-v)
		return r.Neg(r)
	}
	x := new(big.Rat).SetFloat64(v)
	down, up := math.Nextafter(v, 0), math.Nextafter(v, math.Inf(1))
	if math.IsInf(up, 0) {
		return x
	}
	// The open interval of reals that round to v: between the midpoints to its neighbours.
	lo := new(big.Rat).SetFloat64(down)
	lo.Add(lo, x).Quo(lo, big.NewRat(2, 1))
	hi := new(big.Rat).SetFloat64(up)
	hi.Add(hi, x).Quo(hi, big.NewRat(2, 1))
	return simplestBetween(lo, hi)
}

// simplestBetween returns the fraction with the smallest denominator (and then the smallest
// numerator) strictly between lo and hi, 0 ≤ lo < hi, by their continued fractions.
func simplestBetween(lo, hi *big.Rat) *big.Rat {
	fl := floorRat(lo)
	next := new(big.Rat).SetInt(new(big.Int).Add(fl, big.NewInt(1)))
	if next.Cmp(hi) < 0 {
		return next // an integer lies in the interval: the smallest one is simplest
	}
	// lo and hi share the integer part fl: the answer is fl + 1/y for the simplest y between
	// 1/(hi−fl) and 1/(lo−fl).
	f := new(big.Rat).SetInt(fl)
	a := new(big.Rat).Sub(hi, f)
	b := new(big.Rat).Sub(lo, f)
	ylo := new(big.Rat).Inv(a)
	var y *big.Rat
	if b.Sign() == 0 { // (1/a, ∞)
		y = new(big.Rat).SetInt(new(big.Int).Add(floorRat(ylo), big.NewInt(1)))
	} else {
		y = simplestBetween(ylo, new(big.Rat).Inv(b))
	}
	return f.Add(f, y.Inv(y))
}

// floorRat is ⌊r⌋ for r ≥ 0.
func floorRat(r *big.Rat) *big.Int {
	return new(big.Int).Quo(r.Num(), r.Denom())
}

// frac is a non-negative fraction n/d in lowest terms, held in 64-bit integers when it fits
// (quotients of counts and of whole seconds always do) and compared through exact 128-bit
// products; anything else (a huge or negative value) is a big.Rat. It saves the report tens
// of thousands of big.Rat allocations.
type frac struct {
	n, d uint64 // d > 0 when r is nil
	r    *big.Rat
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// newFrac is n/d, d > 0.
func newFrac(n, d uint64) frac {
	if n == 0 {
		return frac{n: 0, d: 1}
	}
	g := gcd(n, d)
	return frac{n: n / g, d: d / g}
}

// fracOf is r as a frac.
func fracOf(r *big.Rat) frac {
	if r.Sign() >= 0 && r.Num().IsUint64() && r.Denom().IsUint64() {
		return frac{n: r.Num().Uint64(), d: r.Denom().Uint64()}
	}
	return frac{r: r}
}

func (f frac) rat() *big.Rat {
	if f.r != nil {
		return f.r
	}
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(f.n), new(big.Int).SetUint64(f.d))
}

func (f frac) sign() int {
	if f.r != nil {
		return f.r.Sign()
	}
	if f.n == 0 {
		return 0
	}
	return 1
}

// cmp compares f and g exactly: −1, 0 or +1.
func (f frac) cmp(g frac) int {
	if f.r != nil || g.r != nil {
		return f.rat().Cmp(g.rat())
	}
	xh, xl := bits.Mul64(f.n, g.d)
	yh, yl := bits.Mul64(g.n, f.d)
	return cmp128(xh, xl, yh, yl)
}

func cmp128(ah, al, bh, bl uint64) int {
	switch {
	case ah != bh:
		return cmpU(ah, bh)
	default:
		return cmpU(al, bl)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// withinBand reports whether |cur − prev| < |prev| / 20, prev ≠ 0, exactly.
func withinBand(cur, prev frac) bool {
	if cur.r == nil && prev.r == nil {
		// |c.n/c.d − p.n/p.d| < p.n/(20·p.d)  ⇔  20·|c.n·p.d − p.n·c.d| < p.n·c.d
		xh, xl := bits.Mul64(cur.n, prev.d)
		yh, yl := bits.Mul64(prev.n, cur.d)
		dh, dl := xh, xl
		var borrow uint64
		if cmp128(xh, xl, yh, yl) >= 0 {
			dl, borrow = bits.Sub64(xl, yl, 0)
			dh, _ = bits.Sub64(xh, yh, borrow)
		} else {
			dl, borrow = bits.Sub64(yl, xl, 0)
			dh, _ = bits.Sub64(yh, xh, borrow)
		}
		h1, l1 := bits.Mul64(dl, 20)
		h2, l2 := bits.Mul64(dh, 20)
		hi, carry := bits.Add64(l2, h1, 0)
		if h2 == 0 && carry == 0 {
			return cmp128(hi, l1, yh, yl) < 0
		}
	}
	diff := new(big.Rat).Sub(cur.rat(), prev.rat())
	diff.Abs(diff)
	band := new(big.Rat).Abs(prev.rat())
	band.Mul(band, flatBand)
	return diff.Cmp(band) < 0
}

// ratio is a/b exactly; b > 0.
func ratio(a, b int) frac { return newFrac(uint64(a), uint64(b)) }

// seconds is a duration in seconds, exactly; d ≥ 0.
func seconds(d time.Duration) frac { return newFrac(uint64(d), uint64(time.Second)) }

// perDay is n deployments over days, exactly.
func perDay(n int, days frac) frac {
	if days.r == nil {
		if hi, lo := bits.Mul64(uint64(n), days.d); hi == 0 {
			return newFrac(lo, days.n)
		}
	}
	return fracOf(new(big.Rat).Quo(big.NewRat(int64(n), 1), days.rat()))
}

// exactBands are a metric's level boundaries as fractions, computed once per report.
type exactBands struct {
	higherIsBetter      bool
	elite, high, medium frac
}

func bandsOf(metric string, b config.LevelBands) exactBands {
	return exactBands{higherIsBetter: higherIsBetter(metric),
		elite: fracOf(fraction(b.Elite)), high: fracOf(fraction(b.High)), medium: fracOf(fraction(b.Medium))}
}

// level decides v's level; a value on a boundary takes the better level.
func (b exactBands) level(v frac) string {
	better := func(bound frac) bool {
		c := v.cmp(bound)
		if b.higherIsBetter {
			return c >= 0
		}
		return c <= 0
	}
	switch {
	case better(b.elite):
		return Elite
	case better(b.high):
		return High
	case better(b.medium):
		return Medium
	}
	return Low
}

// exactLevels are the configured bands of the metrics that have levels. Failed deployment
// recovery time uses time to restore's bands; rework rate has none.
type exactLevels struct {
	frequency, leadTime, failureRate, restore exactBands
}

func levelsOf(lv config.Levels) exactLevels {
	return exactLevels{
		frequency:   bandsOf(MetricDeploymentFrequency, lv.DeploymentFrequency),
		leadTime:    bandsOf(MetricLeadTime, lv.LeadTime),
		failureRate: bandsOf(MetricChangeFailureRate, lv.ChangeFailureRate),
		restore:     bandsOf(MetricTimeToRestore, lv.TimeToRestore),
	}
}

func higherIsBetter(metric string) bool { return metric == MetricDeploymentFrequency }

// trend compares exact values: flat when either is missing, they are equal, or the relative
// change |cur − prev| / |prev| is under 1/20 (decided as 20·|cur − prev| < |prev|); otherwise
// improving or declining in the metric's direction. A change from 0 is a change.
func trend(metric string, cur, prev *frac) string {
	if cur == nil || prev == nil {
		return Flat
	}
	c := cur.cmp(*prev)
	if c == 0 {
		return Flat
	}
	if prev.sign() != 0 && withinBand(*cur, *prev) {
		return Flat
	}
	if (c > 0) == higherIsBetter(metric) {
		return Improving
	}
	return Declining
}
