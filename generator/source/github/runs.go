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

// maxListed is the most results GitHub returns for a filtered workflow-run listing.
const maxListed = 1000

// branch returns deploy.branch, or the repository's default branch (a conditional request;
// the answer is kept in the state). A known default branch is asked for again only by the runs
// in the first quarter of each UTC hour: a renamed default branch is seen within the hour, and
// the other runs of a 15-minute schedule spend no request on it (a rule of the clock, so
// nothing is stored for it).
func (c *collector) branch(ctx context.Context) (string, error) {
	if c.p.Deploy.Branch != "" {
		return c.p.Deploy.Branch, nil
	}
	if c.st.DefaultBranch != "" && c.now.Minute() >= 15 {
		return c.st.DefaultBranch, nil
	}
	var repo gh.Repository
	_, err := c.getJSON(ctx, "repo", fmt.Sprintf("repos/%s/%s", url.PathEscape(c.owner), url.PathEscape(c.repo)), nil, &repo)
	switch {
	case errors.Is(err, errNotModified) && c.st.DefaultBranch != "":
		return c.st.DefaultBranch, nil
	case errors.Is(err, errNotModified):
		delete(c.etags, "repo") // a 304 without a remembered branch: ask again unconditionally
		return c.branch(ctx)
	case err != nil:
		return "", c.wrap("get repository", err)
	}
	if repo.GetDefaultBranch() == "" {
		return "", c.wrap("get repository", errors.New("no default branch in the answer"))
	}
	c.st.DefaultBranch = repo.GetDefaultBranch()
	return c.st.DefaultBranch, nil
}

// runs collects the deploy workflow's runs on the deploy branch (dora-definitions.md,
// "workflow_runs"). Every run lists the runs created since a UTC day start at most RecheckDays
// back, or earlier to keep an unfinished run or the newest run seen in view (GitHub's created
// filter, so the listing is one page whatever the history); the first page is conditional,
// so with a token that keeps its ETags a listing where nothing changed costs a 304.
func (c *collector) runs(ctx context.Context) error {
	wf := c.p.Deploy.Workflow
	if wf == "" {
		return c.wrap("list runs", errors.New("deploy.workflow is not set (deploy.source workflow_runs needs the workflow file name, like deploy.yml)"))
	}
	branch, err := c.branch(ctx)
	if err != nil {
		return err
	}
	first := !c.st.RunsListed
	from := c.runsFrom()
	var runs []*gh.WorkflowRun
	if first {
		// The history before the recheck range, once; the recheck range is then listed as in
		// every later run, so the next run's conditional request has an ETag to send.
		earliest := dayStart(c.now.AddDate(0, 0, -c.s.opt.HistoryDays))
		if earliest.Before(from) {
			older, err := c.listRuns(ctx, wf, branch, earliest, from.Add(-time.Second), false)
			if err != nil {
				return c.wrap("list runs", err)
			}
			runs = older
			// The recheck range starts at the newest run of the history when that is older,
			// as it will in the next runs: list it so, for the same URL and ETag.
			c.noteNewest(older, branch)
			from = c.runsFrom()
		}
	}
	newer, err := c.listRuns(ctx, wf, branch, from, time.Time{}, true)
	if errors.Is(err, errNotModified) {
		return nil
	}
	if err != nil {
		return c.wrap("list runs", err)
	}
	// The first run's two listings may overlap: each run once, as the newer listing has it.
	seen := map[int64]bool{}
	runs = slices.DeleteFunc(append(newer, runs...), func(r *gh.WorkflowRun) bool {
		dup := seen[r.GetID()]
		seen[r.GetID()] = true
		return dup
	})
	c.noteNewest(runs, branch)
	var pending []pendingRun
	for _, r := range runs {
		if r.GetHeadBranch() != branch {
			continue // the API filters by branch; this guards against a listing that did not
		}

		d, state := judgeRun(r)
		switch state {
		case runPending:
			pending = append(pending, pendingRun{ID: r.GetID(), Created: r.GetCreatedAt().UTC()})
		case runDeployment:
			c.putDeployment(d)
		case runNone:
			// A run stored as a deployment whose latest attempt was cancelled or skipped is
			// no deployment any more: keep the record with its conclusion as the outcome,
			// which the engine ignores (the collect loop cannot delete).
			if old, ok := c.stored(d.ID); ok && old.Outcome != d.Outcome {
				d.Changes = old.Changes
				c.putDeployment(d)
			}
		}
	}
	if first && !c.st.PredecessorDone {
		if err := c.predecessor(ctx, wf, branch, dayStart(c.now.AddDate(0, 0, -c.s.opt.HistoryDays))); err != nil {
			return err
		}
		c.st.PredecessorDone = true
	}
	c.st.Pending = pending
	c.st.RunsListed = true
	return nil
}

// noteNewest moves NewestRun to the newest of runs on branch.
func (c *collector) noteNewest(runs []*gh.WorkflowRun, branch string) {
	for _, r := range runs {
		if created := r.GetCreatedAt().UTC(); r.GetHeadBranch() == branch && (c.st.NewestRun == nil || created.After(*c.st.NewestRun)) {
			c.st.NewestRun = &created
		}
	}
}

