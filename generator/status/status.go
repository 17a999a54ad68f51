// Package status decides the one status each product shows everywhere: on the overview, its
// page, its badge, api/summary.json and the feed. It is pure: what is known about a product at
// now in, a status and the reasons for it out.
//
// The statuses, from best to worst (Worst orders them so):
//
//	operational     nothing below applies and a check is recent
//	unknown         no check for StaleAfter (or ever), and nothing else says something is wrong
//	maintenance     a configured maintenance window covers now and no incident is open
//	degraded        an open incident; a firing warning alert about the product's health; a
//	                critical alert that is recovering or looks back over a day (uptime_24h);
//	                a threshold breached over the last hour or 24 hours; or a failed check
//	                not yet confirmed by failure_threshold runs in a row
//	partial_outage  some of the product's checks fail now while others succeed (the probe and
//	                the Cloudflare health check disagree), or a critical alert about the
//	                present (probe_down, burn_rate_fast, or any other critical rule) is firing
//	major_outage    every check fails now and the failure is confirmed: the probe failed
//	                failure_threshold runs in a row, or the probe and the Cloudflare health
//	                check both fail, or the health check (the only check) is unhealthy
//
// The status is the worst that applies, so a product with an open incident or a firing
// critical alert is never operational. Alerts about the report's own data (source_failing),
// DORA levels, deployment notices and deployment regressions (a change against the hour before
// a deployment, not a level) are not about the product's health and do not count.
// Checks older than StaleAfter do not count either: the product is unknown unless something
// else applies. Maintenance hides failed checks and alerts (they are expected), but not an
// open incident: people filed it, so it is news.
package status

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// Statuses of a product and of the portfolio.
const (
	Operational   = "operational"
	Unknown       = "unknown"
	Maintenance   = "maintenance"
	Degraded      = "degraded"
	PartialOutage = "partial_outage"
	MajorOutage   = "major_outage"
)

// All lists the statuses from worst to best, the order of counts and legends.
var All = []string{MajorOutage, PartialOutage, Degraded, Maintenance, Unknown, Operational}

// StaleAfter is how old the newest check may be before the checks say nothing: four runs at
// the 15-minute cadence, so one late or dropped CI run does not make a product unknown.
const StaleAfter = 4 * health.Cadence

// rank orders the statuses: higher is worse.
func rank(s string) int {
	switch s {
	case Operational:
		return 1
	case Unknown:
		return 2
	case Maintenance:
		return 3
	case Degraded:
		return 4
	case PartialOutage:
		return 5
	case MajorOutage:
		return 6
	}
	return 0
}

// Worse reports whether status a is worse than b.
func Worse(a, b string) bool { return rank(a) > rank(b) }

// Worst is the worst of the statuses; unknown with none. An unknown product makes an otherwise
// operational portfolio unknown: the report cannot say all is well.
func Worst(statuses ...string) string {
	w := ""
	for _, s := range statuses {
		if rank(s) > rank(w) {
			w = s
		}
	}
	if w == "" {
		return Unknown
	}
	return w
}

// Label is the status as a person reads it ("partial outage").
func Label(s string) string {
	switch s {
	case Operational:
		return "operational"
	case Maintenance:
		return "under maintenance"
	case Degraded:
		return "degraded"
	case PartialOutage:
		return "partial outage"
	case MajorOutage:
		return "major outage"
	}
	return "unknown"
}

// Check is the newest result of one kind of check.
type Check struct {
	Time time.Time
	Up   bool
}

// Checks are the newest probe and Cloudflare health check of a product.
type Checks struct {
	Probe  *Check // nil: no probe result
	Health *Check // nil: no healthy/unhealthy verdict (suspended and unknown are none)
	// ProbeFailures counts the failed probes at the end of the history, ProbeSince the first
	// of them.
	ProbeFailures int
	ProbeSince    time.Time
}

// ChecksOf reads the newest probe and health check from snapshots sorted by time.
func ChecksOf(snaps []record.Snapshot) Checks {
	var c Checks
	for i := len(snaps) - 1; i >= 0 && (c.Probe == nil || c.Health == nil); i-- {
		s := snaps[i]
		if c.Probe == nil && s.Probe != nil {
			c.Probe = &Check{Time: s.Time, Up: s.Probe.OK()}
		}
		if c.Health == nil && (s.Health == "healthy" || s.Health == "unhealthy") {
			c.Health = &Check{Time: s.Time, Up: s.Health == "healthy"}
		}
	}
	c.ProbeFailures, c.ProbeSince = health.ProbeFailureStreak(snaps)
	return c
}

// Alert is one firing alert of the product.
type Alert struct {
	Rule     string
	Subject  string
	Severity string
	// Recovering: the rule no longer breaches, but the alert has not yet seen the runs in a
	// row it needs to resolve.
	Recovering bool
	Summary    string
}

// Window is a maintenance window.
type Window struct {
	Start, End time.Time
	Summary    string
}

// Input is everything a product's status depends on.
type Input struct {
	Now    time.Time
	Checks Checks
	// FailureThreshold is how many failed probes in a row confirm an outage
	// (alerting_config.failure_threshold); below 1 counts as 1.
	FailureThreshold int
	// OpenIncidents are the titles of the open incidents, "#12 Checkout fails" each.
	OpenIncidents []string
	// Alerts are the product's firing alerts; empty when none fire or no alert state exists.
	Alerts []Alert
	// Breaches are thresholds breached now, one sentence each ("error rate over the last hour
	// is 1.4 %, threshold 1 %").
	Breaches []string
	// Maintenance lists the product's maintenance windows; one covering now applies.
	Maintenance []Window
	// Loc is the time zone of the reasons' times; nil is UTC.
	Loc *time.Location
}

// Verdict is a product's status and why.
type Verdict struct {
	Status string
	// Reasons explain the status, the weightiest first; empty when operational.
	Reasons []string
}

type reason struct {
	status string
	text   string
}

// Of decides the status (see the package documentation for the rules).
func Of(in Input) Verdict {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string { return t.In(loc).Format("2 Jan 15:04 MST") }
	var rs []reason
	add := func(status, format string, args ...any) {
		rs = append(rs, reason{status, fmt.Sprintf(format, args...)})
	}

	for _, inc := range in.OpenIncidents {
		add(Degraded, "open incident %s", inc)
	}
	for _, w := range in.Maintenance {
		if !in.Now.Before(w.Start) && in.Now.Before(w.End) && len(in.OpenIncidents) == 0 {
			text := "maintenance until " + at(w.End)
			if w.Summary != "" {
				text += ": " + w.Summary
			}
			return Verdict{Status: Maintenance, Reasons: []string{text}}
		}
	}

	fresh := func(c *Check) *Check {
		if c == nil || in.Now.Sub(c.Time) > StaleAfter || c.Time.After(in.Now) {
			return nil
		}
		return c
	}
	probe, hc := fresh(in.Checks.Probe), fresh(in.Checks.Health)
	need := max(in.FailureThreshold, 1)
	switch {
	case probe == nil && hc == nil:
		// Judged below: unknown unless something else applies.
	case probe != nil && hc != nil && !probe.Up && !hc.Up:
		add(MajorOutage, "the health probe and the Cloudflare health check both fail")
	case probe != nil && hc != nil && probe.Up != hc.Up:
		if probe.Up {
			add(PartialOutage, "the Cloudflare health check is unhealthy while the health probe succeeds")
		} else {
			add(PartialOutage, "the health probe fails while the Cloudflare health check is healthy")
		}
	case probe != nil && !probe.Up:
		n := in.Checks.ProbeFailures
		if n >= need {
			add(MajorOutage, "the health probe failed %d runs in a row, since %s", n, at(in.Checks.ProbeSince))
		} else {
			add(Degraded, "the health probe failed the last run (%d of %d in a row confirm an outage)", n, need)
		}
	case probe == nil && hc != nil && !hc.Up:
		add(MajorOutage, "the Cloudflare health check is unhealthy")
	}

	for _, a := range in.Alerts {
		s := alertStatus(a)
		if s == "" {
			continue
		}
		name := a.Rule
		if a.Subject != "" {
			name += " (" + a.Subject + ")"
		}
		state := ""
		if a.Recovering {
			state = ", recovering"
		}
		add(s, "%s alert (%s)%s: %s", a.Severity, name, state, a.Summary)
	}
	for _, b := range in.Breaches {
		add(Degraded, "%s", b)
	}

	if probe == nil && hc == nil {
		newest := time.Time{}
		for _, c := range []*Check{in.Checks.Probe, in.Checks.Health} {
			if c != nil && c.Time.After(newest) {
				newest = c.Time
			}
		}
		text := "no check yet"
		if !newest.IsZero() {
			text = "no check since " + at(newest)
		}
		add(Unknown, "%s", text)
	}

	v := Verdict{Status: Operational}
	sort.SliceStable(rs, func(i, j int) bool { return rank(rs[i].status) > rank(rs[j].status) })
	for _, r := range rs {
		if rank(r.status) > rank(v.Status) {
			v.Status = r.status
		}
		v.Reasons = append(v.Reasons, r.text)
	}
	return v
}

