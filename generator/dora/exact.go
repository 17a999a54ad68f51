package dora

import (
	"math"
	"math/big"
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

// ratio is a/b exactly; b > 0.
func ratio(a, b int) *big.Rat { return big.NewRat(int64(a), int64(b)) }

// seconds is a duration in seconds, exactly.
func seconds(d time.Duration) *big.Rat { return big.NewRat(int64(d), int64(time.Second)) }

// exactBands are a metric's level boundaries as fractions, computed once per report.
type exactBands struct {
	higherIsBetter      bool
	elite, high, medium *big.Rat
}

func bandsOf(metric string, b config.LevelBands) exactBands {
	return exactBands{higherIsBetter: higherIsBetter(metric), elite: fraction(b.Elite), high: fraction(b.High), medium: fraction(b.Medium)}
}

// level decides v's level; a value on a boundary takes the better level.
func (b exactBands) level(v *big.Rat) string {
	better := func(bound *big.Rat) bool {
		c := v.Cmp(bound)
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

// trend compares exact values: flat when either is nil, they are equal, or the relative change
// |cur − prev| / |prev| is under 1/20 (decided as 20·|cur − prev| < |prev|); otherwise
// improving or declining in the metric's direction. A change from 0 is a change.
func trend(metric string, cur, prev *big.Rat) string {
	if cur == nil || prev == nil {
		return Flat
	}
	c := cur.Cmp(prev)
	if c == 0 {
		return Flat
	}
	if prev.Sign() != 0 {
		diff := new(big.Rat).Sub(cur, prev)
		diff.Abs(diff)
		band := new(big.Rat).Abs(prev)
		band.Mul(band, flatBand)
		if diff.Cmp(band) < 0 {
			return Flat
		}
	}
	if (c > 0) == higherIsBetter(metric) {
		return Improving
	}
	return Declining
}
