package digest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/impact"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/status"
)

// Input is what a digest is computed from.
type Input struct {
	Config *config.Config // loaded, defaults applied
	Period Period
	// Products are the products the digest covers, in config order.
	Products []ProductRecords
	// Transitions are the alert state's transitions (data/alerts.json): what fired and
	// resolved, and what was firing at the period's edges.
	Transitions []alert.Transition
	Demo        bool
}

// ProductRecords are one product's stored records. Snapshots must be sorted and cover the
// period, the one before, and the SLO window before the period's end (Need).
type ProductRecords struct {
	Product     config.Product
	Snapshots   []record.Snapshot
	Deployments []record.Deployment
	Incidents   []record.Incident
	Days        []record.AnalyticsDay
	// Damaged names a data file that could not be read ("data damaged: …"): what it holds is
	// missing from the digest, which says so.
	Damaged []string
}

// Need is the earliest time whose snapshots the digest of p reads.
func Need(p Period) time.Time {
	return minTime(p.PrevStart, p.End.Add(-health.SLOWindow)).Add(-24 * time.Hour)
}

// Digest is the content of one period's digest: what the email, the Slack message, the page
// and api/digest/<period>.json show. Every figure carries the URL of its page on the site.
type Digest struct {
	SchemaVersion int    `json:"schema_version"`
	Period        Period `json:"period"`
	Label         string `json:"label"` // "23 Nov – 30 Nov 2026"
	Timezone      string `json:"timezone"`
	SiteTitle     string `json:"site_title"`
	SiteURL       string `json:"site_url"`
	URL           string `json:"url"` // the digest's page
	Demo          bool   `json:"demo"`
	Top           int    `json:"top"` // how many products a list of the email or Slack shows

	Status    StatusPart    `json:"status"`
	Products  []ProductLine `json:"products"` // worst first
	Changes   []Change      `json:"changes"`  // the biggest three
	DORA      DORAPart      `json:"dora"`
	Incidents IncidentsPart `json:"incidents"`
	Alerts    AlertsPart    `json:"alerts"`
	// Slowest, ErrorProne and Budget rank the products (every one with data; the renderings
	// show the first Top).
	Slowest    []Ranked `json:"slowest"`
	ErrorProne []Ranked `json:"error_prone"`
	Budget     []Ranked `json:"error_budget"`
	Damaged    []string `json:"damaged"`
}

// StatusPart is the portfolio's status at the end of the period and at its start.
type StatusPart struct {
	Status         string         `json:"status"`
	PreviousStatus string         `json:"previous_status"`
	Headline       string         `json:"headline"`
	Counts         map[string]int `json:"counts"`
	Products       int            `json:"products"`
	URL            string         `json:"url"`
}

// ProductLine is one product's week against the week before.
type ProductLine struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Group          string   `json:"group,omitempty"`
	URL            string   `json:"url"`
	Status         string   `json:"status"` // at the end of the period
	StatusReason   string   `json:"status_reason,omitempty"`
	PreviousStatus string   `json:"previous_status"` // at its start
	Uptime         *float64 `json:"uptime_percent"`
	PrevUptime     *float64 `json:"previous_uptime_percent"`
	P95            *float64 `json:"p95_ms"`
	PrevP95        *float64 `json:"previous_p95_ms"`
	ErrorRate      *float64 `json:"error_rate_percent"`
	PrevErrorRate  *float64 `json:"previous_error_rate_percent"`
	Objective      float64  `json:"objective_percent"`
	BudgetLeft     *float64 `json:"budget_remaining_percent"` // at the end, over 30 days
	Deployments    int      `json:"deployments"`
	FailedDeploys  int      `json:"failed_deployments"`
	Opened         int      `json:"incidents_opened"`
}

