package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
)

// hostWindow is how far back a configured PostHog host must have events.
const hostWindow = 7 * 24 * time.Hour

// checkPostHog runs the hosts query once: it shows the key and the project are good (it needs
// the same query:read scope as the daily figures), and whether each configured host had events.
func checkPostHog(ctx context.Context, o Options) []Check {
	var hosts []string
	var byProduct []string
	for _, p := range o.Config.Products {
		switch {
		case p.PostHog.Host != "":
			hosts = append(hosts, p.PostHog.Host)
		case p.PostHog.Product != "":
			byProduct = append(byProduct, p.ID)
		}
	}
	if len(hosts) == 0 && len(byProduct) == 0 {
		return []Check{{Name: "posthog", Status: Skip, Detail: "no product names a posthog.host or posthog.product"}}
	}
	src := posthog.New(posthog.Options{
		Host: o.Getenv(config.EnvPostHogHost), PersonalKey: o.Getenv(config.EnvPostHogPersonalKey), ProjectID: o.Getenv(config.EnvPostHogProjectID),
		Now: func() time.Time { return o.Now }, Sleep: o.Sleep,
	}, o.HTTPClient, o.Log)
	c := Check{Name: "posthog"}
	if m := src.Missing(); len(m) > 0 {
		c.Status, c.Detail = Warn, strings.Join(m, ", ")+" not set: product analytics are not collected"
		c.Fix = "create a personal API key with the Query Read scope (docs/getting-started.md, \"PostHog\") and set the repository secrets POSTHOG_HOST, POSTHOG_PERSONAL_API_KEY and POSTHOG_PROJECT_ID"
		return []Check{c}
	}
	seen, err := src.Hosts(ctx, hostWindow)
	var ae *posthog.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		c.Status, c.Detail = Fail, "PostHog does not accept the personal API key ("+err.Error()+")"
		c.Fix = "create a personal API key (PostHog → Settings → Personal API keys) and update POSTHOG_PERSONAL_API_KEY; a project API key (phc_…) cannot read"
		return []Check{c}
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		c.Status, c.Detail = Fail, "the key may not query project "+o.Getenv(config.EnvPostHogProjectID)+" ("+err.Error()+")"
		c.Fix = "give the key the Query Read scope and access to this project, or fix POSTHOG_PROJECT_ID (PostHog → Project settings)"
		return []Check{c}
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		c.Status, c.Detail = Fail, "no query API at POSTHOG_HOST ("+err.Error()+")"
		c.Fix = "set POSTHOG_HOST to your PostHog app's address: https://us.posthog.com or https://eu.posthog.com (not the i. ingestion host), or your own"
		return []Check{c}
	case err != nil:
		c.Status, c.Detail, c.Fix = Fail, err.Error(), "check POSTHOG_HOST and the network"
		return []Check{c}
	}
	c.Status = OK
	c.Detail = fmt.Sprintf("key valid, project %s readable; %s with events in the last 7 days", o.Getenv(config.EnvPostHogProjectID), plural(len(seen), "host", "hosts"))
	out := []Check{c}
	count := map[string]int64{}
	for _, h := range seen {
		count[strings.ToLower(h.Host)] = h.Events
	}
	for _, p := range o.Config.Products {
		if p.PostHog.Host == "" {
			continue
		}
		hc := Check{Name: "posthog host " + p.PostHog.Host}
		if n := count[strings.ToLower(p.PostHog.Host)]; n > 0 {
			hc.Status, hc.Detail = OK, fmt.Sprintf("%s in the last 7 days (product %s)", plural(int(n), "event", "events"), p.ID)
		} else {
			hc.Status = Warn
			hc.Detail = fmt.Sprintf("no events from %s in the last 7 days: product %s's analytics will be zero", p.PostHog.Host, p.ID)
			hc.Fix = "check posthog.host against the $host PostHog records" + busiest(seen)
		}
		out = append(out, hc)
	}
	return out
}

func busiest(seen []posthog.HostEvents) string {
	if len(seen) == 0 {
		return " (it saw no host at all: is the snippet installed?)"
	}
	var names []string
	for _, h := range seen[:min(len(seen), 5)] {
		names = append(names, h.Host)
	}
	return " (busiest: " + strings.Join(names, ", ") + ")"
}
