package github

import (
	"context"
	"errors"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/paging"
	"github.com/portfolio-report/portfolio/generator/record"
)

// changes fills the changes of every successful deployment that has none yet
// (dora-definitions.md, "Lead time"): the commits of compare(P.sha...D.sha) with P the latest
// successful deployment before D, all pages; none when P.sha == D.sha; D's head commit alone
// when there is no P. Deployments whose changes are stored are never compared again; at most
// MaxCompares are compared per run, the rest in the next runs.
func (c *collector) changes(ctx context.Context) error {
	all := c.all()
	budget := c.s.opt.MaxCompares
	for i, d := range all {
		if d.Outcome != record.OutcomeSuccess || d.Changes != nil {
			continue
		}
		if budget == 0 {
			c.log.Info("github: compare budget spent, continuing next run", "max_compares", c.s.opt.MaxCompares)
			return nil
		}
		var prev *record.Deployment
		for j := i - 1; j >= 0; j-- {
			if all[j].Outcome == record.OutcomeSuccess && all[j].Time.Before(d.Time) {
				prev = &all[j]
				break
			}
		}
		var (
			changes []record.Change
			err     error
		)
		switch {
		case prev != nil && strings.EqualFold(prev.SHA, d.SHA):
			changes = []record.Change{}
		case prev != nil:
			changes, err = c.compare(ctx, prev.SHA, d.SHA)
			budget--
			if isNotFound(err) {
				// The base is gone (a force-push rewrote it): credit the head commit alone.
				c.log.Warn("github: compare base not found, using the head commit", "base", prev.SHA, "head", d.SHA)
				changes, err = c.headCommit(ctx, d.SHA)
			}
		default:
			changes, err = c.headCommit(ctx, d.SHA)
			budget--
		}
		if isNotFound(err) {
			c.log.Warn("github: deployed commit not found, no changes credited", "sha", d.SHA)
			changes, err = []record.Change{}, nil
		}
		if err != nil {
			return c.wrap("compare "+short(d.SHA), err)
		}
		d.Changes = changes
		all[i] = d
		c.putDeployment(d)
	}
	return nil
}

// compare lists the commits reachable from head and not from base, all pages.
func (c *collector) compare(ctx context.Context, base, head string) ([]record.Change, error) {
	out := []record.Change{}
	total := -1
	pg := paging.Pages{What: "compare " + short(base) + "..." + short(head)}
	for page := 1; ; {
		var cmp *gh.CommitsComparison
		resp, err := c.do(ctx, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			cmp, resp, err = c.s.client.Repositories.CompareCommits(ctx, c.owner, c.repo, base, head, &gh.ListOptions{PerPage: 100, Page: page})
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		if total < 0 {
			total = cmp.GetTotalCommits()
			pg.Total(total, 100)
		}
		for _, rc := range cmp.Commits {
			out = append(out, change(rc))
		}
		if page, err = pg.Next(page, resp.NextPage); err != nil {
			return nil, err
		}
		if page == 0 {
			break
		}
	}
	if total >= 0 && total != len(out) {
		c.log.Warn("github: compare listed another number of commits than total_commits", "base", base, "head", head, "listed", len(out), "total_commits", total)
	}
	return out, nil
}

// headCommit is a deployment's head commit alone, for a deployment with no predecessor.
func (c *collector) headCommit(ctx context.Context, sha string) ([]record.Change, error) {
	var rc *gh.RepositoryCommit
	_, err := c.do(ctx, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		rc, resp, err = c.s.client.Repositories.GetCommit(ctx, c.owner, c.repo, sha, nil)
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	return []record.Change{change(rc)}, nil
}

func change(rc *gh.RepositoryCommit) record.Change {
	return record.Change{SHA: rc.GetSHA(), AuthorDate: rc.GetCommit().GetAuthor().GetDate().UTC()}
}

func isNotFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil &&
		(er.Response.StatusCode == http.StatusNotFound || er.Response.StatusCode == http.StatusUnprocessableEntity)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
