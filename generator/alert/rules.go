package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/dora"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/impact"
	"github.com/portfolio-report/portfolio/generator/record"
)

// Burn-rate thresholds of the multiwindow alerts (Google SRE workbook, ch. 5): 14.4× spends 2 %
// of a 30-day budget in an hour, 6× spends 5 % in six hours.
const (
	FastBurnRate = 14.4
	SlowBurnRate = 6.0
	// SourceFailRuns is how many runs in a row a data source must fail to alert.
	SourceFailRuns = 4
	// DeploymentWindow is how long a recorded deployment stays an (info) event.
	DeploymentWindow = 24 * time.Hour
	// ImpactLookback is how long deployment_regression follows the latest deployment: a week
	// on, the level it set is the product's normal, which p95_latency and error_rate judge.
	ImpactLookback = 7 * 24 * time.Hour
)

// History is how far back Evaluate looks into a product's snapshots (the 24 h uptime window,
// plus slack for a late run).
const History = 25 * time.Hour

// ProductInput is what the rules read about one product.
type ProductInput struct {
	Product config.Product // defaults applied
	// Snapshots are sorted by time and cover at least the History before now, and the
	// before-window of the latest deployment (see SnapshotsFrom).
	Snapshots []record.Snapshot
	// Deployments are the product's recorded deployments (any order).
	Deployments []record.Deployment
	// DORA is the product's current and previous window; nil when not computed.
	DORA *dora.Comparison
	// Days are the product's daily analytics (key events of deployment_regression).
	Days []record.AnalyticsDay
}

// SnapshotsFrom is where the snapshots Rules reads for a product begin: History before now, or
// the before-window of the latest deployment when it is older and that deployment is within
// ImpactLookback.
func SnapshotsFrom(p config.Product, deps []record.Deployment, now time.Time) time.Time {
	from := now.Add(-History)
	if d, ok := latestDeployment(deps, now); ok && now.Sub(d.Time) <= ImpactLookback {
		before, _ := p.Impact.Windows()
		if t := d.Time.Add(-before); t.Before(from) {
			from = t
		}
	}
	return from
}

// latestDeployment is the newest deployment at or before now.
func latestDeployment(deps []record.Deployment, now time.Time) (record.Deployment, bool) {
	var out record.Deployment
	found := false
	for _, d := range deps {
		if d.Time.After(now) {
			continue
		}
		if !found || d.Time.After(out.Time) || (d.Time.Equal(out.Time) && d.ID > out.ID) {
			out, found = d, true
		}
	}
	return out, found
}

// Observation is one rule's verdict at one evaluation.
type Observation struct {
	Product  string
	Rule     string
	Subject  string
	Severity string
	// NoData says the rule could not be evaluated (no check in its window): the alert keeps
	// its state rather than resolving on missing data.
	NoData    bool
	Breach    bool
	Value     float64
	Threshold float64
	Unit      string
	Summary   string
	// FireAfter is how many breaches in a row fire the alert; ResolveAfter how many
	// non-breaches in a row resolve it.
	FireAfter, ResolveAfter int
	// Event marks a one-off notice (a deployment): it fires once and resolves silently.
	Event bool
	// Once: the alert fires at most once per subject; after it resolved it stays resolved
	// while listed (a deployment's regression that came back within range is over).
	Once bool
	// Links are references for people (a deployment's run and commit).
	Links []Link
	// Since is when the breach began as the history shows it (the first failed probe of the
	// streak); zero when only the evaluation knows. A firing episode starts there, so a run
	// that lost its state (a crash before the commit) names the same episode again.
	Since time.Time
}

