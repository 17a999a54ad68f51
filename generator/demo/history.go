package demo

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// Roles give a few products a story, by position in the config (modulo 3): the first has a
// short outage in the last day and a source failing right now; the second an incident open
// at now; the third a false alarm closed as not planned.
const (
	roleRecentOutage = 0
	roleOpenIncident = 1
	roleFalseAlarm   = 2
)

func (h *history) role(r int) bool { return h.index%3 == r }

func (h *history) sha() string {
	return fmt.Sprintf("%016x%016x%08x", h.r.Uint64(), h.r.Uint64(), h.r.Uint32())
}

// poisson draws from a Poisson distribution of mean lambda (Knuth; lambda is small here).
func (h *history) poisson(lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= h.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// deployments ships commits during working hours: each attempt carries one to three new
// commits; a failed one leaves them for the next success, which then ships them all (at most 6).
func (h *history) deployments() {
	if h.p.Repository == "" {
		return
	}
	runs := h.p.Deploy.Source != config.DeploySourceDeployments
	id := int64(1_200_000_000) + h.r.Int64N(100_000_000)
	if runs {
		id = 9_000_000_000 + h.r.Int64N(1_000_000_000)
	}
	var pending []record.Change
	first := time.Date(h.start.Year(), h.start.Month(), h.start.Day(), 0, 0, 0, 0, h.loc)
	for day := first; day.Before(h.opts.Now); day = day.AddDate(0, 0, 1) {
		rate := h.prof.deploysDay
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			rate *= 0.1
		}
		var times []time.Time
		for range h.poisson(rate) {
			t := day.Add(8*time.Hour + 30*time.Minute + h.between(0, 10*time.Hour)).Truncate(time.Second).UTC()
			if !t.Before(h.start) && t.Before(h.opts.Now) {
				times = append(times, t)
			}
		}
		slices.SortFunc(times, time.Time.Compare)
		for _, t := range times {
			for range min(1+h.r.IntN(3), 6-len(pending)) {
				lead := time.Duration(float64(4*time.Hour) * h.jitter(1.1))
				lead = min(max(lead, 8*time.Minute), 5*24*time.Hour)
				pending = append(pending, record.Change{SHA: h.sha(), AuthorDate: t.Add(-lead).Truncate(time.Second)})
			}
			slices.SortStableFunc(pending, func(a, b record.Change) int { return a.AuthorDate.Compare(b.AuthorDate) })
			id += 1 + h.r.Int64N(40_000)
			d := record.Deployment{SHA: pending[len(pending)-1].SHA, Time: t, Outcome: record.OutcomeSuccess}
			if runs {
				d.ID = fmt.Sprintf("run:%d", id)
				d.URL = fmt.Sprintf("https://github.com/%s/actions/runs/%d", h.p.Repository, id)
			} else {
				d.ID = fmt.Sprintf("deployment:%d", id)
				d.URL = fmt.Sprintf("https://github.com/%s/deployments/%s", h.p.Repository, h.p.Deploy.Environment)
			}
			if h.r.Float64() < h.prof.failRate {
				d.Outcome = record.OutcomeFailure
			} else {
				// The latest commit is the deployed one: its "change" is the head commit.
				d.Changes = pending
				pending = nil
			}
			h.deps = append(h.deps, d)
		}
	}
}