// runsFrom is the created date the recheck listing starts at: RecheckDays back, or the day of
// the newest run seen or of an unfinished one when earlier, never before the history. It
// follows from the clock and the state, so it is not stored.
func (c *collector) runsFrom() time.Time {
	earliest := dayStart(c.now.AddDate(0, 0, -c.s.opt.HistoryDays))
	from := dayStart(c.now.AddDate(0, 0, -c.s.opt.RecheckDays))
	if n := c.st.NewestRun; n != nil && n.Before(from) {
		from = dayStart(*n)
	}
	for _, p := range c.st.Pending {
		if p.Created.Before(from) {
			from = p.Created
		}
	}
	if from.Before(earliest) {
		from = earliest
	}
	return from
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// listRuns lists the runs created in [from, to] (to zero: open) on all pages. A listing over
// GitHub's 1,000-result cap is split in halves by created date. Only the open-ended listing's
// first page is conditional.
func (c *collector) listRuns(ctx context.Context, wf, branch string, from, to time.Time, conditional bool) ([]*gh.WorkflowRun, error) {
	created := ">=" + from.Format(time.RFC3339)
	if !to.IsZero() {
		created = from.Format(time.RFC3339) + ".." + to.Format(time.RFC3339)
	}
	path := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs", url.PathEscape(c.owner), url.PathEscape(c.repo), url.PathEscape(wf))
	var out []*gh.WorkflowRun
	pg := paging.Pages{What: "workflow runs"}
	for page := 1; ; {
		q := url.Values{"branch": {branch}, "created": {created}, "per_page": {"100"}}
		if page > 1 {
			q.Set("page", strconv.Itoa(page))
		}
		var list gh.WorkflowRuns
		var resp *gh.Response
		var err error
		key := ""
		if page == 1 && conditional {
			key = "runs"
		}
		resp, err = c.getJSON(ctx, key, path, q, &list)
		if err != nil {
			return nil, err
		}
		if page == 1 && list.GetTotalCount() > maxListed {
			end := to
			if end.IsZero() {
				end = c.now
			}
			if end.Sub(from) > time.Minute {
				mid := from.Add(end.Sub(from) / 2).Truncate(time.Second)
				older, err := c.listRuns(ctx, wf, branch, from, mid, false)
				if err != nil {
					return nil, err
				}
				newer, err := c.listRuns(ctx, wf, branch, mid.Add(time.Second), to, false)
				if err != nil {
					return nil, err
				}
				return append(newer, older...), nil
			}
		}
		out = append(out, list.WorkflowRuns...)
		if page == 1 {
			pg.Total(min(list.GetTotalCount(), maxListed), 100)
		}
		if page, err = pg.Next(page, resp.NextPage); err != nil {
			return nil, err
		}
		if page == 0 {
			return out, nil
		}
	}
}

// predecessor adds the latest successful run created before from, so the first listed
// deployment's changes are a compare like any other.
func (c *collector) predecessor(ctx context.Context, wf, branch string, from time.Time) error {
	path := fmt.Sprintf("repos/%s/%s/actions/workflows/%s/runs", url.PathEscape(c.owner), url.PathEscape(c.repo), url.PathEscape(wf))
	q := url.Values{"branch": {branch}, "created": {"<" + from.Format(time.RFC3339)}, "status": {"success"}, "per_page": {"1"}}
	var list gh.WorkflowRuns
	if _, err := c.getJSON(ctx, "", path, q, &list); err != nil {
		return c.wrap("find the deployment before the history", err)
	}
	for _, r := range list.WorkflowRuns {
		if d, st := judgeRun(r); st == runDeployment && d.Outcome == record.OutcomeSuccess && r.GetHeadBranch() == branch {
			c.putDeployment(d)
		}
	}
	return nil
}

type runState int

const (
	runNone       runState = iota // completed, but not a deployment (cancelled, skipped, …)
	runPending                    // not completed yet
	runDeployment                 // a successful or failed deployment
)

// judgeRun applies dora-definitions.md to a run as listed (its latest attempt).
func judgeRun(r *gh.WorkflowRun) (record.Deployment, runState) {
	d := record.Deployment{
		ID:   "run:" + strconv.FormatInt(r.GetID(), 10),
		SHA:  r.GetHeadSHA(),
		Time: r.GetUpdatedAt().UTC(),
		URL:  r.GetHTMLURL(),
	}
	if r.GetStatus() != "completed" {
		return d, runPending
	}
	switch r.GetConclusion() {
	case "success":
		d.Outcome = record.OutcomeSuccess
	case "failure", "timed_out":
		d.Outcome = record.OutcomeFailure
	default:
		d.Outcome = r.GetConclusion()
		if d.Outcome == "" {
			d.Outcome = "none"
		}
		return d, runNone
	}
	return d, runDeployment
}
