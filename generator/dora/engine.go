package dora

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// Metric names, as in the JSON and in config.Levels.
const (
	MetricDeploymentFrequency = "deployment_frequency"
	MetricLeadTime            = "lead_time"
	MetricChangeFailureRate   = "change_failure_rate"
	MetricTimeToRestore       = "time_to_restore"
)

// Metrics lists the four metrics in display order.
var Metrics = []string{MetricDeploymentFrequency, MetricLeadTime, MetricChangeFailureRate, MetricTimeToRestore}

// Input is one product's stored records.
type Input struct {
	Product     config.Product
	Deployments []record.Deployment
	Incidents   []record.Incident
}

// Compute returns the report of `portfolio dora --json`: every product of in (in order), the
// pooled portfolio, each over the current window [now−W, now) and the previous one
// [now−2W, now−W), with levels and trends. Records at or after now are ignored, so a past --now
// reproduces the report of that moment from today's data.
func Compute(cfg config.DORA, in []Input, now time.Time) Report {
	cfg = withDefaults(cfg)
	now = now.UTC()
	return report(cfg, in, prepareAll(cfg, in, now), now)
}

// ComputeAll returns Compute's report and Weekly's series together, preparing the records once
// (what the site build needs; about half the work of calling both).
func ComputeAll(cfg config.DORA, in []Input, now time.Time) (Report, WeeklySeries) {
	cfg = withDefaults(cfg)
	now = now.UTC()
	ps := prepareAll(cfg, in, now)
	return report(cfg, in, ps, now), weekly(cfg, in, ps, now)
}

func prepareAll(cfg config.DORA, in []Input, now time.Time) []*prepared {
	ps := make([]*prepared, len(in))
	for i, x := range in {
		ps[i] = prepare(cfg, x, now)
	}
	return ps
}

func report(cfg config.DORA, in []Input, ps []*prepared, now time.Time) Report {
	w := time.Duration(cfg.WindowDays) * 24 * time.Hour
	cur := span{start: now.Add(-w), end: now, openAt: now, days: float64(cfg.WindowDays)}
	prev := span{start: now.Add(-2 * w), end: now.Add(-w), openAt: now.Add(-w), days: float64(cfg.WindowDays)}

	rep := Report{Now: now, WindowDays: cfg.WindowDays, Products: make([]ProductReport, 0, len(in))}
	pc, pp := raw{days: cur.days}, raw{days: prev.days}
	for i, x := range in {
		c, pr := ps[i].window(cur), ps[i].window(prev)
		rep.Products = append(rep.Products, ProductReport{ID: x.Product.ID, Comparison: compare(cfg, c, pr)})
		pc.add(c)
		pp.add(pr)
	}
	rep.Portfolio = compare(cfg, pc, pp)
	return rep
}

// ProductFigures computes one product's comparison alone (the same numbers Compute gives it).
func ProductFigures(cfg config.DORA, in Input, now time.Time) Comparison {
	r := Compute(cfg, []Input{in}, now)
	return r.Products[0].Comparison
}

func withDefaults(cfg config.DORA) config.DORA {
	if cfg.WindowDays <= 0 {
		cfg.WindowDays = 30
	}
	if cfg.AttributionHours <= 0 {
		cfg.AttributionHours = 24
	}
	def := config.DefaultLevels()
	fill := func(b *config.LevelBands, d config.LevelBands) {
		if *b == (config.LevelBands{}) {
			*b = d
		}
	}
	fill(&cfg.Levels.DeploymentFrequency, def.DeploymentFrequency)
	fill(&cfg.Levels.LeadTime, def.LeadTime)
	fill(&cfg.Levels.ChangeFailureRate, def.ChangeFailureRate)
	fill(&cfg.Levels.TimeToRestore, def.TimeToRestore)
	return cfg
}

// span is one window [start, end); open incidents are counted at openAt; per_day divides by days.
type span struct {
	start, end, openAt time.Time
	days               float64
}