// planOutages lays out the stretches in which the product is down or slow: a few over the
// history (more for busy products), one caused by a deployment, plus the roles' stories.
func (h *history) planOutages() {
	now, span := h.opts.Now, h.opts.Now.Sub(h.start)
	count := 1 + h.r.IntN(2)
	if hasCloudflare(h.p) {
		count = 3 + h.r.IntN(2)
	}
	count = max(1, int(math.Round(float64(count)*float64(h.opts.Days)/90)))
	var planned []outage
	for i := range count {
		start := h.start.Add(time.Duration(h.r.Int64N(int64(max(span-48*time.Hour, time.Hour))))).Truncate(time.Minute)
		o := outage{start: start, down: h.r.Float64() < 0.6}
		if o.down {
			o.end = start.Add(min(max(time.Duration(float64(35*time.Minute)*h.jitter(0.7)), 15*time.Minute), 3*time.Hour))
			o.cause = []string{"wrong status 503, want 200", "wrong status 502, want 200", "timeout after %ds", "connection refused"}[h.r.IntN(4)]
			o.incident = h.r.Float64() < 0.8
		} else {
			o.end = start.Add(h.between(30*time.Minute, 4*time.Hour)).Truncate(time.Minute)
			o.incident = h.r.Float64() < 0.4
		}
		if i == 0 {
			// The first one follows a successful deployment closely: it caused it.
			if d, ok := h.pickDeployment(); ok {
				o.start = d.Time.Add(h.between(8*time.Minute, 25*time.Minute)).Truncate(time.Minute)
				o.end = o.start.Add(h.between(20*time.Minute, 70*time.Minute)).Truncate(time.Minute)
				o.down, o.incident, o.cause = true, true, "wrong status 500, want 200"
				o.causedBy, o.priority = d.SHA, 1
			}
		}
		planned = append(planned, o)
	}
	if h.role(roleRecentOutage) {
		start := now.Add(-h.between(3*time.Hour, 9*time.Hour)).Truncate(Interval).Add(-7 * time.Minute)
		planned = append(planned, outage{start: start, end: start.Add(h.between(30*time.Minute, 50*time.Minute)),
			down: true, cause: "wrong status 503, want 200", incident: true, priority: 2})
	}
	if h.role(roleOpenIncident) {
		start := now.Add(-h.between(2*time.Hour, 4*time.Hour)).Truncate(time.Minute)
		planned = append(planned, outage{start: start, end: now.Add(time.Hour), incident: true, priority: 2})
	}
	// No overlaps, nor two within an hour: the stories and the deployment's outage win.
	slices.SortStableFunc(planned, func(a, b outage) int { return b.priority - a.priority })
	for _, o := range planned {
		if !slices.ContainsFunc(h.outages, func(k outage) bool {
			return o.start.Before(k.end.Add(time.Hour)) && k.start.Before(o.end.Add(time.Hour))
		}) {
			h.outages = append(h.outages, o)
		}
	}
	slices.SortFunc(h.outages, func(a, b outage) int { return a.start.Compare(b.start) })
}

// pickDeployment picks a successful deployment from the older part of the history.
func (h *history) pickDeployment() (record.Deployment, bool) {
	var ok []record.Deployment
	for _, d := range h.deps {
		if d.Outcome == record.OutcomeSuccess && d.Time.Before(h.opts.Now.Add(-7*24*time.Hour)) {
			ok = append(ok, d)
		}
	}
	if len(ok) == 0 {
		return record.Deployment{}, false
	}
	return ok[h.r.IntN(len(ok))], true
}

func (h *history) outageAt(t time.Time) *outage {
	for i := range h.outages {
		if h.outages[i].covers(t) {
			return &h.outages[i]
		}
	}
	return nil
}

// incidents opens an issue for the outages that had one, a few minutes after they began, and
// closes it a little after they ended; the open incident of now stays open.
func (h *history) incidents() {
	if h.p.Repository == "" {
		return
	}
	number := 20 + h.r.IntN(200)
	type opened struct {
		inc record.Incident
		o   *outage
	}
	var list []opened
	for i := range h.outages {
		o := &h.outages[i]
		if !o.incident {
			continue
		}
		created := o.start.Add(h.between(4*time.Minute, 15*time.Minute)).Truncate(time.Second)
		inc := record.Incident{CreatedAt: created, StateReason: "completed"}
		if closed := o.end.Add(h.between(5*time.Minute, 40*time.Minute)).Truncate(time.Second); closed.Before(h.opts.Now) {
			inc.ClosedAt = &closed
		} else {
			inc.StateReason = ""
		}
		list = append(list, opened{inc, o})
	}
	if h.role(roleFalseAlarm) {
		created := h.start.Add(time.Duration(float64(h.opts.Now.Sub(h.start)) * 0.6)).Truncate(time.Second)
		closed := created.Add(h.between(10*time.Minute, 30*time.Minute))
		list = append(list, opened{record.Incident{CreatedAt: created, ClosedAt: &closed, StateReason: "not_planned"}, nil})
	}
	slices.SortFunc(list, func(a, b opened) int { return a.inc.CreatedAt.Compare(b.inc.CreatedAt) })
	for _, l := range list {
		number += 1 + h.r.IntN(25)
		inc := l.inc
		inc.Number = number
		inc.URL = fmt.Sprintf("https://github.com/%s/issues/%d", h.p.Repository, number)
		inc.Title, inc.Body = h.writeUp(l.o, inc)
		if l.o != nil && l.o.causedBy != "" {
			inc.CausedBy = l.o.causedBy
		}
		h.incs = append(h.incs, inc)
	}
}

// writeUp writes an incident's title and Markdown body, as an on-call engineer would.
func (h *history) writeUp(o *outage, inc record.Incident) (title, body string) {
	name := h.p.Name
	at := func(t time.Time) string { return t.UTC().Format("15:04") }
	var b strings.Builder
	switch {
	case o == nil:
		title = fmt.Sprintf("%s: uptime alert for %s", name, h.p.HealthURL())
		fmt.Fprintf(&b, "The uptime alert fired at %s UTC, but every manual check succeeded.\n\n", at(inc.CreatedAt))
		b.WriteString("- The probe's DNS resolver had a hiccup; the product was up throughout.\n")
		b.WriteString("- Closing as **not planned**: a false alarm, not an incident.\n")
		return title, b.String()
	case o.causedBy != "":
		title = fmt.Sprintf("%s returns 500 after deploy", name)
		fmt.Fprintf(&b, "## Impact\n\nMost requests to %s failed with `500 Internal Server Error` from %s to %s UTC.\n\n", name, at(o.start), at(o.end))
		b.WriteString("## Timeline\n\n")
		fmt.Fprintf(&b, "1. %s deploy of `%s` finished\n", at(o.start.Add(-10*time.Minute)), o.causedBy[:7])
		fmt.Fprintf(&b, "2. %s error rate above threshold, on-call paged\n", at(o.start.Add(5*time.Minute)))
		fmt.Fprintf(&b, "3. %s rolled back with `gh workflow run deploy.yml -f ref=previous`\n\n", at(o.end.Add(-5*time.Minute)))
		b.WriteString("A migration renamed a column the running code still read. See the [runbook](https://runbooks.example.com/rollback).\n\n")
		fmt.Fprintf(&b, "Caused-by: %s\n", o.causedBy)
		return title, b.String()
	case o.down:
		titles := []string{"%s is down: health check failing", "%s unavailable for some users", "Outage: %s answers 5xx", "%s error page shows raw <html> markup"}
		title = fmt.Sprintf(titles[h.r.IntN(len(titles))], name)
		fmt.Fprintf(&b, "## Impact\n\n%s did not answer its health check from %s UTC.\n\n", name, at(o.start))
		b.WriteString("## Notes\n\n")
		b.WriteString("- Upstream connection pool exhausted (`max_connections` reached)\n")
		b.WriteString("- Restarted the service; raised the pool size\n")
		b.WriteString("- Follow-up: alert on pool saturation, see [the dashboard](https://grafana.example.com/d/pool)\n")
	default:
		titles := []string{"%s: elevated latency", "%s is slow for users in Europe", "Degraded performance on %s"}
		title = fmt.Sprintf(titles[h.r.IntN(len(titles))], name)
		fmt.Fprintf(&b, "Response times are several times the usual since %s UTC.\n\n", at(o.start))
		b.WriteString("```\np95 latency: 1.8 s (threshold 1 s)\n```\n\n")
		b.WriteString("- [ ] find the slow query\n- [ ] add an index\n")
	}
	return title, b.String()
}

// sourceState tracks one source's failures over the runs.
type sourceState struct {
	name   string
	msg    string
	state  string  // the state when failing; ok for a source that never fails (the probe)
	pFail  float64 // chance that a failing streak starts in a run
	streak int     // failing runs left
	fails  int
	lastOK time.Time
}

func (h *history) sources() []*sourceState {
	var ss []*sourceState
	if hasCloudflare(h.p) || h.p.Cloudflare.Worker != "" {
		ss = append(ss, &sourceState{name: record.SourceCloudflare, state: record.StateError,
			msg: "cloudflare: graphql: 502 Bad Gateway", pFail: 0.002})
	}
	if h.p.Repository != "" {
		ss = append(ss, &sourceState{name: record.SourceGitHub, state: record.StateRateLimited,
			msg: "github: rate limited: retry after 60s", pFail: 0.001})
	}
	if hasPostHog(h.p) {
		ss = append(ss, &sourceState{name: record.SourcePostHog, state: record.StateError,
			msg: "posthog: query: 503 Service Unavailable", pFail: 0.0015})
	}
	if h.p.HealthURL() != "" && !h.p.Probe.Disabled {
		ss = append(ss, &sourceState{name: record.SourceProbe, state: record.StateOK})
	}
	return ss
}

// snapshots writes one snapshot a run.
func (h *history) snapshots(n int) {
	ss := h.sources()
	// The product with the recent outage also has a source failing in the last run: PostHog
	// where it has one, else the first that can fail.
	var forced *sourceState
	if h.role(roleRecentOutage) {
		for _, s := range ss {
			if s.state != record.StateOK && (forced == nil || s.name == record.SourcePostHog) {
				forced = s
			}
		}
	}
	probed := slices.ContainsFunc(ss, func(s *sourceState) bool { return s.name == record.SourceProbe })
	h.snaps = make([]record.Snapshot, 0, n)
	for i := range n {
		t := h.start.Add(time.Duration(i) * Interval)
		last := i == n-1
		sn := record.Snapshot{Time: t}
		ld, o := h.load(t), h.outageAt(t)
		failing := map[string]bool{}
		for _, s := range ss {
			force := last && s == forced
			if s.streak == 0 && s.state != record.StateOK && (force || (!last && h.r.Float64() < s.pFail)) {
				s.streak = 1 + h.r.IntN(3)
				if force {
					s.streak = 1
				}
			}
			if s.streak > 0 {
				s.streak--
				s.fails++
				st := record.SourceStatus{State: s.state, Msg: s.msg, Fails: s.fails}
				if !s.lastOK.IsZero() {
					lo := s.lastOK
					st.LastOK = &lo
				}
				if sn.Sources == nil {
					sn.Sources = map[string]record.SourceStatus{}
				}
				sn.Sources[s.name] = st
				failing[s.name] = true
				continue
			}
			// An ok source is left out to keep the line short (a third of its bytes otherwise):
			// the demo data must prove the layout compact. A missing source reads as ok.
			s.fails, s.lastOK = 0, t
		}
		lat, errs := h.effect(t)
		if probed {
			sn.Probe = h.probe(ld, o, lat)
		}
		if !failing[record.SourceCloudflare] && hasCloudflare(h.p) {
			sn.HTTP = h.httpStats(ld, o, lat, errs)
			sn.Health = "healthy"
			if o != nil && o.down {
				sn.Health = "unhealthy"
			}
		}
		if !failing[record.SourceCloudflare] && h.p.Cloudflare.Worker != "" {
			sn.Worker = h.workerStats(sn.HTTP, ld, o, errs)
		}
		h.snaps = append(h.snaps, sn)
	}
}

// probe measures the health URL: DNS, connect, TLS, then the server's time to first byte,
// which grows with load; a rare blip fails even when all is well.
func (h *history) probe(ld float64, o *outage, lat float64) *record.Probe {
	r := h.r
	p := &record.Probe{Code: 200,
		DNS:  1 + int(r.ExpFloat64()*4),
		Conn: 2 + int(round(9*h.jitter(0.3))),
	}
	p.TLS = 2*p.Conn + int(r.ExpFloat64()*6)
	ttfb := h.prof.ttfb * (1 + 0.8*ld) * h.jitter(0.18) * lat
	if r.Float64() < 0.01 {
		ttfb *= 3 + r.Float64()*5 // a GC pause, a cold cache
	}
	fail := ""
	switch {
	case o != nil && o.down:
		fail = o.cause
	case o != nil:
		ttfb *= 3 + r.Float64()*3
	case r.Float64() < 0.0012:
		fail = []string{"timeout after %ds", "wrong status 502, want 200"}[r.IntN(2)]
	}
	p.TTFB = int(round(ttfb))
	if fail != "" {
		p.Err = fail
		switch {
		case strings.HasPrefix(fail, "timeout"):
			timeout := h.p.Probe.TimeoutSeconds
			if timeout == 0 {
				timeout = 10
			}
			p.Err = fmt.Sprintf(fail, timeout)
			p.Code, p.TTFB = 0, 0
			p.Ms = timeout*1000 + r.IntN(5)
			return p
		case fail == "connection refused":
			p.Code, p.TLS, p.TTFB = 0, 0, 0
			p.Ms = p.DNS + p.Conn
			return p
		default:
			fmt.Sscanf(fail, "wrong status %d", &p.Code)
			p.TTFB = 5 + r.IntN(30)
		}
	}
	p.Ms = p.DNS + p.Conn + p.TLS + p.TTFB + 1 + r.IntN(4)
	return p
}

