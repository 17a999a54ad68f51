package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	list   []any
}

func call(t *testing.T, client *http.Client, method, url, token, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header}
	switch {
	case len(b) > 0 && b[0] == '{':
		json.Unmarshal(b, &a.body)
	case len(b) > 0 && b[0] == '[':
		json.Unmarshal(b, &a.list)
	}
	return a
}

// TestGitHubTokenKinds checks that the fake tells token kinds apart as GitHub does: scopes on a
// classic token's answers, none on the others; a fine-grained token refused a permission with
// 403, its message and X-Accepted-GitHub-Permissions; a repository it was not given is 404.
func TestGitHubTokenKinds(t *testing.T) {
	g := NewGitHub(t)
	g.Update("acme/shop", func(r *GitHubRepo) {
		r.Info = GitHubRepoInfo{Private: true, Homepage: "https://shop.example.com"}
		r.Workflows = []GitHubWorkflow{{File: "deploy.yaml"}}
	})
	g.Update("acme/other", func(r *GitHubRepo) {})
	get := func(path, body string) answer {
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
		}
		return call(t, g.Server.Client(), method, g.URL+path, g.Token, body)
	}

	g.UseToken("ghp_classic", GitHubToken{Kind: GitHubTokenClassic, Scopes: []string{"repo", "workflow"}})
	if a := get("rate_limit", ""); a.status != 200 || a.header.Get("X-OAuth-Scopes") != "repo, workflow" {
		t.Errorf("classic: %d, scopes %q", a.status, a.header.Get("X-OAuth-Scopes"))
	}
	g.UseToken("ghp_public", GitHubToken{Kind: GitHubTokenClassic, Scopes: []string{"public_repo"}})
	if a := get("repos/acme/shop", ""); a.status != 404 {
		t.Errorf("a classic token without repo on a private repository: %d, want 404", a.status)
	}

	g.UseToken("github_pat_x", GitHubToken{Kind: GitHubTokenFineGrained, Repos: []string{"acme/shop"}, Permissions: map[string]string{"issues": "read"}})
	if a := get("rate_limit", ""); a.header.Values("X-OAuth-Scopes") != nil {
		t.Error("a fine-grained token's answers carry no X-OAuth-Scopes")
	}
	a := get("repos/acme/shop/actions/workflows/deploy.yaml/runs", "")
	if a.status != 403 || a.body["message"] != "Resource not accessible by personal access token" || a.header.Get("X-Accepted-GitHub-Permissions") != "actions=read" {
		t.Errorf("no Actions read: %d %v %q", a.status, a.body, a.header.Get("X-Accepted-GitHub-Permissions"))
	}
	if a := get("repos/acme/shop/issues", `{}`); a.status != 403 || a.header.Get("X-Accepted-GitHub-Permissions") != "issues=write" {
		t.Errorf("no Issues write: %d %q", a.status, a.header.Get("X-Accepted-GitHub-Permissions"))
	}
	if a := get("repos/acme/other", ""); a.status != 404 {
		t.Errorf("a repository the token was not given: %d, want 404", a.status)
	}
	if a := get("orgs/acme/repos", ""); a.status != 200 || len(a.list) != 1 || a.list[0].(map[string]any)["homepage"] != "https://shop.example.com" {
		t.Errorf("the organisation's repositories the token sees: %d %v", a.status, a.list)
	}

	g.UseToken("ghs_x", GitHubToken{Kind: GitHubTokenInstallation, Repos: []string{"acme/shop"}, Permissions: map[string]string{"issues": "write", "actions": "read"}})
	if a := get("user", ""); a.status != 403 || a.body["message"] != "Resource not accessible by integration" {
		t.Errorf("an installation token reading /user: %d %v", a.status, a.body)
	}
	if a := get("installation/repositories", ""); a.status != 200 || a.body["total_count"] != float64(1) {
		t.Errorf("installation repositories: %d %v", a.status, a.body)
	}
	if a := get("repos/acme/shop/issues", `{}`); a.status != 422 || a.body["errors"].([]any)[0].(map[string]any)["field"] != "title" {
		t.Errorf("an issue without a title: %d %v", a.status, a.body)
	}
	if a := get("repos/acme/shop/actions/workflows/deploy.yml/runs", ""); a.status != 404 {
		t.Errorf("the runs of a workflow the repository does not have: %d, want 404", a.status)
	}
	if a := get("repos/acme/shop/actions/workflows", ""); a.status != 200 || a.body["total_count"] != float64(1) ||
		a.body["workflows"].([]any)[0].(map[string]any)["path"] != ".github/workflows/deploy.yaml" {
		t.Errorf("workflows: %d %v", a.status, a.body)
	}
	if len(g.Issues("acme/shop")) != 0 {
		t.Error("an issue without a title was created")
	}
}

