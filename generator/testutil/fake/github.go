package fake

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
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
)

// GitHubPrefix is where the GitHub fake mounts the REST API, as GitHub Enterprise Server does,
// to catch clients that drop the base URL's path.
const GitHubPrefix = "/ghe/api/v3"

//go:embed testdata/github/*.json
var githubFixtures embed.FS

// GitHub fakes the REST endpoints the DORA collector reads (docs/dora.md), answering with the
// shapes of GitHub's own example payloads (copied under testdata/github): the repository,
// workflow runs by workflow file, deployments and their statuses, compare, a commit, and issues.
//
// It honours the filters the collector relies on (branch, event, status, created, head_sha;
// environment; labels, state, since, sort, direction), per_page/page with Link headers, ETags
// with If-None-Match → 304 (not counted against the rate limit), 401 without the token, and
// sends x-ratelimit-* headers; ExhaustRateLimit and SecondaryLimit inject the limits.
type GitHub struct {
	Server *httptest.Server
	// URL is the API base to configure (GITHUB_API_URL), prefix and trailing slash included.
	URL     string
	Token   string
	Latency time.Duration
	// Limit is the primary rate limit per hour (default 5000); Remaining starts there.
	Limit int

	faults faults
	calls  lockedList[GitHubCall]

	mu        sync.Mutex
	repos     map[string]*GitHubRepo
	remaining int
	reset     time.Time
	// primaryStatus is 403 or 429 once ExhaustRateLimit was called.
	primaryStatus int
	secondary     []secondaryLimit
	// onboard is what `portfolio init` and `doctor` need beyond the rest: the kind of token
	// Token is and what it may do, and which owners are users (github_onboard.go).
	onboard onboardState
	// rotations counts RotateToken calls.
	rotations int
	// brokenPaging is BreakPaging's rules: match → mode.
	brokenPaging map[string]string
}

// GitHubCall is one request the fake answered.
type GitHubCall struct {
	Method, Path string // path without the prefix, with the query
	Status       int
	Conditional  bool // carried If-None-Match
}

type secondaryLimit struct {
	match      string
	times      int
	status     int
	retryAfter string
}

// GitHubRepo is one repository's data. Change it through GitHub.Update.
type GitHubRepo struct {
	DefaultBranch string
	Runs          []GitHubRun
	Deployments   []GitHubDeployment
	Commits       map[string]GitHubCommit // by full sha
	Issues        []GitHubIssue

	// Labels, Branches, Protection and the permission switches below are what
	// `portfolio repos` reads and writes (github_repos.go).
	Labels []GitHubLabel
	// Branches lists the branches besides DefaultBranch, for branch protection.
	Branches []string
	// Protection is each protected branch's protection, by branch name.
	Protection map[string]*GitHubProtection
	// DenyAdministration answers 403 to branch protection, as GitHub does for a token without
	// the Administration permission; DenyIssuesWrite answers 403 to label writes (a token
	// without Issues write).
	DenyAdministration, DenyIssuesWrite bool

	// Info and Workflows are what `portfolio init` and `doctor` read (github_onboard.go).
	Info      GitHubRepoInfo
	Workflows []GitHubWorkflow
}

// GitHubRun is a workflow run as the list shows its latest attempt.
type GitHubRun struct {
	ID               int64
	Workflow         string // file name, e.g. deploy.yml
	Branch, SHA      string
	Event            string // default push
	Status           string // queued, in_progress, completed
	Conclusion       string // success, failure, cancelled, … ("" while not completed)
	Attempt          int    // default 1
	Created, Updated time.Time
}

// GitHubDeployment is a GitHub Deployment with its statuses.
type GitHubDeployment struct {
	ID               int64
	SHA, Ref         string
	Environment      string
	Created, Updated time.Time
	Statuses         []GitHubDeploymentStatus
}

