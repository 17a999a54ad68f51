package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/impact"
	"github.com/portfolio-report/portfolio/generator/status"
)

// APISchemaVersion is the schema_version of every file under api/. It changes only when a field
// is removed or changes meaning; new fields may appear without a change. Version 2: status
// takes the values of package status (outage became partial_outage and major_outage; unknown
// and maintenance). Version 3: generated_at only in summary.json (a document changes only
// when its data does), alerts.json's transitions in a document a day (api/alerts/<date>.json),
// dora.json without now and the weekly figures of each product (api/dora/<id>.json), a
// product's uptime_days in a document of its own (the product's has uptime_today), every
// document compact.
const APISchemaVersion = 3

// The JSON API's documents. Numbers are JSON numbers; absent data is null.
type (
	apiSummary struct {
		SchemaVersion int              `json:"schema_version"`
		GeneratedAt   string           `json:"generated_at"`
		DataAsOf      *string          `json:"data_as_of"`
		Demo          bool             `json:"demo"`
		Status        string           `json:"status"`
		Headline      string           `json:"headline"`
		StatusCounts  map[string]int   `json:"status_counts"`
		Products      []apiProductLine `json:"products"`
		OpenIncidents int              `json:"open_incidents"`
		ActiveAlerts  *apiAlertCounts  `json:"active_alerts"`
		DORA          apiDORASummary   `json:"dora"`
	}
	apiProductLine struct {
		ID            string    `json:"id"`
		Name          string    `json:"name"`
		Group         string    `json:"group,omitempty"`
		Status        string    `json:"status"`
		Reasons       []string  `json:"status_reasons"`
		Uptime        apiUptime `json:"uptime_percent"`
		P95Ms         *float64  `json:"p95_ms"`
		ErrorRate     *float64  `json:"error_rate_percent"`
		OpenIncidents int       `json:"open_incidents"`
		StaleSources  int       `json:"stale_sources"`
		Page          string    `json:"page"`
		API           string    `json:"api"`
	}
	apiUptime struct {
		H24 *float64 `json:"24h"`
		D7  *float64 `json:"7d"`
		D30 *float64 `json:"30d"`
		D90 *float64 `json:"90d"`
	}
	apiAlertCounts struct {
		Critical int `json:"critical"`
		Warning  int `json:"warning"`
		Info     int `json:"info"`
	}
	apiDORASummary struct {
		WindowDays int                      `json:"window_days"`
		Metrics    map[string]apiDORAMetric `json:"metrics"`
	}
	apiDORAMetric struct {
		Value *float64 `json:"value"`
		Level *string  `json:"level"`
		Trend string   `json:"trend"`
	}

	apiProduct struct {
		SchemaVersion int       `json:"schema_version"`
		ID            string    `json:"id"`
		Name          string    `json:"name"`
		Group         string    `json:"group,omitempty"`
		URL           string    `json:"url,omitempty"`
		Repository    string    `json:"repository,omitempty"`
		Status        string    `json:"status"`
		Reasons       []string  `json:"status_reasons"`
		LastSnapshot  *string   `json:"last_snapshot"`
		Uptime        apiUptime `json:"uptime_percent"`
		// UptimeToday is today's day of the strip; the days that are over are in UptimeDaysURL's
		// document (api/products/<id>/days.json), which changes once a day.
		UptimeToday   *apiDay          `json:"uptime_today"`
		UptimeDaysURL string           `json:"uptime_days_url"`
		Latency       apiLatency       `json:"latency_24h"`
		ErrorRate     apiThresholded   `json:"error_rate_percent_24h"`
		SLO           apiSLO           `json:"slo"`
		Deployments   apiDeployments   `json:"deployments"`
		Incidents     []apiIncident    `json:"incidents"`
		Freshness     []apiFreshness   `json:"freshness"`
		DORA          *dora.Comparison `json:"dora"`
		Alerts        []apiAlert       `json:"active_alerts"`
		Impact        apiImpact        `json:"deployment_impact"`
	}
	// apiImpact is the product's deployment impact over the DORA window (docs/impact.md).
	apiImpact struct {
		BeforeMinutes int `json:"before_window_minutes"`
		AfterMinutes  int `json:"after_window_minutes"`
		WindowDays    int `json:"window_days"`
		Deployments   int `json:"deployments"`
		Judged        int `json:"judged"`
		Suspects      int `json:"suspects"`
		// ReportsURL names the document of the reports (api/products/<id>/impact.json): they
		// are most of the figures, and change only when a deployment comes, a window closes
		// or a deployment leaves the window, not with every snapshot.
		ReportsURL string `json:"reports_url"`
	}
	apiImpactReports struct {
		SchemaVersion int               `json:"schema_version"`
		ID            string            `json:"id"`
		Reports       []apiImpactReport `json:"reports"`
	}
	apiImpactReport struct {
		ID       string            `json:"id"`
		Time     string            `json:"time"`
		SHA      string            `json:"sha"`
		Outcome  string            `json:"outcome"`
		URL      string            `json:"url,omitempty"`
		Suspect  bool              `json:"suspect"`
		Open     bool              `json:"open"`
		Previous *string           `json:"window_cut_by_previous"` // sha of the deployment the before-window starts at
		Next     *string           `json:"window_cut_by_next"`     // sha of the deployment the after-window ends at
		Before   apiImpactWindow   `json:"before"`
		After    apiImpactWindow   `json:"after"`
		Metrics  []apiImpactMetric `json:"metrics"`
	}
	apiImpactWindow struct {
		From string `json:"from"`
		To   string `json:"to"`
		Runs int    `json:"runs"`
	}
	apiImpactMetric struct {
		Metric     string   `json:"metric"`
		Event      string   `json:"event,omitempty"`
		Stat       string   `json:"stat,omitempty"`
		Unit       string   `json:"unit"`
		Before     *float64 `json:"before"`
		After      *float64 `json:"after"`
		BeforeN    int64    `json:"before_n"`
		AfterN     int64    `json:"after_n"`
		NUnit      string   `json:"n_unit"`
		BeforeLow  *float64 `json:"before_low"`
		BeforeHigh *float64 `json:"before_high"`
		Ratio      *float64 `json:"ratio"`
		Z          *float64 `json:"z"`
		Verdict    string   `json:"verdict"`
		Reason     string   `json:"reason"`
		Rule       string   `json:"rule,omitempty"`
	}
	apiDay struct {
		Date              string   `json:"date"` // YYYY-MM-DD in site.timezone
		Uptime            *float64 `json:"uptime_percent"`
		Checks            int      `json:"checks"`
		FailedChecks      int      `json:"failed_checks"`
		Incidents         []int    `json:"incidents"`
		Deployments       int      `json:"deployments"`
		FailedDeployments int      `json:"failed_deployments"`
		Class             string   `json:"class"` // ok | warn | bad | none, as the strip colours it
	}
	apiLatency struct {
		P50Ms       *float64 `json:"p50_ms"`
		P95Ms       *float64 `json:"p95_ms"`
		Source      string   `json:"source,omitempty"`
		ThresholdMs float64  `json:"threshold_ms"`
	}
	apiThresholded struct {
		Value     *float64 `json:"value"`
		Threshold float64  `json:"threshold"`
	}
	apiSLO struct {
		ObjectivePercent float64  `json:"objective_percent"`
		WindowDays       int      `json:"window_days"`
		Checks           int      `json:"checks"`
		FailedChecks     int      `json:"failed_checks"`
		BudgetRemaining  *float64 `json:"budget_remaining_percent"`
		BurnRate1h       *float64 `json:"burn_rate_1h"`
		BurnRate6h       *float64 `json:"burn_rate_6h"`
	}
	apiDeployments struct {
		SuccessRate30d *float64        `json:"success_rate_percent_30d"`
		Recent         []apiDeployment `json:"recent"`
	}
	apiDeployment struct {
		Time    string `json:"time"`
		SHA     string `json:"sha"`
		Outcome string `json:"outcome"`
		URL     string `json:"url,omitempty"`
	}
	apiIncident struct {
		Number    int     `json:"number"`
		Title     string  `json:"title"`
		URL       string  `json:"url,omitempty"`
		Open      bool    `json:"open"`
		CreatedAt string  `json:"created_at"`
		ClosedAt  *string `json:"closed_at"`
	}
	apiFreshness struct {
		Source string  `json:"source"`
		State  string  `json:"state"`
		LastOK *string `json:"last_ok"`
		Stale  bool    `json:"stale"`
	}
	apiAlert struct {
		Fingerprint  string  `json:"fingerprint"`
		Severity     string  `json:"severity"`
		Product      string  `json:"product"`
		Rule         string  `json:"rule"`
		Subject      string  `json:"subject,omitempty"`
		Summary      string  `json:"summary"`
		Value        float64 `json:"value"`
		Threshold    float64 `json:"threshold"`
		Unit         string  `json:"unit,omitempty"`
		Since        string  `json:"since"`
		Acknowledged bool    `json:"acknowledged"`
		IssueURL     string  `json:"issue_url,omitempty"`
		Recovering   bool    `json:"recovering"`
		// ResolvesAfter is how many more runs without a breach resolve a recovering alert.
		ResolvesAfter int `json:"resolves_after_runs,omitempty"`
		// Muted is why notifications are held back ("maintenance"), absent when they are not.
		Muted string       `json:"muted,omitempty"`
		Links []alert.Link `json:"links,omitempty"`
	}
	apiAlerts struct {
		SchemaVersion int          `json:"schema_version"`
		Available     bool         `json:"available"`
		LastRun       *string      `json:"last_run"`
		Active        []apiAlert   `json:"active"`
		History       []apiHistory `json:"history"`
		Channels      []apiChannel `json:"channels"`
	}
	// apiHistory names the document of one day's transitions (site time zone).
	apiHistory struct {
		Date        string `json:"date"`
		Transitions int    `json:"transitions"`
		URL         string `json:"url"`
	}
	apiAlertDay struct {
		SchemaVersion int             `json:"schema_version"`
		Date          string          `json:"date"`
		Transitions   []apiTransition `json:"transitions"`
	}
	apiTransition struct {
		At          string  `json:"at"`
		Fingerprint string  `json:"fingerprint"`
		Product     string  `json:"product"`
		Rule        string  `json:"rule"`
		Subject     string  `json:"subject,omitempty"`
		Severity    string  `json:"severity"`
		From        string  `json:"from"`
		To          string  `json:"to"`
		Value       float64 `json:"value"`
		Threshold   float64 `json:"threshold"`
		Unit        string  `json:"unit,omitempty"`
		Summary     string  `json:"summary"`
	}
	apiChannel struct {
		Name        string  `json:"name"`
		Enabled     bool    `json:"enabled"`
		Failing     bool    `json:"failing"`
		Failures    int     `json:"failures"`
		Undelivered int     `json:"undelivered"`
		LastSuccess *string `json:"last_success"`
		LastFailure *string `json:"last_failure"`
	}
	apiDORA struct {
		SchemaVersion int                  `json:"schema_version"`
		DataAsOf      *string              `json:"data_as_of"`
		WindowDays    int                  `json:"window_days"`
		Portfolio     dora.Comparison      `json:"portfolio"`
		Products      []dora.ProductReport `json:"products"`
		Weekly        apiWeekly            `json:"weekly"`
		// Suspects are each product's suspect deployments of the window (see docs/impact.md):
		// beside the change failure rate, never part of it.
		Suspects []apiSuspects `json:"suspect_deployments"`
	}
	apiSuspects struct {
		ID       string `json:"id"`
		Judged   int    `json:"judged"`
		Suspects int    `json:"suspects"`
	}
	apiWeekly struct {
		Weeks     any `json:"weeks"`
		Portfolio any `json:"portfolio"`
	}
)

