package initconfig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/paging"
)

// listRepos reads the organisation's repositories (or a user's, when the name is a user's),
// or the named ones.
func listRepos(ctx context.Context, o Options) ([]repo, error) {
	api := o.GitHub.API()
	if len(o.Repos) > 0 {
		var out []repo
		for _, full := range o.Repos {
			owner, name, ok := strings.Cut(full, "/")
			if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
				return nil, fmt.Errorf("init: --repos %q: want owner/name", full)
			}
			var r *gh.Repository
			err := o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
				var resp *gh.Response
				var err error
				r, resp, err = api.Repositories.Get(ctx, owner, name)
				return resp, err
			})
			if err != nil {
				return nil, fmt.Errorf("init: read %s: %w", full, explain(err))
			}
			out = append(out, repoOf(r))
		}
		return out, nil
	}
	list, err := listOwner(ctx, o, false)
	if status(err) == http.StatusNotFound {
		list, err = listOwner(ctx, o, true) // not an organisation: perhaps a user
	}
	if err != nil {
		return nil, fmt.Errorf("init: list the repositories of %s: %w", o.Org, explain(err))
	}
	slices.SortFunc(list, func(a, b repo) int { return strings.Compare(strings.ToLower(a.full), strings.ToLower(b.full)) })
	return list, nil
}