// GitHubDeploymentStatus is one status of a deployment.
type GitHubDeploymentStatus struct {
	ID      int64
	State   string // success, failure, error, inactive, pending, queued, in_progress
	Created time.Time
}

// GitHubCommit is a commit of the repository's graph.
type GitHubCommit struct {
	SHA      string
	Parents  []string
	Authored time.Time
	Message  string
}

// GitHubIssue is an issue, or a pull request as the issues endpoint lists it.
type GitHubIssue struct {
	Number           int
	Title, Body      string
	State            string // open, closed
	StateReason      string // completed, not_planned, reopened
	Labels           []string
	Created, Updated time.Time
	Closed           *time.Time
	PullRequest      bool
}

// NewGitHub starts the fake; it stops when the test ends.
func NewGitHub(t testing.TB) *GitHub {
	g := &GitHub{
		Token: "ghp_fake_test_token_0123456789abcdef",
		Limit: 5000,
		repos: map[string]*GitHubRepo{},
		reset: time.Now().Add(time.Hour).Truncate(time.Second),
	}
	g.remaining = g.Limit
	mux := http.NewServeMux()
	p := GitHubPrefix
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}", g.withRepo(g.getRepo))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/actions/runs", g.withRepo(g.listRuns))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/actions/workflows/{file}/runs", g.withRepo(g.listRuns))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/deployments", g.withRepo(g.listDeployments))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/deployments/{id}", g.withRepo(g.getDeployment))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/deployments/{id}/statuses", g.withRepo(g.listStatuses))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/compare/{basehead}", g.withRepo(g.compare))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/commits/{sha}", g.withRepo(g.getCommit))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/issues", g.withRepo(g.listIssues))
	g.handleRepos(mux, p)
	g.handleOnboard(mux, p)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		githubError(w, http.StatusNotFound, "Not Found")
	})
	g.Server, g.URL = startServer(t, GitHubPrefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.serve(w, r, mux)
	}))
	return g
}

// Update changes a repository ("owner/name") under the fake's lock, creating it when missing.
func (g *GitHub) Update(repo string, f func(r *GitHubRepo)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[repo]
	if r == nil {
		r = &GitHubRepo{DefaultBranch: "main", Commits: map[string]GitHubCommit{}}
		g.repos[repo] = r
	}
	if r.Commits == nil {
		r.Commits = map[string]GitHubCommit{}
	}
	f(r)
}

// AddCommit adds a commit to the graph.
func (r *GitHubRepo) AddCommit(sha string, authored time.Time, parents ...string) {
	r.Commits[sha] = GitHubCommit{SHA: sha, Parents: parents, Authored: authored, Message: "commit " + sha[:min(7, len(sha))]}
}

// RotateToken replaces the token with a new one, as GitHub Actions does every job (the job's
// GITHUB_TOKEN is an installation token that expires with the job) and a GitHub App's
// installation token every hour: the old token is refused from now on, and the ETags it was
// given never match the new one's (docs/dora.md, "Collection cost and limits"). It returns the
// new token.
func (g *GitHub) RotateToken() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotations++
	g.Token = fmt.Sprintf("ghs_fake_installation_token_%04d", g.rotations)
	return g.Token
}

// Inject adds a fault (matched against "METHOD /path?query ").
func (g *GitHub) Inject(f InjectedFault) { g.faults.add(f) }

// ExhaustRateLimit makes every later counted request fail with the primary limit: status 403
// (as GitHub usually answers) or 429, with x-ratelimit-remaining: 0 and the reset time.
func (g *GitHub) ExhaustRateLimit(status int, reset time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.remaining = 0
	g.primaryStatus = status
	g.reset = reset.Truncate(time.Second)
}

// SecondaryLimit makes the next times requests whose "METHOD /path?query" contains match fail
// with a secondary rate limit: status 403 (with GitHub's documentation_url) or 429, and
// Retry-After when retryAfter is not empty.
func (g *GitHub) SecondaryLimit(match string, times, status int, retryAfter string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.secondary = append(g.secondary, secondaryLimit{match: match, times: times, status: status, retryAfter: retryAfter})
}

