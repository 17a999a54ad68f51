package fake

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// PostHogHostsQuery starts the HogQL query `portfolio init` and `doctor` send for the hosts a
// project saw (generator/source/posthog Hosts); the fake answers it from SetHostEvents,
// whatever its time range.
const PostHogHostsQuery = "SELECT properties.$host AS host, count() AS events FROM events"

// SetHostEvents sets how many events the project saw from host in the hosts query's range.
func (p *PostHog) SetHostEvents(host string, events int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hosts == nil {
		p.hosts = map[string]int64{}
	}
	p.hosts[host] = events
}

// answerHosts answers the hosts query, most events first, and says whether sql was one.
func (p *PostHog) answerHosts(w http.ResponseWriter, sql string) bool {
	if !strings.HasPrefix(sql, PostHogHostsQuery) {
		return false
	}
	p.mu.Lock()
	type row struct {
		host string
		n    int64
	}
	var rows []row
	for h, n := range p.hosts {
		rows = append(rows, row{h, n})
	}
	p.mu.Unlock()
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.host, b.host)) })
	results := [][]any{}
	for _, r := range rows {
		results = append(results, []any{r.host, r.n})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"results": results, "columns": []string{"host", "events"}, "types": []string{"String", "UInt64"},
		"hasMore": false, "limit": 500, "offset": 0, "hogql": sql, "timings": []map[string]any{{"k": "./query", "t": 0.01}},
	})
	return true
}
