package fake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"
)

// CloudflareHealthchecks fakes the parts of the Cloudflare v4 API that `portfolio healthchecks`
// manages: zone Health Checks (GET list with page/per_page paging, POST, GET, PUT, PATCH,
// DELETE) and the account's Notifications API (alerting/v3 policies and webhook destinations).
// Every answer is a v4 envelope; lists carry result_info. Objects are kept as JSON objects, so
// fields a client does not send keep the API's defaults and a PUT replaces the object whole.
// See docs/healthchecks.md and docs/collect.md.
type CloudflareHealthchecks struct {
	Server *httptest.Server
	// URL is the API base URL with the /client/v4 prefix: CLOUDFLARE_API_BASE_URL.
	URL     string
	Token   string
	Account string
	// DefaultPerPage is the page size of a list that names none (default 25, as Cloudflare's
	// description of the health checks list says).
	DefaultPerPage int
	// The notification policies and webhook destinations are not paged (their descriptions
	// define no query parameter; Cloudflare's SDK reads "a list of all" with one GET): the
	// lists are answered whole, whatever the query. NotificationListCap, when set, answers
	// at most that many while result_info's total_count says how many there are.
	NotificationListCap int
	// MaskWebhookURLs answers webhook destinations with their URL masked, as Cloudflare may
	// for a Slack destination (not documented either way): clients must not rely on it.
	MaskWebhookURLs bool

	faults faults
	calls  lockedList[string]

	mu        sync.Mutex
	zones     map[string][]map[string]any
	policies  []map[string]any
	webhooks  []map[string]any
	mutations []CloudflareMutation
	failures  map[int]CloudflareFailure
	nextID    int
}

// CloudflareMutation is one POST, PUT, PATCH or DELETE the fake received, with the status it
// answered (a failed one changed nothing).
type CloudflareMutation struct {
	Method string
	Path   string // without the /client/v4 prefix
	Body   string
	Status int
}

// CloudflareFailure is the answer to a mutating call made to fail.
type CloudflareFailure struct {
	Status  int
	Code    int
	Message string
}

// NewCloudflareHealthchecks starts the fake; it stops when the test ends.
func NewCloudflareHealthchecks(t testing.TB) *CloudflareHealthchecks {
	c := &CloudflareHealthchecks{
		Token:          "cf-hc-test-token-0123456789",
		Account:        "01a7362d577a6c3019a474fd6f485823",
		DefaultPerPage: 25,
		zones:          map[string][]map[string]any{},
		failures:       map[int]CloudflareFailure{},
	}
	mux := http.NewServeMux()
	p := CloudflarePrefix
	mux.HandleFunc("GET "+p+"/zones/{zone}/healthchecks", c.listChecks)
	mux.HandleFunc("POST "+p+"/zones/{zone}/healthchecks", c.createCheck)
	mux.HandleFunc("GET "+p+"/zones/{zone}/healthchecks/{id}", c.getCheck)
	mux.HandleFunc("PUT "+p+"/zones/{zone}/healthchecks/{id}", c.updateCheck)
	mux.HandleFunc("PATCH "+p+"/zones/{zone}/healthchecks/{id}", c.updateCheck)
	mux.HandleFunc("DELETE "+p+"/zones/{zone}/healthchecks/{id}", c.deleteCheck)
	acct := p + "/accounts/{account}/alerting/v3"
	mux.HandleFunc("GET "+acct+"/policies", c.account(c.listPolicies))
	mux.HandleFunc("POST "+acct+"/policies", c.account(c.createPolicy))
	mux.HandleFunc("GET "+acct+"/policies/{id}", c.account(c.getPolicy))
	mux.HandleFunc("PUT "+acct+"/policies/{id}", c.account(c.updatePolicy))
	mux.HandleFunc("DELETE "+acct+"/policies/{id}", c.account(c.deletePolicy))
	mux.HandleFunc("GET "+acct+"/destinations/webhooks", c.account(c.listWebhooks))
	mux.HandleFunc("POST "+acct+"/destinations/webhooks", c.account(c.createWebhook))
	mux.HandleFunc("DELETE "+acct+"/destinations/webhooks/{id}", c.account(c.deleteWebhook))
	mux.HandleFunc("/", cloudflareNoRoute)
	c.Server, c.URL = startServer(t, CloudflarePrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, body := requestKey(r, CloudflarePrefix)
		c.calls.add(key)
		mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
		c.mu.Lock()
		n := -1
		if mutating {
			c.mutations = append(c.mutations, CloudflareMutation{Method: r.Method, Path: strings.TrimPrefix(r.URL.Path, CloudflarePrefix), Body: string(body)})
			n = len(c.mutations)
		}
		fail, failNow := c.failures[n]
		c.mu.Unlock()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if n > 0 {
				c.mu.Lock()
				c.mutations[n-1].Status = rec.status
				c.mu.Unlock()
			}
		}()
		if c.faults.answer(rec, r, key, cloudflareFaultBody) {
			return
		}
		switch auth := r.Header.Get("Authorization"); {
		case auth == "":
			cloudflareError(rec, http.StatusBadRequest, 6003, "Invalid request headers")
			return
		case auth != "Bearer "+c.Token:
			cloudflareError(rec, http.StatusForbidden, 10000, "Authentication error")
			return
		}
		if failNow {
			cloudflareError(rec, fail.Status, fail.Code, fail.Message)
			return
		}
		mux.ServeHTTP(rec, r)
	}))
	return c
}

