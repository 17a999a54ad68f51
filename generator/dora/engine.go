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
	MetricDeploymentFrequency          = "deployment_frequency"
	MetricLeadTime                     = "lead_time"
	MetricChangeFailureRate            = "change_failure_rate"
	MetricTimeToRestore                = "time_to_restore"
	MetricFailedDeploymentRecoveryTime = "failed_deployment_recovery_time"
	MetricReworkRate                   = "rework_rate"
)

// FourKeys lists the original four metrics in display order.
var FourKeys = []string{MetricDeploymentFrequency, MetricLeadTime, MetricChangeFailureRate, MetricTimeToRestore}

// Metrics lists every metric in display order: the four keys, then the newer reports' two.
var Metrics = []string{MetricDeploymentFrequency, MetricLeadTime, MetricChangeFailureRate, MetricTimeToRestore,
	MetricFailedDeploymentRecoveryTime, MetricReworkRate}

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
	e := newEngine(cfg, now)
	return e.report(in, e.prepareAll(in))
}

// ComputeAll returns Compute's report and Weekly's series together, preparing the records once.
// It is what the site build calls (BenchmarkDORA measures it).
func ComputeAll(cfg config.DORA, in []Input, now time.Time) (Report, WeeklySeries) {
	e := newEngine(cfg, now)
	ps := e.prepareAll(in)
	return e.report(in, ps), e.weekly(in, ps)
}

// ProductFigures computes one product's comparison alone (the same numbers Compute gives it).
func ProductFigures(cfg config.DORA, in Input, now time.Time) Comparison {
	r := Compute(cfg, []Input{in}, now)
	return r.Products[0].Comparison
}

// engine is one computation: the configuration with defaults, its level bands as fractions,
// and now.
type engine struct {
	cfg    config.DORA
	levels exactLevels
	now    time.Time
}

func newEngine(cfg config.DORA, now time.Time) *engine {
	cfg = withDefaults(cfg)
	return &engine{cfg: cfg, levels: levelsOf(cfg.Levels), now: now.UTC()}
}

func (e *engine) prepareAll(in []Input) []*prepared {
	ps := make([]*prepared, len(in))
	for i, x := range in {
		ps[i] = prepare(e.cfg, x, e.now)
	}
	return ps
}

