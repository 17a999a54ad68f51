package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify/slack"
)

// TestMessageLinksTheDeployment: a deployment_regression names its run and commit as links.
func TestMessageLinksTheDeployment(t *testing.T) {
	n := notification(alert.NotifyFiring)
	n.Alert.Links = []alert.Link{{Name: "run", URL: "https://github.com/acme/shop/actions/runs/9"}, {Name: "commit", URL: "https://github.com/acme/shop/commit/abc|d"}}
	raw, err := json.Marshal(slack.Message(n, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	// The blocks marshal themselves, escaping < and > as JSON may: read them as Slack does.
	b := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">").Replace(string(raw))
	for _, want := range []string{"<https://github.com/acme/shop/actions/runs/9|run>", "<https://github.com/acme/shop/commit/abc%7Cd|commit>"} {
		if !strings.Contains(b, want) {
			t.Errorf("message lacks %s:\n%s", want, b)
		}
	}
}
