package digest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/status"
)

// num formats v with at most d decimals, no trailing zeros and thousands separated by commas.
func num(v float64, d int) string {
	p := math.Pow(10, float64(d))
	s := strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if frac != "" {
		whole += "." + frac
	}
	if neg {
		whole = "−" + whole
	}
	return whole
}

func msText(v float64) string { return num(v, 0) + " ms" }

func pctText(v float64) string {
	switch {
	case v == 0 || v >= 10:
		return num(v, 1) + " %"
	case v >= 1:
		return num(v, 2) + " %"
	}
	return num(v, 3) + " %"
}

func uptimeText(v *float64) string {
	if v == nil {
		return "—"
	}
	if *v == 100 {
		return "100 %"
	}
	return num(*v, 3) + " %"
}

func budgetText(v float64) string {
	if v < 0 {
		return "overspent (" + num(v, 0) + " %)"
	}
	return num(v, 0) + " % left"
}

// valueText is a figure with its unit: "935 ms", "0.713 %", "12.5/h".
func valueText(v float64, unit string) string {
	switch unit {
	case "ms":
		return msText(v)
	case "%":
		if v > 99 {
			return num(v, 3) + " %"
		}
		return pctText(v)
	case "/h":
		return num(v, 1) + "/h"
	}
	return num(v, 2) + " " + unit
}

func optText(v *float64, f func(float64) string) string {
	if v == nil {
		return "—"
	}
	return f(*v)
}

func freqText(perDay float64) string {
	switch {
	case perDay == 0:
		return "none"
	case perDay >= 1:
		return num(perDay, 1) + "/day"
	case perDay*7 >= 1:
		return num(perDay*7, 1) + "/week"
	}
	return num(perDay*30, 1) + "/month"
}

// durText is a duration in seconds in the unit that reads best: "45 min", "2.1 h", "3.5 days".
func durText(s *float64) string {
	if s == nil {
		return "—"
	}
	d := time.Duration(*s) * time.Second
	switch {
	case d < time.Minute:
		return num(*s, 0) + " s"
	case d < time.Hour:
		return num(d.Minutes(), 0) + " min"
	case d < 48*time.Hour:
		return num(d.Hours(), 1) + " h"
	}
	return num(d.Hours()/24, 1) + " days"
}

func ratioText(r *float64) string {
	if r == nil {
		return "—"
	}
	return num(*r*100, 1) + " %"
}

// trendWord is a DORA trend in words with an arrow that does not rely on colour.
func trendWord(t string) string {
	switch t {
	case dora.Improving:
		return "↑ improving"
	case dora.Declining:
		return "↓ declining"
	}
	return "→ flat"
}

// statusWord is a status in words: "major outage".
func statusWord(s string) string { return status.Label(s) }

// statusChange is "degraded (was operational)" or "operational (unchanged)".
func statusChange(now, was string) string {
	if now == was {
		return statusWord(now)
	}
	return statusWord(now) + " (was " + statusWord(was) + ")"
}

// delta is the change of a figure against the previous period in words: "+1.2 pp", "×2.1".
func delta(cur, prev *float64, unit string) string {
	if cur == nil || prev == nil {
		return ""
	}
	d := *cur - *prev
	switch unit {
	case "%":
		if math.Abs(d) < 0.0005 {
			return "±0"
		}
		return signed(d, 3) + " pp"
	case "ms":
		if math.Abs(d) < 0.5 {
			return "±0"
		}
		return signed(d, 0) + " ms"
	}
	return signed(d, 2)
}

func signed(v float64, d int) string {
	if v > 0 {
		return "+" + num(v, d)
	}
	return num(v, d)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// PageTop is how many products a ranking of the site's digest page lists (the page's products
// table has every product's figures).
const PageTop = 25

// Funcs are the digest's formatting helpers for templates outside this package (the site's
// digest page), so every rendering writes a figure the same way.
func Funcs() map[string]any {
	return map[string]any{
		"dgUptime": uptimeText,
		"dgMs":     func(v *float64) string { return optText(v, msText) },
		"dgPct":    func(v *float64) string { return optText(v, pctText) },
		"dgBudget": func(v *float64) string { return optText(v, budgetText) },
		"dgDelta":  func(c, p *float64, unit string) string { return delta(c, p, unit) },
		"dgTrend":  trendWord,
		"dgValue": func(v *float64, unit string) string {
			return optText(v, func(x float64) string { return valueText(x, unit) })
		},
		"dgStatus": statusWord,
		"dgSev":    bySeverity,
		"dgDur":    durText,
		"dgLetter": levelLetter,
		"dgArrow":  trendArrow,
		"dgTop":    func(r []Ranked) []Ranked { v, _ := capped(r, PageTop); return v },
	}
}
