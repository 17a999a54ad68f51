package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// PostHogPrefix is the path prefix the PostHog fake is mounted under (a self-hosted PostHog
// behind a path), to catch clients that drop the host's path.
const PostHogPrefix = "/posthog"

// PostHog fakes the PostHog parts portfolio uses (docs/collect.md): the HogQL query API
// (POST /api/projects/{id}/query/, trailing slash required), annotations, and the capture
// endpoint posthog-go's batches go to (POST /batch/).
//
// The fake cannot run SQL. It answers the daily query portfolio sends: it reads the filters
// (properties.$host IN (…), properties.product IN (…)), the day range, the countIf(event =
// '…') key event columns and the LIMIT from the SQL, and returns the rows of the days it holds
// for each host and product name.
type PostHog struct {
	Server *httptest.Server
	// URL is the host to configure (POSTHOG_HOST), prefix included.
	URL         string
	PersonalKey string // POSTHOG_PERSONAL_API_KEY
	ProjectKey  string // POSTHOG_API_KEY, checked on /batch/
	ProjectID   string
	Latency     time.Duration
	// AnnotationsPerPage is the most annotations a list answers at once (default 100); more
	// come on the pages its next links name.
	AnnotationsPerPage int

	faults  faults
	calls   lockedList[string]
	queries lockedList[string]
	events  lockedList[PostHogEvent]

	mu          sync.Mutex
	days        map[string]map[string]PostHogDay // filter value → day → figures
	annotations []PostHogAnnotation
	hosts       map[string]int64 // $host → events in the hosts query's range (posthog_hosts.go)
}

// PostHogDay is one day of a product's figures in the fake.
type PostHogDay struct {
	DAU, Pageviews int64
	Events         map[string]int64
}

// PostHogEvent is one captured event as posthog-go sent it.
type PostHogEvent struct {
	UUID       string         `json:"uuid"`
	Event      string         `json:"event"`
	DistinctID string         `json:"distinct_id"`
	Timestamp  time.Time      `json:"timestamp"`
	Properties map[string]any `json:"properties"`
}

// PostHogAnnotation is an annotation as the API answers it (PostHog's Annotation schema,
// docs/contracts.md): the read-only fields the schema requires come with every answer.
type PostHogAnnotation struct {
	ID             int              `json:"id"`
	Content        string           `json:"content"`
	DateMarker     time.Time        `json:"date_marker"`
	Scope          string           `json:"scope"`
	CreationType   string           `json:"creation_type"`
	Deleted        bool             `json:"deleted"`
	DashboardItem  *int             `json:"dashboard_item"`
	InsightShortID *string          `json:"insight_short_id"`
	InsightName    *string          `json:"insight_name"`
	CreatedBy      PostHogUserBasic `json:"created_by"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

// PostHogUserBasic is the user an annotation was made by (the personal key's owner).
type PostHogUserBasic struct {
	ID        int    `json:"id"`
	UUID      string `json:"uuid"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
}

// NewPostHog starts the fake; it stops when the test ends.
func NewPostHog(t testing.TB) *PostHog {
	p := &PostHog{
		PersonalKey: "phx_personal_test_key_0123456789",
		ProjectKey:  "phc_project_test_key_0123456789",
		ProjectID:   "4242",
		days:        map[string]map[string]PostHogDay{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PostHogPrefix+"/api/projects/{id}/query/", p.query)
	mux.HandleFunc("GET "+PostHogPrefix+"/api/projects/{id}/annotations/", p.listAnnotations)
	mux.HandleFunc("POST "+PostHogPrefix+"/api/projects/{id}/annotations/", p.createAnnotation)
	mux.HandleFunc("POST "+PostHogPrefix+"/batch/", p.batch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		posthogError(w, http.StatusNotFound, "invalid_request", "not_found", "Not found: "+r.URL.Path)
	})
	p.Server, p.URL = startServer(t, PostHogPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := requestKey(r, PostHogPrefix)
		p.calls.add(key)
		if !sleepCtx(r, p.Latency) || p.faults.answer(w, r, key, posthogFaultBody) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	return p
}

func posthogFaultBody(status int) string {
	b, _ := json.Marshal(map[string]string{"type": "server_error", "code": strconv.Itoa(status), "detail": http.StatusText(status)})
	return string(b)
}

// Inject adds a fault.
func (p *PostHog) Inject(f InjectedFault) { p.faults.add(f) }

// SetDay sets the figures of a day (YYYY-MM-DD) for a filter value (a host or a product name).
func (p *PostHog) SetDay(filter, day string, d PostHogDay) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.days[filter] == nil {
		p.days[filter] = map[string]PostHogDay{}
	}
	p.days[filter][day] = d
}

