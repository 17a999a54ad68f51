package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// CloudflareAccountPrefix is where the CloudflareAccount fake mounts the v4 API.
const CloudflareAccountPrefix = "/cf-account/client/v4"

// CloudflarePermission is a permission of a Cloudflare API token, named as the dashboard
// names it.
type CloudflarePermission string

// The permissions portfolio's calls need (docs/getting-started.md).
const (
	CloudflareZoneRead             CloudflarePermission = "Zone: Zone Read"
	CloudflareAnalyticsRead        CloudflarePermission = "Zone: Analytics Read"
	CloudflareHealthChecksRead     CloudflarePermission = "Zone: Health Checks Read"
	CloudflareAccountAnalyticsRead CloudflarePermission = "Account: Account Analytics Read"
	CloudflareNotificationsRead    CloudflarePermission = "Account: Notifications Read"
	CloudflarePagesRead            CloudflarePermission = "Account: Cloudflare Pages Read"
	CloudflarePagesEdit            CloudflarePermission = "Account: Cloudflare Pages Edit"
)

// CloudflareAccount is one Cloudflare account behind one base URL and one API token, as
// `portfolio init` and `portfolio doctor` see it: the token verification endpoints and the
// zones list are its own; GraphQL Analytics, health checks, notifications and Pages are the
// Cloudflare, CloudflareHealthchecks and Pages fakes, reached through it with the same token.
//
// A token's permissions can be taken away (Deny). Cloudflare then answers as it does:
//   - a REST call: HTTP 403, {"success":false,"errors":[{"code":10000,"message":"Authentication error"}]};
//   - a GraphQL query: HTTP 200, "data": null and an error whose extensions.code is "authz";
//   - the zones list: the zones the token may read, so none without Zone Read.
//
// The verification endpoints follow Cloudflare's API description (GET /user/tokens/verify,
// GET /accounts/{account_id}/tokens/verify: {id, status, expires_on, not_before}); an unknown
// token gets HTTP 401 with code 1000 "Invalid API Token". GET /zones pages by page and
// per_page (default 20, at most 50) and filters by name and account.id.
type CloudflareAccount struct {
	Server *httptest.Server
	// URL is the API base URL with the prefix: CLOUDFLARE_API_BASE_URL.
	URL       string
	Token     string
	AccountID string
	// AccountOwned makes the token one the account owns: /user/tokens/verify does not know it.
	AccountOwned bool
	// Status is what the verification says of the token (default active); ExpiresOn its expiry.
	Status    string
	ExpiresOn time.Time

	Analytics    *Cloudflare
	Healthchecks *CloudflareHealthchecks
	Pages        *Pages

	faults faults
	calls  lockedList[string]

	mu     sync.Mutex
	zones  []cloudflareZoneItem
	denied map[CloudflarePermission]bool
}

// NewCloudflareAccount starts the fake and the three it fronts; they stop when the test ends.
func NewCloudflareAccount(t testing.TB) *CloudflareAccount {
	c := &CloudflareAccount{
		Token:        "cf-account-test-token-0123456789",
		AccountID:    "01a7362d577a6c3019a474fd6f485823",
		Analytics:    NewCloudflare(t),
		Healthchecks: NewCloudflareHealthchecks(t),
		Pages:        NewPages(t),
		denied:       map[CloudflarePermission]bool{},
	}
	c.Analytics.Token, c.Healthchecks.Token, c.Pages.Token = c.Token, c.Token, c.Token
	c.Healthchecks.Account, c.Pages.AccountID = c.AccountID, c.AccountID
	c.Server, c.URL = startServer(t, CloudflareAccountPrefix, http.HandlerFunc(c.serve))
	return c
}

// Deny takes permissions away from the token.
func (c *CloudflareAccount) Deny(perms ...CloudflarePermission) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range perms {
		c.denied[p] = true
	}
}

// AddZone adds a zone of the account; status "" is active.
func (c *CloudflareAccount) AddZone(id, name, status string) {
	if status == "" {
		status = "active"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.zones = append(c.zones, cloudflareZoneItem{id: id, name: name, status: status})
}

// cloudflareZoneItem is a zone of the list.
type cloudflareZoneItem struct{ id, name, status string }

// json is the zone as GET /zones lists it: the fields Cloudflare's description requires
// (nullable ones null), and status, paused and type, which the API sends beside them.
func (z cloudflareZoneItem) json(account string) map[string]any {
	at := "2026-01-05T10:00:00.000000Z"
	return map[string]any{
		"id": z.id, "name": z.name, "status": z.status, "paused": false, "type": "full", "development_mode": 0,
		"name_servers": []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"}, "original_name_servers": nil,
		"original_registrar": nil, "original_dnshost": nil, "created_on": at, "modified_on": at, "activated_on": at,
		"meta": map[string]any{"cdn_only": false, "custom_certificate_quota": 0, "dns_only": false, "foundation_dns": false,
			"page_rule_quota": 3, "phishing_detected": false, "step": 2},
		"owner":   map[string]any{"id": account, "name": "Acme", "type": "organization"},
		"account": map[string]any{"id": account, "name": "Acme"},
	}
}

// Inject adds a fault, matched against "METHOD /path?query body" without the prefix.
func (c *CloudflareAccount) Inject(f InjectedFault) { c.faults.add(f) }

// Calls lists the requests received, as "METHOD /path?query body" without the prefix.
func (c *CloudflareAccount) Calls() []string { return c.calls.all() }

func (c *CloudflareAccount) has(p CloudflarePermission) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.denied[p]
}