func opt(f figure) *float64 {
	if !f.OK {
		return nil
	}
	v := f.Value
	return &v
}

func tsp(t *timeView) *string {
	if t == nil {
		return nil
	}
	s := t.UTC
	return &s
}

// reasons is the product's status reasons, [] rather than null when operational.
func reasons(p *productView) []string {
	if p.Reasons == nil {
		return []string{}
	}
	return p.Reasons
}

func uptimeMap(p *productView) apiUptime {
	return apiUptime{H24: opt(p.Uptime[0].figure), D7: opt(p.Uptime[1].figure), D30: opt(p.Uptime[2].figure), D90: opt(p.Uptime[3].figure)}
}

// putJSON writes v as compact JSON (encoding/json escapes <, > and &, so text from GitHub
// stays inert even when a browser sniffs the file as HTML).
func (b *build) putJSON(name string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("site: %s: %w", name, err)
	}
	b.put(name, buf.Bytes())
	return nil
}

func (b *build) apiAlert(a activeAlert) apiAlert {
	x, _ := b.alerts.raw.Find(a.Fingerprint)
	return apiAlert{Fingerprint: a.Fingerprint, Severity: a.Severity, Product: a.Product, Rule: a.Rule, Subject: a.Subject,
		Summary: a.Summary, Value: round(x.Value, 4), Threshold: round(x.Threshold, 4), Unit: x.Unit, Since: a.Since.UTC,
		Acknowledged: a.Acked, IssueURL: a.IssueURL, Recovering: a.Recovering, ResolvesAfter: a.ToResolve, Muted: a.Muted, Links: a.Links}
}

