package contract

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDescriptionsLoad(t *testing.T) {
	for _, name := range []string{CloudflareV4, CloudflarePagesUpload, GitHub, PostHog, PostHogAnnotations, PostHogCapture, PagerDuty, Slack} {
		s, err := LoadSpec(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(s.Operations()) == 0 {
			t.Errorf("%s describes no operation", name)
		}
	}
	if _, err := LoadGraphQL(CloudflareGraphQL); err != nil {
		t.Error(err)
	}
}

func exchange(method, rawURL, reqBody string, status int, respType, respBody string) Exchange {
	u, _ := url.Parse(rawURL)
	h := http.Header{}
	if reqBody != "" {
		h.Set("Content-Type", "application/json")
	}
	rh := http.Header{}
	if respType != "" {
		rh.Set("Content-Type", respType)
	}
	return Exchange{Method: method, URL: u, RequestHeader: h, RequestBody: []byte(reqBody), Status: status,
		ResponseHeader: rh, ResponseBody: []byte(respBody)}
}

const (
	cfBase   = "http://127.0.0.1:1/client/v4"
	hcList   = cfBase + "/zones/023e105f4ecef8ad9ca31a8372d0c353/healthchecks"
	okList   = `{"success":true,"errors":[],"messages":[],"result":[],"result_info":{"page":1,"per_page":25,"count":0,"total_count":0}}`
	envelope = "application/json"
)

// TestCheckerFindsEachKindOfProblem makes sure the checker is not vacuous: each exchange
// breaks the description in one way and must be reported for it, and a correct one must not.
func TestCheckerFindsEachKindOfProblem(t *testing.T) {
	c := Checker{APIs: []API{{Name: "cloudflare", Base: cfBase, Specs: []string{CloudflareV4}, GraphQL: CloudflareGraphQL}}}
	const zoneQuery = `query($z:string){viewer{zones(filter:{zoneTag:$z}){zoneTag}}}`
	tests := []struct {
		name string
		ex   Exchange
		want string // "" for no problem
	}{
		{"a correct list", exchange("GET", hcList+"?page=1&per_page=25", "", 200, envelope, okList), ""},
		{"an operation the description lacks", exchange("GET", cfBase+"/zones/z/nothing-here", "", 200, envelope, okList), "no operation of the description matches"},
		{"a method the path lacks", exchange("POST", cfBase+"/accounts/0123456789abcdef0123456789abcdef/alerting/v3/policies/x", `{}`, 200, envelope, okList), "no operation"},
		{"a query parameter the operation lacks", exchange("GET", hcList+"?cursor=abc", "", 200, envelope, okList), "query parameters the operation does not define: cursor"},
		{"a query parameter out of range", exchange("GET", hcList+"?per_page=5000", "", 200, envelope, okList), "per_page"},
		{"a body that breaks the schema", exchange("POST", hcList, `{"name":"x","address":"a.example.com","check_regions":["MARS"]}`, 200, envelope,
			`{"success":true,"errors":[],"messages":[],"result":{}}`), "check_regions"},
		{"paging metadata the description does not promise",
			exchange("GET", hcList, "", 200, envelope, strings.Replace(okList, `"total_count":0`, `"total_count":0,"total_pages":1`, 1)), `"total_pages" is unsupported`},
		{"a status the operation does not answer", exchange("GET", hcList, "", 302, envelope, ""), "status is not supported"},
		{"an outage is allowed without a described body", exchange("GET", hcList, "", 503, "text/html", "<html>down</html>"), ""},
		{"a rate limit answers the described 4XX envelope", exchange("GET", hcList, "", 429, "text/plain", "slow down"), "Content-Type"},
		{"an envelope without errors", exchange("GET", hcList, "", 200, envelope, `{"success":true,"messages":[],"result":[]}`), "errors"},
		{"a URL below no API", exchange("GET", "http://127.0.0.1:2/x", "", 200, envelope, "{}"), "below no API's base URL"},
		{"a valid GraphQL query and answer", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":{"viewer":{"zones":[{"zoneTag":"abc"}]}},"errors":null}`), ""},
		{"a GraphQL field the schema lacks", exchange("POST", cfBase+"/graphql", `{"query":"{viewer{zones{noSuchField}}}"}`, 200, envelope, `{}`), "noSuchField"},
		{"a required GraphQL variable missing", exchange("POST", cfBase+"/graphql", `{"query":"query($z:string!){viewer{zones(filter:{zoneTag:$z}){zoneTag}}}"}`, 200, envelope, `{}`), "variables do not validate"},
		{"a GraphQL variable the query does not declare", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"a","y":1}}`, 200, envelope, `{}`), "does not declare"},
		{"a GraphQL answer with a field not selected", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":{"viewer":{"zones":[{"zoneTag":"abc","settings":null}]}}}`), "not selected by the query"},
		{"a GraphQL answer missing a selected field", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":{"viewer":{"zones":[{}]}}}`), "selected but missing"},
		{"a GraphQL answer of the wrong type", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":{"viewer":{"zones":{"zoneTag":"abc"}}}}`), "want a list"},
		{"GraphQL errors in a 200", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":null,"errors":[{"message":"rate limiter budget depleted","path":["viewer"],"extensions":{"code":"budget"}}]}`), ""},
		{"GraphQL errors without a message", exchange("POST", cfBase+"/graphql", `{"query":"`+zoneQuery+`","variables":{"z":"abc"}}`, 200, envelope,
			`{"data":null,"errors":[{"path":["viewer"]}]}`), "no message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Run([]Exchange{tt.ex})
			var got []string
			for _, p := range r.Problems {
				got = append(got, p.Error())
			}
			text := strings.Join(got, "\n")
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("problems in a correct exchange:\n%s", text)
			case tt.want != "" && !strings.Contains(text, tt.want):
				t.Errorf("problems:\n%s\nwant one naming %q", text, tt.want)
			}
		})
	}
}

