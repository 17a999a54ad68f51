package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/sourcegraph/conc/pool"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/repos"
)

// Kinds of GitHub token, told apart by what GitHub answers (docs/getting-started.md): a
// classic token's answers carry X-OAuth-Scopes; the others carry none, and their prefix says
// what they are. Actions' GITHUB_TOKEN is an App installation token for the workflow's
// repository.
const (
	kindClassic     = "classic personal access token"
	kindOAuth       = "OAuth app token"
	kindFineGrained = "fine-grained personal access token"
	kindApp         = "GitHub App installation token"
	kindActions     = "GitHub Actions' GITHUB_TOKEN"
	kindAppUser     = "GitHub App user token"
	kindUnknown     = "token of unknown kind"
)

// ghToken is what was learnt of one GitHub token.
type ghToken struct {
	env    string // the variable it came from
	client *repos.Client
	kind   string
	login  string
	scopes []string // classic tokens
	// actionsRepo is the workflow's repository when the token is Actions' GITHUB_TOKEN.
	actionsRepo string
}

// checkGitHub checks the token the GitHub source uses against every product repository, and
// the issues channel's token against its repository.
func checkGitHub(ctx context.Context, o Options) []Check {
	cfg := o.Config
	var repoNames []string
	uses := map[string][]config.Product{}
	for _, p := range cfg.Products {
		if p.Repository == "" {
			continue
		}
		key := strings.ToLower(p.Repository)
		if uses[key] == nil {
			repoNames = append(repoNames, p.Repository)
		}
		uses[key] = append(uses[key], p)
	}
	ch := cfg.NotificationChannels.GitHubIssues
	if len(repoNames) == 0 && ch == nil {
		return []Check{{Name: "github", Status: Skip, Detail: "no product names a repository and no github_issues channel"}}
	}
	var out []Check
	tokens := map[string]*ghToken{}
	token := func(env string) *ghToken {
		if t, ok := tokens[env]; ok {
			return t
		}
		t, c := checkGitHubToken(ctx, o, env)
		out = append(out, c)
		tokens[env] = t
		return t
	}
	if len(repoNames) > 0 {
		if t := token(config.EnvGitHubToken); t != nil {
			slots := make([]Check, len(repoNames))
			pl := pool.New().WithMaxGoroutines(4) // GitHub asks clients to keep concurrency low
			for i, name := range repoNames {
				pl.Go(func() { slots[i] = checkRepo(ctx, t, name, uses[strings.ToLower(name)]) })
			}
			pl.Wait()
			out = append(out, slots...)
		}
	}
	if ch != nil {
		env, _ := o.env(ch.TokenEnv, config.EnvGitHubToken)
		if t := token(env); t != nil {
			out = append(out, checkAlertRepo(ctx, t, ch.Repository))
		}
	}
	return out
}

