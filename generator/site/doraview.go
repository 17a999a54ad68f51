package site

import (
	"fmt"
	"html/template"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
)

// metricTile is one DORA metric as a tile: value, level and trend against the previous window.
type metricTile struct {
	Key      string
	Name     string
	Value    string
	Detail   string
	Level    string // elite, high, medium, low; "" without data
	Trend    string // improving, declining, flat
	Arrow    string // ↑ ↓ → by the value's direction
	Previous string
}

type doraRow struct {
	ID, Name string
	Tiles    []metricTile
	Recs     []recView
}

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
}

var metricNames = map[string]string{
	dora.MetricDeploymentFrequency: "Deployment frequency",
	dora.MetricLeadTime:            "Lead time for changes",
	dora.MetricChangeFailureRate:   "Change failure rate",
	dora.MetricTimeToRestore:       "Time to restore service",
}

func (b *build) doraView() *doraView {
	in := make([]dora.Input, len(b.products))
	for i, p := range b.products {
		in[i] = dora.Input{Product: p.data.cfg, Deployments: p.data.deps, Incidents: p.data.incs}
	}
	rep := dora.Compute(b.cfg.DORA, in, b.now)
	dv := &doraView{WindowDays: rep.WindowDays, AttributionHours: b.cfg.DORA.AttributionHours, Report: rep, Weekly: dora.Weekly(b.cfg.DORA, in, b.now)}
	dv.Portfolio = doraRow{ID: "portfolio", Name: "Portfolio", Tiles: tiles(rep.Portfolio, rep.WindowDays), Recs: b.recs(rep.Portfolio)}
	for i, pr := range rep.Products {
		dv.Products = append(dv.Products, doraRow{ID: pr.ID, Name: b.products[i].Name,
			Tiles: tiles(pr.Comparison, rep.WindowDays), Recs: b.recs(pr.Comparison)})
	}
	dv.Levels = levelTable(b.cfg.DORA.Levels, dv.Portfolio.Tiles)
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
	case dora.MetricChangeFailureRate:
		return num(*v*100, 1) + " %"
	default:
		return dora.Duration(*v)
	}
}

// perDay formats deployments a day for people.
func perDay(v float64) string {
	switch {
	case v >= 1:
		return num(v, 1) + " a day"
	case v*7 >= 1:
		return num(v*7, 1) + " a week"
	case v > 0:
		return num(v*30, 1) + " a month"
	}
	return "none"
}

func tiles(c dora.Comparison, window int) []metricTile {
	trend := map[string]string{
		dora.MetricDeploymentFrequency: c.Trend.DeploymentFrequency,
		dora.MetricLeadTime:            c.Trend.LeadTime,
		dora.MetricChangeFailureRate:   c.Trend.ChangeFailureRate,
		dora.MetricTimeToRestore:       c.Trend.TimeToRestore,
	}
	level := map[string]*string{
		dora.MetricDeploymentFrequency: c.Current.DeploymentFrequency.Level,
		dora.MetricLeadTime:            c.Current.LeadTime.Level,
		dora.MetricChangeFailureRate:   c.Current.ChangeFailureRate.Level,
		dora.MetricTimeToRestore:       c.Current.TimeToRestore.Level,
	}
	cur := c.Current
	detail := map[string]string{
		dora.MetricDeploymentFrequency: fmt.Sprintf("%d successful, %d failed in %d days", cur.DeploymentFrequency.Successful, cur.DeploymentFrequency.Failed, window),
		dora.MetricLeadTime:            "median of " + plural(cur.LeadTime.Changes, "change", "changes"),
		dora.MetricChangeFailureRate:   fmt.Sprintf("%d failed and %d causing incidents of %d", cur.ChangeFailureRate.Failed, cur.ChangeFailureRate.IncidentDeployments, cur.ChangeFailureRate.Total),
		dora.MetricTimeToRestore:       "median of " + plural(cur.TimeToRestore.Incidents, "incident", "incidents") + " closed",
	}
	if n := cur.TimeToRestore.OpenIncidents; n > 0 {
		detail[dora.MetricTimeToRestore] += fmt.Sprintf("; %d open", n)
	}
	var out []metricTile
	for _, m := range dora.Metrics {
		cv, pv := metricValue(m, c.Current), metricValue(m, c.Previous)
		t := metricTile{Key: m, Name: metricNames[m], Value: metricText(m, cv), Detail: detail[m],
			Level: str(level[m]), Trend: trend[m], Previous: metricText(m, pv), Arrow: "→"}
		if cv != nil && pv != nil && t.Trend != dora.Flat {
			switch {
			case *cv > *pv:
				t.Arrow = "↑"
			case *cv < *pv:
				t.Arrow = "↓"
			}
		}
		out = append(out, t)
	}
	return out
}

