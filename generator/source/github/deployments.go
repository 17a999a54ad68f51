package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/paging"
	"github.com/portfolio-report/portfolio/generator/record"
)

// maxPredecessorLookups bounds how many deployments older than the history are judged to find
// the first listed deployment's predecessor.
const maxPredecessorLookups = 20

// deployments collects GitHub Deployments to deploy.environment (dora-definitions.md,
// "deployments"): each judged by its latest outcome status (success, failure, error) by
// created_at. The first page of the listing is conditional; the statuses of a deployment are
// read when it is new, when its updated_at changed, or while it has no outcome yet (then
// conditionally, every run).
func (c *collector) deployments(ctx context.Context) error {
	path := fmt.Sprintf("repos/%s/%s/deployments", url.PathEscape(c.owner), url.PathEscape(c.repo))
	first := c.st.DeploymentsFrom == nil
	stop := c.now.AddDate(0, 0, -c.s.opt.HistoryDays)
	if !first {
		stop = *c.st.DeploymentsFrom
	}
	if c.st.Judged == nil {
		c.st.Judged = map[string]string{}
	}
	waiting := map[int64]bool{}
	for _, id := range c.st.Waiting {
		waiting[id] = true
	}

	var toJudge []*gh.Deployment
	var older []*gh.Deployment // listed but before the history: predecessor candidates
	listed := false
	newest := c.st.DeploymentsFrom
	judged := map[string]string{}
	pg := paging.Pages{What: "deployments"}
	for page := 1; ; {
		q := url.Values{"environment": {c.p.Deploy.Environment}, "per_page": {"100"}}
		key := "deployments"
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
			key = ""
		}
		var list []*gh.Deployment
		resp, err := c.getJSON(ctx, key, path, q, &list)
		if errors.Is(err, errNotModified) {
			break
		}
		if err != nil {
			return c.wrap("list deployments", err)
		}
		listed = true
		more := len(list) > 0
		for _, d := range list {
			if d.GetEnvironment() != c.p.Deploy.Environment {
				continue
			}
			id := strconv.FormatInt(d.GetID(), 10)
			created := d.GetCreatedAt().UTC()
			upd := d.GetUpdatedAt().UTC().Format(time.RFC3339)
			if newest == nil || created.After(*newest) {
				newest = &created
			}
			if created.Before(stop) {
				more = false
				if first {
					older = append(older, d)
				}
				continue
			}
			judged[id] = c.st.Judged[id]
			_, known := c.stored("deployment:" + id)
			if !known || c.st.Judged[id] != upd || waiting[d.GetID()] {
				toJudge = append(toJudge, d)
			}
			delete(waiting, d.GetID())
		}
		if !more {
			break
		}
		if page, err = pg.Next(page, resp.NextPage); err != nil {
			return c.wrap("list deployments", err)
		}
		if page == 0 {
			break
		}
	}
	if listed {
		c.st.Judged = judged
	}
	// Waiting deployments not on the pages read: judge them too (their own request).
	for id := range waiting {
		d, err := c.deployment(ctx, path, id)
		if err != nil {
			return err
		}
		if d != nil {
			toJudge = append(toJudge, d)
		}
	}
	slices.SortFunc(toJudge, func(a, b *gh.Deployment) int { return int(a.GetID() - b.GetID()) })

	c.st.Waiting = c.st.Waiting[:0]
	for _, d := range toJudge {
		rec, ok, err := c.judge(ctx, d)
		if err != nil {
			return err
		}
		id := strconv.FormatInt(d.GetID(), 10)
		switch {
		case ok:
			c.putDeployment(rec)
			c.st.Judged[id] = d.GetUpdatedAt().UTC().Format(time.RFC3339)
			delete(c.etags, "statuses:"+id)
		case d.GetCreatedAt().After(c.now.AddDate(0, 0, -c.s.opt.HistoryDays)):
			c.st.Waiting = append(c.st.Waiting, d.GetID())
		default:
			delete(c.etags, "statuses:"+id) // too old to wait for
		}
	}
	if first {
		for i, d := range older {
			if i == maxPredecessorLookups {
				break
			}
			rec, ok, err := c.judge(ctx, d)
			delete(c.etags, "statuses:"+strconv.FormatInt(d.GetID(), 10))
			if err != nil {
				return err
			}
			if ok && rec.Outcome == record.OutcomeSuccess {
				c.putDeployment(rec)
				break
			}
		}
	}
	if newest == nil {
		newest = &stop
	}
	c.st.DeploymentsFrom = newest
	return nil
}

// deployment reads one deployment; nil when it is gone.
func (c *collector) deployment(ctx context.Context, path string, id int64) (*gh.Deployment, error) {
	var d gh.Deployment
	_, err := c.getJSON(ctx, "", path+"/"+strconv.FormatInt(id, 10), nil, &d)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.wrap("get deployment", err)
	}
	return &d, nil
}

// judge reads a deployment's statuses (all pages; the first conditional) and returns the
// deployment as of its latest outcome status, or ok false when it has none (or nothing
// changed since the last look, which leaves it waiting).
func (c *collector) judge(ctx context.Context, d *gh.Deployment) (record.Deployment, bool, error) {
	id := strconv.FormatInt(d.GetID(), 10)
	path := fmt.Sprintf("repos/%s/%s/deployments/%s/statuses", url.PathEscape(c.owner), url.PathEscape(c.repo), id)
	var statuses []*gh.DeploymentStatus
	pg := paging.Pages{What: "statuses of deployment " + id}
	for page := 1; ; {
		q := url.Values{"per_page": {"100"}}
		key := "statuses:" + id
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
			key = ""
		}
		var list []*gh.DeploymentStatus
		resp, err := c.getJSON(ctx, key, path, q, &list)
		if errors.Is(err, errNotModified) {
			return record.Deployment{}, false, nil
		}
		if err != nil {
			return record.Deployment{}, false, c.wrap("list statuses of deployment "+id, err)
		}
		statuses = append(statuses, list...)
		if page, err = pg.Next(page, resp.NextPage); err != nil {
			return record.Deployment{}, false, c.wrap("list statuses of deployment "+id, err)
		}
		if page == 0 {
			break
		}
	}
	rec, ok := judgeStatuses(d, statuses)
	return rec, ok, nil
}

// judgeStatuses applies dora-definitions.md: the most recent outcome status by created_at
// (ties: the higher status id) decides; queued, pending, in_progress and inactive are passed over.
func judgeStatuses(d *gh.Deployment, statuses []*gh.DeploymentStatus) (record.Deployment, bool) {
	var last *gh.DeploymentStatus
	for _, s := range statuses {
		switch s.GetState() {
		case "success", "failure", "error":
		default:
			continue
		}
		if last == nil || s.GetCreatedAt().After(last.GetCreatedAt().Time) ||
			(s.GetCreatedAt().Time.Equal(last.GetCreatedAt().Time) && s.GetID() > last.GetID()) {
			last = s
		}
	}
	if last == nil {
		return record.Deployment{}, false
	}
	rec := record.Deployment{
		ID:      "deployment:" + strconv.FormatInt(d.GetID(), 10),
		SHA:     d.GetSHA(),
		Time:    last.GetCreatedAt().UTC(),
		Outcome: record.OutcomeFailure,
	}
	if last.GetState() == "success" {
		rec.Outcome = record.OutcomeSuccess
	}
	return rec, true
}