// TestCloudflareAccountRefusals checks the answers of a token without a permission: 403 and
// code 10000 for REST, 200 with "authz" for GraphQL, no zones without Zone Read, and 401 code
// 1000 for a token Cloudflare does not know.
func TestCloudflareAccountRefusals(t *testing.T) {
	c := NewCloudflareAccount(t)
	c.AddZone("023e105f4ecef8ad9ca31a8372d0c353", "example.com", "")
	c.Deny(CloudflareAnalyticsRead, CloudflareHealthChecksRead, CloudflareZoneRead, CloudflarePagesEdit)
	do := func(method, path, token, body string) answer {
		return call(t, c.Server.Client(), method, c.URL+path, token, body)
	}
	if a := do("GET", "/user/tokens/verify", c.Token, ""); a.status != 200 || a.body["result"].(map[string]any)["status"] != "active" {
		t.Errorf("verify: %d %v", a.status, a.body)
	}
	a := do("GET", "/user/tokens/verify", "nope", "")
	if errs, _ := a.body["errors"].([]any); a.status != 401 || len(errs) != 1 || errs[0].(map[string]any)["code"] != float64(1000) {
		t.Errorf("an unknown token: %d %v", a.status, a.body)
	}
	a = do("GET", "/zones/023e105f4ecef8ad9ca31a8372d0c353/healthchecks", c.Token, "")
	if errs, _ := a.body["errors"].([]any); a.status != 403 || a.body["success"] != false || len(errs) != 1 || errs[0].(map[string]any)["code"] != float64(10000) {
		t.Errorf("health checks without the permission: %d %v", a.status, a.body)
	}
	a = do("POST", "/graphql", c.Token, `{"query":"{viewer{zones(filter:{zoneTag:$zoneTag}){x}}}","variables":{"zoneTag":"023e105f4ecef8ad9ca31a8372d0c353"}}`)
	errs, _ := a.body["errors"].([]any)
	if a.status != 200 || a.body["data"] != nil || len(errs) != 1 || errs[0].(map[string]any)["extensions"].(map[string]any)["code"] != "authz" ||
		!strings.Contains(errs[0].(map[string]any)["message"].(string), "for zone 023e105f4ecef8ad9ca31a8372d0c353") {
		t.Errorf("analytics without the permission: %d %v", a.status, a.body)
	}
	if a := do("GET", "/zones?per_page=50", c.Token, ""); a.status != 200 || len(a.body["result"].([]any)) != 0 {
		t.Errorf("zones without Zone Read: %d %v", a.status, a.body)
	}
	if a := do("GET", "/accounts/"+c.AccountID+"/pages/projects/portfolio", c.Token, ""); a.status != 200 {
		t.Errorf("Pages read: %d %v", a.status, a.body)
	}
	if a := do("GET", "/accounts/"+c.AccountID+"/pages/projects/portfolio/upload-token", c.Token, ""); a.status != 403 {
		t.Errorf("an upload token without Pages Edit: %d %v", a.status, a.body)
	}
}
