package site

import (
	"strings"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/digest"
)

// The weekly digest on the site (docs/digest.md): a page and a document per period,
// digest/<period>/ and api/digest/<period>.json, and an index of them, digest/. The pages are
// computed from the data, as the email and Slack message are, whether or not a channel sent
// them: the history of digests is browsable from the first week with data.

// digestPages is how many periods the site keeps: a quarter of weeks, the periods that end
// within the 90 days of history; a build reads 127 days (loadProduct), which holds the oldest
// one's SLO window and the period before it.
const digestPages = 12

// pageIncidents is how many of a period's incidents its page lists, newest first.
const pageIncidents = 50

// digestState is the build's digests in progress: the periods, and each product's part of
// each, filled by the products' goroutines (a slot each).
type digestState struct {
	periods []digest.Period
	parts   [][]digest.Part // [period][product, config order]
	index   map[string]int  // product id → slot
	done    []*digest.Digest
}

func (b *build) startDigests() {
	per := digest.ScheduleOf(b.cfg).Recent(b.now, b.now.Add(-history), digestPages)
	b.digests = &digestState{periods: per, parts: make([][]digest.Part, len(per)), index: map[string]int{}}
	for k := range per {
		b.digests.parts[k] = make([]digest.Part, len(b.cfg.Products))
	}
	for i, p := range b.cfg.Products {
		b.digests.index[p.ID] = i
	}
}

// summarizeDigests computes the product's part of every period while its history is in memory.
func (b *build) summarizeDigests(d *productData) {
	ds := b.digests
	slot := ds.index[d.cfg.ID]
	pr := digest.ProductRecords{Product: d.cfg, Snapshots: d.long, Deployments: d.deps, Incidents: d.incs, Days: d.days, Damaged: d.damaged}
	for k, per := range ds.periods {
		ds.parts[k][slot] = digest.Summarize(b.cfg, per, pr, b.alertState.Transitions)
	}
}

// finishDigests assembles the digests of the periods that have data, newest first.
func (b *build) finishDigests() {
	ds := b.digests
	for k, per := range ds.periods {
		has := false
		for _, p := range ds.parts[k] {
			has = has || p.HasData
		}
		if has {
			ds.done = append(ds.done, digest.Assemble(b.cfg, per, ds.parts[k], b.alertState.Transitions, b.meta.Demo()))
		}
	}
	ds.parts = nil
}

// digestView is the body of a digest page.
type digestView struct {
	*digest.Digest
	Start, End    timeView
	Prev, Next    *digest.Digest
	HistoryPath   string // the alerts history page of the period's latest alert, when the site has it
	IncidentRows  []digestIncident
	MoreIncidents int // incidents of the period left out of the page
	Severities    []string
	Top           int
	HasFailures   bool
}

type digestIncident struct {
	digest.IncidentLine
	OpenedAt   timeView
	ResolvedAt *timeView
}

// digestIndexView is the body of digest/.
type digestIndexView struct {
	Digests  []*digest.Digest
	Schedule string
}

// rel turns a URL of the site into its path, so the pages work wherever they are served.
func (b *build) rel(u string) string {
	base := strings.TrimRight(b.cfg.Site.BaseURL, "/")
	if strings.HasPrefix(u, base+"/") {
		return b.base + strings.TrimPrefix(u, base)
	}
	return u
}

// addDigestPages adds digest/ and a page per digest.
func (b *build) addDigestPages(add func(*page), al *alertsView) {
	ds := b.digests.done
	idx := &digestIndexView{Digests: ds, Schedule: digest.ScheduleOf(b.cfg).String()}
	var newest *timeView
	if len(ds) > 0 {
		t := b.tv(ds[0].Period.End)
		newest = &t
	}
	add(&page{Path: "digest/index.html", Kind: "digests", Title: "Weekly digests", Nav: "digest",
		Description: "The weekly digest of every week: status, changes, DORA metrics, incidents and alerts", Body: idx,
		DataAsOf: newest, AsOfWhat: "Digests up to"})
	for i, d := range ds {
		v := &digestView{Digest: d, Start: b.tv(d.Period.Start), End: b.tv(d.Period.End), Severities: alert.Severities, Top: d.Top}
		if i+1 < len(ds) {
			v.Prev = ds[i+1]
		}
		if i > 0 {
			v.Next = ds[i-1]
		}
		if h := b.rel(d.Alerts.HistoryURL); h != "" {
			for _, m := range al.Months {
				if h == b.url("/alerts/"+m.Key+"/") {
					v.HistoryPath = h
				}
			}
		}
		list := d.Incidents.List
		if len(list) > pageIncidents {
			v.MoreIncidents = len(list) - pageIncidents
			list = list[:pageIncidents]
		}
		for _, x := range list {
			di := digestIncident{IncidentLine: x, OpenedAt: b.tv(x.Opened), ResolvedAt: b.tvp(x.Resolved)}
			di.URL = b.rel(x.URL)
			v.IncidentRows = append(v.IncidentRows, di)
		}
		end := b.tv(d.Period.End)
		add(&page{Path: "digest/" + d.Period.ID + "/index.html", Kind: "digest", Title: "Digest of " + d.Label, Nav: "digest",
			Description: "Status, the biggest changes, DORA metrics, incidents and alerts of " + d.Label, Body: v,
			DataAsOf: &end, AsOfWhat: "Period up to"})
	}
}

// digestAPI writes api/digest/<period>.json and api/digest/index.json.
func (b *build) digestAPI() error {
	type entry struct {
		ID       string `json:"id"`
		Label    string `json:"label"`
		Headline string `json:"headline"`
		Page     string `json:"page"`
		API      string `json:"api"`
	}
	index := struct {
		SchemaVersion int     `json:"schema_version"`
		Schedule      string  `json:"schedule"`
		Digests       []entry `json:"digests"`
	}{SchemaVersion: APISchemaVersion, Schedule: digest.ScheduleOf(b.cfg).String(), Digests: []entry{}}
	for _, d := range b.digests.done {
		if err := b.putJSON(d.Period.APIPath(), d); err != nil {
			return err
		}
		index.Digests = append(index.Digests, entry{ID: d.Period.ID, Label: d.Label, Headline: d.Status.Headline,
			Page: b.absURL("/" + d.Period.Path()), API: b.absURL("/" + d.Period.APIPath())})
	}
	return b.putJSON("api/digest/index.json", index)
}
