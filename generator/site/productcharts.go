package site

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// localMs is t as milliseconds of the site's wall clock: ECharts draws time axes in the
// browser's zone or in UTC (useUTC), never in a named zone, so the charts get wall-clock times
// shifted into UTC and draw them with useUTC.
func (b *build) localMs(t time.Time) int64 {
	_, off := t.In(b.loc).Zone()
	return t.UnixMilli() + int64(off)*1000
}

// shift moves a series onto the site's wall clock (see localMs).
func (b *build) shift(ps []point) []point {
	out := make([]point, len(ps))
	for i, p := range ps {
		p.T = time.UnixMilli(b.localMs(p.T)).UTC()
		out[i] = p
	}
	return out
}

// dayBuckets are the last n days in the site's time zone, the current (partial) day last.
func (b *build) dayBuckets(n int) []bucket {
	l := b.now.In(b.loc)
	end := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, b.loc)
	out := make([]bucket, 0, n)
	for i := n - 1; i >= 0; i-- {
		from := end.AddDate(0, 0, -i)
		to := from.AddDate(0, 0, 1)
		if to.After(b.now) {
			to = b.now
		}
		out = append(out, bucket{From: from.Add(-time.Nanosecond), To: to.Add(-time.Nanosecond)})
	}
	return out
}

func p95Reducer(s []record.Snapshot) (float64, bool) {
	ms, _, ok := health.P95(s)
	return ms, ok
}

func p50Reducer(s []record.Snapshot) (float64, bool) {
	ms, _, ok := health.P50(s)
	return ms, ok
}

func errorRateReducer(s []record.Snapshot) (float64, bool) { return health.ErrorRate(s) }

func uptimeReducer(s []record.Snapshot) (float64, bool) { return health.Uptime(s).Percent() }

