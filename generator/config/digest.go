package config

import (
	"strconv"
	"strings"
	"time"
)

// Digest configures the weekly digest (docs/digest.md): when it is due, in site.timezone, and
// what it covers. Which channels get it is each channel's digest route.
type Digest struct {
	// Enabled turns the digest off for every channel when false (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// Weekday is the day it is due: monday … sunday (default monday).
	Weekday string `json:"weekday,omitempty"`
	// Time is the time of day it is due, HH:MM in site.timezone (default 08:00).
	Time string `json:"time,omitempty"`
	// PeriodDays is how many days it covers, compared with as many before (default 7).
	PeriodDays int `json:"period_days,omitempty"`
	// Top caps every per-product list of the email and Slack message (default 10); the
	// digest's page on the site lists every product.
	Top int `json:"top,omitempty"`
}

// Digest defaults.
const (
	DefaultDigestWeekday    = "monday"
	DefaultDigestTime       = "08:00"
	DefaultDigestPeriodDays = 7
	DefaultDigestTop        = 10
)

// On reports whether the digest is enabled (the default).
func (d Digest) On() bool { return d.Enabled == nil || *d.Enabled }

// WithDefaults returns d with every unset field at its default.
func (d Digest) WithDefaults() Digest {
	if d.Weekday == "" {
		d.Weekday = DefaultDigestWeekday
	}
	if d.Time == "" {
		d.Time = DefaultDigestTime
	}
	if d.PeriodDays == 0 {
		d.PeriodDays = DefaultDigestPeriodDays
	}
	if d.Top == 0 {
		d.Top = DefaultDigestTop
	}
	return d
}

// DigestRoute says whether a channel gets the digest and about which products.
type DigestRoute struct {
	// Enabled is false to opt the channel out (default true).
	Enabled *bool `json:"enabled,omitempty"`
	// Products narrows the digest to these product ids (default: the channel's route products,
	// else every product).
	Products []string `json:"products,omitempty"`
}

// On reports whether the route takes the digest (the default).
func (r *DigestRoute) On() bool { return r == nil || r.Enabled == nil || *r.Enabled }

// ParseWeekday reads a weekday name, case-insensitively ("monday", "Mon").
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) < 3 {
		return 0, false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if name := strings.ToLower(d.String()); name == s || name[:3] == s {
			return d, true
		}
	}
	return 0, false
}

// ParseClock reads HH:MM (00:00 to 23:59).
func ParseClock(s string) (hour, minute int, ok bool) {
	h, m, found := strings.Cut(s, ":")
	if !found || len(h) != 2 || len(m) != 2 {
		return 0, 0, false
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return 0, 0, false
	}
	return hour, minute, true
}

// checkDigest adds the digest's problems the schema cannot say.
func (c *Config) checkDigest(add func(string, ...string), first map[string]int) {
	d := c.Digest // the schema checks weekday (an enum), period_days and top
	if d.Time != "" {
		if _, _, ok := ParseClock(d.Time); !ok {
			add("want a time of day HH:MM like 08:00, got "+show(d.Time), "digest", "time")
		}
	}
	routes := map[string]*DigestRoute{}
	if ch := c.NotificationChannels.Slack; ch != nil {
		routes["slack"] = ch.Digest
	}
	if ch := c.NotificationChannels.Email; ch != nil {
		routes["email"] = ch.Digest
	}
	for _, name := range []string{"email", "slack"} {
		r := routes[name]
		if r == nil {
			continue
		}
		for i, id := range r.Products {
			if _, ok := first[id]; !ok && id != "" && len(first) > 0 {
				add("want the id of a product ("+c.productIDs()+"), got "+show(id),
					"notification_channels", name, "digest", "products", strconv.Itoa(i))
			}
		}
	}
}
