package site

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/impact"
)

// metricTile is one DORA metric as a tile: value, level and trend against the previous window.
type metricTile struct {
	Key      string
	Name     string
	Value    string
	Detail   string
	Level    string // elite, high, medium, low; "" without data
	NoLevels bool   // the metric has no levels at all (rework rate)
	// Trend is improving, declining or flat; "" when there is nothing to compare, and then
	// TrendText says why ("no previous data"; nothing at all when the metric has no data).
	Trend     string
	TrendText string
	Arrow     string // ↑ ↓ → by the value's direction
	Previous  string
}

// doraRow is one product's (or the portfolio's) DORA figures: Tiles are the four keys (the
// overview shows them), Newer the newer reports' two metrics.
type doraRow struct {
	ID, Name string
	Tiles    []metricTile
	Newer    []metricTile
	Recs     []recView
	// Suspect deployments in the window (package impact): kept apart from the change failure
	// rate, which follows the DORA contract.
	Suspects, Judged int
}

// All is the row's six tiles in display order.
func (r doraRow) All() []metricTile { return append(slices.Clip(r.Tiles), r.Newer...) }

type recView struct {
	Metric, Level string
	HTML          template.HTML
}

type levelRow struct {
	Metric, Name             string
	Elite, High, Medium, Low string
	Current                  string // the portfolio's level
}

// doraView is the DORA page's body, and the DORA part of the overview, product pages and API.
type doraView struct {
	WindowDays       int
	AttributionHours int
	Portfolio        doraRow
	Products         []doraRow
	Levels           []levelRow
	Charts           []chartView
	Report           dora.Report
	Weekly           dora.WeeklySeries
	// ImpactRules explain how deployments are judged, with the portfolio's settings.
	ImpactRules []string
	RecProducts int // products with recommendations of their own
	// DataAsOf is the time the figures are computed at: the newest data of any product.
	DataAsOf time.Time
}

var metricNames = map[string]string{
	dora.MetricDeploymentFrequency:          "Deployment frequency",
	dora.MetricLeadTime:                     "Lead time for changes",
	dora.MetricChangeFailureRate:            "Change failure rate",
	dora.MetricTimeToRestore:                "Time to restore service",
	dora.MetricFailedDeploymentRecoveryTime: "Failed deployment recovery time",
	dora.MetricReworkRate:                   "Deployment rework rate",
}

func (b *build) doraView() *doraView {
	in := make([]dora.Input, len(b.products))
	for i, p := range b.products {
		in[i] = dora.Input{Product: p.data.cfg, Deployments: p.data.deps, Incidents: p.data.incs}
	}
	// The figures are those at the time of the newest data (of any product), not of the
	// build: a build without new data leaves the DORA page, its API and the tiles as they were
	// (the age of an open incident, the current week's end).
	at := time.Time{}
	for _, p := range b.products {
		if p.data.at.After(at) {
			at = p.data.at
		}
	}
	if at.IsZero() {
		at = b.now
	}
	rep, weekly := dora.ComputeAll(b.cfg.DORA, in, at)
	dv := &doraView{WindowDays: rep.WindowDays, AttributionHours: b.cfg.DORA.AttributionHours, Report: rep, Weekly: weekly, DataAsOf: at}
	row := func(id, name string, c dora.Comparison) doraRow {
		all := tiles(c, rep.WindowDays)
		return doraRow{ID: id, Name: name, Tiles: all[:len(dora.FourKeys)], Newer: all[len(dora.FourKeys):], Recs: b.recs(c)}
	}
	dv.Portfolio = row("portfolio", "Portfolio", rep.Portfolio)
	for i, pr := range rep.Products {
		r := row(pr.ID, b.products[i].Name, pr.Comparison)
		r.Suspects, r.Judged = b.products[i].Impact.Suspects, b.products[i].Impact.Judged
		dv.Portfolio.Suspects += r.Suspects
		dv.Portfolio.Judged += r.Judged
		dv.Products = append(dv.Products, r)
	}
	for _, r := range dv.Products {
		if len(r.Recs) > 0 {
			dv.RecProducts++
		}
	}
	dv.Levels = levelTable(b.cfg.DORA.Levels, dv.Portfolio.All())
	dv.ImpactRules = rulesText(impact.SettingsOf(b.cfg.Impact))
	dv.Charts = b.weeklyCharts(dv.Weekly)
	return dv
}

