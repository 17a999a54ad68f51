package fake

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCloudflareGraphQLAnswersAsCloudflareDoes: queries the schema refuses, more than 10 zones
// in a scope, a range wider than the zone allows and a zone the token cannot read all get
// errors in an HTTP 200, with data null and the zone named by the path.
func TestCloudflareGraphQLAnswersAsCloudflareDoes(t *testing.T) {
	c := NewCloudflare(t)
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	c.DenyZone("z2")
	zones := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "z"+string(rune('a'+i)))
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  string // in the first error's message; "" for data
		path  string
	}{
		{"a nullable variable where the schema wants string!",
			`query($a:string){viewer{accounts(filter:{accountTag:$a}){accountTag}}}`, map[string]any{"a": "acc"},
			`Variable "$a" of type "string" used in position expecting type "string!"`, ""},
		{"11 zones in one scope", `query($z:[string!]){viewer{zones(filter:{zoneTag_in:$z}){zoneTag}}}`, map[string]any{"z": zones(11)},
			"up to 10 zones", "viewer/zones"},
		{"a range wider than a day",
			`query($z:[string!],$s:Time,$e:Time){viewer{z0: zones(filter:{zoneTag_in:$z}){t: httpRequestsAdaptiveGroups(limit:10,filter:{datetime_geq:$s,datetime_lt:$e}){count}}}}`,
			map[string]any{"z": []string{"z1"}, "s": now.Add(-48 * time.Hour).Format(time.RFC3339), "e": now.Format(time.RFC3339)},
			"cannot request a time range wider than 86400s", "viewer/z0/0/t"},
		{"a zone the token cannot read, second in its scope",
			`query($z:[string!]){viewer{zones(filter:{zoneTag_in:$z}){zoneTag settings{httpRequestsAdaptiveGroups{enabled}}}}}`,
			map[string]any{"z": []string{"z1", "z2"}}, "does not have access to the path", "viewer/zones/1/settings"},
		{"a readable zone", `query($z:[string!]){viewer{zones(filter:{zoneTag_in:$z}){zoneTag}}}`, map[string]any{"z": []string{"z1"}}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
			a := call(t, c.Server.Client(), "POST", c.URL+"/graphql", c.Token, string(body))
			if a.status != 200 {
				t.Fatalf("HTTP %d, want 200", a.status)
			}
			errs, _ := a.body["errors"].([]any)
			if tc.want == "" {
				if len(errs) > 0 || a.body["data"] == nil {
					t.Errorf("answer %v, want data", a.body)
				}
				return
			}
			if len(errs) == 0 || a.body["data"] != nil {
				t.Fatalf("answer %v, want errors and data null", a.body)
			}
			e := errs[0].(map[string]any)
			if msg, _ := e["message"].(string); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want %q", msg, tc.want)
			}
			var path []string
			for _, p := range asList(e["path"]) {
				path = append(path, p.(string))
			}
			if got := strings.Join(path, "/"); got != tc.path {
				t.Errorf("path %q, want %q", got, tc.path)
			}
		})
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }
