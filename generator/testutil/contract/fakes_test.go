package contract_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// call is one raw request to a fake, outside any client: the documented answers no client
// flow reaches (errors, later pages, odd shapes).
type call struct {
	method, path, body string
	header             map[string]string
	status             int // the status the fake must answer
}

// send makes each call through rec and checks the status the fake answered.
func send(t *testing.T, rec *contract.Recorder, base string, auth string, calls []call) {
	t.Helper()
	for _, c := range calls {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		resp, err := rec.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if c.status != 0 && resp.StatusCode != c.status {
			t.Errorf("%s %s: HTTP %d, want %d", c.method, c.path, resp.StatusCode, c.status)
		}
	}
}

// TestCloudflareFakeAnswersAsDescribed covers the fake's documented error answers, later pages
// and GraphQL errors inside a 200.
func TestCloudflareFakeAnswersAsDescribed(t *testing.T) {
	f := fake.NewCloudflare(t)
	f.Now = func() time.Time { return now }
	rec := contract.NewRecorder(f.Server.Client().Transport)
	for i := range 30 {
		f.AddHealthcheck("zone1", cf.Healthcheck{Name: fmt.Sprintf("c%02d", i), Address: "x.example.com", Type: "HTTPS"})
	}
	q := func(query string, vars map[string]any) string {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return string(b)
	}
	const httpQuery = `query($zoneTag:string,$start:Time,$end:Time,$host:string){viewer{zones(filter:{zoneTag:$zoneTag}){
total: httpRequestsAdaptiveGroups(limit:1, filter:{datetime_geq:$start,datetime_lt:$end,clientRequestHTTPHost:$host}){count}}}}`
	f.Inject(fake.InjectedFault{Match: "budget", Times: 1, Body: fake.CloudflareGraphQLErrorBody("rate limiter budget depleted", "budget")})
	send(t, rec, f.URL, "Bearer "+f.Token, []call{
		{method: "GET", path: "/zones/zone1/healthchecks", status: 200},                    // page 1 of 2 at the default 25
		{method: "GET", path: "/zones/zone1/healthchecks?page=2&per_page=25", status: 200}, // a short last page
		{method: "GET", path: "/zones/zone1/healthchecks?page=3", status: 200},             // past the end: empty
		{method: "GET", path: "/zones/zone1/healthchecks/nope", status: 404},
		{method: "POST", path: "/graphql", body: q(httpQuery, map[string]any{"zoneTag": "zone1", "host": "budget",
			"start": now.Add(-time.Hour).Format(time.RFC3339), "end": now.Format(time.RFC3339)}), status: 200},
		{method: "POST", path: "/graphql", body: q(httpQuery, map[string]any{"zoneTag": "zone1", "host": "a.example.com",
			"start": now.Add(-72 * time.Hour).Format(time.RFC3339), "end": now.Format(time.RFC3339)}), status: 200}, // wider than a day: errors in a 200
	})
	send(t, rec, f.URL, "", []call{{method: "GET", path: "/zones/zone1/healthchecks", status: 400}})
	r := contract.Checker{APIs: []contract.API{cloudflareAPI(f.URL)}}.Check(t, rec.Exchanges())
	if r.Exchanges != 7 {
		t.Errorf("%d exchanges checked, want 7", r.Exchanges)
	}
}

