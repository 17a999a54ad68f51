package posthog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

// HostEvents is a $host and how many events PostHog saw from it.
type HostEvents struct {
	Host   string
	Events int64
}

// maxHosts bounds the hosts query: a project with more hosts than that lists its busiest.
const maxHosts = 500

// Missing names the environment variables the query API needs that are not set.
func (s *Source) Missing() []string {
	var missing []string
	for _, kv := range [][2]string{{config.EnvPostHogHost, s.opt.Host}, {config.EnvPostHogPersonalKey, s.opt.PersonalKey}, {config.EnvPostHogProjectID, s.opt.ProjectID}} {
		if kv[1] == "" {
			missing = append(missing, kv[0])
		}
	}
	return missing
}

// HostsQuery is the HogQL of Hosts: the $host of every event in [now − window, now), with
// its count, busiest first.
func HostsQuery(now time.Time, window time.Duration) string {
	const at = "2006-01-02 15:04:05"
	end := now.UTC().Truncate(time.Second)
	return fmt.Sprintf("SELECT properties.$host AS host, count() AS events FROM events WHERE timestamp >= toDateTime('%s', 'UTC') AND timestamp < toDateTime('%s', 'UTC') AND notEmpty(toString(properties.$host)) GROUP BY host ORDER BY events DESC, host LIMIT %d",
		end.Add(-window).Format(at), end.Format(at), maxHosts)
}

// Hosts lists the hosts PostHog saw events from in the window before now, busiest first (at
// most 500): what `portfolio init` proposes as posthog.host, and what `portfolio doctor`
// checks a configured host against. It needs the same key scope as the daily figures
// (query:read), so a successful call also says the key and project are good.
func (s *Source) Hosts(ctx context.Context, window time.Duration) ([]HostEvents, error) {
	if m := s.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("posthog: %s not set", strings.Join(m, ", "))
	}
	body, err := json.Marshal(map[string]any{
		"query": map[string]string{"kind": "HogQLQuery", "query": HostsQuery(s.opt.Now(), window)},
		"name":  "portfolio hosts",
	})
	if err != nil {
		return nil, err
	}
	endpoint := s.opt.Host + "/api/projects/" + url.PathEscape(s.opt.ProjectID) + "/query/"
	var out queryResponse
	if err := s.do(ctx, http.MethodPost, endpoint, body, &out); err != nil {
		return nil, fmt.Errorf("posthog: hosts query: %w", err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("posthog: hosts query: %s", out.Error)
	}
	if len(out.Columns) < 2 || out.Columns[0] != "host" || out.Columns[1] != "events" {
		return nil, fmt.Errorf("posthog: hosts query: columns %v, want [host events]", out.Columns)
	}
	var hosts []HostEvents
	for i, row := range out.Results {
		if len(row) < 2 {
			return nil, fmt.Errorf("posthog: hosts query: row %d has %d cells", i, len(row))
		}
		var h HostEvents
		if err := json.Unmarshal(row[0], &h.Host); err != nil {
			return nil, fmt.Errorf("posthog: hosts query: row %d: host: %w", i, err)
		}
		if err := json.Unmarshal(row[1], &h.Events); err != nil {
			return nil, fmt.Errorf("posthog: hosts query: row %d: events: %w", i, err)
		}
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 && out.HasMore {
		return nil, errors.New("posthog: hosts query: no rows but more to come")
	}
	return hosts, nil
}