// httpStats are the 15 minutes of Cloudflare analytics: requests follow the daily cycle, a few
// percent are 4xx, 5xx are rare except in an outage.
func (h *history) httpStats(ld float64, o *outage, lat, errs float64) *record.HTTPStats {
	r := h.r
	req := int64(h.prof.rps * 900 * ld * h.jitter(0.12))
	s := &record.HTTPStats{Requests: req}
	s.Status4x = int64(float64(req) * (0.012 + 0.01*r.Float64()))
	s.Status5x = int64(float64(req) * (0.0003*r.ExpFloat64() + errs))
	p50 := h.prof.ttfb * 0.45 * (1 + 0.5*ld) * h.jitter(0.1) * lat
	p95 := p50 * (2.5 + r.Float64())
	switch {
	case o != nil && o.down:
		s.Status5x = int64(float64(req) * (0.35 + 0.4*r.Float64()))
	case o != nil:
		p50, p95 = p50*3.5, p95*4.5
		s.Status5x *= 3
	}
	s.P50Ms, s.P95Ms = round(p50), round(p95)
	return s
}

// workerStats: most requests run the worker; CPU time in microseconds.
func (h *history) workerStats(hs *record.HTTPStats, ld float64, o *outage, errs float64) *record.WorkerStats {
	r := h.r
	req := int64(h.prof.rps * 900 * ld * 0.93)
	if hs != nil {
		req = int64(float64(hs.Requests) * 0.93)
	}
	w := &record.WorkerStats{Requests: req, Errors: int64(float64(req) * (0.0002*r.ExpFloat64() + 0.8*errs))}
	if o != nil && o.down {
		w.Errors = int64(float64(req) * (0.2 + 0.3*r.Float64()))
	}
	w.CPUP50 = round(900 * (1 + 0.3*ld) * h.jitter(0.1))
	w.CPUP99 = round(w.CPUP50 * (5 + 3*r.Float64()))
	return w
}

// analytics counts each UTC day up to now: users grow slowly, the day of the week matters, an
// outage costs users; key events are a steady share of users. Today is counted so far.
func (h *history) analytics() {
	rates := make([]float64, len(h.p.PostHog.KeyEvents))
	for i, name := range h.p.PostHog.KeyEvents {
		switch {
		case strings.Contains(name, "checkout"), strings.Contains(name, "purchase"):
			rates[i] = 0.03 + 0.01*h.r.Float64()
		case strings.Contains(name, "signup"):
			rates[i] = 0.01 + 0.005*h.r.Float64()
		default:
			rates[i] = 0.005 + 0.05*h.r.Float64()
		}
	}
	first := time.Date(h.start.Year(), h.start.Month(), h.start.Day(), 0, 0, 0, 0, time.UTC)
	total := h.opts.Now.Sub(first).Hours() / 24
	for day := first; day.Before(h.opts.Now); day = day.AddDate(0, 0, 1) {
		share := min(1, h.opts.Now.Sub(day).Hours()/24) // of the day elapsed
		f := 1 + 0.15*day.Sub(first).Hours()/24/total
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			f *= h.prof.weekend
		}
		for _, o := range h.outages {
			if o.down && o.start.Before(day.Add(24*time.Hour)) && o.end.After(day) {
				f *= 1 - o.end.Sub(o.start).Hours()/24
			}
		}
		dau := h.prof.dau * f * h.jitter(0.05) * math.Sqrt(share)
		ad := record.AnalyticsDay{Day: day.Format("2006-01-02"), DAU: int64(dau),
			Pageviews: int64(dau * (3.5 + 2.5*h.r.Float64()) * math.Sqrt(share))}
		if len(rates) > 0 {
			ad.Events = make(map[string]int64, len(rates))
			for i, name := range h.p.PostHog.KeyEvents {
				ad.Events[name] = int64(dau * rates[i] * h.jitter(0.15))
			}
		}
		h.days = append(h.days, ad)
	}
}
