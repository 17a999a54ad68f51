// Package fake holds httptest fakes of the external APIs portfolio talks to, for tests only.
package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"
)

// InjectedFault makes a fake answer matching requests badly. It is shared by the Cloudflare and
// PostHog fakes.
type InjectedFault struct {
	// Match is a substring of "METHOD /path?query body" (the path without the fake's prefix);
	// empty matches every request.
	Match string
	// Times is how many matching requests get the fault; 0 means all of them.
	Times int
	// Status is the HTTP status to answer; 0 means 200.
	Status int
	// RetryAfter is sent as the retry-after header when set.
	RetryAfter string
	// Body is the raw body to answer (use it for malformed JSON, an envelope with
	// success:false, GraphQL errors in a 200). Empty: an envelope naming the status.
	Body string
	// Hang makes the fake wait until the client gives up (a timeout).
	Hang bool
	// Delay is added before answering.
	Delay time.Duration

	hits int
}

// faults is a list of injected faults, consulted in order.
type faults struct {
	mu   sync.Mutex
	list []*InjectedFault
}

func (fs *faults) add(f InjectedFault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.list = append(fs.list, &f)
}

func (fs *faults) match(key string) *InjectedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.list {
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		if f.Match == "" || strings.Contains(key, f.Match) {
			f.hits++
			c := *f
			return &c
		}
	}
	return nil
}

// serve answers with the fault; defaultBody renders the body when the fault names none.
func (f *InjectedFault) serve(w http.ResponseWriter, r *http.Request, defaultBody func(status int) string) {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.Hang {
		<-r.Context().Done()
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		body = defaultBody(status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// requestKey reads the body (restoring it) and returns "METHOD /path?query body".
func requestKey(r *http.Request, prefix string) (string, []byte) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	path := strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	return r.Method + " " + path + " " + string(body), body
}

func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

// CloudflarePrefix is where the Cloudflare fake mounts the v4 API, as the real one does.
const CloudflarePrefix = "/client/v4"

// Cloudflare fakes the Cloudflare v4 API parts portfolio reads: health checks (REST, v4
// envelope with result_info paging) and GraphQL analytics (httpRequestsAdaptiveGroups,
// workersInvocationsAdaptive, dataset settings). See shared/specs/cloudflare.md §2–4.
type Cloudflare struct {
	Server *httptest.Server
	// URL is the API base URL, with the /client/v4 prefix: CLOUDFLARE_API_BASE_URL.
	URL   string
	Token string
	// Latency is added to every request.
	Latency time.Duration
	// Now is the fake's clock for the dataset's notOlderThan limit; default time.Now.
	Now func() time.Time

	faults faults

	mu       sync.Mutex
	zones    map[string]*cloudflareZone
	accounts map[string]map[string]CloudflareWorker // account → script → stats
	calls    []string
	gql      []CloudflareGraphQLCall
	nextID   int
}

type cloudflareZone struct {
	healthchecks []cf.Healthcheck
	http         map[string]CloudflareHTTP
	maxDuration  int // seconds
	notOlderThan int // seconds
}

// CloudflareHTTP is what the fake reports for a hostname, whatever the time range.
type CloudflareHTTP struct {
	ByStatus             map[int]int64 // requests by edge response status
	P50Ms, P95Ms         float64       // edgeTimeToFirstByteMs quantiles
	OriginP50, OriginP95 float64
}

// CloudflareWorker is what the fake reports for a Workers script.
type CloudflareWorker struct {
	Requests, Errors int64
	CPUP50, CPUP99   float64 // µs
}

// CloudflareGraphQLCall is one GraphQL request the fake received.
type CloudflareGraphQLCall struct {
	Query     string
	Variables map[string]any
}

// NewCloudflare starts the fake; it stops when the test ends.
func NewCloudflare(t testing.TB) *Cloudflare {
	c := &Cloudflare{
		Token:    "cf-test-token-0123456789",
		zones:    map[string]*cloudflareZone{},
		accounts: map[string]map[string]CloudflareWorker{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CloudflarePrefix+"/graphql", c.graphql)
	mux.HandleFunc("GET "+CloudflarePrefix+"/zones/{zone}/healthchecks", c.listHealthchecks)
	mux.HandleFunc("POST "+CloudflarePrefix+"/zones/{zone}/healthchecks", c.createHealthcheck)
	mux.HandleFunc("GET "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.getHealthcheck)
	mux.HandleFunc("PUT "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.updateHealthcheck)
	mux.HandleFunc("PATCH "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.updateHealthcheck)
	mux.HandleFunc("DELETE "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.deleteHealthcheck)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		cloudflareEnvelope(w, http.StatusNotFound, nil, nil, 7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
	})
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := requestKey(r, CloudflarePrefix)
		c.mu.Lock()
		c.calls = append(c.calls, key)
		c.mu.Unlock()
		if !sleepCtx(r, c.Latency) {
			return
		}
		if f := c.faults.match(key); f != nil {
			f.serve(w, r, func(status int) string {
				return CloudflareErrorBody(10000+status, http.StatusText(status))
			})
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+c.Token {
			if strings.HasSuffix(r.URL.Path, "/graphql") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, CloudflareGraphQLErrorBody("not authorized", "authz"))
				return
			}
			cloudflareEnvelope(w, http.StatusBadRequest, nil, nil, 6003, "Invalid request headers")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	c.URL = c.Server.URL + CloudflarePrefix
	t.Cleanup(c.Server.Close)
	return c
}

// Inject adds a fault.
func (c *Cloudflare) Inject(f InjectedFault) { c.faults.add(f) }

// Calls lists the requests received, as "METHOD /path?query body" without the prefix.
func (c *Cloudflare) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// GraphQLCalls lists the GraphQL requests that reached the handler (faults excluded).
func (c *Cloudflare) GraphQLCalls() []CloudflareGraphQLCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.gql)
}

