package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestGitHubReposShapes checks the fake against what GitHub's REST description says of labels
// and branch protection: the answers a client must cope with, not only the happy path.
func TestGitHubReposShapes(t *testing.T) {
	g := NewGitHub(t)
	g.Update("acme/shop", func(r *GitHubRepo) {
		r.Branches = []string{"release"}
		r.Labels = []GitHubLabel{{ID: 1, Name: "bug", Color: "d73a4a", Default: true}}
		r.Protection = map[string]*GitHubProtection{"release": {EnforceAdmins: true, RequiredSignatures: true,
			Reviews: &GitHubReviews{RequiredApprovingReviewCount: 2}}}
	})
	g.Update("acme/locked", func(r *GitHubRepo) { r.DenyAdministration, r.DenyIssuesWrite = true, true })
	do := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, g.URL+strings.TrimPrefix(path, "/"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+g.Token)
		resp, err := g.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if len(b) > 0 && b[0] == '{' {
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return resp.StatusCode, m
	}
	full := `{"required_status_checks": null, "enforce_admins": null, "required_pull_request_reviews": null, "restrictions": null}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     string // a fragment of the JSON answer
	}{
		{"create a label", "POST", "/repos/acme/shop/labels", `{"name": "needs-triage", "color": "FBCA04"}`, 201, `"color":"fbca04"`},
		{"a name that differs in case only is taken", "POST", "/repos/acme/shop/labels", `{"name": "BUG"}`, 422, `"code":"already_exists"`},
		{"a bad colour", "POST", "/repos/acme/shop/labels", `{"name": "x", "color": "blue"}`, 422, `"field":"color"`},
		{"update finds the label whatever the case", "PATCH", "/repos/acme/shop/labels/Bug", `{"description": "Something is broken"}`, 200, `"name":"bug"`},
		{"update a missing label", "PATCH", "/repos/acme/shop/labels/nope", `{}`, 404, `Not Found`},
		{"label writes without Issues write", "POST", "/repos/acme/locked/labels", `{"name": "x"}`, 403, `Resource not accessible by personal access token`},
		{"an unprotected branch", "GET", "/repos/acme/shop/branches/main/protection", "", 404, `"message":"Branch not protected"`},
		{"a missing branch", "GET", "/repos/acme/shop/branches/nope/protection", "", 404, `"message":"Branch not found"`},
		{"the nested read", "GET", "/repos/acme/shop/branches/release/protection", "", 200,
			`"enforce_admins":{"enabled":true,"url":"https://api.github.com/repos/acme/shop/branches/release/protection/enforce_admins"}`},
		{"protection without Administration", "GET", "/repos/acme/locked/branches/main/protection", "", 403, `Resource not accessible`},
		{"a write without every top-level key", "PUT", "/repos/acme/shop/branches/main/protection", `{"required_status_checks": null, "enforce_admins": true, "required_pull_request_reviews": null}`,
			422, `\"restrictions\" wasn't supplied.`},
		{"status checks without contexts", "PUT", "/repos/acme/shop/branches/main/protection",
			`{"required_status_checks": {"strict": true}, "enforce_admins": null, "required_pull_request_reviews": null, "restrictions": null}`, 422, `\"contexts\" wasn't supplied.`},
		{"restrictions without teams", "PUT", "/repos/acme/shop/branches/main/protection",
			`{"required_status_checks": null, "enforce_admins": null, "required_pull_request_reviews": null, "restrictions": {"users": []}}`, 422, `\"teams\" wasn't supplied.`},
		{"too many reviews", "PUT", "/repos/acme/shop/branches/main/protection",
			`{"required_status_checks": null, "enforce_admins": null, "required_pull_request_reviews": {"required_approving_review_count": 7}, "restrictions": null}`, 422, `not a number from 0 to 6`},
		{"the flat write, nulls disable", "PUT", "/repos/acme/shop/branches/release/protection", full, 200, `"enforce_admins":{"enabled":false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := do(tc.method, tc.path, tc.body)
			b, _ := json.Marshal(m)
			if status != tc.status || !strings.Contains(string(b), tc.want) {
				t.Errorf("%s %s = %d %s; want %d with %s", tc.method, tc.path, status, b, tc.status, tc.want)
			}
		})
	}
	// The write replaced the protection: reviews are gone, required signatures (their own
	// endpoint) stay.
	p := g.Protection("acme/shop", "release")
	if p == nil || p.Reviews != nil || !p.RequiredSignatures || p.EnforceAdmins {
		t.Errorf("protection after the write: %+v", p)
	}
}

func TestGitHubLabelPages(t *testing.T) {
	g := NewGitHub(t)
	g.Update("acme/shop", func(r *GitHubRepo) {
		for i := range 150 {
			r.Labels = append(r.Labels, GitHubLabel{ID: int64(i + 1), Name: strings.Repeat("x", i+1), Color: "ededed"})
		}
	})
	get := func(q string) (int, string) {
		req, _ := http.NewRequest("GET", g.URL+"repos/acme/shop/labels"+q, nil)
		req.Header.Set("Authorization", "token "+g.Token)
		resp, err := g.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var items []any
		json.NewDecoder(resp.Body).Decode(&items)
		return len(items), resp.Header.Get("Link")
	}
	if n, link := get(""); n != 30 || !strings.Contains(link, `page=2>; rel="next"`) {
		t.Errorf("default page: %d items, Link %q; want 30 and a next page", n, link)
	}
	if n, link := get("?per_page=100&page=2"); n != 50 || strings.Contains(link, `rel="next"`) {
		t.Errorf("last page: %d items, Link %q; want 50 and no next", n, link)
	}
	if n, _ := get("?per_page=500"); n != 100 {
		t.Errorf("per_page=500 gave %d items, want GitHub's cap of 100", n)
	}
}
