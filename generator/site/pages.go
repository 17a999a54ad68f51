package site

import (
	"sort"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/status"
)

// page is one HTML page: the layout's data.
type page struct {
	Path        string // file in the site, e.g. "products/api/index.html"
	Link        string // its URL path, e.g. "/products/api/"
	Kind        string // template: overview, dora, product, alerts, 404
	Title       string
	Nav         string // the navigation entry to mark as current
	Description string
	RangeSwitch bool // the page has time charts on the range switch
	HasCharts   bool // the page loads ECharts
	Site        *siteView
	Body        any
}

// siteView is what every page shows around its body.
type siteView struct {
	Title      string
	Demo       bool
	Generated  timeView
	DataAsOf   *timeView
	Timezone   string
	Stale      []staleLink
	StaleCount int
	Ranges     []rangeOpt
	Status     string
}

type rangeOpt struct {
	Key, Label string
	Default    bool
}

type staleLink struct {
	ID, Name string
	Sources  int
}

// overviewView is the body of index.html.
type overviewView struct {
	Status        string
	Headline      string         // "2 of 3 products degraded"
	Counts        []status.Count // worst first, non-zero only
	OpenIncidents []incidentRow
	Critical      []activeAlert
	AlertsKnown   bool
	DeploysToday  []todayDeploy
	Tiles         []metricTile
	Groups        []productGroup
	Chart         chartView
	WindowDays    int
}

type todayDeploy struct {
	Product, Name string
	deployRow
}

type productGroup struct {
	Name     string
	Products []*productView
}

// pages lays out every HTML page of the site.
func (b *build) pages(dv *doraView, al *alertsView) []*page {
	sv := b.siteView()
	var out []*page
	add := func(pg *page) {
		pg.Site = sv
		pg.Link = linkPath(pg.Path)
		out = append(out, pg)
	}
	add(&page{Path: "index.html", Kind: "overview", Title: "Overview", Nav: "overview",
		Description: "Status, DORA metrics and health of every product", HasCharts: true, Body: b.overview(dv, al)})
	add(&page{Path: "dora/index.html", Kind: "dora", Title: "DORA metrics", Nav: "dora",
		Description: "Deployment frequency, lead time, change failure rate and time to restore", HasCharts: true, Body: dv})
	for _, p := range b.products {
		add(&page{Path: "products/" + p.ID + "/index.html", Kind: "product", Title: p.Name, Nav: "products",
			Description: "Health, deployments and incidents of " + p.Name, RangeSwitch: true, HasCharts: true, Body: b.productPage(p, dv, al)})
	}
	add(&page{Path: "alerts/index.html", Kind: "alerts", Title: "Alerts", Nav: "alerts",
		Description: "Active alerts and the transitions of the last 90 days", Body: al})
	add(&page{Path: "404.html", Kind: "404", Title: "Page not found", Body: nil})
	return out
}

func (b *build) siteView() *siteView {
	sv := &siteView{Title: b.cfg.Site.Title, Demo: b.meta.Demo(), Generated: b.tv(b.now),
		Timezone: b.loc.String()}
	var latest time.Time
	var statuses []string
	for _, p := range b.products {
		if p.LastSnap.After(latest) {
			latest = p.LastSnap
		}
		if p.Stale > 0 {
			sv.Stale = append(sv.Stale, staleLink{ID: p.ID, Name: p.Name, Sources: p.Stale})
			sv.StaleCount += p.Stale
		}
		statuses = append(statuses, p.Status)
	}
	if !latest.IsZero() {
		sv.DataAsOf = b.tvp(&latest)
	}
	sv.Status = status.Worst(statuses...)
	for _, r := range ranges {
		sv.Ranges = append(sv.Ranges, rangeOpt{Key: r.Key, Label: r.Label, Default: r.Key == defaultRange})
	}
	return sv
}

