package dora

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Recommendation is advice for one metric below elite, as Markdown (for goldmark; it holds only
// numbers and config values, never text from GitHub).
type Recommendation struct {
	Metric   string `json:"metric"`
	Level    string `json:"level"`
	Markdown string `json:"markdown"`
}

// Recommendations returns one recommendation per metric of c.Current whose level is high,
// medium or low, in Metrics order, quoting the figures ("3 of 8 deployments failed; …") in the
// units of the page's tables, and the previous window where the trend declined. Metrics without
// data (null level) get none, with two exceptions that have no level to go by: failed
// deployment recovery time also when a failure is unrecovered for longer than the elite bar,
// and rework rate (which has no bands) when its rate is above the change failure rate's elite
// bar. Those two name the failures and rework deployments (from c.Detail; a pooled comparison
// names their products).
func Recommendations(cfg config.DORA, c Comparison) []Recommendation {
	cfg = withDefaults(cfg)
	var out []Recommendation
	add := func(metric string, level *string, md string) {
		if level == nil || *level == Elite {
			return
		}
		out = append(out, Recommendation{Metric: metric, Level: *level, Markdown: md})
	}
	var detail Detail
	if c.Detail != nil {
		detail = *c.Detail
	}
	cur, prev, lv := c.Current, c.Previous, cfg.Levels
	days := cfg.WindowDays

	df := cur.DeploymentFrequency
	{
		var b strings.Builder
		fmt.Fprintf(&b, "**Deploy more often.** %s in the last %d days (%s)",
			plural(df.Successful, "successful deployment", "successful deployments"), days, Frequency(df.PerDay))
		if df.Failed > 0 {
			fmt.Fprintf(&b, ", and %s failed", plural(df.Failed, "more run", "more runs"))
		}
		b.WriteString(".")
		if c.Trend.DeploymentFrequency == Declining {
			fmt.Fprintf(&b, " That is down from %s in the previous %d days.", plural(prev.DeploymentFrequency.Successful, "deployment", "deployments"), days)
		}
		fmt.Fprintf(&b, " Elite teams deploy at least %s. Ship smaller changes, deploy every merge to the main branch automatically, and hide unfinished work behind feature flags.",
			perDayText(lv.DeploymentFrequency.Elite))
		add(MetricDeploymentFrequency, df.Level, b.String())
	}

	lt := cur.LeadTime
	if lt.MedianSeconds != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "**Shorten lead time.** Half of the %s shipped in the last %d days took more than %s from first commit to production",
			plural(lt.Changes, "change", "changes"), days, Duration(*lt.MedianSeconds))
		if lt.P90Seconds != nil && lt.Changes >= 10 {
			fmt.Fprintf(&b, "; the slowest tenth took %s or more", Duration(*lt.P90Seconds))
		}
		b.WriteString(".")
		if c.Trend.LeadTime == Declining && prev.LeadTime.MedianSeconds != nil {
			fmt.Fprintf(&b, " The median was %s in the previous %d days.", Duration(*prev.LeadTime.MedianSeconds), days)
		}
		fmt.Fprintf(&b, " Elite teams need %s or less. Merge smaller pull requests, review them the same day, and deploy each merge instead of batching releases.",
			Duration(lv.LeadTime.Elite))
		add(MetricLeadTime, lt.Level, b.String())
	}

	cfr := cur.ChangeFailureRate
	if cfr.Rate != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "**Fail less often.** %d of %s failed or caused an incident (%s)",
			cfr.Failed+cfr.IncidentDeployments, plural(cfr.Total, "deployment", "deployments"), pct(*cfr.Rate))
		var parts []string
		if cfr.Failed > 0 {
			parts = append(parts, fmt.Sprintf("%s failed", plural(cfr.Failed, "deployment", "deployments")))
		}
		if cfr.IncidentDeployments > 0 {
			parts = append(parts, fmt.Sprintf("%s followed by an incident within %d h or named in a `Caused-by:` line",
				pluralVerb(cfr.IncidentDeployments, "deployment was", "deployments were"), cfg.AttributionHours))
		}
		if len(parts) > 0 {
			b.WriteString(": " + strings.Join(parts, "; "))
		}
		b.WriteString(".")
		if c.Trend.ChangeFailureRate == Declining && prev.ChangeFailureRate.Rate != nil {
			fmt.Fprintf(&b, " It was %s in the previous %d days.", pct(*prev.ChangeFailureRate.Rate), days)
		}
		fmt.Fprintf(&b, " Elite teams stay at or under %s.", pct(lv.ChangeFailureRate.Elite))
		switch {
		case cfr.Failed > cfr.IncidentDeployments:
			b.WriteString(" Most failures are failed deploy runs: run the deploy's checks on every pull request so that a broken build never reaches the deploy workflow.")
		default:
			b.WriteString(" Most failures reach production: add tests for the incidents' causes, roll out gradually (canary or feature flags) and watch errors right after each deploy.")
		}
		add(MetricChangeFailureRate, cfr.Level, b.String())
	}

	tr := cur.TimeToRestore
	if tr.MedianSeconds != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "**Restore service faster.** The %s closed in the last %d days took a median of %s to resolve",
			plural(tr.Incidents, "incident", "incidents"), days, Duration(*tr.MedianSeconds))
		if tr.MeanSeconds != nil && tr.Incidents > 1 {
			fmt.Fprintf(&b, " (mean %s)", Duration(*tr.MeanSeconds))
		}
		b.WriteString(".")
		if tr.OpenIncidents > 0 && tr.OldestOpenSeconds != nil {
			fmt.Fprintf(&b, " %s still open, the oldest for %s.",
				pluralVerb(tr.OpenIncidents, "incident is", "incidents are"), Duration(*tr.OldestOpenSeconds))
		}
		if c.Trend.TimeToRestore == Declining && prev.TimeToRestore.MedianSeconds != nil {
			fmt.Fprintf(&b, " The median was %s in the previous %d days.", Duration(*prev.TimeToRestore.MedianSeconds), days)
		}
		fmt.Fprintf(&b, " Elite teams restore within %s. Make rollback one command, alert on symptoms users see, and close the incident issue as soon as service is back.",
			Duration(lv.TimeToRestore.Elite))
		add(MetricTimeToRestore, tr.Level, b.String())
	}

	if md, level, ok := recoveryAdvice(cfg, c, detail); ok {
		if level == nil {
			out = append(out, Recommendation{Metric: MetricFailedDeploymentRecoveryTime, Markdown: md})
		} else {
			add(MetricFailedDeploymentRecoveryTime, level, md)
		}
	}
	if md, ok := reworkAdvice(cfg, c, detail); ok {
		out = append(out, Recommendation{Metric: MetricReworkRate, Markdown: md})
	}
	return out
}

