package fake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file fakes what `portfolio repos` reads and writes: a repository's issue labels and a
// branch's protection. The shapes follow GitHub's published REST description
// (github/rest-api-description, api.github.com 2022-11-28): operations
// issues/list-labels-for-repo, issues/create-label, issues/update-label,
// repos/get-branch-protection and repos/update-branch-protection.
//
//   - Labels are listed in pages (per_page default 30, at most 100, Link headers); names
//     compare case-insensitively, so creating "Bug" beside "bug" is a 422 already_exists, and
//     PATCH /labels/{name} finds the label whatever the case of {name}.
//   - Protection is read nested (objects with url, enabled flags, users and teams as objects)
//     and written flat (booleans, logins and slugs), with every top-level key of the write
//     required (null to disable); an unprotected branch reads as 404 "Branch not protected",
//     a missing one as 404 "Branch not found". A PUT replaces the protection: what it leaves
//     out is off afterwards, except required signatures, which have their own endpoint.
//   - DenyAdministration / DenyIssuesWrite answer 403 as GitHub does to a fine-grained token
//     without the Administration / Issues write permission.

// GitHubLabel is an issue label of a repository.
type GitHubLabel struct {
	ID          int64
	Name, Color string
	Description string // "" reads as null
	Default     bool
}

// GitHubProtection is a branch's protection by meaning.
type GitHubProtection struct {
	StatusChecks *GitHubStatusChecks // nil: no status checks required
	Reviews      *GitHubReviews      // nil: pull requests not required
	Restrictions *GitHubActors       // nil: anyone with write access may push

	EnforceAdmins, RequiredLinearHistory, AllowForcePushes, AllowDeletions, BlockCreations,
	RequiredConversationResolution, LockBranch, AllowForkSyncing, RequiredSignatures bool
}

// GitHubStatusChecks are the required status checks.
type GitHubStatusChecks struct {
	Strict bool
	Checks []GitHubStatusCheck
}

// GitHubStatusCheck is one required check; AppID nil means any app.
type GitHubStatusCheck struct {
	Context string
	AppID   *int64
}

// GitHubReviews are the pull request review rules.
type GitHubReviews struct {
	RequiredApprovingReviewCount                                          int
	DismissStaleReviews, RequireCodeOwnerReviews, RequireLastPushApproval bool
	DismissalRestrictions, BypassAllowances                               *GitHubActors
}

// GitHubActors are user logins, team slugs and app slugs.
type GitHubActors struct {
	Users, Teams, Apps []string
}

// Labels returns a copy of the repository's labels, in creation order.
func (g *GitHub) Labels(repo string) []GitHubLabel {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.repos[repo]; r != nil {
		return slices.Clone(r.Labels)
	}
	return nil
}

// Protection returns a copy of the branch's protection, or nil when it has none.
func (g *GitHub) Protection(repo, branch string) *GitHubProtection {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[repo]
	if r == nil || r.Protection[branch] == nil {
		return nil
	}
	p := viaJSON[GitHubProtection](r.Protection[branch])
	return &p
}

func (g *GitHub) handleRepos(mux *http.ServeMux, p string) {
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/labels", g.withRepo(g.listLabels))
	mux.HandleFunc("POST "+p+"/repos/{owner}/{repo}/labels", g.withRepo(g.createLabel))
	mux.HandleFunc("PATCH "+p+"/repos/{owner}/{repo}/labels/{name}", g.withRepo(g.updateLabel))
	mux.HandleFunc("GET "+p+"/repos/{owner}/{repo}/branches/{branch}/protection", g.withRepo(g.getProtection))
	mux.HandleFunc("PUT "+p+"/repos/{owner}/{repo}/branches/{branch}/protection", g.withRepo(g.putProtection))
}

// write answers a changing call. Callers hold g.mu.
func (g *GitHub) write(w http.ResponseWriter, status int, v any) {
	if g.remaining > 0 {
		g.remaining--
	}
	g.rateHeaders(w.Header())
	githubJSON(w, status, v)
}

func forbidden(w http.ResponseWriter, doc string) {
	githubJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by personal access token",
		"documentation_url": "https://docs.github.com/rest/" + doc, "status": "403"})
}

func validationFailed(w http.ResponseWriter, resource, field, code, doc string) {
	githubJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
		"errors":            []map[string]string{{"resource": resource, "code": code, "field": field}},
		"documentation_url": "https://docs.github.com/rest/" + doc, "status": "422"})
}

// invalidRequest is GitHub's 422 for a body that breaks the operation's schema.
func invalidRequest(w http.ResponseWriter, detail, doc string) {
	githubJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request.\n\n" + detail,
		"documentation_url": "https://docs.github.com/rest/" + doc, "status": "422"})
}

