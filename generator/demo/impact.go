package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

// slowRelease is a stretch in which a release made the product slower and errors more
// frequent, until the next deployment fixed it: the demo's suspect deployment (a regression
// after it) and its fix (an improvement), for the deployment impact table and markers.
type slowRelease struct {
	from, to time.Time // the release and its fix
	latency  float64   // response times are multiplied by this
	errors   float64   // share of requests (and Worker invocations) that fail besides the usual
}

func (s slowRelease) covers(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }

// effect is the release's toll at t: a factor on response times and an added error share.
func (h *history) effect(t time.Time) (latency, errors float64) {
	if h.slow != nil && h.slow.covers(t) {
		return h.slow.latency, h.slow.errors
	}
	return 1, 0
}

// impactStories gives the product its deployment-impact story, drawn from a random stream of
// its own so the rest of the history stays as it was: the product with the open incident gets a
// release shortly before it (a suspect whose deployment_regression alert fires at now); the
// others a slow release two to six days ago, fixed by the next deployment.
func (h *history) impactStories() {
	if h.p.Repository == "" {
		return
	}
	r := rng(h.opts.Seed, h.p.ID+"/impact")
	if h.role(roleOpenIncident) {
		h.releaseBeforeOpenIncident(r)
		return
	}
	now := h.opts.Now
	var picks []int
	for i, d := range h.deps {
		if d.Outcome != record.OutcomeSuccess || d.Time.Before(now.Add(-6*24*time.Hour)) || d.Time.After(now.Add(-2*24*time.Hour)) {
			continue
		}
		if i > 0 && d.Time.Sub(h.deps[i-1].Time) < 75*time.Minute {
			continue // its before-window would be cut short
		}
		if i+1 >= len(h.deps) {
			continue
		}
		next := h.deps[i+1]
		if gap := next.Time.Sub(d.Time); next.Outcome != record.OutcomeSuccess || gap < 2*time.Hour+15*time.Minute || gap > 30*time.Hour {
			continue // the fix must be a success, with whole windows on both sides
		}
		if next.Time.Add(75 * time.Minute).After(now) {
			continue
		}
		picks = append(picks, i)
	}
	if len(picks) == 0 {
		return
	}
	i := picks[r.IntN(len(picks))]
	h.slow = &slowRelease{from: h.deps[i].Time, to: h.deps[i+1].Time, latency: 2 + 0.5*r.Float64(), errors: 0.004 + 0.004*r.Float64()}
	// No outage of the history in the story's windows: it is about the release.
	h.outages = slices.DeleteFunc(h.outages, func(o outage) bool {
		return o.priority == 0 && o.start.Before(h.slow.to.Add(2*time.Hour)) && o.end.After(h.slow.from.Add(-2*time.Hour))
	})
}

// releaseBeforeOpenIncident ships a release a few minutes before the open incident's slowdown
// began, so the slowdown follows it; deployments after it are folded into it.
func (h *history) releaseBeforeOpenIncident(r *rand.Rand) {
	var start time.Time
	for _, o := range h.outages {
		if o.priority == 2 && o.end.After(h.opts.Now) {
			start = o.start
		}
	}
	if start.IsZero() {
		return
	}
	at := start.Add(-time.Duration(10+r.IntN(11))*time.Minute - time.Duration(r.IntN(60))*time.Second)
	var changes []record.Change
	keep := h.deps[:0]
	var last record.Deployment
	for _, d := range h.deps {
		if d.Time.After(at.Add(-75 * time.Minute)) {
			changes = append(changes, d.Changes...)
			continue
		}
		keep = append(keep, d)
		last = d
	}
	h.deps = keep
	sha := fmt.Sprintf("%016x%016x%08x", r.Uint64(), r.Uint64(), r.Uint32())
	changes = append(changes, record.Change{SHA: sha, AuthorDate: at.Add(-95 * time.Minute)})
	d := record.Deployment{SHA: sha, Time: at, Outcome: record.OutcomeSuccess, Changes: changes}
	var id int64
	if _, n, ok := strings.Cut(last.ID, ":"); ok {
		id, _ = strconv.ParseInt(n, 10, 64)
	}
	id += 1 + r.Int64N(40_000)
	if h.p.Deploy.Source == config.DeploySourceDeployments {
		d.ID = fmt.Sprintf("deployment:%d", id)
		d.URL = fmt.Sprintf("https://github.com/%s/deployments/%s", h.p.Repository, h.p.Deploy.Environment)
	} else {
		d.ID = fmt.Sprintf("run:%d", id)
		d.URL = fmt.Sprintf("https://github.com/%s/actions/runs/%d", h.p.Repository, id)
	}
	h.deps = append(h.deps, d)
}
