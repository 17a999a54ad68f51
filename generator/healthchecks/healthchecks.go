// Package healthchecks keeps each product's Cloudflare Health Check and its notification policy
// in step with portfolio.json, the way Terraform would: Desired builds the wanted objects from
// the config, Client reads what Cloudflare has, Compute diffs the two into a Plan (pure), and
// Apply carries a plan out one call at a time, stopping at the first failure.
//
// Only objects this program manages are ever changed or deleted. A health check or policy is
// managed when its description carries the marker (see Marker); the Slack webhook destination
// is managed when its name starts with WebhookName. Everything else in the zone or account is
// left alone.
package healthchecks

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
)

// Name is the name of the product's managed health check (and of its notification policy).
// The Cloudflare source finds a product's health check by this name.
func Name(productID string) string { return cloudflare.HealthcheckName(productID) }

// WebhookName starts the name of the managed Cloudflare webhook destination that posts to
// Slack; WebhookNameFor completes it.
const WebhookName = "portfolio-slack"

// WebhookNameFor is the name of the destination that posts to slackURL: WebhookName and the
// first 12 hex digits of the URL's SHA-256. Cloudflare never returns a destination's secret,
// and whether it returns a Slack URL unmasked is not documented, so the plan compares the
// name, which it does return: a rotated URL has another name. The digest tells nothing of the
// URL (its secret path is ~140 random bits).
func WebhookNameFor(slackURL string) string {
	sum := sha256.Sum256([]byte(slackURL))
	return WebhookName + " " + hex.EncodeToString(sum[:6])
}

// isWebhookName says whether a destination's name is a managed one: WebhookName alone (made
// before the name carried the digest) or with a digest.
func isWebhookName(name string) bool {
	return name == WebhookName || strings.HasPrefix(name, WebhookName+" ")
}

// AlertType is the Cloudflare Notifications alert type for health check status changes
// (cloudflare-go's newer SDK: AaaPoliciesAlertTypeHealthCheckStatusNotification).
const AlertType = "health_check_status_notification"

// Defaults of a managed health check; portfolio.json's products[].healthcheck overrides them.
const (
	DefaultInterval = 60 // seconds
	DefaultRetries  = 2
	DefaultTimeout  = 5 // seconds
	DefaultMethod   = "GET"
)

// DefaultExpectedCodes and DefaultCheckRegions are returned fresh so callers cannot change them.
func DefaultExpectedCodes() []string { return []string{"200"} }

// DefaultCheckRegions are Western Europe and Eastern North America.
func DefaultCheckRegions() []string { return []string{"ENAM", "WEU"} }

// markerPrefix starts every managed description; Marker adds the product (and for a policy,
// the zone, so a policy whose product is gone still names the zone its check lives in).
const markerPrefix = "managed by portfolio"

// Marker is the description of a managed health check (zone == "") or notification policy.
func Marker(productID, zone string) string {
	if zone == "" {
		return fmt.Sprintf("%s (product %s); do not edit", markerPrefix, productID)
	}
	return fmt.Sprintf("%s (product %s, zone %s); do not edit", markerPrefix, productID, zone)
}

var markerRE = regexp.MustCompile(`managed by portfolio \(product ([a-z0-9]+(?:-[a-z0-9]+)*)(?:, zone ([0-9A-Za-z]+))?\)`)

