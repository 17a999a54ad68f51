// Package impact judges every deployment by what it did to its product: it compares a window
// before the deployment with a window after it for response time, error rate, availability,
// Workers errors and key events per hour, and gives each metric a verdict (regression,
// improvement, no change, not enough data) by a rule that accounts for volume. A deployment
// with a regression is a suspect deployment.
//
// It is pure: records, settings and now in, verdicts out. docs/impact.md defines the windows
// and the rules, with a worked example.
package impact

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/health"
	"github.com/portfolio-report/portfolio/generator/record"
)

// Metrics compared around a deployment.
const (
	MetricResponseTime = "response_time" // Cloudflare's p95 when both windows have it, else the probes' median, ms
	MetricErrorRate    = "error_rate"    // 5xx responses over requests, %
	MetricAvailability = "availability"  // good checks over checks, %
	MetricWorkerErrors = "worker_errors" // Worker errors over invocations, %
	MetricKeyEvent     = "key_event"     // one configured PostHog key event per hour (Comparison.Event names it)
)

// Verdicts.
const (
	Regression    = "regression"
	Improvement   = "improvement"
	NoChange      = "no_change"
	NotEnoughData = "not_enough_data"
)

// Statistics of the response time.
const (
	StatP95    = "p95"    // Cloudflare's edge p95, request-weighted over the window's runs
	StatMedian = "median" // the median of the successful probes (a handful of probes has no p95)
)

// Settings are the windows and the rules' thresholds (config.Impact, resolved).
type Settings struct {
	Before, After  time.Duration
	MinRequests    int64   // requests or Worker invocations each window needs for a rate's verdict
	MinSamples     int64   // runs with a response time, or checks, each window needs
	MinEvents      int64   // key events each window needs
	ChangeRatio    float64 // response time or events per hour must change by this factor
	LatencyFloorMs float64 // and response time by at least this many ms
	RateFloor      float64 // a rate must change by at least this many percentage points
	Z              float64 // the z-score a rate's change needs

	rules ruleTexts // the thresholds in words, written once per Analyze
}

type ruleTexts struct{ latency, rate, events string }

// SettingsOf resolves a product's impact config; unset fields take the defaults.
func SettingsOf(c config.Impact) Settings {
	c = c.Over(config.DefaultImpact())
	before, after := c.Windows()
	return Settings{Before: before, After: after, MinRequests: int64(c.MinRequests), MinSamples: int64(c.MinSamples),
		MinEvents: int64(c.MinEvents), ChangeRatio: c.ChangeRatio, LatencyFloorMs: *c.LatencyFloorMs,
		RateFloor: *c.RateFloor, Z: c.Z}
}

// Input is what the analysis reads about one product.
type Input struct {
	// Product says which metrics apply (Cloudflare zone, Worker, probe, key events).
	Product config.Product
	// Snapshots are sorted by time and cover the before-window of the first deployment judged.
	Snapshots []record.Snapshot
	// Deployments are all the product's deployments (any order): those before From still cut
	// the windows of the ones after them.
	Deployments []record.Deployment
	// Days are the product's daily analytics, for key events.
	Days     []record.AnalyticsDay
	Settings Settings
	// From is the first deployment time judged (inclusive); Now the analysis time: later data
	// and deployments are left out, and an after-window that reaches past it is still open.
	From, Now time.Time
}

// Neighbour is a deployment that cuts a window short.
type Neighbour struct {
	ID   string
	SHA  string
	Time time.Time
}

// Window is the stretch of data a side of the comparison covers.
type Window struct {
	// From and To bound the window in time: before-windows end at the deployment, after-windows
	// start at it. To is the window's planned end, not now, while it is open.
	From, To time.Time
	// Runs counts the snapshots whose data lie in it (see docs/impact.md: a snapshot's data cover
	// the cadence before it).
	Runs int
}

// Report is one deployment's impact.
type Report struct {
	Deployment    record.Deployment
	Before, After Window
	// Previous is the deployment the before-window was cut at (the windows overlap: the time
	// between belongs to it), Next the one that cut the after-window short; nil when none.
	Previous, Next *Neighbour
	// Open: the after-window reaches past now, so its figures are provisional.
	Open    bool
	Metrics []Comparison
}

// Suspect reports whether a metric regressed after the deployment.
func (r Report) Suspect() bool {
	return slices.ContainsFunc(r.Metrics, func(c Comparison) bool { return c.Verdict == Regression })
}

// Regressions are the metrics that regressed.
func (r Report) Regressions() []Comparison {
	var out []Comparison
	for _, c := range r.Metrics {
		if c.Verdict == Regression {
			out = append(out, c)
		}
	}
	return out
}

// Judged reports whether any metric had enough data for a verdict.
func (r Report) Judged() bool {
	return slices.ContainsFunc(r.Metrics, func(c Comparison) bool { return c.Verdict != NotEnoughData })
}

// Comparison is one metric before and after a deployment, and its verdict.
type Comparison struct {
	Metric string
	Event  string // MetricKeyEvent: the event's name
	Stat   string // MetricResponseTime: StatP95 or StatMedian
	Unit   string // "ms", "%" or "/h"
	// Before and After are the figures; nil without data.
	Before, After *float64
	// BeforeN and AfterN are the volume behind them, in NUnit: "runs" (response time),
	// "requests", "invocations", "checks" or "events".
	BeforeN, AfterN int64
	NUnit           string
	// Low and High are the range of the before-window's single runs (days, for key events):
	// the metric is "back to normal" inside it. Nil without data.
	Low, High *float64
	// Ratio is After/Before (response time and key events); Z the test's z-score (rates and key
	// events). Nil where the rule does not use them or there is no data.
	Ratio, Z *float64
	Verdict  string
	// Reason says why the verdict, in words: what was missing, or the change the rule judged
	// ("×2.58, +190 ms"); Rule is the rule's thresholds ("×1.5 and 20 ms"), empty when the
	// data did not reach it.
	Reason, Rule string
	// LowerIsWorse is set for availability and key events: a drop is the regression.
	LowerIsWorse bool
}

// Name is the metric in words: "response time (p95)", "error rate", "key event signup".
func (c Comparison) Name() string {
	switch c.Metric {
	case MetricResponseTime:
		if c.Stat != "" {
			return "response time (" + c.Stat + ")"
		}
		return "response time"
	case MetricErrorRate:
		return "error rate"
	case MetricAvailability:
		return "availability"
	case MetricWorkerErrors:
		return "Workers error rate"
	case MetricKeyEvent:
		return c.Event + " per hour"
	}
	return c.Metric
}

// Key identifies the metric within a deployment: the metric, or "key_event:<name>".
func (c Comparison) Key() string {
	if c.Metric == MetricKeyEvent {
		return c.Metric + ":" + c.Event
	}
	return c.Metric
}

// Within reports whether v lies in the before-window's range on the side that matters: at or
// below its highest run where higher is worse, at or above its lowest where lower is worse.
func (c Comparison) Within(v float64) bool {
	if c.LowerIsWorse {
		return c.Low != nil && v >= *c.Low
	}
	return c.High != nil && v <= *c.High
}

// Analyze judges every deployment from in.From to in.Now, oldest first.
func Analyze(in Input) []Report {
	s := &in.Settings
	s.rules = ruleTexts{
		latency: fmt.Sprintf("×%s and %s ms", num(s.ChangeRatio, 3), num(s.LatencyFloorMs, 1)),
		rate:    fmt.Sprintf("|z| ≥ %s and %s pp", num(s.Z, 2), num(s.RateFloor, 3)),
		events:  fmt.Sprintf("×%s and |z| ≥ %s", num(s.ChangeRatio, 3), num(s.Z, 2)),
	}
	deps := make([]record.Deployment, 0, len(in.Deployments))
	for _, d := range in.Deployments {
		if !d.Time.After(in.Now) {
			deps = append(deps, d)
		}
	}
	slices.SortStableFunc(deps, func(a, b record.Deployment) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID))
	})
	var out []Report
	for i, d := range deps {
		if d.Time.Before(in.From) {
			continue
		}
		var prev, next *record.Deployment
		if i > 0 {
			prev = &deps[i-1]
		}
		if i+1 < len(deps) {
			next = &deps[i+1]
		}
		out = append(out, analyzeOne(in, d, prev, next))
	}
	return out
}

