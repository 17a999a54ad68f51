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

// dailyTable is the text alternative of a time chart: one row a day (newest first) with the
// value of each column's reducer.
func (b *build) dailyTable(caption string, snaps []record.Snapshot, cols []string, fs []reducer, format func(float64) string) table {
	t := table{Caption: caption, Head: append([]string{"Day"}, cols...)}
	days := b.dayBuckets(90)
	vals := make([][]point, len(fs))
	for i, f := range fs {
		vals[i] = make([]point, len(days))
		for k, d := range days {
			v, ok := f(health.Window(snaps, d.From.Add(time.Nanosecond), d.To.Add(time.Nanosecond)))
			vals[i][k] = point{T: d.To, V: v, Missing: !ok}
		}
	}
	for k := len(days) - 1; k >= 0; k-- {
		row := []string{days[k].To.In(b.loc).Format("Mon 2 Jan 2006")}
		any := false
		for i := range fs {
			if vals[i][k].Missing {
				row = append(row, "–")
			} else {
				any = true
				row = append(row, format(vals[i][k].V))
			}
		}
		if any {
			t.Rows = append(t.Rows, row)
		}
	}
	return t
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

func roundPoints(ps []point, d int) []point {
	for i := range ps {
		ps[i].V = round(ps[i].V, d)
	}
	return ps
}

// productCharts draws the product page's charts.
func (b *build) productCharts(v *productView, d *productData, snaps []record.Snapshot) []chartView {
	buckets := chartBuckets(b.now)
	id := v.ID
	var out []chartView

	p95s := b.shift(roundPoints(bucketSeries(snaps, buckets, p95Reducer), 1))
	p50s := b.shift(roundPoints(bucketSeries(snaps, buckets, p50Reducer), 1))
	ms := func(x float64) string { return num(x, 0) + " ms" }
	out = append(out, timeChart(chartID("latency", id), "Response time", "Response time p50 and p95 in milliseconds, with the threshold", "ms", b.nowLocal(),
		[]lineSeries{{Name: "p95", Points: p95s}, {Name: "p50", Points: p50s}},
		&threshold{Label: "threshold " + num(v.RespThresh, 0) + " ms", Value: v.RespThresh}, true,
		b.dailyTable("Response time per day", snaps, []string{"p95", "p50"}, []reducer{p95Reducer, p50Reducer}, ms)))

	errs := b.shift(roundPoints(bucketSeries(snaps, buckets, errorRateReducer), 3))
	out = append(out, timeChart(chartID("errors", id), "Error rate", "Share of requests answered with a 5xx status, in percent, with the threshold", "%", b.nowLocal(),
		[]lineSeries{{Name: "5xx rate", Points: errs, Area: true}},
		&threshold{Label: "threshold " + num(v.ErrThresh, 2) + " %", Value: v.ErrThresh}, true,
		b.dailyTable("Error rate per day", snaps, []string{"5xx rate"}, []reducer{errorRateReducer}, func(x float64) string { return num(x, 3) + " %" })))

	rpm := b.shift(roundPoints(bucketSeries(snaps, buckets, requestsPerMinute), 1))
	out = append(out, timeChart(chartID("traffic", id), "Traffic", "Requests per minute at the edge", "req/min", b.nowLocal(),
		[]lineSeries{{Name: "requests/min", Points: rpm, Area: true}}, nil, true,
		b.dailyTable("Traffic per day (requests a minute)", snaps, []string{"requests/min"}, []reducer{requestsPerMinute}, func(x float64) string { return num(x, 1) })))

	up := b.shift(roundPoints(bucketSeries(snaps, buckets, uptimeReducer), 3))
	out = append(out, timeChart(chartID("availability", id), "Availability", "Share of successful checks in percent, with the objective", "%", b.nowLocal(),
		[]lineSeries{{Name: "checks up", Points: up}},
		&threshold{Label: "objective " + num(v.Objective, 2) + " %", Value: v.Objective}, true,
		b.dailyTable("Availability per day", snaps, []string{"checks up"}, []reducer{uptimeReducer}, func(x float64) string { return num(x, 2) + " %" })))

	// Daily active users: one point a day from PostHog, on the same range switch.
	var dau []point
	dt := table{Caption: "Daily active users", Head: []string{"Day", "Active users", "Pageviews"}}
	from := b.now.Add(-history).UTC().Format(time.DateOnly)
	for _, x := range d.days {
		if x.Day < from {
			continue
		}
		t, err := time.Parse(time.DateOnly, x.Day)
		if err != nil {
			continue
		}
		dau = append(dau, point{T: t.Add(12 * time.Hour), V: float64(x.DAU)}) // noon UTC: the day's middle
		dt.Rows = append([][]string{{x.Day, fmt.Sprint(x.DAU), fmt.Sprint(x.Pageviews)}}, dt.Rows...)
	}
	out = append(out, timeChart(chartID("dau", id), "Daily active users", "Distinct users a day from product analytics", "users", b.nowLocal(),
		[]lineSeries{{Name: "active users", Points: dau}}, nil, true, dt))

	// The 30-day error budget at the end of each of the last 30 days.
	var bp []point
	bt := table{Caption: "Error budget left at the end of each day", Head: []string{"Day", "Budget left"}}
	if v.Budget.Checks.Total > 0 {
		for _, x := range health.BudgetSeries(snaps, v.Objective, 30, b.now) {
			r := max(x.Remaining*100, -100)
			bp = append(bp, point{T: x.Time, V: round(r, 2)})
			bt.Rows = append([][]string{{x.Time.In(b.loc).Format("Mon 2 Jan 2006"), num(r, 2) + " %"}}, bt.Rows...)
		}
	}
	out = append(out, timeChart(chartID("budget", id), "Error budget burn-down", "Share of the 30-day error budget left at the end of each day", "% left", b.nowLocal(),
		[]lineSeries{{Name: "budget left", Points: b.shift(bp), Area: true}},
		&threshold{Label: "exhausted", Value: 0}, false, bt))
	return out
}

// nowLocal is now on the site's wall clock (see localMs).
func (b *build) nowLocal() time.Time { return time.UnixMilli(b.localMs(b.now)).UTC() }

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
		x := pad + (w-2*pad)*p.T.Sub(x0).Hours()/24
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