// Change is one of the biggest changes of the period, in words.
type Change struct {
	Product    string   `json:"product"`
	Text       string   `json:"text"` // "Payments API's p95 response time rose from 257 ms to 935 ms after Saturday's deployment of e2832db"
	Worse      bool     `json:"worse"`
	Metric     string   `json:"metric"`
	Before     *float64 `json:"before"`
	After      *float64 `json:"after"`
	Unit       string   `json:"unit"`
	Deployment string   `json:"deployment,omitempty"` // short sha
	URL        string   `json:"url"`
	score      float64
	also       string
}

// DORAPart is the four keys over the period against the one before.
type DORAPart struct {
	WindowDays int          `json:"window_days"`
	URL        string       `json:"url"`
	Portfolio  []Key        `json:"portfolio"`
	Products   []ProductKey `json:"products"` // the weakest first
}

// Key is one DORA metric: its value, level and trend.
type Key struct {
	Metric   string   `json:"metric"`
	Name     string   `json:"name"`
	Value    *float64 `json:"value"` // per day, seconds or ratio 0–1
	Previous *float64 `json:"previous"`
	Text     string   `json:"text"` // "1.3/day", "2.1 h", "12 %", "—"
	Level    string   `json:"level,omitempty"`
	Trend    string   `json:"trend"`
}

// ProductKey is one product's four keys.
type ProductKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
	Keys []Key  `json:"keys"`
	rank int
}

// IncidentsPart counts the period's incidents.
type IncidentsPart struct {
	Opened         int            `json:"opened"`
	Resolved       int            `json:"resolved"`
	PrevOpened     int            `json:"previous_opened"`
	OpenAtEnd      int            `json:"open_at_end"`
	MedianRestore  *float64       `json:"median_restore_seconds"` // of the period's resolved incidents
	PrevRestore    *float64       `json:"previous_median_restore_seconds"`
	List           []IncidentLine `json:"list"` // opened or resolved in the period, newest first
	RestoreText    string         `json:"median_restore_text"`
	PrevRestoreTxt string         `json:"previous_median_restore_text"`
}

// IncidentLine is one incident of the period.
type IncidentLine struct {
	Product  string     `json:"product"`
	Name     string     `json:"product_name"`
	Number   int        `json:"number"`
	Title    string     `json:"title"` // untrusted: escaped by every rendering
	Opened   time.Time  `json:"opened"`
	Resolved *time.Time `json:"resolved"`
	Restore  *float64   `json:"restore_seconds"`
	URL      string     `json:"url"`
}

// AlertsPart counts the alerts that fired and resolved in the period, by severity.
type AlertsPart struct {
	Fired        map[string]int `json:"fired"`
	Resolved     map[string]int `json:"resolved"`
	PrevFired    map[string]int `json:"previous_fired"`
	FiringAtEnd  int            `json:"firing_at_end"`
	URL          string         `json:"url"`
	HistoryURL   string         `json:"history_url,omitempty"` // the alerts page of the month of the period's latest alert
	Known        bool           `json:"known"`                 // an alert evaluation has run
	TotalFired   int            `json:"total_fired"`
	TotalPrev    int            `json:"total_previous_fired"`
	TotalResolve int            `json:"total_resolved"`
}

// Ranked is a product's figure in a ranking.
type Ranked struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	URL      string   `json:"url"`
	Value    float64  `json:"value"`
	Previous *float64 `json:"previous"`
	Unit     string   `json:"unit"`
	Text     string   `json:"text"`
}

// SchemaVersion is the version of api/digest/<period>.json (the site's API version).
const SchemaVersion = 3

// Compute is the digest of in.Period. It is pure: the same input gives the same digest.
func Compute(in Input) *Digest {
	parts := make([]Part, len(in.Products))
	for i, pr := range in.Products {
		parts[i] = Summarize(in.Config, in.Period, pr, in.Transitions)
	}
	return Assemble(in.Config, in.Period, parts, in.Transitions, in.Demo)
}

