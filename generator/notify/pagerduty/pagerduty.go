// Package pagerduty sends alert notifications as PagerDuty Events API v2 events: trigger while
// firing, resolve on recovery, with dedup_key = the alert's fingerprint so a resend is merged.
//
// The POST is hand-written: go-pagerduty's ManageEvent has a hard-coded URL and no timeout, and
// pulls in heavy dependencies for one JSON request. The API as used is in docs/alerting.md.
package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/notify"
)

// DefaultEventsURL is the Events API v2 endpoint.
const DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

// Config configures the PagerDuty channel.
type Config struct {
	RoutingKey string // integration key (a secret: never logged)
	EventsURL  string // default DefaultEventsURL (PAGERDUTY_EVENTS_URL)
	SiteTitle  string // the event's client name
	SiteURL    string // the event's client_url
}

// Notifier sends events for one routing key.
type Notifier struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns the PagerDuty notifier. A nil client gets one with a 15-second timeout.
func New(cfg Config, client *http.Client, log *slog.Logger) *Notifier {
	if cfg.EventsURL == "" {
		cfg.EventsURL = DefaultEventsURL
	}
	client = httpclient.Wrap(client, 15*time.Second)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, client: client, log: log}
}

// Name is the channel name.
func (p *Notifier) Name() string { return alert.ChannelPagerDuty }

// Event is an Events API v2 request body.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"` // trigger | resolve
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"` // trigger only
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload describes a triggered alert.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical | error | warning | info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Answer is the API's reply.
type Answer struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key"`
	Errors   []string `json:"errors"`
}

// EventFor builds the event of a notification: firing and repeat trigger (a repeat merges
// into the open incident), resolved resolves.
func EventFor(n alert.Notification, cfg Config) Event {
	a := n.Alert
	ev := Event{RoutingKey: cfg.RoutingKey, EventAction: "trigger", DedupKey: a.Fingerprint,
		Client: cfg.SiteTitle, ClientURL: cfg.SiteURL}
	if ev.Client == "" {
		ev.Client = "portfolio"
	}
	if n.ProductURL != "" {
		ev.Links = append(ev.Links, Link{Href: n.ProductURL, Text: n.ProductName + " on the portfolio site"})
	}
	if a.IssueURL != "" {
		ev.Links = append(ev.Links, Link{Href: a.IssueURL, Text: "GitHub issue"})
	}
	for _, l := range a.Links {
		ev.Links = append(ev.Links, Link{Href: l.URL, Text: l.Name})
	}
	if n.Kind == alert.NotifyResolved {
		ev.EventAction = "resolve"
		return ev
	}
	summary := fmt.Sprintf("[%s] %s: %s", a.Severity, n.ProductName, a.Summary)
	if r := []rune(summary); len(r) > 1024 {
		summary = string(r[:1023]) + "…"
	}
	details := map[string]any{
		"fingerprint": a.Fingerprint, "rule": a.Rule, "value": a.Value, "threshold": a.Threshold,
		"unit": a.Unit, "firing_since": a.FiringSince.UTC().Format(time.RFC3339),
	}
	if a.Subject != "" {
		details["subject"] = a.Subject
	}
	ev.Payload = &Payload{Summary: summary, Source: a.Product, Severity: severity(a.Severity),
		Timestamp: a.FiringSince.UTC().Format(time.RFC3339), Component: a.Product, Group: a.Product,
		Class: a.Rule, CustomDetails: details}
	return ev
}

func severity(s string) string {
	switch s {
	case alert.Critical, alert.Warning, alert.Info:
		return s
	}
	return "error"
}

// Notify posts the event. 202 is success; 400 is final (the event is malformed); 429 and 5xx
// are retryable.
func (p *Notifier) Notify(ctx context.Context, n alert.Notification) (notify.Receipt, error) {
	body, err := json.Marshal(EventFor(n, p.cfg))
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("pagerduty: encode event: %w", err)
	}
	resp, err := notify.PostJSON(ctx, p.client, p.cfg.EventsURL, body)
	if err != nil {
		return notify.Receipt{}, fmt.Errorf("pagerduty: %w", err)
	}
	if resp.Status/100 != 2 {
		return notify.Receipt{}, notify.StatusError("pagerduty: events API", resp)
	}
	var ans Answer
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		// The event was accepted; a garbled answer loses only the echoed key.
		p.log.Warn("pagerduty: unreadable answer to an accepted event", "err", err)
	}
	key := ans.DedupKey
	if key == "" {
		key = n.Alert.Fingerprint
	}
	return notify.Receipt{DedupKey: key}, nil
}
