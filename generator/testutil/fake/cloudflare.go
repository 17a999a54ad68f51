package fake

import (
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

// CloudflarePrefix is where the Cloudflare fake mounts the v4 API, as the real one does.
const CloudflarePrefix = "/client/v4"

// Cloudflare fakes the Cloudflare v4 API parts portfolio reads: health checks (REST, v4
// envelope with result_info paging) and GraphQL analytics (httpRequestsAdaptiveGroups,
// workersInvocationsAdaptive, dataset settings). See docs/collect.md, "The APIs as portfolio
// reads them".
type Cloudflare struct {
	Server *httptest.Server
	// URL is the API base URL, with the /client/v4 prefix: CLOUDFLARE_API_BASE_URL.
	URL   string
	Token string
	// Latency is added to every request.
	Latency time.Duration
	// Now is the fake's clock for the dataset's notOlderThan limit; default time.Now.
	Now func() time.Time
	// Lag is how late analytics arrive: events younger than Lag are not in any answer yet.
	Lag time.Duration
	// MaxQueriesPerRequest, when set, refuses a GraphQL request with more queries (dataset
	// nodes under each zones or accounts scope): Cloudflare limits them but publishes no number.
	MaxQueriesPerRequest int

	faults faults
	calls  lockedList[string]
	gql    lockedList[CloudflareGraphQLCall]

	mu       sync.Mutex
	zones    map[string]*cloudflareZone
	accounts map[string]*cloudflareAccount
	nextID   int
}

type cloudflareZone struct {
	healthchecks []cf.Healthcheck
	http         map[string]CloudflareHTTP
	events       []cloudflareHTTPEvent
	maxDuration  int // seconds
	notOlderThan int // seconds
	maxPageSize  int
	denied       bool
}

type cloudflareAccount struct {
	scripts map[string]CloudflareWorker
	events  []cloudflareWorkerEvent
	denied  bool
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
		accounts: map[string]*cloudflareAccount{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CloudflarePrefix+"/graphql", c.graphql)
	mux.HandleFunc("GET "+CloudflarePrefix+"/zones/{zone}/healthchecks", c.listHealthchecks)
	mux.HandleFunc("POST "+CloudflarePrefix+"/zones/{zone}/healthchecks", c.createHealthcheck)
	mux.HandleFunc("GET "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.getHealthcheck)
	mux.HandleFunc("PUT "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.updateHealthcheck)
	mux.HandleFunc("PATCH "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.updateHealthcheck)
	mux.HandleFunc("DELETE "+CloudflarePrefix+"/zones/{zone}/healthchecks/{id}", c.deleteHealthcheck)
	mux.HandleFunc("/", cloudflareNoRoute)
	c.Server, c.URL = startServer(t, CloudflarePrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := requestKey(r, CloudflarePrefix)
		c.calls.add(key)
		if !sleepCtx(r, c.Latency) || c.faults.answer(w, r, key, cloudflareFaultBody) {
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+c.Token {
			if strings.HasSuffix(r.URL.Path, "/graphql") {
				cloudflareGraphQLError(w, http.StatusUnauthorized, "not authorized", "authz")
				return
			}
			cloudflareError(w, http.StatusBadRequest, 6003, "Invalid request headers")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return c
}

// Inject adds a fault.
func (c *Cloudflare) Inject(f InjectedFault) { c.faults.add(f) }

// ClearFaults removes every injected fault.
func (c *Cloudflare) ClearFaults() { c.faults.clear() }

// Calls lists the requests received, as "METHOD /path?query body" without the prefix.
func (c *Cloudflare) Calls() []string { return c.calls.all() }

// GraphQLCalls lists the GraphQL requests that reached the handler (faults excluded).
func (c *Cloudflare) GraphQLCalls() []CloudflareGraphQLCall { return c.gql.all() }

func (c *Cloudflare) zone(id string) *cloudflareZone {
	z, ok := c.zones[id]
	if !ok {
		z = &cloudflareZone{http: map[string]CloudflareHTTP{}, maxDuration: 86400, notOlderThan: 2678400, maxPageSize: cloudflareMaxPageSize}
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

// SetMaxPageSize sets the zone's httpRequestsAdaptiveGroups maxPageSize (default 10000): a
// query asking for more groups is refused, and the settings node says so.
func (c *Cloudflare) SetMaxPageSize(zone string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.zone(zone).maxPageSize = n
}

// SetWorker sets what the account reports for a Workers script.
func (c *Cloudflare) SetWorker(account, script string, w CloudflareWorker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.account(account).scripts[script] = w
}

func (c *Cloudflare) account(id string) *cloudflareAccount {
	a, ok := c.accounts[id]
	if !ok {
		a = &cloudflareAccount{scripts: map[string]CloudflareWorker{}}
		c.accounts[id] = a
	}
	return a
}

// The v4 envelope and its paging, shared by the Cloudflare, CloudflareHealthchecks and Pages
// fakes (docs/collect.md): {"success","errors","messages","result"}, and
// "result_info" on a list.

// CloudflareErrorBody is a v4 envelope with success:false, as Cloudflare sends even with HTTP 200.
func CloudflareErrorBody(code int, msg string) string {
	b, _ := json.Marshal(cloudflareEnvelope(nil, nil, code, msg))
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

// cloudflareGraphQLError answers a GraphQL error with status.
func cloudflareGraphQLError(w http.ResponseWriter, status int, msg, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, CloudflareGraphQLErrorBody(msg, code))
}

// cloudflareResultInfo is a list's paging metadata: exactly the fields Cloudflare's
// description promises (healthchecks_result_info, aaa_result_info); no total_pages.
type cloudflareResultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
}

// cloudflareEnvelope wraps result, or the error code and msg when code is not 0.
func cloudflareEnvelope(result any, info *cloudflareResultInfo, code int, msg string) map[string]any {
	env := map[string]any{"success": code == 0, "errors": []any{}, "messages": []any{}, "result": result}
	if code != 0 {
		env["errors"] = []map[string]any{{"code": code, "message": msg}}
	}
	if info != nil {
		env["result_info"] = info
	}
	return env
}

// cloudflareResult answers result in a successful envelope.
func cloudflareResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, cloudflareEnvelope(result, nil, 0, ""))
}

// cloudflareError answers status with an envelope holding the error code and msg.
func cloudflareError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, cloudflareEnvelope(nil, nil, code, msg))
}

// cloudflareFaultBody is the error envelope of an injected fault that names no body.
func cloudflareFaultBody(status int) string {
	return CloudflareErrorBody(10000+status, http.StatusText(status))
}

func cloudflareNoRoute(w http.ResponseWriter, r *http.Request) {
	cloudflareError(w, http.StatusNotFound, 7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
}

// cloudflarePage answers one page of all as the v4 API pages a list: page counts from 1 and
// per_page (perPage when the query names none) is a multiple of 5 from 5 to 1000.
func cloudflarePage[T any](w http.ResponseWriter, r *http.Request, all []T, perPage int) {
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			cloudflareError(w, http.StatusBadRequest, 1001, "page must be a positive integer")
			return
		}
		page = n
	}
	if v := r.URL.Query().Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 || n%5 != 0 {
			cloudflareError(w, http.StatusBadRequest, 1001, "per_page must be a multiple of 5 between 5 and 1000")
			return
		}
		perPage = n
	}
	lo, hi := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	res := append(make([]T, 0, hi-lo), all[lo:hi]...) // [] rather than null when empty
	info := &cloudflareResultInfo{Page: page, PerPage: perPage, Count: len(res), TotalCount: len(all)}
	writeJSON(w, http.StatusOK, cloudflareEnvelope(res, info, 0, ""))
}

