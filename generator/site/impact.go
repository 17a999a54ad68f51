package site

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/impact"
)

// The product page's impact table lists the impactShown newest deployments with data, and up
// to impactSuspects older suspects of the DORA window (the page's budget is 150 KB; the API
// has every deployment of the window).
const (
	impactShown    = 4
	impactSuspects = 2
)

// impactView is a product's deployment impact (package impact): every deployment of the last
// 90 days judged against the window before it, the table of the newest, and the counts of the
// DORA window.
type impactView struct {
	Reports  []impact.Report // oldest first
	Settings impact.Settings
	// Windows says what is compared: "the hour before and the hour after each deployment".
	Windows string
	Cols    []impactCol
	Rows    []impactRow // newest first, at most impactShown, only deployments with data
	// In the DORA window: deployments, those with a verdict on some metric, and the suspects.
	WindowDays              int
	Total, Judged, Suspects int
	// Caption says which deployments the table lists.
	Caption string
	// RulesShort is the product's thresholds in one line; the DORA page explains the rules.
	RulesShort string
	// KeyEventsNote says why the product's key events have no column: no whole day in both
	// windows (PostHog counts per day); AvailabilityNote why availability has none.
	KeyEventsNote, AvailabilityNote string
}

type impactCol struct {
	Key, Label string
}

type impactRow struct {
	Time      timeView
	SHA       string
	CommitURL string
	URL       string
	Outcome   string
	Cells     []impactCell // one per column
	Verdict   string       // suspect | improved | no change | not enough data
	Class     string       // v-regression | v-improvement | v-nochange | v-none
	Notes     []string     // what regressed or improved and by how much; overlaps; an open window
}

type impactCell struct {
	None    bool   // the deployment has no such comparison
	Text    string // "120 → 310 ms"
	Verdict string // in words
	Class   string
}

var verdictWords = map[string]string{
	impact.Regression:    "regression",
	impact.Improvement:   "improvement",
	impact.NoChange:      "no change",
	impact.NotEnoughData: "not enough data",
}

var verdictClass = map[string]string{
	impact.Regression:    "v-regression",
	impact.Improvement:   "v-improvement",
	impact.NoChange:      "v-nochange",
	impact.NotEnoughData: "v-none",
}

// impactOf judges the product's deployments of the last 90 days.
func (b *build) impactOf(v *productView, d *productData) impactView {
	p := d.cfg
	set := impact.SettingsOf(p.Impact)
	iv := impactView{Settings: set, WindowDays: b.cfg.DORA.WindowDays}
	if iv.WindowDays == 0 {
		iv.WindowDays = 30
	}
	iv.Reports = impact.Analyze(impact.Input{Product: p, Snapshots: d.long, Deployments: d.deps, Days: d.days,
		Settings: set, From: d.at.Add(-history), Now: d.at}) // at the data's time: a rebuild without new data changes nothing
	iv.Windows = windowsText(set)
	iv.RulesShort = fmt.Sprintf("Thresholds: response time ×%s and %s ms; rates |z| ≥ %s and %s pp; at least %d runs (checks) and %s requests a window.",
		num(set.ChangeRatio, 3), num(set.LatencyFloorMs, 1), num(set.Z, 2), num(set.RateFloor, 3), set.MinSamples, numGrouped(float64(set.MinRequests)))

	from := d.at.Add(-time.Duration(iv.WindowDays) * 24 * time.Hour)
	for _, r := range iv.Reports {
		if r.Deployment.Time.Before(from) {
			continue
		}
		iv.Total++
		if r.Judged() {
			iv.Judged++
		}
		if r.Suspect() {
			iv.Suspects++
		}
	}

	// The newest deployments with data, then the older suspects of the DORA window, each
	// with the deployment after it when that one improved things (the fix, often).
	var shown []impact.Report
	newest, older, fixes := 0, 0, 0
	for i := len(iv.Reports) - 1; i >= 0; i-- {
		r := iv.Reports[i]
		switch {
		case !hasData(r):
		case newest < impactShown:
			shown = append(shown, r)
			newest++
		case r.Suspect() && !r.Deployment.Time.Before(from) && older < impactSuspects:
			if i+1 < len(iv.Reports) && improved(iv.Reports[i+1]) && shown[len(shown)-1].Deployment.ID != iv.Reports[i+1].Deployment.ID {
				shown = append(shown, iv.Reports[i+1])
				fixes++
			}
			shown = append(shown, r)
			older++
		}
	}
	iv.Caption = "The last deployment with data"
	if newest != 1 {
		iv.Caption = fmt.Sprintf("The last %d deployments with data", newest)
	}
	if older > 0 {
		iv.Caption += fmt.Sprintf(", then %s of the last %d days", plural(older, "older suspect", "older suspects"), iv.WindowDays)
		if fixes > 0 {
			iv.Caption += " and the deployment that improved on it"
			if older > 1 {
				iv.Caption = strings.TrimSuffix(iv.Caption, "it") + "them"
			}
		}
	}
	// Columns: every metric any shown deployment has, in a fixed order.
	order := []string{impact.MetricResponseTime, impact.MetricErrorRate, impact.MetricAvailability, impact.MetricWorkerErrors}
	for _, ev := range p.PostHog.KeyEvents {
		order = append(order, impact.MetricKeyEvent+":"+ev)
	}
	stats := map[string]bool{}
	for _, key := range order {
		found := false
		for _, r := range shown {
			for _, c := range r.Metrics {
				if c.Key() == key {
					found = true
					if c.Stat != "" {
						stats[c.Stat] = true
					}
				}
			}
		}
		// A key event has a column only where some deployment has its figures: PostHog counts
		// per day, so hour windows never do, and the table would be a column of dashes.
		if found && strings.HasPrefix(key, impact.MetricKeyEvent) && !slices.ContainsFunc(shown, func(r impact.Report) bool {
			return slices.ContainsFunc(r.Metrics, func(c impact.Comparison) bool { return c.Key() == key && c.After != nil })
		}) {
			found = false
		}
		// Availability too, where the windows hold too few checks for any verdict and every
		// shown deployment reads 100 → 100 %: a column that says nothing. (An outage after a
		// deployment keeps it, figures and all.)
		if found && key == impact.MetricAvailability && !availabilityJudgeable(set) && !slices.ContainsFunc(shown, func(r impact.Report) bool {
			return slices.ContainsFunc(r.Metrics, func(c impact.Comparison) bool {
				return c.Key() == key && ((c.Before != nil && *c.Before < 100) || (c.After != nil && *c.After < 100))
			})
		}) {
			found = false
			iv.AvailabilityNote = fmt.Sprintf("Availability is not judged with these windows (%d checks in both together are too few for the test) and was 100 %% around each of these deployments.",
				checksIn(set))
		}
		if found {
			iv.Cols = append(iv.Cols, impactCol{Key: key, Label: colLabel(key, stats)})
		}
	}
	if n := len(p.PostHog.KeyEvents); n > 0 && !slices.ContainsFunc(iv.Cols, func(c impactCol) bool { return strings.HasPrefix(c.Key, impact.MetricKeyEvent) }) {
		iv.KeyEventsNote = fmt.Sprintf("Key events (%s) are not compared: PostHog counts them per day, and these windows hold no whole day.",
			strings.Join(p.PostHog.KeyEvents, ", "))
	}
	for _, r := range shown {
		iv.Rows = append(iv.Rows, b.impactRow(v, r, iv.Cols, len(stats) > 1))
	}
	return iv
}

