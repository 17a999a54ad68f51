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
	Total    int // firing alerts of the severity
	Alerts   []activeAlert
	More     int // not listed on the alerts center (see groupCap)
}

// groupCap is how many warning and info alerts the alerts center lists, the newest; the rest
// are counted and named on each product's page and in api/alerts.json. Critical alerts are
// always all listed. At 200 products with some 300 firing alerts (about 600 bytes each) the
// page would be 200 KB; capped, it stays within its 150 KB budget.
var groupCap = map[string]int{alert.Warning: 60, alert.Info: 20}

// alertsView is the alerts center's body and the alert part of the other pages and the API.
type alertsView struct {
	Available   bool // an alert evaluation has run
	LastRun     *timeView
	Active      []activeAlert   // firing alerts, deployment notices included (pages and API)
	BySeverity  []severityGroup // firing alerts but deployment notices, by severity
	Alerting    int             // firing alerts but deployment notices
	Notices     []activeAlert   // deployment notices: not alerts, shown apart, newest first
	Transitions []transitionRow // last 90 days, newest first, deployment notices included
	Recent      []transitionRow // the newest changes of alerts (no notices), for the alerts page
	Months      []*alertMonth   // the history pages, newest first
	Channels    []channelRow
	Failing     int
	Products    []filterOpt
	Severities  []string
	raw         alert.State
}

// noticesShown and recentShown cap the alerts page's lists of deployment notices and of the
// latest changes; the month pages hold the whole history.
const (
	noticesShown = 10
	recentShown  = 20
)

