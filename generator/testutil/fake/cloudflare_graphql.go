package fake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portfolio-report/portfolio/generator/testutil/contract"
)

// The GraphQL Analytics endpoint, as Cloudflare documents it (docs/collect.md, "Cloudflare
// GraphQL Analytics"; developers.cloudflare.com/analytics/graphql-api/limits and /errors):
//
//   - every query is validated against the schema (the subset kept in
//     generator/testutil/contract); one that does not validate is answered with errors;
//   - errors come in an HTTP 200 with "data": null, each with a message, the path of the
//     node it concerns (viewer, the scope's alias, the zone's index, the dataset) and
//     extensions.timestamp;
//   - a zones scope names at most 10 zones, an accounts scope one account;
//   - a dataset node's range is at most the zone's maxDuration wide and no older than its
//     notOlderThan; its limit is at most maxPageSize (10000);
//   - data arrives late: events younger than Lag are not visible yet.
//
// The figures are those set with SetHTTP and SetWorker (the same whatever the range) or, for a
// host or script that has some, the events added with AddHTTPEvents and AddWorkerEvents that
// fall in the range.

// cloudflareMaxZones is how many zones one zones scope may name.
const cloudflareMaxZones = 10

// cloudflareMaxPageSize is httpRequestsAdaptiveGroups' maxPageSize.
const cloudflareMaxPageSize = 10000

type cloudflareHTTPEvent struct {
	host   string
	at     time.Time
	status int
	n      int64
}

type cloudflareWorkerEvent struct {
	script           string
	at               time.Time
	requests, errors int64
}

// AddHTTPEvents records n requests to host answered with status at the given time. A host
// with events is reported from them alone: the counts of a range are the events in it.
func (c *Cloudflare) AddHTTPEvents(zone, host string, at time.Time, status int, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zone(zone)
	z.events = append(z.events, cloudflareHTTPEvent{host: host, at: at, status: status, n: n})
	if _, ok := z.http[host]; !ok {
		z.http[host] = CloudflareHTTP{}
	}
}

// AddWorkerEvents records invocations of a Workers script at the given time. A script with
// events is reported from them alone.
func (c *Cloudflare) AddWorkerEvents(account, script string, at time.Time, requests, errors int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.account(account)
	a.events = append(a.events, cloudflareWorkerEvent{script: script, at: at, requests: requests, errors: errors})
	if _, ok := a.scripts[script]; !ok {
		a.scripts[script] = CloudflareWorker{}
	}
}

// DenyZone makes the token unable to read the zone's analytics: a query naming it gets
// Cloudflare's "does not have access to the path" error for that zone.
func (c *Cloudflare) DenyZone(zone string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.zone(zone).denied = true
}

// GraphQLQueries counts the GraphQL requests that reached the handler.
func (c *Cloudflare) GraphQLQueries() int { return len(c.gql.all()) }

// gqlError is one entry of a GraphQL answer's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions"`
}

func newGQLError(msg string, path ...any) gqlError {
	return gqlError{Message: msg, Path: path, Extensions: map[string]any{"timestamp": "2026-06-30T12:00:00Z"}}
}

// CloudflareGraphQLRateLimitBody is the answer Cloudflare gives, under HTTP 200, to a user whose
// GraphQL budget is spent.
func CloudflareGraphQLRateLimitBody() string {
	b, _ := json.Marshal(map[string]any{"data": nil, "errors": []gqlError{newGQLError("rate limiter budget depleted, try again after 5 minutes", "viewer")}})
	return string(b)
}

