package doctor

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/notify"
	"github.com/portfolio-report/portfolio/generator/notify/email"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// checkChannels checks the email, Slack and PagerDuty channels (the GitHub issues channel is
// checked with GitHub). Only the SMTP server is contacted; with SendTest, each channel also
// gets a test message.
func checkChannels(ctx context.Context, o Options) []Check {
	nc := o.Config.NotificationChannels
	if nc.Email == nil && nc.Slack == nil && nc.PagerDuty == nil {
		return []Check{{Name: "channels", Status: Skip, Detail: "no email, Slack or PagerDuty channel configured"}}
	}
	var out []Check
	if ch := nc.Email; ch != nil {
		out = append(out, checkEmail(ctx, o, ch))
	}
	if ch := nc.Slack; ch != nil {
		out = append(out, checkSlack(ctx, o, ch))
	}
	if ch := nc.PagerDuty; ch != nil {
		out = append(out, checkPagerDuty(ctx, o, ch))
	}
	return out
}

// unset is the check of a channel whose secret is missing: the run leaves the channel out.
func unset(name, env, secret string) Check {
	return Check{Name: name, Status: Warn, Detail: env + " is not set: the channel is left out, its alerts go nowhere",
		Fix: "set the repository secret " + secret + " (docs/getting-started.md, \"Alert channels\")"}
}

// testNotification is what --send-test sends: an info alert that says it is a test.
func testNotification(o Options, channel, kind string) alert.Notification {
	a := alert.Alert{Fingerprint: "portfolio-doctor-test-" + o.Now.UTC().Format("20060102T150405"), Product: "portfolio",
		Rule: "doctor test", Severity: alert.Info, Status: "firing", Since: o.Now, FiringSince: o.Now,
		Summary: "A test from portfolio doctor --send-test: this channel works. Nothing is wrong."}
	if kind == alert.NotifyResolved {
		a.Status, a.ResolvedAt = "resolved", o.Now
	}
	return alert.Notification{Channel: channel, Kind: kind, Alert: a, ProductName: "portfolio doctor", At: o.Now}
}

func sendTest(ctx context.Context, o Options, n notify.Notifier, kinds ...string) error {
	n = notify.WithRetry(n, retry.Notify().WithSleep(o.Sleep))
	for _, k := range kinds {
		if _, err := n.Notify(ctx, testNotification(o, n.Name(), k)); err != nil {
			return err
		}
	}
	return nil
}

func checkEmail(ctx context.Context, o Options, ch *config.EmailChannel) Check {
	c := Check{Name: "email"}
	env, smtpURL := o.env(ch.SMTPURLEnv, config.EnvSMTPURL)
	if smtpURL == "" {
		return unset("email", env, "SMTP_URL")
	}
	srv, err := email.ParseSMTPURL(smtpURL)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, env+": "+err.Error(), "set "+env+" to smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465"
		return c
	}
	from := cmpOr(ch.From, "portfolio@"+cmpOr(hostOf(o.Config.Site.BaseURL), "localhost"))
	if err := email.Check(ctx, smtpURL, from, o.SMTPTimeout); err != nil {
		c.Status, c.Detail = Fail, err.Error()
		c.Fix = "check the host, port and credentials in " + env + " (a 535 is a wrong user or password; a refused MAIL FROM wants notification_channels.email.from to be an address the server may send as)"
		return c
	}
	login := "no login"
	if srv.Username != "" {
		login = "login accepted"
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("%s reachable, %s, sender %s accepted; no mail sent", srv.Addr(), login, from)
	if o.SendTest {
		n, err := email.New(email.Config{SMTPURL: smtpURL, From: from, Recipients: ch.Recipients, SiteTitle: o.Config.Site.Title,
			SiteURL: o.Config.Site.BaseURL, Timeout: o.SMTPTimeout}, nil, o.Log)
		if err == nil {
			err = sendTest(ctx, o, n, alert.NotifyFiring)
		}
		if err != nil {
			c.Status, c.Detail, c.Fix = Fail, "the test mail failed: "+err.Error(), "see the error; the recipients are "+strings.Join(ch.Recipients, ", ")
			return c
		}
		c.Detail = fmt.Sprintf("%s reachable, %s; a test mail went to %s", srv.Addr(), login, strings.Join(ch.Recipients, ", "))
	}
	return c
}