// api writes api/summary.json, api/products/<id>.json, api/alerts.json and api/dora.json.
func (b *build) api(dv *doraView, al *alertsView) error {
	gen := b.tv(b.now).UTC
	b.alerts = al
	sum := apiSummary{SchemaVersion: APISchemaVersion, GeneratedAt: gen, Demo: b.meta.Demo(),
		Products: []apiProductLine{}, DORA: apiDORASummary{WindowDays: dv.WindowDays, Metrics: map[string]apiDORAMetric{}}}
	var statuses []string
	var latest *timeView
	for _, p := range b.products {
		statuses = append(statuses, p.Status)
		if p.LastCheck != nil && (latest == nil || p.LastCheck.UTC > latest.UTC) {
			latest = p.LastCheck
		}
		sum.OpenIncidents += p.OpenIncs
		sum.Products = append(sum.Products, apiProductLine{ID: p.ID, Name: p.Name, Group: p.Group, Status: p.Status, Reasons: reasons(p),
			Uptime: uptimeMap(p), P95Ms: opt(p.P95), ErrorRate: opt(p.ErrorRate), OpenIncidents: p.OpenIncs, StaleSources: p.Stale,
			Page: b.absURL("/products/" + p.ID + "/"), API: b.absURL("/api/products/" + p.ID + ".json")})

		pa := apiProduct{SchemaVersion: APISchemaVersion, ID: p.ID, Name: p.Name, Group: p.Group, URL: p.URL,
			Repository: p.Repository, Status: p.Status, Reasons: reasons(p), LastSnapshot: tsp(p.LastCheck), Uptime: uptimeMap(p),
			Latency:   apiLatency{P50Ms: opt(p.P50), P95Ms: opt(p.P95), Source: p.LatencySrc, ThresholdMs: p.RespThresh},
			ErrorRate: apiThresholded{Value: opt(p.ErrorRate), Threshold: p.ErrThresh},
			SLO: apiSLO{ObjectivePercent: p.Objective, WindowDays: 30, Checks: p.Budget.Checks.Total, FailedChecks: p.Budget.Checks.Bad(),
				BudgetRemaining: opt(p.BudgetLeft), BurnRate1h: opt(p.Burn1h), BurnRate6h: opt(p.Burn6h)},
			Deployments: apiDeployments{SuccessRate30d: opt(p.DeployOK30), Recent: []apiDeployment{}},
			Incidents:   []apiIncident{}, Freshness: []apiFreshness{}, Alerts: []apiAlert{}}
		var days []apiDay
		for _, d := range p.Strip.Days {
			day := apiDay{Date: d.Day.Format(time.DateOnly), Checks: d.Checks.Total, FailedChecks: d.Checks.Bad(),
				Incidents: d.Incidents, Deployments: d.Deploys, FailedDeployments: d.Failed, Class: d.Class}
			if pct, ok := d.Checks.Percent(); ok {
				v := round(pct, 4)
				day.Uptime = &v
			}
			if day.Incidents == nil {
				day.Incidents = []int{}
			}
			if d.Day.AddDate(0, 0, 1).After(p.data.at) {
				pa.UptimeToday = &day // not over yet
				continue
			}
			days = append(days, day)
		}
		daysDoc := "api/products/" + p.ID + "/days.json"
		pa.UptimeDaysURL = b.absURL("/" + daysDoc)
		if days == nil {
			days = []apiDay{}
		}
		if err := b.putJSON(daysDoc, map[string]any{"schema_version": APISchemaVersion, "id": p.ID, "uptime_days": days}); err != nil {
			return err
		}
		for _, d := range p.Deploys {
			pa.Deployments.Recent = append(pa.Deployments.Recent, apiDeployment{Time: d.Time.UTC, SHA: d.SHA, Outcome: d.Outcome, URL: d.URL})
		}
		for _, i := range p.Incidents {
			pa.Incidents = append(pa.Incidents, apiIncident{Number: i.Number, Title: i.Title, URL: i.URL, Open: i.Open,
				CreatedAt: i.Created.UTC, ClosedAt: tsp(i.Closed)})
		}
		for _, f := range p.Freshness {
			pa.Freshness = append(pa.Freshness, apiFreshness{Source: f.Source, State: f.State, LastOK: tsp(f.LastOK), Stale: f.Stale})
		}
		for _, r := range dv.Report.Products {
			if r.ID == p.ID {
				c := r.Comparison
				pa.DORA = &c
			}
		}
		for _, w := range dv.Weekly.Products {
			if w.ID == p.ID {
				// The product's weekly DORA figures of the complete weeks: a document of their
				// own, which changes once a week (the current week's figures move with every
				// run: they are in dora.current and api/dora.json).
				weeks, figs := dv.Weekly.Weeks, w.Figures
				if n := len(weeks); n > 0 && weeks[n-1].Partial && len(figs) == n {
					weeks, figs = weeks[:n-1], figs[:n-1]
				}
				if err := b.putJSON("api/dora/"+p.ID+".json", map[string]any{"schema_version": APISchemaVersion,
					"id": p.ID, "weeks": weeks, "figures": figs}); err != nil {
					return err
				}
			}
		}
		for _, a := range al.Active {
			if a.Product == p.ID {
				pa.Alerts = append(pa.Alerts, b.apiAlert(a))
			}
		}
		var reports []apiImpactReport
		pa.Impact, reports = b.apiImpact(p)
		impactDoc := "api/products/" + p.ID + "/impact.json"
		pa.Impact.ReportsURL = b.absURL("/" + impactDoc)
		if err := b.putJSON(impactDoc, apiImpactReports{SchemaVersion: APISchemaVersion, ID: p.ID, Reports: reports}); err != nil {
			return err
		}
		if err := b.putJSON("api/products/"+p.ID+".json", pa); err != nil {
			return err
		}
	}
	sum.Status = status.Worst(statuses...)
	sum.Headline = status.Headline(statuses)
	sum.StatusCounts = map[string]int{}
	for _, c := range status.Counts(statuses) {
		sum.StatusCounts[c.Status] = c.N
	}
	sum.DataAsOf = tsp(latest)
	if al.Available {
		c := &apiAlertCounts{}
		for _, a := range al.Active {
			switch a.Severity {
			case "critical":
				c.Critical++
			case "warning":
				c.Warning++
			case "info":
				c.Info++
			}
		}
		sum.ActiveAlerts = c
	}
	pc := dv.Report.Portfolio
	for _, m := range dora.Metrics {
		sum.DORA.Metrics[m] = apiDORAMetric{Value: metricValue(m, pc.Current), Level: levelOf(m, pc.Current), Trend: trendOf(m, pc.Trend)}
	}
	if err := b.putJSON("api/summary.json", sum); err != nil {
		return err
	}

	aa := apiAlerts{SchemaVersion: APISchemaVersion, Available: al.Available, LastRun: tsp(al.LastRun),
		Active: []apiAlert{}, History: []apiHistory{}, Channels: []apiChannel{}}
	for _, a := range al.Active {
		aa.Active = append(aa.Active, b.apiAlert(a))
	}
	// The transitions of the last 90 days, a document a day (site time zone), oldest first:
	// a day that is over never changes.
	days := map[string]*apiAlertDay{}
	var order []string
	for _, t := range al.raw.Transitions {
		if t.At.After(b.now) || t.At.Before(b.now.Add(-history)) {
			continue
		}
		d := t.At.In(b.loc).Format(time.DateOnly)
		if days[d] == nil {
			days[d] = &apiAlertDay{SchemaVersion: APISchemaVersion, Date: d}
			order = append(order, d)
		}
		days[d].Transitions = append(days[d].Transitions, apiTransition{At: b.tv(t.At).UTC, Fingerprint: t.Fingerprint, Product: t.Product,
			Rule: t.Rule, Subject: t.Subject, Severity: t.Severity, From: t.From, To: t.To, Value: round(t.Value, 4),
			Threshold: round(t.Threshold, 4), Unit: t.Unit, Summary: t.Summary})
	}
	for _, d := range order {
		name := "api/alerts/" + d + ".json"
		if err := b.putJSON(name, days[d]); err != nil {
			return err
		}
		aa.History = append(aa.History, apiHistory{Date: d, Transitions: len(days[d].Transitions), URL: b.absURL("/" + name)})
	}
	for _, c := range al.Channels {
		aa.Channels = append(aa.Channels, apiChannel{Name: c.Name, Enabled: c.Enabled, Failing: c.Failing, Failures: c.Failures,
			Undelivered: c.Undelivered, LastSuccess: tsp(c.LastSuccess), LastFailure: tsp(c.LastFailure)})
	}
	if err := b.putJSON("api/alerts.json", aa); err != nil {
		return err
	}

	suspects := []apiSuspects{}
	for _, r := range dv.Products {
		suspects = append(suspects, apiSuspects{ID: r.ID, Judged: r.Judged, Suspects: r.Suspects})
	}
	var asOf *string
	if !dv.DataAsOf.IsZero() {
		s := dv.DataAsOf.UTC().Format(time.RFC3339)
		asOf = &s
	}
	return b.putJSON("api/dora.json", apiDORA{SchemaVersion: APISchemaVersion, DataAsOf: asOf,
		WindowDays: dv.WindowDays, Portfolio: dv.Report.Portfolio, Products: dv.Report.Products,
		Weekly: apiWeekly{Weeks: dv.Weekly.Weeks, Portfolio: dv.Weekly.Portfolio}, Suspects: suspects})
}

