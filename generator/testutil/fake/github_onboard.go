package fake

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file fakes what `portfolio init` and `portfolio doctor` read of GitHub, in the shapes of
// GitHub's published REST description (examples under testdata/github, see its README):
//
//   - GET /orgs/{org}/repos and GET /users/{username}/repos (type, per_page/page, Link);
//   - GET /repos/{owner}/{repo}/actions/workflows ({total_count, workflows});
//   - GET /repos/{owner}/{repo}/commits (newest first);
//   - POST /repos/{owner}/{repo}/issues: a body without a title is refused with 422
//     missing_field, after the permission check, so nothing is created;
//   - GET /user, GET /rate_limit (not counted), GET /installation/repositories.
//
// UseToken makes the token one of a kind, as GitHub tells them apart: a classic token's
// answers carry X-OAuth-Scopes; a fine-grained token or an App installation token (Actions'
// GITHUB_TOKEN is one) carries none and is refused a call its permissions lack with HTTP 403
// "Resource not accessible by personal access token" (or "… by integration") and an
// X-Accepted-GitHub-Permissions header naming the permission the call needs. A repository the
// token was not given is 404 Not Found, as GitHub hides private repositories.

// GitHubRepoInfo is what a repository list says of a repository.
type GitHubRepoInfo struct {
	Private, Archived, Fork bool
	Homepage, Description   string // "" reads as null
	Topics                  []string
}

// GitHubWorkflow is a workflow of a repository.
// With Workflows set on a repository, the runs of any other file are 404, as GitHub answers.
type GitHubWorkflow struct {
	Name  string // as its YAML names it; default the file name without extension
	File  string // e.g. deploy.yml (under .github/workflows/)
	State string // default active
}

// GitHubTokenKind is a kind of GitHub token.
type GitHubTokenKind string

// Kinds of token.
const (
	GitHubTokenClassic      GitHubTokenKind = "classic"
	GitHubTokenFineGrained  GitHubTokenKind = "fine-grained"
	GitHubTokenInstallation GitHubTokenKind = "installation"
)

// GitHubToken describes the token the fake accepts.
type GitHubToken struct {
	Kind GitHubTokenKind
	// Scopes of a classic token: sent as X-OAuth-Scopes. Without "repo", private repositories
	// are not found.
	Scopes []string
	// Permissions of a fine-grained or installation token, by GitHub's names: "actions",
	// "contents", "deployments", "issues", "administration" → "read" or "write" (write
	// implies read; metadata read is always granted).
	Permissions map[string]string
	// Repos are the repositories ("owner/name") a fine-grained or installation token was
	// given; nil: all of them.
	Repos []string
	// Login is whose personal token it is (default octocat).
	Login string
}

type onboardState struct {
	set   bool
	token GitHubToken
	users map[string]bool // owners that are users, not organizations
}

// UseToken makes token the only token the fake accepts, of the given kind.
func (g *GitHub) UseToken(token string, t GitHubToken) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Token = token
	g.onboard.set, g.onboard.token = true, t
}

// SetUser makes owner a user account rather than an organization: /orgs/{owner}/repos is then
// 404 and /users/{owner}/repos lists its public repositories.
func (g *GitHub) SetUser(owner string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.onboard.users == nil {
		g.onboard.users = map[string]bool{}
	}
	g.onboard.users[strings.ToLower(owner)] = true
}

// Issues returns a copy of the repository's issues.
func (g *GitHub) Issues(repo string) []GitHubIssue {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.repos[repo]; r != nil {
		return slices.Clone(r.Issues)
	}
	return nil
}

func (g *GitHub) handleOnboard(mux *http.ServeMux, p string) {
	mux.HandleFunc("GET "+p+"/user", g.getUser)
	mux.HandleFunc("GET "+p+"/rate_limit", g.rateLimit)
	mux.HandleFunc("GET "+p+"/orgs/{org}/repos", g.listOwnerRepos(false))
	mux.HandleFunc("GET "+p+"/users/{org}/repos", g.listOwnerRepos(true))
	mux.HandleFunc("GET "+p+"/installation/repositories", g.installationRepos)
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/actions/workflows", g.withRepo(g.listWorkflows))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/commits", g.withRepo(g.listCommits))
	mux.HandleFunc("POST "+p+"/repos/{owner}/{repo}/issues", g.withRepo(g.createIssue))
}

