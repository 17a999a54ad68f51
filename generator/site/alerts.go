package site

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/health"
)

// activeAlert is one firing alert as the pages show it.
type activeAlert struct {
	Fingerprint string
	Severity    string
	Product     string
	ProductName string
	Linked      bool // the product has a page
	Rule        string
	Subject     string
	Summary     string
	Value       string
	Threshold   string
	HasValue    bool // the rule compares a value with a threshold
	Since       timeView
	For         string
	Acked       bool
	IssueURL    string
	// Recovering: the rule no longer breaches but has not yet seen the runs in a row it needs
	// to resolve; Recovery says how far it is and what it needs.
	Recovering bool
	Recovery   string
	ToResolve  int // good runs still needed to resolve
	// Muted says why notifications are held back ("maintenance"); "" when they are not.
	Muted string
	// Links are the alert's references (a deployment's run and commit), http(s) only.
	Links []alert.Link
}

type transitionRow struct {
	At          timeView
	Severity    string
	Product     string
	ProductName string
	Linked      bool
	Rule        string
	Subject     string
	From, To    string
	Value       string
	Threshold   string
	Summary     string
	Fingerprint string
}

type channelRow struct {
	Name        string
	Enabled     bool
	Reason      string
	Failing     bool
	Failures    int
	Undelivered int
	LastError   string
	LastSuccess *timeView
	LastFailure *timeView
}

type severityGroup struct {
	Severity string
	Alerts   []activeAlert
}

// alertsView is the alerts center's body and the alert part of the other pages and the API.
type alertsView struct {
	Available   bool // an alert evaluation has run
	LastRun     *timeView
	Active      []activeAlert
	BySeverity  []severityGroup
	Transitions []transitionRow // last 90 days, newest first
	Channels    []channelRow
	Failing     int
	Products    []filterOpt
	Severities  []string
	raw         alert.State
}

type filterOpt struct{ ID, Name string }

// loadAlerts reads data/alerts.json, written by `portfolio alert`. The file changes only when
// an alert does; the values a firing alert is shown with are the rules' at now, and the time
// of the last evaluation is that of the last run (the newest snapshot).
func (b *build) loadAlerts() (*alertsView, error) {
	s := b.alertState
	av := &alertsView{raw: s, Severities: alert.Severities, Available: b.alertsFound}
	if !av.Available {
		return av, nil
	}
	last := b.now
	var latest time.Time
	for _, p := range b.products {
		if p.LastSnap.After(latest) {
			latest = p.LastSnap
		}
	}
	if !latest.IsZero() {
		last = latest
	}
	av.LastRun = b.tvp(&last)
	s.Alerts = slices.Clone(s.Alerts)
	for i, a := range s.Alerts {
		if p := b.byID[a.Product]; p != nil {
			s.Alerts[i] = p.data.current(a)
		}
	}
	av.raw = s
	name := func(id string) string {
		if p, ok := b.byID[id]; ok {
			return p.Name
		}
		return id
	}
	for _, a := range s.Firing() {
		x := activeAlert{Fingerprint: a.Fingerprint, Severity: a.Severity, Product: a.Product, ProductName: name(a.Product), Linked: b.byID[a.Product] != nil,
			Rule: a.Rule, Subject: a.Subject, Summary: a.Summary, Value: valueText(a.Value, a.Unit), Threshold: valueText(a.Threshold, a.Unit),
			HasValue: (a.Value != 0 || a.Threshold != 0) && a.Unit != alert.UnitLevel, Since: b.tv(a.Since), For: durText(b.now.Sub(a.Since)), Acked: a.Acknowledged}
		if SafeURL(a.IssueURL) {
			x.IssueURL = a.IssueURL
		}
		x.Muted = a.Muted
		for _, l := range a.Links {
			if SafeURL(l.URL) && strings.HasPrefix(l.URL, "http") {
				x.Links = append(x.Links, l)
			}
		}
		if a.Recoveries > 0 {
			need := 1
			if p, ok := b.byID[a.Product]; ok {
				need = max(p.data.cfg.AlertingConfig.SuccessThreshold, 1)
			}
			x.Recovering, x.ToResolve = true, max(need-a.Recoveries, 1)
			x.Recovery = recoveryText(a.Recoveries, need)
		}
		av.Active = append(av.Active, x)
	}
	for _, sev := range alert.Severities {
		g := severityGroup{Severity: sev}
		for _, a := range av.Active {
			if a.Severity == sev {
				g.Alerts = append(g.Alerts, a)
			}
		}
		av.BySeverity = append(av.BySeverity, g)
	}
	from := b.now.Add(-history)
	for i := len(s.Transitions) - 1; i >= 0; i-- {
		t := s.Transitions[i]
		if t.At.After(b.now) || t.At.Before(from) {
			continue
		}
		from := t.From
		if from == "" {
			from = "new"
		}
		av.Transitions = append(av.Transitions, transitionRow{At: b.tv(t.At), Severity: t.Severity, Product: t.Product,
			ProductName: name(t.Product), Linked: b.byID[t.Product] != nil, Rule: t.Rule, Subject: t.Subject, From: from, To: t.To,
			Value: valueText(t.Value, t.Unit), Threshold: valueText(t.Threshold, t.Unit), Summary: t.Summary, Fingerprint: t.Fingerprint})
	}
	for _, c := range s.Channels {
		r := channelRow{Name: c.Name, Enabled: c.Enabled, Reason: c.Reason, Failing: c.Failing(), Failures: c.Failures,
			Undelivered: c.Undelivered, LastError: c.LastError}
		if !c.LastSuccess.IsZero() {
			r.LastSuccess = b.tvp(&c.LastSuccess)
		}
		if !c.LastFailure.IsZero() {
			r.LastFailure = b.tvp(&c.LastFailure)
		}
		if r.Failing {
			av.Failing++
		}
		av.Channels = append(av.Channels, r)
	}
	seen := map[string]bool{}
	for _, a := range av.Active {
		seen[a.Product] = true
	}
	for _, t := range av.Transitions {
		seen[t.Product] = true
	}
	for id := range seen {
		av.Products = append(av.Products, filterOpt{ID: id, Name: name(id)})
	}
	sort.Slice(av.Products, func(i, j int) bool { return av.Products[i].ID < av.Products[j].ID })
	return av, nil
}

// recoveryText says how far a recovering alert is: "not breached for 1 run; resolves after 2
// runs in a row without a breach (1 more run, about 15 min)".
func recoveryText(runs, need int) string {
	left := max(need-runs, 1)
	more := "runs"
	if left == 1 {
		more = "run"
	}
	return fmt.Sprintf("not breached for %s; resolves after %s in a row without a breach (%d more %s, about %s)",
		plural(runs, "run", "runs"), plural(need, "run", "runs"), left, more, durText(time.Duration(left)*health.Cadence))
}

// valueText formats an alert value with its unit.
func valueText(v float64, unit string) string {
	switch unit {
	case "":
		return num(v, 3)
	case alert.UnitLevel:
		return alert.LevelName(v)
	case "%":
		return num(v, 3) + " %"
	case "x", "×":
		return num(v, 1) + "×"
	}
	return strings.TrimSpace(num(v, 2) + " " + unit)
}
