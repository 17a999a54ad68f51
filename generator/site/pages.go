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
	Filters     bool // the page loads site.js (filters)
	Site        *siteView
	Body        any
	// What the page says about time. A page shows the time of its own data, never the
	// build's: a build that brings no new data leaves it byte for byte as it was (and the
	// publisher uploads nothing). Only the overview names the build's time.
	DataAsOf  *timeView
	AsOfWhat  string    // what DataAsOf is the time of: "Data as of", "Last evaluated"
	Generated *timeView // the overview: when the site was built
	Overall   string    // the overview: the portfolio's status, in the header
	Stale     []staleLink
	Feed      string // the page's own Atom feed, besides the portfolio's
}

// siteView is what every page shows around its body: nothing that changes between builds.
type siteView struct {
	Title    string
	Demo     bool
	Timezone string
	Ranges   []rangeOpt
	// The live layer (live.js): the folder of the favicon of each status (<status>.svg), and
	// the age in seconds at which the newest data is stale (3 run intervals), with the
	// interval in words.
	LiveIcons   string
	StaleAfter  int
	RunInterval string
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
	OpenIncidents []incidentRow  // all, newest first (the products page lists them)
	Critical      []activeAlert  // firing critical alerts
	Active        int            // firing alerts, deployment notices left out
	AlertsKnown   bool
	DeploysToday  []todayDeploy
	Tiles         []metricTile
	Groups        []productGroup // by their worst product, each worst first
	Products      []*productView // every product, worst first
	Statuses      []string       // the statuses present, worst first (the filter's options)
	Chart         chartView
	WindowDays    int
}

// overviewCap is how many open incidents, critical alerts and deployments the overview lists
// before it links to the rest: at 200 products the lists would push the products off the
// first screen.
const overviewCap = 3

// Top returns the first overviewCap items of a list for the templates.
func (ov *overviewView) TopIncidents() []incidentRow {
	return ov.OpenIncidents[:min(len(ov.OpenIncidents), overviewCap)]
}
func (ov *overviewView) TopCritical() []activeAlert {
	return ov.Critical[:min(len(ov.Critical), overviewCap)]
}
func (ov *overviewView) TopDeploys() []todayDeploy {
	return ov.DeploysToday[:min(len(ov.DeploysToday), overviewCap)]
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
	var newest time.Time
	var stale []staleLink
	for _, p := range b.products {
		if p.LastSnap.After(newest) {
			newest = p.LastSnap
		}
		if p.Stale > 0 {
			stale = append(stale, staleLink{ID: p.ID, Name: p.Name, Sources: p.Stale})
		}
	}
	ov := b.overview(dv, al)
	gen := b.tv(b.now)
	add(&page{Path: "index.html", Kind: "overview", Title: "Overview", Nav: "overview", Filters: true,
		Description: "Status, DORA metrics and health of every product", HasCharts: true, Body: ov,
		DataAsOf: b.tvp(nonZero(newest)), AsOfWhat: "Data as of", Generated: &gen, Overall: ov.Status, Stale: stale})
	add(&page{Path: "products/index.html", Kind: "products", Title: "Products", Nav: "products", Filters: true,
		Description: "Every product with its status, worst first", Body: ov})
	add(&page{Path: "dora/index.html", Kind: "dora", Title: "DORA metrics", Nav: "dora",
		Description: "Deployment frequency, lead time, change failure rate and time to restore", HasCharts: true, Body: dv,
		DataAsOf: b.tvp(nonZero(dv.DataAsOf)), AsOfWhat: "Data as of"})
	for _, p := range b.products {
		var st []staleLink
		if p.Stale > 0 {
			st = []staleLink{{ID: p.ID, Name: p.Name, Sources: p.Stale}}
		}
		// The days page shows the days that are over: its time is the last one's end.
		l := p.data.at.In(b.loc)
		at := b.tv(time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, b.loc))
		add(&page{Path: "products/" + p.ID + "/index.html", Kind: "product", Title: p.Name, Nav: "products",
			Description: "Health, deployments and incidents of " + p.Name, RangeSwitch: true, HasCharts: true, Body: b.productPage(p, dv, al),
			DataAsOf: b.tvp(nonZero(p.LastSnap)), AsOfWhat: "Data as of", Stale: st, Feed: "/feeds/" + p.ID + ".xml"})
		add(&page{Path: "products/" + p.ID + "/days/index.html", Kind: "days", Title: p.Name + ": day by day", Nav: "products",
			Description: "Uptime, response time, errors, traffic and users of " + p.Name + " a day, for 90 days", Body: p,
			DataAsOf: &at, AsOfWhat: "Days up to"})
	}
	add(&page{Path: "alerts/index.html", Kind: "alerts", Title: "Alerts", Nav: "alerts", Filters: true,
		Description: "Active alerts, notification channels and the latest changes", Body: al,
		DataAsOf: al.LastRun, AsOfWhat: "Last evaluated"})
	for _, m := range al.Months {
		var last *timeView
		for _, e := range m.Episodes {
			if last == nil || e.Start.UTC > last.UTC {
				last = &e.Start
			}
			if e.End != nil && e.End.UTC > last.UTC {
				last = e.End
			}
		}
		add(&page{DataAsOf: last, AsOfWhat: "Alerts up to", Path: "alerts/" + m.Key + "/index.html", Kind: "alerthistory", Title: "Alerts of " + m.Label, Nav: "alerts", Filters: true,
			Description: "Every alert that fired in " + m.Label, Body: &alertMonthPage{alertsView: al, Month: m}})
	}
	b.addDigestPages(add, al)
	add(&page{Path: "404.html", Kind: "404", Title: "Page not found", Body: nil})
	return out
}

