package contract_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func alertNote(channel, kind string) alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleUptime, ""), Product: "storefront",
		Rule: alert.RuleUptime, Severity: alert.Critical, Status: alert.Firing, Since: now, FiringSince: now,
		Value: 97.5, Threshold: 99.5, Unit: "%", Summary: "uptime over 24 h is 97.5 % (objective 99.5 %) <b>&</b> @here"}
	if kind == alert.NotifyResolved {
		a.Status, a.ResolvedAt = alert.Resolved, now.Add(time.Hour)
	}
	return alert.Notification{Channel: channel, Kind: kind, Alert: a, ProductName: "Storefront",
		ProductURL: "https://status.example.com/products/storefront/", At: now}
}

// TestSlackContract posts a firing and a resolved alert, and one that Slack refuses.
func TestSlackContract(t *testing.T) {
	s := fake.NewSlack(t)
	rec := contract.NewRecorder(s.Server.Client().Transport)
	n := slack.New(slack.Config{WebhookURL: s.URL}, rec.Client(), nil)
	for _, kind := range []string{alert.NotifyFiring, alert.NotifyResolved} {
		if _, err := n.Notify(context.Background(), alertNote(alert.ChannelSlack, kind)); err != nil {
			t.Fatal(err)
		}
	}
	gone := slack.New(slack.Config{WebhookURL: strings.Replace(s.URL, "/services/T0001/", "/services/T0002/", 1)}, rec.Client(), nil)
	if _, err := gone.Notify(context.Background(), alertNote(alert.ChannelSlack, alert.NotifyFiring)); err == nil {
		t.Error("a webhook Slack does not know was accepted")
	}
	base := strings.TrimSuffix(s.URL, "/services/T0001/B0001/"+s.Secret)
	r := contract.Checker{APIs: []contract.API{{Name: "slack", Base: base, Specs: []string{contract.Slack}}}, Known: knownDivergences}.Check(t, rec.Exchanges())
	if r.Exchanges != 3 {
		t.Errorf("%d exchanges, want 3", r.Exchanges)
	}
}

// TestPagerDutyContract triggers and resolves an incident, and sends one PagerDuty refuses.
func TestPagerDutyContract(t *testing.T) {
	pd := fake.NewPagerDuty(t)
	rec := contract.NewRecorder(pd.Server.Client().Transport)
	n := pagerduty.New(pagerduty.Config{RoutingKey: pd.RoutingKey, EventsURL: pd.URL, SiteTitle: "Acme portfolio",
		SiteURL: "https://status.example.com"}, rec.Client(), nil)
	for _, kind := range []string{alert.NotifyFiring, alert.NotifyRepeat, alert.NotifyResolved} {
		if _, err := n.Notify(context.Background(), alertNote(alert.ChannelPagerDuty, kind)); err != nil {
			t.Fatal(err)
		}
	}
	bad := pagerduty.New(pagerduty.Config{RoutingKey: "short", EventsURL: pd.URL}, rec.Client(), nil)
	if _, err := bad.Notify(context.Background(), alertNote(alert.ChannelPagerDuty, alert.NotifyFiring)); err == nil {
		t.Error("a routing key of the wrong length was accepted")
	}
	base := strings.TrimSuffix(pd.URL, "/enqueue")
	r := contract.Checker{APIs: []contract.API{{Name: "pagerduty", Base: base, Specs: []string{contract.PagerDuty}}}, Known: knownDivergences}.Check(t, rec.Exchanges())
	if r.Exchanges != 4 {
		t.Errorf("%d exchanges, want 4", r.Exchanges)
	}
}

// TestPostHogContract reads a product's analytics with the HogQL query API and sends events
// and a deployment annotation.
func TestPostHogContract(t *testing.T) {
	f := fake.NewPostHog(t)
	rec := contract.NewRecorder(f.Server.Client().Transport)
	opt := posthog.Options{Host: f.URL, PersonalKey: f.PersonalKey, ProjectID: f.ProjectID, ProjectKey: f.ProjectKey,
		Now: func() time.Time { return now }, Sleep: noSleep}
	f.SetDay("shop.example.com", "2026-06-30", fake.PostHogDay{DAU: 12, Pageviews: 80, Events: map[string]int64{"checkout completed": 3}})
	p := config.Product{ID: "shop", PostHog: config.PostHog{Host: "shop.example.com", KeyEvents: []string{"checkout completed"}}}
	if _, err := posthog.New(opt, rec.Client(), nil).Collect(context.Background(), p, time.Time{}); err != nil {
		t.Fatal(err)
	}
	s := posthog.NewSender(opt, store.Open(t.TempDir()), rec.Client(), nil)
	ev := posthog.DeploymentEvent("shop", record.Deployment{ID: "run:1", SHA: "abcdef1234", Time: now.Add(-time.Hour), Outcome: "success"})
	if err := s.Send(context.Background(), []posthog.Event{ev}); err != nil {
		t.Fatal(err)
	}
	r := contract.Checker{APIs: []contract.API{posthogAPI(f.URL)}, Known: knownDivergences}.Check(t, rec.Exchanges())
	for _, op := range []string{"POST /api/projects/{project_id}/query/", "GET /api/projects/{project_id}/annotations/",
		"POST /api/projects/{project_id}/annotations/", "POST /batch/"} {
		if r.Operations["posthog "+op] == 0 {
			t.Errorf("no %s was validated", op)
		}
	}
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}

func posthogAPI(base string) contract.API {
	return contract.API{Name: "posthog", Base: base, Specs: []string{contract.PostHog, contract.PostHogAnnotations, contract.PostHogCapture}}
}