// Inject adds a fault (429 with Retry-After, 5xx, malformed bodies, hangs) for matching requests.
func (c *CloudflareHealthchecks) Inject(f InjectedFault) { c.faults.add(f) }

// FailMutation makes the nth mutating call (POST, PUT, PATCH or DELETE; counted from 1 over the
// fake's life) answer status with the error code and message, changing nothing.
func (c *CloudflareHealthchecks) FailMutation(n int, f CloudflareFailure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures[n] = f
}

// Calls lists every request received, as "METHOD /path?query body" without the prefix.
func (c *CloudflareHealthchecks) Calls() []string { return c.calls.all() }

// Mutations lists the mutating requests received, in order, with the status each got.
func (c *CloudflareHealthchecks) Mutations() []CloudflareMutation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.mutations)
}

// ResetCalls forgets the requests received so far (failures stay counted from the start).
func (c *CloudflareHealthchecks) ResetCalls() { c.calls.reset() }

func (c *CloudflareHealthchecks) newID(kind byte) string {
	c.nextID++
	return fmt.Sprintf("%c%031x", kind, c.nextID)
}

// hcDecodeAll decodes stored objects as a client would.
func hcDecodeAll[T any](list []map[string]any) []T {
	var out []T
	for _, m := range list {
		out = append(out, viaJSON[T](m))
	}
	return out
}

// hcCopyAll copies the objects of a list to answer after unlocking.
func hcCopyAll(list []map[string]any) []map[string]any {
	out := make([]map[string]any, len(list))
	for i, m := range list {
		out[i] = maps.Clone(m)
	}
	return out
}