func (c *Cloudflare) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Query == "" {
		cloudflareGraphQLError(w, http.StatusBadRequest, "failed to parse request body", "")
		return
	}
	c.gql.add(CloudflareGraphQLCall{Query: req.Query, Variables: req.Variables})
	answer := func(data any, errs []gqlError) {
		if len(errs) > 0 {
			writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": errs})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "errors": nil})
	}
	schema, err := contract.LoadGraphQL(contract.CloudflareGraphQL)
	if err != nil {
		cloudflareGraphQLError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	// The validated operation: its fields know their schema definitions, so their arguments
	// resolve with the variables.
	op, err := schema.ValidateQuery(contract.GraphQLRequest{Query: req.Query, Variables: req.Variables})
	if err != nil {
		answer(nil, []gqlError{newGQLError("error parsing args: " + err.Error())})
		return
	}
	vars := req.Variables
	if vars == nil {
		vars = map[string]any{}
	}
	if c.MaxQueriesPerRequest > 0 {
		if n := cloudflareQueryCount(op.SelectionSet); n > c.MaxQueriesPerRequest {
			answer(nil, []gqlError{newGQLError(fmt.Sprintf("too many queries in one request: %d, at most %d", n, c.MaxQueriesPerRequest))})
			return
		}
	}
	c.mu.Lock()
	data, errs := c.evalOperation(op.SelectionSet, vars)
	c.mu.Unlock()
	answer(data, errs)
}

// cloudflareQueryCount is the number of queries a request makes, as Cloudflare counts them:
// for each zones or accounts scope, the dataset nodes under it.
func cloudflareQueryCount(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		if f.Name == "zones" || f.Name == "accounts" {
			for _, s := range f.SelectionSet {
				if g, ok := s.(*ast.Field); ok && len(g.SelectionSet) > 0 {
					n++
				}
			}
			continue
		}
		n += cloudflareQueryCount(f.SelectionSet)
	}
	return n
}

// evalOperation answers the root selection. Callers hold c.mu.
func (c *Cloudflare) evalOperation(set ast.SelectionSet, vars map[string]any) (any, []gqlError) {
	out := map[string]any{}
	var errs []gqlError
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name != "viewer" {
			continue
		}
		viewer := map[string]any{}
		for _, s := range f.SelectionSet {
			g, ok := s.(*ast.Field)
			if !ok {
				continue
			}
			args := g.ArgumentMap(vars)
			switch g.Name {
			case "zones":
				v, e := c.evalZones(g, args, vars)
				viewer[g.Alias], errs = v, append(errs, e...)
			case "accounts":
				v, e := c.evalAccounts(g, args, vars)
				viewer[g.Alias], errs = v, append(errs, e...)
			}
		}
		out[f.Alias] = viewer
	}
	return out, errs
}

func (c *Cloudflare) evalZones(f *ast.Field, args map[string]any, vars map[string]any) (any, []gqlError) {
	filter, _ := args["filter"].(map[string]any)
	var tags []string
	if t, ok := filter["zoneTag"].(string); ok {
		tags = append(tags, t)
	}
	if list, ok := filter["zoneTag_in"].([]any); ok {
		for _, t := range list {
			if s, ok := t.(string); ok {
				tags = append(tags, s)
			}
		}
	}
	if len(tags) > cloudflareMaxZones {
		return nil, []gqlError{newGQLError(fmt.Sprintf("a zone-scoped query can include up to %d zones, got %d", cloudflareMaxZones, len(tags)), "viewer", f.Alias)}
	}
	var errs []gqlError
	list := []any{}
	for i, tag := range tags {
		z := c.zone(tag)
		obj := map[string]any{}
		for _, s := range f.SelectionSet {
			g, ok := s.(*ast.Field)
			if !ok {
				continue
			}
			path := []any{"viewer", f.Alias, strconv.Itoa(i), g.Alias}
			if z.denied && g.Name != "zoneTag" {
				errs = append(errs, newGQLError("zone '"+tag+"' does not have access to the path", path...))
				continue
			}
			switch g.Name {
			case "zoneTag":
				obj[g.Alias] = tag
			case "settings":
				settings := map[string]any{}
				for _, name := range []string{"httpRequestsAdaptiveGroups", "healthCheckEventsAdaptive", "healthCheckEventsAdaptiveGroups"} {
					settings[name] = map[string]any{"enabled": true, "maxDuration": z.maxDuration, "notOlderThan": z.notOlderThan,
						"maxPageSize": z.maxPageSize, "maxNumberOfFields": 30, "availableFields": []string{}}
				}
				obj[g.Alias] = graphqlPick(g.SelectionSet, settings)
			case "httpRequestsAdaptiveGroups":
				rows, err := c.evalHTTPGroups(z, g.ArgumentMap(vars), g.SelectionSet)
				if err != "" {
					errs = append(errs, newGQLError(err, path...))
					continue
				}
				obj[g.Alias] = rows
			default: // the other datasets: no events in the fake
				obj[g.Alias] = []any{}
			}
		}
		list = append(list, obj)
	}
	return list, errs
}

