package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// GitHubIssuesPrefix is where the GitHub issues fake mounts the REST API (as GitHub Enterprise
// Server does), to catch clients that drop the base URL's path.
const GitHubIssuesPrefix = "/issues-fake/api/v3"

// GitHubIssues fakes the issue endpoints the alerting channel writes to (the DORA collector's
// read-only endpoints are in GitHub): list a repository's issues (state, labels — all must
// match —, sort=created, direction, per_page/page with Link headers), create, get, edit (state,
// state_reason, labels, assignees) and comment. Every request needs the token (401 without).
// Assign and Label act as a person would on github.com. Inject adds 403/429 rate limits, 5xx,
// hangs.
type GitHubIssues struct {
	Server *httptest.Server
	// URL is the API base to configure (GITHUB_API_URL), prefix and trailing slash included.
	URL   string
	Token string
	Now   func() time.Time

	faults faults

	mu     sync.Mutex
	repos  map[string][]*FakeIssue
	calls  []string
	nextID int64
}

// FakeIssue is one issue the fake holds.
type FakeIssue struct {
	Number      int
	Title, Body string
	State       string // open | closed
	StateReason string
	Labels      []string
	Assignees   []string
	Comments    []string
	CreatedAt   time.Time
}

// NewGitHubIssues starts the fake; it stops with the test.
func NewGitHubIssues(t testing.TB) *GitHubIssues {
	g := &GitHubIssues{Token: "fake-github-issues-token-0123456789", repos: map[string][]*FakeIssue{},
		Now: func() time.Time { return time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC) }}
	p := GitHubIssuesPrefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/issues", g.handle(g.list))
	mux.HandleFunc("POST "+p+"/repos/{owner}/{repo}/issues", g.handle(g.create))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/issues/{number}", g.handle(g.get))
	mux.HandleFunc("PATCH "+p+"/repos/{owner}/{repo}/issues/{number}", g.handle(g.edit))
	mux.HandleFunc("POST "+p+"/repos/{owner}/{repo}/issues/{number}/comments", g.handle(g.comment))
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Server.Close)
	g.URL = g.Server.URL + p + "/"
	return g
}

func ghError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func ghJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (g *GitHubIssues) handle(h func(w http.ResponseWriter, r *http.Request, repo string, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, body := requestKey(r, GitHubIssuesPrefix)
		g.mu.Lock()
		g.calls = append(g.calls, r.Method+" "+strings.TrimPrefix(r.URL.Path, GitHubIssuesPrefix))
		g.mu.Unlock()
		if f := g.faults.match(key); f != nil {
			f.serve(w, r, func(status int) string {
				return fmt.Sprintf(`{"message":%q}`, http.StatusText(status))
			})
			return
		}
		auth := r.Header.Get("Authorization")
		if auth != "Bearer "+g.Token && auth != "token "+g.Token {
			ghError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		h(w, r, r.PathValue("owner")+"/"+r.PathValue("repo"), body)
	}
}

// issueJSON is the issue as the API answers it: GitHub's own example of an issue
// (testdata/github/get-issue.json) with this issue's fields.
func (g *GitHubIssues) issueJSON(repo string, is *FakeIssue) map[string]any {
	m := jsonObject(fixture("get-issue.json"))
	delete(m, "pull_request") // an issue, not a pull request
	user := func(login string) map[string]any {
		u := jsonObject(m["user"])
		u["login"], u["html_url"] = login, "https://github.com/"+login
		return u
	}
	label := func(name string) map[string]any {
		l := jsonObject(m["labels"].([]any)[0])
		l["name"], l["url"] = name, "https://api.github.com/repos/"+repo+"/labels/"+url.PathEscape(name)
		return l
	}
	api := g.URL + "repos/" + repo + "/issues/" + strconv.Itoa(is.Number)
	labels, assignees := []any{}, []any{}
	for _, l := range is.Labels {
		labels = append(labels, label(l))
	}
	for _, a := range is.Assignees {
		assignees = append(assignees, user(a))
	}
	var assignee, closedAt, closedBy, reason any
	if len(assignees) > 0 {
		assignee = assignees[0]
	}
	if is.State == "closed" {
		closedAt, closedBy = is.CreatedAt.UTC().Format(time.RFC3339), user("portfolio-bot")
	}
	if is.StateReason != "" {
		reason = is.StateReason
	}
	for k, v := range map[string]any{
		"id": int64(is.Number) + 1000, "number": is.Number, "title": is.Title, "body": is.Body, "state": is.State,
		"state_reason": reason, "labels": labels, "assignees": assignees, "assignee": assignee, "milestone": nil,
		"comments": len(is.Comments), "user": user("portfolio-bot"), "closed_at": closedAt, "closed_by": closedBy,
		"created_at": is.CreatedAt.UTC().Format(time.RFC3339), "updated_at": is.CreatedAt.UTC().Format(time.RFC3339),
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", repo, is.Number), "url": api,
		"repository_url": g.URL + "repos/" + repo, "comments_url": api + "/comments", "events_url": api + "/events",
		"labels_url": api + "/labels{/name}",
	} {
		m[k] = v
	}
	return m
}

func (g *GitHubIssues) find(repo, number string) *FakeIssue {
	n, err := strconv.Atoi(number)
	if err != nil {
		return nil
	}
	for _, is := range g.repos[repo] {
		if is.Number == n {
			return is
		}
	}
	return nil
}

func (g *GitHubIssues) list(w http.ResponseWriter, r *http.Request, repo string, _ []byte) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var labels []string
	if v := q.Get("labels"); v != "" {
		labels = strings.Split(v, ",")
	}
	g.mu.Lock()
	match := []map[string]any{} // [] rather than null when none match
	for _, is := range g.repos[repo] {
		if state != "all" && is.State != state {
			continue
		}
		ok := true
		for _, l := range labels {
			if !slices.ContainsFunc(is.Labels, func(x string) bool { return strings.EqualFold(x, l) }) {
				ok = false
			}
		}
		if ok {
			match = append(match, g.issueJSON(repo, is))
		}
	}
	g.mu.Unlock()
	if q.Get("direction") != "asc" { // sort=created, newest first by default
		slices.Reverse(match)
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	lo, hi := min((page-1)*per, len(match)), min(page*per, len(match))
	if hi < len(match) {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		v := url.Values(u.Query())
		v.Set("page", strconv.Itoa(page+1))
		u.RawQuery = v.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, u.String()))
	}
	ghJSON(w, http.StatusOK, match[lo:hi])
}

