// Package githubissues turns firing alerts into GitHub issues: one open issue per alert,
// labelled incident and with its severity, updated with comments, commented and closed when the
// alert resolves. The body carries a hidden marker with the fingerprint; before opening an
// issue the open incident issues are searched for it, so a crash between opening and recording
// never leaves two open issues for one alert. An issue that someone assigned or labelled
// "acknowledged" acknowledges its alert, which stops the repeats.
package githubissues

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/paging"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// DefaultBaseURL is the public API.
const DefaultBaseURL = "https://api.github.com/"

// Labels the channel reads and writes.
const (
	LabelIncident     = "incident"
	LabelAcknowledged = "acknowledged"
)

// Config configures the GitHub issues channel.
type Config struct {
	Repository string   // owner/name
	Labels     []string // added to incident and the severity
	Token      string   // a secret: never logged
	BaseURL    string   // GITHUB_API_URL, default DefaultBaseURL
	Location   *time.Location
}

// Notifier manages the issues of one repository.
type Notifier struct {
	cfg         Config
	owner, repo string
	client      *gh.Client
	log         *slog.Logger
}

var (
	_ notify.Notifier    = (*Notifier)(nil)
	_ alert.Acknowledger = (*Notifier)(nil)
)

// New returns the GitHub issues notifier.
func New(cfg Config, client *http.Client, log *slog.Logger) (*Notifier, error) {
	owner, repo, ok := strings.Cut(cfg.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("github issues: repository: want owner/name, got %q", cfg.Repository)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(cfg.BaseURL, "/") {
		cfg.BaseURL += "/"
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("github issues: GITHUB_API_URL: want an http(s) URL like %s, got %s", DefaultBaseURL, redact.URL(cfg.BaseURL))
	}
	c := gh.NewClient(httpclient.Wrap(client, 30*time.Second))
	if cfg.Token != "" {
		c = c.WithAuthToken(cfg.Token)
	}
	c.BaseURL = u
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, owner: owner, repo: repo, client: c, log: log}, nil
}

// Name is the channel name.
func (g *Notifier) Name() string { return alert.ChannelGitHubIssues }

// Marker is the hidden line in an issue body that names the alert.
func Marker(fingerprint string) string { return "<!-- portfolio-alert: " + fingerprint + " -->" }

// Notify opens, comments or closes the alert's issue.
func (g *Notifier) Notify(ctx context.Context, n alert.Notification) (notify.Receipt, error) {
	num, url, err := g.issueFor(ctx, n)
	if err != nil {
		return notify.Receipt{}, err
	}
	switch n.Kind {
	case alert.NotifyFiring, alert.NotifyRepeat:
		if num == 0 {
			return g.open(ctx, n)
		}
		if err := g.comment(ctx, num, CommentBody(n, g.cfg.Location)); err != nil {
			return notify.Receipt{}, err
		}
		return notify.Receipt{IssueNumber: num, IssueURL: url}, nil
	case alert.NotifyResolved:
		if num == 0 {
			return notify.Receipt{}, nil // nothing open: already closed (by a person, or before a crash)
		}
		if err := g.comment(ctx, num, CommentBody(n, g.cfg.Location)); err != nil {
			return notify.Receipt{}, err
		}
		_, _, err := g.client.Issues.Edit(ctx, g.owner, g.repo, num, &gh.IssueRequest{
			State: gh.String("closed"), StateReason: gh.String("completed")})
		if err != nil {
			return notify.Receipt{}, g.wrap(fmt.Sprintf("close issue #%d", num), err)
		}
		return notify.Receipt{IssueNumber: num, IssueURL: url}, nil
	}
	return notify.Receipt{}, fmt.Errorf("github issues: unknown notification kind %q", n.Kind)
}

// issueFor finds the alert's open issue: the one recorded for this episode when it is still
// open, else the open incident issue whose body carries the marker. 0 when there is none.
func (g *Notifier) issueFor(ctx context.Context, n alert.Notification) (int, string, error) {
	if d := n.Delivery; d.IssueNumber != 0 && d.Episode.Equal(n.Alert.FiringSince) {
		is, _, err := g.client.Issues.Get(ctx, g.owner, g.repo, d.IssueNumber)
		if err != nil {
			return 0, "", g.wrap(fmt.Sprintf("get issue #%d", d.IssueNumber), err)
		}
		if is.GetState() == "open" || n.Kind == alert.NotifyRepeat {
			return d.IssueNumber, is.GetHTMLURL(), nil
		}
		return 0, "", nil // closed already: a resolve is done; a firing one gets a new issue
	}
	return g.find(ctx, n.Alert.Fingerprint)
}

// find searches the open incident issues for the marker. The list endpoint is used rather than
// the search API, whose index lags behind a just-created issue.
func (g *Notifier) find(ctx context.Context, fingerprint string) (int, string, error) {
	marker := Marker(fingerprint)
	opts := &gh.IssueListByRepoOptions{State: "open", Labels: []string{LabelIncident},
		Sort: "created", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 100}}
	// Every page: an issue not found is one to open, so a listing cut short would open a
	// second issue for the same alert; one that does not end is an error.
	pg := paging.Pages{What: "open incident issues", Max: 20}
	for {
		issues, resp, err := g.client.Issues.ListByRepo(ctx, g.owner, g.repo, opts)
		if err != nil {
			return 0, "", g.wrap("list open incident issues", err)
		}
		for _, is := range issues {
			if !is.IsPullRequest() && strings.Contains(is.GetBody(), marker) {
				return is.GetNumber(), is.GetHTMLURL(), nil
			}
		}
		next, err := pg.Next(max(opts.Page, 1), resp.NextPage)
		if err != nil {
			return 0, "", g.wrap("list open incident issues", err)
		}
		if next == 0 {
			return 0, "", nil
		}
		opts.Page = next
	}
}