// permissionFor is the permission a fine-grained call needs: ("", "") for none.
func permissionFor(method, rest string) (string, string) {
	level := "read"
	if method != http.MethodGet && method != http.MethodHead {
		level = "write"
	}
	part, _, _ := strings.Cut(rest, "/")
	switch part {
	case "actions":
		return "actions", level
	case "deployments":
		return "deployments", level
	case "compare", "commits":
		return "contents", level
	case "issues", "labels":
		return "issues", level
	case "branches":
		return "administration", level
	}
	return "", ""
}

// notAccessible is GitHub's 403 to a fine-grained or installation token without a permission.
func (t GitHubToken) notAccessible(w http.ResponseWriter, perm, level string) {
	who := "personal access token"
	if t.Kind == GitHubTokenInstallation {
		who = "integration"
	}
	if perm != "" {
		w.Header().Set("X-Accepted-GitHub-Permissions", perm+"="+level)
	}
	githubJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by " + who,
		"documentation_url": "https://docs.github.com/rest", "status": "403"})
}

func (t GitHubToken) grants(perm, level string) bool {
	have := t.Permissions[perm]
	return have == "write" || have == level
}

func (t GitHubToken) sees(full string, private bool) bool {
	switch t.Kind {
	case GitHubTokenClassic:
		return !private || slices.Contains(t.Scopes, "repo")
	default:
		return t.Repos == nil || slices.ContainsFunc(t.Repos, func(r string) bool { return strings.EqualFold(r, full) })
	}
}

// tokenRefuses answers a call the token may not make, as GitHub would, and says whether it
// did. A classic token's scopes go on every answer. Without UseToken, everything is allowed.
func (g *GitHub) tokenRefuses(w http.ResponseWriter, r *http.Request) bool {
	g.mu.Lock()
	st := g.onboard
	var repo *GitHubRepo
	rest := strings.TrimPrefix(r.URL.Path, GitHubPrefix)
	var full string
	if after, ok := strings.CutPrefix(rest, "/repos/"); ok {
		parts := strings.SplitN(after, "/", 3)
		if len(parts) >= 2 {
			full = parts[0] + "/" + parts[1]
			repo = g.repos[full]
			rest = ""
			if len(parts) == 3 {
				rest = parts[2]
			}
		}
	}
	var private bool
	if repo != nil {
		private = repo.Info.Private
	}
	g.mu.Unlock()
	if !st.set {
		return false
	}
	t := st.token
	if t.Kind == GitHubTokenClassic {
		w.Header().Set("X-OAuth-Scopes", strings.Join(t.Scopes, ", "))
	}
	switch {
	case full != "":
		if repo != nil && !t.sees(full, private) {
			githubError(w, http.StatusNotFound, "Not Found")
			return true
		}
		if t.Kind == GitHubTokenClassic {
			return false
		}
		if perm, level := permissionFor(r.Method, rest); perm != "" && !t.grants(perm, level) {
			t.notAccessible(w, perm, level)
			return true
		}
	case r.URL.Path == GitHubPrefix+"/user" && t.Kind == GitHubTokenInstallation:
		t.notAccessible(w, "", "")
		return true
	case r.URL.Path == GitHubPrefix+"/installation/repositories" && t.Kind != GitHubTokenInstallation:
		githubJSON(w, http.StatusForbidden, map[string]string{"message": "You must authenticate with an installation access token in order to list repositories for an installation.",
			"documentation_url": "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation", "status": "403"})
		return true
	}
	return false
}

func stableID(s string) int64 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int64(h.Sum32()>>1) + 1000
}

func (g *GitHub) getUser(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := jsonObject(fixture("get-authenticated-user.json"))
	// The description's user is oneOf private-user and public-user, told apart by
	// user_view_type, which its example predates.
	m["user_view_type"] = "private"
	if login := g.onboard.token.Login; login != "" {
		m["login"], m["html_url"], m["url"] = login, "https://github.com/"+login, "https://api.github.com/users/"+login
	}
	g.reply(w, r, m, "")
}