func TestKnownDivergencesExcuseOnlyTheirProblem(t *testing.T) {
	c := Checker{
		APIs:  []API{{Name: "cloudflare", Base: cfBase, Specs: []string{CloudflareV4}}},
		Known: []Divergence{{ID: "X-1", Operation: "GET /zones/{zone_id}/healthchecks", Contains: "does not define: cursor"}},
	}
	r := c.Run([]Exchange{
		exchange("GET", hcList+"?cursor=abc", "", 200, envelope, okList),
		exchange("GET", hcList+"?other=1", "", 200, envelope, okList),
	})
	if r.Excused["X-1"] != 1 || len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Error(), "other") {
		t.Errorf("excused %v, problems %v; want the cursor one excused and the other reported", r.Excused, r.Problems)
	}
}

func TestRecorderHandsBodiesOnUnchanged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusAccepted)
		w.Write(append([]byte("echo:"), b...))
	}))
	defer srv.Close()
	rec := NewRecorder(srv.Client().Transport)
	resp, err := rec.Client().Post(srv.URL+"/x?a=1", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "echo:hello" {
		t.Errorf("client read %q, want echo:hello", got)
	}
	ex := rec.Exchanges()
	if len(ex) != 1 || ex[0].String() != "POST /x?a=1" || string(ex[0].RequestBody) != "hello" ||
		ex[0].Status != http.StatusAccepted || string(ex[0].ResponseBody) != "echo:hello" {
		t.Errorf("recorded %+v", ex)
	}
}

// TestSubsetsMatchTheirManifests: each OpenAPI subset describes exactly the operations its
// manifest lists, so a hand edit of either shows.
func TestSubsetsMatchTheirManifests(t *testing.T) {
	for name, manifest := range map[string]string{CloudflareV4: "cloudflare/openapi.ops.txt", GitHub: "github/openapi.ops.txt", PagerDuty: "pagerduty/openapi.ops.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", manifest))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, line := range strings.Split(string(b), "\n") {
			line, _, _ = strings.Cut(line, "#")
			line = strings.TrimSpace(line)
			if line != "" && !strings.Contains(line, ": ") {
				want = append(want, line)
			}
		}
		slices.Sort(want)
		s, err := LoadSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Operations(); !slices.Equal(got, want) {
			t.Errorf("%s describes\n%v\nits manifest lists\n%v", name, got, want)
		}
	}
}

// TestPostHogAnswersAreClosed: PostHog's HogQLQueryResponse allows no field beyond its own
// (JSON Schema 2020-12 through the OpenAPI 3.1 wrapper), and the request must be a HogQLQuery.
func TestPostHogAnswersAreClosed(t *testing.T) {
	const base = "http://127.0.0.1:1/posthog"
	c := Checker{APIs: []API{{Name: "posthog", Base: base, Specs: []string{PostHog}}}}
	q := base + "/api/projects/42/query/"
	body := `{"query":{"kind":"HogQLQuery","query":"SELECT 1"},"refresh":"force_blocking"}`
	for _, tt := range []struct {
		name, req, resp, want string
	}{
		{"a plain answer", body, `{"results":[[1]],"columns":["1"],"types":["UInt8"],"hasMore":false}`, ""},
		{"a field PostHog's type lacks", body, `{"results":[],"is_cached":false}`, "is_cached"},
		{"no results", body, `{"columns":[]}`, "results"},
		{"another query kind", `{"query":{"kind":"TrendsQuery","series":[]}}`, `{"results":[]}`, "kind"},
		{"a refresh PostHog does not know", `{"query":{"kind":"HogQLQuery","query":"SELECT 1"},"refresh":"sometimes"}`, `{"results":[]}`, "refresh"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Run([]Exchange{exchange("POST", q, tt.req, 200, "application/json", tt.resp)})
			var got []string
			for _, p := range r.Problems {
				got = append(got, p.Error())
			}
			text := strings.Join(got, "\n")
			if (tt.want == "") != (text == "") || !strings.Contains(text, tt.want) {
				t.Errorf("problems:\n%s\nwant one naming %q", text, tt.want)
			}
		})
	}
}