// side is one window's data.
type side struct {
	snaps []record.Snapshot
	days  []record.AnalyticsDay
	hours float64 // hours of whole days, for key events
}

func analyzeOne(in Input, d record.Deployment, prev, next *record.Deployment) Report {
	s := in.Settings
	c := health.Cadence
	t := d.Time
	r := Report{Deployment: d}

	// The before-window: the runs of Before up to the deployment, none whose data reach back
	// past the previous deployment (that time is the previous deployment's after-window).
	r.Before = Window{From: t.Add(-s.Before), To: t}
	beforeFrom := t.Add(-s.Before).Add(time.Nanosecond) // runs at (t-Before, t]
	if prev != nil && prev.Time.After(t.Add(-s.Before)) {
		r.Previous = &Neighbour{ID: prev.ID, SHA: prev.SHA, Time: prev.Time}
		r.Before.From = prev.Time
		beforeFrom = maxTime(beforeFrom, prev.Time.Add(c))
	}
	// The after-window: the runs whose data lie wholly after the deployment, for After, cut at
	// the next deployment (the time after it is its own) and at now.
	r.After = Window{From: t, To: t.Add(s.After)}
	afterFrom, afterTo := t.Add(c), t.Add(c+s.After) // runs at [t+cadence, t+cadence+After)
	if next != nil && next.Time.Before(t.Add(s.After)) {
		r.Next = &Neighbour{ID: next.ID, SHA: next.SHA, Time: next.Time}
		r.After.To = next.Time
		afterTo = minTime(afterTo, next.Time.Add(time.Nanosecond)) // runs at or before it
	}
	if in.Now.Before(r.After.To) {
		r.Open = true
	}
	afterTo = minTime(afterTo, in.Now.Add(time.Nanosecond))

	var b, a side
	b.snaps = health.Window(in.Snapshots, beforeFrom, t.Add(time.Nanosecond))
	if afterFrom.Before(afterTo) {
		a.snaps = health.Window(in.Snapshots, afterFrom, afterTo)
	}
	r.Before.Runs, r.After.Runs = len(b.snaps), len(a.snaps)
	b.days, b.hours = wholeDays(in.Days, r.Before.From, t)
	a.days, a.hours = wholeDays(in.Days, t, minTime(r.After.To, in.Now))

	p := in.Product
	r.Metrics = append(r.Metrics, responseTime(s, b, a))
	if p.Cloudflare.ZoneID != "" || has(b, a, func(x record.Snapshot) bool { return x.HTTP != nil }) {
		r.Metrics = append(r.Metrics, errorRate(s, b, a))
	}
	if (!p.Probe.Disabled && p.HealthURL() != "") || p.Cloudflare.ZoneID != "" || has(b, a, isCheck) {
		r.Metrics = append(r.Metrics, availability(s, b, a))
	}
	if p.Cloudflare.Worker != "" || has(b, a, func(x record.Snapshot) bool { return x.Worker != nil }) {
		r.Metrics = append(r.Metrics, workerErrors(s, b, a))
	}
	for _, ev := range p.PostHog.KeyEvents {
		r.Metrics = append(r.Metrics, keyEvent(s, ev, b, a))
	}
	return r
}

func isCheck(x record.Snapshot) bool {
	_, ok := health.Check(x)
	return ok
}

func has(b, a side, f func(record.Snapshot) bool) bool {
	return slices.ContainsFunc(b.snaps, f) || slices.ContainsFunc(a.snaps, f)
}

// wholeDays are the analytics days (UTC) that lie wholly in [from, to), and their hours.
func wholeDays(days []record.AnalyticsDay, from, to time.Time) ([]record.AnalyticsDay, float64) {
	var out []record.AnalyticsDay
	for _, x := range days {
		start, err := time.Parse(time.DateOnly, x.Day)
		if err != nil {
			continue
		}
		if !start.Before(from) && !start.Add(24*time.Hour).After(to) {
			out = append(out, x)
		}
	}
	return out, float64(len(out)) * 24
}