func (e *engine) report(in []Input, ps []*prepared) Report {
	w := time.Duration(e.cfg.WindowDays) * 24 * time.Hour
	days := newFrac(uint64(e.cfg.WindowDays), 1)
	cur := span{start: e.now.Add(-w), end: e.now, openAt: e.now, days: float64(e.cfg.WindowDays), exactDays: days}
	prev := span{start: e.now.Add(-2 * w), end: e.now.Add(-w), openAt: e.now.Add(-w), days: float64(e.cfg.WindowDays), exactDays: days}

	rep := Report{Now: e.now, WindowDays: e.cfg.WindowDays, Products: make([]ProductReport, 0, len(in))}
	pc, pp := raw{days: cur.days, exactDays: days}, raw{days: prev.days, exactDays: days}
	pd := &Detail{Pooled: true}
	for i, x := range in {
		c, pr := ps[i].window(cur), ps[i].window(prev)
		cmp := e.compare(c, pr)
		cmp.Detail = ps[i].detail(x.Product.ID, cur, e.now)
		rep.Products = append(rep.Products, ProductReport{ID: x.Product.ID, Comparison: cmp})
		pc.add(c)
		pp.add(pr)
		pd.Failures = append(pd.Failures, cmp.Detail.Failures...)
		pd.Rework = append(pd.Rework, cmp.Detail.Rework...)
	}
	rep.Portfolio = e.compare(pc, pp)
	pd.sort()
	rep.Portfolio.Detail = pd
	return rep
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

// span is one window [start, end); open incidents are counted at openAt; per_day divides by
// days (exactDays is the same number as a fraction, for levels and trends).
type span struct {
	start, end, openAt time.Time
	days               float64
	exactDays          frac
}

// dep is a judged deployment, prepared for windowing. It is kept small (a product may have
// tens of thousands): the details that only the current window names are found again later.
type dep struct {
	t       time.Time
	success bool
	// reworkAfterFailed and reworkDuringIncident mark a successful deployment as rework.
	reworkAfterFailed, reworkDuringIncident bool
	recovered                               bool            // a failure that recovered (at now)
	lead                                    []time.Duration // lead times of the changes counted at this deployment
	incidents                               int32           // incidents attributed to it (successful deployments)
	openIncs                                int32           // of those, still open at now
	// recoveredBy is the index of the first successful deployment after a failed one, or -1.
	recoveredBy int32
	recovery    time.Duration // a recovered failure's recovery time
}

func (d *dep) rework() bool { return d.reworkAfterFailed || d.reworkDuringIncident }

// inc is an incident that counts (not not_planned, created before now).
type inc struct {
	number int
	start  time.Time
	end    time.Time // zero: still open (at now)
	closed bool
	dep    int32 // the deployment it is attributed to, or -1
	fix    int32 // the rework deployment shipped during it, or -1
}

// prepared is one product's records, sorted and attributed once.
type prepared struct {
	src  []*record.Deployment // the records of deps, index for index
	deps []dep                // by time, then id
	incs []inc                // by start
}

// prepare sorts the product's deployments, computes each successful deployment's lead times
// (a commit counts once, at its first deployment; skewed author dates are left out), attributes
// incidents to deployments, and finds every failure's recovery and every rework deployment.
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

	p := &prepared{src: src, deps: make([]dep, len(src))}
	nChanges := 0
	for _, d := range src {
		nChanges += len(d.Changes)
	}
	// firstShip maps a commit (or a deployed head) to the index of the successful deployment
	// that first shipped it. Lead times of all deployments share one backing array.
	firstShip := make(map[string]int, nChanges+len(src))
	leads := make([]time.Duration, 0, nChanges)
	var prevSHA string
	var prevTime time.Time
	havePrev := false
	for i, d := range src {
		p.deps[i] = dep{t: d.Time, success: d.Outcome == record.OutcomeSuccess, recoveredBy: -1}
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
				leads = append(leads, d.Time.Sub(c.AuthorDate))
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
		n := inc{number: x.Number, start: x.CreatedAt, dep: -1, fix: -1}
		if x.ClosedAt != nil && x.ClosedAt.Before(now) {
			n.end, n.closed = *x.ClosedAt, true
		}
		if i := p.attribute(src, firstShip, x, window); i >= 0 {
			d := &p.deps[i]
			n.dep = int32(i)
			d.incidents++
			if !n.closed {
				d.openIncs++
			} else if end := n.end.Sub(d.t); !d.recovered || end > d.recovery {
				// The latest close so far (an incident named by Caused-by may close before
				// the deployment it names: odd data, 0).
				d.recovered, d.recovery = true, max(end, 0)
			}
		}
		p.incs = append(p.incs, n)
	}
	slices.SortStableFunc(p.incs, func(a, b inc) int { return a.start.Compare(b.start) })
	p.recoveries()
	return p
}