// improved reports whether a metric improved after the deployment.
func improved(r impact.Report) bool {
	return slices.ContainsFunc(r.Metrics, func(c impact.Comparison) bool { return c.Verdict == impact.Improvement })
}

// hasData reports whether a deployment has any data around it.
func hasData(r impact.Report) bool {
	if r.Before.Runs+r.After.Runs > 0 {
		return true
	}
	return slices.ContainsFunc(r.Metrics, func(c impact.Comparison) bool { return c.Before != nil || c.After != nil })
}

func colLabel(key string, stats map[string]bool) string {
	switch key {
	case impact.MetricResponseTime:
		switch {
		case len(stats) == 1 && stats[impact.StatP95]:
			return "Response time (p95)"
		case len(stats) == 1 && stats[impact.StatMedian]:
			return "Response time (probe median)"
		}
		return "Response time"
	case impact.MetricErrorRate:
		return "Error rate (5xx)"
	case impact.MetricAvailability:
		return "Availability"
	case impact.MetricWorkerErrors:
		return "Workers errors"
	}
	return strings.TrimPrefix(key, impact.MetricKeyEvent+":") + " per hour"
}

func (b *build) impactRow(v *productView, r impact.Report, cols []impactCol, mixed bool) impactRow {
	d := r.Deployment
	row := impactRow{Time: b.tv(d.Time), SHA: shortSHA(d.SHA), Outcome: d.Outcome}
	if SafeURL(d.URL) {
		row.URL = d.URL
	}
	if v.RepoURL != "" && d.SHA != "" {
		row.CommitURL = v.RepoURL + "/commit/" + url.PathEscape(d.SHA)
	}
	byKey := map[string]impact.Comparison{}
	for _, c := range r.Metrics {
		byKey[c.Key()] = c
	}
	for _, col := range cols {
		c, ok := byKey[col.Key]
		if !ok {
			row.Cells = append(row.Cells, impactCell{None: true})
			continue
		}
		text := beforeAfter(c)
		if mixed && c.Stat != "" {
			text = c.Stat + " " + text
		}
		row.Cells = append(row.Cells, impactCell{Text: text, Verdict: verdictWords[c.Verdict], Class: verdictClass[c.Verdict]})
	}
	regs, imps := r.Regressions(), []impact.Comparison{}
	judged := false
	for _, c := range r.Metrics {
		if c.Verdict == impact.Improvement {
			imps = append(imps, c)
		}
		if c.Verdict != impact.NotEnoughData {
			judged = true
		}
	}
	switch {
	case len(regs) > 0:
		row.Verdict, row.Class = "suspect", "v-regression"
	case len(imps) > 0:
		row.Verdict, row.Class = "improved", "v-improvement"
	case judged:
		row.Verdict, row.Class = "no change", "v-nochange"
	default:
		row.Verdict, row.Class = "not enough data", "v-none"
	}
	for _, c := range append(regs, imps...) {
		row.Notes = append(row.Notes, c.Name()+" "+c.Reason)
	}
	if !judged {
		// Say what was missing, once per distinct reason.
		var seen []string
		for _, c := range r.Metrics {
			if !slices.Contains(seen, c.Reason) {
				seen = append(seen, c.Reason)
			}
		}
		if len(seen) > 1 {
			seen = seen[:1]
		}
		row.Notes = append(row.Notes, seen...)
	}
	if r.Previous != nil {
		row.Notes = append(row.Notes, fmt.Sprintf("before-window starts at the previous deployment (%s, %s earlier)",
			shortSHA(r.Previous.SHA), durText(d.Time.Sub(r.Previous.Time))))
	}
	if r.Next != nil {
		row.Notes = append(row.Notes, fmt.Sprintf("after-window ends at the next deployment (%s, %s later)",
			shortSHA(r.Next.SHA), durText(r.Next.Time.Sub(d.Time))))
	}
	if r.Open {
		row.Notes = append(row.Notes, "after-window still open until "+b.tv(r.After.To).Short)
	}
	return row
}

