package repos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/sourcegraph/conc/pool"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/paging"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// DefaultBaseURL is the public API.
const DefaultBaseURL = "https://api.github.com/"

// Options configure the Client. Only the token is secret.
type Options struct {
	Token   string // GITHUB_TOKEN, required
	BaseURL string // GITHUB_API_URL, default DefaultBaseURL (GitHub Enterprise: https://host/api/v3)
	// Sleep waits before the one retry a call gets (retry.GitHub): a read, PATCH or PUT after a
	// 5xx or a network error (a POST is never retried after those, so a label is never created
	// twice), and any call after a secondary rate limit whose Retry-After is at most the
	// policy's MaxWait. Default retry.Sleep.
	Sleep retry.Sleeper
	// Concurrency is how many repositories are read at once (default 4: GitHub asks clients to
	// keep it low).
	Concurrency int
}

// OptionsFromEnv reads GITHUB_TOKEN and GITHUB_API_URL.
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{Token: getenv(config.EnvGitHubToken), BaseURL: getenv(config.EnvGitHubAPIURL)}
}

// Client reads and writes labels and branch protection through go-github.
type Client struct {
	gh  *gh.Client
	opt Options
	log *slog.Logger
}

// New returns a client. It fails, naming the env var, when the token is missing or the base
// URL is not an http(s) URL.
func New(o Options, httpClient *http.Client, log *slog.Logger) (*Client, error) {
	if o.Token == "" {
		return nil, fmt.Errorf("github: %s not set (labels need a token with Issues write, branch protection one with Administration write; see docs/repos.md)", config.EnvGitHubToken)
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("github: %s: want an http(s) URL like %s, got %s", config.EnvGitHubAPIURL, DefaultBaseURL, redact.URL(o.BaseURL))
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := gh.NewClient(httpclient.Wrap(httpClient, time.Minute)).WithAuthToken(o.Token)
	c.BaseURL = u // set directly: WithEnterpriseURLs would append api/v3/ to a test server's URL
	return &Client{gh: c, opt: o, log: log}, nil
}

// Part is what a call touches, for messages and for the permission it needs.
type Part string

// Parts of a repository.
const (
	PartRepository Part = "repository"
	PartLabels     Part = "labels"
	PartProtection Part = "branch_protection"
)

// permission names what a token needs for a part, in GitHub's words.
func (p Part) permission() string {
	switch p {
	case PartLabels:
		return "the Issues permission (read to plan, write to apply) in a fine-grained token or GitHub App, or the repo scope in a classic token"
	case PartProtection:
		return "the Administration permission (read to plan, write to apply) in a fine-grained token or GitHub App, or a classic token with the repo scope from a repository admin"
	}
	return "the Metadata permission (read)"
}

// PermissionError is GitHub's 403 to a token without a permission on a repository. It is about
// that repository and part only: the others go on.
type PermissionError struct {
	Repo    string
	Part    Part
	Message string // GitHub's message
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("HTTP 403 %q: the token may not access %s of %s; it needs %s", e.Message, strings.ReplaceAll(string(e.Part), "_", " "), e.Repo, e.Part.permission())
}

// APIError is any other answer GitHub refused, without the request URL (it may name a host
// the user wants kept out of logs).
type APIError struct {
	Status  int
	Message string
	Details []string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	if len(e.Details) > 0 {
		s += " (" + strings.Join(e.Details, "; ") + ")"
	}
	return s
}

// classify turns go-github's errors into PermissionError, APIError or a rate limit message.
func classify(repo string, part Part, err error) error {
	var (
		rle *gh.RateLimitError
		are *gh.AbuseRateLimitError
		er  *gh.ErrorResponse
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rle):
		return fmt.Errorf("GitHub rate limit exhausted until %s", rle.Rate.Reset.Time.UTC().Format(time.RFC3339))
	case errors.As(err, &are):
		return errors.New("GitHub secondary rate limit: try again in a few minutes")
	case errors.As(err, &er) && er.Response != nil:
		status := er.Response.StatusCode
		if status == http.StatusForbidden {
			return &PermissionError{Repo: repo, Part: part, Message: er.Message}
		}
		ae := &APIError{Status: status, Message: er.Message}
		for _, d := range er.Errors {
			ae.Details = append(ae.Details, strings.TrimSpace(fmt.Sprintf("%s %s %s", d.Field, d.Code, d.Message)))
		}
		return ae
	}
	var ue *url.Error
	if errors.As(err, &ue) { // the transport's error repeats the URL; keep the cause
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// call runs one request by retry.GitHub: a secondary rate limit is waited out once when it
// says how long (up to the policy's MaxWait); a 5xx or network error is retried once after the
// backoff unless the call is a create, which might have happened.
func (c *Client) call(ctx context.Context, create bool, f func() (*gh.Response, error)) error {
	policy := retry.GitHub().WithSleep(c.opt.Sleep)
	policy.OnRetry = func(err error, wait time.Duration) {
		c.log.Info("github: retrying", "after", wait, "err", classify("", "", err))
	}
	err := policy.Do(ctx, func(ctx context.Context) error {
		resp, err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		var (
			are *gh.AbuseRateLimitError
			er  *gh.ErrorResponse
			ne  net.Error
		)
		switch {
		case errors.As(err, &are):
			d, ok := time.Duration(0), false
			if are.Response != nil {
				d, ok = retry.FromHeader(are.Response.Header, time.Now())
			}
			if !ok {
				d = are.GetRetryAfter()
			}
			if d > 0 {
				return retry.Retryable(err, d)
			}
		case create:
		case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= 500,
			errors.As(err, &ne), resp == nil && !errors.As(err, &er):
			return retry.Retryable(err, 0)
		}
		return err
	})
	var tl *retry.TooLongError
	if errors.As(err, &tl) {
		return tl.Err // the secondary limit's own error says what happened
	}
	return err
}

// RemoteLabel is a label as GitHub has it.
type RemoteLabel struct {
	Name, Color, Description string
}

// RemoteRepo is what was read of one repository. An error field says that part could not be
// read; its data is then absent.
type RemoteRepo struct {
	Name          string
	DefaultBranch string
	Labels        []RemoteLabel
	LabelsErr     error
	// Protection is each wanted branch's protection as read (nil: the branch is unprotected),
	// by the branch's real name; ProtectionErr says why a branch could not be read.
	Protection    map[string]*gh.Protection
	ProtectionErr map[string]error
	// Branches maps each wanted branch ("" for the default branch) to its real name.
	Branches map[string]string
}

// Remote is what was read of every wanted repository, by name.
type Remote struct {
	Repos map[string]*RemoteRepo
}

// Read reads the labels of every wanted repository (every page) and the protection of every
// wanted branch, a few repositories at a time. Errors are kept per repository and part.
func (c *Client) Read(ctx context.Context, d Desired) Remote {
	out := make([]*RemoteRepo, len(d.Repos))
	p := pool.New().WithMaxGoroutines(c.opt.Concurrency)
	for i, want := range d.Repos {
		p.Go(func() { out[i] = c.readRepo(ctx, want) })
	}
	p.Wait()
	r := Remote{Repos: map[string]*RemoteRepo{}}
	for _, rr := range out {
		r.Repos[rr.Name] = rr
	}
	return r
}

func (c *Client) readRepo(ctx context.Context, want Repo) *RemoteRepo {
	rr := &RemoteRepo{Name: want.Name, Protection: map[string]*gh.Protection{}, ProtectionErr: map[string]error{}, Branches: map[string]string{}}
	owner, name, _ := strings.Cut(want.Name, "/")
	rr.Labels, rr.LabelsErr = c.listLabels(ctx, owner, name, want.Name)
	var defaultErr error
	for _, br := range want.Branches {
		branch := br.Name
		if branch == "" {
			if rr.DefaultBranch == "" && defaultErr == nil {
				rr.DefaultBranch, defaultErr = c.defaultBranch(ctx, owner, name, want.Name)
			}
			if defaultErr != nil {
				rr.ProtectionErr[""] = fmt.Errorf("read the default branch: %w", defaultErr)
				continue
			}
			branch = rr.DefaultBranch
		}
		rr.Branches[br.Name] = branch
		if _, done := rr.Protection[branch]; done || rr.ProtectionErr[branch] != nil {
			continue
		}
		p, err := c.protection(ctx, owner, name, want.Name, branch)
		if err != nil {
			rr.ProtectionErr[branch] = err
			continue
		}
		rr.Protection[branch] = p
	}
	return rr
}

func (c *Client) listLabels(ctx context.Context, owner, name, full string) ([]RemoteLabel, error) {
	var out []RemoteLabel
	opts := &gh.ListOptions{PerPage: 100}
	pg := paging.Pages{What: "labels of " + full}
	for {
		var page []*gh.Label
		var resp *gh.Response
		err := c.call(ctx, false, func() (*gh.Response, error) {
			var err error
			page, resp, err = c.gh.Issues.ListLabels(ctx, owner, name, opts)
			return resp, err
		})
		if err != nil {
			if notFound(err) {
				return nil, fmt.Errorf("repository %s not found, or the token cannot see it", full)
			}
			return nil, classify(full, PartLabels, err)
		}
		for _, l := range page {
			out = append(out, RemoteLabel{Name: l.GetName(), Color: l.GetColor(), Description: l.GetDescription()})
		}
		next, err := pg.Next(max(opts.Page, 1), resp.NextPage)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, err)
		}
		if next == 0 {
			return out, nil
		}
		opts.Page = next
	}
}