// recoveryAdvice is the failed deployment recovery time's recommendation: when its level is
// below elite, or (without a level) when a failure is unrecovered for longer than the elite bar.
func recoveryAdvice(cfg config.DORA, c Comparison, d Detail) (string, *string, bool) {
	fr := c.Current.FailedDeploymentRecoveryTime
	elite := cfg.Levels.TimeToRestore.Elite
	var stuck []Failure // unrecovered longer than the elite bar, oldest first
	for i := len(d.Failures) - 1; i >= 0; i-- {
		if f := d.Failures[i]; !f.Recovered && f.Seconds > elite {
			stuck = append(stuck, f)
		}
	}
	if (fr.Level == nil || *fr.Level == Elite) && len(stuck) == 0 {
		return "", nil, false
	}
	var b strings.Builder
	b.WriteString("**Recover from failed deployments faster.**")
	switch {
	case fr.MedianSeconds != nil && fr.Recovered == 1:
		fmt.Fprintf(&b, " The one failure recovered in the last %d days took %s.", cfg.WindowDays, Duration(*fr.MedianSeconds))
	case fr.MedianSeconds != nil:
		fmt.Fprintf(&b, " The %d failures recovered in the last %d days took a median of %s", fr.Recovered, cfg.WindowDays, Duration(*fr.MedianSeconds))
		if fr.MeanSeconds != nil {
			fmt.Fprintf(&b, " (mean %s)", Duration(*fr.MeanSeconds))
		}
		b.WriteString(" from the failed deployment, or the deployment that caused an incident, to the fix.")
	}
	if fr.Unrecovered > 0 {
		fmt.Fprintf(&b, " %s not recovered yet.", pluralVerb(fr.Unrecovered, "failure is", "failures are"))
	}
	if c.Trend.FailedDeploymentRecoveryTime == Declining {
		if p := c.Previous.FailedDeploymentRecoveryTime.MedianSeconds; p != nil {
			fmt.Fprintf(&b, " The median was %s in the previous %d days.", Duration(*p), cfg.WindowDays)
		}
	}
	// Name the failures: the unrecovered ones first (oldest first), then the slowest recovered.
	named := slices.Clone(stuck)
	var recovered []Failure
	for _, f := range d.Failures {
		if f.Recovered && f.Seconds > elite {
			recovered = append(recovered, f)
		}
	}
	slices.SortStableFunc(recovered, func(a, b Failure) int { return cmp.Compare(b.Seconds, a.Seconds) })
	named = append(named, recovered...)
	if len(named) > 0 {
		b.WriteString(" Slowest: ")
		for i, f := range named[:min(len(named), 3)] {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(failureText(f, d.Pooled))
		}
		if more := len(named) - 3; more > 0 {
			fmt.Fprintf(&b, "; and %d more", more)
		}
		b.WriteString(".")
	}
	fmt.Fprintf(&b, " Elite teams recover within %s. Make a rollback one command that redeploys the last good commit, keep each deployment small so its fix is small too, and alert the team when a deploy run fails.",
		Duration(elite))
	return b.String(), fr.Level, true
}