// TestCloudflareNotificationsFakeNeverReturnsSecrets creates a webhook destination with a
// secret and reads it back: Cloudflare's description says secrets are never returned.
func TestCloudflareNotificationsFakeNeverReturnsSecrets(t *testing.T) {
	f := fake.NewCloudflareHealthchecks(t)
	rec := contract.NewRecorder(f.Server.Client().Transport)
	acct := "/accounts/" + f.Account + "/alerting/v3"
	const secret = "s3cr3t-webhook-auth-value"
	send(t, rec, f.URL, "Bearer "+f.Token, []call{
		{method: "POST", path: acct + "/destinations/webhooks", body: `{"name":"portfolio-slack","url":"https://hooks.slack.com/services/T1/B1/x","secret":"` + secret + `"}`, status: 201},
		{method: "GET", path: acct + "/destinations/webhooks", status: 200},
		{method: "GET", path: acct + "/policies/nope", status: 404},
		{method: "POST", path: acct + "/policies", body: `{"name":"p","enabled":true,"alert_type":"health_check_status_notification","mechanisms":{}}`, status: 400},
		{method: "POST", path: "/zones/023e105f4ecef8ad9ca31a8372d0c353/healthchecks", body: `{"name":"c","address":"a.example.com"}`, status: 200},
	})
	id := f.Healthchecks("023e105f4ecef8ad9ca31a8372d0c353")[0].ID
	send(t, rec, f.URL, "Bearer "+f.Token, []call{
		{method: "PATCH", path: "/zones/023e105f4ecef8ad9ca31a8372d0c353/healthchecks/" + id, body: `{"name":"c","address":"a.example.com","interval":120}`, status: 200},
		{method: "PUT", path: "/zones/023e105f4ecef8ad9ca31a8372d0c353/healthchecks/" + id, body: `{"name":"c","address":"b.example.com","type":"TCP","tcp_config":{"port":443}}`, status: 200},
	})
	for _, ex := range rec.Exchanges() {
		if strings.Contains(string(ex.ResponseBody), secret) || strings.Contains(string(ex.ResponseBody), `"secret"`) {
			t.Errorf("%s answered a webhook secret: %s", ex, ex.ResponseBody)
		}
	}
	contract.Checker{APIs: []contract.API{cloudflareAPI(f.URL)}}.Check(t, rec.Exchanges())
}

// TestGitHubFakeAnswersAsDescribed pages a list with Link headers and answers 404 and 422.
func TestGitHubFakeAnswersAsDescribed(t *testing.T) {
	g := fake.NewGitHub(t)
	rec := contract.NewRecorder(g.Server.Client().Transport)
	g.Update("acme/shop", func(r *fake.GitHubRepo) {
		for i := 1; i <= 5; i++ {
			r.Runs = append(r.Runs, fake.GitHubRun{ID: int64(i), Workflow: "deploy.yml", Branch: "main", SHA: sha(i),
				Status: "completed", Conclusion: "success", Created: daysAgo(float64(i)), Updated: daysAgo(float64(i))})
		}
	})
	send(t, rec, strings.TrimSuffix(g.URL, "/"), "Bearer "+g.Token, []call{
		{method: "GET", path: "/repos/acme/shop/actions/workflows/deploy.yml/runs?per_page=2&page=1", status: 200},
		{method: "GET", path: "/repos/acme/shop/actions/workflows/deploy.yml/runs?per_page=2&page=3", status: 200},
		{method: "GET", path: "/repos/acme/shop/actions/runs?status=completed&created=%3E%3D2026-06-01", status: 200},
		{method: "GET", path: "/repos/acme/nope", status: 404},
	})
	gi := fake.NewGitHubIssues(t)
	irec := contract.NewRecorder(gi.Server.Client().Transport)
	send(t, irec, strings.TrimSuffix(gi.URL, "/"), "Bearer "+gi.Token, []call{
		{method: "POST", path: "/repos/acme/ops/issues", body: `{"body":"no title"}`, status: 422},
		{method: "GET", path: "/repos/acme/ops/issues/99", status: 404},
		{method: "GET", path: "/repos/acme/ops/issues?state=open&labels=ops", status: 200},
	})
	api := func(u string) contract.API {
		return contract.API{Name: "github", Base: u, Specs: []string{contract.GitHub}}
	}
	contract.Checker{APIs: []contract.API{api(g.URL)}}.Check(t, rec.Exchanges())
	// The issue without a title breaks the request's description on purpose: the 422 is what
	// is checked.
	r := contract.Checker{APIs: []contract.API{api(gi.URL)}, Known: []contract.Divergence{
		{ID: "TEST-BAD-REQUEST", Operation: "POST /repos/{owner}/{repo}/issues", Contains: `property "title" is missing`}}}.Check(t, irec.Exchanges())
	if r.Excused["TEST-BAD-REQUEST"] != 1 {
		t.Errorf("bad requests excused %d times, want 1", r.Excused["TEST-BAD-REQUEST"])
	}
}