// Part is one product's share of a digest (Summarize), so that a caller holding many
// products' history (the site build) can summarise each product as it reads it and let go of
// its snapshots before the next.
type Part struct {
	line               ProductLine
	incidents          []IncidentLine
	opened, resolved   int
	prevOpened, openAt int
	restores, prevRest []float64
	changes            []Change
	dora               dora.Input
	damaged            []string
	// HasData says the product has a snapshot in the period; known that it has one before its
	// end (a product added to the config later is not in the digests of before it was).
	HasData bool
	known   bool
}

// Summarize computes one product's part of the digest of per. Records at or after the
// period's end are left out, and an incident closed after it is open at its end.
func Summarize(cfg *config.Config, per Period, pr ProductRecords, trs []alert.Transition) Part {
	loc := cfg.Site.Location()
	base := strings.TrimRight(cfg.Site.BaseURL, "/")
	p := pr.Product
	pr = cutAt(pr, per.End)
	pt := Part{dora: dora.Input{Product: p, Deployments: pr.Deployments, Incidents: pr.Incidents}}
	for _, dmg := range pr.Damaged {
		pt.damaged = append(pt.damaged, p.Name+": "+dmg)
	}
	purl := base + "/products/" + p.ID + "/"
	cur := health.Window(pr.Snapshots, per.Start, per.End)
	prev := health.Window(pr.Snapshots, per.PrevStart, per.Start)
	pt.HasData = len(cur) > 0
	pt.known = len(health.Window(pr.Snapshots, Need(per), per.End)) > 0
	line := ProductLine{ID: p.ID, Name: p.Name, Group: p.Group, URL: purl, Objective: p.AlertingConfig.UptimeThreshold}
	v := statusAt(pr, trs, per.End, loc)
	line.Status = v.Status
	if len(v.Reasons) > 0 {
		line.StatusReason = v.Reasons[0]
	}
	line.PreviousStatus = statusAt(pr, trs, per.Start, loc).Status
	line.Uptime, line.PrevUptime = uptime(cur), uptime(prev)
	line.P95, line.PrevP95 = p95(cur), p95(prev)
	line.ErrorRate, line.PrevErrorRate = errRate(cur), errRate(prev)
	if b := health.ErrorBudget(pr.Snapshots, p.AlertingConfig.UptimeThreshold, per.End.Add(-time.Nanosecond)); b.Checks.Total > 0 {
		line.BudgetLeft = ptr(round(math.Max(b.Remaining, -9.99)*100, 1))
	}
	for _, x := range pr.Deployments {
		if in2(x.Time, per.Start, per.End) {
			switch x.Outcome {
			case "success":
				line.Deployments++
			case "failure":
				line.FailedDeploys++
			}
		}
	}
	for _, x := range pr.Incidents {
		if !x.Counts() {
			continue
		}
		closed := x.ClosedAt != nil
		if in2(x.CreatedAt, per.PrevStart, per.Start) {
			pt.prevOpened++
		}
		if closed && in2(*x.ClosedAt, per.PrevStart, per.Start) {
			pt.prevRest = append(pt.prevRest, x.ClosedAt.Sub(x.CreatedAt).Seconds())
		}
		if !closed {
			pt.openAt++
		}
		opened := in2(x.CreatedAt, per.Start, per.End)
		resolved := closed && in2(*x.ClosedAt, per.Start, per.End)
		if opened {
			pt.opened++
			line.Opened++
		}
		if !opened && !resolved {
			continue
		}
		il := IncidentLine{Product: p.ID, Name: p.Name, Number: x.Number, Title: x.Title, Opened: x.CreatedAt,
			URL: fmt.Sprintf("%s#incident-%d", purl, x.Number)}
		if resolved {
			pt.resolved++
			s := x.ClosedAt.Sub(x.CreatedAt).Seconds()
			pt.restores = append(pt.restores, s)
			il.Resolved, il.Restore = ptr(x.ClosedAt.UTC()), ptr(s)
		}
		pt.incidents = append(pt.incidents, il)
	}
	pt.line = line
	pt.changes = changes(pr, line, per, loc, purl)
	return pt
}