// AddAnnotation stores an annotation as if made earlier (scope project, made by a user).
func (p *PostHog) AddAnnotation(content string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.annotations = append(p.annotations, PostHogAnnotation{ID: len(p.annotations) + 1, Content: content, DateMarker: at,
		Scope: "project", CreationType: "USR", CreatedAt: at, UpdatedAt: at,
		CreatedBy: PostHogUserBasic{ID: 1, UUID: "0190b0a5-7d6e-7c3a-9f1e-2b3c4d5e6f70", Email: "ops@example.com"}})
}

// Queries lists the HogQL of every query that reached the handler.
func (p *PostHog) Queries() []string { return p.queries.all() }

// Events lists the captured events.
func (p *PostHog) Events() []PostHogEvent { return p.events.all() }

// Annotations lists the stored annotations.
func (p *PostHog) Annotations() []PostHogAnnotation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.annotations)
}

// Calls lists the requests received, as "METHOD /path?query body" without the prefix.
func (p *PostHog) Calls() []string { return p.calls.all() }

// PostHogHasMoreBody is a query answer with hasMore:true (an incomplete result).
func PostHogHasMoreBody() string {
	return `{"results":[["2026-06-30",1,1]],"columns":["day","dau","pageviews"],"types":["Date","UInt64","UInt64"],"hasMore":true,"limit":1,"offset":0}`
}

func posthogError(w http.ResponseWriter, status int, typ, code, detail string) {
	writeJSON(w, status, map[string]any{"type": typ, "code": code, "detail": detail, "attr": nil})
}

func (p *PostHog) personal(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+p.PersonalKey {
		posthogError(w, http.StatusUnauthorized, "authentication_error", "authentication_failed", "Personal API key found in request Authorization header is invalid.")
		return false
	}
	if r.PathValue("id") != p.ProjectID {
		posthogError(w, http.StatusForbidden, "authentication_error", "permission_denied", "You don't have access to the project.")
		return false
	}
	return true
}

var (
	posthogFilter = regexp.MustCompile(`properties\.(\$host|product) IN \(([^)]*)\)`)
	posthogValue  = regexp.MustCompile(`'([^'\\]*)'`)
	posthogRange  = regexp.MustCompile(`timestamp >= toDateTime\('(\d{4}-\d\d-\d\d) 00:00:00', 'UTC'\) AND timestamp < toDateTime\('(\d{4}-\d\d-\d\d) 00:00:00', 'UTC'\)`)
	posthogKeyCol = regexp.MustCompile(`countIf\(event = '([^'\\]*)'\) AS k(\d+)`)
	posthogLimit  = regexp.MustCompile(`LIMIT (\d+)$`)
)