// Calls lists the requests answered so far.
func (g *GitHub) Calls() []GitHubCall { return g.calls.all() }

// ResetCalls forgets the requests answered so far.
func (g *GitHub) ResetCalls() { g.calls.reset() }

// Counted is the number of requests that count against the rate limit (all but 304s).
func (g *GitHub) Counted() int {
	calls := g.Calls()
	return len(calls) - notModified(calls)
}

// NotModified is the number of 304 answers.
func (g *GitHub) NotModified() int { return notModified(g.Calls()) }

func notModified(calls []GitHubCall) int {
	n := 0
	for _, c := range calls {
		if c.Status == http.StatusNotModified {
			n++
		}
	}
	return n
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request, mux http.Handler) {
	key, _ := requestKey(r, GitHubPrefix)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		g.calls.add(GitHubCall{Method: r.Method, Path: requestPath(r, GitHubPrefix), Status: rec.status,
			Conditional: r.Header.Get("If-None-Match") != ""})
	}()
	if !sleepCtx(r, g.Latency) {
		return
	}
	if !strings.HasPrefix(r.URL.Path, GitHubPrefix+"/") {
		githubError(rec, http.StatusNotFound, "Not Found")
		return
	}
	auth := r.Header.Get("Authorization")
	g.mu.Lock()
	token := g.Token
	g.mu.Unlock()
	if auth != "Bearer "+token && auth != "token "+token {
		githubError(rec, http.StatusUnauthorized, "Bad credentials")
		return
	}
	if g.tokenRefuses(rec, r) {
		return
	}
	g.mu.Lock()
	for i := range g.secondary {
		s := &g.secondary[i]
		if s.times > 0 && strings.Contains(key, s.match) {
			s.times--
			g.rateHeaders(rec.Header())
			g.mu.Unlock()
			if s.retryAfter != "" {
				rec.Header().Set("Retry-After", s.retryAfter)
			}
			githubJSON(rec, s.status, map[string]string{
				"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
			return
		}
	}
	if g.remaining <= 0 {
		g.rateHeaders(rec.Header())
		status := cmp.Or(g.primaryStatus, http.StatusForbidden)
		g.mu.Unlock()
		githubJSON(rec, status, map[string]string{
			"message":           "API rate limit exceeded for user ID 1.",
			"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
		})
		return
	}
	g.mu.Unlock()
	if g.faults.answer(rec, r, key, githubFaultBody) {
		return
	}
	g.mu.Lock()
	mode := ""
	for match, m := range g.brokenPaging {
		if strings.Contains(key, match) {
			mode = m
		}
	}
	g.mu.Unlock()
	if mode != "" {
		mux.ServeHTTP(&brokenLinks{ResponseWriter: rec, r: r, mode: mode}, r)
		return
	}
	mux.ServeHTTP(rec, r)
}

// BreakPaging makes the Link headers of listings whose "METHOD /path?query" contains match
// misbehave: "loop" points next back at page 1; "endless" always names a next page.
func (g *GitHub) BreakPaging(match, mode string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.brokenPaging == nil {
		g.brokenPaging = map[string]string{}
	}
	g.brokenPaging[match] = mode
}

// brokenLinks rewrites the Link header as BreakPaging says.
type brokenLinks struct {
	http.ResponseWriter
	r       *http.Request
	mode    string
	written bool
}

func (b *brokenLinks) WriteHeader(code int) {
	if b.written {
		return
	}
	b.written = true
	page, _ := strconv.Atoi(b.r.URL.Query().Get("page"))
	page = max(page, 1)
	next := 1
	if b.mode == "endless" {
		next = page + 1
	}
	u := *b.r.URL
	u.Scheme, u.Host = "http", b.r.Host
	q := u.Query()
	q.Set("page", strconv.Itoa(next))
	u.RawQuery = q.Encode()
	b.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
	b.ResponseWriter.WriteHeader(code)
}

func (b *brokenLinks) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.ResponseWriter.Write(p)
}