// AddHealthcheck stores a health check in the zone as if created through the API (its id and
// defaults are filled in) and returns its id.
func (c *CloudflareHealthchecks) AddHealthcheck(zone string, hc cf.Healthcheck) string {
	m := jsonObject(hc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc.ID == "" {
		m["id"] = c.newID('a')
	}
	hcCheckDefaults(m, nil)
	c.zones[zone] = append(c.zones[zone], m)
	return m["id"].(string)
}

// Healthchecks returns the zone's health checks, in creation order.
func (c *CloudflareHealthchecks) Healthchecks(zone string) []cf.Healthcheck {
	c.mu.Lock()
	defer c.mu.Unlock()
	return hcDecodeAll[cf.Healthcheck](c.zones[zone])
}

// HealthcheckJSON returns the stored JSON object of a health check, or nil.
func (c *CloudflareHealthchecks) HealthcheckJSON(zone, id string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := hcIndexOf(c.zones[zone], id); i >= 0 {
		return jsonObject(c.zones[zone][i]) // a deep copy
	}
	return nil
}

// EditHealthcheck changes a stored health check in place, as a person in the dashboard would.
func (c *CloudflareHealthchecks) EditHealthcheck(zone, id string, edit func(m map[string]any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := hcIndexOf(c.zones[zone], id); i >= 0 {
		edit(c.zones[zone][i])
	}
}

// AddPolicy stores a notification policy and returns its id.
func (c *CloudflareHealthchecks) AddPolicy(p cf.NotificationPolicy) string {
	m := jsonObject(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.ID == "" {
		m["id"] = c.newID('b')
	}
	c.policies = append(c.policies, m)
	return m["id"].(string)
}

// Policies returns the account's notification policies, in creation order.
func (c *CloudflareHealthchecks) Policies() []cf.NotificationPolicy {
	c.mu.Lock()
	defer c.mu.Unlock()
	return hcDecodeAll[cf.NotificationPolicy](c.policies)
}

// EditPolicy changes a stored notification policy in place.
func (c *CloudflareHealthchecks) EditPolicy(id string, edit func(m map[string]any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := hcIndexOf(c.policies, id); i >= 0 {
		edit(c.policies[i])
	}
}

// PolicyJSON returns the stored JSON object of a policy, or nil.
func (c *CloudflareHealthchecks) PolicyJSON(id string) map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i := hcIndexOf(c.policies, id); i >= 0 {
		return jsonObject(c.policies[i]) // a deep copy
	}
	return nil
}

// AddWebhook stores a webhook destination and returns its id.
func (c *CloudflareHealthchecks) AddWebhook(name, url string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	// No secret (Cloudflare never returns one), and no last_success/last_failure until a
	// notification was dispatched (the description does not allow them to be null).
	m := map[string]any{"id": c.newID('c'), "name": name, "url": url, "type": hcWebhookType(url),
		"created_at": time.Now().UTC().Format(time.RFC3339)}
	c.webhooks = append(c.webhooks, m)
	return m["id"].(string)
}

// Webhooks returns the account's webhook destinations, in creation order.
func (c *CloudflareHealthchecks) Webhooks() []cf.NotificationWebhookIntegration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return hcDecodeAll[cf.NotificationWebhookIntegration](c.webhooks)
}

func hcWebhookType(url string) string {
	if strings.Contains(url, "hooks.slack.com") {
		return "slack"
	}
	return "generic"
}

func hcIndexOf(list []map[string]any, id string) int {
	return slices.IndexFunc(list, func(m map[string]any) bool { return m["id"] == id })
}

func hcDecodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m == nil {
		cloudflareError(w, http.StatusBadRequest, 1001, "malformed JSON body")
		return nil, false
	}
	return m, true
}

// Health checks.

var hcCheckRegions = []string{"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "IN", "SEAS", "NEAS", "ALL_REGIONS"}

var hcExpectedCodeRE = regexp.MustCompile(`^[1-5]([0-9]{2}|xx)$`)

// hcCheckDefaults fills what the API fills and sets the read-only fields; old is the stored
// object an update replaces.
func hcCheckDefaults(m, old map[string]any) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	def := func(k string, v any) {
		if _, ok := m[k]; !ok || m[k] == nil {
			m[k] = v
		}
	}
	def("description", "")
	def("suspended", false)
	def("retries", 2.0)
	def("timeout", 5.0)
	def("interval", 60.0)
	def("consecutive_successes", 1.0)
	def("consecutive_fails", 1.0)
	def("type", "HTTP")
	def("check_regions", nil)
	if m["type"] != "TCP" {
		hc, _ := m["http_config"].(map[string]any)
		if hc == nil {
			hc = map[string]any{}
		}
		port := 80.0
		if m["type"] == "HTTPS" {
			port = 443
		}
		for k, v := range map[string]any{"method": "GET", "port": port, "path": "/", "expected_codes": []any{"200"},
			"expected_body": "", "follow_redirects": false, "allow_insecure": false, "header": nil} {
			if x, ok := hc[k]; !ok || x == nil || x == 0.0 {
				hc[k] = v
			}
		}
		m["http_config"] = hc
		m["tcp_config"] = nil
	}
	m["status"], m["failure_reason"] = "unknown", ""
	m["created_on"], m["modified_on"] = now, now
	if old != nil {
		m["id"], m["created_on"] = old["id"], old["created_on"]
		m["status"], m["failure_reason"] = old["status"], old["failure_reason"]
	}
}

// hcCheckProblem returns what the API would reject in a health check, or "".
func hcCheckProblem(m map[string]any) string {
	if s, _ := m["name"].(string); s == "" {
		return "name is required"
	}
	if s, _ := m["address"].(string); s == "" {
		return "address is required"
	}
	if t := m["type"]; t != "HTTP" && t != "HTTPS" && t != "TCP" {
		return fmt.Sprintf("type must be HTTP, HTTPS or TCP, got %v", t)
	}
	num := func(k string, lo, hi float64) string {
		if f, ok := m[k].(float64); !ok || f < lo || f > hi || f != float64(int(f)) {
			return fmt.Sprintf("%s must be an integer from %v to %v, got %v", k, lo, hi, m[k])
		}
		return ""
	}
	for _, p := range []string{num("retries", 0, 5), num("timeout", 1, 60), num("interval", 5, 3600)} {
		if p != "" {
			return p
		}
	}
	regions, _ := m["check_regions"].([]any)
	for _, r := range regions {
		if s, _ := r.(string); !slices.Contains(hcCheckRegions, s) {
			return fmt.Sprintf("unknown check region %v", r)
		}
	}
	if hc, ok := m["http_config"].(map[string]any); ok && m["type"] != "TCP" {
		if meth := hc["method"]; meth != "GET" && meth != "HEAD" {
			return fmt.Sprintf("http_config.method must be GET or HEAD, got %v", meth)
		}
		if path, _ := hc["path"].(string); !strings.HasPrefix(path, "/") {
			return "http_config.path must start with /"
		}
		codes, _ := hc["expected_codes"].([]any)
		for _, code := range codes {
			if s, _ := code.(string); !hcExpectedCodeRE.MatchString(s) {
				return fmt.Sprintf("http_config.expected_codes: %v is not a status code or class", code)
			}
		}
	}
	return ""
}

func (c *CloudflareHealthchecks) listChecks(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	all := hcCopyAll(c.zones[r.PathValue("zone")])
	c.mu.Unlock()
	cloudflarePage(w, r, all, c.DefaultPerPage)
}

func (c *CloudflareHealthchecks) getCheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.zones[r.PathValue("zone")]
	i := hcIndexOf(list, r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	cloudflareResult(w, list[i])
}

func (c *CloudflareHealthchecks) createCheck(w http.ResponseWriter, r *http.Request) {
	m, ok := hcDecodeObject(w, r)
	if !ok {
		return
	}
	hcCheckDefaults(m, nil)
	if p := hcCheckProblem(m); p != "" {
		cloudflareError(w, http.StatusBadRequest, 1002, p)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m["id"] = c.newID('a')
	zone := r.PathValue("zone")
	c.zones[zone] = append(c.zones[zone], m)
	cloudflareResult(w, m)
}

func (c *CloudflareHealthchecks) updateCheck(w http.ResponseWriter, r *http.Request) {
	m, ok := hcDecodeObject(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	zone := r.PathValue("zone")
	i := hcIndexOf(c.zones[zone], r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	old := c.zones[zone][i]
	if r.Method == http.MethodPatch {
		merged := maps.Clone(old)
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				if base, ok := merged[k].(map[string]any); ok {
					base = maps.Clone(base)
					maps.Copy(base, sub)
					v = base
				}
			}
			merged[k] = v
		}
		m = merged
	}
	hcCheckDefaults(m, old)
	if p := hcCheckProblem(m); p != "" {
		cloudflareError(w, http.StatusBadRequest, 1002, p)
		return
	}
	c.zones[zone][i] = m
	cloudflareResult(w, m)
}

func (c *CloudflareHealthchecks) deleteCheck(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	zone := r.PathValue("zone")
	i := hcIndexOf(c.zones[zone], r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 1002, "Health check not found")
		return
	}
	c.zones[zone] = slices.Delete(c.zones[zone], i, i+1)
	cloudflareResult(w, map[string]string{"id": r.PathValue("id")})
}

// Notifications.

func (c *CloudflareHealthchecks) account(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("account") != c.Account {
			cloudflareError(w, http.StatusForbidden, 10000, "Authentication error")
			return
		}
		h(w, r)
	}
}