// beforeAfter is "120 → 310 ms", "0.05 → 2 %", "– → 95 ms".
func beforeAfter(c impact.Comparison) string {
	unit := ""
	switch c.Unit {
	case "ms":
		unit = " ms"
	case "%":
		unit = " %"
	case "/h":
		unit = "/h"
	}
	fig := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return strings.TrimSuffix(c.Figure(p), unit)
	}
	return fig(c.Before) + " → " + fig(c.After) + unit
}

func windowsText(s impact.Settings) string {
	w := func(d time.Duration) string {
		if d == time.Hour {
			return "hour"
		}
		return durText(d)
	}
	return fmt.Sprintf("the %s before it against the %s after it", w(s.Before), w(s.After))
}

// rulesText explains the rules with the settings in force.
func rulesText(s impact.Settings) []string {
	out := []string{
		fmt.Sprintf("Windows: %s (the portfolio's settings; a product may set its own, which its page states). A deployment cuts the windows of its neighbours: the time after it is its own. Runs whose 15 minutes straddle a deployment count for neither side.", windowsText(s)),
		fmt.Sprintf("Response time (Cloudflare's p95; the probes' median where Cloudflare has no data on both sides): a regression when the after-window's is at least ×%s the before-window's and %s ms more, an improvement when it is at most ×%s and %s ms less; each window needs %d runs with a response time.",
			num(s.ChangeRatio, 3), num(s.LatencyFloorMs, 1), num(1/s.ChangeRatio, 3), num(s.LatencyFloorMs, 1), s.MinSamples),
		fmt.Sprintf("Error rate, Workers errors and availability: a two-proportion z-test of the share of failures before and after; a change counts when |z| ≥ %s and it is at least %s percentage points. Each window needs %s requests (invocations) or %d checks.",
			num(s.Z, 2), num(s.RateFloor, 3), numGrouped(float64(s.MinRequests)), s.MinSamples),
		fmt.Sprintf("Key events per hour: PostHog counts them per UTC day, so only whole days inside both windows are compared (windows of 48 h or more), by a Poisson rate test: |z| ≥ %s and a change of ×%s; each window needs %d events.",
			num(s.Z, 2), num(s.ChangeRatio, 3), s.MinEvents),
		"A deployment with a regression is a suspect. The deployment_regression alert names the latest deployment's regressions while the metric stays outside the before-window's range.",
	}
	if !availabilityJudgeable(s) {
		out[2] += fmt.Sprintf(" With these windows the probe's %d checks on both sides together are too few for any change of availability to reach the test (at most z = √%d), so availability shows its figures without a verdict.", checksIn(s), checksIn(s))
	}
	return out
}

// checksIn is how many checks both windows hold at the 15-minute cadence.
func checksIn(s impact.Settings) int {
	return int(s.Before/health.Cadence) + int(s.After/health.Cadence)
}

// availabilityJudgeable reports whether the windows hold enough checks for the z-test to
// ever reach s.Z: the most it can show is √(checks before + checks after).
func availabilityJudgeable(s impact.Settings) bool { return float64(checksIn(s)) > s.Z*s.Z }

// impactMarker is what a chart marker says about a deployment's impact: "" or "suspect:
// response time ×2.58, +190 ms; error rate +1.95 pp".
func impactMarker(r impact.Report) string {
	regs := r.Regressions()
	if len(regs) == 0 {
		return ""
	}
	parts := make([]string, len(regs))
	for i, c := range regs {
		parts[i] = c.Name() + " " + c.Reason
	}
	return "suspect:\n" + strings.Join(parts, "\n") // a line each in the tooltip
}

// byDeployment indexes the reports by deployment id.
func (iv impactView) byDeployment() map[string]impact.Report {
	out := make(map[string]impact.Report, len(iv.Reports))
	for _, r := range iv.Reports {
		out[r.Deployment.ID] = r
	}
	return out
}