// cloudflareRange reads the datetime bounds of a dataset filter: [start, end) or [start, end].
func cloudflareRange(filter map[string]any) (start, end time.Time, endIncl bool, problem string) {
	get := func(k string) (time.Time, bool) {
		s, ok := filter[k].(string)
		if !ok {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339, s)
		return t, err == nil
	}
	var ok bool
	if start, ok = get("datetime_geq"); !ok {
		if start, ok = get("datetime_gt"); !ok {
			return start, end, false, "a datetime_geq or datetime_gt filter is required"
		}
	}
	if end, ok = get("datetime_lt"); !ok {
		if end, ok = get("datetime_leq"); !ok {
			return start, end, false, "a datetime_lt or datetime_leq filter is required"
		}
		endIncl = true
	}
	return start, end, endIncl, ""
}

// inRange reports whether at is in the filter's range.
func inRange(at, start, end time.Time, endIncl bool) bool {
	if at.Before(start) {
		return false
	}
	if endIncl {
		return !at.After(end)
	}
	return at.Before(end)
}

// matchString applies the filter's conditions on a string field (name, name_in, name_neq,
// name_notin); an absent condition matches.
func matchString(filter map[string]any, name, v string) bool {
	if s, ok := filter[name].(string); ok && s != v {
		return false
	}
	if s, ok := filter[name+"_neq"].(string); ok && s == v {
		return false
	}
	if list, ok := filter[name+"_in"].([]any); ok && !slices.Contains(list, any(v)) {
		return false
	}
	if list, ok := filter[name+"_notin"].([]any); ok && slices.Contains(list, any(v)) {
		return false
	}
	return true
}

// matchNumber applies the filter's comparisons on a numeric field.
func matchNumber(filter map[string]any, name string, v int) bool {
	num := func(k string) (float64, bool) {
		switch x := filter[k].(type) {
		case float64:
			return x, true
		case int:
			return float64(x), true
		case int64:
			return float64(x), true
		case json.Number:
			f, err := x.Float64()
			return f, err == nil
		}
		return 0, false
	}
	f := float64(v)
	if n, ok := num(name); ok && f != n {
		return false
	}
	if n, ok := num(name + "_geq"); ok && f < n {
		return false
	}
	if n, ok := num(name + "_gt"); ok && f <= n {
		return false
	}
	if n, ok := num(name + "_leq"); ok && f > n {
		return false
	}
	if n, ok := num(name + "_lt"); ok && f >= n {
		return false
	}
	return true
}