func (c *CloudflareAccount) serve(w http.ResponseWriter, r *http.Request) {
	key, _ := requestKey(r, CloudflareAccountPrefix)
	c.calls.add(key)
	if c.faults.answer(w, r, key, cloudflareFaultBody) {
		return
	}
	path := strings.TrimPrefix(r.URL.Path, CloudflareAccountPrefix)
	authed := r.Header.Get("Authorization") == "Bearer "+c.Token
	denied := func() { cloudflareError(w, http.StatusForbidden, 10000, "Authentication error") }
	switch {
	case r.Method == http.MethodGet && path == "/user/tokens/verify":
		c.verify(w, authed && !c.AccountOwned)
	case r.Method == http.MethodGet && path == "/accounts/"+c.AccountID+"/tokens/verify":
		c.verify(w, authed && c.AccountOwned)
	case !authed:
		denied()
	case r.Method == http.MethodGet && path == "/zones":
		c.listZones(w, r)
	case path == "/graphql":
		c.graphql(w, r)
	case strings.HasPrefix(path, "/zones/") && strings.Contains(path, "/healthchecks"):
		if !c.has(CloudflareHealthChecksRead) {
			denied()
			return
		}
		forward(w, r, c.Healthchecks.Server, CloudflarePrefix+path)
	case strings.Contains(path, "/alerting/v3/"):
		if !c.has(CloudflareNotificationsRead) {
			denied()
			return
		}
		forward(w, r, c.Healthchecks.Server, CloudflarePrefix+path)
	case strings.Contains(path, "/pages/"):
		edit := r.Method != http.MethodGet || strings.HasSuffix(path, "/upload-token")
		if !c.has(CloudflarePagesRead) && !c.has(CloudflarePagesEdit) || edit && !c.has(CloudflarePagesEdit) {
			denied()
			return
		}
		forward(w, r, c.Pages.Server, PagesPrefix+path)
	default:
		cloudflareNoRoute(w, r)
	}
}

// forward hands the request to another fake's handler under its own prefix.
func forward(w http.ResponseWriter, r *http.Request, to *httptest.Server, path string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.RequestURI = ""
	to.Config.Handler.ServeHTTP(w, r2)
}

func (c *CloudflareAccount) verify(w http.ResponseWriter, known bool) {
	if !known {
		cloudflareError(w, http.StatusUnauthorized, 1000, "Invalid API Token")
		return
	}
	res := map[string]any{"id": "ed17574386854bf78a67040be0a770b0", "status": cmpOr(c.Status, "active")}
	if !c.ExpiresOn.IsZero() {
		res["expires_on"] = ts(c.ExpiresOn)
	}
	env := cloudflareEnvelope(res, nil, 0, "")
	env["messages"] = []map[string]any{{"code": 10000, "message": "This API Token is valid and active", "type": nil}}
	writeJSON(w, http.StatusOK, env)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (c *CloudflareAccount) listZones(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, per := 1, 20
	if v := q.Get("per_page"); v != "" {
		if _, err := fmt.Sscan(v, &per); err != nil || per < 5 || per > 50 {
			cloudflareError(w, http.StatusBadRequest, 1001, "per_page must be a number from 5 to 50")
			return
		}
	}
	if v := q.Get("page"); v != "" {
		if _, err := fmt.Sscan(v, &page); err != nil || page < 1 {
			cloudflareError(w, http.StatusBadRequest, 1001, "page must be a positive number")
			return
		}
	}
	c.mu.Lock()
	var zones []map[string]any
	if !c.denied[CloudflareZoneRead] {
		for _, z := range c.zones {
			if (q.Get("name") == "" || z.name == q.Get("name")) && (q.Get("account.id") == "" || c.AccountID == q.Get("account.id")) {
				zones = append(zones, z.json(c.AccountID))
			}
		}
	}
	c.mu.Unlock()
	slices.SortFunc(zones, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	lo, hi := min((page-1)*per, len(zones)), min(page*per, len(zones))
	res := append([]map[string]any{}, zones[lo:hi]...)
	// The zones list documents page, per_page, count and total_count: no total_pages.
	env := cloudflareEnvelope(res, nil, 0, "")
	env["result_info"] = map[string]int{"page": page, "per_page": per, "count": len(res), "total_count": len(zones)}
	writeJSON(w, http.StatusOK, env)
}

// graphql refuses a query the token may not make, else hands it to the Analytics fake.
func (c *CloudflareAccount) graphql(w http.ResponseWriter, r *http.Request) {
	_, body := requestKey(r, "")
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	json.Unmarshal(body, &req) // the Analytics fake answers a malformed body
	var perm CloudflarePermission
	var what, scope, id string
	switch {
	case strings.Contains(req.Query, "workersInvocationsAdaptive"):
		perm, what, scope, id = CloudflareAccountAnalyticsRead, "com.cloudflare.api.account.analytics.read", "account", fmt.Sprint(req.Variables["accountTag"])
	case strings.Contains(req.Query, "zones"):
		perm, what, scope, id = CloudflareAnalyticsRead, "com.cloudflare.api.account.zone.analytics.read", "zone", fmt.Sprint(req.Variables["zoneTag"])
	}
	if perm != "" && !c.has(perm) {
		writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []map[string]any{{
			"message":    fmt.Sprintf("Actor does not have permission '%s' for %s %s", what, scope, id),
			"path":       []string{"viewer", scope + "s", "0"},
			"extensions": map[string]any{"code": "authz", "timestamp": "2026-06-30T12:00:00Z"},
		}}})
		return
	}
	forward(w, r, c.Analytics.Server, CloudflarePrefix+"/graphql")
}