func (g *Notifier) open(ctx context.Context, n alert.Notification) (notify.Receipt, error) {
	labels := []string{LabelIncident, n.Alert.Severity}
	for _, l := range g.cfg.Labels {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	is, _, err := g.client.Issues.Create(ctx, g.owner, g.repo, &gh.IssueRequest{
		Title: gh.String(Title(n)), Body: gh.String(IssueBody(n, g.cfg.Location)), Labels: &labels})
	if err != nil {
		return notify.Receipt{}, g.wrap("open issue", err)
	}
	g.log.Info("incident issue opened", "repository", g.cfg.Repository, "issue", is.GetNumber(), "fingerprint", n.Alert.Fingerprint)
	return notify.Receipt{IssueNumber: is.GetNumber(), IssueURL: is.GetHTMLURL()}, nil
}

func (g *Notifier) comment(ctx context.Context, num int, body string) error {
	if _, _, err := g.client.Issues.CreateComment(ctx, g.owner, g.repo, num, &gh.IssueComment{Body: gh.String(body)}); err != nil {
		return g.wrap(fmt.Sprintf("comment on issue #%d", num), err)
	}
	return nil
}

// Acknowledged reads each alert's issue back: assigned to someone or labelled acknowledged.
// Alerts whose issue could not be read are left out (they keep their previous state).
func (g *Notifier) Acknowledged(ctx context.Context, alerts []alert.Alert) (map[string]bool, error) {
	out := map[string]bool{}
	var errs []error
	for _, a := range alerts {
		num := a.Deliveries[alert.ChannelGitHubIssues].IssueNumber
		if num == 0 {
			continue
		}
		is, _, err := g.client.Issues.Get(ctx, g.owner, g.repo, num)
		if err != nil {
			errs = append(errs, g.wrap(fmt.Sprintf("read issue #%d", num), err))
			continue
		}
		ack := len(is.Assignees) > 0 || is.Assignee != nil
		for _, l := range is.Labels {
			if strings.EqualFold(l.GetName(), LabelAcknowledged) {
				ack = true
			}
		}
		out[a.Fingerprint] = ack
	}
	return out, errors.Join(errs...)
}

// wrap adds context and marks rate limits, 5xx and network errors retryable.
func (g *Notifier) wrap(what string, err error) error {
	err = fmt.Errorf("github issues %s: %s: %w", g.cfg.Repository, what, err)
	var rle *gh.RateLimitError
	var are *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	var ne net.Error
	switch {
	case errors.As(err, &are):
		return retry.Retryable(err, are.GetRetryAfter())
	case errors.As(err, &rle):
		return retry.Retryable(err, time.Until(rle.Rate.Reset.Time))
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= 500:
		return retry.Retryable(err, 0)
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return retry.Retryable(err, 0)
	}
	return err
}

// Title is the issue title.
func Title(n alert.Notification) string {
	icon := "🛑"
	if n.Alert.Severity != alert.Critical {
		icon = "⚠️"
	}
	return fmt.Sprintf("%s %s: %s", icon, n.ProductName, n.Alert.RuleName())
}

// IssueBody is the body of a new issue, ending with the marker.
func IssueBody(n alert.Notification, loc *time.Location) string {
	a := n.Alert
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** alert for **%s** is firing.\n\n> %s\n\n", a.Severity, text(n.ProductName), text(a.Summary))
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Rule | %s |\n| Value | %s |\n| Threshold | %s |\n| Firing since | %s |\n",
		text(a.RuleName()), a.ValueText(), a.ThresholdText(), a.FiringSince.In(loc).Format("2006-01-02 15:04 MST"))
	if n.ProductURL != "" {
		fmt.Fprintf(&b, "\n[Product page](%s)\n", n.ProductURL)
	}
	for _, l := range a.Links {
		fmt.Fprintf(&b, "\n[%s](<%s>)\n", text(l.Name), strings.NewReplacer("<", "%3C", ">", "%3E").Replace(l.URL))
	}
	fmt.Fprintf(&b, "\nAssign this issue or label it `%s` to acknowledge the alert and stop the repeats. "+
		"It is closed when the alert resolves.\n\n%s\n", LabelAcknowledged, Marker(a.Fingerprint))
	return b.String()
}

// CommentBody is the comment of an update (repeat, firing again) or of the resolve.
func CommentBody(n alert.Notification, loc *time.Location) string {
	a := n.Alert
	switch n.Kind {
	case alert.NotifyResolved:
		d := a.ResolvedAt.Sub(a.FiringSince).Round(time.Minute)
		return fmt.Sprintf("**Resolved** at %s after %s: %s", a.ResolvedAt.In(loc).Format("2006-01-02 15:04 MST"),
			strings.TrimSuffix(d.String(), "0s"), text(a.Summary))
	case alert.NotifyRepeat:
		return fmt.Sprintf("**Still firing** at %s: %s (value %s, threshold %s).", n.At.In(loc).Format("2006-01-02 15:04 MST"),
			text(a.Summary), a.ValueText(), a.ThresholdText())
	}
	return fmt.Sprintf("**Firing** since %s: %s (value %s, threshold %s).", a.FiringSince.In(loc).Format("2006-01-02 15:04 MST"),
		text(a.Summary), a.ValueText(), a.ThresholdText())
}

// text neutralises outside text in Markdown: no raw HTML, no @mentions, no line breaks.
func text(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "@", "@\u200b", "|", "\\|").Replace(s)
}