// cutAt leaves out what happened at or after t: snapshots, deployments, incidents opened
// (and closes: an incident closed at or after t is open at t).
func cutAt(pr ProductRecords, t time.Time) ProductRecords {
	pr.Snapshots = health.Window(pr.Snapshots, time.Time{}, t)
	var deps []record.Deployment
	for _, x := range pr.Deployments {
		if x.Time.Before(t) {
			deps = append(deps, x)
		}
	}
	pr.Deployments = deps
	var incs []record.Incident
	for _, x := range pr.Incidents {
		if !x.CreatedAt.Before(t) {
			continue
		}
		if x.ClosedAt != nil && !x.ClosedAt.Before(t) {
			x.ClosedAt, x.StateReason = nil, ""
		}
		incs = append(incs, x)
	}
	pr.Incidents = incs
	return pr
}

// Assemble puts the products' parts (config order) together into the digest of per.
func Assemble(cfg *config.Config, per Period, parts []Part, trs []alert.Transition, demo bool) *Digest {
	loc := cfg.Site.Location()
	base := strings.TrimRight(cfg.Site.BaseURL, "/")
	top := cfg.Digest.WithDefaults().Top
	d := &Digest{SchemaVersion: SchemaVersion, Period: per, Label: per.Label(loc), Timezone: loc.String(),
		SiteTitle: cfg.Site.Title, SiteURL: base + "/", URL: base + "/" + per.Path(), Demo: demo, Top: top}
	if d.SiteTitle == "" {
		d.SiteTitle = "Portfolio"
	}
	link := func(p string) string { return base + "/" + p }

	var statuses, prevStatuses []string
	var doraIn []dora.Input
	var restores, prevRestores []float64
	covered := map[string]bool{}
	for _, pt := range parts {
		d.Damaged = append(d.Damaged, pt.damaged...)
		if !pt.known {
			continue
		}
		covered[pt.line.ID] = true
		statuses = append(statuses, pt.line.Status)
		prevStatuses = append(prevStatuses, pt.line.PreviousStatus)
		d.Products = append(d.Products, pt.line)
		d.Incidents.Opened += pt.opened
		d.Incidents.Resolved += pt.resolved
		d.Incidents.PrevOpened += pt.prevOpened
		d.Incidents.OpenAtEnd += pt.openAt
		d.Incidents.List = append(d.Incidents.List, pt.incidents...)
		restores = append(restores, pt.restores...)
		prevRestores = append(prevRestores, pt.prevRest...)
		doraIn = append(doraIn, pt.dora)
		d.Changes = append(d.Changes, pt.changes...)
	}

	d.Status = StatusPart{Status: status.Worst(statuses...), PreviousStatus: status.Worst(prevStatuses...),
		Headline: status.Headline(statuses), Counts: map[string]int{}, Products: len(statuses), URL: link("")}
	if len(statuses) == 0 {
		d.Status.Status, d.Status.PreviousStatus = status.Unknown, status.Unknown
	}
	for _, c := range status.Counts(statuses) {
		d.Status.Counts[c.Status] = c.N
	}
	if d.Products == nil {
		d.Products = []ProductLine{}
	}
	slices.SortStableFunc(d.Products, func(a, b ProductLine) int {
		if status.Worse(a.Status, b.Status) {
			return -1
		}
		if status.Worse(b.Status, a.Status) {
			return 1
		}
		if c := cmp.Compare(b.Opened, a.Opened); c != 0 {
			return c
		}
		if c := cmp.Compare(orMax(a.Uptime), orMax(b.Uptime)); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})

	// Incidents: newest first; restore medians.
	slices.SortStableFunc(d.Incidents.List, func(a, b IncidentLine) int {
		if c := b.Opened.Compare(a.Opened); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Product, b.Product); c != 0 {
			return c
		}
		return cmp.Compare(a.Number, b.Number)
	})
	d.Incidents.MedianRestore, d.Incidents.PrevRestore = median(restores), median(prevRestores)
	d.Incidents.RestoreText, d.Incidents.PrevRestoreTxt = durText(d.Incidents.MedianRestore), durText(d.Incidents.PrevRestore)
	if d.Incidents.List == nil {
		d.Incidents.List = []IncidentLine{}
	}

	d.Alerts = alertsOf(cfg, per, trs, covered, link)
	d.DORA = doraOf(cfg, doraIn, per, link)
	d.rank(link)

	slices.SortStableFunc(d.Changes, func(a, b Change) int {
		if a.Worse != b.Worse {
			if a.Worse {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.Text, b.Text)
	})
	if len(d.Changes) > 3 {
		d.Changes = d.Changes[:3]
	}
	if d.Changes == nil {
		d.Changes = []Change{}
	}
	if d.Damaged == nil {
		d.Damaged = []string{}
	}
	return d
}