func levelOf(m string, f dora.Figures) *string {
	switch m {
	case dora.MetricDeploymentFrequency:
		return f.DeploymentFrequency.Level
	case dora.MetricLeadTime:
		return f.LeadTime.Level
	case dora.MetricChangeFailureRate:
		return f.ChangeFailureRate.Level
	case dora.MetricTimeToRestore:
		return f.TimeToRestore.Level
	case dora.MetricFailedDeploymentRecoveryTime:
		return f.FailedDeploymentRecoveryTime.Level
	case dora.MetricReworkRate:
		return f.ReworkRate.Level
	}
	return nil
}

func trendOf(m string, t dora.Trend) string {
	switch m {
	case dora.MetricDeploymentFrequency:
		return t.DeploymentFrequency
	case dora.MetricLeadTime:
		return t.LeadTime
	case dora.MetricChangeFailureRate:
		return t.ChangeFailureRate
	case dora.MetricTimeToRestore:
		return t.TimeToRestore
	case dora.MetricFailedDeploymentRecoveryTime:
		return t.FailedDeploymentRecoveryTime
	case dora.MetricReworkRate:
		return t.ReworkRate
	}
	return ""
}

// apiImpact sums up the product's deployment impact and lists the deployments of the DORA
// window with data around them, newest first.
func (b *build) apiImpact(p *productView) (apiImpact, []apiImpactReport) {
	iv := p.Impact
	out := apiImpact{BeforeMinutes: int(iv.Settings.Before / time.Minute), AfterMinutes: int(iv.Settings.After / time.Minute),
		WindowDays: iv.WindowDays, Deployments: iv.Total, Judged: iv.Judged, Suspects: iv.Suspects}
	reports := []apiImpactReport{}
	from := p.data.at.Add(-time.Duration(iv.WindowDays) * 24 * time.Hour)
	sha := func(n *impact.Neighbour) *string {
		if n == nil {
			return nil
		}
		s := shortSHA(n.SHA)
		return &s
	}
	win := func(w impact.Window) apiImpactWindow {
		return apiImpactWindow{From: b.tv(w.From).UTC, To: b.tv(w.To).UTC, Runs: w.Runs}
	}
	for i := len(iv.Reports) - 1; i >= 0; i-- {
		r := iv.Reports[i]
		d := r.Deployment
		if d.Time.Before(from) || !hasData(r) {
			continue
		}
		x := apiImpactReport{ID: d.ID, Time: b.tv(d.Time).UTC, SHA: d.SHA, Outcome: d.Outcome, Suspect: r.Suspect(), Open: r.Open,
			Previous: sha(r.Previous), Next: sha(r.Next), Before: win(r.Before), After: win(r.After), Metrics: []apiImpactMetric{}}
		if SafeURL(d.URL) {
			x.URL = d.URL
		}
		for _, c := range r.Metrics {
			x.Metrics = append(x.Metrics, apiImpactMetric{Metric: c.Metric, Event: c.Event, Stat: c.Stat, Unit: c.Unit,
				Before: c.Before, After: c.After, BeforeN: c.BeforeN, AfterN: c.AfterN, NUnit: c.NUnit, BeforeLow: c.Low,
				BeforeHigh: c.High, Ratio: c.Ratio, Z: c.Z, Verdict: c.Verdict, Reason: c.Reason, Rule: c.Rule})
		}
		reports = append(reports, x)
	}
	return out, reports
}
