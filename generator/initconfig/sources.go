package initconfig

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
)

// readZones lists the zones the Cloudflare token can read, or says why none are.
func readZones(ctx context.Context, o Options) ([]cloudflare.Zone, string) {
	if o.Cloudflare == nil {
		return nil, "Cloudflare: " + o.CloudflareSkip + ": no zones guessed"
	}
	zones, err := o.Cloudflare.Zones(ctx, o.CloudflareAccount)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("Cloudflare: could not list the zones (%v): no zones guessed", err)
	case len(zones) == 0:
		return nil, "Cloudflare: the token sees no zones (it needs Zone: Zone Read on them): no zones guessed"
	}
	return zones, ""
}

// readHosts lists the hosts PostHog saw in HostWindow, or says why none are.
func readHosts(ctx context.Context, o Options) ([]posthog.HostEvents, string) {
	if o.PostHog == nil {
		return nil, "PostHog: " + o.PostHogSkip + ": no hosts guessed"
	}
	hosts, err := o.PostHog.Hosts(ctx, HostWindow)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("PostHog: could not read the hosts (%v): no hosts guessed", err)
	case len(hosts) == 0:
		return nil, fmt.Sprintf("PostHog: no events with a $host in the last %d days: no hosts guessed", int(HostWindow.Hours()/24))
	}
	return hosts, ""
}

// guessZone finds the zone that holds host: the zone of that name, else the one with the
// longest name the host ends in.
func (g *productGuess) guessZone(host string, zones []cloudflare.Zone) {
	if zones == nil {
		return
	}
	best := -1
	for i, z := range zones {
		name := strings.ToLower(z.Name)
		if (host == name || strings.HasSuffix(host, "."+name)) && (best < 0 || len(name) > len(zones[best].Name)) {
			best = i
		}
	}
	if best < 0 {
		g.say("cloudflare.zone_id", "no zone the token sees holds %s: not behind Cloudflare, or in another account", host)
		return
	}
	z := zones[best]
	g.doc.Cloudflare = &Cloudflare{ZoneID: z.ID, Hostname: host}
	why := fmt.Sprintf("zone %s holds %s", z.Name, host)
	if z.Status != "active" {
		why += fmt.Sprintf(" (the zone is %s: its analytics start once it is active)", z.Status)
	}
	g.say("cloudflare.zone_id", "%s", why)
}

// guessHost sets posthog.host when PostHog saw events from host, and says whether it did.
func (g *productGuess) guessHost(host string, hosts []posthog.HostEvents) bool {
	if hosts == nil {
		return false
	}
	i := slices.IndexFunc(hosts, func(h posthog.HostEvents) bool { return strings.EqualFold(h.Host, host) })
	days := int(HostWindow.Hours() / 24)
	if i < 0 {
		g.say("posthog.host", "PostHog saw no events from %s in the last %d days: analytics left out", host, days)
		return false
	}
	g.doc.PostHog = &PostHog{Host: host}
	g.say("posthog.host", "PostHog saw %s from %s in the last %d days", plural(int(hosts[i].Events), "event", "events"), host, days)
	return true
}

// unclaimedHosts names the busiest hosts PostHog saw that no product claims.
func unclaimedHosts(hosts []posthog.HostEvents, claimed map[string]bool) string {
	var rest []string
	for _, h := range hosts {
		if !claimed[strings.ToLower(h.Host)] {
			rest = append(rest, fmt.Sprintf("%s (%d events)", h.Host, h.Events))
		}
	}
	if len(rest) == 0 {
		return ""
	}
	more := ""
	if len(rest) > 5 {
		more = fmt.Sprintf(" and %d more", len(rest)-5)
		rest = rest[:5]
	}
	return fmt.Sprintf("PostHog also saw %s%s: set a product's posthog.host to report one", strings.Join(rest, ", "), more)
}