// productCharts draws the product page's charts. Each follows the range switch; each range is
// cut with one bucket width (see ranges): a min/max band and p95/p50 for response time, sums
// for request counts, error rate and availability from the summed counts, the budget left at
// each bucket's end. The rows live in the product's chart files (see chartFiles); the page
// holds each range's fitted axis and threshold rule, and the daily users (a point a day).
func (b *build) productCharts(v *productView, d *productData) []chartView {
	id := v.ID
	now := time.UnixMilli(b.localMs(d.at)).UTC()
	data := b.chartRows(d, v.Objective)
	dir := "data/" + id + "/"
	markerURL := ""
	if doc := markerDoc(b.deployMarkers(d, v.Impact)); doc != nil {
		markerURL = b.putFingerprinted(dir+"deployments", doc)
	}
	v.ChartData = b.chartFiles(d, data, markerURL)
	markers := markerURL != ""
	days := "/products/" + id + "/days/"
	var out []chartView

	out = append(out, timeChart(timeSpec{ID: chartID("latency", id), Title: "Response time",
		Desc: "Response time p95 and p50 in milliseconds, with the range of the runs' p95 in each interval, the threshold and deployments",
		Unit: "ms", Rule: latencyAxis, Threshold: &threshold{Label: "threshold " + numGrouped(v.RespThresh) + " ms", Value: v.RespThresh},
		Rows: data,
		Series: []timeSeries{
			{Name: "p95", Kind: seriesLine, Col: "p95"},
			{Name: "p95 range", Kind: seriesBandLow, Col: "p95_lo"},
			{Name: "p95 range", Kind: seriesBandHigh, Col: "p95_hi"},
			{Name: "p50", Kind: seriesLine, Col: "p50"},
		},
		Markers: markers, Days: days}, now))

	out = append(out, timeChart(timeSpec{ID: chartID("errors", id), Title: "Error rate",
		Desc: "Share of requests answered with a 5xx status, in percent, with the threshold and deployments",
		Unit: "%", Rule: errorRateAxis, Threshold: &threshold{Label: "threshold " + numGrouped(v.ErrThresh) + " %", Value: v.ErrThresh},
		Rows: data, Series: []timeSeries{{Name: "5xx rate", Kind: seriesArea, Col: "err"}},
		Markers: markers, Days: days}, now))

	out = append(out, timeChart(timeSpec{ID: chartID("traffic", id), Title: "Traffic",
		Desc: "Requests per minute at the edge: the requests of each interval over its minutes, with deployments",
		Unit: "req/min", Rule: trafficAxis,
		Rows: data, Series: []timeSeries{{Name: "requests/min", Kind: seriesArea, Col: "rpm"}},
		Markers: markers, Days: days}, now))

	out = append(out, timeChart(timeSpec{ID: chartID("availability", id), Title: "Availability",
		Desc: "Share of successful checks in percent, with the objective and deployments",
		Unit: "%", Rule: availabilityAxis, Threshold: &threshold{Label: "objective " + numGrouped(v.Objective) + " %", Value: v.Objective},
		Rows: data, Series: []timeSeries{{Name: "checks up", Kind: seriesLine, Col: "up"}},
		Markers: markers, Days: days}, now))

	// Daily active users: one point a day from PostHog, on the same range switch, in the page.
	dau := map[string][]point{}
	from := d.at.Add(-history).UTC().Format(time.DateOnly)
	var all []point
	for _, x := range d.days {
		if x.Day < from {
			continue
		}
		t, err := time.Parse(time.DateOnly, x.Day)
		if err != nil {
			continue
		}
		all = append(all, point{T: t.Add(12 * time.Hour), V: float64(x.DAU)}) // noon UTC: the day's middle
	}
	for _, r := range ranges {
		var ps []point
		for _, p := range all {
			if p.T.After(d.at.Add(-r.D)) && !p.T.After(d.at) {
				ps = append(ps, p)
			}
		}
		dau[r.Key] = b.shift(ps)
	}
	// Their rows in a file of their own, which changes once a day.
	users := []timeSeries{{Name: "active users", Kind: seriesLine, Dots: true, Points: dau}}
	perRange := map[string][][]any{}
	for _, r := range ranges {
		perRange[r.Key] = rows(users, r.Key)
	}
	out = append(out, timeChart(timeSpec{ID: chartID("dau", id), Title: "Daily active users",
		Desc: "Distinct users a day from product analytics, with deployments", Unit: "users", Rule: usersAxis,
		Series: users, Markers: markers, Days: days,
		RowsFile: b.putFingerprinted(dir+"users", mustJSON(map[string]any{"ranges": perRange}))}, now))

	out = append(out, timeChart(timeSpec{ID: chartID("budget", id), Title: "Error budget burn-down",
		Desc: "Share of the 30-day error budget left, over time, with deployments", Unit: "% left", Rule: budgetAxis,
		Threshold: &threshold{Label: "budget exhausted (0 %)", Value: 0},
		Rows:      data, Series: []timeSeries{{Name: "budget left", Kind: seriesArea, Col: "budget", End: true}}, Markers: markers, Days: days}, now))
	return out
}

// deployMarkers are the product's deployments of the last 90 days as chart markers, coloured
// by outcome; a suspect deployment (a regression after it, see package impact) is flagged.
func (b *build) deployMarkers(d *productData, iv impactView) []marker {
	var out []marker
	from := d.at.Add(-history)
	reports := iv.byDeployment()
	for _, x := range d.deps {
		if x.Time.Before(from) {
			continue
		}
		m := marker{T: time.UnixMilli(b.localMs(x.Time)).UTC(), Label: shortSHA(x.SHA) + " " + x.Outcome,
			Failed: x.Outcome != record.OutcomeSuccess}
		if r, ok := reports[x.ID]; ok && r.Suspect() {
			m.Suspect = true
			m.Label += " · " + impactMarker(r)
		}
		out = append(out, m)
	}
	return out
}

// dayRequestRate is the requests of a day (or part of one) over the minutes its snapshots
// cover, for the daily table.
func dayRequestRate(snaps []record.Snapshot) (float64, bool) {
	sum, ok := requests(snaps)
	n := 0
	for _, s := range snaps {
		if s.HTTP != nil {
			n++
		}
	}
	if !ok || n == 0 {
		return 0, false
	}
	return float64(sum) / (float64(n) * health.Cadence.Minutes()), true
}