func hcPolicyProblem(m map[string]any) string {
	if s, _ := m["name"].(string); s == "" {
		return "name is required"
	}
	if s, _ := m["alert_type"].(string); s == "" {
		return "alert_type is required"
	}
	mech, _ := m["mechanisms"].(map[string]any)
	n := 0
	for k, v := range mech {
		list, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("mechanisms.%s must be a list", k)
		}
		for _, x := range list {
			if o, _ := x.(map[string]any); o == nil || o["id"] == nil || o["id"] == "" {
				return fmt.Sprintf("mechanisms.%s: every entry needs an id", k)
			}
		}
		n += len(list)
	}
	if n == 0 {
		return "at least one mechanism is required"
	}
	if f, ok := m["filters"]; ok && f != nil {
		filters, ok := f.(map[string]any)
		if !ok {
			return "filters must be an object"
		}
		for k, v := range filters {
			if _, ok := v.([]any); !ok {
				return fmt.Sprintf("filters.%s must be a list of strings", k)
			}
		}
	}
	return ""
}

// hcDecodePolicy reads a policy from the body; a malformed or invalid one gets 400.
func hcDecodePolicy(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	m, ok := hcDecodeObject(w, r)
	if !ok {
		return nil, false
	}
	if p := hcPolicyProblem(m); p != "" {
		cloudflareError(w, http.StatusBadRequest, 17000, p)
		return nil, false
	}
	return m, true
}