// responseTime compares Cloudflare's p95 when both windows have it, else the probes' median,
// by the ratio rule: after/before at least ChangeRatio (or at most its inverse) and a change of
// at least LatencyFloorMs, with MinSamples runs in each window.
func responseTime(s Settings, b, a side) Comparison {
	c := Comparison{Metric: MetricResponseTime, Unit: "ms", NUnit: "runs"}
	edge := func(x record.Snapshot) (float64, bool) {
		if x.HTTP != nil && x.HTTP.Requests > 0 && x.HTTP.P95Ms > 0 {
			return x.HTTP.P95Ms, true
		}
		return 0, false
	}
	probe := func(x record.Snapshot) (float64, bool) {
		if x.Probe.OK() {
			return float64(x.Probe.Ms), true
		}
		return 0, false
	}
	be, ae := values(b.snaps, edge), values(a.snaps, edge)
	bp, ap := values(b.snaps, probe), values(a.snaps, probe)
	// figure is a window's response time by the statistic its data allow.
	figure := func(sn []record.Snapshot, e, p []float64) *float64 {
		switch {
		case len(e) > 0:
			v, _, _ := health.P95(edgeOnly(sn))
			return ptr(round(v, 1))
		case len(p) > 0:
			return ptr(round(health.NearestRank(slices.Clone(p), 50), 1))
		}
		return nil
	}
	var bv, av []float64
	switch {
	case len(be) > 0 && len(ae) > 0:
		c.Stat, bv, av = StatP95, be, ae
	case len(bp) > 0 && len(ap) > 0:
		c.Stat, bv, av = StatMedian, bp, ap
		be, ae = nil, nil // the probes on both sides
	default:
		c.Verdict = NotEnoughData
		c.Before, c.After = figure(b.snaps, be, bp), figure(a.snaps, ae, ap)
		c.BeforeN, c.AfterN = int64(max(len(be), len(bp))), int64(max(len(ae), len(ap)))
		switch {
		case c.Before == nil && c.After == nil:
			c.Reason = "no response time in either window"
		case c.Before == nil:
			c.Reason = "no response time before the deployment"
		case c.After == nil:
			c.Reason = "no response time after the deployment"
		default:
			c.Reason = "the windows measure response time differently (Cloudflare on one side, only the probe on the other)"
		}
		return c
	}
	c.Before, c.After = figure(b.snaps, be, bp), figure(a.snaps, ae, ap)
	c.BeforeN, c.AfterN = int64(len(bv)), int64(len(av))
	c.Low, c.High = ptr(slices.Min(bv)), ptr(slices.Max(bv))
	if c.BeforeN < s.MinSamples || c.AfterN < s.MinSamples {
		c.Verdict = NotEnoughData
		c.Reason = fmt.Sprintf("%d runs with a response time before and %d after; each window needs %d", c.BeforeN, c.AfterN, s.MinSamples)
		return c
	}
	before, after := *c.Before, *c.After
	if before <= 0 {
		c.Verdict, c.Reason = NotEnoughData, "a response time of 0 ms before the deployment"
		return c
	}
	ratio := after / before
	c.Ratio = ptr(round(ratio, 3))
	diff := after - before
	c.Rule = s.rules.latency
	c.Reason = fmt.Sprintf("×%s, %s ms", num(ratio, 2), signed(diff, 0))
	switch {
	case ratio >= s.ChangeRatio && diff >= s.LatencyFloorMs:
		c.Verdict = Regression
	case ratio <= 1/s.ChangeRatio && -diff >= s.LatencyFloorMs:
		c.Verdict = Improvement
	default:
		c.Verdict = NoChange
	}
	return c
}

// edgeOnly keeps the snapshots with a Cloudflare p95, so health.P95 reads the edge.
func edgeOnly(snaps []record.Snapshot) []record.Snapshot {
	var out []record.Snapshot
	for _, x := range snaps {
		if x.HTTP != nil && x.HTTP.Requests > 0 && x.HTTP.P95Ms > 0 {
			out = append(out, x)
		}
	}
	return out
}