// query answers the daily query portfolio sends: for each host (properties.$host IN (…)) and
// product name (properties.product IN (…)) it names, the rows of the days the fake holds in
// the query's range, with the key event columns the query counts; LIMIT cuts the rows and
// sets hasMore, as PostHog does.
func (p *PostHog) query(w http.ResponseWriter, r *http.Request) {
	if !p.personal(w, r) {
		return
	}
	var body struct {
		Query struct {
			Kind  string `json:"kind"`
			Query string `json:"query"`
		} `json:"query"`
		Name    string `json:"name"`
		Refresh string `json:"refresh"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Query.Kind != "HogQLQuery" || body.Query.Query == "" {
		posthogError(w, http.StatusBadRequest, "validation_error", "invalid_input", "want {\"query\":{\"kind\":\"HogQLQuery\",\"query\":…}}")
		return
	}
	sql := body.Query.Query
	p.queries.add(sql)
	if p.answerHosts(w, sql) {
		return
	}
	filters := posthogFilter.FindAllStringSubmatch(sql, -1)
	rm := posthogRange.FindStringSubmatch(sql)
	if len(filters) == 0 || rm == nil {
		posthogError(w, http.StatusBadRequest, "validation_error", "query_error", "the fake understands only portfolio's daily query")
		return
	}
	from, _ := time.Parse("2006-01-02", rm[1])
	to, _ := time.Parse("2006-01-02", rm[2])
	keys := map[int]string{}
	for _, m := range posthogKeyCol.FindAllStringSubmatch(sql, -1) {
		n, _ := strconv.Atoi(m[2])
		keys[n] = m[1]
	}
	columns := []string{"by", "key", "day", "dau", "pageviews"}
	types := []string{"String", "String", "Date", "UInt64", "UInt64"}
	for i := range len(keys) {
		columns = append(columns, fmt.Sprintf("k%d", i))
		types = append(types, "UInt64")
	}
	limit := 100 // PostHog's default
	if m := posthogLimit.FindStringSubmatch(sql); m != nil {
		limit, _ = strconv.Atoi(m[1])
	}
	p.mu.Lock()
	rows := [][]any{}
	for _, f := range filters {
		by := "host"
		if f[1] == "product" {
			by = "product"
		}
		var values []string
		for _, v := range posthogValue.FindAllStringSubmatch(f[2], -1) {
			values = append(values, v[1])
		}
		slices.Sort(values)
		for _, v := range values {
			days := p.days[v]
			for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
				day, ok := days[d.Format("2006-01-02")]
				if !ok {
					continue
				}
				row := []any{by, v, d.Format("2006-01-02"), day.DAU, day.Pageviews}
				for i := range len(keys) {
					row = append(row, day.Events[keys[i]])
				}
				rows = append(rows, row)
			}
		}
	}
	p.mu.Unlock()
	hasMore := len(rows) > limit
	if hasMore {
		rows = rows[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"results": rows, "columns": columns, "types": types, "hasMore": hasMore, "limit": limit, "offset": 0,
		"hogql": sql, "timings": []map[string]any{{"k": "./query", "t": 0.01}},
	}) // HogQLQueryResponse: no field beyond PostHog's type (is_cached belongs to the cached variant)
}

func (p *PostHog) listAnnotations(w http.ResponseWriter, r *http.Request) {
	if !p.personal(w, r) {
		return
	}
	q := r.URL.Query()
	search := q.Get("search")
	p.mu.Lock()
	res := []PostHogAnnotation{}
	for _, a := range p.annotations {
		if !a.Deleted && strings.Contains(a.Content, search) {
			res = append(res, a)
		}
	}
	per := p.AnnotationsPerPage
	p.mu.Unlock()
	// Django REST framework's limit/offset paging, as PostHog's lists answer.
	if per <= 0 {
		per = 100
	}
	limit, offset := per, 0
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		limit = min(n, per)
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n >= 0 {
		offset = n
	}
	page := res[min(offset, len(res)):min(offset+limit, len(res))]
	link := func(off int) any {
		if off < 0 || off >= len(res) {
			return nil
		}
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("limit", strconv.Itoa(limit))
		qq.Set("offset", strconv.Itoa(off))
		u.RawQuery = qq.Encode()
		return u.String()
	}
	var prev any
	if offset > 0 {
		prev = link(max(offset-limit, 0))
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(res), "next": link(offset + limit), "previous": prev, "results": page})
}

func (p *PostHog) createAnnotation(w http.ResponseWriter, r *http.Request) {
	if !p.personal(w, r) {
		return
	}
	var a PostHogAnnotation
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil || a.Content == "" || len(a.Content) > 400 || a.DateMarker.IsZero() {
		posthogError(w, http.StatusBadRequest, "validation_error", "invalid_input", "content (≤400 chars) and date_marker are required")
		return
	}
	if a.Scope == "" {
		a.Scope = "dashboard_item"
	}
	p.mu.Lock()
	a.ID = len(p.annotations) + 1
	a.CreatedBy = PostHogUserBasic{ID: 1, UUID: "0190b0a5-7d6e-7c3a-9f1e-2b3c4d5e6f70", Email: "ops@example.com", FirstName: "Ops"}
	a.CreatedAt = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	a.UpdatedAt = a.CreatedAt
	p.annotations = append(p.annotations, a)
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, a)
}

func (p *PostHog) batch(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var b struct {
		APIKey string         `json:"api_key"`
		Batch  []PostHogEvent `json:"batch"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		posthogError(w, http.StatusBadRequest, "validation_error", "invalid_payload", "malformed batch")
		return
	}
	if b.APIKey != p.ProjectKey {
		posthogError(w, http.StatusUnauthorized, "authentication_error", "invalid_api_key", "Project API key invalid.")
		return
	}
	p.events.add(b.Batch...)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":1}`)
}
