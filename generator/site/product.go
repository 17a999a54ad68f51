package site

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/status"
	"github.com/portfolio-report/portfolio/generator/store"
)

// history is how far back the site looks: the longest range of the switch.
const history = 90 * 24 * time.Hour

// productData is what the store holds about one product, cut at now.
type productData struct {
	cfg config.Product
	// at is the time of the product's data: its newest snapshot (now when it has none). Its
	// page is computed at that time, so a build that brings no new data changes nothing on it.
	at    time.Time
	snaps []record.Snapshot // [now-history, now]
	// long adds the SLO window and a week before: the error budget of the first day of the
	// first week the chart files cover (see chunkBuckets).
	long []record.Snapshot
	deps []record.Deployment
	incs []record.Incident
	days []record.AnalyticsDay
	// damaged says which of the product's files could not be read ("data damaged: file:line:
	// …"): what they hold is missing from the page, the rest is shown.
	damaged []string
	// observed are the alert rules' observations at the product's data time (d.at), by fingerprint: firing alerts are
	// shown with their current values and summaries (data/alerts.json keeps them as of the
	// alert's last change, so that the file does not change every run).
	observed map[string]alert.Observation
}

// current is the firing alert a as of now: with the value and summary the rule observes.
func (d *productData) current(a alert.Alert) alert.Alert {
	if o, ok := d.observed[a.Fingerprint]; ok && o.Breach && a.Status == alert.Firing {
		a.Value, a.Threshold, a.Unit, a.Summary = o.Value, o.Threshold, o.Unit, o.Summary
	}
	return a
}