// TestPostHogFakeAnswersAsDescribed covers the query endpoint's errors and an incomplete result.
func TestPostHogFakeAnswersAsDescribed(t *testing.T) {
	f := fake.NewPostHog(t)
	rec := contract.NewRecorder(f.Server.Client().Transport)
	f.Inject(fake.InjectedFault{Match: "hasMore", Body: fake.PostHogHasMoreBody()})
	q := "/api/projects/" + f.ProjectID + "/query/"
	send(t, rec, f.URL, "Bearer "+f.PersonalKey, []call{
		{method: "POST", path: q, body: `{"query":{"kind":"HogQLQuery","query":"SELECT 1 AS hasMore"},"refresh":"force_blocking"}`, status: 200},
		{method: "POST", path: q, body: `{"query":{"kind":"HogQLQuery","query":"SELECT nonsense"}}`, status: 400},
	})
	send(t, rec, f.URL, "Bearer wrong", []call{{method: "POST", path: q, body: `{"query":{"kind":"HogQLQuery","query":"SELECT 1"}}`, status: 401}})
	contract.Checker{APIs: []contract.API{{Name: "posthog", Base: f.URL, Specs: []string{contract.PostHog}}}}.Check(t, rec.Exchanges())
}

// TestNotifierFakesAnswerAsDescribed covers PagerDuty's and Slack's error answers.
func TestNotifierFakesAnswerAsDescribed(t *testing.T) {
	pd := fake.NewPagerDuty(t)
	prec := contract.NewRecorder(pd.Server.Client().Transport)
	pd.Inject(fake.InjectedFault{Match: "throttle", Status: 429})
	pd.Inject(fake.InjectedFault{Match: "outage", Status: 502})
	ev := func(dedup string) string {
		return `{"routing_key":"` + pd.RoutingKey + `","event_action":"trigger","dedup_key":"` + dedup + `","payload":{"summary":"s","source":"x","severity":"error"}}`
	}
	send(t, prec, strings.TrimSuffix(pd.URL, "/enqueue"), "", []call{
		{method: "POST", path: "/enqueue", body: ev("ok-1"), status: 202},
		{method: "POST", path: "/enqueue", body: `{"routing_key":"short","event_action":"trigger"}`, status: 400},
		{method: "POST", path: "/enqueue", body: ev("throttle"), status: 429},
		{method: "POST", path: "/enqueue", body: ev("outage"), status: 502},
	})
	contract.Checker{APIs: []contract.API{{Name: "pagerduty", Base: strings.TrimSuffix(pd.URL, "/enqueue"), Specs: []string{contract.PagerDuty}}}}.Check(t, prec.Exchanges())

	s := fake.NewSlack(t)
	srec := contract.NewRecorder(s.Server.Client().Transport)
	s.Inject(fake.InjectedFault{Match: "slow-down", Status: 429})
	s.Inject(fake.InjectedFault{Match: "archived", Status: 410})
	s.Inject(fake.InjectedFault{Match: "broken", Status: 500})
	hook := strings.TrimPrefix(s.URL, s.Server.URL+fake.SlackPrefix)
	send(t, srec, s.Server.URL+fake.SlackPrefix, "", []call{
		{method: "POST", path: hook, body: `{"text":"hello"}`, status: 200},
		{method: "POST", path: hook, body: `{"blocks":[{"type":"section"}]}`, status: 400},
		{method: "POST", path: hook, body: `not json`, status: 400},
		{method: "POST", path: hook, body: `{"text":"slow-down"}`, status: 429},
		{method: "POST", path: hook, body: `{"text":"archived"}`, status: 410},
		{method: "POST", path: hook, body: `{"text":"broken"}`, status: 500},
		{method: "POST", path: "/services/T0001/B0001/wrong", body: `{"text":"hello"}`, status: 403},
	})
	r := contract.Checker{APIs: []contract.API{{Name: "slack", Base: s.Server.URL + fake.SlackPrefix, Specs: []string{contract.Slack}}},
		Known: []contract.Divergence{
			// A body that is not JSON breaks the request's description on purpose; the answer
			// is what is checked here.
			{ID: "TEST-BAD-REQUEST", Operation: "POST /services/{team}/{bot}/{secret}", Contains: "request body has an error"},
		}}.Check(t, srec.Exchanges())
	if r.Excused["TEST-BAD-REQUEST"] != 1 {
		t.Errorf("bad requests excused %d times, want 1 (the body that is not JSON)", r.Excused["TEST-BAD-REQUEST"])
	}
}