func labelJSON(full string, l GitHubLabel) map[string]any {
	var desc any
	if l.Description != "" {
		desc = l.Description
	}
	return map[string]any{"id": l.ID, "node_id": fmt.Sprintf("MDU6TGFiZWw%d", l.ID),
		"url":  "https://api.github.com/repos/" + full + "/labels/" + url.PathEscape(l.Name),
		"name": l.Name, "description": desc, "color": l.Color, "default": l.Default}
}

func (repo *GitHubRepo) label(name string) int {
	return slices.IndexFunc(repo.Labels, func(l GitHubLabel) bool { return strings.EqualFold(l.Name, name) })
}

func (g *GitHub) listLabels(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	page, link, ok := githubPage(w, r, repo.Labels, 30)
	if !ok {
		return
	}
	out := []any{}
	for _, l := range page {
		out = append(out, labelJSON(full, l))
	}
	g.reply(w, r, out, link)
}

var hexColor = regexp.MustCompile(`^[0-9A-Fa-f]{6}$`)

// labelBody decodes a create or update body; field names the bad field on failure.
func labelBody(body []byte) (m map[string]*string, field string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "body"
	}
	m = map[string]*string{}
	for _, k := range []string{"name", "new_name", "color", "description"} {
		v, ok := raw[k]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, k
		}
		m[k] = &s
	}
	if c := m["color"]; c != nil && !hexColor.MatchString(strings.TrimPrefix(*c, "#")) {
		return nil, "color"
	}
	if d := m["description"]; d != nil && utf8.RuneCountInString(*d) > 100 {
		return nil, "description"
	}
	return m, ""
}

func (g *GitHub) createLabel(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	const doc = "issues/labels#create-a-label"
	if repo.DenyIssuesWrite {
		forbidden(w, doc)
		return
	}
	body, _ := io.ReadAll(r.Body)
	m, bad := labelBody(body)
	if bad != "" {
		validationFailed(w, "Label", bad, "invalid", doc)
		return
	}
	if m["name"] == nil || *m["name"] == "" {
		validationFailed(w, "Label", "name", "missing_field", doc)
		return
	}
	if repo.label(*m["name"]) >= 0 {
		validationFailed(w, "Label", "name", "already_exists", doc)
		return
	}
	l := GitHubLabel{ID: 208045946, Name: *m["name"], Color: "ededed"}
	for _, x := range repo.Labels {
		l.ID = max(l.ID, x.ID+1)
	}
	if c := m["color"]; c != nil {
		l.Color = strings.ToLower(strings.TrimPrefix(*c, "#"))
	}
	if d := m["description"]; d != nil {
		l.Description = *d
	}
	repo.Labels = append(repo.Labels, l)
	g.write(w, http.StatusCreated, labelJSON(full, l))
}

