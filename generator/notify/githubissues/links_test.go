package githubissues_test

import (
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/alert"
	"github.com/portfolio-report/portfolio/generator/notify/githubissues"
)

// TestIssueBodyLinksTheDeployment: a deployment_regression's issue links its run and commit.
func TestIssueBodyLinksTheDeployment(t *testing.T) {
	n := notification(alert.NotifyFiring, alert.Delivery{})
	n.Alert.Links = []alert.Link{{Name: "run", URL: "https://github.com/acme/shop/actions/runs/9"}, {Name: "commit", URL: "https://github.com/acme/shop/commit/abc>x"}}
	body := githubissues.IssueBody(n, time.UTC)
	for _, want := range []string{"[run](<https://github.com/acme/shop/actions/runs/9>)", "[commit](<https://github.com/acme/shop/commit/abc%3Ex>)"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s:\n%s", want, body)
		}
	}
}