func (c *CloudflareHealthchecks) listPolicies(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	all := hcCopyAll(c.policies)
	c.mu.Unlock()
	c.listWhole(w, all)
}

// listWhole answers a list the API does not page: every item, result_info counting them (or
// cut to NotificationListCap).
func (c *CloudflareHealthchecks) listWhole(w http.ResponseWriter, all []map[string]any) {
	res := all
	if c.NotificationListCap > 0 && len(res) > c.NotificationListCap {
		res = res[:c.NotificationListCap]
	}
	res = append(make([]map[string]any, 0, len(res)), res...)
	info := &cloudflareResultInfo{Page: 1, PerPage: max(len(res), 1), Count: len(res), TotalCount: len(all)}
	writeJSON(w, http.StatusOK, cloudflareEnvelope(res, info, 0, ""))
}

func (c *CloudflareHealthchecks) getPolicy(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := hcIndexOf(c.policies, r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 17001, "policy not found")
		return
	}
	cloudflareResult(w, c.policies[i])
}

func (c *CloudflareHealthchecks) createPolicy(w http.ResponseWriter, r *http.Request) {
	m, ok := hcDecodePolicy(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	m["id"], m["created"], m["modified"] = c.newID('b'), now, now
	c.policies = append(c.policies, m)
	cloudflareResult(w, map[string]any{"id": m["id"]})
}

func (c *CloudflareHealthchecks) updatePolicy(w http.ResponseWriter, r *http.Request) {
	m, ok := hcDecodePolicy(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := hcIndexOf(c.policies, r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 17001, "policy not found")
		return
	}
	m["id"], m["created"] = c.policies[i]["id"], c.policies[i]["created"]
	m["modified"] = time.Now().UTC().Format(time.RFC3339Nano)
	c.policies[i] = m
	cloudflareResult(w, map[string]any{"id": m["id"]})
}

func (c *CloudflareHealthchecks) deletePolicy(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := hcIndexOf(c.policies, r.PathValue("id"))
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 17001, "policy not found")
		return
	}
	c.policies = slices.Delete(c.policies, i, i+1)
	cloudflareResult(w, map[string]any{"id": r.PathValue("id")})
}

func (c *CloudflareHealthchecks) listWebhooks(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	all := hcCopyAll(c.webhooks)
	c.mu.Unlock()
	if c.MaskWebhookURLs {
		for _, m := range all {
			if u, ok := m["url"].(string); ok {
				if i := strings.Index(u, "/services/"); i >= 0 {
					m["url"] = u[:i] + "/services/****"
				}
			}
		}
	}
	c.listWhole(w, all)
}

func (c *CloudflareHealthchecks) createWebhook(w http.ResponseWriter, r *http.Request) {
	m, ok := hcDecodeObject(w, r)
	if !ok {
		return
	}
	name, _ := m["name"].(string)
	url, _ := m["url"].(string)
	if name == "" || !strings.HasPrefix(url, "https://") {
		cloudflareError(w, http.StatusBadRequest, 17000, "name and an https url are required")
		return
	}
	id := c.AddWebhook(name, url)
	// 201, as the description says; the secret, if any, is never returned (or kept).
	writeJSON(w, http.StatusCreated, cloudflareEnvelope(map[string]any{"id": id}, nil, 0, ""))
}

func (c *CloudflareHealthchecks) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := r.PathValue("id")
	i := hcIndexOf(c.webhooks, id)
	if i < 0 {
		cloudflareError(w, http.StatusNotFound, 17001, "webhook not found")
		return
	}
	c.webhooks = slices.Delete(c.webhooks, i, i+1)
	// As the API does, a deleted destination leaves every policy that named it.
	for _, p := range c.policies {
		mech, _ := p["mechanisms"].(map[string]any)
		if list, ok := mech["webhooks"].([]any); ok {
			mech["webhooks"] = slices.DeleteFunc(list, func(x any) bool {
				o, _ := x.(map[string]any)
				return o["id"] == id
			})
		}
	}
	cloudflareResult(w, map[string]any{"id": id})
}