// rateLimit answers GET /rate_limit, which does not count against the limit.
func (g *GitHub) rateLimit(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	core := map[string]any{"limit": g.Limit, "used": g.Limit - g.remaining, "remaining": g.remaining, "reset": g.reset.Unix()}
	g.rateHeaders(w.Header())
	githubJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{
		"core":    core,
		"search":  map[string]any{"limit": 30, "used": 0, "remaining": 30, "reset": g.reset.Unix()},
		"graphql": map[string]any{"limit": 5000, "used": 0, "remaining": 5000, "reset": g.reset.Unix()},
	}, "rate": core})
}

// repoJSON is a repository as a list shows it: GitHub's example of that list (a minimal
// repository for the owner lists, a full one for the installation's) with this one's fields.
func repoJSON(example, full string, repo *GitHubRepo, ownerIsUser bool) map[string]any {
	tmpl := fixture(example)
	if m, ok := tmpl.(map[string]any); ok {
		tmpl = m["repositories"]
	}
	raw, _ := json.Marshal(tmpl.([]any)[0])
	owner, name, _ := strings.Cut(full, "/")
	raw = []byte(strings.ReplaceAll(string(raw), "octocat/Hello-World", full))
	var m map[string]any
	json.Unmarshal(raw, &m)
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	visibility := "public"
	if repo.Info.Private {
		visibility = "private"
	}
	topics := repo.Info.Topics
	if topics == nil {
		topics = []string{}
	}
	ownerType := "Organization"
	if ownerIsUser {
		ownerType = "User"
	}
	o := m["owner"].(map[string]any)
	o["login"], o["type"], o["id"] = owner, ownerType, stableID(owner)
	o["html_url"], o["url"] = "https://github.com/"+owner, "https://api.github.com/users/"+owner
	for k, v := range map[string]any{
		"id": stableID(full), "name": name, "full_name": full, "private": repo.Info.Private, "visibility": visibility,
		"description": nullable(repo.Info.Description), "homepage": nullable(repo.Info.Homepage), "fork": repo.Info.Fork,
		"archived": repo.Info.Archived, "disabled": false, "default_branch": repo.DefaultBranch, "topics": topics,
	} {
		m[k] = v
	}
	return m
}

func (g *GitHub) listOwnerRepos(users bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner := r.PathValue("org")
		g.mu.Lock()
		defer g.mu.Unlock()
		isUser := g.onboard.users[strings.ToLower(owner)]
		var names []string
		for full := range g.repos {
			if o, _, _ := strings.Cut(full, "/"); strings.EqualFold(o, owner) {
				names = append(names, full)
			}
		}
		if len(names) == 0 || isUser != users {
			githubError(w, http.StatusNotFound, "Not Found")
			return
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		typ := r.URL.Query().Get("type")
		t := g.onboard.token
		var list []any
		for _, full := range names {
			repo := g.repos[full]
			switch {
			case g.onboard.set && !t.sees(full, repo.Info.Private):
			case users && repo.Info.Private: // another user's private repositories are not listed
			case typ == "public" && repo.Info.Private, typ == "private" && !repo.Info.Private,
				typ == "forks" && !repo.Info.Fork, typ == "sources" && repo.Info.Fork:
			default:
				list = append(list, repoJSON("list-org-repos.json", full, repo, isUser))
			}
		}
		page, link, ok := githubPage(w, r, list, 30)
		if !ok {
			return
		}
		g.reply(w, r, append([]any{}, page...), link)
	}
}

func (g *GitHub) installationRepos(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var names []string
	for full := range g.repos {
		if g.onboard.token.sees(full, true) {
			names = append(names, full)
		}
	}
	slices.Sort(names)
	var list []any
	for _, full := range names {
		list = append(list, repoJSON("list-installation-repos.json", full, g.repos[full], g.onboard.users[strings.ToLower(strings.Split(full, "/")[0])]))
	}
	page, link, ok := githubPage(w, r, list, 30)
	if !ok {
		return
	}
	g.reply(w, r, map[string]any{"total_count": len(list), "repositories": append([]any{}, page...)}, link)
}

