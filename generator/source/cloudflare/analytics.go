package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	cfapi "github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/source"
)

// The GraphQL Analytics part: every product's HTTP figures in one query across zones, its
// Workers figures in one query across scripts (docs/collect.md, "Cloudflare GraphQL
// Analytics"). The limits followed are Cloudflare's (developers.cloudflare.com/analytics/
// graphql-api/limits): a zones scope names at most 10 zones, an accounts scope one account;
// a request holds a limited number of queries (scopes × dataset nodes: Cloudflare names no
// number, MaxQueriesPerRequest is ours); each dataset's range is at most maxDuration wide and
// no older than notOlderThan, as the zone's settings node says; at most maxPageSize groups.

// maxZonesPerScope is how many zones one zones scope may name.
const maxZonesPerScope = 10

// coverLookback bounds how far back the end of a product's covered interval is looked for
// when its last snapshot has none (its Cloudflare data failed): beyond it the product starts
// over with FirstWindow.
const coverLookback = 7 * 24 * time.Hour

// Workers data: at most a month per query, no older than three months (Cloudflare's Workers
// analytics limits; the account settings node is not in the schema subset kept).
const (
	workersMaxDuration  = 30 * 24 * time.Hour
	workersNotOlderThan = 90 * 24 * time.Hour
)

// answer is what Prepare learned for one product.
type answer struct {
	http      *record.HTTPStats
	httpErr   error
	worker    *record.WorkerStats
	workerErr error
}

// want is one product's question: a host in a zone, or a script, over [start, end).
type want struct {
	id    string
	zone  string // HTTP: the zone
	key   string // HTTP: the host; Workers: the script
	start time.Time
}

// Prepare implements source.Batcher: it asks for every product's HTTP figures (the zones'
// settings, then one query across zones) and Workers figures (one query) and keeps the
// answers, by product, for Collect. A failure that concerns some zones only is kept for
// their products; Prepare itself returns no error.
func (s *Source) Prepare(ctx context.Context, ps []config.Product, since map[string]time.Time) error {
	if s.api == nil {
		return nil
	}
	s.prepare(ctx, ps, since)
	return nil
}

func (s *Source) prepare(ctx context.Context, ps []config.Product, since map[string]time.Time) {
	end := s.end()
	answers := map[string]*answer{}
	var hs, ws []want
	for _, p := range ps {
		a := &answer{}
		answers[p.ID] = a
		if host := hostOf(p); p.Cloudflare.ZoneID != "" && host != "" {
			start, err := s.start(p, since[p.ID], end, httpCovered)
			if err != nil {
				a.httpErr = err
			} else if start.Before(end) {
				hs = append(hs, want{id: p.ID, zone: p.Cloudflare.ZoneID, key: host, start: start})
			}
		}
		if p.Cloudflare.Worker != "" && s.opt.AccountID != "" {
			start, err := s.start(p, since[p.ID], end, workerCovered)
			if err != nil {
				a.workerErr = err
			} else if start.Before(end) {
				ws = append(ws, want{id: p.ID, key: p.Cloudflare.Worker, start: start})
			}
		}
	}
	s.prepareHTTP(ctx, hs, end, answers)
	s.prepareWorkers(ctx, ws, end, answers)
	if ctx.Err() != nil {
		for _, a := range answers {
			a.httpErr, a.workerErr = timedOut(ctx, a.httpErr), timedOut(ctx, a.workerErr)
		}
	}
	s.mu.Lock()
	for id, a := range answers {
		s.answers[id] = a
	}
	s.mu.Unlock()
}

// end is where every range of this run ends: Lag before the run's clock, on a minute, because
// Cloudflare's analytics arrive minutes late (its own Prometheus exporter reads up to 5
// minutes back for that reason).
func (s *Source) end() time.Time {
	return s.opt.Now().UTC().Add(-s.opt.Lag).Truncate(time.Minute)
}