// statusAt is the product's status at t, by the site's rules (generator/status), with the
// alerts that were firing at t by the alert state's transitions.
func statusAt(pr ProductRecords, trs []alert.Transition, t time.Time, loc *time.Location) status.Verdict {
	p := pr.Product
	ac := p.AlertingConfig
	snaps := health.Window(pr.Snapshots, t.Add(-25*time.Hour), t)
	if n := len(snaps); n > 0 {
		// As of the product's newest data, as its page is: a period that ends after the data
		// stopped shows the last status the data knew, not "no check for a day".
		t = snaps[n-1].Time.Add(time.Nanosecond)
	}
	in := status.Input{Now: t, Checks: status.ChecksOf(snaps), FailureThreshold: ac.FailureThreshold, Loc: loc}
	for _, x := range pr.Incidents {
		if x.CreatedAt.Before(t) && (x.ClosedAt == nil || !x.ClosedAt.Before(t)) {
			in.OpenIncidents = append(in.OpenIncidents, fmt.Sprintf("#%d %s", x.Number, x.Title))
		}
	}
	last := map[string]alert.Transition{}
	var order []string
	for _, tr := range trs {
		if tr.Product != p.ID || !tr.At.Before(t) {
			continue
		}
		if _, ok := last[tr.Fingerprint]; !ok {
			order = append(order, tr.Fingerprint)
		}
		last[tr.Fingerprint] = tr
	}
	slices.Sort(order)
	for _, fp := range order {
		if tr := last[fp]; tr.To == alert.Firing {
			in.Alerts = append(in.Alerts, status.Alert{Rule: tr.Rule, Subject: tr.Subject, Severity: tr.Severity, Summary: tr.Summary})
		}
	}
	if len(snaps) > 0 {
		in.Breaches = status.Breaches(ac, snaps, snaps[len(snaps)-1].Time)
	}
	for _, m := range p.Maintenance {
		if start, end, ok := m.Window(); ok {
			in.Maintenance = append(in.Maintenance, status.Window{Start: start, End: end, Summary: m.Summary})
		}
	}
	return status.Of(in)
}

