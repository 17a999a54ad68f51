// Package slack posts alert notifications to a Slack incoming webhook as Block Kit messages.
//
// The blocks are built with slack-go's types; the POST is ours (notify.PostJSON) because
// slack-go's PostWebhook discards Slack's error text ("invalid_blocks", "no_text", …) and
// counts any 200 as success, and its default client has no timeout.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/notify"
)

// Config configures the Slack channel.
type Config struct {
	// WebhookURL is the incoming webhook (a secret: never logged, never in an error).
	WebhookURL string
	// Location is the time zone of the times in messages (default UTC).
	Location *time.Location
}

// Notifier posts to one webhook.
type Notifier struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns the Slack notifier. A nil client gets one with a 15-second timeout.
func New(cfg Config, client *http.Client, log *slog.Logger) *Notifier {
	client = httpclient.Wrap(client, 15*time.Second)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Notifier{cfg: cfg, client: client, log: log}
}

// Name is the channel name.
func (s *Notifier) Name() string { return alert.ChannelSlack }

// Notify posts the message. Slack answers 200 "ok"; anything else is an error carrying
// Slack's text, retryable for 429 (with Retry-After) and 5xx.
func (s *Notifier) Notify(ctx context.Context, n alert.Notification) (notify.Receipt, error) {
	if err := s.Post(ctx, Message(n, s.cfg.Location)); err != nil {
		return notify.Receipt{}, err
	}
	s.log.Debug("slack message posted", "fingerprint", n.Alert.Fingerprint, "kind", n.Kind)
	return notify.Receipt{}, nil
}

// Post posts any message to the webhook (the weekly digest uses it too), with Notify's errors.
func (s *Notifier) Post(ctx context.Context, msg goslack.WebhookMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("slack: encode message: %w", err)
	}
	resp, err := notify.PostJSON(ctx, s.client, s.cfg.WebhookURL, body)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	text := strings.TrimSpace(string(resp.Body))
	if resp.Status/100 != 2 || (text != "ok" && text != "") {
		return notify.StatusError("slack: webhook", resp)
	}
	return nil
}

// Colours of the attachment bar.
const (
	ColourCritical = "#D92D20"
	ColourWarning  = "#F79009"
	ColourInfo     = "#2E90FA"
	ColourResolved = "#36A64F"
)

// Colour is the bar colour of a notification: green once resolved, else by severity.
func Colour(n alert.Notification) string {
	if n.Kind == alert.NotifyResolved {
		return ColourResolved
	}
	switch n.Alert.Severity {
	case alert.Critical:
		return ColourCritical
	case alert.Warning:
		return ColourWarning
	}
	return ColourInfo
}

// Message builds the webhook payload: a fallback text and one coloured attachment holding the
// blocks (a block message has no colour of its own).
func Message(n alert.Notification, loc *time.Location) goslack.WebhookMessage {
	a := n.Alert
	title := Title(n)
	blocks := []goslack.Block{
		goslack.NewHeaderBlock(goslack.NewTextBlockObject(goslack.PlainTextType, cut(title, 150), true, false)),
		goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType, cut(escape(a.Summary), 3000), false, false), nil, nil),
	}
	fields := []*goslack.TextBlockObject{
		field("Value", a.ValueText()),
		field("Threshold", a.ThresholdText()),
		field(sinceLabel(n), when(sinceTime(n), n.At, loc)),
		field("Rule", a.RuleName()),
	}
	blocks = append(blocks, goslack.NewSectionBlock(nil, fields, nil))
	var links []string
	if n.ProductURL != "" {
		links = append(links, link(n.ProductURL, "Product page"))
	}
	if a.IssueURL != "" {
		links = append(links, link(a.IssueURL, "GitHub issue"))
	}
	for _, l := range a.Links {
		links = append(links, link(l.URL, escape(l.Name)))
	}
	ctx := "fingerprint `" + a.Fingerprint + "`"
	if len(links) > 0 {
		ctx = strings.Join(links, " · ") + " · " + ctx
	}
	blocks = append(blocks, goslack.NewContextBlock("", goslack.NewTextBlockObject(goslack.MarkdownType, ctx, false, false)))
	return goslack.WebhookMessage{
		Text: escape(title),
		Attachments: []goslack.Attachment{{
			Color:    Colour(n),
			Fallback: escape(title + ": " + a.Summary),
			Blocks:   goslack.Blocks{BlockSet: blocks},
		}},
	}
}

// Title is the one-line headline: state, severity, product and rule.
func Title(n alert.Notification) string {
	state := "FIRING"
	switch n.Kind {
	case alert.NotifyResolved:
		state = "RESOLVED"
	case alert.NotifyRepeat:
		state = "STILL FIRING"
	}
	return fmt.Sprintf("%s %s [%s] %s: %s", icon(n), state, n.Alert.Severity, n.ProductName, n.Alert.RuleName())
}

func icon(n alert.Notification) string {
	if n.Kind == alert.NotifyResolved {
		return "✅"
	}
	switch n.Alert.Severity {
	case alert.Critical:
		return "🔴"
	case alert.Warning:
		return "🟠"
	}
	return "🔵"
}

func sinceLabel(n alert.Notification) string {
	if n.Kind == alert.NotifyResolved {
		return "Resolved"
	}
	return "Firing since"
}

func sinceTime(n alert.Notification) time.Time {
	if n.Kind == alert.NotifyResolved {
		return n.Alert.ResolvedAt
	}
	return n.Alert.FiringSince
}

func when(t, now time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	s := t.In(loc).Format("2006-01-02 15:04 MST")
	if d := now.Sub(t).Round(time.Minute); d > 0 {
		s += " (" + strings.TrimSuffix(d.String(), "0s") + " ago)"
	}
	return s
}

func field(name, value string) *goslack.TextBlockObject {
	return goslack.NewTextBlockObject(goslack.MarkdownType, "*"+name+"*\n"+cut(escape(value), 1900), false, false)
}

// escape makes text safe inside mrkdwn: Slack reads &, < and > as control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// link is a mrkdwn link; the URL is ours (site base URL, GitHub html_url), the label fixed.
func link(u, label string) string {
	return "<" + strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C").Replace(u) + "|" + label + ">"
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