func (c *Cloudflare) zone(id string) *cloudflareZone {
	z, ok := c.zones[id]
	if !ok {
		z = &cloudflareZone{http: map[string]CloudflareHTTP{}, maxDuration: 86400, notOlderThan: 2678400}
		c.zones[id] = z
	}
	return z
}

// AddHealthcheck stores a health check in the zone and returns its id (given or generated).
func (c *Cloudflare) AddHealthcheck(zone string, hc cf.Healthcheck) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc.ID == "" {
		c.nextID++
		hc.ID = fmt.Sprintf("hc%030d", c.nextID)
	}
	if hc.Status == "" {
		hc.Status = "unknown"
	}
	z := c.zone(zone)
	z.healthchecks = append(z.healthchecks, hc)
	return hc.ID
}

// Healthchecks returns the zone's health checks.
func (c *Cloudflare) Healthchecks(zone string) []cf.Healthcheck {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.zone(zone).healthchecks)
}

// SetHTTP sets the analytics the zone reports for host.
func (c *Cloudflare) SetHTTP(zone, host string, s CloudflareHTTP) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.zone(zone).http[host] = s
}

// SetDatasetLimits sets the zone's httpRequestsAdaptiveGroups maxDuration and notOlderThan
// (seconds); the defaults are one day and 31 days. Wider or older queries get HTTP 400.
func (c *Cloudflare) SetDatasetLimits(zone string, maxDuration, notOlderThan int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	z := c.zone(zone)
	z.maxDuration, z.notOlderThan = maxDuration, notOlderThan
}

// SetWorker sets what the account reports for a Workers script.
func (c *Cloudflare) SetWorker(account, script string, w CloudflareWorker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accounts[account] == nil {
		c.accounts[account] = map[string]CloudflareWorker{}
	}
	c.accounts[account][script] = w
}

// CloudflareErrorBody is a v4 envelope with success:false, as Cloudflare sends even with HTTP 200.
func CloudflareErrorBody(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"success": false, "errors": []map[string]any{{"code": code, "message": msg}},
		"messages": []any{}, "result": nil})
	return string(b)
}

// CloudflareGraphQLErrorBody is a GraphQL answer with errors and no data.
func CloudflareGraphQLErrorBody(msg, code string) string {
	ext := map[string]any{"timestamp": "2026-06-30T12:00:00Z"}
	if code != "" {
		ext["code"] = code
	}
	b, _ := json.Marshal(map[string]any{"data": nil, "errors": []map[string]any{{"message": msg, "path": []string{"viewer"}, "extensions": ext}}})
	return string(b)
}

type cloudflareResultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