// alertStatus is the least status a firing alert implies; "" for alerts that are not about
// the product's health.
func alertStatus(a Alert) string {
	switch a.Rule {
	case alert.RuleSourceFailing, alert.RuleDORADrop, alert.RuleDeployment, alert.RuleDeploymentRegression:
		// A deployment's regression is a change against the hour before it, not a level: the
		// thresholds (error_rate, p95_latency) say when the product itself is degraded.
		return ""
	}
	switch a.Severity {
	case alert.Critical:
		// uptime_24h keeps firing for up to a day after an outage ended: it says the day went
		// badly, not that the product is down now.
		if a.Recovering || a.Rule == alert.RuleUptime {
			return Degraded
		}
		return PartialOutage
	case alert.Warning:
		return Degraded
	}
	return ""
}

// Breaches lists the thresholds of ac the product breaches now, one sentence each: the error
// rate or p95 response time over the last hour above its threshold, the uptime over 24 hours
// below the objective. A value on its threshold is fine. They are the live view of the alert
// rules, without their runs-in-a-row: the status reflects now, the alert the pages.
func Breaches(ac config.AlertingConfig, snaps []record.Snapshot, now time.Time) []string {
	var out []string
	hour := health.Window(snaps, now.Add(-time.Hour+time.Nanosecond), now.Add(time.Nanosecond))
	if rate, ok := health.ErrorRate(hour); ok && rate > ac.ErrorRateThreshold {
		out = append(out, fmt.Sprintf("error rate over the last hour is %s %%, threshold %s %%", num(rate, 3), num(ac.ErrorRateThreshold, 3)))
	}
	if ms, _, ok := health.P95(hour); ok && ms > ac.ResponseTimeThreshold {
		out = append(out, fmt.Sprintf("p95 response time over the last hour is %s ms, threshold %s ms", num(ms, 0), num(ac.ResponseTimeThreshold, 0)))
	}
	if pct, ok := health.UptimeOver(snaps, 24*time.Hour, now).Percent(); ok && pct < ac.UptimeThreshold {
		out = append(out, fmt.Sprintf("uptime over 24 hours is %s %%, objective %s %%", num(pct, 3), num(ac.UptimeThreshold, 3)))
	}
	return out
}

// num formats v with at most d decimals and no trailing zeros.
func num(v float64, d int) string {
	p := math.Pow(10, float64(d))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}

// Headline says how many products have the portfolio's worst status: "All 3 products
// operational", "3 of 3 products degraded", "1 of 200 products in major outage".
func Headline(statuses []string) string {
	n := len(statuses)
	if n == 0 {
		return "No products configured"
	}
	w := Worst(statuses...)
	k := 0
	for _, s := range statuses {
		if s == w {
			k++
		}
	}
	noun := "products"
	if n == 1 {
		noun = "product"
	}
	if k == n && w == Operational {
		if n == 1 {
			return "The product is operational"
		}
		return fmt.Sprintf("All %d %s operational", n, noun)
	}
	return fmt.Sprintf("%d of %d %s %s", k, n, noun, phrase(w))
}

// phrase is the status after "products": "degraded", "in major outage".
func phrase(s string) string {
	switch s {
	case PartialOutage, MajorOutage:
		return "in " + Label(s)
	case Unknown:
		return "of unknown status"
	}
	return Label(s)
}

// Counts lists the non-zero counts of the statuses, worst first: "1 major outage, 2 degraded".
func Counts(statuses []string) []Count {
	m := map[string]int{}
	for _, s := range statuses {
		m[s]++
	}
	var out []Count
	for _, s := range All {
		if m[s] > 0 {
			out = append(out, Count{Status: s, N: m[s]})
		}
	}
	return out
}

// Count is how many products have one status.
type Count struct {
	Status string
	N      int
}

func (c Count) String() string {
	return fmt.Sprintf("%d %s", c.N, strings.TrimPrefix(Label(c.Status), "under "))
}