// reworkAdvice is the rework rate's recommendation, when the rate is above the change failure
// rate's elite bar (rework rate has no bands of its own; a rework deployment follows a failure).
func reworkAdvice(cfg config.DORA, c Comparison, d Detail) (string, bool) {
	rw := c.Current.ReworkRate
	if rw.Rate == nil || rw.Rework == 0 {
		return "", false
	}
	bar := cfg.Levels.ChangeFailureRate.Elite
	if ratio(rw.Rework, rw.Successful).cmp(fracOf(fraction(bar))) <= 0 {
		return "", false
	}
	var afterFailed, during int
	for _, r := range d.Rework {
		if len(r.AfterFailed) > 0 {
			afterFailed++
		}
		if len(r.DuringIncidents) > 0 {
			during++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Ship less rework.** %d of %s in the last %d days (%s) were unplanned rework",
		rw.Rework, plural(rw.Successful, "successful deployment", "successful deployments"), cfg.WindowDays, pct(*rw.Rate))
	var parts []string
	if afterFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d recovered a failed deployment", afterFailed))
	}
	if during > 0 {
		parts = append(parts, fmt.Sprintf("%d shipped during an incident", during))
	}
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString(".")
	if len(d.Rework) > 0 {
		b.WriteString(" Latest: ")
		for i, r := range d.Rework[:min(len(d.Rework), 3)] {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(reworkText(r, d.Pooled))
		}
		b.WriteString(".")
	}
	if c.Trend.ReworkRate == Declining {
		if p := c.Previous.ReworkRate.Rate; p != nil {
			fmt.Fprintf(&b, " It was %s in the previous %d days.", pct(*p), cfg.WindowDays)
		}
	}
	fmt.Fprintf(&b, " Above %s, rework takes a real share of the team's deployments. Catch failures before the deploy (run its checks on every pull request, try changes in a preview environment) and add a test for the cause of each one.",
		pct(bar))
	return b.String(), true
}