// loadProduct reads one product's records. Records after now are left out, and an incident
// closed after now is open at now, so a past --now reproduces the site of that moment. A
// damaged file (store.Damage) is noted in damaged and its records left out: one damaged file
// hurts one product's page, not the build.
func loadProduct(b *build, p config.Product) (*productData, error) {
	st := b.opts.Store
	d := &productData{cfg: p}
	keep := func(err error) error {
		if _, ok := store.Damage(err); ok {
			d.damaged = append(d.damaged, store.DamageText(err))
			b.opts.Log.Error("data damaged: left out of the product's page", "product", p.ID, "err", err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("product %s: %w", p.ID, err)
		}
		return nil
	}
	var err error
	d.long, err = st.Snapshots(p.ID, b.now.Add(-history-health.SLOWindow-7*24*time.Hour), b.now.Add(time.Nanosecond))
	if err := keep(err); err != nil {
		return nil, err
	}
	d.at = b.now
	if n := len(d.long); n > 0 {
		d.at = d.long[n-1].Time
	}
	d.snaps = health.Window(d.long, d.at.Add(-history), d.at.Add(time.Nanosecond))
	deps, err := st.Deployments(p.ID)
	if err := keep(err); err != nil {
		return nil, err
	}
	for _, x := range deps {
		if !x.Time.After(b.now) {
			d.deps = append(d.deps, x)
		}
	}
	incs, err := st.Incidents(p.ID)
	if err := keep(err); err != nil {
		return nil, err
	}
	for _, x := range incs {
		if x.CreatedAt.After(b.now) {
			continue
		}
		if x.ClosedAt != nil && x.ClosedAt.After(b.now) {
			x.ClosedAt, x.StateReason = nil, ""
		}
		d.incs = append(d.incs, x)
	}
	days, err := st.Analytics(p.ID)
	if err := keep(err); err != nil {
		return nil, err
	}
	today := b.now.UTC().Format(time.DateOnly)
	for _, x := range days {
		if x.Day <= today {
			d.days = append(d.days, x)
		}
	}
	return d, nil
}

// figure is one headline number with its context.
type figure struct {
	Text   string
	OK     bool    // there is data
	Value  float64 // for the API
	Breach bool    // beyond its threshold or objective
}

type uptimeFigure struct {
	Key, Label string
	figure
	Checks health.Ratio
}

type deployRow struct {
	Time      timeView
	SHA       string
	CommitURL string
	URL       string
	Outcome   string
	LeadTime  string // median lead time of its changes
}

type incidentRow struct {
	Product     string
	ProductName string
	Number      int
	Title       string
	URL         string
	Open        bool
	FalseAlarm  bool
	Created     timeView
	Closed      *timeView
	Duration    string
	Body        template.HTML
}

type freshRow struct {
	Source string
	State  string
	Msg    string
	LastOK *timeView
	Age    string
	Stale  bool
}

// productView is everything the pages, the API and the badges show about one product.
type productView struct {
	data        *productData
	ID          string
	Name        string
	Group       string
	URL         string
	Repository  string
	RepoURL     string
	Description template.HTML

	Status      string
	Reasons     []string       // why the status, weightiest first
	Uptime      []uptimeFigure // 24h, 7d, 30d, 90d
	P50, P95    figure
	LatencySrc  string
	ErrorRate   figure
	Objective   float64
	ErrThresh   float64
	RespThresh  float64
	Budget      health.Budget
	BudgetText  string
	BudgetLeft  figure
	Burn1h      figure
	Burn6h      figure
	LastCheck   *timeView
	LastSnap    time.Time
	Freshness   []freshRow
	Stale       int
	Deploys     []deployRow
	DeployTotal int
	DeployOK30  figure // success rate over 30 days
	Incidents   []incidentRow
	OpenIncs    int
	Sparkline   template.HTML
	SparkText   string
	Strip       uptimeStrip // the last 90 days, a bar a day
	Days        table       // the complete days of the strip, every figure a day (its own page)

	Charts    []chartView
	ChartData json.RawMessage // where the charts' rows are (see chartFiles)
	Impact    impactView      // each deployment against the window before it

	// Damaged lists the product's damaged files, "data damaged: file:line: …".
	Damaged []string
}

// productView computes the product's figures and charts.
func (b *build) productView(d *productData) *productView {
	p := d.cfg
	now := d.at // the figures are those of the product's newest data (see productData.at)
	snaps := d.snaps
	v := &productView{
		data: d, ID: p.ID, Name: p.Name, Group: p.Group, URL: p.URL, Repository: p.Repository,
		Description: b.md.RenderUnder(p.Description, 1), Damaged: d.damaged,
		Objective:  p.AlertingConfig.UptimeThreshold,
		ErrThresh:  p.AlertingConfig.ErrorRateThreshold,
		RespThresh: p.AlertingConfig.ResponseTimeThreshold,
	}
	if v.Name == "" {
		v.Name = p.ID
	}
	if p.Repository != "" {
		v.RepoURL = "https://github.com/" + p.Repository
	}
	if !SafeURL(v.URL) {
		v.URL = ""
	}

	for _, r := range ranges {
		ratio := health.UptimeOver(snaps, r.D, now)
		pct, ok := ratio.Percent()
		v.Uptime = append(v.Uptime, uptimeFigure{Key: r.Key, Label: r.Label, Checks: ratio,
			figure: figure{Text: pctText(pct, ok), OK: ok, Value: round(pct, 4), Breach: ok && pct < v.Objective}})
	}

	day := health.Window(snaps, now.Add(-24*time.Hour+time.Nanosecond), now.Add(time.Nanosecond))
	if ms, src, ok := health.P95(day); ok {
		v.P95 = figure{Text: msText(ms, true), OK: true, Value: round(ms, 1), Breach: ms > v.RespThresh}
		v.LatencySrc = src
	} else {
		v.P95.Text = "–"
	}
	if ms, _, ok := health.P50(day); ok {
		v.P50 = figure{Text: msText(ms, true), OK: true, Value: round(ms, 1)}
	} else {
		v.P50.Text = "–"
	}
	if rate, ok := health.ErrorRate(day); ok {
		v.ErrorRate = figure{Text: num(rate, 3) + " %", OK: true, Value: round(rate, 4), Breach: rate > v.ErrThresh}
	} else {
		v.ErrorRate.Text = "–"
	}

	v.Budget = health.ErrorBudget(d.snaps, v.Objective, now)
	if v.Budget.Checks.Total > 0 {
		left := v.Budget.Remaining * 100
		v.BudgetLeft = figure{Text: pctText(max(left, -999), true), OK: true, Value: round(max(left, -999), 2), Breach: left <= 0}
		v.BudgetText = fmt.Sprintf("%s in 30 days, %s allowed", plural(v.Budget.Checks.Bad(), "failed check", "failed checks"), num(v.Budget.Allowed, 1))
		if left < 0 {
			v.BudgetText += ": overspent"
		}
	} else {
		v.BudgetLeft.Text = "–"
	}
	for _, w := range []struct {
		d   time.Duration
		dst *figure
	}{{time.Hour, &v.Burn1h}, {6 * time.Hour, &v.Burn6h}} {
		if r, ok := health.BurnRate(d.snaps, v.Objective, w.d, now); ok {
			*w.dst = figure{Text: num(min(r, 9999), 1) + "×", OK: true, Value: round(min(r, 9999), 2), Breach: r > 1}
		} else {
			w.dst.Text = "–"
		}
	}

	if n := len(snaps); n > 0 {
		v.LastSnap = snaps[n-1].Time
		v.LastCheck = b.tvp(&snaps[n-1].Time)
	}
	v.Freshness, v.Stale = b.freshness(p, snaps, d.at)
	v.deploys(b, d)
	v.incidents(b, d)
	v.Sparkline, v.SparkText = sparkline(snaps, now)
	v.Strip = b.uptimeStrip(d, v.Objective)
	v.Impact = b.impactOf(v, d)
	v.Charts = b.productCharts(v, d)
	v.Days = b.daysTable(v, d)
	vd := status.Of(b.statusInput(p, d))
	v.Status, v.Reasons = vd.Status, vd.Reasons
	return v
}

// statusInput gathers what the product's status depends on (see package status): its checks,
// open incidents, firing alerts, thresholds breached now and maintenance windows.
func (b *build) statusInput(p config.Product, d *productData) status.Input {
	now := b.now
	ac := p.AlertingConfig
	in := status.Input{Now: now, Checks: status.ChecksOf(d.snaps), FailureThreshold: ac.FailureThreshold, Loc: b.loc}
	for _, x := range d.incs {
		if x.ClosedAt == nil {
			in.OpenIncidents = append(in.OpenIncidents, fmt.Sprintf("#%d %s", x.Number, x.Title))
		}
	}
	for _, a := range b.alertState.Firing() {
		if a.Product == p.ID {
			a = d.current(a)
			in.Alerts = append(in.Alerts, status.Alert{Rule: a.Rule, Subject: a.Subject, Severity: a.Severity,
				Recovering: a.Recoveries > 0, Summary: a.Summary})
		}
	}
	// Thresholds are judged on the product's newest data, like its figures (a build without
	// new data must not move the last hour's window); the checks' age is judged at now.
	in.Breaches = status.Breaches(ac, d.snaps, d.at)
	for _, m := range p.Maintenance {
		if start, end, ok := m.Window(); ok {
			in.Maintenance = append(in.Maintenance, status.Window{Start: start, End: end, Summary: m.Summary})
		}
	}
	return in
}

// expectedSources are the sources that run for the product, by its config.
func expectedSources(p config.Product) []string {
	var out []string
	if p.Cloudflare.ZoneID != "" || p.Cloudflare.Worker != "" || p.Cloudflare.HealthcheckID != "" {
		out = append(out, record.SourceCloudflare)
	}
	if p.Repository != "" {
		out = append(out, record.SourceGitHub)
	}
	if p.PostHog.Host != "" || p.PostHog.Product != "" {
		out = append(out, record.SourcePostHog)
	}
	if !p.Probe.Disabled && p.URL != "" {
		out = append(out, record.SourceProbe)
	}
	return out
}

// freshness lists every source of the product with the age of its last good data. A source the
// config names but the latest snapshot does not mention counts as ok in that snapshot (older
// snapshots list only sources that did not succeed).
func (b *build) freshness(p config.Product, snaps []record.Snapshot, at time.Time) ([]freshRow, int) {
	var last record.Snapshot
	if n := len(snaps); n > 0 {
		last = snaps[n-1]
	}
	src := map[string]record.SourceStatus{}
	for k, s := range last.Sources {
		src[k] = s
	}
	for _, name := range expectedSources(p) {
		if _, ok := src[name]; !ok && !last.Time.IsZero() {
			src[name] = record.SourceStatus{State: record.StateOK}
		}
	}
	last.Sources = src
	var rows []freshRow
	stale := 0
	for _, f := range health.SourceFreshness(last, b.now) {
		r := freshRow{Source: f.Source, State: f.State, Msg: f.Msg, LastOK: b.tvp(f.LastOK), Stale: f.Stale}
		switch {
		case f.LastOK == nil && f.State != record.StateSkipped:
			r.Age = "never"
		case f.LastOK != nil:
			// Behind the product's newest data, not the build: a build without new data
			// leaves the page as it was. Staleness is judged at now.
			r.Age = ageText(at.Sub(*f.LastOK))
		}
		if f.Stale {
			stale++
		}
		rows = append(rows, r)
	}
	if last.Time.IsZero() {
		for _, name := range expectedSources(p) {
			rows = append(rows, freshRow{Source: name, State: "no data", Age: "never", Stale: true})
			stale++
		}
	}
	return rows, stale
}

func (v *productView) deploys(b *build, d *productData) {
	const shown = 15
	from30 := d.at.Add(-30 * 24 * time.Hour)
	ok30, all30 := 0, 0
	for _, x := range d.deps {
		if !x.Time.Before(from30) {
			all30++
			if x.Outcome == record.OutcomeSuccess {
				ok30++
			}
		}
	}
	v.DeployTotal = len(d.deps)
	if all30 > 0 {
		r := float64(ok30) * 100 / float64(all30)
		v.DeployOK30 = figure{Text: fmt.Sprintf("%s (%d of %d)", pctText(r, true), ok30, all30), OK: true, Value: round(r, 2)}
	} else {
		v.DeployOK30.Text = "no deployments in 30 days"
	}
	for i := len(d.deps) - 1; i >= 0 && len(v.Deploys) < shown; i-- {
		x := d.deps[i]
		row := deployRow{Time: b.tv(x.Time), SHA: shortSHA(x.SHA), Outcome: x.Outcome}
		if SafeURL(x.URL) {
			row.URL = x.URL
		}
		if v.RepoURL != "" && x.SHA != "" {
			row.CommitURL = v.RepoURL + "/commit/" + url.PathEscape(x.SHA)
		}
		if len(x.Changes) > 0 {
			lt := make([]float64, 0, len(x.Changes))
			for _, c := range x.Changes {
				if !c.AuthorDate.After(x.Time) {
					lt = append(lt, x.Time.Sub(c.AuthorDate).Seconds())
				}
			}
			if len(lt) > 0 {
				sort.Float64s(lt)
				m := lt[len(lt)/2]
				if len(lt)%2 == 0 {
					m = (lt[len(lt)/2-1] + lt[len(lt)/2]) / 2
				}
				row.LeadTime = durText(time.Duration(m * float64(time.Second)))
			}
		}
		v.Deploys = append(v.Deploys, row)
	}
}

// incidents lists open incidents first, then closed ones of the last 90 days, newest first.
func (v *productView) incidents(b *build, d *productData) {
	from := d.at.Add(-history)
	var rows []incidentRow
	for _, x := range d.incs {
		open := x.ClosedAt == nil
		if !open && x.ClosedAt.Before(from) {
			continue
		}
		r := incidentRow{Product: v.ID, ProductName: v.Name, Number: x.Number, Title: x.Title, Open: open,
			FalseAlarm: !x.Counts(), Created: b.tv(x.CreatedAt), Closed: b.tvp(x.ClosedAt), Body: b.md.RenderLinked(x.Body, 3, x.URL)}
		if SafeURL(x.URL) {
			r.URL = x.URL
		}
		if open {
			// Open since its Created time: a duration up to now would change the page at
			// every build.
			v.OpenIncs++
			r.Duration = "open"
		} else {
			r.Duration = durText(x.ClosedAt.Sub(x.CreatedAt))
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Open != rows[j].Open {
			return rows[i].Open
		}
		if rows[i].Created.UTC != rows[j].Created.UTC {
			return rows[i].Created.UTC > rows[j].Created.UTC
		}
		return rows[i].Number > rows[j].Number
	})
	v.Incidents = rows
}

// statusLabel is the word shown for a status: "Partial outage".
func statusLabel(s string) string { return titleCase(status.Label(s)) }

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