func githubFaultBody(status int) string {
	b, _ := json.Marshal(map[string]string{"message": http.StatusText(status)})
	return string(b)
}

// rateHeaders sets the x-ratelimit-* headers. Callers hold g.mu.
func (g *GitHub) rateHeaders(h http.Header) {
	h.Set("X-Ratelimit-Limit", strconv.Itoa(g.Limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(g.remaining))
	h.Set("X-Ratelimit-Used", strconv.Itoa(g.Limit-g.remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(g.reset.Unix(), 10))
	h.Set("X-Ratelimit-Resource", "core")
}

// githubJSON answers v as GitHub does, compact JSON with a charset.
func githubJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func githubError(w http.ResponseWriter, status int, msg string) {
	githubJSON(w, status, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)})
}

type repoHandler func(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo)

// withRepo finds the repository and runs h under the lock.
func (g *GitHub) withRepo(h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		full := r.PathValue("owner") + "/" + r.PathValue("repo")
		g.mu.Lock()
		defer g.mu.Unlock()
		repo := g.repos[full]
		if repo == nil {
			githubError(w, http.StatusNotFound, "Not Found")
			return
		}
		h(w, r, full, repo)
	}
}

// reply writes v as JSON with an ETag, or a 304 when If-None-Match matches. Callers hold g.mu.
func (g *GitHub) reply(w http.ResponseWriter, r *http.Request, v any, link string) {
	body, err := json.Marshal(v)
	if err != nil {
		githubError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// GitHub's ETags belong to the token that made the request: the same answer to another
	// token has another ETag, and that token's If-None-Match never matches this one.
	sum := sha256.Sum256(append([]byte(r.Header.Get("Authorization")+"\n"+r.URL.RawQuery+"\n"), body...))
	tag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", tag)
	if link != "" {
		h.Set("Link", link)
	}
	notModified := r.Header.Get("If-None-Match") == tag
	if !notModified && g.remaining > 0 {
		g.remaining--
	}
	g.rateHeaders(h)
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.Write(body)
}

// githubPage cuts items to the requested page and returns the Link header; a bad page or
// per_page gets 422 and false.
func githubPage[T any](w http.ResponseWriter, r *http.Request, items []T, defPer int) ([]T, string, bool) {
	q := r.URL.Query()
	per := defPer
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			githubError(w, http.StatusUnprocessableEntity, "Validation Failed: page")
			return nil, "", false
		}
		per = min(n, 100)
	}
	pg := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			githubError(w, http.StatusUnprocessableEntity, "Validation Failed: page")
			return nil, "", false
		}
		pg = n
	}
	last := max((len(items)+per-1)/per, 1)
	lo, hi := min((pg-1)*per, len(items)), min(pg*per, len(items))
	var links []string
	link := func(n int, rel string) {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("page", strconv.Itoa(n))
		u.RawQuery = qq.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if pg < last {
		link(pg+1, "next")
		link(last, "last")
	}
	if pg > 1 {
		link(1, "first")
		link(pg-1, "prev")
	}
	return items[lo:hi], strings.Join(links, ", "), true
}

