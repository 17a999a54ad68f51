// Package contract checks HTTP exchanges against the vendors' published API descriptions, for
// tests only: a request must be one the description defines (method, path, query parameters,
// body) and an answer one it allows (status, described headers, body). GraphQL queries are
// checked against the GraphQL schema, and their answers against the query's selection.
//
// The descriptions are subsets of the vendors' own, kept under testdata/ with their source and
// date (docs/contracts.md). A Recorder put under a client's http.Client keeps every exchange;
// Checker.Check validates them all at the end of a test.
//
// Validation uses github.com/getkin/kin-openapi v0.152.0 (openapi3filter; v0.153.0 needs a
// go.yaml.in/yaml/v4 that actionlint v1.7.12 does not build with): one module with few
// dependencies, a request/response API that takes an exchange as it is (no server needed), and
// support for OpenAPI 3.0 (Cloudflare, GitHub, PagerDuty) and 3.1 with JSON Schema 2020-12
// (PostHog's JSON Schema types). pb33f/libopenapi-validator does the same with a larger
// dependency tree. GraphQL uses github.com/vektah/gqlparser/v2.
package contract

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

//go:embed testdata/*/*.json testdata/*/*.graphql
var descriptions embed.FS

// The descriptions kept under testdata/, by name.
const (
	// CloudflareV4 is Cloudflare's OpenAPI: health checks, notification policies and webhook
	// destinations, Pages projects and deployments.
	CloudflareV4 = "cloudflare/openapi.json"
	// CloudflarePagesUpload is portfolio's transcription of the Direct Upload calls wrangler
	// makes, which CloudflareV4 does not describe (not a vendor description).
	CloudflarePagesUpload = "cloudflare/pages-direct-upload.json"
	// CloudflareGraphQL is Cloudflare's GraphQL Analytics schema (the datasets portfolio reads).
	CloudflareGraphQL = "cloudflare/schema.graphql"
	// GitHub is GitHub's REST description (the operations portfolio calls).
	GitHub = "github/openapi.json"
	// PostHog is the HogQL query endpoint with PostHog's query types.
	PostHog = "posthog/openapi.json"
	// PostHogAnnotations is PostHog's own description of the annotations list and create.
	PostHogAnnotations = "posthog/annotations.json"
	// PostHogCapture is portfolio's transcription of the capture endpoint posthog-go calls
	// (POST /batch/), which PostHog describes in prose only (not a vendor description).
	PostHogCapture = "posthog/capture.json"
	// PagerDuty is PagerDuty's Events API v2.
	PagerDuty = "pagerduty/openapi.json"
	// Slack is portfolio's transcription of Slack's incoming webhook documentation.
	Slack = "slack/incoming-webhook.json"
)

// Spec is one loaded OpenAPI description.
type Spec struct {
	Name   string
	doc    *openapi3.T
	router routers.Router
}

var (
	specMu sync.Mutex
	specs  = map[string]*Spec{}
)

// LoadSpec loads a description kept under testdata/ (loaded once per test binary).
//
// Two things are tightened for tests, both on what the description promises: Cloudflare's
// result_info objects are closed (a list's paging metadata is exactly the fields the
// description names, so no client can come to rely on more), and servers are dropped (paths
// are matched below the base URL an API is mounted at).
func LoadSpec(name string) (*Spec, error) {
	specMu.Lock()
	defer specMu.Unlock()
	if s, ok := specs[name]; ok {
		return s, nil
	}
	data, err := descriptions.ReadFile("testdata/" + name)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	doc.Servers = nil
	typeUntypedParameters(doc)
	openMultipartBodies(doc)
	if fix := descriptionFixes[name]; fix != nil {
		fix(doc)
	}
	if doc.Components != nil {
		for sname, ref := range doc.Components.Schemas {
			if strings.HasSuffix(sname, "result_info") && ref.Value != nil {
				closeObject(ref.Value)
			}
		}
	}
	ctx := context.Background()
	opts := []openapi3.ValidationOption{openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()}
	if err := doc.Validate(ctx, opts...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	router, err := legacy.NewRouter(doc, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &Spec{Name: name, doc: doc, router: router}
	specs[name] = s
	return s, nil
}

// descriptionFixes correct defects of a vendor's description that would fail every correct
// exchange; docs/contracts.md lists them.
var descriptionFixes = map[string]func(doc *openapi3.T){
	CloudflareV4: func(doc *openapi3.T) {
		// Every 4XX answer is described as allOf(the success envelope, the failure envelope):
		// success must be both true and false, so no answer can match. The failure envelope
		// alone is what the API sends (success false, errors, result null).
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				r := op.Responses.Value("4XX")
				if r == nil || r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					if mt.Schema == nil || mt.Schema.Value == nil {
						continue
					}
					for _, part := range mt.Schema.Value.AllOf {
						if strings.HasSuffix(part.Ref, "api-response-common-failure") {
							mt.Schema = part
							break
						}
					}
				}
			}
		}
		// Pages deployment ids are UUIDs (36 characters; the description's own example of a
		// deployment id has 33), but the path parameter reuses the 32-character identifier.
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				for _, p := range op.Parameters {
					if p.Value != nil && p.Value.Name == "deployment_id" && p.Value.Schema != nil && p.Value.Schema.Value != nil {
						s := *p.Value.Schema.Value
						s.MaxLength = nil
						p.Value.Schema = openapi3.NewSchemaRef("", &s)
					}
				}
			}
		}
		// The deployment logs are paged by a size query parameter the description omits:
		// Cloudflare's own client, wrangler (packages/wrangler/src/api/pages/deploy.ts), reads
		// a failed deployment's logs with ?size=10000000 and takes the last line as the reason.
		if item := doc.Paths.Value("/accounts/{account_id}/pages/projects/{project_name}/deployments/{deployment_id}/history/logs"); item != nil && item.Get != nil {
			size := openapi3.NewQueryParameter("size").WithSchema(openapi3.NewIntegerSchema().WithMin(1))
			size.Description = "How many log entries to return (wrangler's; not in Cloudflare's description)."
			item.Get.Parameters = append(item.Get.Parameters, &openapi3.ParameterRef{Value: size})
		}
		// A notification mechanism's id is "oneOf" a UUID or an e-mail address, both plain
		// strings of which the UUID is limited to 36 characters: every UUID and every short
		// address matches both, which oneOf forbids. The intent is anyOf.
		if m := doc.Components.Schemas["aaa_mechanisms"]; m != nil && m.Value != nil {
			if ap := m.Value.AdditionalProperties.Schema; ap != nil && ap.Value != nil && ap.Value.Items != nil && ap.Value.Items.Value != nil {
				if id := ap.Value.Items.Value.Properties["id"]; id != nil && id.Value != nil && len(id.Value.OneOf) > 0 {
					id.Value.AnyOf, id.Value.OneOf = id.Value.OneOf, nil
				}
			}
		}
	},
}