func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (b *build) siteView() *siteView {
	every := b.cfg.Site.RunEvery()
	sv := &siteView{Title: b.cfg.Site.Title, Demo: b.meta.Demo(), Timezone: b.loc.String(),
		LiveIcons: b.faviconDir, StaleAfter: int(3 * every / time.Second), RunInterval: minutes(every)}
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
	for _, c := range ov.Counts {
		ov.Statuses = append(ov.Statuses, c.Status)
	}
	sort.SliceStable(ov.DeploysToday, func(i, j int) bool { return ov.DeploysToday[i].Time.UTC > ov.DeploysToday[j].Time.UTC })
	sort.SliceStable(ov.OpenIncidents, func(i, j int) bool { return ov.OpenIncidents[i].Created.UTC > ov.OpenIncidents[j].Created.UTC })
	// Worst first: a product by its status, then its name; a group by its worst product.
	worse := func(a, b *productView) bool {
		if a.Status != b.Status {
			return status.Worse(a.Status, b.Status)
		}
		return a.Name < b.Name
	}
	for _, g := range order {
		grp := *groups[g]
		sort.SliceStable(grp.Products, func(i, j int) bool { return worse(grp.Products[i], grp.Products[j]) })
		ov.Groups = append(ov.Groups, grp)
		ov.Products = append(ov.Products, grp.Products...)
	}
	sort.SliceStable(ov.Groups, func(i, j int) bool {
		a, c := ov.Groups[i].Products[0], ov.Groups[j].Products[0]
		if a.Status != c.Status {
			return status.Worse(a.Status, c.Status)
		}
		return ov.Groups[i].Name < ov.Groups[j].Name
	})
	sort.SliceStable(ov.Products, func(i, j int) bool { return worse(ov.Products[i], ov.Products[j]) })
	for _, a := range al.Active {
		if a.Severity == "critical" {
			ov.Critical = append(ov.Critical, a)
		}
	}
	// Newest first, as the incidents: the overview lists the first few.
	sort.SliceStable(ov.Critical, func(i, j int) bool { return ov.Critical[i].Since.UTC > ov.Critical[j].Since.UTC })
	ov.Active = al.Alerting
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
	Recs       []recView
	DORAWindow int // days
	Alerts     []activeAlert
	Known      bool
}

func (b *build) productPage(p *productView, dv *doraView, al *alertsView) *productPageView {
	pv := &productPageView{productView: p, Known: al.Available, DORAWindow: dv.WindowDays}
	for _, row := range dv.Products {
		if row.ID == p.ID {
			pv.DORA, pv.Recs = row.All(), row.Recs
		}
	}
	for _, a := range al.Active {
		if a.Product == p.ID {
			pv.Alerts = append(pv.Alerts, a)
		}
	}
	return pv
}
