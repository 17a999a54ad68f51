package contract

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// API is where a client reaches one vendor API, and the descriptions that decide it.
type API struct {
	// Name labels problems ("cloudflare", "github"…).
	Name string
	// Base is the base URL the client was given (a fake's URL with its prefix); exchanges
	// below it belong to this API and are matched by their path below it.
	Base string
	// Specs are tried in order; the first that describes a request decides it.
	Specs []string
	// GraphQL, when set, is the schema for POSTs to GraphQLPath.
	GraphQL     string
	GraphQLPath string // default "/graphql"
}

// Divergence excuses the problems a known divergence causes until it is fixed. Each one is an
// entry of docs/contract-divergences.md, named by ID.
type Divergence struct {
	ID string
	// Operation is the described operation ("GET /zones/{zone_id}/healthchecks"), or the
	// request as sent ("POST /pages/assets/upload") for an undescribed one; a trailing "*"
	// matches any rest ("GET /api/projects/*").
	Operation string
	// Contains is a substring of the problem's text.
	Contains string
}

func (d Divergence) matches(p Problem) bool {
	op, prefix := strings.CutSuffix(d.Operation, "*")
	if prefix {
		return strings.HasPrefix(p.Operation, op) && strings.Contains(p.Error(), d.Contains)
	}
	return p.Operation == d.Operation && strings.Contains(p.Error(), d.Contains)
}

// Checker validates recorded exchanges against the APIs' descriptions.
type Checker struct {
	APIs  []API
	Known []Divergence
}

// Report says what Check saw.
type Report struct {
	Exchanges  int            // exchanges checked
	Operations map[string]int // described operation ("api METHOD /path") → exchanges
	Queries    int            // GraphQL queries validated
	Excused    map[string]int // divergence ID → problems excused
	Problems   []Problem      // problems not excused
}

// Check validates every exchange and reports each problem not excused by a known divergence
// as a test error. An exchange below no API's base, or that no description defines, is a
// problem too.
func (c Checker) Check(t testing.TB, exchanges []Exchange) Report {
	t.Helper()
	r := c.Run(exchanges)
	for _, p := range r.Problems {
		t.Errorf("contract: %v", p)
	}
	for id, n := range r.Excused {
		t.Logf("contract: %d problem(s) excused as known divergence %s (docs/contract-divergences.md)", n, id)
	}
	return r
}

// Run validates every exchange and returns the report, without a test.
func (c Checker) Run(exchanges []Exchange) Report {
	r := Report{Operations: map[string]int{}, Excused: map[string]int{}}
	for _, ex := range exchanges {
		r.Exchanges++
		for _, p := range c.check(ex, &r) {
			if i := slices.IndexFunc(c.Known, func(d Divergence) bool { return d.matches(p) }); i >= 0 {
				r.Excused[c.Known[i].ID]++
				continue
			}
			r.Problems = append(r.Problems, p)
		}
	}
	return r
}

func (c Checker) check(ex Exchange, r *Report) []Problem {
	sent := ex.Method + " " + ex.URL.Path
	api, rel, ok := c.find(ex.URL)
	if !ok {
		return []Problem{{sent, "request", fmt.Errorf("%s is below no API's base URL", ex.URL.Redacted())}}
	}
	gqlPath := api.GraphQLPath
	if gqlPath == "" {
		gqlPath = "/graphql"
	}
	if api.GraphQL != "" && rel.Path == gqlPath {
		return c.checkGraphQL(api, ex, r)
	}
	for _, name := range api.Specs {
		spec, err := LoadSpec(name)
		if err != nil {
			return []Problem{{sent, "request", err}}
		}
		op, problems := spec.validate(ex, rel)
		if op == "" {
			continue
		}
		r.Operations[api.Name+" "+op]++
		return problems
	}
	return []Problem{{ex.Method + " " + rel.Path, "request", fmt.Errorf("%s: %w", api.Name, ErrNotDescribed)}}
}

// find returns the API whose base the URL is below (the longest) and the URL's path below it.
func (c Checker) find(u *url.URL) (API, *url.URL, bool) {
	best, bestLen := API{}, -1
	var rel *url.URL
	for _, a := range c.APIs {
		base, err := url.Parse(strings.TrimRight(a.Base, "/"))
		if err != nil || base.Host != u.Host {
			continue
		}
		if u.Path != base.Path && !strings.HasPrefix(u.Path, base.Path+"/") {
			continue
		}
		if len(base.Path) > bestLen {
			best, bestLen = a, len(base.Path)
			rel = &url.URL{Path: strings.TrimPrefix(u.Path, base.Path), RawPath: "", RawQuery: u.RawQuery}
			if u.RawPath != "" {
				rel.RawPath = strings.TrimPrefix(u.RawPath, strings.TrimRight(base.EscapedPath(), "/"))
			}
		}
	}
	return best, rel, bestLen >= 0
}

func (c Checker) checkGraphQL(api API, ex Exchange, r *Report) []Problem {
	op := "POST graphql"
	fail := func(side string, err error) []Problem { return []Problem{{op, side, err}} }
	if ex.Method != "POST" {
		return fail("request", fmt.Errorf("GraphQL over %s; portfolio sends POST", ex.Method))
	}
	schema, err := LoadGraphQL(api.GraphQL)
	if err != nil {
		return fail("request", err)
	}
	var req GraphQLRequest
	if err := json.Unmarshal(ex.RequestBody, &req); err != nil || req.Query == "" {
		return fail("request", fmt.Errorf("body is not {\"query\":…,\"variables\":…}: %v", err))
	}
	r.Operations[api.Name+" "+op]++
	var problems []Problem
	gop, err := schema.ValidateQuery(req)
	if err != nil {
		problems = append(problems, Problem{op, "request", err})
		// The answer is still checked against what the query selects.
		if gop = parseOperation(req); gop == nil {
			return problems
		}
	} else {
		r.Queries++
	}
	if ex.Err != nil || ex.Status == 0 {
		return problems
	}
	switch {
	case ex.Status == 200 || ex.Status == 400:
		// Cloudflare answers GraphQL errors with 200 (and 400 for bad requests), both as a
		// GraphQL answer.
		if err := schema.ValidateAnswer(gop, ex.ResponseBody); err != nil {
			problems = append(problems, Problem{op, "response", fmt.Errorf("HTTP %d: %w", ex.Status, err)})
		}
	case ex.Status == 401 || ex.Status == 403 || ex.Status == 429 || ex.Status >= 500:
	default:
		problems = append(problems, Problem{op, "response", fmt.Errorf("HTTP %d: not a status Cloudflare's GraphQL API answers", ex.Status)})
	}
	return problems
}

// parseOperation parses a query without validating it: its selection is all an answer check
// needs.
func parseOperation(req GraphQLRequest) *ast.OperationDefinition {
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil {
		return nil
	}
	return doc.Operations.ForName(req.OperationName)
}

// Summary is one line per operation, sorted, for logs and docs.
func (r Report) Summary() string {
	var lines []string
	for op, n := range r.Operations {
		lines = append(lines, fmt.Sprintf("%4d  %s", n, op))
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[6:], b[6:]) })
	return strings.Join(lines, "\n")
}