func alertsOf(cfg *config.Config, per Period, trs []alert.Transition, covered map[string]bool, link func(string) string) AlertsPart {
	a := AlertsPart{Fired: map[string]int{}, Resolved: map[string]int{}, PrevFired: map[string]int{},
		URL: link("alerts/"), Known: len(trs) > 0}
	for _, s := range alert.Severities {
		a.Fired[s], a.Resolved[s], a.PrevFired[s] = 0, 0, 0
	}
	last := map[string]alert.Transition{}
	for _, t := range trs {
		if !covered[t.Product] || t.Rule == alert.RuleDeployment {
			continue
		}
		if t.At.Before(per.End) {
			last[t.Fingerprint] = t
		}
		switch {
		case t.To == alert.Firing && in2(t.At, per.Start, per.End):
			a.Fired[t.Severity]++
			a.TotalFired++
			// The month of the period's latest alert has a history page on the site.
			a.HistoryURL = link("alerts/" + t.At.In(cfg.Site.Location()).Format("2006-01") + "/")
		case t.To == alert.Firing && in2(t.At, per.PrevStart, per.Start):
			a.PrevFired[t.Severity]++
			a.TotalPrev++
		case t.To == alert.Resolved && t.From == alert.Firing && in2(t.At, per.Start, per.End):
			a.Resolved[t.Severity]++
			a.TotalResolve++
		}
	}
	for _, t := range last {
		if t.To == alert.Firing {
			a.FiringAtEnd++
		}
	}
	return a
}