func listOwner(ctx context.Context, o Options, user bool) ([]repo, error) {
	api := o.GitHub.API()
	var out []repo
	page := 1
	pg := paging.Pages{What: "repositories of " + o.Org}
	for {
		var list []*gh.Repository
		var resp *gh.Response
		err := o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
			var err error
			lo := gh.ListOptions{PerPage: 100, Page: page}
			if user {
				list, resp, err = api.Repositories.ListByUser(ctx, o.Org, &gh.RepositoryListByUserOptions{Type: "owner", Sort: "full_name", ListOptions: lo})
			} else {
				list, resp, err = api.Repositories.ListByOrg(ctx, o.Org, &gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", ListOptions: lo})
			}
			return resp, err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range list {
			out = append(out, repoOf(r))
		}
		next, err := pg.Next(page, resp.NextPage)
		if err != nil {
			return nil, err
		}
		if next == 0 {
			return out, nil
		}
		page = next
	}
}

func repoOf(r *gh.Repository) repo {
	return repo{full: r.GetFullName(), name: r.GetName(), description: r.GetDescription(), homepage: r.GetHomepage(),
		defaultBranch: r.GetDefaultBranch(), archived: r.GetArchived(), fork: r.GetFork()}
}

// status is the HTTP status of a GitHub error, 0 without one.
func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// explain says what a GitHub refusal means, with the permission GitHub names for a
// fine-grained or App token (X-Accepted-GitHub-Permissions).
func explain(err error) error {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	msg := fmt.Sprintf("HTTP %d %q", er.Response.StatusCode, er.Message)
	switch er.Response.StatusCode {
	case http.StatusUnauthorized:
		msg += ": the token is not valid (GITHUB_TOKEN)"
	case http.StatusNotFound:
		msg += ": not found, or the token may not see it"
	case http.StatusForbidden:
		if p := er.Response.Header.Get("X-Accepted-GitHub-Permissions"); p != "" {
			msg += ": the token needs " + p
		}
	}
	return errors.New(msg)
}

// deployWord is what the name or file of a deploy workflow says.
var deployWord = regexp.MustCompile(`(?i)deploy|release`)

// workflowRuns is what was counted of one deploy-like workflow.
type workflowRuns struct {
	file, name      string
	runs, successes int       // on the default branch within RunWindow
	last            time.Time // the newest run on the default branch, ever
	err             error
}

// guessDeploy finds where the product's deployments come from: a workflow whose file or name
// says deploy or release with runs on the default branch (the one with the most successful
// runs), else deployments to an environment (the most used one).
func (g *productGuess) guessDeploy(ctx context.Context, o Options, r repo) {
	owner, name := ownerOf(r.full), r.name
	api := o.GitHub.API()
	branch := cmp.Or(r.defaultBranch, "the default branch")

	var workflows []*gh.Workflow
	var wfErr error
	wfPages := paging.Pages{What: "workflows of " + r.full}
	for page := 1; ; {
		var list *gh.Workflows
		var resp *gh.Response
		wfErr = o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
			var err error
			list, resp, err = api.Actions.ListWorkflows(ctx, owner, name, &gh.ListOptions{PerPage: 100, Page: page})
			return resp, err
		})
		if wfErr != nil {
			break
		}
		workflows = append(workflows, list.Workflows...)
		if page, wfErr = wfPages.Next(page, resp.NextPage); wfErr != nil || page == 0 {
			break
		}
	}
	var counted []workflowRuns
	var idle []string
	for _, w := range workflows {
		file := path.Base(w.GetPath())
		if !deployWord.MatchString(file) && !deployWord.MatchString(w.GetName()) {
			continue
		}
		if st := w.GetState(); st != "active" {
			idle = append(idle, fmt.Sprintf("%s (%s)", file, st))
			continue
		}
		wr := countRuns(ctx, o, owner, name, r.defaultBranch, file)
		wr.name = w.GetName()
		if wr.err != nil || wr.last.IsZero() {
			if wr.err != nil {
				g.say("deploy", "could not count the runs of %s: %v", file, wr.err)
			} else {
				idle = append(idle, fmt.Sprintf("%s (no runs on %s)", file, branch))
			}
			continue
		}
		counted = append(counted, wr)
	}
	slices.SortFunc(counted, func(a, b workflowRuns) int {
		return cmp.Or(cmp.Compare(b.successes, a.successes), cmp.Compare(b.runs, a.runs), b.last.Compare(a.last), strings.Compare(a.file, b.file))
	})
	envs, depTotal, depErr := countDeployments(ctx, o, owner, name)

	switch {
	case wfErr != nil:
		g.say("deploy", "could not list the workflows: %v", explain(wfErr))
	case len(idle) > 0:
		g.say("deploy", "deploy-like workflows not counted: %s", strings.Join(idle, ", "))
	}
	if depErr != nil {
		g.say("deploy", "could not list the deployments: %v", explain(depErr))
	}
	days := int(RunWindow.Hours() / 24)
	switch {
	case len(counted) > 0:
		best := counted[0]
		g.doc.Deploy = &Deploy{Source: "workflow_runs", Workflow: best.file}
		g.say("deploy", "workflow_runs of %s (%q): %s on %s in the last %d days, %d successful; last run %s",
			best.file, best.name, plural(best.runs, "run", "runs"), branch, days, best.successes, best.last.UTC().Format("2006-01-02"))
		for _, other := range counted[1:] {
			g.say("deploy", "also deploy-like: %s (%q), %s, %d successful: %s was chosen for more successful runs; set deploy.workflow to %s to count that one instead",
				other.file, other.name, plural(other.runs, "run", "runs"), other.successes, best.file, other.file)
		}
		if len(envs) > 0 {
			g.say("deploy", "the repository also has deployments (%s): set deploy.source to deployments and deploy.environment to %s to count those instead",
				envList(envs, depTotal), envs[0].name)
		}
	case len(envs) > 0:
		g.doc.Deploy = &Deploy{Source: "deployments", Environment: envs[0].name}
		g.say("deploy", "deployments to %s: %d of the last %d deployments went there (%s); no deploy or release workflow runs on %s",
			envs[0].name, envs[0].count, depTotal, envList(envs, depTotal), branch)
	default:
		g.doc.Deploy = &Deploy{Source: "deployments", Environment: "production"}
		g.say("deploy", "no deploy or release workflow with runs on %s and no deployments: deployments to production are counted, none so far; set deploy.workflow when a deploy workflow exists", branch)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// countRuns counts a workflow's runs on the branch within RunWindow, and finds its newest run.
func countRuns(ctx context.Context, o Options, owner, name, branch, file string) workflowRuns {
	api := o.GitHub.API()
	wr := workflowRuns{file: file}
	since := ">=" + o.Now.Add(-RunWindow).UTC().Format("2006-01-02")
	count := func(status, created string) (int, time.Time, error) {
		var runs *gh.WorkflowRuns
		err := o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			runs, resp, err = api.Actions.ListWorkflowRunsByFileName(ctx, owner, name, file, &gh.ListWorkflowRunsOptions{
				Branch: branch, Status: status, Created: created, ListOptions: gh.ListOptions{PerPage: 1}})
			return resp, err
		})
		if err != nil {
			return 0, time.Time{}, explain(err)
		}
		var last time.Time
		if len(runs.WorkflowRuns) > 0 {
			last = runs.WorkflowRuns[0].GetCreatedAt().Time
		}
		return runs.GetTotalCount(), last, nil
	}
	if wr.runs, wr.last, wr.err = count("", since); wr.err != nil {
		return wr
	}
	if wr.runs == 0 {
		_, wr.last, wr.err = count("", "")
		return wr
	}
	wr.successes, _, wr.err = count("success", since)
	return wr
}