// recoveries links each failed deployment to the first successful deployment with a later
// time (which recovers it, and is rework), and marks the first successful deployment after each
// incident's start, at or before its close (or now, while it is open), as rework.
func (p *prepared) recoveries() {
	n := len(p.deps)
	nextOK := make([]int, n+1) // nextOK[k]: the first successful deployment at index ≥ k, or -1
	nextOK[n] = -1
	for k := n - 1; k >= 0; k-- {
		nextOK[k] = nextOK[k+1]
		if p.deps[k].success {
			nextOK[k] = k
		}
	}
	after := 0 // the first index with a time after deps[i]'s
	for i := range p.deps {
		d := &p.deps[i]
		for after < n && !p.deps[after].t.After(d.t) {
			after++
		}
		if d.success {
			continue
		}
		if j := nextOK[after]; j >= 0 {
			d.recoveredBy, d.recovered, d.recovery = int32(j), true, p.deps[j].t.Sub(d.t)
			p.deps[j].reworkAfterFailed = true
		}
	}
	for n := range p.incs {
		x := &p.incs[n]
		k, _ := slices.BinarySearchFunc(p.deps, x.start, func(d dep, t time.Time) int {
			if d.t.After(t) {
				return 1
			}
			return -1
		})
		j := nextOK[k]
		if j < 0 {
			continue
		}
		if d := &p.deps[j]; !x.closed || !d.t.After(x.end) {
			d.reworkDuringIncident, x.fix = true, int32(j)
		}
	}
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

// recovery is a failure's recovery time, and whether it recovered (at now): a failed
// deployment at the next successful one, an incident deployment when its last incident closed.
func (p *prepared) recovery(i int) (time.Duration, bool) {
	d := &p.deps[i]
	if d.success && d.openIncs > 0 {
		return 0, false
	}
	return d.recovery, d.recovered
}

// raw are one window's unrounded figures; pooled across products by add.
type raw struct {
	days                float64
	exactDays           frac
	successful, failed  int
	lead                []time.Duration
	incidentDeployments int
	restore             []time.Duration
	open                int
	oldestOpen          time.Duration // valid when open > 0
	recovered           []time.Duration
	unrecovered         int
	rework              int
	x                   *exact // set by sort
}

func (r *raw) add(o raw) {
	r.days, r.exactDays = o.days, o.exactDays
	r.successful += o.successful
	r.failed += o.failed
	r.lead = append(r.lead, o.lead...)
	r.incidentDeployments += o.incidentDeployments
	r.restore = append(r.restore, o.restore...)
	if o.open > 0 && (r.open == 0 || o.oldestOpen > r.oldestOpen) {
		r.oldestOpen = o.oldestOpen
	}
	r.open += o.open
	r.recovered = append(r.recovered, o.recovered...)
	r.unrecovered += o.unrecovered
	r.rework += o.rework
}

// deps returns the index range of the deployments in [s.start, s.end).
func (p *prepared) depRange(s span) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(p.deps, s.start, func(d dep, t time.Time) int { return d.t.Compare(t) })
	hi = lo
	for hi < len(p.deps) && p.deps[hi].t.Before(s.end) {
		hi++
	}
	return lo, hi
}

// window computes the figures of one span.
func (p *prepared) window(s span) raw {
	r := raw{days: s.days, exactDays: s.exactDays}
	lo, hi := p.depRange(s)
	for i := lo; i < hi; i++ {
		d := &p.deps[i]
		if d.success {
			r.successful++
			r.lead = append(r.lead, d.lead...)
			if d.rework() {
				r.rework++
			}
			if d.incidents == 0 {
				continue
			}
			r.incidentDeployments++
		} else {
			r.failed++
		}
		if t, ok := p.recovery(i); ok {
			r.recovered = append(r.recovered, t)
		} else {
			r.unrecovered++
		}
	}
	for _, x := range p.incs {
		if !x.start.Before(s.openAt) {
			break
		}
		if x.closed && !x.end.Before(s.start) && x.end.Before(s.end) {
			r.restore = append(r.restore, max(x.end.Sub(x.start), 0))
		}
		if !x.closed || !x.end.Before(s.openAt) {
			age := s.openAt.Sub(x.start)
			if r.open == 0 || age > r.oldestOpen {
				r.oldestOpen = age
			}
			r.open++
		}
	}
	return r
}

// detail lists the failures and rework deployments of one span, newest first.
func (p *prepared) detail(product string, s span, now time.Time) *Detail {
	dt := &Detail{}
	lo, hi := p.depRange(s)
	for i := hi - 1; i >= lo; i-- {
		d, rec := &p.deps[i], p.src[i]
		if d.success && d.rework() {
			rw := Rework{Product: product, Deployment: rec.ID, SHA: rec.SHA, Time: d.t}
			if d.reworkAfterFailed {
				for _, f := range p.recoveredBy(i) {
					rw.AfterFailed = append(rw.AfterFailed, p.src[f].SHA)
				}
			}
			for _, x := range p.incs {
				if int(x.fix) == i {
					rw.DuringIncidents = append(rw.DuringIncidents, x.number)
				}
			}
			dt.Rework = append(dt.Rework, rw)
		}
		if d.success && d.incidents == 0 {
			continue
		}
		f := Failure{Product: product, Deployment: rec.ID, SHA: rec.SHA, Time: d.t, Kind: FailureDeployment}
		if d.success {
			f.Kind = FailureIncident
			for _, x := range p.incs {
				if int(x.dep) == i {
					f.Incidents = append(f.Incidents, x.number)
				}
			}
			slices.Sort(f.Incidents)
		}
		t, ok := p.recovery(i)
		f.Recovered = ok
		if !ok {
			t = now.Sub(d.t)
		}
		f.Seconds = round(t.Seconds(), 0)
		if ok && !d.success {
			f.RecoveredBy = p.src[d.recoveredBy].SHA
		}
		dt.Failures = append(dt.Failures, f)
	}
	return dt
}