func (g *GitHub) updateLabel(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	const doc = "issues/labels#update-a-label"
	if repo.DenyIssuesWrite {
		forbidden(w, doc)
		return
	}
	i := repo.label(r.PathValue("name"))
	if i < 0 {
		githubError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, _ := io.ReadAll(r.Body)
	m, bad := labelBody(body)
	if bad != "" {
		validationFailed(w, "Label", bad, "invalid", doc)
		return
	}
	l := repo.Labels[i]
	if n := m["new_name"]; n != nil && *n != "" {
		if j := repo.label(*n); j >= 0 && j != i {
			validationFailed(w, "Label", "name", "already_exists", doc)
			return
		}
		l.Name = *n
	}
	if c := m["color"]; c != nil {
		l.Color = strings.ToLower(strings.TrimPrefix(*c, "#"))
	}
	if d := m["description"]; d != nil {
		l.Description = *d
	}
	repo.Labels[i] = l
	g.write(w, http.StatusOK, labelJSON(full, l))
}

func (repo *GitHubRepo) hasBranch(b string) bool {
	return b == repo.DefaultBranch || slices.Contains(repo.Branches, b)
}

func (g *GitHub) getProtection(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	branch := r.PathValue("branch")
	switch {
	case repo.DenyAdministration:
		forbidden(w, "branches/branch-protection#get-branch-protection")
	case !repo.hasBranch(branch):
		githubError(w, http.StatusNotFound, "Branch not found")
	case repo.Protection[branch] == nil:
		githubError(w, http.StatusNotFound, "Branch not protected")
	default:
		g.reply(w, r, protectionJSON(full, branch, repo.Protection[branch]), "")
	}
}

func (g *GitHub) putProtection(w http.ResponseWriter, r *http.Request, full string, repo *GitHubRepo) {
	const doc = "branches/branch-protection#update-branch-protection"
	branch := r.PathValue("branch")
	switch {
	case repo.DenyAdministration:
		forbidden(w, doc)
		return
	case !repo.hasBranch(branch):
		githubError(w, http.StatusNotFound, "Branch not found")
		return
	}
	body, _ := io.ReadAll(r.Body)
	p, problem := protectionFromWrite(body)
	if problem != "" {
		invalidRequest(w, problem, doc)
		return
	}
	if old := repo.Protection[branch]; old != nil {
		p.RequiredSignatures = old.RequiredSignatures // its own endpoint; a PUT leaves it
	}
	if repo.Protection == nil {
		repo.Protection = map[string]*GitHubProtection{}
	}
	repo.Protection[branch] = p
	g.write(w, http.StatusOK, protectionJSON(full, branch, p))
}

// protectionFromWrite reads the flat write shape, checking what the published request schema
// requires; problem says what is wrong, in GitHub's words.
func protectionFromWrite(body []byte) (*GitHubProtection, string) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, "Problems parsing JSON"
	}
	for _, k := range []string{"required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions"} {
		if _, ok := top[k]; !ok {
			return nil, fmt.Sprintf("%q wasn't supplied.", k)
		}
	}
	p := &GitHubProtection{}
	var problem string
	flag := func(m map[string]json.RawMessage, k string, dst *bool) {
		v, ok := m[k]
		if !ok || string(v) == "null" || problem != "" {
			return
		}
		if err := json.Unmarshal(v, dst); err != nil {
			problem = fmt.Sprintf("For 'properties/%s', %s is not a boolean.", k, v)
		}
	}
	object := func(m map[string]json.RawMessage, k string) map[string]json.RawMessage {
		v, ok := m[k]
		if !ok || string(v) == "null" || problem != "" {
			return nil
		}
		var o map[string]json.RawMessage
		if err := json.Unmarshal(v, &o); err != nil {
			problem = fmt.Sprintf("For 'properties/%s', %s is not an object.", k, v)
		}
		return o
	}
	stringList := func(m map[string]json.RawMessage, k string, required bool) []string {
		v, ok := m[k]
		if !ok && required && problem == "" {
			problem = fmt.Sprintf("%q wasn't supplied.", k)
		}
		if !ok || problem != "" {
			return nil
		}
		out := []string{}
		if err := json.Unmarshal(v, &out); err != nil {
			problem = fmt.Sprintf("For 'properties/%s', %s is not an array of strings.", k, v)
		}
		return out
	}
	actors := func(o map[string]json.RawMessage, required bool) *GitHubActors {
		if o == nil {
			return nil
		}
		return &GitHubActors{Users: stringList(o, "users", required), Teams: stringList(o, "teams", required), Apps: stringList(o, "apps", false)}
	}

	if sc := object(top, "required_status_checks"); sc != nil {
		if _, ok := sc["strict"]; !ok {
			return nil, `"strict" wasn't supplied.`
		}
		c := &GitHubStatusChecks{}
		flag(sc, "strict", &c.Strict)
		contexts := stringList(sc, "contexts", true)
		if raw, ok := sc["checks"]; ok && problem == "" {
			var checks []struct {
				Context *string `json:"context"`
				AppID   *int64  `json:"app_id"`
			}
			if err := json.Unmarshal(raw, &checks); err != nil {
				return nil, fmt.Sprintf("For 'properties/checks', %s is not an array of checks.", raw)
			}
			for _, ch := range checks {
				if ch.Context == nil {
					return nil, `"context" wasn't supplied.`
				}
				c.Checks = append(c.Checks, GitHubStatusCheck{Context: *ch.Context, AppID: ch.AppID})
			}
		} else { // the deprecated contexts, used only without checks
			for _, ctx := range contexts {
				c.Checks = append(c.Checks, GitHubStatusCheck{Context: ctx})
			}
		}
		p.StatusChecks = c
	}
	flag(top, "enforce_admins", &p.EnforceAdmins)
	if rv := object(top, "required_pull_request_reviews"); rv != nil {
		rr := &GitHubReviews{RequiredApprovingReviewCount: 1}
		if v, ok := rv["required_approving_review_count"]; ok {
			if err := json.Unmarshal(v, &rr.RequiredApprovingReviewCount); err != nil || rr.RequiredApprovingReviewCount < 0 || rr.RequiredApprovingReviewCount > 6 {
				return nil, fmt.Sprintf("For 'properties/required_approving_review_count', %s is not a number from 0 to 6.", v)
			}
		}
		flag(rv, "dismiss_stale_reviews", &rr.DismissStaleReviews)
		flag(rv, "require_code_owner_reviews", &rr.RequireCodeOwnerReviews)
		flag(rv, "require_last_push_approval", &rr.RequireLastPushApproval)
		rr.DismissalRestrictions = actors(object(rv, "dismissal_restrictions"), false)
		rr.BypassAllowances = actors(object(rv, "bypass_pull_request_allowances"), false)
		p.Reviews = rr
	}
	p.Restrictions = actors(object(top, "restrictions"), true)
	flag(top, "required_linear_history", &p.RequiredLinearHistory)
	flag(top, "allow_force_pushes", &p.AllowForcePushes)
	flag(top, "allow_deletions", &p.AllowDeletions)
	flag(top, "block_creations", &p.BlockCreations)
	flag(top, "required_conversation_resolution", &p.RequiredConversationResolution)
	flag(top, "lock_branch", &p.LockBranch)
	flag(top, "allow_fork_syncing", &p.AllowForkSyncing)
	if problem != "" {
		return nil, problem
	}
	return p, ""
}