func values(snaps []record.Snapshot, f func(record.Snapshot) (float64, bool)) []float64 {
	var out []float64
	for _, x := range snaps {
		if v, ok := f(x); ok {
			out = append(out, v)
		}
	}
	return out
}

// counts are the bad events and the total of one window, and the rate of each run.
type counts struct {
	bad, n int64
	runs   []float64 // percent, per run with a total
}

func (k counts) rate() float64 { return float64(k.bad) * 100 / float64(k.n) }

func count(snaps []record.Snapshot, f func(record.Snapshot) (bad, n int64, ok bool)) counts {
	var k counts
	for _, x := range snaps {
		bad, n, ok := f(x)
		if !ok || n <= 0 {
			continue
		}
		k.bad += bad
		k.n += n
		k.runs = append(k.runs, float64(bad)*100/float64(n))
	}
	return k
}

func errorRate(s Settings, b, a side) Comparison {
	f := func(x record.Snapshot) (int64, int64, bool) {
		if x.HTTP == nil {
			return 0, 0, false
		}
		return x.HTTP.Status5x, x.HTTP.Requests, true
	}
	c := Comparison{Metric: MetricErrorRate, Unit: "%", NUnit: "requests"}
	rateVerdict(&c, count(b.snaps, f), count(a.snaps, f), s.MinRequests, s, "Cloudflare data")
	return c
}

func workerErrors(s Settings, b, a side) Comparison {
	f := func(x record.Snapshot) (int64, int64, bool) {
		if x.Worker == nil {
			return 0, 0, false
		}
		return x.Worker.Errors, x.Worker.Requests, true
	}
	c := Comparison{Metric: MetricWorkerErrors, Unit: "%", NUnit: "invocations"}
	rateVerdict(&c, count(b.snaps, f), count(a.snaps, f), s.MinRequests, s, "Workers data")
	return c
}

// availability is judged on the failure rate of the checks; the figures are its complement.
func availability(s Settings, b, a side) Comparison {
	f := func(x record.Snapshot) (int64, int64, bool) {
		up, ok := health.Check(x)
		if !ok {
			return 0, 0, false
		}
		if up {
			return 0, 1, true
		}
		return 1, 1, true
	}
	c := Comparison{Metric: MetricAvailability, Unit: "%", NUnit: "checks", LowerIsWorse: true}
	rateVerdict(&c, count(b.snaps, f), count(a.snaps, f), s.MinSamples, s, "check")
	// Report availability, not failures: flip the figures and the range.
	flip := func(p *float64) *float64 {
		if p == nil {
			return nil
		}
		return ptr(round(100-*p, 3))
	}
	c.Before, c.After = flip(c.Before), flip(c.After)
	c.Low, c.High = flip(c.High), flip(c.Low)
	if c.Z != nil {
		*c.Z = -*c.Z
	}
	return c
}