// recoveredBy lists, oldest first, the failed deployments that the successful deployment r
// recovered (it is the first success after each of them).
func (p *prepared) recoveredBy(r int) []int {
	var out []int
	limit := time.Time{} // once set: the time of an earlier success; failures before it are its
	for j := r - 1; j >= 0; j-- {
		d := &p.deps[j]
		if !limit.IsZero() && d.t.Before(limit) {
			break
		}
		if d.success {
			if limit.IsZero() && d.t.Before(p.deps[r].t) {
				limit = d.t // failures at this very time may still be r's
			}
			continue
		}
		if int(d.recoveredBy) == r {
			out = append(out, j)
		}
	}
	slices.Reverse(out)
	return out
}

// sort orders pooled details newest first, then by product.
func (d *Detail) sort() {
	slices.SortStableFunc(d.Failures, func(a, b Failure) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Product, b.Product)
	})
	slices.SortStableFunc(d.Rework, func(a, b Rework) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Product, b.Product)
	})
}

// exact are a window's headline values as fractions (nil without data), for levels and trends.
type exact struct {
	perDay, leadTime, failureRate, restore, recovery, rework *frac
}

// sort sorts the window's durations in place (raw owns them: window and add copy) and returns
// its exact values, computed once.
func (r *raw) sort() *exact {
	if r.x != nil {
		return r.x
	}
	slices.Sort(r.lead)
	slices.Sort(r.restore)
	slices.Sort(r.recovered)
	x := &exact{perDay: ptr(perDay(r.successful, r.exactDays))}
	x.leadTime = medianExact(r.lead)
	if t := r.successful + r.failed; t > 0 {
		x.failureRate = ptr(ratio(r.failed+r.incidentDeployments, t))
	}
	x.restore = medianExact(r.restore)
	x.recovery = medianExact(r.recovered)
	if r.successful > 0 {
		x.rework = ptr(ratio(r.rework, r.successful))
	}
	r.x = x
	return x
}

// medianExact is the median of sorted durations (≥ 0) in seconds, as a fraction; nil for none.
func medianExact(s []time.Duration) *frac {
	n := len(s)
	if n == 0 {
		return nil
	}
	if n%2 == 1 {
		return ptr(seconds(s[n/2]))
	}
	return ptr(newFrac(uint64(s[n/2-1])+uint64(s[n/2]), 2*uint64(time.Second)))
}