// failureText names one failure: "the failed deployment `abc1234` (26 Nov 13:51 UTC), not
// recovered after 2.5 days"; pooled, "storefront's failed deployment …".
func failureText(f Failure, pooled bool) string {
	var b strings.Builder
	whose := "the "
	if pooled && f.Product != "" {
		whose = f.Product + "'s "
	}
	if f.Kind == FailureIncident {
		fmt.Fprintf(&b, "%sdeployment %s (%s), which caused %s, ", whose, shaText(f.SHA, ""), whenText(f.Time), incidentsText(f.Incidents))
	} else {
		fmt.Fprintf(&b, "%sfailed deployment %s (%s), ", whose, shaText(f.SHA, ""), whenText(f.Time))
	}
	switch {
	case !f.Recovered:
		fmt.Fprintf(&b, "not recovered after %s", Duration(f.Seconds))
	case f.RecoveredBy != "":
		fmt.Fprintf(&b, "recovered by %s after %s", shaText(f.RecoveredBy, "the next deployment"), Duration(f.Seconds))
	default:
		fmt.Fprintf(&b, "recovered after %s", Duration(f.Seconds))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// reworkText names one rework deployment and why it is rework: "`ae11bf0` (26 Nov 09:45 UTC),
// after the failed `d31ce54`"; pooled, "storefront's deployment `ae11bf0` …".
func reworkText(r Rework, pooled bool) string {
	var b strings.Builder
	if pooled && r.Product != "" {
		b.WriteString(r.Product + "'s deployment ")
	}
	fmt.Fprintf(&b, "%s (%s)", shaText(r.SHA, "a deployment"), whenText(r.Time))
	var why []string
	if len(r.AfterFailed) > 0 {
		shas := make([]string, len(r.AfterFailed))
		for i, s := range r.AfterFailed {
			shas[i] = shaText(s, "?")
		}
		why = append(why, "after the failed "+strings.Join(shas, ", "))
	}
	if len(r.DuringIncidents) > 0 {
		why = append(why, "during "+incidentsText(r.DuringIncidents))
	}
	if len(why) > 0 {
		b.WriteString(", " + strings.Join(why, " and "))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// shaText is a commit as a code span, shortened to 7 digits; anything but hex (it comes from
// GitHub) is replaced by alt.
func shaText(sha, alt string) string {
	if sha == "" || strings.Trim(strings.ToLower(sha), "0123456789abcdef") != "" {
		return alt
	}
	return "`" + sha[:min(len(sha), 7)] + "`"
}

func whenText(t time.Time) string { return t.UTC().Format("2 Jan 15:04 UTC") }

// incidentsText is "incident #12" or "incidents #12 and #14".
func incidentsText(ns []int) string {
	refs := make([]string, len(ns))
	for i, n := range ns {
		refs[i] = "#" + strconv.Itoa(n)
	}
	if len(refs) == 1 {
		return "incident " + refs[0]
	}
	return "incidents " + strings.Join(refs[:len(refs)-1], ", ") + " and " + refs[len(refs)-1]
}

// Frequency formats deployments a day as the page's tables do: "1.2 a day", "2.6 a week",
// "3 a month", "none".
func Frequency(perDay float64) string {
	switch {
	case perDay >= 1:
		return num(round(perDay, 1)) + " a day"
	case perDay*7 >= 1:
		return num(round(perDay*7, 1)) + " a week"
	case perDay > 0:
		return num(round(perDay*30, 1)) + " a month"
	}
	return "none"
}

// Duration formats seconds for people: "45 min", "1.5 h", "3 days".
func Duration(sec float64) string {
	switch {
	case sec < 90:
		return fmt.Sprintf("%s s", num(math.Round(sec)))
	case sec < 90*60:
		return fmt.Sprintf("%s min", num(math.Round(sec/60)))
	case sec < 48*3600:
		return fmt.Sprintf("%s h", num(round(sec/3600, 1)))
	default:
		return fmt.Sprintf("%s days", num(round(sec/86400, 1)))
	}
}

func perDayText(v float64) string {
	switch {
	case v >= 1:
		if v == 1 {
			return "once a day"
		}
		return num(v) + " times a day"
	case v > 0:
		return "every " + num(round(1/v, 1)) + " days"
	}
	return "sometimes"
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func pct(v float64) string { return num(round(v*100, 1)) + " %" }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func pluralVerb(n int, one, many string) string { return plural(n, one, many) }
