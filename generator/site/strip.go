package site

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// stripDays is how many days the uptime strip shows.
const stripDays = 90

// Classes of a day on the uptime strip.
const (
	dayOK   = "ok"   // uptime at or above the objective, no incident
	dayWarn = "warn" // below the objective, or an incident was open
	dayBad  = "bad"  // the day spent ten days' worth of error budget or more (see dayClass)
	dayNone = "none" // no check that day
)

// stripDay is one day of the uptime strip.
type stripDay struct {
	Day       time.Time // midnight, in the site's time zone
	Label     string    // "Mon 2 Sep 2026"
	Checks    health.Ratio
	Uptime    string // "99.86 %", "–" without checks
	Incidents []int  // numbers of the incidents open at some time of the day
	Deploys   int
	Failed    int // failed deployments among them
	Class     string
	Title     string // the day in a sentence, for the bar's tooltip
}

// uptimeStrip is the 90-day strip of a product: one bar a day, coloured by the day's uptime and
// incidents, on the product page (a bar and a tooltip a day, and the same as a table) and on
// the overview (compact: runs of like days share a tooltip, to keep the page light).
type uptimeStrip struct {
	Days    []stripDay // oldest first
	Summary string     // the 90 days in a sentence, for screen readers
	Full    template.HTML
	Compact template.HTML
}

// dayClass decides a day's colour. Below the objective, a day is bad when it spent ten days'
// worth of error budget or more: its failed share is at least ten times what the objective
// allows (at 99.5 %, under 95 % uptime).
func dayClass(c health.Ratio, incidents int, objective float64) string {
	pct, ok := c.Percent()
	switch {
	case !ok && incidents == 0:
		return dayNone
	case ok && 100-pct >= 10*(100-objective) && pct < objective:
		return dayBad
	case incidents > 0 || (ok && pct < objective):
		return dayWarn
	}
	return dayOK
}

// uptimeStrip computes the strip of the last 90 days (today, partial, last).
func (b *build) uptimeStrip(d *productData, objective float64) uptimeStrip {
	l := d.at.In(b.loc)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, b.loc)
	var st uptimeStrip
	var all health.Ratio
	below, incSeen := 0, map[int]bool{}
	for i := stripDays - 1; i >= 0; i-- {
		from := today.AddDate(0, 0, -i)
		to := from.AddDate(0, 0, 1)
		if to.After(d.at) {
			to = d.at.Add(time.Nanosecond)
		}
		day := stripDay{Day: from, Label: from.Format("Mon 2 Jan 2006")}
		day.Checks = health.Uptime(health.Window(d.snaps, from, to))
		all.Good += day.Checks.Good
		all.Total += day.Checks.Total
		for _, x := range d.incs {
			if !x.Counts() || !x.CreatedAt.Before(to) || (x.ClosedAt != nil && x.ClosedAt.Before(from)) {
				continue
			}
			day.Incidents = append(day.Incidents, x.Number)
			incSeen[x.Number] = true
		}
		for _, x := range d.deps {
			if !x.Time.Before(from) && x.Time.Before(to) {
				day.Deploys++
				if x.Outcome != record.OutcomeSuccess {
					day.Failed++
				}
			}
		}
		pct, ok := day.Checks.Percent()
		day.Uptime = pctText(pct, ok)
		day.Class = dayClass(day.Checks, len(day.Incidents), objective)
		if ok && pct < objective {
			below++
		}
		day.Title = day.Label + ": " + dayText(day)
		st.Days = append(st.Days, day)
	}
	pct, ok := all.Percent()
	st.Summary = fmt.Sprintf("Uptime over the last %d days: %s; %s below the %s %% objective; %s.", stripDays, pctText(pct, ok),
		plural(below, "day", "days"), num(objective, 3), plural(len(incSeen), "incident", "incidents"))
	st.Full = stripSVG(st.Days, st.Summary, false)
	st.Compact = stripSVG(st.Days, st.Summary, true)
	return st
}

// dayText is a day's figures in words: "99.86 % uptime (1 of 96 checks failed), incident #12,
// 2 deployments (1 failed)".
func dayText(d stripDay) string {
	var parts []string
	if d.Checks.Total == 0 {
		parts = append(parts, "no checks")
	} else {
		parts = append(parts, fmt.Sprintf("%s uptime (%d of %d checks failed)", d.Uptime, d.Checks.Bad(), d.Checks.Total))
	}
	switch len(d.Incidents) {
	case 0:
		parts = append(parts, "no incident")
	default:
		nums := make([]string, len(d.Incidents))
		for i, n := range d.Incidents {
			nums[i] = fmt.Sprintf("#%d", n)
		}
		word := "incident"
		if len(nums) > 1 {
			word = "incidents"
		}
		parts = append(parts, word+" "+strings.Join(nums, ", "))
	}
	dep := plural(d.Deploys, "deployment", "deployments")
	if d.Failed > 0 {
		dep += fmt.Sprintf(" (%d failed)", d.Failed)
	}
	return strings.Join(append(parts, dep), ", ")
}