// dep is a judged deployment, prepared for windowing.
type dep struct {
	t         time.Time
	success   bool
	lead      []float64 // lead times (seconds) of the changes counted at this deployment
	incidents int       // incidents attributed to it
}

// inc is an incident that counts (not not_planned, created before now).
type inc struct {
	start  time.Time
	end    time.Time // zero: still open (at now)
	closed bool
}

// prepared is one product's records, sorted and attributed once.
type prepared struct {
	deps []dep // by time
	incs []inc // by start
}

// prepare sorts the product's deployments, computes each successful deployment's lead times
// (a commit counts once, at its first deployment; skewed author dates are left out) and
// attributes incidents to deployments.
func prepare(cfg config.DORA, in Input, now time.Time) *prepared {
	src := make([]*record.Deployment, 0, len(in.Deployments))
	for i := range in.Deployments {
		d := &in.Deployments[i]
		if !d.Time.Before(now) {
			continue
		}
		if d.Outcome != record.OutcomeSuccess && d.Outcome != record.OutcomeFailure {
			continue
		}
		src = append(src, d)
	}
	slices.SortStableFunc(src, func(a, b *record.Deployment) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})

	p := &prepared{deps: make([]dep, len(src))}
	nChanges := 0
	for _, d := range src {
		nChanges += len(d.Changes)
	}
	// firstShip maps a commit (or a deployed head) to the index of the successful deployment
	// that first shipped it. Lead times of all deployments share one backing array.
	firstShip := make(map[string]int, nChanges+len(src))
	leads := make([]float64, 0, nChanges)
	var prevSHA string
	var prevTime time.Time
	havePrev := false
	for i, d := range src {
		p.deps[i] = dep{t: d.Time, success: d.Outcome == record.OutcomeSuccess}
		if !p.deps[i].success {
			continue
		}
		sameAsPrev := havePrev && prevTime.Before(d.Time) && strings.EqualFold(prevSHA, d.SHA)
		if !sameAsPrev {
			from := len(leads)
			for _, c := range d.Changes {
				sha := strings.ToLower(c.SHA)
				if _, seen := firstShip[sha]; seen {
					continue
				}
				firstShip[sha] = i
				if c.AuthorDate.After(d.Time) {
					continue // skewed clock: left out
				}
				leads = append(leads, d.Time.Sub(c.AuthorDate).Seconds())
			}
			p.deps[i].lead = leads[from:len(leads):len(leads)]
		}
		if head := strings.ToLower(d.SHA); head != "" {
			if _, seen := firstShip[head]; !seen {
				firstShip[head] = i
			}
		}
		if !havePrev || d.Time.After(prevTime) {
			prevSHA, prevTime, havePrev = d.SHA, d.Time, true
		}
	}

	window := time.Duration(cfg.AttributionHours) * time.Hour
	for _, x := range in.Incidents {
		if !x.Counts() || !x.CreatedAt.Before(now) {
			continue
		}
		n := inc{start: x.CreatedAt}
		if x.ClosedAt != nil && x.ClosedAt.Before(now) {
			n.end, n.closed = *x.ClosedAt, true
		}
		p.incs = append(p.incs, n)
		if i := p.attribute(src, firstShip, x, window); i >= 0 {
			p.deps[i].incidents++
		}
	}
	slices.SortStableFunc(p.incs, func(a, b inc) int { return a.start.Compare(b.start) })
	return p
}

// attribute returns the index of the deployment the incident is attributed to, or -1.
func (p *prepared) attribute(src []*record.Deployment, firstShip map[string]int, x record.Incident, window time.Duration) int {
	if sha := strings.ToLower(x.CausedBy); sha != "" {
		if i, ok := firstShip[sha]; ok {
			return i
		}
		if len(sha) < 40 { // a short sha: the first deployment that shipped a commit it prefixes
			best := -1
			for s, i := range firstShip {
				if strings.HasPrefix(s, sha) && (best < 0 || i < best) {
					best = i
				}
			}
			if best >= 0 {
				return best
			}
		}
		// An unknown sha (a typo, or a commit never deployed): fall back to the time rule.
	}
	// The latest successful deployment at or before the start, no more than window earlier.
	k, _ := slices.BinarySearchFunc(src, x.CreatedAt, func(d *record.Deployment, t time.Time) int {
		if d.Time.After(t) {
			return 1
		}
		return -1
	})
	for i := k - 1; i >= 0; i-- {
		if !p.deps[i].success {
			continue
		}
		if x.CreatedAt.Sub(src[i].Time) <= window {
			return i
		}
		break
	}
	return -1
}

