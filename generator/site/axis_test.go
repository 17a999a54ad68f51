package site

import (
	"math"
	"strings"
	"testing"
)

func TestFit(t *testing.T) {
	th := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		values   []float64
		th       *float64
		rule     axisRule
		min, max float64
	}{
		// The issue: response times 50–420 ms were drawn on 0–2,000 ms.
		{"latency fits its data", []float64{50, 120, 420}, th(1000), latencyAxis, 0, 500},
		{"latency far from zero", []float64{800, 850, 910}, th(1000), latencyAxis, 775, 925},
		{"flat latency keeps a minimum span", []float64{200, 200}, nil, latencyAxis, 194, 206},
		// Availability 97–100 % with a 99.5 % objective: the objective is well inside.
		{"availability with dips", []float64{97.2, 100, 99.9}, th(99.5), availabilityAxis, 96.5, 100},
		{"availability all up shows the objective", []float64{100, 100}, th(99.5), availabilityAxis, 99.4, 100},
		{"availability with a full outage", []float64{0, 100}, th(99.5), availabilityAxis, 0, 100},
		// The issue: error rate on 0–60 % with a 1 % threshold.
		{"error rate below its threshold", []float64{0, 0.05, 0.2}, th(1), errorRateAxis, 0, 1.2},
		{"error rate spike", []float64{0, 0.1, 12}, th(1), errorRateAxis, 0, 14},
		{"no data", nil, th(1), errorRateAxis, 0, 1.2},
		{"budget", []float64{62.5, 80}, th(0), budgetAxis, -20, 100},
		{"budget overspent", []float64{-100, 40}, th(0), budgetAxis, -100, 60},
		{"bars start at zero", []float64{3, 7, 12}, nil, countAxis, 0, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := fit(tt.values, tt.th, tt.rule)
			if math.Abs(y.Min-tt.min) > 1e-9 || math.Abs(y.Max-tt.max) > 1e-9 {
				t.Errorf("fit = %v to %v (step %v), want %v to %v", y.Min, y.Max, y.Interval, tt.min, tt.max)
			}
			for _, v := range tt.values {
				if v < y.Min || v > y.Max {
					t.Errorf("value %v outside %v–%v", v, y.Min, y.Max)
				}
			}
			if tt.th != nil && tt.rule.Include && (*tt.th < y.Min || *tt.th > y.Max) {
				t.Errorf("threshold %v outside %v–%v", *tt.th, y.Min, y.Max)
			}
			if steps := (y.Max - y.Min) / y.Interval; steps < 2 || steps > 12 {
				t.Errorf("%v gridlines of %v: want a readable number", steps, y.Interval)
			}
			// Padding: data touch an end only where a bound (0, 100, -100) stops the axis.
			for _, v := range tt.values {
				if (v == y.Max && v != tt.rule.Ceil) || (v == y.Min && v != tt.rule.Floor) {
					t.Errorf("value %v on the axis's end without a bound there", v)
				}
			}
		})
	}
}

func TestThresholdRule(t *testing.T) {
	tests := []struct {
		name string
		th   float64
		y    yRange
		draw bool
		note string
	}{
		{"inside", 500, yRange{0, 1000, 200}, true, ""},
		{"above", 1000, yRange{0, 500, 100}, false, "threshold, above this range"},
		{"below", 0, yRange{40, 90, 10}, false, "threshold, below this range"},
		{"on the top gridline", 99.5, yRange{0, 100, 20}, false, "threshold, at the top of this 0–100 axis: too close to its edge to draw apart"},
		{"on the bottom", 0, yRange{0, 100, 20}, false, "at the bottom of this 0–100 axis"},
		{"near the top but apart", 99.5, yRange{96.5, 100, 0.5}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draw, note := thresholdRule("threshold", tt.th, tt.y, "")
			if draw != tt.draw || !strings.Contains(note, tt.note) || (tt.note == "" && note != "") {
				t.Errorf("thresholdRule = %v %q, want %v %q", draw, note, tt.draw, tt.note)
			}
		})
	}
}

func TestNumGrouped(t *testing.T) {
	for in, want := range map[float64]string{1000: "1,000", 99.5: "99.5", 1234567.25: "1,234,567.25", -2500: "-2,500", 0.001: "0.001", 12: "12"} {
		if got := numGrouped(in); got != want {
			t.Errorf("numGrouped(%v) = %q, want %q", in, got, want)
		}
	}
}