// Strip geometry, in the SVG's own units: 90 bars of 3 with gaps of 1, stretched to the width
// of its box by CSS.
const (
	barW, barGap = 3, 1
	stripH       = 24
)

// stripSVG draws the strip. The full one has a rect and a tooltip (<title>) a day; the compact
// one a path per run of days of one class, with one tooltip for the run ("2–28 Sep: …"). Both
// are one image to assistive technology (role="img", the summary as its name): the product
// page's table says the same day by day.
func stripSVG(days []stripDay, summary string, compact bool) template.HTML {
	// The compact strip is about 2 px a day on a card: gaps would blur into the bars there,
	// so its days touch, and a run of like days is one bar.
	bw, gap := barW, barGap
	if compact {
		bw, gap = 1, 0
	}
	w := len(days)*(bw+gap) - gap
	var s strings.Builder
	cls := "strip"
	if compact {
		cls += " strip-compact"
	}
	fmt.Fprintf(&s, `<svg class="%s" viewBox="0 0 %d %d" preserveAspectRatio="none" role="img" aria-label="%s">`,
		cls, w, stripH, template.HTMLEscapeString(summary))
	bar := func(i, n int, c string) string {
		y, h := 0, stripH
		if c == dayNone {
			y, h = stripH/2, stripH/2 // no data: a short bar, told apart by more than colour
		}
		x, width := i*(bw+gap), n*(bw+gap)-gap
		return fmt.Sprintf("M%d %dh%dv%dh-%dz", x, y, width, h, width)
	}
	if !compact {
		for i, d := range days {
			fmt.Fprintf(&s, `<path class="d-%s" d="%s"><title>%s</title></path>`, d.Class, bar(i, 1, d.Class), template.HTMLEscapeString(d.Title))
		}
		s.WriteString("</svg>")
		return template.HTML(s.String()) //nolint:gosec // our own markup, text escaped
	}
	// One path per class, runs of like days as one bar each, and one tooltip per class naming
	// its days: a few hundred bytes a product, where a tooltip a run cost 3 KB (600 KB on an
	// overview of 200 products).
	// Runs are drawn as strokes ("M12 12h5": CSS gives the stroke its width), half the bytes
	// of filled shapes.
	for _, c := range []string{dayOK, dayWarn, dayBad, dayNone} {
		var d strings.Builder
		var runs [][]stripDay
		for i := 0; i < len(days); {
			j := i
			for j < len(days) && days[j].Class == days[i].Class {
				j++
			}
			if days[i].Class == c {
				y := stripH / 2
				if c == dayNone {
					y = stripH * 3 / 4
				}
				fmt.Fprintf(&d, "M%d %dh%d", i, y, j-i)
				runs = append(runs, days[i:j])
			}
			i = j
		}
		if len(runs) == 0 {
			continue
		}
		fmt.Fprintf(&s, `<path class="d-%s" d="%s"><title>%s</title></path>`, c, d.String(), template.HTMLEscapeString(classText(c, runs)))
	}
	s.WriteString("</svg>")
	return template.HTML(s.String()) //nolint:gosec // our own markup, text escaped
}

// classText names the days of one colour: "9 days below the objective or with an incident:
// 13, 18, 26–27 Sep; 10 Oct". The product page has each day's figures.
func classText(c string, runs [][]stripDay) string {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	what := map[string]string{
		dayOK:   "at or above the objective, no incident",
		dayWarn: "below the objective or with an incident",
		dayBad:  "that spent ten days' error budget or more",
		dayNone: "without checks",
	}[c]
	text := plural(n, "day", "days") + " " + what
	if c == dayOK {
		return text
	}
	// Dates by month: "13, 18, 26–27 Sep; 10 Oct".
	var months []string
	var cur []string
	month := ""
	for _, r := range runs {
		first, last := r[0].Day, r[len(r)-1].Day
		m := first.Format("Jan")
		if m != month && len(cur) > 0 {
			months = append(months, strings.Join(cur, ", ")+" "+month)
			cur = nil
		}
		month = m
		if last.Format("Jan") != m { // a run across months stands alone: "28 Sep–2 Oct"
			if len(cur) > 0 {
				months = append(months, strings.Join(cur, ", ")+" "+month)
			}
			months = append(months, first.Format("2 Jan")+"–"+last.Format("2 Jan"))
			cur, month = nil, ""
			continue
		}
		span := first.Format("2")
		if len(r) > 1 {
			span += "–" + last.Format("2")
		}
		cur = append(cur, span)
	}
	if len(cur) > 0 {
		months = append(months, strings.Join(cur, ", ")+" "+month)
	}
	return text + ": " + strings.Join(months, "; ")
}