// start is where the product's range begins: where the interval covered by its last figures
// ended, so no interval is lost or counted twice. Without stored figures (a first run, or none
// in the last coverLookback) it is FirstWindow before end. Without a store, since (the previous
// snapshot's time) stands for the end of the covered interval.
func (s *Source) start(p config.Product, since, end time.Time, covered func(record.Snapshot) (time.Time, bool)) (time.Time, error) {
	first := end.Add(-s.opt.FirstWindow)
	st := s.opt.Store
	if st == nil {
		if since.IsZero() {
			return first, nil
		}
		return since.UTC(), nil
	}
	last, ok, err := st.LastSnapshot(p.ID)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the interval covered so far: %w", err)
	}
	if !ok {
		return first, nil
	}
	if to, ok := covered(last); ok {
		return to, nil
	}
	older, err := st.Snapshots(p.ID, last.Time.Add(-coverLookback), last.Time)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the interval covered so far: %w", err)
	}
	for i := len(older) - 1; i >= 0; i-- {
		if to, ok := covered(older[i]); ok {
			return to, nil
		}
	}
	return first, nil
}

// httpCovered is where a snapshot's HTTP figures end. Snapshots written before the interval
// was recorded covered up to their own time.
func httpCovered(sn record.Snapshot) (time.Time, bool) {
	if sn.HTTP == nil {
		return time.Time{}, false
	}
	if sn.HTTP.To.IsZero() {
		return sn.Time.UTC(), true
	}
	return sn.HTTP.To.UTC(), true
}

func workerCovered(sn record.Snapshot) (time.Time, bool) {
	if sn.Worker == nil {
		return time.Time{}, false
	}
	if sn.Worker.To.IsZero() {
		return sn.Time.UTC(), true
	}
	return sn.Worker.To.UTC(), true
}

