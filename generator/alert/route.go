package alert

import (
	"fmt"
	"slices"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// DefaultRepeatInterval is how often an unacknowledged firing critical alert is repeated.
const DefaultRepeatInterval = 4 * time.Hour

// Route says which alerts one channel gets.
type Route struct {
	Channel string
	// Severities and Products filter the alerts; empty means all.
	Severities []string
	Products   []string
	// RepeatInterval repeats an unacknowledged firing critical alert; 0 never repeats.
	RepeatInterval time.Duration
	SendResolved   bool
}

// Matches reports whether the route takes the alert.
func (r Route) Matches(a Alert) bool {
	return (len(r.Severities) == 0 || slices.Contains(r.Severities, a.Severity)) &&
		(len(r.Products) == 0 || slices.Contains(r.Products, a.Product))
}

// Routes reads the configured channels' routes, sorted by channel name. The GitHub issues
// channel takes critical alerts only unless its severities say otherwise: an issue per info
// notice would bury the incidents.
func Routes(ch config.NotificationChannels) ([]Route, error) {
	var out []Route
	add := func(name string, r config.Route, defSeverities []string) error {
		rt := Route{Channel: name, Severities: r.Severities, Products: r.Products,
			RepeatInterval: DefaultRepeatInterval, SendResolved: r.SendResolved == nil || *r.SendResolved}
		if len(rt.Severities) == 0 {
			rt.Severities = defSeverities
		}
		if r.RepeatInterval != "" {
			d, err := time.ParseDuration(r.RepeatInterval)
			if err != nil || d <= 0 {
				return fmt.Errorf("notification_channels.%s.repeat_interval: want a positive Go duration like 4h, got %q", name, r.RepeatInterval)
			}
			rt.RepeatInterval = d
		}
		out = append(out, rt)
		return nil
	}
	if c := ch.Email; c != nil {
		if err := add(ChannelEmail, c.Route, nil); err != nil {
			return nil, err
		}
	}
	if c := ch.GitHubIssues; c != nil {
		if err := add(ChannelGitHubIssues, c.Route, []string{Critical}); err != nil {
			return nil, err
		}
	}
	if c := ch.PagerDuty; c != nil {
		if err := add(ChannelPagerDuty, c.Route, nil); err != nil {
			return nil, err
		}
	}
	if c := ch.Slack; c != nil {
		if err := add(ChannelSlack, c.Route, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