// raw are one window's unrounded figures; pooled across products by add.
type raw struct {
	days                  float64
	successful, failed    int
	lead                  []float64
	incidentDeployments   int
	restore               []float64
	open                  int
	oldestOpen            float64 // seconds, valid when open > 0
	leadSorted, resSorted bool
}

func (r *raw) add(o raw) {
	r.days = o.days
	r.successful += o.successful
	r.failed += o.failed
	r.lead = append(r.lead, o.lead...)
	r.incidentDeployments += o.incidentDeployments
	r.restore = append(r.restore, o.restore...)
	if o.open > 0 && (r.open == 0 || o.oldestOpen > r.oldestOpen) {
		r.oldestOpen = o.oldestOpen
	}
	r.open += o.open
}

// window computes the figures of one span.
func (p *prepared) window(s span) raw {
	r := raw{days: s.days}
	lo, _ := slices.BinarySearchFunc(p.deps, s.start, func(d dep, t time.Time) int { return d.t.Compare(t) })
	for i := lo; i < len(p.deps) && p.deps[i].t.Before(s.end); i++ {
		d := &p.deps[i]
		if !d.success {
			r.failed++
			continue
		}
		r.successful++
		r.lead = append(r.lead, d.lead...)
		if d.incidents > 0 {
			r.incidentDeployments++
		}
	}
	for _, x := range p.incs {
		if !x.start.Before(s.openAt) {
			break
		}
		if x.closed && !x.end.Before(s.start) && x.end.Before(s.end) {
			r.restore = append(r.restore, max(x.end.Sub(x.start).Seconds(), 0))
		}
		if !x.closed || !x.end.Before(s.openAt) {
			age := s.openAt.Sub(x.start).Seconds()
			if r.open == 0 || age > r.oldestOpen {
				r.oldestOpen = age
			}
			r.open++
		}
	}
	return r
}

// figures rounds a window's raw figures and gives them levels.
func figures(cfg config.DORA, r raw) Figures {
	var f Figures
	lv := cfg.Levels

	perDay := 0.0
	if r.days > 0 {
		perDay = float64(r.successful) / r.days
	}
	f.DeploymentFrequency = DeploymentFrequency{
		Successful: r.successful, Failed: r.failed, PerDay: round(perDay, 4),
		Level: ptr(LevelOf(MetricDeploymentFrequency, perDay, lv.DeploymentFrequency)),
	}

	f.LeadTime.Changes = len(r.lead)
	if len(r.lead) > 0 {
		v := slices.Clone(r.lead)
		slices.Sort(v)
		med := median(v)
		f.LeadTime.MedianSeconds = ptr(round(med, 0))
		f.LeadTime.MeanSeconds = ptr(round(mean(v), 0))
		f.LeadTime.P90Seconds = ptr(round(nearestRank(v, 0.9), 0))
		f.LeadTime.Level = ptr(LevelOf(MetricLeadTime, med, lv.LeadTime))
	}

	total := r.successful + r.failed
	f.ChangeFailureRate = ChangeFailureRate{Failed: r.failed, IncidentDeployments: r.incidentDeployments, Total: total}
	if total > 0 {
		rate := float64(r.failed+r.incidentDeployments) / float64(total)
		f.ChangeFailureRate.Rate = ptr(round(rate, 4))
		f.ChangeFailureRate.Level = ptr(LevelOf(MetricChangeFailureRate, rate, lv.ChangeFailureRate))
	}

	f.TimeToRestore = TimeToRestore{Incidents: len(r.restore), OpenIncidents: r.open}
	if len(r.restore) > 0 {
		v := slices.Clone(r.restore)
		slices.Sort(v)
		med := median(v)
		f.TimeToRestore.MedianSeconds = ptr(round(med, 0))
		f.TimeToRestore.MeanSeconds = ptr(round(mean(v), 0))
		f.TimeToRestore.Level = ptr(LevelOf(MetricTimeToRestore, med, lv.TimeToRestore))
	}
	if r.open > 0 {
		f.TimeToRestore.OldestOpenSeconds = ptr(round(r.oldestOpen, 0))
	}
	return f
}