func (c *Client) defaultBranch(ctx context.Context, owner, name, full string) (string, error) {
	var repo *gh.Repository
	err := c.call(ctx, false, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		repo, resp, err = c.gh.Repositories.Get(ctx, owner, name)
		return resp, err
	})
	if notFound(err) {
		return "", fmt.Errorf("repository %s not found, or the token cannot see it", full)
	}
	if err != nil {
		return "", classify(full, PartRepository, err)
	}
	if repo.GetDefaultBranch() == "" {
		return "", fmt.Errorf("repository %s has no default branch (is it empty?)", full)
	}
	return repo.GetDefaultBranch(), nil
}

// protection reads a branch's protection: nil for an unprotected branch (GitHub's 404
// "Branch not protected").
func (c *Client) protection(ctx context.Context, owner, name, full, branch string) (*gh.Protection, error) {
	var p *gh.Protection
	err := c.call(ctx, false, func() (*gh.Response, error) {
		var resp *gh.Response
		var err error
		p, resp, err = c.gh.Repositories.GetBranchProtection(ctx, owner, name, branch)
		if errors.Is(err, gh.ErrBranchNotProtected) {
			return resp, nil
		}
		return resp, err
	})
	switch {
	case notFound(err):
		return nil, fmt.Errorf("branch %q of %s not found (GitHub: %s)", branch, full, classify(full, PartProtection, err))
	case err != nil:
		return nil, classify(full, PartProtection, err)
	}
	return p, nil
}

func notFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound
}

func (c *Client) createLabel(ctx context.Context, full string, l Label) error {
	owner, name, _ := strings.Cut(full, "/")
	err := c.call(ctx, true, func() (*gh.Response, error) {
		_, resp, err := c.gh.Issues.CreateLabel(ctx, owner, name, &gh.Label{Name: gh.String(l.Name), Color: gh.String(l.Color), Description: gh.String(l.Description)})
		return resp, err
	})
	return classify(full, PartLabels, err)
}

// editLabel sets the colour and description of the label GitHub has as current (its spelling).
func (c *Client) editLabel(ctx context.Context, full, current string, l Label) error {
	owner, name, _ := strings.Cut(full, "/")
	err := c.call(ctx, false, func() (*gh.Response, error) {
		// go-github v60 puts the name into the path unescaped: a space, '/', '?' or '#' in a
		// label name would break the URL.
		_, resp, err := c.gh.Issues.EditLabel(ctx, owner, name, url.PathEscape(current), &gh.Label{Color: gh.String(l.Color), Description: gh.String(l.Description)})
		return resp, err
	})
	return classify(full, PartLabels, err)
}

func (c *Client) putProtection(ctx context.Context, full, branch string, req *gh.ProtectionRequest) error {
	owner, name, _ := strings.Cut(full, "/")
	err := c.call(ctx, false, func() (*gh.Response, error) {
		_, resp, err := c.gh.Repositories.UpdateBranchProtection(ctx, owner, name, branch, req)
		return resp, err
	})
	return classify(full, PartProtection, err)
}