func init() {
	descriptionFixes[GitHub] = func(doc *openapi3.T) {
		// The workflow runs "created" filter says it takes the search syntax (">=2026-05-01",
		// "A..B"), but its schema says format date-time, which no range matches.
		if p := doc.Components.Parameters["created"]; p != nil && p.Value != nil && p.Value.Schema != nil && p.Value.Schema.Value != nil {
			p.Value.Schema.Value.Format = ""
		}
	}
}

// openMultipartBodies makes explicit what an object schema without additionalProperties
// already means, additional parts allowed, for multipart bodies: kin-openapi's multipart
// decoder rejects a part its schema does not name unless additionalProperties is set.
func openMultipartBodies(doc *openapi3.T) {
	yes := true
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for ct, mt := range op.RequestBody.Value.Content {
				if ct != "multipart/form-data" || mt.Schema == nil || mt.Schema.Value == nil {
					continue
				}
				if s := mt.Schema.Value; s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
					s.AdditionalProperties.Has = &yes
				}
			}
		}
	}
}

// typeUntypedParameters gives a type to parameter schemas that name none but bound a number
// (Cloudflare's page and per_page: {"default":1,"minimum":1}): kin-openapi cannot decode a
// query value for a schema without a type and would report every such parameter as empty.
func typeUntypedParameters(doc *openapi3.T) {
	fix := func(params openapi3.Parameters) {
		for _, p := range params {
			if p.Value == nil || p.Value.Schema == nil || p.Value.Schema.Value == nil {
				continue
			}
			s := p.Value.Schema.Value
			if s.Type == nil && (s.Min != nil || s.Max != nil) {
				s.Type = &openapi3.Types{openapi3.TypeNumber}
			}
		}
	}
	if doc.Components != nil {
		for _, p := range doc.Components.Parameters {
			fix(openapi3.Parameters{p})
		}
	}
	for _, item := range doc.Paths.Map() {
		fix(item.Parameters)
		for _, op := range item.Operations() {
			fix(op.Parameters)
		}
	}
}

func closeObject(s *openapi3.Schema) {
	no := false
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
}