// figures rounds a window's raw figures and gives them levels.
func (e *engine) figures(r *raw) Figures {
	var f Figures
	x := r.sort()
	lv := e.levels

	perDay := 0.0
	if r.days > 0 {
		perDay = float64(r.successful) / r.days
	}
	f.DeploymentFrequency = DeploymentFrequency{
		Successful: r.successful, Failed: r.failed, PerDay: round(perDay, 4),
		Level: ptr(lv.frequency.level(*x.perDay)),
	}

	f.LeadTime.Changes = len(r.lead)
	if len(r.lead) > 0 {
		med, mn, p90 := stats(r.lead)
		f.LeadTime.MedianSeconds = ptr(round(med, 0))
		f.LeadTime.MeanSeconds = ptr(round(mn, 0))
		f.LeadTime.P90Seconds = ptr(round(p90, 0))
		f.LeadTime.Level = ptr(lv.leadTime.level(*x.leadTime))
	}

	total := r.successful + r.failed
	f.ChangeFailureRate = ChangeFailureRate{Failed: r.failed, IncidentDeployments: r.incidentDeployments, Total: total}
	if total > 0 {
		rate := float64(r.failed+r.incidentDeployments) / float64(total)
		f.ChangeFailureRate.Rate = ptr(round(rate, 4))
		f.ChangeFailureRate.Level = ptr(lv.failureRate.level(*x.failureRate))
	}

	f.TimeToRestore = TimeToRestore{Incidents: len(r.restore), OpenIncidents: r.open}
	if len(r.restore) > 0 {
		med, mn, _ := stats(r.restore)
		f.TimeToRestore.MedianSeconds = ptr(round(med, 0))
		f.TimeToRestore.MeanSeconds = ptr(round(mn, 0))
		f.TimeToRestore.Level = ptr(lv.restore.level(*x.restore))
	}
	if r.open > 0 {
		f.TimeToRestore.OldestOpenSeconds = ptr(round(r.oldestOpen.Seconds(), 0))
	}

	f.FailedDeploymentRecoveryTime = FailedDeploymentRecoveryTime{Failures: len(r.recovered) + r.unrecovered,
		Recovered: len(r.recovered), Unrecovered: r.unrecovered}
	if len(r.recovered) > 0 {
		med, mn, _ := stats(r.recovered)
		f.FailedDeploymentRecoveryTime.MedianSeconds = ptr(round(med, 0))
		f.FailedDeploymentRecoveryTime.MeanSeconds = ptr(round(mn, 0))
		f.FailedDeploymentRecoveryTime.Level = ptr(lv.restore.level(*x.recovery))
	}

	f.ReworkRate = ReworkRate{Rework: r.rework, Successful: r.successful}
	if r.successful > 0 {
		f.ReworkRate.Rate = ptr(round(float64(r.rework)/float64(r.successful), 4))
	}
	return f
}

// stats are the median, mean and nearest-rank 90th percentile of sorted durations, in seconds.
func stats(d []time.Duration) (med, mn, p90 float64) {
	n := len(d)
	if n%2 == 1 {
		med = d[n/2].Seconds()
	} else {
		med = (d[n/2-1].Seconds() + d[n/2].Seconds()) / 2
	}
	var sum float64
	for _, x := range d {
		sum += x.Seconds()
	}
	k := int(math.Ceil(0.9*float64(n) - 1e-9))
	k = min(max(k, 1), n)
	return med, sum / float64(n), d[k-1].Seconds()
}

func (e *engine) compare(cur, prev raw) Comparison {
	c := Comparison{Current: e.figures(&cur), Previous: e.figures(&prev)}
	xc, xp := cur.sort(), prev.sort()
	c.Trend = Trend{
		DeploymentFrequency:          trend(MetricDeploymentFrequency, xc.perDay, xp.perDay),
		LeadTime:                     trend(MetricLeadTime, xc.leadTime, xp.leadTime),
		ChangeFailureRate:            trend(MetricChangeFailureRate, xc.failureRate, xp.failureRate),
		TimeToRestore:                trend(MetricTimeToRestore, xc.restore, xp.restore),
		FailedDeploymentRecoveryTime: trend(MetricFailedDeploymentRecoveryTime, xc.recovery, xp.recovery),
		ReworkRate:                   trend(MetricReworkRate, xc.rework, xp.rework),
	}
	return c
}

// LevelOf returns the level of a metric's value under bands: elite, high, medium or low. A value
// on a boundary takes the better level. Deployment frequency is better higher; the other
// metrics are better lower. value and bands are read as the fractions they stand for (1.0/30
// as 1/30, 0.15 as 3/20) and compared exactly.
func LevelOf(metric string, value float64, bands config.LevelBands) string {
	return bandsOf(metric, bands).level(fracOf(fraction(value)))
}

// FlatBand is the relative change under which a trend is flat.
const FlatBand = 0.05

// TrendOf compares a metric's current and previous value: flat when either is nil or the
// relative change is under FlatBand; otherwise improving or declining in the metric's direction
// (more deployments a day is better; for every other metric, lower is better). The values are
// read as the fractions they stand for and compared exactly.
func TrendOf(metric string, cur, prev *float64) string {
	var c, p *frac
	if cur != nil {
		c = ptr(fracOf(fraction(*cur)))
	}
	if prev != nil {
		p = ptr(fracOf(fraction(*prev)))
	}
	return trend(metric, c, p)
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