// parseMarker returns the product (and zone) a managed description names, or ok false when the
// description does not carry the marker.
func parseMarker(desc string) (product, zone string, ok bool) {
	m := markerRE.FindStringSubmatch(desc)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Check is the wanted state of one product's health check: the fields this program manages.
type Check struct {
	Product         string
	Zone            string
	Name            string
	Description     string
	Address         string
	Type            string // HTTP or HTTPS
	Suspended       bool
	Interval        int
	Retries         int
	Timeout         int
	CheckRegions    []string // sorted
	Method          string
	Port            int
	Path            string
	ExpectedCodes   []string // sorted
	FollowRedirects bool
}

// Policy is the wanted state of one product's notification policy. The health check id is
// known only once the check exists, so it is not part of it.
type Policy struct {
	Product     string
	Zone        string
	Name        string
	Description string
	Emails      []string // sorted
	// Webhook says whether the policy posts to the managed Slack destination; KeepWebhooks
	// says the Slack URL is unknown here (its env var is unset), so whatever webhooks an
	// existing policy has are kept and not reported as drift.
	Webhook      bool
	KeepWebhooks bool
}

// Desired is the whole wanted state.
type Desired struct {
	Checks   []Check  // sorted by product
	Policies []Policy // sorted by product
	// Zones are every zone to read: each product's zone, whether or not it wants a check, so a
	// managed check of a product whose health check was disabled is found and deleted.
	Zones []string
	// Slack is the wanted webhook destination's URL (a secret; never print it); empty when
	// there is none. SlackEnv names its env var for messages. ManageWebhook is false when the
	// config has a Slack channel but the env var is unset: existing destinations are kept.
	Slack         string
	SlackEnv      string
	ManageWebhook bool
	// Skipped says, per product, why it gets no health check (sorted by product).
	Skipped []Skip
	// Warnings are things the user should know, not errors.
	Warnings []string
}

// Skip is a product that gets no managed health check, and why.
type Skip struct {
	Product string `json:"product"`
	Reason  string `json:"reason"`
}

// DesiredState builds the wanted state from the config. slackURL is the value of the Slack
// channel's webhook env var ("" when unset).
func DesiredState(cfg *config.Config, slackURL string) (Desired, error) {
	var d Desired
	var errs []string
	zones := map[string]bool{}

	slack := cfg.NotificationChannels.Slack
	if slack != nil {
		d.SlackEnv = slack.WebhookURLEnv
		if d.SlackEnv == "" {
			d.SlackEnv = config.EnvSlackWebhookURL
		}
	}
	switch {
	case slack == nil:
		d.ManageWebhook = true // no Slack channel: no destination wanted
	case slackURL == "":
		d.Warnings = append(d.Warnings, fmt.Sprintf("%s is not set: Slack destinations of existing policies are kept as they are, new policies get none", d.SlackEnv))
	default:
		d.ManageWebhook = true
		d.Slack = slackURL
	}

	for _, p := range cfg.Products {
		if z := p.Cloudflare.ZoneID; z != "" {
			zones[z] = true
		}
		c, reason, err := desiredCheck(p)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if reason != "" {
			d.Skipped = append(d.Skipped, Skip{Product: p.ID, Reason: reason})
			continue
		}
		if p.Cloudflare.HealthcheckID != "" {
			d.Warnings = append(d.Warnings, fmt.Sprintf("product %s: cloudflare.healthcheck_id is set, so the Cloudflare source reads that check rather than %s; remove it to use the managed one", p.ID, c.Name))
		}
		d.Checks = append(d.Checks, c)
		pol := Policy{Product: p.ID, Zone: c.Zone, Name: c.Name, Description: Marker(p.ID, c.Zone)}
		if em := cfg.NotificationChannels.Email; em != nil && routes(em.Route, p.ID) {
			pol.Emails = sortedUnique(em.Recipients)
		}
		if slack != nil && routes(slack.Route, p.ID) {
			pol.Webhook = d.Slack != ""
			pol.KeepWebhooks = !d.ManageWebhook
		}
		if len(pol.Emails) == 0 && !pol.Webhook && !pol.KeepWebhooks {
			d.Warnings = append(d.Warnings, fmt.Sprintf("product %s: no email recipients or Slack destination for its health check, so it gets no notification policy", p.ID))
			continue
		}
		d.Policies = append(d.Policies, pol)
	}
	if len(errs) > 0 {
		return Desired{}, fmt.Errorf("healthchecks: %s", strings.Join(errs, "; "))
	}
	for z := range zones {
		d.Zones = append(d.Zones, z)
	}
	slices.Sort(d.Zones)
	slices.SortFunc(d.Checks, func(a, b Check) int { return strings.Compare(a.Product, b.Product) })
	slices.SortFunc(d.Policies, func(a, b Policy) int { return strings.Compare(a.Product, b.Product) })
	slices.SortFunc(d.Skipped, func(a, b Skip) int { return strings.Compare(a.Product, b.Product) })
	return d, nil
}

// desiredCheck returns the product's wanted check, or why it gets none.
func desiredCheck(p config.Product) (Check, string, error) {
	hc := p.HealthCheck
	switch {
	case hc.Disabled:
		return Check{}, "healthcheck.disabled is set", nil
	case p.Cloudflare.ZoneID == "":
		return Check{}, "no cloudflare.zone_id", nil
	case p.URL == "":
		return Check{}, "no url", nil
	case p.HealthEndpoint == "":
		return Check{}, "no health_endpoint", nil
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Hostname() == "" {
		return Check{}, "", fmt.Errorf("product %s: url %q: want an absolute http(s) URL", p.ID, p.URL)
	}
	c := Check{
		Product:     p.ID,
		Zone:        p.Cloudflare.ZoneID,
		Name:        Name(p.ID),
		Description: Marker(p.ID, ""),
		Address:     u.Hostname(),
		Type:        "HTTPS",
		Port:        443,
		Interval:    orInt(hc.Interval, DefaultInterval),
		// config cannot tell an unset retries from 0 (it is a plain int), so 0 means the default.
		Retries:         orInt(hc.Retries, DefaultRetries),
		Timeout:         orInt(hc.Timeout, DefaultTimeout),
		CheckRegions:    sortedUnique(hc.CheckRegions),
		Method:          cmp.Or(hc.Method, DefaultMethod),
		Path:            healthPath(p),
		ExpectedCodes:   sortedUnique(hc.ExpectedCodes),
		FollowRedirects: hc.FollowRedirects,
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		c.Type, c.Port = "HTTP", 80
	default:
		return Check{}, "", fmt.Errorf("product %s: url %q: want an http or https URL", p.ID, p.URL)
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return Check{}, "", fmt.Errorf("product %s: url %q: bad port", p.ID, p.URL)
		}
		c.Port = n
	}
	if len(c.CheckRegions) == 0 {
		c.CheckRegions = DefaultCheckRegions()
	}
	if len(c.ExpectedCodes) == 0 {
		c.ExpectedCodes = DefaultExpectedCodes()
	}
	return c, "", nil
}

// healthPath is the URL's path joined with the health endpoint, as Product.HealthURL joins them.
func healthPath(p config.Product) string {
	u, err := url.Parse(p.HealthURL())
	if err != nil || u.Path == "" {
		return "/"
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return path
}

// routes reports whether a channel's route sends this product's alerts.
func routes(r config.Route, product string) bool {
	return len(r.Products) == 0 || slices.Contains(r.Products, product)
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