func fixture(name string) any {
	b, err := githubFixtures.ReadFile("testdata/github/" + name)
	if err != nil {
		panic(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		panic(err)
	}
	return v
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (g *GitHub) getRepo(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	owner, name, _ := strings.Cut(full, "/")
	m := jsonObject(fixture("get-repository.json"))
	// GitHub's example lacks "language", which its schema requires (the API sends it, null for
	// an empty repository); so does the example's parent repository.
	m["language"] = "Go"
	if src, ok := m["source"].(map[string]any); ok {
		src["language"] = nil
	}
	o := m["owner"].(map[string]any)
	o["login"], o["html_url"], o["url"] = owner, "https://github.com/"+owner, "https://api.github.com/users/"+owner
	for k, v := range map[string]any{
		"id": 1296269, "name": name, "full_name": full, "private": false, "default_branch": repo.DefaultBranch,
		"html_url": "https://github.com/" + full, "url": "https://api.github.com/repos/" + full,
	} {
		m[k] = v
	}
	g.reply(w, r, m, "")
}

// createdFilter parses GitHub's search date syntax: >=T, >T, <=T, <T, T..T, or a date.
func createdFilter(s string) (func(time.Time) bool, bool) {
	parse := func(v string) (time.Time, bool) {
		for _, f := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(f, v); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if v, ok := strings.CutPrefix(s, op); ok {
			t, ok := parse(v)
			if !ok {
				return nil, false
			}
			return map[string]func(time.Time) bool{
				">=": func(x time.Time) bool { return !x.Before(t) },
				"<=": func(x time.Time) bool { return !x.After(t) },
				">":  func(x time.Time) bool { return x.After(t) },
				"<":  func(x time.Time) bool { return x.Before(t) },
			}[op], true
		}
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		ta, ok1 := parse(a)
		tb, ok2 := parse(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		return func(x time.Time) bool { return !x.Before(ta) && !x.After(tb) }, true
	}
	t, ok := parse(s)
	if !ok {
		return nil, false
	}
	return func(x time.Time) bool { return !x.Before(t) && x.Before(t.AddDate(0, 0, 1)) }, true
}

func (g *GitHub) listRuns(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	q := r.URL.Query()
	file := r.PathValue("file")
	if file != "" && !repo.hasWorkflow(file) {
		githubError(w, http.StatusNotFound, "Not Found")
		return
	}
	var created func(time.Time) bool
	if v := q.Get("created"); v != "" {
		f, ok := createdFilter(v)
		if !ok {
			githubError(w, http.StatusUnprocessableEntity, "Validation Failed: created")
			return
		}
		created = f
	}
	var runs []GitHubRun
	for _, run := range repo.Runs {
		switch {
		case file != "" && run.Workflow != file:
		case q.Get("branch") != "" && run.Branch != q.Get("branch"):
		case q.Get("event") != "" && runEvent(run) != q.Get("event"):
		case q.Get("head_sha") != "" && run.SHA != q.Get("head_sha"):
		case q.Get("status") != "" && run.Status != q.Get("status") && run.Conclusion != q.Get("status"):
		case created != nil && !created(run.Created):
		default:
			runs = append(runs, run)
		}
	}
	slices.SortStableFunc(runs, func(a, b GitHubRun) int { return newestFirst(a.Created, a.ID, b.Created, b.ID) })
	total := len(runs)
	if total > 1000 && (q.Get("created") != "" || q.Get("branch") != "" || q.Get("status") != "") {
		runs = runs[:1000] // GitHub's cap for filtered listings; total_count still says how many
	}
	runs, link, ok := githubPage(w, r, runs, 30)
	if !ok {
		return
	}
	tmpl := fixture("list-workflow-runs-for-repo.json").(map[string]any)["workflow_runs"].([]any)[0]
	out := []any{}
	for _, run := range runs {
		out = append(out, runJSON(tmpl, full, run))
	}
	g.reply(w, r, map[string]any{"total_count": total, "workflow_runs": out}, link)
}

// newestFirst orders as GitHub lists runs, deployments and statuses: newest first, then by id.
func newestFirst(aCreated time.Time, aID int64, bCreated time.Time, bID int64) int {
	return cmp.Or(bCreated.Compare(aCreated), cmp.Compare(bID, aID))
}

func runEvent(r GitHubRun) string {
	if r.Event == "" {
		return "push"
	}
	return r.Event
}

func runJSON(tmpl any, full string, run GitHubRun) map[string]any {
	m := jsonObject(tmpl)
	attempt := run.Attempt
	if attempt == 0 {
		attempt = 1
	}
	var conclusion any
	if run.Status == "completed" {
		conclusion = run.Conclusion
	}
	sum := sha256.Sum256([]byte(run.Workflow))
	api := "https://api.github.com/repos/" + full + "/actions/runs/" + strconv.FormatInt(run.ID, 10)
	for k, v := range map[string]any{
		"id": run.ID, "name": strings.TrimSuffix(run.Workflow, ".yml"), "head_branch": run.Branch, "head_sha": run.SHA,
		"path": ".github/workflows/" + run.Workflow + "@" + run.Branch, "event": runEvent(run),
		"status": run.Status, "conclusion": conclusion, "run_attempt": attempt,
		"workflow_id": int64(sum[0])<<16 | int64(sum[1])<<8 | int64(sum[2]),
		"created_at":  ts(run.Created), "updated_at": ts(run.Updated), "run_started_at": ts(run.Created),
		"url": api, "html_url": "https://github.com/" + full + "/actions/runs/" + strconv.FormatInt(run.ID, 10),
		"run_number": run.ID % 100000,
	} {
		m[k] = v
	}
	if attempt > 1 {
		m["previous_attempt_url"] = api + "/attempts/" + strconv.Itoa(attempt-1)
	}
	if hc, ok := m["head_commit"].(map[string]any); ok {
		hc["id"] = run.SHA
		hc["tree_id"] = run.SHA
	}
	return m
}

func (g *GitHub) listDeployments(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	q := r.URL.Query()
	var deps []GitHubDeployment
	for _, d := range repo.Deployments {
		switch {
		case q.Get("environment") != "" && d.Environment != q.Get("environment"):
		case q.Get("sha") != "" && d.SHA != q.Get("sha"):
		case q.Get("ref") != "" && d.Ref != q.Get("ref"):
		default:
			deps = append(deps, d)
		}
	}
	slices.SortStableFunc(deps, func(a, b GitHubDeployment) int { return newestFirst(a.Created, a.ID, b.Created, b.ID) })
	deps, link, ok := githubPage(w, r, deps, 30)
	if !ok {
		return
	}
	out := []any{}
	for _, d := range deps {
		out = append(out, deploymentJSON(full, d))
	}
	g.reply(w, r, out, link)
}

func deploymentJSON(full string, d GitHubDeployment) map[string]any {
	m := jsonObject(fixture("list-deployments.json").([]any)[0])
	api := "https://api.github.com/repos/" + full + "/deployments/" + strconv.FormatInt(d.ID, 10)
	for k, v := range map[string]any{
		"id": d.ID, "sha": d.SHA, "ref": d.Ref, "environment": d.Environment, "original_environment": d.Environment,
		"created_at": ts(d.Created), "updated_at": ts(d.Updated), "url": api, "statuses_url": api + "/statuses",
		"repository_url": "https://api.github.com/repos/" + full,
	} {
		m[k] = v
	}
	return m
}

func (g *GitHub) findDeployment(w http.ResponseWriter, r *http.Request, repo *GitHubRepo) (GitHubDeployment, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		for _, d := range repo.Deployments {
			if d.ID == id {
				return d, true
			}
		}
	}
	githubError(w, http.StatusNotFound, "Not Found")
	return GitHubDeployment{}, false
}

func (g *GitHub) getDeployment(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	if d, ok := g.findDeployment(w, r, repo); ok {
		g.reply(w, r, deploymentJSON(full, d), "")
	}
}

func (g *GitHub) listStatuses(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	d, ok := g.findDeployment(w, r, repo)
	if !ok {
		return
	}
	sts := slices.Clone(d.Statuses)
	slices.SortStableFunc(sts, func(a, b GitHubDeploymentStatus) int { return newestFirst(a.Created, a.ID, b.Created, b.ID) })
	sts, link, ok := githubPage(w, r, sts, 30)
	if !ok {
		return
	}
	out := []any{}
	for _, s := range sts {
		m := jsonObject(fixture("list-deployment-statuses.json").([]any)[0])
		for k, v := range map[string]any{
			"id": s.ID, "state": s.State, "environment": d.Environment,
			"created_at": ts(s.Created), "updated_at": ts(s.Created),
			"deployment_url": "https://api.github.com/repos/" + full + "/deployments/" + strconv.FormatInt(d.ID, 10),
		} {
			m[k] = v
		}
		out = append(out, m)
	}
	g.reply(w, r, out, link)
}

// resolve finds a commit by full or abbreviated sha (or the default branch name).
func (repo *GitHubRepo) resolve(ref string) (GitHubCommit, bool) {
	if c, ok := repo.Commits[ref]; ok {
		return c, true
	}
	if len(ref) >= 7 {
		var found []GitHubCommit
		for sha, c := range repo.Commits {
			if strings.HasPrefix(sha, ref) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			return found[0], true
		}
	}
	return GitHubCommit{}, false
}

func (repo *GitHubRepo) ancestors(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[s] {
			continue
		}
		seen[s] = true
		stack = append(stack, repo.Commits[s].Parents...)
	}
	return seen
}

func commitJSON(full string, c GitHubCommit) map[string]any {
	m := jsonObject(fixture("compare-two-commits.json").(map[string]any)["commits"].([]any)[0])
	m["sha"] = c.SHA
	m["url"] = "https://api.github.com/repos/" + full + "/commits/" + c.SHA
	m["html_url"] = "https://github.com/" + full + "/commit/" + c.SHA
	cm := m["commit"].(map[string]any)
	cm["message"] = c.Message
	cm["author"].(map[string]any)["date"] = ts(c.Authored)
	cm["committer"].(map[string]any)["date"] = ts(c.Authored)
	parents := []any{} // a root commit has none: [], never null
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": "https://api.github.com/repos/" + full + "/commits/" + p})
	}
	m["parents"] = parents
	return m
}

