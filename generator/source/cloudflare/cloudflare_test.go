package cloudflare_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/cloudflare"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

const account = "acc123"

func setup(t *testing.T) (*fake.Cloudflare, *cloudflare.Source) {
	t.Helper()
	f := fake.NewCloudflare(t)
	f.Now = func() time.Time { return now }
	src, err := cloudflare.New(cloudflare.Options{Token: f.Token, AccountID: account, BaseURL: f.URL,
		Now: func() time.Time { return now }, Sleep: noSleep}, f.Server.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f, src
}

func apiProduct() config.Product {
	return config.Product{ID: "api", URL: "https://api.example.com",
		Cloudflare: config.Cloudflare{ZoneID: "zone1", Worker: "api-worker"}}
}

func seed(f *fake.Cloudflare) {
	f.SetHTTP("zone1", "api.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 900, 404: 60, 503: 40}, P50Ms: 41.26, P95Ms: 180.04})
	f.SetHTTP("zone1", "web.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 10}, P50Ms: 10, P95Ms: 20})
	// 57 unrelated checks first, so the product's is on page 2 of 50.
	for i := range 57 {
		f.AddHealthcheck("zone1", cf.Healthcheck{Name: fmt.Sprintf("other-%02d", i), Address: "x.example.com", Status: "healthy"})
	}
	f.AddHealthcheck("zone1", cf.Healthcheck{Name: "portfolio-api", Address: "api.example.com", Status: "unhealthy", FailureReason: "HTTP timeout"})
	f.AddHealthcheck("zone1", cf.Healthcheck{Name: "portfolio-web", Address: "web.example.com", Status: "healthy"})
	f.SetWorker(account, "api-worker", fake.CloudflareWorker{Requests: 500, Errors: 3, CPUP50: 206.44, CPUP99: 1500})
}

func TestCollectReadsEverything(t *testing.T) {
	f, src := setup(t)
	seed(f)
	res, err := src.Collect(context.Background(), apiProduct(), now.Add(-15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sn := res.Snapshot
	// The range ends 5 minutes before now (Cloudflare's analytics arrive late) and, without a
	// store, starts at the previous snapshot; the snapshot keeps it.
	from, to := now.Add(-15*time.Minute), now.Add(-5*time.Minute)
	want := record.HTTPStats{From: from, To: to, Requests: 1000, Status4x: 60, Status5x: 40, P50Ms: 41.3, P95Ms: 180}
	if sn.HTTP == nil || *sn.HTTP != want {
		t.Errorf("http = %+v, want %+v", sn.HTTP, want)
	}
	if sn.Health != "unhealthy" {
		t.Errorf("health = %q, want unhealthy (found on page 2)", sn.Health)
	}
	wantW := record.WorkerStats{From: from, To: to, Requests: 500, Errors: 3, CPUP50: 206.4, CPUP99: 1500}
	if sn.Worker == nil || *sn.Worker != wantW {
		t.Errorf("worker = %+v, want %+v", sn.Worker, wantW)
	}
	var pages []string
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "GET /zones/zone1/healthchecks?") {
			pages = append(pages, strings.Fields(c)[1])
		}
	}
	if len(pages) != 2 {
		t.Errorf("health check pages read = %v, want 2", pages)
	}
	for _, c := range f.GraphQLCalls() {
		if strings.Contains(c.Query, "httpRequestsAdaptiveGroups(") {
			if c.Variables["s0"] != "2026-06-30T11:45:00Z" || c.Variables["end"] != "2026-06-30T11:55:00Z" ||
				fmt.Sprint(c.Variables["z0h0"]) != "[api.example.com]" {
				t.Errorf("http range = %v", c.Variables)
			}
		}
	}
}

func TestHealthListIsReadOncePerZone(t *testing.T) {
	f, src := setup(t)
	seed(f)
	web := config.Product{ID: "web", URL: "https://web.example.com", Cloudflare: config.Cloudflare{ZoneID: "zone1"}}
	for _, p := range []config.Product{apiProduct(), web} {
		if _, err := src.Collect(context.Background(), p, now.Add(-15*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, c := range f.Calls() {
		if strings.HasPrefix(c, "GET /zones/zone1/healthchecks?page=1") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("page 1 read %d times, want once per run", n)
	}
}

func TestHealthStatus(t *testing.T) {
	tests := []struct {
		name string
		hc   cf.Healthcheck
		byID bool
		want string
	}{
		{"healthy by name", cf.Healthcheck{Name: "portfolio-api", Status: "healthy"}, false, "healthy"},
		{"unknown", cf.Healthcheck{Name: "portfolio-api", Status: "unknown"}, false, "unknown"},
		{"suspended flag wins", cf.Healthcheck{Name: "portfolio-api", Status: "healthy", Suspended: true}, false, "suspended"},
		{"by configured id, whatever its name", cf.Healthcheck{Name: "legacy-check", Status: "unhealthy"}, true, "unhealthy"},
		{"no check yet", cf.Healthcheck{Name: "someone-else", Status: "healthy"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, src := setup(t)
			tt.hc.Address = "api.example.com"
			id := f.AddHealthcheck("zone1", tt.hc)
			p := config.Product{ID: "api", Cloudflare: config.Cloudflare{ZoneID: "zone1"}}
			if tt.byID {
				p.Cloudflare.HealthcheckID = id
			}
			res, err := src.Collect(context.Background(), p, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Snapshot.Health != tt.want {
				t.Errorf("health = %q, want %q", res.Snapshot.Health, tt.want)
			}
		})
	}
}

func TestRangeIsCappedToTheDataset(t *testing.T) {
	tests := []struct {
		name      string
		since     time.Time
		wantStart string
	}{
		{"first run reads the 15 minutes before the lag", time.Time{}, "2026-06-30T11:40:00Z"},
		{"without a store, since the previous snapshot", now.Add(-30 * time.Minute), "2026-06-30T11:30:00Z"},
		{"a long gap is cut to maxDuration", now.Add(-72 * time.Hour), "2026-06-29T11:55:00Z"},
		{"notOlderThan tighter than maxDuration", now.Add(-72 * time.Hour), "2026-06-30T10:01:00Z"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, src := setup(t)
			seed(f)
			if i == 3 {
				f.SetDatasetLimits("zone1", 86400, 7200)
			}
			if _, err := src.Collect(context.Background(), config.Product{ID: "api", URL: "https://api.example.com",
				Cloudflare: config.Cloudflare{ZoneID: "zone1"}}, tt.since); err != nil {
				t.Fatal(err)
			}
			for _, c := range f.GraphQLCalls() {
				if strings.Contains(c.Query, "httpRequestsAdaptiveGroups(") && c.Variables["s0"] != tt.wantStart {
					t.Errorf("start = %v, want %s", c.Variables["s0"], tt.wantStart)
				}
			}
		})
	}
}

func TestSkips(t *testing.T) {
	f := fake.NewCloudflare(t)
	noToken, _ := cloudflare.New(cloudflare.Options{BaseURL: f.URL}, f.Server.Client(), nil)
	_, src := setup(t)
	tests := []struct {
		name string
		src  *cloudflare.Source
		p    config.Product
		want string
	}{
		{"no zone or worker", src, config.Product{ID: "a"}, "no cloudflare.zone_id or cloudflare.worker configured"},
		{"no token", noToken, apiProduct(), "CLOUDFLARE_API_TOKEN not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.src.Collect(context.Background(), tt.p, time.Time{})
			if !errors.As(err, new(*skip.Error)) || err.Error() != tt.want {
				t.Errorf("err = %v, want skipped %q", err, tt.want)
			}
		})
	}
	if n := len(f.Calls()); n != 0 {
		t.Errorf("a skipped source called the API %d times", n)
	}
}

func TestWorkerWithoutAccountIsAnError(t *testing.T) {
	f := fake.NewCloudflare(t)
	src, _ := cloudflare.New(cloudflare.Options{Token: f.Token, BaseURL: f.URL}, f.Server.Client(), nil)
	_, err := src.Collect(context.Background(), config.Product{ID: "a", Cloudflare: config.Cloudflare{Worker: "w"}}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_ACCOUNT_ID not set") {
		t.Errorf("err = %v", err)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     fake.InjectedFault
		wantState string
		wantMsg   string
		partial   func(record.Snapshot) bool // what still arrives
	}{
		{"429 with a long retry-after", fake.InjectedFault{Match: "/graphql", Status: 429, RetryAfter: "300"},
			"rate_limited", "rate limited until 2026-06-30T12:05:00Z: HTTP 429", nil},
		{"429 with a short retry-after is waited out", fake.InjectedFault{Match: "/graphql", Status: 429, RetryAfter: "1", Times: 1},
			"ok", "", func(s record.Snapshot) bool { return s.HTTP != nil }},
		{"5xx on GraphQL after retries", fake.InjectedFault{Match: "httpRequestsAdaptiveGroups(", Status: 503},
			"error", "cloudflare: http analytics for api.example.com: graphql: HTTP 503", func(s record.Snapshot) bool { return s.Health == "unhealthy" && s.Worker != nil }},
		{"5xx on the REST list", fake.InjectedFault{Match: "GET /zones/zone1/healthchecks", Status: 500},
			"error", "health check: list: page 1: HTTP 500: 10500 Internal Server Error", func(s record.Snapshot) bool { return s.HTTP != nil }},
		{"timeout", fake.InjectedFault{Match: "api-worker", Hang: true},
			"timed_out", "worker api-worker: timed out", func(s record.Snapshot) bool { return s.HTTP != nil }},
		{"200 with success:false", fake.InjectedFault{Match: "GET /zones/zone1/healthchecks", Body: fake.CloudflareErrorBody(10000, "Authentication error")},
			"error", "health check: list: page 1: API error: 10000 Authentication error", func(s record.Snapshot) bool { return s.HTTP != nil }},
		{"GraphQL errors in a 200", fake.InjectedFault{Match: "api-worker", Body: fake.CloudflareGraphQLErrorBody("zone does not have access to the field", "authz")},
			"error", "worker api-worker: graphql: HTTP 200: zone does not have access to the field (authz)", func(s record.Snapshot) bool { return s.HTTP != nil }},
		{"GraphQL rate limit in a 200 is stale, not failed", fake.InjectedFault{Match: "/graphql", Body: fake.CloudflareGraphQLRateLimitBody()},
			"rate_limited", "rate limited until 2026-06-30T12:05:00Z: graphql: HTTP 200: rate limiter budget depleted", func(s record.Snapshot) bool { return s.Health == "unhealthy" }},
		{"GraphQL quota in a 200 is stale until the next minute", fake.InjectedFault{Match: "/graphql", Body: fake.CloudflareGraphQLErrorBody("quota exceeded, please repeat your request in the next minute", "")},
			"rate_limited", "rate limited until 2026-06-30T12:01:00Z", nil},
		{"malformed JSON from GraphQL", fake.InjectedFault{Match: "httpRequestsAdaptiveGroups(", Body: `{"data":{"viewer":`},
			"error", "graphql: malformed answer", nil},
		{"malformed JSON from REST", fake.InjectedFault{Match: "GET /zones/zone1/healthchecks", Body: `<html>oops`},
			"error", "health check: list: page 1: malformed answer (HTTP 200): invalid character", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, src := setup(t)
			seed(f)
			f.Inject(tt.fault)
			st := store.Open(t.TempDir())
			web := config.Product{ID: "web", URL: "https://web.example.com", Cloudflare: config.Cloudflare{ZoneID: "zone2"}}
			f.SetHTTP("zone2", "web.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 10}})
			sum, err := source.Collect(context.Background(), source.Options{
				Products: []config.Product{apiProduct(), web},
				Sources:  []source.Source{src, okProbe{}},
				Store:    st, Now: now,
				Limits:   map[string]source.Limits{"cloudflare": {Timeout: 1500 * time.Millisecond}},
				Redactor: redact.Of(f.Token),
			})
			if err != nil {
				t.Fatal(err)
			}
			sn, _, _ := st.LastSnapshot("api")
			got := sn.Sources["cloudflare"]
			if got.State != tt.wantState || !strings.Contains(got.Msg, tt.wantMsg) {
				t.Errorf("api cloudflare = %+v, want %s containing %q", got, tt.wantState, tt.wantMsg)
			}
			if tt.partial != nil && !tt.partial(sn) {
				t.Errorf("the parts that worked were lost: %+v", sn)
			}
			if sn.Sources["probe"].State != "ok" {
				t.Errorf("probe disturbed: %+v", sn.Sources["probe"])
			}
			// One query asks about every product, so a fault of the query itself is every
			// product's; a fault of api's zone or worker alone is api's only.
			wsn, _, _ := st.LastSnapshot("web")
			batched := strings.Contains(tt.fault.Match, "graphql") || strings.Contains(tt.fault.Match, "httpRequestsAdaptiveGroups")
			if wst := wsn.Sources["cloudflare"]; !batched && wst.State != "ok" {
				t.Errorf("web's cloudflare disturbed by api's fault: %+v", wst)
			} else if batched && wst.State != tt.wantState {
				t.Errorf("web's cloudflare = %+v, want %s: the batched query failed for it too", wst, tt.wantState)
			}
			if sum.Failed() != (tt.wantState != "ok") {
				t.Errorf("Failed() = %v", sum.Failed())
			}
			if strings.Contains(got.Msg, f.Token) {
				t.Error("the token leaked into the snapshot")
			}
		})
	}
}

// okProbe stands for another source that must not be disturbed.
type okProbe struct{}

func (okProbe) Name() string { return "probe" }
func (okProbe) Collect(context.Context, config.Product, time.Time) (source.Result, error) {
	return source.Result{Snapshot: record.Snapshot{Probe: &record.Probe{Code: 200}}}, nil
}

func TestTokenIsSentAsBearerOnly(t *testing.T) {
	f, src := setup(t)
	seed(f)
	var seen []string
	f.Server.Config.Handler = wrapHandler(f.Server.Config.Handler, func(r *http.Request) {
		seen = append(seen, r.URL.String())
	})
	if _, err := src.Collect(context.Background(), apiProduct(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, u := range seen {
		if strings.Contains(u, f.Token) {
			t.Errorf("token in URL %s", u)
		}
	}
}

func wrapHandler(h http.Handler, see func(*http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		see(r)
		h.ServeHTTP(w, r)
	})
}

func TestAFailedZoneListIsTriedAgainForTheNextProduct(t *testing.T) {
	f, src := setup(t)
	seed(f)
	f.Inject(fake.InjectedFault{Match: "GET /zones/zone1/healthchecks?page=1", Times: 1, Body: fake.CloudflareErrorBody(10000, "Authentication error")})
	web := config.Product{ID: "web", Cloudflare: config.Cloudflare{ZoneID: "zone1"}}
	if _, err := src.Collect(context.Background(), web, time.Time{}); err == nil {
		t.Fatal("want the first product's list to fail")
	}
	res, err := src.Collect(context.Background(), apiProduct(), time.Time{})
	if err != nil || res.Snapshot.Health != "unhealthy" {
		t.Errorf("second product: health %q, err %v; a failure must not be cached for the run", res.Snapshot.Health, err)
	}
}

// noSleep stands for the waits between retries: tests do not really sleep.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