// Fingerprint identifies an alert: a hash of its sorted labels, 32 hex digits. It is the
// PagerDuty dedup_key, the root of the email thread and the GitHub issue marker.
func Fingerprint(product, rule, subject string) string {
	labels := []string{"product=" + product, "rule=" + rule}
	if subject != "" {
		labels = append(labels, "subject="+subject)
	}
	slices.Sort(labels)
	sum := sha256.Sum256([]byte(strings.Join(labels, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// Fingerprint of the observation's alert.
func (o Observation) Fingerprint() string { return Fingerprint(o.Product, o.Rule, o.Subject) }

// Rules evaluates every rule for one product at now. Rules with a subject (sources, DORA
// metrics, deployments) report breaching subjects only; an alert whose subject is not reported
// counts as recovered.
func Rules(in ProductInput, now time.Time) []Observation {
	p := in.Product
	ac := p.AlertingConfig
	snaps := health.Window(in.Snapshots, now.Add(-History), now.Add(time.Nanosecond))
	var out []Observation
	add := func(o Observation) {
		o.Product = p.ID
		if o.ResolveAfter == 0 {
			o.ResolveAfter = max(ac.SuccessThreshold, 1)
		}
		if o.FireAfter == 0 {
			o.FireAfter = max(ac.FailureThreshold, 1)
		}
		out = append(out, o)
	}

	// critical: the health probe failed the last N runs in a row. The count of runs is the
	// rule's own anti-flap, read from the history, so it fires at the first evaluation that
	// sees it (and a dropped CI run does not delay it).
	if probed(snaps) {
		n := max(ac.FailureThreshold, 1)
		fails, since := health.ProbeFailureStreak(snaps)
		o := Observation{Rule: RuleProbeDown, Severity: Critical, Breach: fails >= n,
			Value: float64(fails), Threshold: float64(n), Unit: "runs", FireAfter: 1}
		o.Summary = fmt.Sprintf("health probe failed %d run(s) in a row (alert at %d)", fails, n)
		if last := lastProbe(snaps); last != nil && !last.OK() {
			o.Summary += ": " + truncate(last.Err, 200)
		}
		if o.Breach {
			o.Since = since
		}
		add(o)
	} else {
		add(Observation{Rule: RuleProbeDown, Severity: Critical, NoData: true, Unit: "runs",
			Threshold: float64(max(ac.FailureThreshold, 1)), FireAfter: 1, Summary: "no probe in the last 25 hours"})
	}

	// critical: uptime over 24 h below the objective (a value on the threshold is fine).
	{
		o := Observation{Rule: RuleUptime, Severity: Critical, Threshold: ac.UptimeThreshold, Unit: "%"}
		if pct, ok := health.UptimeOver(snaps, 24*time.Hour, now).Percent(); ok {
			o.Value = round(pct, 3)
			o.Breach = pct < ac.UptimeThreshold
			o.Summary = fmt.Sprintf("uptime over 24 h is %s %% (objective %s %%)", num(pct, 3), num(ac.UptimeThreshold, 3))
		} else {
			o.NoData = true
			o.Summary = "no check in the last 24 hours"
		}
		add(o)
	}

	// SLO burn rates, two windows each: both must burn, so a blip that is over does not page.
	burn := func(rule, severity string, long, short time.Duration, limit float64) {
		o := Observation{Rule: rule, Severity: severity, Threshold: limit, Unit: "×"}
		l, okL := health.BurnRate(snaps, ac.UptimeThreshold, long, now)
		s, okS := health.BurnRate(snaps, ac.UptimeThreshold, short, now)
		if !okL || !okS {
			o.NoData = true
			o.Summary = "no check in the burn-rate windows"
			add(o)
			return
		}
		o.Value = round(finite(l), 2)
		o.Breach = l > limit && s > limit
		o.Summary = fmt.Sprintf("error budget burning %s× over %s and %s× over %s (alert above %s× in both; objective %s %%)",
			num(finite(l), 1), span(long), num(finite(s), 1), span(short), num(limit, 1), num(ac.UptimeThreshold, 3))
		add(o)
	}
	burn(RuleFastBurn, Critical, time.Hour, 5*time.Minute, FastBurnRate)
	burn(RuleSlowBurn, Warning, 6*time.Hour, 30*time.Minute, SlowBurnRate)

	hour := last(snaps, time.Hour, now)
	// warning: 5xx share over the last hour above the threshold.
	{
		o := Observation{Rule: RuleErrorRate, Severity: Warning, Threshold: ac.ErrorRateThreshold, Unit: "%"}
		if pct, ok := health.ErrorRate(hour); ok {
			o.Value = round(pct, 3)
			o.Breach = pct > ac.ErrorRateThreshold
			o.Summary = fmt.Sprintf("error rate over the last hour is %s %% (threshold %s %%)", num(pct, 3), num(ac.ErrorRateThreshold, 3))
		} else {
			o.NoData = true
			o.Summary = "no request in the last hour"
		}
		add(o)
	}
	// warning: p95 over the last hour above the threshold.
	{
		o := Observation{Rule: RuleLatency, Severity: Warning, Threshold: ac.ResponseTimeThreshold, Unit: "ms"}
		if ms, src, ok := health.P95(hour); ok {
			o.Value = round(ms, 1)
			o.Breach = ms > ac.ResponseTimeThreshold
			o.Summary = fmt.Sprintf("p95 response time over the last hour is %s ms (%s; threshold %s ms)", num(ms, 0), src, num(ac.ResponseTimeThreshold, 0))
		} else {
			o.NoData = true
			o.Summary = "no response time in the last hour"
		}
		add(o)
	}

	// warning: a data source failed SourceFailRuns runs in a row (its own run count: fire at once).
	if len(snaps) > 0 {
		lastSnap := snaps[len(snaps)-1]
		names := make([]string, 0, len(lastSnap.Sources))
		for n := range lastSnap.Sources {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			st := lastSnap.Sources[n]
			if !st.Failed() || st.Fails < SourceFailRuns {
				continue
			}
			o := Observation{Rule: RuleSourceFailing, Subject: n, Severity: Warning, Breach: true,
				Value: float64(st.Fails), Threshold: SourceFailRuns, Unit: "runs", FireAfter: 1}
			o.Summary = fmt.Sprintf("data source %s failed %d runs in a row (%s)", n, st.Fails, st.State)
			if st.Msg != "" {
				o.Summary += ": " + truncate(st.Msg, 200)
			}
			add(o)
		}
	}

	// info: a DORA metric's level dropped against the previous window.
	if c := in.DORA; c != nil {
		for _, m := range doraLevels(*c) {
			if m.cur == "" || m.prev == "" || levelRank(m.cur) <= levelRank(m.prev) {
				continue
			}
			add(Observation{Rule: RuleDORADrop, Subject: m.metric, Severity: Info, Breach: true,
				Value: float64(levelRank(m.cur)), Threshold: float64(levelRank(m.prev)), Unit: UnitLevel, FireAfter: 1,
				Summary: fmt.Sprintf("%s dropped %s: %s → %s (against the previous window)", metricName(m.metric),
					levelsText(levelRank(m.cur)-levelRank(m.prev)), m.prev, m.cur)})
		}
	}

	// info: a deployment was recorded in the last DeploymentWindow.
	for _, d := range in.Deployments {
		if !d.Time.After(now.Add(-DeploymentWindow)) || d.Time.After(now) {
			continue
		}
		add(Observation{Rule: RuleDeployment, Subject: d.ID, Severity: Info, Breach: true, FireAfter: 1, ResolveAfter: 1, Event: true,
			Summary: fmt.Sprintf("deployed %s (%s) at %s", shortSHA(d.SHA), d.Outcome, d.Time.UTC().Format(time.RFC3339))})
	}
	// warning (impact.alert_severity): a metric regressed after the latest deployment and is
	// not back within its before-window range. A later deployment supersedes it: its subject
	// is no longer reported, so the alert resolves.
	for _, o := range regressions(in, now) {
		add(o)
	}
	slices.SortStableFunc(out, func(a, b Observation) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Subject, b.Subject)
	})
	return out
}

// regressions observes each metric that regressed after the product's latest deployment (see
// package impact): breached while its latest value is outside the before-window's range.
func regressions(in ProductInput, now time.Time) []Observation {
	p := in.Product
	sev := p.Impact.AlertSeverity
	if sev == "" {
		sev = config.DefaultImpactAlertSeverity
	}
	d, ok := latestDeployment(in.Deployments, now)
	if sev == config.ImpactAlertOff || !ok || now.Sub(d.Time) > ImpactLookback {
		return nil
	}
	reps := impact.Analyze(impact.Input{Product: p, Snapshots: in.Snapshots, Deployments: in.Deployments, Days: in.Days,
		Settings: impact.SettingsOf(p.Impact), From: d.Time, Now: now})
	var r *impact.Report
	for i := range reps {
		if reps[i].Deployment.ID == d.ID {
			r = &reps[i]
		}
	}
	if r == nil {
		return nil
	}
	var links []Link
	if u, err := url.Parse(d.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		links = append(links, Link{Name: "run", URL: d.URL})
	}
	if p.Repository != "" && d.SHA != "" {
		links = append(links, Link{Name: "commit", URL: "https://github.com/" + p.Repository + "/commit/" + d.SHA})
	}
	var out []Observation
	for _, c := range r.Regressions() {
		o := Observation{Rule: RuleDeploymentRegression, Subject: d.ID + "/" + c.Key(), Severity: sev, Unit: c.Unit, Links: links, Once: true}
		bound := c.High
		if c.LowerIsWorse {
			bound = c.Low
		}
		if bound != nil {
			o.Threshold = *bound
		}
		rng := c.RangeText()
		o.Summary = fmt.Sprintf("%s went from %s to %s after deployment %s (%s, %s): %s",
			c.Name(), c.Figure(c.Before), c.Figure(c.After), shortSHA(d.SHA), d.ID, d.Time.UTC().Format("2006-01-02 15:04 UTC"), c.Explain())
		cur, ok := impact.Current(c, in.Snapshots, in.Days, now)
		if !ok {
			o.NoData = true
			o.Summary += fmt.Sprintf("; no recent value to compare with the before-window's range (%s)", rng)
		} else {
			o.Value = cur
			o.Breach = !c.Within(cur)
			o.Summary += fmt.Sprintf("; now %s, before-window range %s", c.Figure(&cur), rng)
		}
		if r.Open {
			o.Summary += " (after-window still open)"
		}
		out = append(out, o)
	}
	return out
}

// last returns the snapshots in (now-d, now], like the windows of package health.
func last(snaps []record.Snapshot, d time.Duration, now time.Time) []record.Snapshot {
	return health.Window(snaps, now.Add(-d+time.Nanosecond), now.Add(time.Nanosecond))
}

func probed(snaps []record.Snapshot) bool { return lastProbe(snaps) != nil }

func lastProbe(snaps []record.Snapshot) *record.Probe {
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Probe != nil {
			return snaps[i].Probe
		}
	}
	return nil
}

type doraLevel struct{ metric, cur, prev string }

func doraLevels(c dora.Comparison) []doraLevel {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return []doraLevel{
		{dora.MetricDeploymentFrequency, s(c.Current.DeploymentFrequency.Level), s(c.Previous.DeploymentFrequency.Level)},
		{dora.MetricLeadTime, s(c.Current.LeadTime.Level), s(c.Previous.LeadTime.Level)},
		{dora.MetricChangeFailureRate, s(c.Current.ChangeFailureRate.Level), s(c.Previous.ChangeFailureRate.Level)},
		{dora.MetricTimeToRestore, s(c.Current.TimeToRestore.Level), s(c.Previous.TimeToRestore.Level)},
		{dora.MetricFailedDeploymentRecoveryTime, s(c.Current.FailedDeploymentRecoveryTime.Level), s(c.Previous.FailedDeploymentRecoveryTime.Level)},
		// Rework rate has no levels (the reports publish no bands), so no level alert.
	}
}

// levelsText is "one level", "two levels", "three levels".
func levelsText(n int) string {
	switch n {
	case 1:
		return "one level"
	case 2:
		return "two levels"
	case 3:
		return "three levels"
	}
	return fmt.Sprintf("%d levels", n)
}

// LevelName is the DORA level of a rank (the value and threshold of a level-drop alert).
func LevelName(rank float64) string {
	switch rank {
	case 0:
		return dora.Elite
	case 1:
		return dora.High
	case 2:
		return dora.Medium
	}
	return dora.Low
}

// levelRank orders DORA levels: 0 elite … 3 low.
func levelRank(l string) int {
	switch l {
	case dora.Elite:
		return 0
	case dora.High:
		return 1
	case dora.Medium:
		return 2
	}
	return 3
}

func metricName(m string) string { return strings.ReplaceAll(m, "_", " ") }

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func finite(v float64) float64 {
	if math.IsInf(v, 1) {
		return math.MaxFloat32
	}
	return v
}

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// num formats v with at most d decimals, without trailing zeros.
func num(v float64, d int) string {
	s := fmt.Sprintf("%.*f", d, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func span(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