func (g *GitHub) compare(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	bh, err := url.PathUnescape(r.PathValue("basehead"))
	if err != nil {
		bh = r.PathValue("basehead")
	}
	baseRef, headRef, ok := strings.Cut(bh, "...")
	if !ok {
		githubError(w, http.StatusNotFound, "Not Found")
		return
	}
	base, ok1 := repo.resolve(baseRef)
	head, ok2 := repo.resolve(headRef)
	if !ok1 || !ok2 {
		githubError(w, http.StatusNotFound, "Not Found")
		return
	}
	ab, ah := repo.ancestors(base.SHA), repo.ancestors(head.SHA)
	var ahead []GitHubCommit
	behind := 0
	for s := range ah {
		if !ab[s] {
			ahead = append(ahead, repo.Commits[s])
		}
	}
	for s := range ab {
		if !ah[s] {
			behind++
		}
	}
	slices.SortFunc(ahead, func(a, b GitHubCommit) int { // chronological
		if c := a.Authored.Compare(b.Authored); c != 0 {
			return c
		}
		return strings.Compare(a.SHA, b.SHA)
	})
	status := "identical"
	switch {
	case len(ahead) > 0 && behind > 0:
		status = "diverged"
	case len(ahead) > 0:
		status = "ahead"
	case behind > 0:
		status = "behind"
	}
	q := r.URL.Query()
	def := 250 // without paging parameters GitHub lists at most 250 commits
	paged := q.Get("page") != "" || q.Get("per_page") != ""
	if paged {
		def = 30
	}
	list, link, ok := githubPage(w, r, ahead, def)
	if !ok {
		return
	}
	if !paged {
		link = ""
	}
	m := jsonObject(fixture("compare-two-commits.json"))
	commits := []any{}
	for _, c := range list {
		commits = append(commits, commitJSON(full, c))
	}
	m["base_commit"] = commitJSON(full, base)
	m["merge_base_commit"] = commitJSON(full, base)
	m["status"], m["ahead_by"], m["behind_by"], m["total_commits"] = status, len(ahead), behind, len(ahead)
	m["commits"] = commits
	if q.Get("page") != "" && q.Get("page") != "1" {
		m["files"] = []any{}
	}
	m["url"] = "https://api.github.com/repos/" + full + "/compare/" + bh
	m["html_url"] = "https://github.com/" + full + "/compare/" + bh
	g.reply(w, r, m, link)
}