func (b *build) overview(dv *doraView, al *alertsView) *overviewView {
	ov := &overviewView{AlertsKnown: al.Available, Tiles: dv.Portfolio.Tiles, WindowDays: dv.WindowDays}
	var statuses []string
	groups := map[string]*productGroup{}
	var order []string
	l := b.now.In(b.loc)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, b.loc)
	for _, p := range b.products {
		statuses = append(statuses, p.Status)
		for _, inc := range p.Incidents {
			if inc.Open {
				ov.OpenIncidents = append(ov.OpenIncidents, inc)
			}
		}
		for i := len(p.data.deps) - 1; i >= 0; i-- {
			x := p.data.deps[i]
			if x.Time.Before(midnight) {
				break
			}
			row := deployRow{Time: b.tv(x.Time), SHA: shortSHA(x.SHA), Outcome: x.Outcome}
			if SafeURL(x.URL) {
				row.URL = x.URL
			}
			ov.DeploysToday = append(ov.DeploysToday, todayDeploy{Product: p.ID, Name: p.Name, deployRow: row})
		}
		g := p.Group
		if g == "" {
			g = "Other"
		}
		if groups[g] == nil {
			groups[g] = &productGroup{Name: g}
			order = append(order, g)
		}
		groups[g].Products = append(groups[g].Products, p)
	}
	ov.Status = status.Worst(statuses...)
	ov.Headline = status.Headline(statuses)
	ov.Counts = status.Counts(statuses)
	sort.SliceStable(ov.DeploysToday, func(i, j int) bool { return ov.DeploysToday[i].Time.UTC > ov.DeploysToday[j].Time.UTC })
	sort.SliceStable(ov.OpenIncidents, func(i, j int) bool { return ov.OpenIncidents[i].Created.UTC > ov.OpenIncidents[j].Created.UTC })
	for _, g := range order {
		ov.Groups = append(ov.Groups, *groups[g])
	}
	for _, a := range al.Active {
		if a.Severity == "critical" {
			ov.Critical = append(ov.Critical, a)
		}
	}
	ov.Chart = b.deploysChart()
	return ov
}

// deploysChart is the overview's chart: the portfolio's deployments a day over 30 days.
func (b *build) deploysChart() chartView {
	days := b.dayBuckets(30)
	ok := make([]*float64, len(days))
	bad := make([]*float64, len(days))
	cats := make([]string, len(days))
	for i, d := range days {
		cats[i] = d.To.In(b.loc).Format("2 Jan")
		ok[i], bad[i] = f64(0), f64(0)
	}
	for _, p := range b.products {
		for _, x := range p.data.deps {
			for i, d := range days {
				if x.Time.After(d.From) && !x.Time.After(d.To) {
					if x.Outcome == record.OutcomeSuccess {
						*ok[i]++
					} else {
						*bad[i]++
					}
					break
				}
			}
		}
	}
	t := table{Caption: "Deployments per day", Head: []string{"Day", "Successful", "Failed"}}
	total := 0.0
	for i := len(days) - 1; i >= 0; i-- {
		t.Rows = append(t.Rows, []string{days[i].To.In(b.loc).Format("Mon 2 Jan 2006"), num(*ok[i], 0), num(*bad[i], 0)})
		total += *ok[i] + *bad[i]
	}
	if total == 0 {
		ok, bad = make([]*float64, len(days)), make([]*float64, len(days))
	}
	return categoryChart("deployments__portfolio", "Deployments per day", "Successful and failed deployments of all products a day, last 30 days", "deployments",
		cats, []barSeries{{Name: "successful", Values: ok}, {Name: "failed", Values: bad}}, true, nil, t)
}

// productPageView is the body of a product page.
type productPageView struct {
	*productView
	DORA       []metricTile
	DORAWindow int // days
	Alerts     []activeAlert
	Known      bool
}

func (b *build) productPage(p *productView, dv *doraView, al *alertsView) *productPageView {
	pv := &productPageView{productView: p, Known: al.Available, DORAWindow: dv.WindowDays}
	for _, row := range dv.Products {
		if row.ID == p.ID {
			pv.DORA = row.All()
		}
	}
	for _, a := range al.Active {
		if a.Product == p.ID {
			pv.Alerts = append(pv.Alerts, a)
		}
	}
	return pv
}