// rateVerdict is the two-proportion z-test (pooled) of the bad share before and after, with
// at least minN in each window, a z-score of at least Z and a change of at least RateFloor
// percentage points. missing names the data for the reason when a window has none.
func rateVerdict(c *Comparison, b, a counts, minN int64, s Settings, missing string) {
	c.BeforeN, c.AfterN = b.n, a.n
	if b.n > 0 {
		c.Before = ptr(round(b.rate(), 3))
		c.Low, c.High = ptr(round(slices.Min(b.runs), 3)), ptr(round(slices.Max(b.runs), 3))
	}
	if a.n > 0 {
		c.After = ptr(round(a.rate(), 3))
	}
	switch {
	case b.n == 0 && a.n == 0:
		c.Verdict, c.Reason = NotEnoughData, "no "+missing+" in either window"
		return
	case b.n == 0:
		c.Verdict, c.Reason = NotEnoughData, "no "+missing+" before the deployment"
		return
	case a.n == 0:
		c.Verdict, c.Reason = NotEnoughData, "no "+missing+" after the deployment"
		return
	case b.n < minN || a.n < minN:
		c.Verdict = NotEnoughData
		c.Reason = fmt.Sprintf("%s %s before and %s after; each window needs %s", group(b.n), c.NUnit, group(a.n), group(minN))
		return
	case float64(a.n+b.n) <= s.Z*s.Z:
		// The most a test of n1 and n2 can show (all good on one side, all bad on the other) is
		// z = √(n1+n2): with fewer, no change could ever reach Z, so "no change" would be a lie.
		c.Verdict = NotEnoughData
		c.Reason = fmt.Sprintf("%d %s before and %d after: together too few for any change to reach z = %s (need more than %s)",
			b.n, c.NUnit, a.n, num(s.Z, 2), num(s.Z*s.Z, 0))
		return
	}
	pb, pa := float64(b.bad)/float64(b.n), float64(a.bad)/float64(a.n)
	pool := float64(a.bad+b.bad) / float64(a.n+b.n)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(a.n) + 1/float64(b.n)))
	diff := (pa - pb) * 100 // percentage points
	z := 0.0
	if se > 0 {
		z = (pa - pb) / se
	}
	c.Z = ptr(round(z, 2))
	c.Rule = s.rules.rate
	// Availability reads the other way: its rate is of failures, its figures of successes.
	word := func(d float64) string { return signed(d, 3) + " pp" }
	if c.LowerIsWorse {
		word = func(d float64) string { return signed(-d, 3) + " pp" }
	}
	zText := minus(num(z, 1))
	if c.LowerIsWorse {
		zText = minus(num(-z, 1))
	}
	c.Reason = fmt.Sprintf("%s, z = %s", word(diff), zText)
	switch {
	case z >= s.Z && diff >= s.RateFloor:
		c.Verdict = Regression
	case z <= -s.Z && -diff >= s.RateFloor:
		c.Verdict = Improvement
	default:
		c.Verdict = NoChange
	}
}

// keyEvent compares one key event per hour over the whole UTC days of each window (PostHog
// counts per day): a Poisson rate test (the after-count given both counts is binomial), with
// MinEvents in each window, |z| ≥ Z and a ratio of at least ChangeRatio. A drop is the
// regression.
func keyEvent(s Settings, name string, b, a side) Comparison {
	c := Comparison{Metric: MetricKeyEvent, Event: name, Unit: "/h", NUnit: "events", LowerIsWorse: true}
	if len(b.days) == 0 || len(a.days) == 0 {
		c.Verdict = NotEnoughData
		c.Reason = fmt.Sprintf("PostHog counts key events per UTC day; the %s windows hold no whole day on both sides", windowText(s))
		return c
	}
	sum := func(days []record.AnalyticsDay) (int64, []float64) {
		var n int64
		var per []float64
		for _, x := range days {
			n += x.Events[name]
			per = append(per, float64(x.Events[name])/24)
		}
		return n, per
	}
	nb, perB := sum(b.days)
	na, _ := sum(a.days)
	c.BeforeN, c.AfterN = nb, na
	c.Before, c.After = ptr(round(float64(nb)/b.hours, 2)), ptr(round(float64(na)/a.hours, 2))
	c.Low, c.High = ptr(round(slices.Min(perB), 2)), ptr(round(slices.Max(perB), 2))
	if nb < s.MinEvents || na < s.MinEvents {
		c.Verdict = NotEnoughData
		c.Reason = fmt.Sprintf("%s events before and %s after; each window needs %s", group(nb), group(na), group(s.MinEvents))
		return c
	}
	rb, ra := float64(nb)/b.hours, float64(na)/a.hours
	ratio := ra / rb
	c.Ratio = ptr(round(ratio, 3))
	n := float64(na + nb)
	q := a.hours / (a.hours + b.hours)
	z := (float64(na) - n*q) / math.Sqrt(n*q*(1-q))
	c.Z = ptr(round(z, 2))
	c.Rule = s.rules.events
	c.Reason = fmt.Sprintf("×%s, z = %s", num(ratio, 2), minus(num(z, 1)))
	switch {
	case z <= -s.Z && ratio <= 1/s.ChangeRatio:
		c.Verdict = Regression
	case z >= s.Z && ratio >= s.ChangeRatio:
		c.Verdict = Improvement
	default:
		c.Verdict = NoChange
	}
	return c
}

