package pagerduty_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func notification(kind string) alert.Notification {
	a := alert.Alert{Fingerprint: alert.Fingerprint("storefront", alert.RuleUptime, ""), Product: "storefront",
		Rule: alert.RuleUptime, Severity: alert.Critical, Status: alert.Firing, FiringSince: t0,
		Value: 97.5, Threshold: 99.5, Unit: "%", Summary: "uptime over 24 h is 97.5 % (objective 99.5 %)"}
	if kind == alert.NotifyResolved {
		a.Status, a.ResolvedAt = alert.Resolved, t0.Add(time.Hour)
	}
	return alert.Notification{Channel: alert.ChannelPagerDuty, Kind: kind, Alert: a, ProductName: "Storefront",
		ProductURL: "https://status.example.com/products/storefront/", At: t0}
}

func newNotifier(pd *fake.PagerDuty, key string) *pagerduty.Notifier {
	return pagerduty.New(pagerduty.Config{RoutingKey: key, EventsURL: pd.URL, SiteTitle: "Acme portfolio",
		SiteURL: "https://status.example.com"}, nil, nil)
}

func TestTriggerPayload(t *testing.T) {
	pd := fake.NewPagerDuty(t)
	n := notification(alert.NotifyFiring)
	r, err := newNotifier(pd, pd.RoutingKey).Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if r.DedupKey != n.Alert.Fingerprint {
		t.Errorf("receipt dedup key %q, want the fingerprint", r.DedupKey)
	}
	ev := pd.Events()[0]
	p := ev.Payload
	checks := map[string][2]string{
		"event_action": {ev.EventAction, "trigger"},
		"dedup_key":    {ev.DedupKey, n.Alert.Fingerprint},
		"summary":      {p.Summary, "[critical] Storefront: uptime over 24 h is 97.5 % (objective 99.5 %)"},
		"source":       {p.Source, "storefront"},
		"severity":     {p.Severity, "critical"},
		"timestamp":    {p.Timestamp, "2026-06-30T12:00:00Z"},
		"class":        {p.Class, alert.RuleUptime},
		"client":       {ev.Client, "Acme portfolio"},
		"link":         {ev.Links[0].Href, "https://status.example.com/products/storefront/"},
		"details.unit": {p.CustomDetails["unit"].(string), "%"},
	}
	for field, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", field, c[0], c[1])
		}
	}
	if v := p.CustomDetails["value"].(float64); v != 97.5 {
		t.Errorf("details.value = %v", v)
	}
}

func TestRepeatMergesAndResolveCloses(t *testing.T) {
	pd := fake.NewPagerDuty(t)
	pn := newNotifier(pd, pd.RoutingKey)
	for _, kind := range []string{alert.NotifyFiring, alert.NotifyFiring, alert.NotifyRepeat} {
		if _, err := pn.Notify(context.Background(), notification(kind)); err != nil {
			t.Fatal(err)
		}
	}
	fp := notification("").Alert.Fingerprint
	if got := pd.Incident(fp); got != "triggered" {
		t.Fatalf("incident %q, want one triggered incident", got)
	}
	if _, err := pn.Notify(context.Background(), notification(alert.NotifyResolved)); err != nil {
		t.Fatal(err)
	}
	if got := pd.Incident(fp); got != "resolved" {
		t.Errorf("incident %q, want resolved", got)
	}
	evs := pd.Events()
	last := evs[len(evs)-1]
	if last.EventAction != "resolve" || last.Payload != nil || last.DedupKey != fp {
		t.Errorf("resolve event %s", last.Raw)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name          string
		key           string
		fault         *fake.InjectedFault
		wantText      string
		wantRetryable bool
	}{
		{name: "a bad routing key is final", key: "short-SECRET-key", wantText: "400", wantRetryable: false},
		{name: "throttled is retried", fault: &fake.InjectedFault{Status: 429, RetryAfter: "3"}, wantText: "429", wantRetryable: true},
		{name: "a 5xx is retried", fault: &fake.InjectedFault{Status: 502}, wantText: "502", wantRetryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pd := fake.NewPagerDuty(t)
			if tt.fault != nil {
				pd.Inject(*tt.fault)
			}
			key := tt.key
			if key == "" {
				key = pd.RoutingKey
			}
			_, err := newNotifier(pd, key).Notify(context.Background(), notification(alert.NotifyFiring))
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %v, want %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error leaks the routing key: %v", err)
			}
			if _, ok := retry.IsRetryable(err); ok != tt.wantRetryable {
				t.Errorf("retryable %v, want %v: %v", ok, tt.wantRetryable, err)
			}
		})
	}
}