func (b *build) recs(c dora.Comparison) []recView {
	var out []recView
	for _, r := range dora.Recommendations(b.cfg.DORA, c) {
		out = append(out, recView{Metric: metricNames[r.Metric], Level: r.Level, HTML: b.md.Render(r.Markdown)})
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// metricValue is a metric's headline number, or nil without data.
func metricValue(metric string, f dora.Figures) *float64 {
	switch metric {
	case dora.MetricDeploymentFrequency:
		v := f.DeploymentFrequency.PerDay
		return &v
	case dora.MetricLeadTime:
		return f.LeadTime.MedianSeconds
	case dora.MetricChangeFailureRate:
		return f.ChangeFailureRate.Rate
	case dora.MetricTimeToRestore:
		return f.TimeToRestore.MedianSeconds
	case dora.MetricFailedDeploymentRecoveryTime:
		return f.FailedDeploymentRecoveryTime.MedianSeconds
	case dora.MetricReworkRate:
		return f.ReworkRate.Rate
	}
	return nil
}

func metricText(metric string, v *float64) string {
	if v == nil {
		return "no data"
	}
	switch metric {
	case dora.MetricDeploymentFrequency:
		return perDay(*v)
	case dora.MetricChangeFailureRate, dora.MetricReworkRate:
		return num(*v*100, 1) + " %"
	default:
		return dora.Duration(*v)
	}
}

// perDay formats deployments a day for people, as the recommendations do.
func perDay(v float64) string { return dora.Frequency(v) }

func tiles(c dora.Comparison, window int) []metricTile {
	trend := map[string]string{
		dora.MetricDeploymentFrequency:          c.Trend.DeploymentFrequency,
		dora.MetricLeadTime:                     c.Trend.LeadTime,
		dora.MetricChangeFailureRate:            c.Trend.ChangeFailureRate,
		dora.MetricTimeToRestore:                c.Trend.TimeToRestore,
		dora.MetricFailedDeploymentRecoveryTime: c.Trend.FailedDeploymentRecoveryTime,
		dora.MetricReworkRate:                   c.Trend.ReworkRate,
	}
	level := map[string]*string{
		dora.MetricDeploymentFrequency:          c.Current.DeploymentFrequency.Level,
		dora.MetricLeadTime:                     c.Current.LeadTime.Level,
		dora.MetricChangeFailureRate:            c.Current.ChangeFailureRate.Level,
		dora.MetricTimeToRestore:                c.Current.TimeToRestore.Level,
		dora.MetricFailedDeploymentRecoveryTime: c.Current.FailedDeploymentRecoveryTime.Level,
	}
	cur := c.Current
	fr, rw := cur.FailedDeploymentRecoveryTime, cur.ReworkRate
	detail := map[string]string{
		dora.MetricDeploymentFrequency: fmt.Sprintf("%d successful, %d failed in %d days", cur.DeploymentFrequency.Successful, cur.DeploymentFrequency.Failed, window),
		dora.MetricLeadTime:            "median of " + plural(cur.LeadTime.Changes, "change", "changes"),
		dora.MetricChangeFailureRate:   fmt.Sprintf("%d failed and %d causing incidents of %d", cur.ChangeFailureRate.Failed, cur.ChangeFailureRate.IncidentDeployments, cur.ChangeFailureRate.Total),
		dora.MetricTimeToRestore:       "median of " + plural(cur.TimeToRestore.Incidents, "incident", "incidents") + " closed",
		dora.MetricReworkRate:          fmt.Sprintf("%d of %s", rw.Rework, plural(rw.Successful, "successful deployment", "successful deployments")),
	}
	if n := cur.TimeToRestore.OpenIncidents; n > 0 {
		detail[dora.MetricTimeToRestore] += fmt.Sprintf("; %d open", n)
	}
	switch {
	case fr.Failures == 0:
		detail[dora.MetricFailedDeploymentRecoveryTime] = "no failed deployment or incident"
	default:
		detail[dora.MetricFailedDeploymentRecoveryTime] = fmt.Sprintf("median of %d recovered of %s", fr.Recovered, plural(fr.Failures, "failure", "failures"))
		if fr.Unrecovered > 0 {
			detail[dora.MetricFailedDeploymentRecoveryTime] += fmt.Sprintf("; %d not recovered", fr.Unrecovered)
		}
	}
	var out []metricTile
	for _, m := range dora.Metrics {
		cv, pv := metricValue(m, c.Current), metricValue(m, c.Previous)
		t := metricTile{Key: m, Name: metricNames[m], Value: metricText(m, cv), Detail: detail[m],
			Level: str(level[m]), NoLevels: m == dora.MetricReworkRate, Trend: trend[m], Previous: metricText(m, pv), Arrow: "→"}
		switch {
		case cv == nil: // no data has no trend: the level says "No data" already
			t.Trend = ""
		case pv == nil:
			t.Trend, t.TrendText = "", "no previous data"
		case t.Trend != dora.Flat && *cv > *pv:
			t.Arrow = "↑"
		case t.Trend != dora.Flat && *cv < *pv:
			t.Arrow = "↓"
		}
		out = append(out, t)
	}
	return out
}

// levelTable is the level thresholds in force, with the portfolio's current level marked.
func levelTable(lv config.Levels, cur []metricTile) []levelRow {
	// A number keeps its unit on a narrow screen: "24 h" never breaks before the "h".
	dur := func(s float64) string { return strings.ReplaceAll(dora.Duration(s), " ", "\u00a0") }
	rows := []levelRow{
		{Metric: dora.MetricDeploymentFrequency,
			Elite: "≥ " + perDay(lv.DeploymentFrequency.Elite), High: "≥ " + perDay(lv.DeploymentFrequency.High),
			Medium: "≥ " + perDay(lv.DeploymentFrequency.Medium), Low: "< " + perDay(lv.DeploymentFrequency.Medium)},
		{Metric: dora.MetricLeadTime,
			Elite: "≤ " + dur(lv.LeadTime.Elite), High: "≤ " + dur(lv.LeadTime.High),
			Medium: "≤ " + dur(lv.LeadTime.Medium), Low: "> " + dur(lv.LeadTime.Medium)},
		{Metric: dora.MetricChangeFailureRate,
			Elite: "≤ " + num(lv.ChangeFailureRate.Elite*100, 1) + "\u00a0%", High: "≤ " + num(lv.ChangeFailureRate.High*100, 1) + "\u00a0%",
			Medium: "≤ " + num(lv.ChangeFailureRate.Medium*100, 1) + "\u00a0%", Low: "> " + num(lv.ChangeFailureRate.Medium*100, 1) + "\u00a0%"},
		{Metric: dora.MetricTimeToRestore,
			Elite: "≤ " + dur(lv.TimeToRestore.Elite), High: "≤ " + dur(lv.TimeToRestore.High),
			Medium: "≤ " + dur(lv.TimeToRestore.Medium), Low: "> " + dur(lv.TimeToRestore.Medium)},
		{Metric: dora.MetricFailedDeploymentRecoveryTime, // the same bands as time to restore
			Elite: "≤ " + dur(lv.TimeToRestore.Elite), High: "≤ " + dur(lv.TimeToRestore.High),
			Medium: "≤ " + dur(lv.TimeToRestore.Medium), Low: "> " + dur(lv.TimeToRestore.Medium)},
	}
	for i := range rows {
		rows[i].Name = metricNames[rows[i].Metric]
		for _, t := range cur {
			if t.Key == rows[i].Metric {
				rows[i].Current = t.Level
			}
		}
	}
	return rows
}

// durationUnit is the unit of a duration chart's axis, chosen so that the axis and its
// threshold read in the same unit: minutes while everything (data and threshold) is within
// two hours, hours beyond.
type durationUnit struct {
	name    string  // axis name and table heading: "minutes", "hours"
	seconds float64 // seconds in one unit
	short   string  // after a number: "min", "h"
}

func unitFor(top float64) durationUnit {
	if top <= 2*3600 {
		return durationUnit{"minutes", 60, "min"}
	}
	return durationUnit{"hours", 3600, "h"}
}

// weeklyCharts are the DORA page's 12-week trend charts of the portfolio.
func (b *build) weeklyCharts(ws dora.WeeklySeries) []chartView {
	cats := make([]string, len(ws.Weeks))
	for i, w := range ws.Weeks {
		_, wk := w.Start.ISOWeek()
		cats[i] = fmt.Sprintf("W%02d", wk)
		if w.Partial {
			cats[i] += " (so far)"
		}
	}
	n := len(ws.Weeks)
	okD, badD := make([]*float64, n), make([]*float64, n)
	cfr, rework := make([]*float64, n), make([]*float64, n)
	lt, ttr, rec := make([]*float64, n), make([]*float64, n), make([]*float64, n)
	pct := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return f64(round(*p*100, 1))
	}
	for i, f := range ws.Portfolio {
		okD[i] = f64(float64(f.DeploymentFrequency.Successful))
		badD[i] = f64(float64(f.DeploymentFrequency.Failed))
		lt[i] = f.LeadTime.MedianSeconds
		cfr[i] = pct(f.ChangeFailureRate.Rate)
		ttr[i] = f.TimeToRestore.MedianSeconds
		rec[i] = f.FailedDeploymentRecoveryTime.MedianSeconds
		rework[i] = pct(f.ReworkRate.Rate)
	}
	weekLabel := func(i int) string {
		w := ws.Weeks[i]
		return cats[i] + ", from " + w.Start.Format("2 Jan 2006")
	}
	tbl := func(caption string, head []string, cols ...[]*float64) table {
		t := table{Caption: caption, Head: append([]string{"Week"}, head...)}
		for i := n - 1; i >= 0; i-- {
			row := []string{weekLabel(i)}
			for _, c := range cols {
				if c[i] == nil {
					row = append(row, "–")
				} else {
					row = append(row, num(*c[i], 2))
				}
			}
			t.Rows = append(t.Rows, row)
		}
		return t
	}
	// durations draws weekly medians (seconds) in the unit that suits them and the elite bar.
	durations := func(id, title, desc, series, tableCaption string, values []*float64, elite float64) chartView {
		top := elite
		for _, v := range values {
			if v != nil {
				top = max(top, *v)
			}
		}
		u := unitFor(top)
		conv := make([]*float64, n)
		for i, v := range values {
			if v != nil {
				conv[i] = f64(round(*v/u.seconds, 2))
			}
		}
		th := &threshold{Label: "elite " + num(elite/u.seconds, 2) + " " + u.short, Value: round(elite/u.seconds, 2)}
		return categoryChart(id, title, desc+", in "+u.name, u.name, cats, []barSeries{{Name: series, Values: conv, Line: true}}, false, th,
			tbl(tableCaption+" ("+u.name+")", []string{strings.ToUpper(u.name[:1]) + u.name[1:]}, conv))
	}
	lv := b.cfg.DORA.Levels
	return []chartView{
		categoryChart("dora_weekly__deployments", "Deployments per week", "Successful and failed deployments of all products per ISO week", "deployments",
			cats, []barSeries{{Name: "successful", Values: okD}, {Name: "failed", Values: badD}}, true, nil,
			tbl("Deployments per week", []string{"Successful", "Failed"}, okD, badD)),
		durations("dora_weekly__lead_time", "Lead time for changes per week", "Median lead time of the week's changes", "median lead time",
			"Median lead time per week", lt, lv.LeadTime.Elite),
		categoryChart("dora_weekly__change_failure_rate", "Change failure rate per week", "Share of deployments that failed or caused an incident, in percent", "%",
			cats, []barSeries{{Name: "change failure rate", Values: cfr, Line: true}}, false,
			&threshold{Label: "elite " + num(lv.ChangeFailureRate.Elite*100, 1) + " %", Value: round(lv.ChangeFailureRate.Elite*100, 2)},
			tbl("Change failure rate per week (%)", []string{"Percent"}, cfr)),
		durations("dora_weekly__time_to_restore", "Time to restore per week", "Median duration of the incidents closed in the week", "median time to restore",
			"Median time to restore per week", ttr, lv.TimeToRestore.Elite),
		durations("dora_weekly__failed_deployment_recovery_time", "Failed deployment recovery time per week",
			"Median time from the week's failed deployments (and deployments that caused an incident) to their recovery", "median recovery time",
			"Median failed deployment recovery time per week", rec, lv.TimeToRestore.Elite),
		categoryChart("dora_weekly__rework_rate", "Deployment rework rate per week", "Share of the week's successful deployments that were unplanned rework, in percent", "%",
			cats, []barSeries{{Name: "rework rate", Values: rework, Line: true}}, false, nil,
			tbl("Deployment rework rate per week (%)", []string{"Percent"}, rework)),
	}
}