// checkGitHubToken verifies a token (GET /rate_limit, which costs nothing; GET /user for a
// personal token) and tells its kind. It returns nil with the check when there is no usable
// token.
func checkGitHubToken(ctx context.Context, o Options, env string) (*ghToken, Check) {
	c := Check{Name: "github token"}
	if env != config.EnvGitHubToken {
		c.Name += " (" + env + ")"
	}
	value := o.Getenv(env)
	if value == "" {
		c.Status, c.Detail = Warn, env+" is not set: DORA figures and incidents are not collected, issues not opened"
		c.Fix = "create a token (docs/getting-started.md, \"GitHub\") and set it as the repository secret PORTFOLIO_GITHUB_TOKEN"
		return nil, c
	}
	client, err := repos.New(repos.Options{Token: value, BaseURL: o.Getenv(config.EnvGitHubAPIURL), Sleep: o.Sleep}, o.HTTPClient, o.Log)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "fix "+config.EnvGitHubAPIURL+" (GitHub Enterprise: https://HOST/api/v3)"
		return nil, c
	}
	api := client.API()
	var limits *gh.RateLimits
	var resp *gh.Response
	err = client.Call(ctx, false, func() (*gh.Response, error) {
		var err error
		limits, resp, err = api.RateLimit.Get(ctx)
		return resp, err
	})
	if status(err) == http.StatusNotFound && resp != nil {
		err = nil // GitHub Enterprise with rate limiting off: the token was accepted
	}
	if err != nil {
		c.Status, c.Detail = Fail, "GitHub refused the token: "+explain(err)
		if status(err) == http.StatusUnauthorized {
			c.Detail = "GitHub does not accept the token (401 Bad credentials): it is mistyped, expired or revoked"
		}
		c.Fix = "create a new token (docs/getting-started.md, \"GitHub\") and update the secret PORTFOLIO_GITHUB_TOKEN"
		return nil, c
	}
	t := &ghToken{env: env, client: client}
	if scopes, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
		t.kind = kindClassic
		if strings.HasPrefix(value, "gho_") {
			t.kind = kindOAuth
		}
		for _, s := range strings.Split(strings.Join(scopes, ","), ",") {
			if s = strings.TrimSpace(s); s != "" {
				t.scopes = append(t.scopes, s)
			}
		}
	} else {
		switch {
		case strings.HasPrefix(value, "github_pat_"):
			t.kind = kindFineGrained
		case strings.HasPrefix(value, "ghs_"):
			t.kind = kindApp
			t.actionsRepo = actionsRepository(ctx, o, client)
			if t.actionsRepo != "" {
				t.kind = kindActions
			}
		case strings.HasPrefix(value, "ghu_"):
			t.kind = kindAppUser
		default:
			t.kind = kindUnknown
		}
	}
	var who string
	if t.kind != kindApp && t.kind != kindActions {
		var u *gh.User
		if err := client.Call(ctx, false, func() (*gh.Response, error) {
			var resp *gh.Response
			var err error
			u, resp, err = api.Users.Get(ctx, "")
			return resp, err
		}); err == nil {
			t.login = u.GetLogin()
			who = " of @" + t.login
		}
	}
	if t.actionsRepo != "" {
		who = " for " + t.actionsRepo
	}
	c.Status = OK
	c.Detail = t.kind + who
	if t.kind == kindClassic || t.kind == kindOAuth {
		c.Detail += ", scopes: " + strings.Join(t.scopes, ", ")
		if len(t.scopes) == 0 {
			c.Detail += "(none: public repositories only)"
		}
	}
	core := limits.GetCore()
	if core != nil {
		c.Detail += fmt.Sprintf("; %d of %d requests left this hour", core.Remaining, core.Limit)
		if core.Limit > 0 && core.Remaining < core.Limit/20 {
			c.Status = Warn
			c.Fix = fmt.Sprintf("the rate limit is nearly spent until %s: collection will be rate limited until then; look for another job using the same token", core.Reset.UTC().Format(time.RFC3339))
		}
	}
	return t, c
}

// actionsRepository is the workflow's repository when the ghs_ token is Actions' own
// GITHUB_TOKEN: inside a workflow run (GITHUB_ACTIONS=true), a token whose installation
// covers exactly GITHUB_REPOSITORY. Any other installation token is a GitHub App's.
func actionsRepository(ctx context.Context, o Options, client *repos.Client) string {
	repo := o.Getenv("GITHUB_REPOSITORY")
	if o.Getenv("GITHUB_ACTIONS") != "true" || repo == "" {
		return ""
	}
	var list *gh.ListRepositories
	err := client.Call(ctx, false, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		list, resp, err = client.API().Apps.ListRepos(ctx, &gh.ListOptions{PerPage: 2})
		return resp, err
	})
	if err != nil || list.GetTotalCount() != 1 || len(list.Repositories) != 1 || !strings.EqualFold(list.Repositories[0].GetFullName(), repo) {
		return ""
	}
	return repo
}

// part is one thing the run reads of a repository.
type part struct {
	what string // for messages: "Actions (deploy.yml)", "contents", "issues"
	call func(ctx context.Context) (string, error)
	perm string // what a fine-grained token or App needs, GitHub's name
}