// slackPath is the path of an incoming webhook: /services/T…/B…/secret.
var slackPath = regexp.MustCompile(`^/services/[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+$`)

func checkSlack(ctx context.Context, o Options, ch *config.SlackChannel) Check {
	c := Check{Name: "slack"}
	env, hook := o.env(ch.WebhookURLEnv, config.EnvSlackWebhookURL)
	if hook == "" {
		return unset("slack", env, "SLACK_WEBHOOK_URL")
	}
	u, err := url.Parse(hook)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		c.Status, c.Detail = Fail, env+" is not an http(s) URL"
		c.Fix = "set " + env + " to the incoming webhook's URL, https://hooks.slack.com/services/…"
		return c
	case u.Host != "hooks.slack.com" || !slackPath.MatchString(u.Path):
		c.Status, c.Detail = OK, env+" is a well-formed URL at "+u.Host+" (not a hooks.slack.com/services address: fine for a proxy); nothing sent"
	default:
		c.Status, c.Detail = OK, env+" is a well-formed Slack incoming webhook ("+redact.Origin(hook)+"); nothing sent"
	}
	if o.SendTest {
		if err := sendTest(ctx, o, slack.New(slack.Config{WebhookURL: hook}, o.HTTPClient, o.Log), alert.NotifyFiring); err != nil {
			c.Status, c.Detail = Fail, "the test message failed: "+err.Error()
			c.Fix = "a 403 or 404 means the webhook was revoked or its app removed: create a new one (Slack app → Incoming Webhooks) and update " + env
			return c
		}
		c.Detail = env + ": a test message was posted"
	}
	return c
}

// routingKey is an Events API v2 integration key: 32 letters and digits.
var routingKey = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)

func checkPagerDuty(ctx context.Context, o Options, ch *config.PagerDutyChannel) Check {
	c := Check{Name: "pagerduty"}
	env, key := o.env(ch.RoutingKeyEnv, config.EnvPagerDutyRoutingKey)
	if key == "" {
		return unset("pagerduty", env, "PAGERDUTY_ROUTING_KEY")
	}
	if !routingKey.MatchString(key) {
		c.Status, c.Detail = Fail, fmt.Sprintf("%s is not an Events API v2 integration key (want 32 letters and digits, got %d characters)", env, len(key))
		c.Fix = "copy the Integration Key of the service's Events API v2 integration (PagerDuty → Service → Integrations) into " + env
		return c
	}
	events := o.Getenv(config.EnvPagerDutyEventsURL)
	if events != "" {
		if u, err := url.Parse(events); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.Status, c.Detail = Fail, config.EnvPagerDutyEventsURL+" is not an http(s) URL"
			c.Fix = "unset it (the default is " + pagerduty.DefaultEventsURL + ") or set the events endpoint's full URL"
			return c
		}
	}
	c.Status, c.Detail = OK, env+" is a well-formed integration key; nothing sent"
	if o.SendTest {
		n := pagerduty.New(pagerduty.Config{RoutingKey: key, EventsURL: events, SiteTitle: o.Config.Site.Title, SiteURL: o.Config.Site.BaseURL}, o.HTTPClient, o.Log)
		if err := sendTest(ctx, o, n, alert.NotifyFiring, alert.NotifyResolved); err != nil {
			c.Status, c.Detail = Fail, "the test event failed: "+err.Error()
			c.Fix = "a 400 \"invalid routing key\" means the integration was deleted or the key mistyped: copy it again into " + env
			return c
		}
		c.Detail = env + ": a test incident (severity info) was opened and resolved"
	}
	return c
}