func (g *GitHubIssues) create(w http.ResponseWriter, r *http.Request, repo string, body []byte) {
	var req gh.IssueRequest
	if err := json.Unmarshal(body, &req); err != nil || req.GetTitle() == "" {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed: title is missing")
		return
	}
	g.mu.Lock()
	is := &FakeIssue{Number: len(g.repos[repo]) + 1, Title: req.GetTitle(), Body: req.GetBody(), State: "open",
		Labels: req.GetLabels(), Assignees: req.GetAssignees(), CreatedAt: g.Now()}
	g.repos[repo] = append(g.repos[repo], is)
	out := g.issueJSON(repo, is)
	g.mu.Unlock()
	ghJSON(w, http.StatusCreated, out)
}

func (g *GitHubIssues) get(w http.ResponseWriter, r *http.Request, repo string, _ []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	is := g.find(repo, r.PathValue("number"))
	if is == nil {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	ghJSON(w, http.StatusOK, g.issueJSON(repo, is))
}

func (g *GitHubIssues) edit(w http.ResponseWriter, r *http.Request, repo string, body []byte) {
	var req gh.IssueRequest
	if err := json.Unmarshal(body, &req); err != nil {
		ghError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	is := g.find(repo, r.PathValue("number"))
	if is == nil {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	if req.State != nil {
		if *req.State != "open" && *req.State != "closed" {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed: state")
			return
		}
		is.State = *req.State
		is.StateReason = req.GetStateReason()
	}
	if req.Title != nil {
		is.Title = *req.Title
	}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.Labels != nil {
		is.Labels = *req.Labels
	}
	if req.Assignees != nil {
		is.Assignees = *req.Assignees
	}
	ghJSON(w, http.StatusOK, g.issueJSON(repo, is))
}

func (g *GitHubIssues) comment(w http.ResponseWriter, r *http.Request, repo string, body []byte) {
	var req gh.IssueComment
	if err := json.Unmarshal(body, &req); err != nil || req.GetBody() == "" {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed: body is missing")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	is := g.find(repo, r.PathValue("number"))
	if is == nil {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	is.Comments = append(is.Comments, req.GetBody())
	g.nextID++
	c := jsonObject(fixture("create-issue-comment.json"))
	api := g.URL + "repos/" + repo + "/issues/"
	for k, v := range map[string]any{
		"id": g.nextID, "body": req.GetBody(), "issue_url": api + strconv.Itoa(is.Number), "url": api + "comments/" + strconv.FormatInt(g.nextID, 10),
		"html_url":   fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", repo, is.Number, g.nextID),
		"created_at": g.Now().UTC().Format(time.RFC3339), "updated_at": g.Now().UTC().Format(time.RFC3339),
	} {
		c[k] = v
	}
	c["user"].(map[string]any)["login"] = "portfolio-bot"
	ghJSON(w, http.StatusCreated, c)
}

// Inject adds a fault (Match is matched against "METHOD /repos/… body").
func (g *GitHubIssues) Inject(f InjectedFault) { g.faults.add(f) }

// Issues returns copies of the repository's issues, by number.
func (g *GitHubIssues) Issues(repo string) []FakeIssue {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []FakeIssue
	for _, is := range g.repos[repo] {
		c := *is
		c.Labels = slices.Clone(is.Labels)
		c.Assignees = slices.Clone(is.Assignees)
		c.Comments = slices.Clone(is.Comments)
		out = append(out, c)
	}
	return out
}

// AddIssue puts an issue there as a person would have opened it; it returns its number.
func (g *GitHubIssues) AddIssue(repo string, is FakeIssue) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	is.Number = len(g.repos[repo]) + 1
	if is.State == "" {
		is.State = "open"
	}
	g.repos[repo] = append(g.repos[repo], &is)
	return is.Number
}

// Assign assigns the issue to login, as a person on github.com would.
func (g *GitHubIssues) Assign(repo string, number int, login string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if is := g.find(repo, strconv.Itoa(number)); is != nil {
		is.Assignees = append(is.Assignees, login)
	}
}

// Label adds a label to the issue, as a person on github.com would.
func (g *GitHubIssues) Label(repo string, number int, label string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if is := g.find(repo, strconv.Itoa(number)); is != nil {
		is.Labels = append(is.Labels, label)
	}
}

// Close closes the issue by hand.
func (g *GitHubIssues) Close(repo string, number int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if is := g.find(repo, strconv.Itoa(number)); is != nil {
		is.State, is.StateReason = "closed", "completed"
	}
}

// Calls lists "METHOD /path" of every request, without the prefix.
func (g *GitHubIssues) Calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}