// workflows are the repository's workflows: its Workflows, else one per file its runs name.
func (repo *GitHubRepo) workflows() []GitHubWorkflow {
	if len(repo.Workflows) > 0 {
		return repo.Workflows
	}
	var out []GitHubWorkflow
	for _, run := range repo.Runs {
		if !slices.ContainsFunc(out, func(w GitHubWorkflow) bool { return w.File == run.Workflow }) {
			out = append(out, GitHubWorkflow{File: run.Workflow})
		}
	}
	slices.SortFunc(out, func(a, b GitHubWorkflow) int { return strings.Compare(a.File, b.File) })
	return out
}

// hasWorkflow says whether the repository has the workflow file: GitHub answers 404 to the
// runs of one it does not have. Without Workflows set, every file is taken to exist (tests
// of a repository that has not run its workflow yet).
func (repo *GitHubRepo) hasWorkflow(file string) bool {
	if len(repo.Workflows) == 0 {
		return true
	}
	for _, w := range repo.Workflows {
		if w.File == file {
			return true
		}
	}
	return false
}

func (g *GitHub) listWorkflows(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	all := repo.workflows()
	page, link, ok := githubPage(w, r, all, 30)
	if !ok {
		return
	}
	tmpl := fixture("list-repo-workflows.json").(map[string]any)["workflows"].([]any)[0]
	out := []any{}
	for _, wf := range page {
		m := jsonObject(tmpl)
		name := wf.Name
		if name == "" {
			name = strings.TrimSuffix(wf.File, path.Ext(wf.File))
		}
		state := wf.State
		if state == "" {
			state = "active"
		}
		id := stableID(full + "/" + wf.File)
		p := ".github/workflows/" + wf.File
		for k, v := range map[string]any{
			"id": id, "name": name, "path": p, "state": state,
			"url":       "https://api.github.com/repos/" + full + "/actions/workflows/" + strconv.FormatInt(id, 10),
			"html_url":  "https://github.com/" + full + "/blob/" + repo.DefaultBranch + "/" + p,
			"badge_url": "https://github.com/" + full + "/workflows/" + name + "/badge.svg",
		} {
			m[k] = v
		}
		out = append(out, m)
	}
	g.reply(w, r, map[string]any{"total_count": len(all), "workflows": out}, link)
}

func (g *GitHub) listCommits(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	commits := make([]GitHubCommit, 0, len(repo.Commits))
	for _, c := range repo.Commits {
		commits = append(commits, c)
	}
	slices.SortFunc(commits, func(a, b GitHubCommit) int { // newest first
		if c := b.Authored.Compare(a.Authored); c != 0 {
			return c
		}
		return strings.Compare(a.SHA, b.SHA)
	})
	page, link, ok := githubPage(w, r, commits, 30)
	if !ok {
		return
	}
	out := []any{}
	for _, c := range page {
		out = append(out, commitJSON(full, c))
	}
	g.reply(w, r, out, link)
}

// createIssue creates an issue; a body without a title is GitHub's 422.
func (g *GitHub) createIssue(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	const doc = "issues/issues#create-an-issue"
	if repo.DenyIssuesWrite {
		forbidden(w, doc)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Title  *string  `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		githubJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/rest/" + doc, "status": "400"})
		return
	}
	if in.Title == nil || *in.Title == "" {
		validationFailed(w, "Issue", "title", "missing_field", doc)
		return
	}
	n := len(repo.Issues) + 1
	now := time.Now().UTC().Truncate(time.Second)
	is := GitHubIssue{Number: n, Title: *in.Title, Body: in.Body, State: "open", Labels: in.Labels, Created: now, Updated: now}
	repo.Issues = append(repo.Issues, is)
	m := jsonObject(fixture("list-repository-issues.json").([]any)[0])
	delete(m, "pull_request")
	for k, v := range map[string]any{"id": int64(n) + 1000, "number": n, "title": is.Title, "body": is.Body, "state": "open",
		"created_at": ts(now), "updated_at": ts(now), "closed_at": nil, "labels": []any{},
		"html_url": "https://github.com/" + full + "/issues/" + strconv.Itoa(n),
		"url":      "https://api.github.com/repos/" + full + "/issues/" + strconv.Itoa(n)} {
		m[k] = v
	}
	g.write(w, http.StatusCreated, m)
}
