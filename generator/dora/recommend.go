package dora

import (
	"fmt"
	"math"
	"strconv"
	"strings"

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
// medium or low, in Metrics order, quoting the figures ("3 of 8 deployments failed; …") and
// the previous window where the trend declined. Metrics without data (null level) get none.
func Recommendations(cfg config.DORA, c Comparison) []Recommendation {
	cfg = withDefaults(cfg)
	var out []Recommendation
	add := func(metric string, level *string, md string) {
		if level == nil || *level == Elite {
			return
		}
		out = append(out, Recommendation{Metric: metric, Level: *level, Markdown: md})
	}
	cur, prev, lv := c.Current, c.Previous, cfg.Levels
	days := cfg.WindowDays

	df := cur.DeploymentFrequency
	{
		var b strings.Builder
		fmt.Fprintf(&b, "**Deploy more often.** %s in the last %d days (%s a day)",
			plural(df.Successful, "successful deployment", "successful deployments"), days, num(df.PerDay))
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
	return out
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
