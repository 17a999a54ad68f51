package contract

import "testing"

func TestDescriptionsLoad(t *testing.T) {
	for _, name := range []string{CloudflareV4, CloudflarePagesUpload, GitHub, PostHog, PagerDuty, Slack} {
		s, err := LoadSpec(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(s.Operations()) == 0 {
			t.Errorf("%s describes no operation", name)
		}
	}
	if _, err := LoadGraphQL(CloudflareGraphQL); err != nil {
		t.Error(err)
	}
}