// sparkline draws the last 24 hours of p95 response time as a small inline SVG, hourly. The
// overview shows one per product: an SVG is a few hundred bytes and needs no script, where an
// ECharts instance per card would cost a canvas and a kilobyte of option each.
func sparkline(snaps []record.Snapshot, now time.Time) (template.HTML, string) {
	var buckets []bucket
	for i := 23; i >= 0; i-- {
		to := now.Add(-time.Duration(i) * time.Hour)
		buckets = append(buckets, bucket{From: to.Add(-time.Hour), To: to})
	}
	ps := bucketSeries(snaps, buckets, p95Reducer)
	if !hasValues(ps) {
		return "", "no response time data in the last 24 hours"
	}
	const w, h, pad = 120.0, 32.0, 2.0
	hi := 0.0
	lo := -1.0
	for _, p := range ps {
		if !p.Missing {
			hi = max(hi, p.V)
			if lo < 0 || p.V < lo {
				lo = p.V
			}
		}
	}
	if hi == 0 {
		hi = 1
	}
	var path strings.Builder
	pen := false
	x0 := now.Add(-24 * time.Hour)
	for _, p := range ps {
		if p.Missing {
			pen = false
			continue
		}
		x := pad + (w-2*pad)*p.T.Add(time.Hour).Sub(x0).Hours()/24 // p.T is its hour's start
		y := pad + (h-2*pad)*(1-p.V/hi)
		cmd := "L"
		if !pen {
			cmd = "M"
			pen = true
		}
		fmt.Fprintf(&path, "%s%s %s ", cmd, num(x, 1), num(y, 1))
	}
	text := fmt.Sprintf("p95 response time over the last 24 hours, hourly: %s to %s ms", num(lo, 0), num(hi, 0))
	svg := fmt.Sprintf(`<svg class="spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><path d="%s" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`,
		int(w), int(h), int(w), int(h), template.HTMLEscapeString(text), strings.TrimSpace(path.String()))
	return template.HTML(svg), text
}

// daysTable is the product's figures day by day, for the days of the uptime strip that are
// over (newest first): the text alternative of the strip and of every chart, on a page of its
// own that changes once a day.
func (b *build) daysTable(v *productView, d *productData) table {
	t := table{Caption: "Each complete day of the last 90, newest first",
		Head: []string{"Day", "Uptime", "Failed checks", "Incidents", "Deployments", "p95", "p50", "Error rate", "Requests/min", "Active users", "Budget left"}}
	dau := map[string]string{}
	for _, x := range d.days {
		dau[x.Day] = fmt.Sprint(x.DAU)
	}
	var tl *budgetTimeline
	if len(d.long) > 0 {
		tl = newBudgetTimeline(d.long, v.Objective)
	}
	dash := func(f float64, ok bool, format func(float64) string) string {
		if !ok {
			return "–"
		}
		return format(f)
	}
	ms := func(x float64) string { return num(x, 0) + " ms" }
	for i := len(v.Strip.Days) - 1; i >= 0; i-- {
		day := v.Strip.Days[i]
		end := day.Day.AddDate(0, 0, 1)
		if end.After(d.at) {
			continue // today: the page's figures show it
		}
		snaps := health.Window(d.snaps, day.Day.Add(time.Nanosecond), end.Add(time.Nanosecond))
		row := []string{day.Label, day.Uptime, "–", "–", fmt.Sprint(day.Deploys)}
		if day.Checks.Total > 0 {
			row[2] = fmt.Sprintf("%d of %d", day.Checks.Bad(), day.Checks.Total)
		}
		if len(day.Incidents) > 0 {
			var nums []string
			for _, n := range day.Incidents {
				nums = append(nums, fmt.Sprintf("#%d", n))
			}
			row[3] = strings.Join(nums, ", ")
		}
		if day.Failed > 0 {
			row[4] += fmt.Sprintf(" (%d failed)", day.Failed)
		}
		p95, ok := p95Reducer(snaps)
		row = append(row, dash(p95, ok, ms))
		p50, ok := p50Reducer(snaps)
		row = append(row, dash(p50, ok, ms))
		e, ok := errorRateReducer(snaps)
		row = append(row, dash(e, ok, func(x float64) string { return num(x, 3) + " %" }))
		rpm, ok := dayRequestRate(snaps)
		row = append(row, dash(rpm, ok, func(x float64) string { return num(x, 1) }))
		u, ok := dau[day.Day.Format(time.DateOnly)]
		if !ok {
			u = "–"
		}
		row = append(row, u)
		left := "–"
		if tl != nil {
			if bg := tl.at(end); bg.Checks.Total > 0 {
				left = num(max(bg.Remaining*100, -100), 2) + " %"
			}
		}
		t.Rows = append(t.Rows, append(row, left))
	}
	return t
}