func (c *Cloudflare) listHealthchecks(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	all := slices.Clone(c.zone(r.PathValue("zone")).healthchecks)
	c.mu.Unlock()
	cloudflarePage(w, r, all, 25) // 25: healthchecks_per_page's default
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
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	cloudflareResult(w, hc)
}

func (c *Cloudflare) createHealthcheck(w http.ResponseWriter, r *http.Request) {
	var hc cf.Healthcheck
	if err := json.NewDecoder(r.Body).Decode(&hc); err != nil || hc.Name == "" || hc.Address == "" {
		cloudflareError(w, http.StatusBadRequest, 1001, "name and address are required")
		return
	}
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	hc.ID, hc.CreatedOn, hc.ModifiedOn, hc.Status = "", &now, &now, "unknown"
	id := c.AddHealthcheck(r.PathValue("zone"), hc)
	hc.ID = id
	cloudflareResult(w, hc)
}

func (c *Cloudflare) updateHealthcheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, z := c.findHealthcheck(r.PathValue("zone"), r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	hc := z.healthchecks[i]
	if r.Method == http.MethodPut {
		hc = cf.Healthcheck{ID: hc.ID, CreatedOn: hc.CreatedOn, Status: hc.Status}
	}
	// PATCH: decoding over the stored value keeps the fields the body leaves out.
	if err := json.NewDecoder(r.Body).Decode(&hc); err != nil {
		cloudflareError(w, http.StatusBadRequest, 1001, "malformed JSON")
		return
	}
	hc.ID = z.healthchecks[i].ID
	z.healthchecks[i] = hc
	cloudflareResult(w, hc)
}

func (c *Cloudflare) deleteHealthcheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, z := c.findHealthcheck(r.PathValue("zone"), r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	z.healthchecks = slices.Delete(z.healthchecks, i, i+1)
	cloudflareResult(w, map[string]string{"id": r.PathValue("id")})
}
