package site

import (
	"math"
	"strconv"
	"strings"
)

// axisRule is how the value axis of one kind of chart fits its data. The same rule applies to
// every product, so two products' charts of one kind compare by the same standard.
type axisRule struct {
	// Floor and Ceil bound the axis where the quantity cannot go further (0 for durations,
	// rates and counts; 100 for percentages); NaN leaves a side open.
	Floor, Ceil float64
	// Include keeps the threshold inside the axis whatever the data: the objective of an
	// availability chart and the threshold of an error-rate chart are what the chart is read
	// against.
	Include bool
	// Zero keeps 0 inside the axis: bars and filled areas are read by their size, which a
	// baseline above zero would exaggerate.
	Zero bool
	// MinSpan is the smallest span the axis shows, so flat data are not blown up into noise
	// (a 0.001 ms wobble drawn across the whole height).
	MinSpan float64
}

var unbounded = math.NaN()

// Rules of the chart kinds. Lines (response time, availability, users) fit their data;
// filled areas and bars (error rate, traffic, the error budget, counts) keep zero. The
// category charts (deployments a day, the DORA page's weeks) keep their bar (the elite level)
// inside, as availability and error rate keep theirs.
var (
	latencyAxis      = axisRule{Floor: 0, Ceil: unbounded, MinSpan: 10}                           // ms
	errorRateAxis    = axisRule{Floor: 0, Ceil: 100, Include: true, Zero: true, MinSpan: 0.1}     // %
	trafficAxis      = axisRule{Floor: 0, Ceil: unbounded, Zero: true, MinSpan: 1}                // requests a minute
	availabilityAxis = axisRule{Floor: 0, Ceil: 100, Include: true, MinSpan: 0.1}                 // %
	usersAxis        = axisRule{Floor: 0, Ceil: unbounded, MinSpan: 10}                           // users a day
	budgetAxis       = axisRule{Floor: -100, Ceil: 100, Include: true, Zero: true, MinSpan: 10}   // % of the budget left
	countAxis        = axisRule{Floor: 0, Ceil: unbounded, Include: true, Zero: true, MinSpan: 1} // bars and weekly lines, read against their level bar
)

// yRange is a value axis: from Min to Max, a gridline every Interval.
type yRange struct {
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Interval float64 `json:"interval"`
}

// padding is the share of the data's span added above and below it.
const padding = 0.1

// fit is the value axis for values (and threshold th, when the rule includes it):
//
//  1. the span of the data (with 0 when the rule keeps zero), at least MinSpan (centred on the
//     data when it is narrower);
//  2. 10 % of that span added below and above, but not beyond Floor and Ceil;
//  3. both ends rounded outwards to a multiple of a "nice" step (1, 2, 2.5 or 5 × 10ⁿ), the
//     step that gives the tightest axis with 3 to 8 gridline intervals, again within Floor
//     and Ceil.
//
// Every value lies inside the result. With no value, the axis spans the threshold, or 0 to 1.
func fit(values []float64, th *float64, r axisRule) yRange {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if th != nil && (r.Include || lo > hi) {
		lo, hi = min(lo, *th), max(hi, *th)
	}
	if lo > hi {
		lo, hi = 0, 1
	}
	if r.Zero {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	if span := hi - lo; span < r.MinSpan {
		grow := (r.MinSpan - span) / 2
		lo, hi = lo-grow, hi+grow
		// Flat data against a bound stay against it: 100 % is drawn at the top, not centred.
		if !math.IsNaN(r.Floor) && lo < r.Floor {
			hi += r.Floor - lo
			lo = r.Floor
		}
		if !math.IsNaN(r.Ceil) && hi > r.Ceil {
			lo -= hi - r.Ceil
			hi = r.Ceil
		}
	}
	pad := (hi - lo) * padding
	lo, hi = clamp(lo-pad, r), clamp(hi+pad, r)
	if r.Zero && lo > 0 {
		lo = 0
	}
	best := yRange{}
	base := niceStep((hi - lo) / 8)
	for _, m := range []float64{1, 2, 2.5, 5, 10, 20, 25, 50} {
		step := base * m / niceMantissa(base)
		a := clamp(math.Floor(lo/step+1e-9)*step, r)
		b := clamp(math.Ceil(hi/step-1e-9)*step, r)
		n := (b - a) / step
		if n < 3-1e-9 || n > 8+1e-9 {
			continue
		}
		if best.Interval == 0 || b-a < best.Max-best.Min-1e-9 {
			best = yRange{Min: a, Max: b, Interval: step}
		}
	}
	if best.Interval == 0 { // cannot happen for a positive span; keep the padded ends
		step := niceStep((hi - lo) / 5)
		best = yRange{Min: lo, Max: hi, Interval: step}
	}
	return yRange{Min: round(best.Min, 10), Max: round(best.Max, 10), Interval: round(best.Interval, 10)}
}

// niceMantissa is the 1, 2, 2.5 or 5 of a nice step.
func niceMantissa(step float64) float64 {
	return step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
}

func clamp(v float64, r axisRule) float64 {
	if !math.IsNaN(r.Floor) && v < r.Floor {
		v = r.Floor
	}
	if !math.IsNaN(r.Ceil) && v > r.Ceil {
		v = r.Ceil
	}
	return v
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= v*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// edgeShare is how close to an end of the axis (as a share of its span) a threshold may lie
// and still be drawn: nearer, its line would sit on the axis's edge or top gridline, where it
// cannot be told apart from it.
const edgeShare = 0.02

// thresholdRule decides whether a threshold at th, called what ("threshold 1,000 ms"), is
// drawn on an axis and, when it is not, says why in words: "threshold 1,000 ms, above this
// range".
func thresholdRule(what string, th float64, y yRange, unit string) (draw bool, note string) {
	span := y.Max - y.Min
	switch {
	case th > y.Max:
		return false, what + ", above this range"
	case th < y.Min:
		return false, what + ", below this range"
	case span > 0 && th > y.Max-edgeShare*span:
		return false, what + ", at the top of this " + rangeText(y, unit) + " axis: too close to its edge to draw apart"
	case span > 0 && th < y.Min+edgeShare*span:
		return false, what + ", at the bottom of this " + rangeText(y, unit) + " axis: too close to its edge to draw apart"
	}
	return true, ""
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}

func rangeText(y yRange, unit string) string {
	return numGrouped(y.Min) + "–" + numGrouped(y.Max) + unitSuffix(unit)
}

// numGrouped formats v for people: thousands grouped with commas, at most four decimals
// ("1,000", "99.5", "0.25").
func numGrouped(v float64) string {
	s := strconv.FormatFloat(round(v, 4), 'f', -1, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}