// levelTable is the level thresholds in force, with the portfolio's current level marked.
func levelTable(lv config.Levels, cur []metricTile) []levelRow {
	dur := func(s float64) string { return dora.Duration(s) }
	rows := []levelRow{
		{Metric: dora.MetricDeploymentFrequency,
			Elite: "≥ " + perDay(lv.DeploymentFrequency.Elite), High: "≥ " + perDay(lv.DeploymentFrequency.High),
			Medium: "≥ " + perDay(lv.DeploymentFrequency.Medium), Low: "< " + perDay(lv.DeploymentFrequency.Medium)},
		{Metric: dora.MetricLeadTime,
			Elite: "≤ " + dur(lv.LeadTime.Elite), High: "≤ " + dur(lv.LeadTime.High),
			Medium: "≤ " + dur(lv.LeadTime.Medium), Low: "> " + dur(lv.LeadTime.Medium)},
		{Metric: dora.MetricChangeFailureRate,
			Elite: "≤ " + num(lv.ChangeFailureRate.Elite*100, 1) + " %", High: "≤ " + num(lv.ChangeFailureRate.High*100, 1) + " %",
			Medium: "≤ " + num(lv.ChangeFailureRate.Medium*100, 1) + " %", Low: "> " + num(lv.ChangeFailureRate.Medium*100, 1) + " %"},
		{Metric: dora.MetricTimeToRestore,
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

// weeklyCharts are the DORA page's 12-week trend charts of the portfolio.
func (b *build) weeklyCharts(ws dora.WeeklySeries) []chartView {
	cats := make([]string, len(ws.Weeks))
	for i, w := range ws.Weeks {
		y, wk := w.Start.ISOWeek()
		cats[i] = fmt.Sprintf("W%02d", wk)
		if w.Partial {
			cats[i] += " (so far)"
		}
		_ = y
	}
	n := len(ws.Weeks)
	okD, badD := make([]*float64, n), make([]*float64, n)
	lt, cfr, ttr := make([]*float64, n), make([]*float64, n), make([]*float64, n)
	hours := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return f64(round(*p/3600, 2))
	}
	for i, f := range ws.Portfolio {
		okD[i] = f64(float64(f.DeploymentFrequency.Successful))
		badD[i] = f64(float64(f.DeploymentFrequency.Failed))
		lt[i] = hours(f.LeadTime.MedianSeconds)
		if f.ChangeFailureRate.Rate != nil {
			cfr[i] = f64(round(*f.ChangeFailureRate.Rate*100, 1))
		}
		ttr[i] = hours(f.TimeToRestore.MedianSeconds)
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
	lv := b.cfg.DORA.Levels
	return []chartView{
		categoryChart("dora_weekly__deployments", "Deployments per week", "Successful and failed deployments of all products per ISO week", "deployments",
			cats, []barSeries{{Name: "successful", Values: okD}, {Name: "failed", Values: badD}}, true, nil,
			tbl("Deployments per week", []string{"Successful", "Failed"}, okD, badD)),
		categoryChart("dora_weekly__lead_time", "Lead time for changes per week", "Median lead time of the week's changes, in hours", "hours",
			cats, []barSeries{{Name: "median lead time", Values: lt, Line: true}}, false,
			&threshold{Label: "elite " + dora.Duration(lv.LeadTime.Elite), Value: round(lv.LeadTime.Elite/3600, 2)},
			tbl("Median lead time per week (hours)", []string{"Hours"}, lt)),
		categoryChart("dora_weekly__change_failure_rate", "Change failure rate per week", "Share of deployments that failed or caused an incident, in percent", "%",
			cats, []barSeries{{Name: "change failure rate", Values: cfr, Line: true}}, false,
			&threshold{Label: "elite " + num(lv.ChangeFailureRate.Elite*100, 1) + " %", Value: round(lv.ChangeFailureRate.Elite*100, 2)},
			tbl("Change failure rate per week (%)", []string{"Percent"}, cfr)),
		categoryChart("dora_weekly__time_to_restore", "Time to restore per week", "Median duration of the incidents closed in the week, in hours", "hours",
			cats, []barSeries{{Name: "median time to restore", Values: ttr, Line: true}}, false,
			&threshold{Label: "elite " + dora.Duration(lv.TimeToRestore.Elite), Value: round(lv.TimeToRestore.Elite/3600, 2)},
			tbl("Median time to restore per week (hours)", []string{"Hours"}, ttr)),
	}
}