// limitArg reads a node's limit.
func limitArg(args map[string]any) int {
	switch x := args["limit"].(type) {
	case float64:
		return int(x)
	case int:
		return x
	case int64:
		return int(x)
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// selectedDimensions lists the dimensions a node's selection groups by.
func selectedDimensions(set ast.SelectionSet) []string {
	var dims []string
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok && f.Name == "dimensions" {
			for _, d := range f.SelectionSet {
				if g, ok := d.(*ast.Field); ok {
					dims = append(dims, g.Name)
				}
			}
		}
	}
	return dims
}

type gqlGroup struct {
	dims  map[string]any
	count int64
	host  string
}

// evalHTTPGroups answers httpRequestsAdaptiveGroups for a zone, or the problem with the query.
func (c *Cloudflare) evalHTTPGroups(z *cloudflareZone, args map[string]any, set ast.SelectionSet) ([]any, string) {
	filter, _ := args["filter"].(map[string]any)
	start, end, endIncl, problem := cloudflareRange(filter)
	if problem != "" {
		return nil, problem
	}
	if end.Sub(start) > time.Duration(z.maxDuration)*time.Second {
		return nil, fmt.Sprintf("cannot request a time range wider than %ds", z.maxDuration)
	}
	now := nowOr(c.Now)
	if now.Sub(start) > time.Duration(z.notOlderThan)*time.Second {
		return nil, fmt.Sprintf("cannot request data older than %ds", z.notOlderThan)
	}
	limit := limitArg(args)
	if limit > z.maxPageSize {
		return nil, fmt.Sprintf("limit must not be more than %d", z.maxPageSize)
	}
	dims := selectedDimensions(set)
	groups := map[string]*gqlGroup{}
	add := func(host string, status int, n int64) {
		if n == 0 || !matchString(filter, "clientRequestHTTPHost", host) || !matchNumber(filter, "edgeResponseStatus", status) {
			return
		}
		g := &gqlGroup{dims: map[string]any{}, host: host}
		var key []string
		for _, d := range dims {
			switch d {
			case "clientRequestHTTPHost":
				g.dims[d] = host
			case "edgeResponseStatus":
				g.dims[d] = status
			default:
				g.dims[d] = ""
			}
			key = append(key, fmt.Sprint(g.dims[d]))
		}
		k := strings.Join(key, "\x00")
		if old, ok := groups[k]; ok {
			old.count += n
			if old.host != host {
				old.host = "" // quantiles over several hosts: the fake has none
			}
			return
		}
		g.count = n
		groups[k] = g
	}
	withEvents := map[string]bool{}
	for _, e := range z.events {
		withEvents[e.host] = true
		if inRange(e.at, start, end, endIncl) && !e.at.After(now.Add(-c.Lag)) {
			add(e.host, e.status, e.n)
		}
	}
	hosts := make([]string, 0, len(z.http))
	for h := range z.http {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		if withEvents[h] {
			continue
		}
		for status, n := range z.http[h].ByStatus {
			add(h, status, n)
		}
	}
	list := make([]*gqlGroup, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	slices.SortFunc(list, func(a, b *gqlGroup) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(fmt.Sprint(a.dims), fmt.Sprint(b.dims)))
	})
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	rows := make([]any, 0, len(list))
	for _, g := range list {
		st := z.http[g.host]
		row := map[string]any{
			"count":      g.count,
			"dimensions": g.dims,
			"avg":        map[string]any{"sampleInterval": 1, "edgeTimeToFirstByteMs": st.P50Ms, "originResponseDurationMs": st.OriginP50},
			"quantiles": map[string]any{
				"edgeTimeToFirstByteMsP50": st.P50Ms, "edgeTimeToFirstByteMsP95": st.P95Ms, "edgeTimeToFirstByteMsP99": st.P95Ms,
				"originResponseDurationMsP50": st.OriginP50, "originResponseDurationMsP95": st.OriginP95, "originResponseDurationMsP99": st.OriginP95,
			},
			"sum": map[string]any{"edgeResponseBytes": 0, "visits": 0},
		}
		rows = append(rows, graphqlPick(set, row))
	}
	return rows, ""
}

func (c *Cloudflare) evalAccounts(f *ast.Field, args map[string]any, vars map[string]any) (any, []gqlError) {
	filter, _ := args["filter"].(map[string]any)
	tag, _ := filter["accountTag"].(string)
	a := c.account(tag)
	var errs []gqlError
	obj := map[string]any{}
	for _, s := range f.SelectionSet {
		g, ok := s.(*ast.Field)
		if !ok {
			continue
		}
		path := []any{"viewer", f.Alias, "0", g.Alias}
		if a.denied && g.Name != "accountTag" {
			errs = append(errs, newGQLError("account '"+tag+"' does not have access to the path", path...))
			continue
		}
		switch g.Name {
		case "accountTag":
			obj[g.Alias] = tag
		case "workersInvocationsAdaptive":
			rows, err := c.evalWorkers(a, g.ArgumentMap(vars), g.SelectionSet)
			if err != "" {
				errs = append(errs, newGQLError(err, path...))
				continue
			}
			obj[g.Alias] = rows
		default:
			obj[g.Alias] = []any{}
		}
	}
	return []any{obj}, errs
}