type envCount struct {
	name  string
	count int
	last  time.Time
}

// countDeployments counts the newest hundred deployments by environment, most used first.
func countDeployments(ctx context.Context, o Options, owner, name string) ([]envCount, int, error) {
	api := o.GitHub.API()
	var deps []*gh.Deployment
	err := o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		deps, resp, err = api.Repositories.ListDeployments(ctx, owner, name, &gh.DeploymentsListOptions{ListOptions: gh.ListOptions{PerPage: 100}})
		return resp, err
	})
	if err != nil {
		return nil, 0, err
	}
	by := map[string]*envCount{}
	for _, d := range deps {
		e := by[d.GetEnvironment()]
		if e == nil {
			e = &envCount{name: d.GetEnvironment()}
			by[e.name] = e
		}
		e.count++
		if t := d.GetCreatedAt().Time; t.After(e.last) {
			e.last = t
		}
	}
	var out []envCount
	for _, e := range by {
		if e.name != "" {
			out = append(out, *e)
		}
	}
	slices.SortFunc(out, func(a, b envCount) int {
		return cmp.Or(cmp.Compare(b.count, a.count), b.last.Compare(a.last), strings.Compare(a.name, b.name))
	})
	return out, len(deps), nil
}

func envList(envs []envCount, total int) string {
	parts := make([]string, 0, len(envs))
	for _, e := range envs {
		parts = append(parts, fmt.Sprintf("%s %d", e.name, e.count))
	}
	s := strings.Join(parts, ", ")
	if total >= 100 {
		s += ", of the newest 100"
	}
	return s
}

// incidentWord is what an incident label's name says.
var incidentWord = regexp.MustCompile(`(?i)incident|outage`)

// guessLabel finds the label the repository's incidents carry: "incident" when it exists,
// else a label whose name says incident or outage.
func (g *productGuess) guessLabel(ctx context.Context, o Options, r repo) {
	api := o.GitHub.API()
	var names []string
	pg := paging.Pages{What: "labels of " + r.full}
	for page := 1; ; {
		var labels []*gh.Label
		var resp *gh.Response
		err := o.GitHub.Call(ctx, false, func() (*gh.Response, error) {
			var err error
			labels, resp, err = api.Issues.ListLabels(ctx, ownerOf(r.full), r.name, &gh.ListOptions{PerPage: 100, Page: page})
			return resp, err
		})
		if err != nil {
			g.say("incidents.label", "could not read the labels (%v): the default label incident is used", explain(err))
			return
		}
		for _, l := range labels {
			names = append(names, l.GetName())
		}
		next, err := pg.Next(page, resp.NextPage)
		if err != nil {
			g.say("incidents.label", "could not read the labels (%v): the default label incident is used", err)
			return
		}
		if next == 0 {
			break
		}
		page = next
	}
	if i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, "incident") }); i >= 0 {
		if names[i] != "incident" {
			g.doc.Incidents = &Incidents{Label: names[i]}
		}
		g.say("incidents.label", "the repository has the label %q", names[i])
		return
	}
	var like []string
	for _, n := range names {
		if incidentWord.MatchString(n) {
			like = append(like, n)
		}
	}
	says := func(n string) int { // an incident label before an outage one
		if strings.Contains(strings.ToLower(n), "incident") {
			return 0
		}
		return 1
	}
	slices.SortFunc(like, func(a, b string) int {
		return cmp.Or(cmp.Compare(says(a), says(b)), cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	})
	if len(like) > 0 {
		g.doc.Incidents = &Incidents{Label: like[0]}
		why := fmt.Sprintf("no label named incident; %q says it", like[0])
		if len(like) > 1 {
			why += fmt.Sprintf(" (also %s)", quoteAll(like[1:]))
		}
		g.say("incidents.label", "%s", why)
		return
	}
	g.say("incidents.label", "no incident label yet: the default incident is used (portfolio repos apply creates it)")
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