func cloudflareEnvelope(w http.ResponseWriter, status int, result any, info *cloudflareResultInfo, code int, msg string) {
	env := map[string]any{"success": code == 0, "errors": []any{}, "messages": []any{}, "result": result}
	if code != 0 {
		env["errors"] = []map[string]any{{"code": code, "message": msg}}
	}
	if info != nil {
		env["result_info"] = info
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(env)
}

func (c *Cloudflare) listHealthchecks(w http.ResponseWriter, r *http.Request) {
	page, perPage := 1, 20
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			cloudflareEnvelope(w, http.StatusBadRequest, nil, nil, 1001, "page must be a positive integer")
			return
		}
		page = n
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 || n%5 != 0 {
			cloudflareEnvelope(w, http.StatusBadRequest, nil, nil, 1001, "per_page must be a multiple of 5 between 5 and 1000")
			return
		}
		perPage = n
	}
	c.mu.Lock()
	all := slices.Clone(c.zone(r.PathValue("zone")).healthchecks)
	c.mu.Unlock()
	lo := min((page-1)*perPage, len(all))
	hi := min(lo+perPage, len(all))
	res := all[lo:hi]
	if res == nil {
		res = []cf.Healthcheck{}
	}
	cloudflareEnvelope(w, http.StatusOK, res, &cloudflareResultInfo{Page: page, PerPage: perPage, Count: len(res),
		TotalCount: len(all), TotalPages: (len(all) + perPage - 1) / perPage}, 0, "")
}

func (c *Cloudflare) findHealthcheck(zone, id string) (int, *cloudflareZone) {
	z := c.zone(zone)
	for i, hc := range z.healthchecks {
		if hc.ID == id {
			return i, z
		}
	}
	return -1, z
}

func (c *Cloudflare) getHealthcheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	i, z := c.findHealthcheck(r.PathValue("zone"), r.PathValue("id"))
	var hc cf.Healthcheck
	if i >= 0 {
		hc = z.healthchecks[i]
	}
	c.mu.Unlock()
	if i < 0 {
		cloudflareEnvelope(w, http.StatusNotFound, nil, nil, 1002, "Health check not found")
		return
	}
	cloudflareEnvelope(w, http.StatusOK, hc, nil, 0, "")
}

func (c *Cloudflare) createHealthcheck(w http.ResponseWriter, r *http.Request) {
	var hc cf.Healthcheck
	if err := json.NewDecoder(r.Body).Decode(&hc); err != nil || hc.Name == "" || hc.Address == "" {
		cloudflareEnvelope(w, http.StatusBadRequest, nil, nil, 1001, "name and address are required")
		return
	}
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	hc.ID, hc.CreatedOn, hc.ModifiedOn, hc.Status = "", &now, &now, "unknown"
	id := c.AddHealthcheck(r.PathValue("zone"), hc)
	hc.ID = id
	cloudflareEnvelope(w, http.StatusOK, hc, nil, 0, "")
}

func (c *Cloudflare) updateHealthcheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, z := c.findHealthcheck(r.PathValue("zone"), r.PathValue("id"))
	if i < 0 {
		cloudflareEnvelope(w, http.StatusNotFound, nil, nil, 1002, "Health check not found")
		return
	}
	hc := z.healthchecks[i]
	if r.Method == http.MethodPut {
		hc = cf.Healthcheck{ID: hc.ID, CreatedOn: hc.CreatedOn, Status: hc.Status}
	}
	// PATCH: decoding over the stored value keeps the fields the body leaves out.
	if err := json.NewDecoder(r.Body).Decode(&hc); err != nil {
		cloudflareEnvelope(w, http.StatusBadRequest, nil, nil, 1001, "malformed JSON")
		return
	}
	hc.ID = z.healthchecks[i].ID
	z.healthchecks[i] = hc
	cloudflareEnvelope(w, http.StatusOK, hc, nil, 0, "")
}

func (c *Cloudflare) deleteHealthcheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, z := c.findHealthcheck(r.PathValue("zone"), r.PathValue("id"))
	if i < 0 {
		cloudflareEnvelope(w, http.StatusNotFound, nil, nil, 1002, "Health check not found")
		return
	}
	z.healthchecks = slices.Delete(z.healthchecks, i, i+1)
	cloudflareEnvelope(w, http.StatusOK, map[string]string{"id": r.PathValue("id")}, nil, 0, "")
}