// checkRepo checks what the GitHub source reads of one repository for its products: the
// repository, the deploy runs or deployments, the commits (lead time) and the incident issues.
func checkRepo(ctx context.Context, t *ghToken, full string, products []config.Product) Check {
	c := Check{Name: "github " + full}
	owner, name, _ := strings.Cut(full, "/")
	api := t.client.API()
	call := func(f func() (*gh.Response, error)) error { return t.client.Call(ctx, false, f) }

	var r *gh.Repository
	if err := call(func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		r, resp, err = api.Repositories.Get(ctx, owner, name)
		return resp, err
	}); err != nil {
		c.Status, c.Detail = Fail, "cannot read the repository: "+explain(err)
		c.Fix = t.accessFix(full, "")
		return c
	}
	branch := r.GetDefaultBranch()
	var parts []part
	for _, p := range products {
		d := p.Deploy
		switch {
		case d.Source == config.DeploySourceDeployments:
			parts = append(parts, part{what: "deployments to " + d.Environment, perm: "deployments=read", call: func(ctx context.Context) (string, error) {
				var deps []*gh.Deployment
				err := call(func() (*gh.Response, error) {
					var resp *gh.Response
					var err error
					deps, resp, err = api.Repositories.ListDeployments(ctx, owner, name, &gh.DeploymentsListOptions{Environment: d.Environment, ListOptions: gh.ListOptions{PerPage: 1}})
					return resp, err
				})
				if err != nil {
					return "", err
				}
				if len(deps) == 0 {
					return "deployments to " + d.Environment + ": none yet", nil
				}
				return "deployments to " + d.Environment, nil
			}})
		case d.Workflow == "":
			return Check{Name: c.Name, Status: Fail, Detail: fmt.Sprintf("product %s: deploy.workflow is not set (deploy.source workflow_runs needs the workflow file)", p.ID),
				Fix: "set deploy.workflow to the file under .github/workflows that deploys (portfolio init lists the deploy-like ones), or deploy.source to deployments"}
		default:
			runBranch := cmpOr(d.Branch, branch)
			parts = append(parts, part{what: "Actions (" + d.Workflow + ")", perm: "actions=read", call: func(ctx context.Context) (string, error) {
				var runs *gh.WorkflowRuns
				err := call(func() (*gh.Response, error) {
					var resp *gh.Response
					var err error
					runs, resp, err = api.Actions.ListWorkflowRunsByFileName(ctx, owner, name, d.Workflow, &gh.ListWorkflowRunsOptions{Branch: runBranch, ListOptions: gh.ListOptions{PerPage: 1}})
					return resp, err
				})
				if status(err) == http.StatusNotFound {
					return "", &notFoundError{fmt.Sprintf("workflow %s not found in %s", d.Workflow, full),
						"set deploy.workflow of " + p.ID + " to a file under .github/workflows of " + full}
				}
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Actions (%s: %s on %s)", d.Workflow, plural(runs.GetTotalCount(), "run", "runs"), runBranch), nil
			}})
		}
	}
	parts = append(parts,
		part{what: "contents", perm: "contents=read", call: func(ctx context.Context) (string, error) {
			err := call(func() (*gh.Response, error) {
				_, resp, err := api.Repositories.ListCommits(ctx, owner, name, &gh.CommitsListOptions{ListOptions: gh.ListOptions{PerPage: 1}})
				return resp, err
			})
			if status(err) == http.StatusConflict { // an empty repository
				return "contents (empty repository)", nil
			}
			return "contents", err
		}},
	)
	labels := map[string]bool{}
	for _, p := range products {
		labels[cmpOr(p.Incidents.Label, "incident")] = true
	}
	for label := range labels {
		parts = append(parts, part{what: "issues", perm: "issues=read", call: func(ctx context.Context) (string, error) {
			err := call(func() (*gh.Response, error) {
				_, resp, err := api.Issues.ListByRepo(ctx, owner, name, &gh.IssueListByRepoOptions{State: "all", Labels: []string{label}, ListOptions: gh.ListOptions{PerPage: 1}})
				return resp, err
			})
			return "issues labelled " + label, err
		}})
	}
	var good, bad []string
	var fixes []string
	worst := OK
	for _, pt := range parts {
		said, err := pt.call(ctx)
		if err == nil {
			good = append(good, said)
			continue
		}
		worst = max(worst, Fail)
		var nf *notFoundError
		switch {
		case errors.As(err, &nf):
			bad = append(bad, nf.msg)
			fixes = append(fixes, nf.fix)
		default:
			bad = append(bad, pt.what+": "+explain(err))
			fixes = append(fixes, t.accessFix(full, needed(err, pt.perm)))
		}
	}
	c.Status = worst
	if len(bad) == 0 {
		c.Detail = "readable: " + strings.Join(good, ", ")
		return c
	}
	c.Detail = strings.Join(bad, "; ")
	if len(good) > 0 {
		c.Detail += " (readable: " + strings.Join(good, ", ") + ")"
	}
	c.Fix = strings.Join(dedupe(fixes), "; ")
	return c
}