func windowText(s Settings) string {
	if s.Before == s.After {
		return span(s.Before)
	}
	return span(s.Before) + " and " + span(s.After)
}

func span(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d d", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

// Current is the metric's latest value at now, the way the comparison measured it: the last
// run's p95 or probe, 5xx or Worker error rate, check, or the last whole day's key events per
// hour. ok is false when no run (day) of the last day has it.
func Current(c Comparison, snaps []record.Snapshot, days []record.AnalyticsDay, now time.Time) (float64, bool) {
	if c.Metric == MetricKeyEvent {
		// The newest whole day: today is still being counted.
		today := now.UTC().Format(time.DateOnly)
		best := -1
		for i, x := range days {
			if x.Day < today && (best < 0 || x.Day > days[best].Day) {
				best = i
			}
		}
		if best < 0 {
			return 0, false
		}
		return round(float64(days[best].Events[c.Event])/24, 2), true
	}
	from := now.Add(-24 * time.Hour)
	for i := len(snaps) - 1; i >= 0 && snaps[i].Time.After(from); i-- {
		x := snaps[i]
		if x.Time.After(now) {
			continue
		}
		switch c.Metric {
		case MetricResponseTime:
			if c.Stat == StatP95 && x.HTTP != nil && x.HTTP.Requests > 0 && x.HTTP.P95Ms > 0 {
				return x.HTTP.P95Ms, true
			}
			if c.Stat == StatMedian && x.Probe.OK() {
				return float64(x.Probe.Ms), true
			}
		case MetricErrorRate:
			if x.HTTP != nil && x.HTTP.Requests > 0 {
				return round(float64(x.HTTP.Status5x)*100/float64(x.HTTP.Requests), 3), true
			}
		case MetricWorkerErrors:
			if x.Worker != nil && x.Worker.Requests > 0 {
				return round(float64(x.Worker.Errors)*100/float64(x.Worker.Requests), 3), true
			}
		case MetricAvailability:
			if up, ok := health.Check(x); ok {
				if up {
					return 100, true
				}
				return 0, true
			}
		}
	}
	return 0, false
}

// Figure formats a value of the comparison's unit: "212 ms", "0.042 %", "31.5/h".
func (c Comparison) Figure(v *float64) string {
	if v == nil {
		return "–"
	}
	switch c.Unit {
	case "ms":
		return num(*v, 0) + " ms"
	case "%":
		if c.Metric == MetricAvailability {
			return num(*v, 2) + " %"
		}
		return num(*v, 3) + " %"
	case "/h":
		return num(*v, 1) + "/h"
	}
	return num(*v, 3)
}

// RangeText is the before-window's range: "110–130 ms", or "120 ms" when every run agreed.
func (c Comparison) RangeText() string {
	lo, hi := c.Figure(c.Low), c.Figure(c.High)
	if lo == hi {
		return lo
	}
	if i := strings.LastIndex(lo, " "); i > 0 && strings.HasSuffix(hi, lo[i:]) {
		lo = lo[:i] // one unit: "110–130 ms"
	}
	return lo + "–" + hi
}

// Explain is the reason with the rule: "×2.58, +190 ms (rule: ×1.5 and 20 ms)".
func (c Comparison) Explain() string {
	if c.Rule == "" {
		return c.Reason
	}
	return c.Reason + " (rule: " + c.Rule + ")"
}

func ptr(v float64) *float64 { return &v }

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // never -0
	}
	return r
}

// num formats v with at most d decimals, without trailing zeros.
func num(v float64, d int) string {
	s := strconv.FormatFloat(round(v, d), 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// minus writes a negative number with the minus sign: "−4.9".
func minus(s string) string {
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:]
	}
	return s
}

// signed is num with a sign: "+0.4", "−12", "0".
func signed(v float64, d int) string {
	s := num(v, d)
	switch {
	case s == "0":
		return s
	case s[0] == '-':
		return "−" + s[1:]
	}
	return "+" + s
}

// group writes a count with thousands separators: 12,480.
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