func (c *Cloudflare) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	gqlErr := func(status int, msg, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, CloudflareGraphQLErrorBody(msg, code))
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Query == "" {
		gqlErr(http.StatusBadRequest, "failed to parse request body", "")
		return
	}
	c.mu.Lock()
	c.gql = append(c.gql, CloudflareGraphQLCall{Query: req.Query, Variables: req.Variables})
	c.mu.Unlock()
	str := func(k string) string { s, _ := req.Variables[k].(string); return s }
	var data any
	switch {
	case strings.Contains(req.Query, "settings"):
		c.mu.Lock()
		z := c.zone(str("zoneTag"))
		settings := map[string]any{"httpRequestsAdaptiveGroups": map[string]any{
			"enabled": true, "maxDuration": z.maxDuration, "notOlderThan": z.notOlderThan, "maxPageSize": 10000}}
		c.mu.Unlock()
		data = map[string]any{"viewer": map[string]any{"zones": []any{map[string]any{"settings": settings}}}}
	case strings.Contains(req.Query, "httpRequestsAdaptiveGroups"):
		start, err1 := time.Parse(time.RFC3339, str("start"))
		end, err2 := time.Parse(time.RFC3339, str("end"))
		if err1 != nil || err2 != nil {
			gqlErr(http.StatusBadRequest, "start and end must be ISO-8601 times", "")
			return
		}
		c.mu.Lock()
		z := c.zone(str("zoneTag"))
		stats := z.http[str("host")]
		maxDur, notOlder := z.maxDuration, z.notOlderThan
		c.mu.Unlock()
		if end.Sub(start) > time.Duration(maxDur)*time.Second {
			gqlErr(http.StatusBadRequest, fmt.Sprintf("cannot request a time range wider than %ds", maxDur), "")
			return
		}
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		if now().Sub(start) > time.Duration(notOlder)*time.Second {
			gqlErr(http.StatusBadRequest, fmt.Sprintf("cannot request data older than %ds", notOlder), "")
			return
		}
		var total int64
		byStatus := []any{}
		codes := make([]int, 0, len(stats.ByStatus))
		for code := range stats.ByStatus {
			codes = append(codes, code)
		}
		slices.SortFunc(codes, func(a, b int) int { return int(stats.ByStatus[b] - stats.ByStatus[a]) })
		for _, code := range codes {
			n := stats.ByStatus[code]
			total += n
			byStatus = append(byStatus, map[string]any{"count": n, "dimensions": map[string]any{"edgeResponseStatus": code}})
		}
		totalRows := []any{}
		if total > 0 {
			totalRows = append(totalRows, map[string]any{
				"count": total,
				"avg":   map[string]any{"sampleInterval": 1, "edgeTimeToFirstByteMs": stats.P50Ms, "originResponseDurationMs": stats.OriginP50},
				"quantiles": map[string]any{
					"edgeTimeToFirstByteMsP50": stats.P50Ms, "edgeTimeToFirstByteMsP95": stats.P95Ms, "edgeTimeToFirstByteMsP99": stats.P95Ms,
					"originResponseDurationMsP50": stats.OriginP50, "originResponseDurationMsP95": stats.OriginP95, "originResponseDurationMsP99": stats.OriginP95,
				},
			})
		}
		data = map[string]any{"viewer": map[string]any{"zones": []any{map[string]any{"total": totalRows, "byStatus": byStatus}}}}
	case strings.Contains(req.Query, "workersInvocationsAdaptive"):
		c.mu.Lock()
		wk, ok := c.accounts[str("accountTag")][str("script")]
		c.mu.Unlock()
		rows := []any{}
		if ok {
			rows = append(rows, map[string]any{
				"sum":        map[string]any{"requests": wk.Requests, "errors": wk.Errors, "subrequests": 0},
				"quantiles":  map[string]any{"cpuTimeP50": wk.CPUP50, "cpuTimeP99": wk.CPUP99},
				"dimensions": map[string]any{"scriptName": str("script")},
			})
		}
		data = map[string]any{"viewer": map[string]any{"accounts": []any{map[string]any{"workersInvocationsAdaptive": rows}}}}
	default:
		gqlErr(http.StatusBadRequest, "unknown field in query", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": data, "errors": nil})
}