// TopNotices are the notices the alerts page lists.
func (av *alertsView) TopNotices() []activeAlert {
	return av.Notices[:min(len(av.Notices), noticesShown)]
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
			HasValue: (a.Value != 0 || a.Threshold != 0) && a.Unit != alert.UnitLevel, Since: b.tv(a.Since), Acked: a.Acknowledged}
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
		if a.Rule == alert.RuleDeployment {
			// "deployed abc1234 (success) at 2026-06-29T18:19:44Z": the time in the site's zone.
			n := x
			if i := strings.LastIndex(n.Summary, " at "); i > 0 {
				if t, err := time.Parse(time.RFC3339, n.Summary[i+4:]); err == nil {
					n.Summary, n.Since = n.Summary[:i], b.tv(t)
				}
			}
			av.Notices = append(av.Notices, n)
		}
	}
	sort.SliceStable(av.Notices, func(i, j int) bool { return av.Notices[i].Since.UTC > av.Notices[j].Since.UTC })
	for _, sev := range alert.Severities {
		g := severityGroup{Severity: sev}
		for _, a := range av.Active {
			if a.Severity == sev && a.Rule != alert.RuleDeployment {
				g.Alerts = append(g.Alerts, a)
				av.Alerting++
			}
		}
		g.Total = len(g.Alerts)
		if n, ok := groupCap[sev]; ok && len(g.Alerts) > n {
			// Keep the newest n, in the page's order.
			byAge := slices.Clone(g.Alerts)
			sort.SliceStable(byAge, func(i, j int) bool { return byAge[i].Since.UTC > byAge[j].Since.UTC })
			cut := byAge[n-1].Since.UTC
			ties := n // how many alerts fired at the cut's time still fit
			for _, a := range g.Alerts {
				if a.Since.UTC > cut {
					ties--
				}
			}
			kept := g.Alerts[:0:0]
			for _, a := range g.Alerts {
				if a.Since.UTC == cut && ties > 0 {
					kept, ties = append(kept, a), ties-1
				} else if a.Since.UTC > cut {
					kept = append(kept, a)
				}
			}
			g.Alerts, g.More = kept, g.Total-len(kept)
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
	for _, t := range av.Transitions {
		if t.Rule != alert.RuleDeployment && len(av.Recent) < recentShown {
			av.Recent = append(av.Recent, t)
		}
	}
	av.Months = b.alertMonths(s, name)
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
	for _, t := range av.Recent {
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

// episode is one firing of an alert, from its firing to its resolution (or still firing).
type episode struct {
	ID          string // the row's anchor, which the feed links to
	Start       timeView
	End         *timeView
	Duration    string // "2 h 15 min", or "" while firing
	Severity    string
	Product     string
	ProductName string
	Linked      bool
	Rule        string
	Subject     string
	Value       string // at firing
	Threshold   string
	HasValue    bool
	month       string
	day         string
}

// alertMonth is a history page: the episodes that began in one month (site time zone), newest
// first, or in a run of its days when the month holds more than monthCap of them.
type alertMonth struct {
	Key      string // its path under /alerts/: "2026-06", or "2026-06/2" for the month's second part
	Label    string // "June 2026", or "June 2026, 11–20 Jun"
	Episodes []episode
	Products []filterOpt
	Part     int // 0 for a whole month, else 1, 2, …
	Parts    int
}

// monthCap is how many episodes a history page holds before the month is split into runs of
// whole days (a day with more is cut by count): at about 450 bytes a row, 280 keep a page of
// 200 products under 150 KB.
const monthCap = 280

// alertMonthPage is a history page's body.
type alertMonthPage struct {
	*alertsView
	Month *alertMonth
}

// episodeID is an episode's anchor: its alert's fingerprint and the minute it fired.
func episodeID(fp string, t time.Time) string {
	if len(fp) > 12 {
		fp = fp[:12]
	}
	return "e-" + fp + "-" + t.UTC().Format("200601021504")
}

// alertMonths pairs the alerts' firing and resolved transitions of the last 90 days into
// episodes (deployment notices left out: they are not alerts) and cuts them into pages.
func (b *build) alertMonths(s alert.State, name func(string) string) []*alertMonth {
	from := b.now.Add(-history)
	open := map[string]int{}
	var eps []episode
	for _, t := range s.Transitions {
		if t.Rule == alert.RuleDeployment || t.At.After(b.now) || t.At.Before(from) {
			continue
		}
		switch t.To {
		case alert.Firing:
			if t.From == alert.Firing {
				continue
			}
			l := t.At.In(b.loc)
			e := episode{ID: episodeID(t.Fingerprint, t.At), Start: b.tv(t.At), Severity: t.Severity, Product: t.Product,
				ProductName: name(t.Product), Linked: b.byID[t.Product] != nil, Rule: t.Rule, Subject: t.Subject,
				Value: valueText(t.Value, t.Unit), Threshold: valueText(t.Threshold, t.Unit),
				HasValue: (t.Value != 0 || t.Threshold != 0) && t.Unit != alert.UnitLevel,
				month:    l.Format("2006-01"), day: l.Format(time.DateOnly)}
			open[t.Fingerprint] = len(eps)
			eps = append(eps, e)
		case alert.Resolved:
			i, ok := open[t.Fingerprint]
			if !ok {
				continue
			}
			delete(open, t.Fingerprint)
			end := b.tv(t.At)
			start, _ := time.Parse(time.RFC3339, eps[i].Start.UTC)
			eps[i].End, eps[i].Duration = &end, durText(t.At.Sub(start))
		}
	}
	// Newest first, month by month; a month over monthCap is cut into runs of whole days,
	// counted from its first day, so a part that is full never changes.
	var months []*alertMonth
	for i := 0; i < len(eps); {
		j := i
		for j < len(eps) && eps[j].month == eps[i].month {
			j++
		}
		m := eps[i:j]
		first, _ := time.ParseInLocation("2006-01", eps[i].month, b.loc)
		label := first.Format("January 2006")
		if len(m) <= monthCap {
			months = append(months, &alertMonth{Key: eps[i].month, Label: label, Episodes: m})
		} else {
			var parts []*alertMonth
			for a := 0; a < len(m); {
				c := a
				for c < len(m) {
					d := c
					for d < len(m) && m[d].day == m[c].day {
						d++
					}
					if c > a && d-a > monthCap {
						break
					}
					if d-a > monthCap {
						// One day alone is over the cap: it is cut by count, oldest first,
						// so a full part of it still never changes.
						d = a + monthCap
					}
					c = d
				}
				p := &alertMonth{Key: eps[i].month, Episodes: m[a:c], Part: len(parts) + 1}
				if p.Part > 1 {
					p.Key += "/" + fmt.Sprint(p.Part)
				}
				d0, _ := time.ParseInLocation(time.DateOnly, m[a].day, b.loc)
				d1, _ := time.ParseInLocation(time.DateOnly, m[c-1].day, b.loc)
				p.Label = label + ", " + d0.Format("2") + "–" + d1.Format("2 Jan")
				if d0.Equal(d1) {
					p.Label = label + ", " + d0.Format("2 Jan")
				}
				parts = append(parts, p)
				a = c
			}
			for _, p := range parts {
				p.Parts = len(parts)
			}
			months = append(months, parts...)
		}
		i = j
	}
	for _, m := range months {
		seen := map[string]bool{}
		for _, e := range m.Episodes {
			if !seen[e.Product] {
				seen[e.Product] = true
				m.Products = append(m.Products, filterOpt{ID: e.Product, Name: e.ProductName})
			}
		}
		sort.Slice(m.Products, func(i, j int) bool { return m.Products[i].ID < m.Products[j].ID })
		slices.Reverse(m.Episodes) // newest first
	}
	slices.Reverse(months)
	return months
}