func doraOf(cfg *config.Config, in []dora.Input, per Period, link func(string) string) DORAPart {
	dc := cfg.DORA
	dc.WindowDays = int(math.Round(per.End.Sub(per.Start).Hours() / 24))
	rep := dora.Compute(dc, in, per.End)
	part := DORAPart{WindowDays: dc.WindowDays, URL: link("dora/"), Portfolio: keys(rep.Portfolio)}
	for i, pr := range rep.Products {
		p := in[i].Product
		pk := ProductKey{ID: p.ID, Name: p.Name, URL: link("products/" + p.ID + "/#dora-tiles"), Keys: keys(pr.Comparison)}
		for _, k := range pk.Keys {
			pk.rank += levelRank(k.Level)*4 + map[string]int{dora.Declining: 2, dora.Flat: 0, dora.Improving: -1}[k.Trend]
		}
		part.Products = append(part.Products, pk)
	}
	slices.SortStableFunc(part.Products, func(a, b ProductKey) int {
		if c := cmp.Compare(b.rank, a.rank); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if part.Products == nil {
		part.Products = []ProductKey{}
	}
	return part
}

func levelRank(l string) int {
	return map[string]int{dora.Elite: 0, dora.High: 1, dora.Medium: 2, dora.Low: 3}[l]
}

func keys(c dora.Comparison) []Key {
	cur, prev := c.Current, c.Previous
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	perDay := func(f dora.Figures) *float64 {
		if f.DeploymentFrequency.Successful == 0 && f.DeploymentFrequency.Failed == 0 {
			return ptr(0.0)
		}
		return ptr(f.DeploymentFrequency.PerDay)
	}
	return []Key{
		{Metric: dora.MetricDeploymentFrequency, Name: "Deployment frequency", Value: perDay(cur), Previous: perDay(prev),
			Text: freqText(cur.DeploymentFrequency.PerDay), Level: str(cur.DeploymentFrequency.Level), Trend: c.Trend.DeploymentFrequency},
		{Metric: dora.MetricLeadTime, Name: "Lead time for changes", Value: cur.LeadTime.MedianSeconds, Previous: prev.LeadTime.MedianSeconds,
			Text: durText(cur.LeadTime.MedianSeconds), Level: str(cur.LeadTime.Level), Trend: c.Trend.LeadTime},
		{Metric: dora.MetricChangeFailureRate, Name: "Change failure rate", Value: cur.ChangeFailureRate.Rate, Previous: prev.ChangeFailureRate.Rate,
			Text: ratioText(cur.ChangeFailureRate.Rate), Level: str(cur.ChangeFailureRate.Level), Trend: c.Trend.ChangeFailureRate},
		{Metric: dora.MetricTimeToRestore, Name: "Time to restore service", Value: cur.TimeToRestore.MedianSeconds, Previous: prev.TimeToRestore.MedianSeconds,
			Text: durText(cur.TimeToRestore.MedianSeconds), Level: str(cur.TimeToRestore.Level), Trend: c.Trend.TimeToRestore},
	}
}

// rank fills the rankings: slowest by p95, most error-prone by error rate, least error budget.
func (d *Digest) rank(link func(string) string) {
	for _, l := range d.Products {
		if l.P95 != nil {
			d.Slowest = append(d.Slowest, Ranked{ID: l.ID, Name: l.Name, URL: l.URL + "#health-h", Value: *l.P95, Previous: l.PrevP95, Unit: "ms", Text: msText(*l.P95)})
		}
		if l.ErrorRate != nil {
			d.ErrorProne = append(d.ErrorProne, Ranked{ID: l.ID, Name: l.Name, URL: l.URL + "#health-h", Value: *l.ErrorRate, Previous: l.PrevErrorRate, Unit: "%", Text: pctText(*l.ErrorRate)})
		}
		if l.BudgetLeft != nil {
			d.Budget = append(d.Budget, Ranked{ID: l.ID, Name: l.Name, URL: l.URL + "#slo-h", Value: *l.BudgetLeft, Unit: "%", Text: budgetText(*l.BudgetLeft)})
		}
	}
	byValue := func(desc bool) func(a, b Ranked) int {
		return func(a, b Ranked) int {
			c := cmp.Compare(a.Value, b.Value)
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
			return cmp.Compare(a.Name, b.Name)
		}
	}
	slices.SortStableFunc(d.Slowest, byValue(true))
	slices.SortStableFunc(d.ErrorProne, byValue(true))
	slices.SortStableFunc(d.Budget, byValue(false))
	for _, r := range []*[]Ranked{&d.Slowest, &d.ErrorProne, &d.Budget} {
		if *r == nil {
			*r = []Ranked{}
		}
	}
}

// changes are the product's candidates for the biggest changes: every metric a deployment of
// the period moved (generator/impact's regressions and improvements), else the week's figures
// against the week before when they moved by the impact rules' own thresholds.
func changes(pr ProductRecords, line ProductLine, per Period, loc *time.Location, purl string) []Change {
	p := pr.Product
	set := impact.SettingsOf(p.Impact)
	var out []Change
	reps := impact.Analyze(impact.Input{Product: p, Snapshots: pr.Snapshots, Deployments: pr.Deployments, Days: pr.Days,
		Settings: set, From: per.Start, Now: per.End})
	for _, r := range reps {
		if !in2(r.Deployment.Time, per.Start, per.End) {
			continue
		}
		sha := r.Deployment.SHA
		if len(sha) > 7 {
			sha = sha[:7]
		}
		day := r.Deployment.Time.In(loc).Format("Monday")
		if per.End.Sub(per.Start) > 7*24*time.Hour {
			day = r.Deployment.Time.In(loc).Format("Monday 2 Jan")
		}
		// One change per deployment and direction: its biggest metric, naming the others.
		var found []Change
		for _, c := range r.Metrics {
			if (c.Verdict != impact.Regression && c.Verdict != impact.Improvement) || c.Before == nil || c.After == nil {
				continue
			}
			ch := Change{Product: p.ID, Worse: c.Verdict == impact.Regression, Metric: c.Key(), Before: c.Before, After: c.After,
				Unit: c.Unit, Deployment: sha, URL: purl + "#impact"}
			ch.Text = fmt.Sprintf("%s %s %s from %s to %s after %s's deployment of %s", possessive(p.Name), metricName(c), verb(*c.After > *c.Before),
				valueText(*c.Before, c.Unit), valueText(*c.After, c.Unit), day, sha)
			ch.score = score(*c.Before, *c.After, c.Unit) + 1 // a deployment's change outranks a drift
			ch.also = metricName(c)
			found = append(found, ch)
		}
		for _, worse := range []bool{true, false} {
			var best *Change
			var others []string
			for i := range found {
				if found[i].Worse != worse {
					continue
				}
				if best == nil || found[i].score > best.score {
					if best != nil {
						others = append(others, best.also)
					}
					best = &found[i]
				} else {
					others = append(others, found[i].also)
				}
			}
			if best == nil {
				continue
			}
			if len(others) > 0 {
				slices.Sort(others)
				best.Text += " (also " + strings.Join(others, ", ") + ")"
			}
			out = append(out, *best)
		}
	}
	if len(out) > 0 {
		return out
	}
	// No deployment moved anything: the week against the week before.
	drift := func(metric, name, unit string, before, after *float64, worse bool) {
		ch := Change{Product: p.ID, Worse: worse, Metric: metric, Before: before, After: after, Unit: unit, URL: purl + "#health-h"}
		ch.Text = fmt.Sprintf("%s %s %s from %s to %s against the period before", possessive(p.Name), name, verb(*after > *before),
			valueText(*before, unit), valueText(*after, unit))
		ch.score = score(*before, *after, unit)
		out = append(out, ch)
	}
	if b, a := line.PrevP95, line.P95; b != nil && a != nil && *b > 0 {
		if r := *a / *b; (r >= set.ChangeRatio || r <= 1/set.ChangeRatio) && math.Abs(*a-*b) >= set.LatencyFloorMs {
			drift(impact.MetricResponseTime, "p95 response time", "ms", b, a, *a > *b)
		}
	}
	if b, a := line.PrevErrorRate, line.ErrorRate; b != nil && a != nil && math.Abs(*a-*b) >= set.RateFloor {
		if hi, lo := math.Max(*a, *b), math.Min(*a, *b); hi >= set.ChangeRatio*lo {
			drift(impact.MetricErrorRate, "error rate", "%", b, a, *a > *b)
		}
	}
	if b, a := line.PrevUptime, line.Uptime; b != nil && a != nil && math.Abs(*a-*b) >= set.RateFloor {
		drift(impact.MetricAvailability, "uptime", "%", b, a, *a < *b)
	}
	return out
}

// score is how big a change is, comparable across metrics: the factor between the figures
// (rates with 0.1 percentage point added to both, so 0 → 0.05 % is not infinite).
func score(before, after float64, unit string) float64 {
	if unit == "%" {
		before, after = before+0.1, after+0.1
		if before > 99 || after > 99 { // availability: compare what is missing
			before, after = 100.1-before+0.1, 100.1-after+0.1
		}
	}
	if before <= 0 || after <= 0 {
		return 0
	}
	return math.Abs(math.Log(after / before))
}

func metricName(c impact.Comparison) string {
	switch c.Metric {
	case impact.MetricResponseTime:
		if c.Stat == impact.StatMedian {
			return "median response time"
		}
		return "p95 response time"
	case impact.MetricErrorRate:
		return "error rate"
	case impact.MetricAvailability:
		return "availability"
	case impact.MetricWorkerErrors:
		return "Workers error rate"
	case impact.MetricKeyEvent:
		return c.Event + " events per hour"
	}
	return c.Name()
}

func verb(up bool) string {
	if up {
		return "rose"
	}
	return "fell"
}

func uptime(s []record.Snapshot) *float64 {
	if v, ok := health.Uptime(s).Percent(); ok {
		return ptr(round(v, 3))
	}
	return nil
}

func p95(s []record.Snapshot) *float64 {
	if v, _, ok := health.P95(s); ok {
		return ptr(round(v, 0))
	}
	return nil
}

func errRate(s []record.Snapshot) *float64 {
	if v, ok := health.ErrorRate(s); ok {
		return ptr(round(v, 3))
	}
	return nil
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return ptr(math.Round(v[n/2]))
	}
	return ptr(math.Round((v[n/2-1] + v[n/2]) / 2))
}

func in2(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0
	}
	return r
}

// possessive is "Payments API's", "Docs'".
func possessive(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// orMax is v, or +Inf when nil (no data sorts last in an ascending order).
func orMax(v *float64) float64 {
	if v == nil {
		return math.Inf(1)
	}
	return *v
}