// protectionJSON is the read shape (schema branch-protection / protected-branch).
func protectionJSON(full, branch string, p *GitHubProtection) map[string]any {
	base := "https://api.github.com/repos/" + full + "/branches/" + url.PathEscape(branch) + "/protection"
	enabled := func(on bool) map[string]any { return map[string]any{"enabled": on} }
	withURL := func(path string, on bool) map[string]any {
		return map[string]any{"url": base + "/" + path, "enabled": on}
	}
	users := func(logins []string) []any {
		out := []any{}
		for i, l := range logins {
			out = append(out, map[string]any{"login": l, "id": 1000 + i, "type": "User",
				"url": "https://api.github.com/users/" + l, "html_url": "https://github.com/" + l})
		}
		return out
	}
	slugs := func(ss []string, kind string) []any {
		out := []any{}
		for i, s := range ss {
			out = append(out, map[string]any{"id": 2000 + i, "slug": s, "name": s,
				"html_url": "https://github.com/" + kind + "/" + s})
		}
		return out
	}
	actors := func(path string, a *GitHubActors) map[string]any {
		return map[string]any{"url": base + "/" + path, "users_url": base + "/" + path + "/users",
			"teams_url": base + "/" + path + "/teams", "apps_url": base + "/" + path + "/apps",
			"users": users(a.Users), "teams": slugs(a.Teams, "orgs/teams"), "apps": slugs(a.Apps, "apps")}
	}
	out := map[string]any{
		"url":                              base,
		"required_signatures":              withURL("required_signatures", p.RequiredSignatures),
		"enforce_admins":                   withURL("enforce_admins", p.EnforceAdmins),
		"required_linear_history":          enabled(p.RequiredLinearHistory),
		"allow_force_pushes":               enabled(p.AllowForcePushes),
		"allow_deletions":                  enabled(p.AllowDeletions),
		"block_creations":                  enabled(p.BlockCreations),
		"required_conversation_resolution": enabled(p.RequiredConversationResolution),
		"lock_branch":                      enabled(p.LockBranch),
		"allow_fork_syncing":               enabled(p.AllowForkSyncing),
	}
	if sc := p.StatusChecks; sc != nil {
		contexts, checks := []any{}, []any{}
		for _, c := range sc.Checks {
			contexts = append(contexts, c.Context)
			var app any
			if c.AppID != nil {
				app = *c.AppID
			}
			checks = append(checks, map[string]any{"context": c.Context, "app_id": app})
		}
		out["required_status_checks"] = map[string]any{"url": base + "/required_status_checks", "strict": sc.Strict,
			"contexts": contexts, "contexts_url": base + "/required_status_checks/contexts", "checks": checks}
	}
	if rv := p.Reviews; rv != nil {
		m := map[string]any{"url": base + "/required_pull_request_reviews",
			"dismiss_stale_reviews": rv.DismissStaleReviews, "require_code_owner_reviews": rv.RequireCodeOwnerReviews,
			"required_approving_review_count": rv.RequiredApprovingReviewCount, "require_last_push_approval": rv.RequireLastPushApproval}
		if rv.DismissalRestrictions != nil {
			m["dismissal_restrictions"] = actors("dismissal_restrictions", rv.DismissalRestrictions)
		}
		if b := rv.BypassAllowances; b != nil {
			m["bypass_pull_request_allowances"] = map[string]any{"users": users(b.Users), "teams": slugs(b.Teams, "orgs/teams"), "apps": slugs(b.Apps, "apps")}
		}
		out["required_pull_request_reviews"] = m
	}
	if p.Restrictions != nil {
		out["restrictions"] = actors("restrictions", p.Restrictions)
	}
	return out
}