// capRange moves start forward so that [start, end) is at most maxDur wide and starts no
// earlier than notOlder before now, the API's clock (a minute of margin, as it runs on).
func capRange(start, end, now time.Time, maxDur, notOlder time.Duration) time.Time {
	if maxDur > 0 && end.Sub(start) > maxDur {
		start = end.Add(-maxDur)
	}
	if oldest := now.Add(-(notOlder - time.Minute)); notOlder > time.Minute && start.Before(oldest) {
		start = oldest
		if t := start.Truncate(time.Minute); !t.Equal(start) {
			start = t.Add(time.Minute)
		}
	}
	return start
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// ---- zones: settings, then HTTP figures ----

// datasetLimits are a dataset's limits for a zone, from its settings node.
type datasetLimits struct {
	Enabled      bool `json:"enabled"`
	MaxDuration  int  `json:"maxDuration"`  // seconds
	NotOlderThan int  `json:"notOlderThan"` // seconds
	MaxPageSize  int  `json:"maxPageSize"`
}

// scope is one zones scope of a query: its alias and its zones, in order.
type scope struct {
	alias string
	zones []string
}

// scopes cuts zones into scopes of at most maxZonesPerScope, aliased prefix0, prefix1, …
func scopes(zones []string, prefix string) []scope {
	var out []scope
	for i := 0; i < len(zones); i += maxZonesPerScope {
		out = append(out, scope{alias: prefix + strconv.Itoa(len(out)), zones: zones[i:min(i+maxZonesPerScope, len(zones))]})
	}
	return out
}

// zoneErrors reads which zones a GraphQL error names (its path: viewer, the scope's alias,
// the zone's index in the scope). It returns nil when an error names none: then it concerns
// the whole request.
func zoneErrors(err error, byAlias map[string]scope) map[string]error {
	var ge *cfapi.GraphQLError
	if !errors.As(err, &ge) || isRateLimited(err) {
		return nil
	}
	out := map[string]error{}
	for i, path := range ge.Paths {
		if len(path) < 3 || path[0] != "viewer" {
			return nil
		}
		sc, ok := byAlias[path[1]]
		k, err := strconv.Atoi(path[2])
		if !ok || err != nil || k < 0 || k >= len(sc.zones) {
			return nil
		}
		z := sc.zones[k]
		msg := ge.Messages[i]
		if ge.Codes[i] != "" {
			msg += " (" + ge.Codes[i] + ")"
		}
		out[z] = fmt.Errorf("graphql: %s", msg)
	}
	return out
}

// batched runs the query of the scopes a request holds; a failure that names zones is kept
// for those zones and the query runs once more without them. It returns the answer, the zones
// that failed on their own, and the error of the whole request.
func (s *Source) batched(ctx context.Context, scs []scope, run func(context.Context, []scope) (json.RawMessage, error)) (json.RawMessage, map[string]error, error) {
	failed := map[string]error{}
	for attempt := 0; ; attempt++ {
		byAlias := map[string]scope{}
		for _, sc := range scs {
			byAlias[sc.alias] = sc
		}
		data, err := run(ctx, scs)
		if err == nil {
			return data, failed, nil
		}
		zerrs := zoneErrors(err, byAlias)
		if len(zerrs) == 0 || attempt > 0 {
			return nil, failed, err
		}
		for z, e := range zerrs {
			failed[z] = e
		}
		var rest []scope
		for _, sc := range scs {
			kept := slices.DeleteFunc(slices.Clone(sc.zones), func(z string) bool { return failed[z] != nil })
			if len(kept) > 0 {
				rest = append(rest, scope{alias: sc.alias, zones: kept})
			}
		}
		if len(rest) == 0 {
			return nil, failed, nil
		}
		scs = rest
	}
}

// packs cuts scopes into requests of at most max queries, each scope costing cost(scope).
func packs(scs []scope, max int, cost func(scope) int) [][]scope {
	var out [][]scope
	var cur []scope
	n := 0
	for _, sc := range scs {
		c := cost(sc)
		if len(cur) > 0 && n+c > max {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, sc)
		n += c
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// settings reads httpRequestsAdaptiveGroups' limits for every zone, in as few requests as
// the query limit allows (one for up to MaxQueriesPerRequest × 10 zones). A zone that cannot
// be read gets its error.
func (s *Source) settings(ctx context.Context, zones []string) (map[string]datasetLimits, map[string]error) {
	lims := map[string]datasetLimits{}
	errs := map[string]error{}
	for _, req := range packs(scopes(zones, "s"), s.opt.MaxQueriesPerRequest, func(scope) int { return 1 }) {
		data, failed, err := s.batched(ctx, req, func(ctx context.Context, scs []scope) (json.RawMessage, error) {
			var q strings.Builder
			vars := map[string]any{}
			q.WriteString("query(")
			for i, sc := range scs {
				if i > 0 {
					q.WriteString(",")
				}
				fmt.Fprintf(&q, "$%s:[string!]", sc.alias)
				vars[sc.alias] = sc.zones
			}
			q.WriteString("){viewer{")
			for _, sc := range scs {
				fmt.Fprintf(&q, "\n%s: zones(filter:{zoneTag_in:$%s}){zoneTag settings{httpRequestsAdaptiveGroups{enabled maxDuration notOlderThan maxPageSize}}}", sc.alias, sc.alias)
			}
			q.WriteString("}}")
			var out json.RawMessage
			err := s.api.GraphQL(ctx, q.String(), vars, &out)
			return out, err
		})
		for z, e := range failed {
			errs[z] = fmt.Errorf("dataset limits: %w", e)
		}
		if err != nil {
			for _, sc := range req {
				for _, z := range sc.zones {
					if errs[z] == nil {
						errs[z] = fmt.Errorf("dataset limits: %w", err)
					}
				}
			}
			continue
		}
		var ans struct {
			Viewer map[string][]struct {
				ZoneTag  string `json:"zoneTag"`
				Settings *struct {
					HTTP *datasetLimits `json:"httpRequestsAdaptiveGroups"`
				} `json:"settings"`
			} `json:"viewer"`
		}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &ans); err != nil {
				for _, sc := range req {
					for _, z := range sc.zones {
						errs[z] = fmt.Errorf("dataset limits: graphql: unexpected data: %w", err)
					}
				}
				continue
			}
		}
		for _, list := range ans.Viewer {
			for _, z := range list {
				if z.Settings != nil && z.Settings.HTTP != nil {
					lims[z.ZoneTag] = *z.Settings.HTTP
				}
			}
		}
	}
	for _, z := range zones {
		if _, ok := lims[z]; !ok && errs[z] == nil {
			errs[z] = fmt.Errorf("dataset limits: zone %s not found or not readable with this token", z)
		}
	}
	return lims, errs
}

// prepareHTTP answers the hosts' figures: the zones' settings first (the range limits), then
// one query with a zones scope per 10 zones and, in each, two nodes per distinct range (the
// totals and TTFB quantiles by host; the 4xx and 5xx counts by host and status).
func (s *Source) prepareHTTP(ctx context.Context, wants []want, end time.Time, answers map[string]*answer) {
	if len(wants) == 0 {
		return
	}
	var zones []string
	for _, w := range wants {
		if !slices.Contains(zones, w.zone) {
			zones = append(zones, w.zone)
		}
	}
	slices.Sort(zones)
	lims, zerrs := s.settings(ctx, zones)
	byZone := map[string][]want{}
	var ok []string
	for _, w := range wants {
		if err := zerrs[w.zone]; err != nil {
			answers[w.id].httpErr = err
			continue
		}
		lim := lims[w.zone]
		if !lim.Enabled && lim.MaxDuration == 0 {
			answers[w.id].httpErr = errors.New("httpRequestsAdaptiveGroups is not enabled for this zone")
			continue
		}
		w.start = capRange(w.start, end, s.opt.Now().UTC(), time.Duration(lim.MaxDuration)*time.Second, time.Duration(lim.NotOlderThan)*time.Second)
		if !w.start.Before(end) {
			continue
		}
		if byZone[w.zone] == nil {
			ok = append(ok, w.zone)
		}
		byZone[w.zone] = append(byZone[w.zone], w)
	}
	// The distinct ranges of each scope: usually one, since every product's range ends now
	// and starts where the previous run's ended.
	windows := func(sc scope) []time.Time {
		var starts []time.Time
		for _, z := range sc.zones {
			for _, w := range byZone[z] {
				if !slices.ContainsFunc(starts, w.start.Equal) {
					starts = append(starts, w.start)
				}
			}
		}
		slices.SortFunc(starts, time.Time.Compare)
		return starts
	}
	for _, req := range packs(scopes(ok, "z"), s.opt.MaxQueriesPerRequest, func(sc scope) int { return 2 * len(windows(sc)) }) {
		for z, err := range s.httpQuery(ctx, req, byZone, windows, lims, end, answers) {
			for _, w := range byZone[z] {
				answers[w.id].httpErr = err
			}
		}
		for _, sc := range req {
			for _, z := range sc.zones {
				for _, w := range byZone[z] {
					if a := answers[w.id]; a.http == nil && a.httpErr == nil {
						a.httpErr = fmt.Errorf("zone %s not in the answer: not readable with this token?", z)
					}
				}
			}
		}
	}
	for _, list := range byZone {
		for _, w := range list {
			if h := answers[w.id].http; h != nil {
				h.From, h.To = w.start, end
			}
		}
	}
}

// httpGroup is one row of a node: a count by host (and status), with TTFB quantiles.
type httpGroup struct {
	Count     int64 `json:"count"`
	Quantiles *struct {
		P50 float64 `json:"edgeTimeToFirstByteMsP50"`
		P95 float64 `json:"edgeTimeToFirstByteMsP95"`
	} `json:"quantiles"`
	Dimensions struct {
		Host   string `json:"clientRequestHTTPHost"`
		Status int    `json:"edgeResponseStatus"`
	} `json:"dimensions"`
}

// httpQuery runs one request of HTTP nodes and fills the products' figures; it returns the
// errors of the zones that failed.
func (s *Source) httpQuery(ctx context.Context, req []scope, byZone map[string][]want, windows func(scope) []time.Time,
	lims map[string]datasetLimits, end time.Time, answers map[string]*answer) map[string]error {
	results := map[string]map[string]json.RawMessage{} // zone → node alias → rows
	data, failed, err := s.batched(ctx, req, func(ctx context.Context, scs []scope) (json.RawMessage, error) {
		var decl, body strings.Builder
		vars := map[string]any{"end": end.Format(time.RFC3339)}
		decl.WriteString("$end:Time")
		starts := map[int64]string{}
		for _, sc := range scs {
			fmt.Fprintf(&decl, ",$%s:[string!]", sc.alias)
			vars[sc.alias] = sc.zones
			limit := 10000
			for _, z := range sc.zones {
				if l := lims[z].MaxPageSize; l > 0 {
					limit = min(limit, l)
				}
			}
			fmt.Fprintf(&body, "\n%s: zones(filter:{zoneTag_in:$%s}){zoneTag", sc.alias, sc.alias)
			for k, start := range windows(sc) {
				sv, ok := starts[start.Unix()]
				if !ok {
					sv = "s" + strconv.Itoa(len(starts))
					starts[start.Unix()] = sv
					fmt.Fprintf(&decl, ",$%s:Time", sv)
					vars[sv] = start.Format(time.RFC3339)
				}
				hv := fmt.Sprintf("%sh%d", sc.alias, k)
				var hosts []string
				for _, z := range sc.zones {
					for _, w := range byZone[z] {
						if w.start.Equal(start) && !slices.Contains(hosts, w.key) {
							hosts = append(hosts, w.key)
						}
					}
				}
				slices.Sort(hosts)
				fmt.Fprintf(&decl, ",$%s:[string!]", hv)
				vars[hv] = hosts
				filter := fmt.Sprintf(`datetime_geq:$%s,datetime_lt:$end,clientRequestHTTPHost_in:$%s,requestSource:"eyeball"`, sv, hv)
				fmt.Fprintf(&body, "\nt%d: httpRequestsAdaptiveGroups(limit:%d,filter:{%s}){count quantiles{edgeTimeToFirstByteMsP50 edgeTimeToFirstByteMsP95} dimensions{clientRequestHTTPHost}}", k, limit, filter)
				fmt.Fprintf(&body, "\ne%d: httpRequestsAdaptiveGroups(limit:%d,filter:{%s,edgeResponseStatus_geq:400}){count dimensions{clientRequestHTTPHost edgeResponseStatus}}", k, limit, filter)
			}
			body.WriteString("}")
		}
		q := "query(" + decl.String() + "){viewer{" + body.String() + "}}"
		var out json.RawMessage
		err := s.api.GraphQL(ctx, q, vars, &out)
		return out, err
	})
	if err != nil {
		for _, sc := range req {
			for _, z := range sc.zones {
				if failed[z] == nil {
					failed[z] = err
				}
			}
		}
		return failed
	}
	var ans struct {
		Viewer map[string][]map[string]json.RawMessage `json:"viewer"`
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &ans); err != nil {
			for _, sc := range req {
				for _, z := range sc.zones {
					failed[z] = fmt.Errorf("graphql: unexpected data: %w", err)
				}
			}
			return failed
		}
	}
	for _, list := range ans.Viewer {
		for _, obj := range list {
			var tag string
			json.Unmarshal(obj["zoneTag"], &tag)
			results[tag] = obj
		}
	}
	for _, sc := range req {
		ws := windows(sc)
		for _, z := range sc.zones {
			obj, ok := results[z]
			if !ok || failed[z] != nil {
				continue
			}
			limit := lims[z].MaxPageSize
			for k, start := range ws {
				var totals, errs []httpGroup
				e1 := json.Unmarshal(obj["t"+strconv.Itoa(k)], &totals)
				e2 := json.Unmarshal(obj["e"+strconv.Itoa(k)], &errs)
				if e1 != nil || e2 != nil {
					failed[z] = fmt.Errorf("graphql: unexpected data: %w", errors.Join(e1, e2))
					break
				}
				if limit > 0 && (len(totals) >= limit || len(errs) >= limit) {
					failed[z] = fmt.Errorf("graphql: more groups than the query's limit of %d: the figures would be incomplete", limit)
					break
				}
				for _, w := range byZone[z] {
					if !w.start.Equal(start) {
						continue
					}
					h := &record.HTTPStats{}
					for _, g := range totals {
						if g.Dimensions.Host != w.key {
							continue
						}
						h.Requests += g.Count
						if g.Quantiles != nil {
							h.P50Ms = round1(g.Quantiles.P50)
							h.P95Ms = round1(g.Quantiles.P95)
						}
					}
					for _, g := range errs {
						if g.Dimensions.Host != w.key {
							continue
						}
						switch g.Dimensions.Status / 100 {
						case 4:
							h.Status4x += g.Count
						case 5:
							h.Status5x += g.Count
						}
					}
					answers[w.id].http = h
				}
			}
		}
	}
	return failed
}

