package pagerduty_test

import (
	"testing"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify/pagerduty"
)

// TestEventLinksTheDeployment: a deployment_regression's run and commit are event links.
func TestEventLinksTheDeployment(t *testing.T) {
	n := notification(alert.NotifyFiring)
	n.Alert.Links = []alert.Link{{Name: "run", URL: "https://github.com/acme/shop/actions/runs/9"}, {Name: "commit", URL: "https://github.com/acme/shop/commit/abc"}}
	ev := pagerduty.EventFor(n, pagerduty.Config{})
	if len(ev.Links) != 3 || ev.Links[1].Href != "https://github.com/acme/shop/actions/runs/9" || ev.Links[2].Text != "commit" {
		t.Errorf("links %+v, want the product page, then run and commit", ev.Links)
	}
}