func compare(cfg config.DORA, cur, prev raw) Comparison {
	c := Comparison{Current: figures(cfg, cur), Previous: figures(cfg, prev)}
	perDay := func(r raw) *float64 {
		v := float64(r.successful) / r.days
		return &v
	}
	c.Trend = Trend{
		DeploymentFrequency: TrendOf(MetricDeploymentFrequency, perDay(cur), perDay(prev)),
		LeadTime:            TrendOf(MetricLeadTime, medianPtr(cur.lead), medianPtr(prev.lead)),
		ChangeFailureRate:   TrendOf(MetricChangeFailureRate, ratePtr(cur), ratePtr(prev)),
		TimeToRestore:       TrendOf(MetricTimeToRestore, medianPtr(cur.restore), medianPtr(prev.restore)),
	}
	return c
}

func medianPtr(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := median(s)
	return &m
}

func ratePtr(r raw) *float64 {
	t := r.successful + r.failed
	if t == 0 {
		return nil
	}
	v := float64(r.failed+r.incidentDeployments) / float64(t)
	return &v
}

// LevelOf returns the level of a metric's value under bands: elite, high, medium or low. A value
// on a boundary takes the better level. Deployment frequency is better higher; the other
// metrics are better lower.
func LevelOf(metric string, value float64, bands config.LevelBands) string {
	// A tolerance of a billionth so that a computed ratio that lands on a boundary in exact
	// arithmetic (1 deployment in 30 days against 1/30) is not pushed below it by rounding.
	const eps = 1e-9
	if metric == MetricDeploymentFrequency {
		switch {
		case value >= bands.Elite*(1-eps):
			return Elite
		case value >= bands.High*(1-eps):
			return High
		case value >= bands.Medium*(1-eps):
			return Medium
		}
		return Low
	}
	switch {
	case value <= bands.Elite*(1+eps):
		return Elite
	case value <= bands.High*(1+eps):
		return High
	case value <= bands.Medium*(1+eps):
		return Medium
	}
	return Low
}

// FlatBand is the relative change under which a trend is flat.
const FlatBand = 0.05

// TrendOf compares a metric's current and previous value: flat when either is nil or the
// relative change is under FlatBand; otherwise improving or declining in the metric's direction
// (more deployments a day, shorter lead time, lower rate, shorter restore time are better).
func TrendOf(metric string, cur, prev *float64) string {
	if cur == nil || prev == nil {
		return Flat
	}
	c, p := *cur, *prev
	if c == p {
		return Flat
	}
	if p != 0 && math.Abs(c-p)/math.Abs(p) < FlatBand {
		return Flat
	}
	up := c > p
	if metric == MetricDeploymentFrequency {
		if up {
			return Improving
		}
		return Declining
	}
	if up {
		return Declining
	}
	return Improving
}

// median of sorted values: the mean of the two middle values when the count is even.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mean(s []float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(len(s))
}

// nearestRank is the nearest-rank percentile of sorted values: the value at rank ⌈q·n⌉.
func nearestRank(s []float64, q float64) float64 {
	k := int(math.Ceil(q*float64(len(s)) - 1e-9))
	k = min(max(k, 1), len(s))
	return s[k-1]
}

// round rounds half away from zero to d decimals.
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no -0 in JSON
	}
	return r
}

func ptr[T any](v T) *T { return &v }
