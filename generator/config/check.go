package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // site.timezone must validate the same on hosts without zoneinfo
)

// checks are the rules a JSON Schema cannot say: they need a registry (time zones), a parser
// (URLs, durations, addresses) or the whole document (unique ids, route product ids).
// They run on the config decoded as far as it could be, so they add to the schema's problems
// rather than waiting for them to be fixed; values of the wrong type decode as zero and are
// skipped here (the schema has reported them).
func (c *Config) checks() []issue {
	var out []issue
	add := func(msg string, path ...string) { out = append(out, issue{path: path, msg: msg}) }

	if tz := c.Site.Timezone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
			add("want an IANA time zone like Europe/Berlin or UTC, got "+show(tz), "site", "timezone")
		}
	}
	if msg := checkURL(c.Site.BaseURL); msg != "" {
		add(msg, "site", "base_url")
	} else if u, err := url.Parse(c.Site.BaseURL); err == nil && strings.ContainsAny(u.Path, " \t") {
		add("want a base URL whose path has no spaces (it is written into _headers), got "+show(c.Site.BaseURL), "site", "base_url")
	}
	if ri := c.Site.RunInterval; ri != "" {
		if d, err := time.ParseDuration(ri); err != nil || d < time.Minute || d > 24*time.Hour {
			add("want a Go duration from 1m to 24h like 15m or 1h (the report's schedule), got "+show(ri), "site", "run_interval")
		}
	}
	c.checkLevels(add)
	checkImpact(c.Impact, add, "impact")
	c.checkRepositories(add)

	first := map[string]int{}
	for i, p := range c.Products {
		idx := strconv.Itoa(i)
		if p.ID != "" {
			if j, dup := first[p.ID]; dup {
				add(fmt.Sprintf("want a unique id, got %q again (as products[%d])", p.ID, j), "products", idx, "id")
			} else {
				first[p.ID] = i
			}
		}
		if msg := checkURL(p.URL); msg != "" {
			add(msg, "products", idx, "url")
		}
		if p.HealthEndpoint != "" && p.URL == "" {
			add("want url set too (the probe fetches url + health_endpoint), got no url", "products", idx, "health_endpoint")
		}
		checkImpact(p.Impact, add, "products", idx, "impact")
		for k, m := range p.Maintenance {
			start, err1 := time.Parse(time.RFC3339, m.Start)
			end, err2 := time.Parse(time.RFC3339, m.End)
			switch {
			case err1 != nil && m.Start != "" && rfc3339.MatchString(m.Start):
				add("want a valid RFC 3339 time, got "+show(m.Start), "products", idx, "maintenance", strconv.Itoa(k), "start")
			case err2 != nil && m.End != "" && rfc3339.MatchString(m.End):
				add("want a valid RFC 3339 time, got "+show(m.End), "products", idx, "maintenance", strconv.Itoa(k), "end")
			case err1 == nil && err2 == nil && !end.After(start):
				add("want a time after start ("+m.Start+"), got "+show(m.End), "products", idx, "maintenance", strconv.Itoa(k), "end")
			}
		}
	}

	nc := c.NotificationChannels
	type routed struct {
		name  string
		route *Route
	}
	var routes []routed
	if ch := nc.Slack; ch != nil {
		routes = append(routes, routed{"slack", &ch.Route})
	}
	if ch := nc.Email; ch != nil {
		routes = append(routes, routed{"email", &ch.Route})
		for i, r := range ch.Recipients {
			if msg := checkAddress(r); msg != "" {
				add(msg, "notification_channels", "email", "recipients", strconv.Itoa(i))
			}
		}
		if msg := checkAddress(ch.From); msg != "" {
			add(msg, "notification_channels", "email", "from")
		}
	}
	if ch := nc.PagerDuty; ch != nil {
		routes = append(routes, routed{"pagerduty", &ch.Route})
	}
	if ch := nc.GitHubIssues; ch != nil {
		routes = append(routes, routed{"github_issues", &ch.Route})
	}
	c.checkDigest(add, first)
	for _, r := range routes {
		if ri := r.route.RepeatInterval; ri != "" {
			if d, err := time.ParseDuration(ri); err != nil || d <= 0 {
				add("want a positive Go duration like 4h or 30m, got "+show(ri), "notification_channels", r.name, "repeat_interval")
			}
		}
		for i, id := range r.route.Products {
			if _, ok := first[id]; !ok && id != "" && len(first) > 0 {
				add("want the id of a product ("+c.productIDs()+"), got "+show(id),
					"notification_channels", r.name, "products", strconv.Itoa(i))
			}
		}
	}
	return out
}