func (g *GitHub) getCommit(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	c, ok := repo.resolve(r.PathValue("sha"))
	if !ok {
		githubError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+r.PathValue("sha"))
		return
	}
	m := commitJSON(full, c)
	m["stats"] = map[string]any{"additions": 1, "deletions": 0, "total": 1}
	m["files"] = fixture("compare-two-commits.json").(map[string]any)["files"]
	g.reply(w, r, m, "")
}

func (g *GitHub) listIssues(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	var labels []string
	if v := q.Get("labels"); v != "" {
		labels = strings.Split(v, ",")
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			githubError(w, http.StatusUnprocessableEntity, "Validation Failed: since")
			return
		}
		since = t
	}
	var issues []GitHubIssue
	for _, is := range repo.Issues {
		st := is.State
		if st == "" {
			st = "open"
		}
		if state != "all" && st != state {
			continue
		}
		if !since.IsZero() && is.Updated.Before(since) {
			continue
		}
		hasAll := true
		for _, l := range labels {
			hasAll = hasAll && slices.ContainsFunc(is.Labels, func(x string) bool { return strings.EqualFold(x, strings.TrimSpace(l)) })
		}
		if hasAll {
			issues = append(issues, is)
		}
	}
	by := func(is GitHubIssue) time.Time { return is.Created }
	if q.Get("sort") == "updated" {
		by = func(is GitHubIssue) time.Time { return is.Updated }
	}
	asc := q.Get("direction") == "asc"
	slices.SortStableFunc(issues, func(a, b GitHubIssue) int {
		c := by(a).Compare(by(b))
		if c == 0 {
			c = a.Number - b.Number
		}
		if !asc {
			c = -c
		}
		return c
	})
	issues, link, ok := githubPage(w, r, issues, 30)
	if !ok {
		return
	}
	tmpl := fixture("list-repository-issues.json").([]any)[0]
	out := []any{}
	for _, is := range issues {
		m := jsonObject(tmpl)
		st := is.State
		if st == "" {
			st = "open"
		}
		var closed, reason any
		if is.Closed != nil {
			closed = ts(*is.Closed)
		}
		if is.StateReason != "" {
			reason = is.StateReason
		}
		labelTmpl := m["labels"].([]any)[0]
		var ls []any
		for _, l := range is.Labels {
			lm := jsonObject(labelTmpl)
			lm["name"] = l
			lm["url"] = "https://api.github.com/repos/" + full + "/labels/" + l
			ls = append(ls, lm)
		}
		html := "https://github.com/" + full + "/issues/" + strconv.Itoa(is.Number)
		for k, v := range map[string]any{
			"id": int64(is.Number) + 1000, "number": is.Number, "title": is.Title, "body": is.Body, "state": st,
			"state_reason": reason, "labels": ls, "created_at": ts(is.Created), "updated_at": ts(is.Updated),
			"closed_at": closed, "html_url": html, "url": "https://api.github.com/repos/" + full + "/issues/" + strconv.Itoa(is.Number),
		} {
			m[k] = v
		}
		if !is.PullRequest {
			delete(m, "pull_request")
		} else if pr, ok := m["pull_request"].(map[string]any); ok {
			pr["html_url"] = "https://github.com/" + full + "/pull/" + strconv.Itoa(is.Number)
		}
		out = append(out, m)
	}
	g.reply(w, r, out, link)
}
