package run

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/notify/email"
	"github.com/portfolio-report/portfolio/generator/notify/githubissues"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// The channel registry: the configured notifiers built from portfolio.json and the environment,
// kept out of the channels themselves (an integration never imports a sibling). A channel whose
// secret is not set is disabled, with the reason, and never blocks the others.

// ChannelSet is the result of Channels.
type ChannelSet struct {
	// Notifiers can send, sorted by name; each is wrapped in notify.WithRetry.
	Notifiers []notify.Notifier
	// Disabled maps a configured channel that cannot send to the reason.
	Disabled map[string]string
}

// Senders returns the notifiers as alert.Options wants them.
func (s ChannelSet) Senders() []alert.Sender {
	out := make([]alert.Sender, len(s.Notifiers))
	for i, n := range s.Notifiers {
		out[i] = n
	}
	return out
}

// ChannelOptions tune Channels.
type ChannelOptions struct {
	Getenv func(string) string
	// Client is the HTTP client of the HTTP channels (nil: each channel's default with a timeout).
	Client *http.Client
	// Retry is every channel's retry policy; zero Attempts: retry.Notify() with Retry's Sleep.
	Retry  retry.Policy
	Logger *slog.Logger
}

// Channels builds the channels of cfg.NotificationChannels (defaults applied).
func Channels(cfg *config.Config, o ChannelOptions) ChannelSet {
	set := ChannelSet{Disabled: map[string]string{}}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	policy := o.Retry
	if policy.Attempts == 0 {
		policy = retry.Notify().WithSleep(o.Retry.Sleep)
	}
	add := func(n notify.Notifier) { set.Notifiers = append(set.Notifiers, notify.WithRetry(n, policy)) }
	loc := cfg.Site.Location()
	nc := cfg.NotificationChannels

	if ch := nc.Email; ch != nil {
		smtpURL := o.Getenv(ch.SMTPURLEnv)
		from := ch.From
		if from == "" {
			from = "portfolio@" + siteHost(cfg.Site.BaseURL)
		}
		switch {
		case smtpURL == "":
			set.Disabled[alert.ChannelEmail] = ch.SMTPURLEnv + " is not set"
		default:
			n, err := email.New(email.Config{SMTPURL: smtpURL, From: from, Recipients: ch.Recipients,
				SiteTitle: cfg.Site.Title, SiteURL: cfg.Site.BaseURL, Location: loc}, o.Client, log)
			if err != nil {
				set.Disabled[alert.ChannelEmail] = ch.SMTPURLEnv + ": " + err.Error()
			} else {
				add(n)
			}
		}
	}
	if ch := nc.GitHubIssues; ch != nil {
		token := o.Getenv(ch.TokenEnv)
		if token == "" {
			set.Disabled[alert.ChannelGitHubIssues] = ch.TokenEnv + " is not set"
		} else {
			n, err := githubissues.New(githubissues.Config{Repository: ch.Repository, Labels: ch.Labels, Token: token,
				BaseURL: o.Getenv(config.EnvGitHubAPIURL), Location: loc}, o.Client, log)
			if err != nil {
				set.Disabled[alert.ChannelGitHubIssues] = err.Error()
			} else {
				add(n)
			}
		}
	}
	if ch := nc.PagerDuty; ch != nil {
		key := o.Getenv(ch.RoutingKeyEnv)
		if key == "" {
			set.Disabled[alert.ChannelPagerDuty] = ch.RoutingKeyEnv + " is not set"
		} else {
			add(pagerduty.New(pagerduty.Config{RoutingKey: key, EventsURL: o.Getenv(config.EnvPagerDutyEventsURL),
				SiteTitle: cfg.Site.Title, SiteURL: cfg.Site.BaseURL}, o.Client, log))
		}
	}
	if ch := nc.Slack; ch != nil {
		hook := o.Getenv(ch.WebhookURLEnv)
		if hook == "" {
			set.Disabled[alert.ChannelSlack] = ch.WebhookURLEnv + " is not set"
		} else {
			add(slack.New(slack.Config{WebhookURL: hook, Location: loc}, o.Client, log))
		}
	}
	return set
}

func siteHost(base string) string {
	if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "localhost"
}