// Workers data: at most a month per query, no older than three months.
const (
	cloudflareWorkersMaxDuration  = 31 * 24 * time.Hour
	cloudflareWorkersNotOlderThan = 92 * 24 * time.Hour
)

func (c *Cloudflare) evalWorkers(a *cloudflareAccount, args map[string]any, set ast.SelectionSet) ([]any, string) {
	filter, _ := args["filter"].(map[string]any)
	start, end, endIncl, problem := cloudflareRange(filter)
	if problem != "" {
		return nil, problem
	}
	now := nowOr(c.Now)
	if end.Sub(start) > cloudflareWorkersMaxDuration {
		return nil, fmt.Sprintf("cannot request a time range wider than %ds", int(cloudflareWorkersMaxDuration.Seconds()))
	}
	if now.Sub(start) > cloudflareWorkersNotOlderThan {
		return nil, fmt.Sprintf("cannot request data older than %ds", int(cloudflareWorkersNotOlderThan.Seconds()))
	}
	limit := limitArg(args)
	if limit > cloudflareMaxPageSize {
		return nil, fmt.Sprintf("limit must not be more than %d", cloudflareMaxPageSize)
	}
	type agg struct{ requests, errors int64 }
	sums := map[string]*agg{}
	withEvents := map[string]bool{}
	for _, e := range a.events {
		withEvents[e.script] = true
		if inRange(e.at, start, end, endIncl) && !e.at.After(now.Add(-c.Lag)) && matchString(filter, "scriptName", e.script) {
			s := sums[e.script]
			if s == nil {
				s = &agg{}
				sums[e.script] = s
			}
			s.requests += e.requests
			s.errors += e.errors
		}
	}
	for script, wk := range a.scripts {
		if withEvents[script] || wk.Requests == 0 || !matchString(filter, "scriptName", script) {
			continue
		}
		sums[script] = &agg{wk.Requests, wk.Errors}
	}
	scripts := make([]string, 0, len(sums))
	for s := range sums {
		scripts = append(scripts, s)
	}
	slices.Sort(scripts)
	if limit > 0 && len(scripts) > limit {
		scripts = scripts[:limit]
	}
	rows := make([]any, 0, len(scripts))
	for _, script := range scripts {
		s, wk := sums[script], a.scripts[script]
		rows = append(rows, graphqlPick(set, map[string]any{
			"sum":        map[string]any{"requests": s.requests, "errors": s.errors, "subrequests": 0},
			"quantiles":  map[string]any{"cpuTimeP50": wk.CPUP50, "cpuTimeP99": wk.CPUP99},
			"dimensions": map[string]any{"scriptName": script},
		}))
	}
	return rows, ""
}

// graphqlPick keeps of data what the selection asks for, as a GraphQL server answers: each
// selected field under its alias, nothing that was not asked for. data is keyed by alias or by
// field name; a selected field the fake has no value for is null.
func graphqlPick(set ast.SelectionSet, v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = graphqlPick(set, e)
		}
		return out
	case map[string]any:
		if len(set) == 0 {
			return x
		}
		out := map[string]any{}
		for _, sel := range set {
			f, ok := sel.(*ast.Field)
			if !ok {
				continue
			}
			val, ok := x[f.Alias]
			if !ok {
				val = x[f.Name]
			}
			out[f.Alias] = graphqlPick(f.SelectionSet, val)
		}
		return out
	}
	return v
}
