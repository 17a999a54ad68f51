package github

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
)

type sourceResult = source.Result

// collector is one product's collection in one run.
type collector struct {
	s           *Source
	p           config.Product
	owner, repo string
	now         time.Time
	log         *slog.Logger

	st      state
	read    string          // stateDigest of the state as read
	etags   map[string]etag // by purpose ("repo", "runs", "issues", "deployments", "statuses:<id>")
	oldDeps []record.Deployment
	oldIncs []record.Incident
	oldAt   map[string]int // index in oldDeps by ID

	deps map[string]record.Deployment // new or changed deployments, by ID
	incs map[int]record.Incident      // new or changed incidents, by number

	requests, notModified int
}

// run collects deployments, their changes and incidents. A rate limit ends the run at once;
// another failure of one step is reported and the next steps still run.
func (c *collector) run(ctx context.Context) error {
	c.deps = map[string]record.Deployment{}
	c.incs = map[int]record.Incident{}
	deploys := c.runs
	if c.p.Deploy.Source == config.DeploySourceDeployments {
		deploys = c.deployments
	}
	var errs []error
	for _, step := range []func(context.Context) error{deploys, c.changes, c.incidents} {
		err := step(ctx)
		if err == nil {
			continue
		}
		errs = append(errs, err)
		if isRateLimited(err) || ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return errs[0] // keeps a lone *source.RateLimitedError's message as is
	}
	return errors.Join(errs...)
}

// result lists the new and changed records, deployments by time then ID, incidents by number.
func (c *collector) result() sourceResult {
	var res sourceResult
	for _, d := range c.deps {
		res.Deployments = append(res.Deployments, d)
	}
	sortDeployments(res.Deployments)
	for _, i := range c.incs {
		res.Incidents = append(res.Incidents, i)
	}
	sortIncidents(res.Incidents)
	return res
}

// putDeployment records d as new or changed unless data/ already holds it as is. Changes
// already collected for the same commit are kept.
func (c *collector) putDeployment(d record.Deployment) {
	if old, ok := c.stored(d.ID); ok {
		if d.Changes == nil && old.SHA == d.SHA {
			d.Changes = old.Changes
		}
		if sameDeployment(old, d) {
			delete(c.deps, d.ID)
			return
		}
	}
	c.deps[d.ID] = d
}

// stored returns the latest known version of a deployment: this run's, or data/'s.
func (c *collector) stored(id string) (record.Deployment, bool) {
	if d, ok := c.deps[id]; ok {
		return d, true
	}
	if i, ok := c.oldAt[id]; ok {
		return c.oldDeps[i], true
	}
	return record.Deployment{}, false
}

func sameDeployment(a, b record.Deployment) bool {
	if a.ID != b.ID || a.SHA != b.SHA || !a.Time.Equal(b.Time) || a.Outcome != b.Outcome || a.URL != b.URL {
		return false
	}
	if (a.Changes == nil) != (b.Changes == nil) || len(a.Changes) != len(b.Changes) {
		return false
	}
	for i := range a.Changes {
		if a.Changes[i].SHA != b.Changes[i].SHA || !a.Changes[i].AuthorDate.Equal(b.Changes[i].AuthorDate) {
			return false
		}
	}
	return true
}

// all is data/'s deployments merged with this run's.
func (c *collector) all() []record.Deployment {
	news := make([]record.Deployment, 0, len(c.deps))
	for _, d := range c.deps {
		news = append(news, d)
	}
	return Merge(c.oldDeps, news)
}