// Operations lists the described operations as "METHOD /path", sorted.
func (s *Spec) Operations() []string {
	var out []string
	for path, item := range s.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// ErrNotDescribed is returned when no operation of the description matches a request.
var ErrNotDescribed = errors.New("no operation of the description matches")

// route finds the operation for method and path (below the API's base URL).
func (s *Spec) route(method string, u *url.URL) (*routers.Route, map[string]string, error) {
	r, _ := http.NewRequest(method, "http://api.invalid"+u.EscapedPath(), nil)
	r.URL.RawQuery = u.RawQuery
	route, params, err := s.router.FindRoute(r)
	if err != nil {
		return nil, nil, ErrNotDescribed
	}
	return route, params, nil
}

// Problem is one way an exchange departs from its description.
type Problem struct {
	Operation string // "METHOD /described/path", or "METHOD /path" as sent when none matched
	Side      string // "request" or "response"
	Err       error
}

func (p Problem) Error() string { return p.Operation + ": " + p.Side + ": " + p.Err.Error() }

// validate checks one exchange; path is the URL below the API's base.
func (s *Spec) validate(ex Exchange, path *url.URL) (op string, problems []Problem) {
	route, params, err := s.route(ex.Method, path)
	if err != nil {
		return "", nil
	}
	op = route.Method + " " + route.Path
	req, _ := http.NewRequest(ex.Method, "http://api.invalid"+path.EscapedPath(), bytes.NewReader(ex.RequestBody))
	req.URL.RawQuery = path.RawQuery
	req.Header = ex.RequestHeader.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:             true,
		MultiError:                        true,
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
	}
	opts.WithCustomSchemaErrorFunc(schemaErrorText)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	ctx := context.Background()
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		problems = append(problems, Problem{op, "request", err})
	}
	if q := undefinedQuery(route, path.Query()); len(q) > 0 {
		problems = append(problems, Problem{op, "request", fmt.Errorf("query parameters the operation does not define: %s", strings.Join(q, ", "))})
	}
	if ex.Err != nil || ex.Status == 0 {
		return op, problems // no answer to check
	}
	if undocumentedButExpected(route.Operation, ex.Status) {
		return op, problems
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: ex.Status, Header: ex.ResponseHeader.Clone(), Options: opts}
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.SetBodyBytes(ex.ResponseBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, Problem{op, "response", fmt.Errorf("HTTP %d: %w", ex.Status, err)})
	}
	return op, problems
}

// schemaErrorText says where a value failed and why, following nested causes (allOf, oneOf)
// down to the one that explains it, without the schema dump kin-openapi adds by default.
func schemaErrorText(err *openapi3.SchemaError) string {
	text := "at /" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	var inner *openapi3.SchemaError
	if errors.As(err.Origin, &inner) {
		return text + ": " + schemaErrorText(inner)
	}
	var multi openapi3.MultiError
	if errors.As(err.Origin, &multi) {
		var parts []string
		for _, e := range multi {
			if errors.As(e, &inner) {
				parts = append(parts, schemaErrorText(inner))
			} else {
				parts = append(parts, e.Error())
			}
		}
		return text + ": " + strings.Join(parts, "; ")
	}
	if err.Origin != nil {
		return text + ": " + err.Origin.Error()
	}
	return text
}

// undocumentedButExpected is a 429 or 5xx the operation does not list: every one of these
// services documents rate limits and outages in prose (docs/contracts.md), not per operation,
// so such an answer is allowed without a body to check.
func undocumentedButExpected(op *openapi3.Operation, status int) bool {
	if status != http.StatusTooManyRequests && status < 500 {
		return false
	}
	if op.Responses.Status(status) != nil {
		return false
	}
	if status >= 500 {
		if r := op.Responses.Value("5XX"); r != nil {
			return false
		}
	}
	return true
}

// undefinedQuery lists the query parameters the operation (or its path) does not define.
func undefinedQuery(route *routers.Route, q url.Values) []string {
	defined := map[string]bool{}
	for _, list := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range list {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				defined[p.Value.Name] = true
			}
		}
	}
	var out []string
	for k := range q {
		if !defined[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Exchange is one request and its answer, as a client sent and received it.
type Exchange struct {
	Method         string
	URL            *url.URL
	RequestHeader  http.Header
	RequestBody    []byte
	Status         int // 0 when no answer came
	ResponseHeader http.Header
	ResponseBody   []byte
	Err            error // the transport's error, if any
}

func (e Exchange) String() string {
	return e.Method + " " + e.URL.Path + queryString(e.URL)
}

func queryString(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	return "?" + u.RawQuery
}

// Recorder is an http.RoundTripper that keeps every exchange passing through it. Put it under
// the client a test exercises: &http.Client{Transport: contract.NewRecorder(nil)}.
type Recorder struct {
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper

	mu        sync.Mutex
	exchanges []Exchange
}

// NewRecorder returns a Recorder sending through base (nil: http.DefaultTransport).
func NewRecorder(base http.RoundTripper) *Recorder { return &Recorder{Base: base} }

// Client returns an *http.Client sending through the recorder.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip sends req and records it with its answer. Bodies are read whole and handed on
// unchanged.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := Exchange{Method: req.Method, URL: cloneURL(req.URL), RequestHeader: req.Header.Clone()}
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.RequestBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		ex.Err = err
		r.add(ex)
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	ex.Status, ex.ResponseHeader, ex.ResponseBody = resp.StatusCode, resp.Header.Clone(), body
	if rerr != nil {
		ex.Err = rerr
	}
	r.add(ex)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (r *Recorder) add(ex Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, ex)
}

// Exchanges returns the exchanges recorded so far, oldest first.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.exchanges)
}

// Reset forgets the exchanges recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = nil
}

func cloneURL(u *url.URL) *url.URL {
	c := *u
	if u.User != nil {
		uu := *u.User
		c.User = &uu
	}
	return &c
}