// Bounds of the impact windows: at least one run, at most a week.
const (
	minImpactWindow = 15 * time.Minute
	maxImpactWindow = 7 * 24 * time.Hour
)

// checkImpact wants the impact windows to be Go durations from one run to a week.
func checkImpact(i Impact, add func(string, ...string), path ...string) {
	for _, w := range []struct{ name, v string }{{"before_window", i.BeforeWindow}, {"after_window", i.AfterWindow}} {
		if w.v == "" {
			continue
		}
		if d, err := time.ParseDuration(w.v); err != nil || d < minImpactWindow || d > maxImpactWindow {
			add("want a Go duration from 15m to 168h like 1h or 90m, got "+show(w.v), append(path[:len(path):len(path)], w.name)...)
		}
	}
}

// rfc3339 is the schema's pattern of maintenance times: a time that matches it but does not
// parse (a 31 June) is reported here, one that does not match by the schema.
var rfc3339 = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// MaxProductIDLength bounds a product id: it names files in data/ and folders of the site, and
// one DNS label's worth keeps every path well under file-system limits.
const MaxProductIDLength = 63

// ValidProductID reports whether id is a lowercase slug of at most MaxProductIDLength
// characters, as portfolio.schema.json wants.
func ValidProductID(id string) bool {
	return len(id) <= MaxProductIDLength && productID.MatchString(id)
}

var productID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// UnsafeURLText reports whether a URL, as written or once percent-decoded, holds a control
// character, a line or paragraph separator, or (in its path) a space: what would split a line
// of _headers or a log into two.
func UnsafeURLText(s string) bool {
	bad := func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 }
	if strings.ContainsFunc(s, bad) {
		return true
	}
	dec, err := url.PathUnescape(s)
	return err == nil && strings.ContainsFunc(dec, func(r rune) bool { return bad(r) })
}

// checkURL returns a message when s is set but not an absolute http(s) URL without credentials.
func checkURL(s string) string {
	if s == "" {
		return ""
	}
	if UnsafeURLText(s) {
		return "want a URL without control characters or encoded line breaks (%0A, %0D), got " + show(s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return "want an absolute http(s) URL like https://shop.example.com, got " + show(s)
	case u.User != nil:
		return "want a URL without credentials (put secrets in environment variables), got " + hiddenValue
	}
	return ""
}

// checkAddress returns a message when s is set but not an email address.
func checkAddress(s string) string {
	if s == "" {
		return ""
	}
	if _, err := mail.ParseAddress(s); err != nil {
		return "want an email address like oncall@example.com, got " + show(s)
	}
	return ""
}

// checkLevels wants each configured band ordered from elite to medium.
func (c *Config) checkLevels(add func(string, ...string)) {
	l := c.DORA.Levels
	for _, b := range []struct {
		name   string
		bands  LevelBands
		higher bool
	}{
		{"deployment_frequency", l.DeploymentFrequency, true},
		{"lead_time", l.LeadTime, false},
		{"change_failure_rate", l.ChangeFailureRate, false},
		{"time_to_restore", l.TimeToRestore, false},
	} {
		v := b.bands
		if v == (LevelBands{}) {
			continue // unset: the defaults apply
		}
		got := fmt.Sprintf("elite %v, high %v, medium %v", v.Elite, v.High, v.Medium)
		if b.higher && !(v.Elite >= v.High && v.High >= v.Medium) {
			add("want elite ≥ high ≥ medium (higher is better; set all three), got "+got, "dora", "levels", b.name)
		}
		if !b.higher && !(v.Elite <= v.High && v.High <= v.Medium) {
			add("want elite ≤ high ≤ medium (lower is better; set all three), got "+got, "dora", "levels", b.name)
		}
		if b.name == "change_failure_rate" && v.Medium > 1 {
			add(fmt.Sprintf("want a ratio from 0 to 1, got %v", v.Medium), "dora", "levels", b.name, "medium")
		}
	}
}

func (c *Config) productIDs() string {
	ids := make([]string, 0, len(c.Products))
	for _, p := range c.Products {
		if p.ID != "" && !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) > 6 {
		ids = append(ids[:6], "...")
	}
	return strings.Join(ids, ", ")
}