// ---- Workers ----

// prepareWorkers answers the scripts' figures: one accounts scope (one account per query) with
// a node per distinct range.
func (s *Source) prepareWorkers(ctx context.Context, wants []want, end time.Time, answers map[string]*answer) {
	if len(wants) == 0 {
		return
	}
	var starts []time.Time
	for i := range wants {
		wants[i].start = capRange(wants[i].start, end, s.opt.Now().UTC(), workersMaxDuration, workersNotOlderThan)
		if !slices.ContainsFunc(starts, wants[i].start.Equal) {
			starts = append(starts, wants[i].start)
		}
	}
	slices.SortFunc(starts, time.Time.Compare)
	for i := 0; i < len(starts); i += s.opt.MaxQueriesPerRequest {
		batch := starts[i:min(i+s.opt.MaxQueriesPerRequest, len(starts))]
		var decl, body strings.Builder
		vars := map[string]any{"account": s.opt.AccountID, "end": end.Format(time.RFC3339)}
		decl.WriteString("$account:string!,$end:Time")
		for k, start := range batch {
			var scripts []string
			for _, w := range wants {
				if w.start.Equal(start) && !slices.Contains(scripts, w.key) {
					scripts = append(scripts, w.key)
				}
			}
			slices.Sort(scripts)
			fmt.Fprintf(&decl, ",$s%d:Time,$n%d:[string!]", k, k)
			vars["s"+strconv.Itoa(k)] = start.Format(time.RFC3339)
			vars["n"+strconv.Itoa(k)] = scripts
			fmt.Fprintf(&body, "\nw%d: workersInvocationsAdaptive(limit:%d,filter:{scriptName_in:$n%d,datetime_geq:$s%d,datetime_lt:$end}){sum{requests errors} quantiles{cpuTimeP50 cpuTimeP99} dimensions{scriptName}}",
				k, len(scripts), k, k)
		}
		q := "query(" + decl.String() + "){viewer{accounts(filter:{accountTag:$account}){" + body.String() + "}}}"
		var out struct {
			Viewer struct {
				Accounts []map[string][]struct {
					Sum struct {
						Requests int64 `json:"requests"`
						Errors   int64 `json:"errors"`
					} `json:"sum"`
					Quantiles struct {
						P50 float64 `json:"cpuTimeP50"`
						P99 float64 `json:"cpuTimeP99"`
					} `json:"quantiles"`
					Dimensions struct {
						Script string `json:"scriptName"`
					} `json:"dimensions"`
				} `json:"accounts"`
			} `json:"viewer"`
		}
		err := s.api.GraphQL(ctx, q, vars, &out)
		if err == nil && len(out.Viewer.Accounts) == 0 {
			err = errors.New("account not found or not readable with this token")
		}
		for k, start := range batch {
			for _, w := range wants {
				if !w.start.Equal(start) {
					continue
				}
				a := answers[w.id]
				if err != nil {
					a.workerErr = err
					continue
				}
				ws := &record.WorkerStats{From: start, To: end}
				for _, r := range out.Viewer.Accounts[0]["w"+strconv.Itoa(k)] {
					if r.Dimensions.Script != w.key {
						continue
					}
					// Grouped by scriptName there is one row per script.
					ws.Requests += r.Sum.Requests
					ws.Errors += r.Sum.Errors
					ws.CPUP50 = round1(r.Quantiles.P50)
					ws.CPUP99 = round1(r.Quantiles.P99)
				}
				a.worker = ws
			}
		}
	}
}

func isRateLimited(err error) bool {
	var rl *retry.RateLimitedError
	return errors.As(err, &rl)
}

// timedOut says so of an error that came from the context's deadline.
func timedOut(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return &source.TimedOutError{Msg: "timed out", Err: err}
	}
	return err
}