// checkAlertRepo checks that the issues channel's token may open issues in its repository. Only
// a write shows that, so it sends one GitHub cannot carry out: an issue without a title, which
// GitHub refuses with 422 once the token's permission has passed (and with 403 or 404 before).
// Nothing is created.
func checkAlertRepo(ctx context.Context, t *ghToken, full string) Check {
	c := Check{Name: "github " + full + " (alert issues)"}
	owner, name, ok := strings.Cut(full, "/")
	if !ok {
		c.Status, c.Detail = Fail, "notification_channels.github_issues.repository is not owner/name"
		return c
	}
	api := t.client.API()
	err := t.client.Call(ctx, true, func() (*gh.Response, error) {
		req, err := api.NewRequest(http.MethodPost, fmt.Sprintf("repos/%s/%s/issues", owner, name), map[string]any{})
		if err != nil {
			return nil, err
		}
		return api.Do(ctx, req, nil)
	})
	var er *gh.ErrorResponse
	switch s := status(err); {
	case s == http.StatusUnprocessableEntity && errors.As(err, &er) && slices.ContainsFunc(er.Errors, func(e gh.Error) bool { return e.Field == "title" }):
		c.Status = OK
		c.Detail = "may open issues (GitHub refused a test issue without a title after checking the permission; nothing was created)"
	case s == http.StatusGone:
		c.Status, c.Detail = Fail, "issues are turned off in "+full
		c.Fix = "turn Issues on in the repository's settings, or point github_issues.repository elsewhere"
	case err == nil:
		c.Status, c.Detail = Warn, "GitHub accepted an issue without a title: check "+full+" for it and close it"
	default:
		c.Status, c.Detail = Fail, "may not open issues: "+explain(err)
		c.Fix = t.accessFix(full, needed(err, "issues=write"))
	}
	return c
}

// notFoundError is a part the config names wrongly (a workflow file that does not exist).
type notFoundError struct{ msg, fix string }

func (e *notFoundError) Error() string { return e.msg }

// needed is the permission GitHub says a refused call needs, else fallback.
func needed(err error, fallback string) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		if p := er.Response.Header.Get("X-Accepted-GitHub-Permissions"); p != "" {
			return p
		}
	}
	return fallback
}

// accessFix says how to give this kind of token what it lacks on a repository: perm (GitHub's
// name, like actions=read) or, when empty, access to the repository itself.
func (t *ghToken) accessFix(full, perm string) string {
	what := "access to " + full
	if perm != "" {
		what = permissionWords(perm) + " on " + full
	}
	switch t.kind {
	case kindFineGrained:
		return "edit the fine-grained token (GitHub → Settings → Developer settings → Fine-grained tokens): give it " + what + "; its resource owner must be " + ownerOf(full)
	case kindApp:
		return "give the GitHub App " + what + " (the App's permissions, and its installation's repository access)"
	case kindActions:
		if !strings.EqualFold(full, t.actionsRepo) {
			return "the workflow's own GITHUB_TOKEN reads only " + t.actionsRepo + ": set the secret PORTFOLIO_GITHUB_TOKEN to a token with " + what
		}
		if perm != "" {
			return "add \"" + strings.ReplaceAll(perm, "=", ": ") + "\" under permissions: in the workflow"
		}
		return "give the workflow's token " + what
	case kindClassic, kindOAuth:
		if perm == "" {
			return "the token's owner (@" + t.login + ") needs read access to " + full + ", and a private repository needs the repo scope"
		}
		return "give the classic token the repo scope (public_repo for public repositories) and its owner " + what
	}
	return "give the token " + what
}

// permissionWords turns GitHub's "actions=read" into the words of its settings page.
func permissionWords(perm string) string {
	var out []string
	for _, alt := range strings.Split(perm, ";") {
		var set []string
		for _, p := range strings.Split(strings.TrimSpace(alt), ",") {
			name, level, _ := strings.Cut(strings.TrimSpace(p), "=")
			words := map[string]string{"read": "Read-only", "write": "Read and write", "admin": "Admin"}[level]
			set = append(set, fmt.Sprintf("%q: %s", titleWords(name), cmpOr(words, level)))
		}
		out = append(out, strings.Join(set, " and "))
	}
	return strings.Join(out, ", or ")
}

func titleWords(s string) string {
	w := strings.Fields(strings.ReplaceAll(s, "_", " "))
	for i, x := range w {
		w[i] = strings.ToUpper(x[:1]) + x[1:]
	}
	return strings.Join(w, " ")
}

// status is the HTTP status of a GitHub error, 0 without one.
func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// explain is a GitHub error as a person reads it: the status, GitHub's message, and the
// permission GitHub says the call needs.
func explain(err error) string {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err.Error()
	}
	msg := fmt.Sprintf("HTTP %d %q", er.Response.StatusCode, er.Message)
	if p := er.Response.Header.Get("X-Accepted-GitHub-Permissions"); p != "" && er.Response.StatusCode == http.StatusForbidden {
		msg += " (needs " + p + ")"
	}
	if er.Response.StatusCode == http.StatusNotFound {
		msg += ": not found, or the token may not see it"
	}
	return msg
}

func ownerOf(full string) string {
	o, _, _ := strings.Cut(full, "/")
	return o
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
