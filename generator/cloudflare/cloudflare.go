// Package cloudflare is portfolio's one client of the Cloudflare API. It owns what every call
// shares: the token (and a second one, the Pages upload JWT), the base URL, the v4 envelope
// (HTTP 200 with success:false is an error), reading every page of a list, the request budget
// and the retry policy, and the GraphQL Analytics call. The Cloudflare source, `portfolio
// healthchecks` and the Pages publisher call it; it is the only package that imports
// cloudflare-go. The contract it keeps is in docs/collect.md, docs/healthchecks.md and
// docs/publishing.md.
//
// The requests are plain net/http; cloudflare-go gives the types of the objects. Its Raw call
// does not fit: it treats success:false under HTTP 200 as success, drops the status, error
// codes and Retry-After of a 429 or 5xx (the retry rules need all three), sets one
// Authorization header per client over any passed in, and its list calls read the first page
// only.
package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	cf "github.com/cloudflare/cloudflare-go"
	"golang.org/x/time/rate"

	"github.com/portfolio-report/portfolio/generator/httpbody"
	"github.com/portfolio-report/portfolio/generator/httpclient"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// The largest answers read, by API: a REST answer at most 32 MiB (a Pages deployment's logs,
// read whole as wrangler reads them, are the largest; a page of 50 health checks is ~50 KB), a
// GraphQL answer 16 MiB (10,000 groups, maxPageSize, of a few hundred bytes each). Longer
// answers are errors, not cut.
const (
	MaxRESTBody    = 32 << 20
	MaxGraphQLBody = 16 << 20
)

// DefaultBaseURL is the v4 API; CLOUDFLARE_API_BASE_URL replaces it (tests point it at a fake).
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// HealthcheckName is the name of a product's health check: `portfolio healthchecks apply`
// creates it, the Cloudflare source finds the product's check by it.
func HealthcheckName(productID string) string { return "portfolio-" + productID }

// The objects the features read and write, as cloudflare-go v0.119.0 types them.
type (
	Healthcheck                       = cf.Healthcheck
	NotificationPolicy                = cf.NotificationPolicy
	NotificationMechanismIntegrations = cf.NotificationMechanismIntegrations
	NotificationWebhookIntegration    = cf.NotificationWebhookIntegration
	PagesProject                      = cf.PagesProject
	PagesProjectDeployment            = cf.PagesProjectDeployment
	PagesDeploymentLogs               = cf.PagesDeploymentLogs
)

// Limits are one API's request budget and retry policy.
type Limits struct {
	Budget *rate.Limiter // nil: no budget
	// Retry repeats failed requests (see retry.Transport: a POST of REST is repeated only after
	// a 429, a GraphQL query always). nil: every request is sent once and every failure, a 429
	// included, is an *APIError for the caller to retry by its own rules (Pages).
	Retry *retry.Policy
}

// Options configure a Client. Only Token is secret.
type Options struct {
	Token   string
	BaseURL string // default DefaultBaseURL
	// REST is the budget and policy of the v4 calls (Cloudflare: 1200 requests per five minutes
	// per user), GraphQL of the Analytics queries (300 per five minutes).
	REST, GraphQL Limits
	UserAgent     string           // default "portfolio"
	Redactor      *redact.Redactor // redacts every error; nil: URL credentials only
	Now           func() time.Time // for Retry-After dates and rate-limit resets; default time.Now
	// MaxREST and MaxGraphQL cap an answer's size; default MaxRESTBody and MaxGraphQLBody.
	MaxREST, MaxGraphQL int64
}

// Client calls the Cloudflare API with one token. It is safe for concurrent use.
type Client struct {
	token    string
	base     string
	ua       string
	rest     *http.Client
	gql      *http.Client
	red      *redact.Redactor
	now      func() time.Time
	requests *atomic.Int64 // shared with WithToken's copies
	maxREST  int64
	maxGQL   int64
}

// New returns a client; httpClient's transport and timeout carry the requests (nil or without
// a timeout: one of a minute), kept to their origin by httpclient.Wrap.
func New(o Options, httpClient *http.Client) *Client {
	httpClient = httpclient.Wrap(httpClient, time.Minute)
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.UserAgent == "" {
		o.UserAgent = "portfolio"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxREST <= 0 {
		o.MaxREST = MaxRESTBody
	}
	if o.MaxGraphQL <= 0 {
		o.MaxGraphQL = MaxGraphQLBody
	}
	c := &Client{token: o.Token, base: strings.TrimRight(o.BaseURL, "/"), ua: o.UserAgent, red: o.Redactor,
		now: o.Now, requests: &atomic.Int64{}, maxREST: o.MaxREST, maxGQL: o.MaxGraphQL}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	counted := counting{base: base, n: c.requests}
	wrap := func(l Limits, repeatPOST bool) *http.Client {
		hc := *httpClient
		switch {
		case l.Retry != nil:
			hc.Transport = &retry.Transport{Base: counted, Policy: *l.Retry, Limiter: l.Budget, Now: o.Now, RepeatPOST: repeatPOST}
		case l.Budget != nil:
			hc.Transport = budgeted{base: counted, budget: l.Budget}
		default:
			hc.Transport = counted
		}
		return &hc
	}
	c.rest = wrap(o.REST, false)
	c.gql = wrap(o.GraphQL, true) // a query only reads: repeating it is safe
	return c
}

// WithToken returns a client that sends token instead, through the same budget and counter
// (the Pages upload JWT).
func (c *Client) WithToken(token string) *Client {
	d := *c
	d.token = token
	return &d
}

// Requests is how many HTTP requests the client and its copies have sent, retries included.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// counting counts the requests that reach the network.
type counting struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (t counting) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

// budgeted waits for the budget before each request (no retries).
type budgeted struct {
	base   http.RoundTripper
	budget *rate.Limiter
}

func (t budgeted) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.budget.Wait(r.Context()); err != nil {
		return nil, fmt.Errorf("waiting for the API budget: %w", err)
	}
	return t.base.RoundTrip(r)
}

// APIError is a call that failed: no answer (Status 0), an HTTP status of 400 or more, an
// envelope with success:false (whatever the status), or an answer that is not an envelope.
// Its message holds no token: it is built from the status, the API's codes and messages.
type APIError struct {
	Status     int // 0: no answer arrived
	Codes      []int
	Messages   []string
	RetryAfter time.Duration // the Retry-After the answer carried
	Err        error         // the transport or decoding error
}

func (e *APIError) Error() string {
	var b strings.Builder
	switch {
	case e.Status == 0:
		return e.Err.Error()
	case e.Status >= 400:
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	case e.Err != nil:
		fmt.Fprintf(&b, "malformed answer (HTTP %d): %v", e.Status, e.Err)
	default:
		b.WriteString("API error")
	}
	for i, c := range e.Codes {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%d %s", sep, c, e.Messages[i])
	}
	if len(e.Codes) == 0 && e.Status < 400 && e.Err == nil {
		b.WriteString(": success:false without errors")
	}
	if e.Status == http.StatusTooManyRequests && e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Has reports whether the API answered with the error code.
func (e *APIError) Has(code int) bool { return slices.Contains(e.Codes, code) }

// Transient says whether sending the call again may work: no answer, a malformed one, a 429
// or a 5xx.
func (e *APIError) Transient() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500 ||
		(e.Status < 300 && e.Err != nil)
}

// ResultInfo is a list's paging, as far as the endpoint documents it (some give no
// total_pages).
type ResultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// Response is a successful call's envelope.
type Response struct {
	Result json.RawMessage
	Info   *ResultInfo
}

// Do sends one REST call to endpoint (the path under the base URL, with any query) and returns
// the envelope of a success. body is JSON, or what hdr's Content-Type says. A rate limit the
// retry policy gives up on is a *retry.RateLimitedError, any other failure an *APIError; the
// message is redacted.
func (c *Client) Do(ctx context.Context, method, endpoint string, body []byte, hdr http.Header) (Response, error) {
	res, err := c.do(ctx, method, endpoint, body, hdr)
	return res, c.red.Error(err)
}

func (c *Client) do(ctx context.Context, method, endpoint string, body []byte, hdr http.Header) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // NewRequest makes it rewindable for retries
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+endpoint, rd)
	if err != nil {
		return Response{}, &APIError{Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c.authorize(req)
	resp, err := c.rest.Do(req)
	if err != nil {
		return Response{}, transportError(err)
	}
	defer resp.Body.Close()
	var env struct {
		Success    bool              `json:"success"`
		Errors     []cf.ResponseInfo `json:"errors"`
		Result     json.RawMessage   `json:"result"`
		ResultInfo *ResultInfo       `json:"result_info"`
	}
	jerr := httpbody.DecodeJSON(resp.Body, c.maxREST, &env)
	var tl *httpbody.TooLargeError
	if errors.As(jerr, &tl) {
		return Response{}, &APIError{Status: resp.StatusCode, Err: fmt.Errorf("read: %w", jerr)}
	}
	if resp.StatusCode < 400 && jerr == nil && env.Success {
		return Response{Result: env.Result, Info: env.ResultInfo}, nil
	}
	e := &APIError{Status: resp.StatusCode}
	e.RetryAfter, _ = retry.FromHeader(resp.Header, c.now())
	for _, x := range env.Errors {
		e.Codes = append(e.Codes, x.Code)
		e.Messages = append(e.Messages, x.Message)
	}
	if jerr != nil && resp.StatusCode < 400 {
		e.Err = jerr
	}
	return Response{}, e
}

func (c *Client) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.ua)
	req.Header.Set("Accept", "application/json")
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
}

// transportError keeps a rate limit recognisable; any other failure without an answer is an
// *APIError with Status 0.
func transportError(err error) error {
	if err = retry.RequestError(err); isRateLimited(err) {
		return err
	}
	return &APIError{Err: err}
}

func isRateLimited(err error) bool {
	var rl *retry.RateLimitedError
	return errors.As(err, &rl)
}

// Get reads endpoint's result into v.
func (c *Client) Get(ctx context.Context, endpoint string, v any) error {
	res, err := c.Do(ctx, http.MethodGet, endpoint, nil, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res.Result, v); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// MaxPages bounds a paged list: an endpoint still answering full pages after it is broken
// (Cloudflare's largest lists we read, a zone's health checks, are far shorter).
const MaxPages = 1000

// PagingError is a list that does not end as Cloudflare's paging promises: more items than
// its total_count, a page repeating an earlier one (the endpoint ignores page), more than
// MaxPages pages, or an unpaged list cut short. The listing stops; nothing of it is used.
type PagingError struct {
	Endpoint string
	Problem  string
}

func (e *PagingError) Error() string { return "listing " + e.Endpoint + ": " + e.Problem }

// List reads every page of a list endpoint whose description defines page and per_page, and
// returns its items in order. perPage is the page size to ask for (0: the endpoint's default);
// query is added to each request. It relies only on what the descriptions promise: result_info
// carries page, per_page, count and total_count (some endpoints add total_pages, which is not
// needed). The list ends at an empty or short page or when total_count items are read; a page
// repeating items already read, more items than total_count, or more than MaxPages pages is a
// *PagingError.
func (c *Client) List(ctx context.Context, endpoint, query string, perPage int) ([]json.RawMessage, error) {
	var all []json.RawMessage
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > MaxPages {
			return nil, &PagingError{Endpoint: endpoint, Problem: fmt.Sprintf("more than %d pages", MaxPages)}
		}
		q := fmt.Sprintf("page=%d", page)
		if perPage > 0 {
			q += fmt.Sprintf("&per_page=%d", perPage)
		}
		if query != "" {
			q += "&" + query
		}
		res, err := c.Do(ctx, http.MethodGet, endpoint+"?"+q, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		items, err := decodeItems(res)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		for _, it := range items {
			var id struct {
				ID string `json:"id"`
			}
			json.Unmarshal(it, &id) // an item without an id cannot repeat
			if id.ID != "" && seen[id.ID] {
				return nil, &PagingError{Endpoint: endpoint, Problem: fmt.Sprintf("page %d repeats %s of an earlier page: the endpoint does not advance", page, id.ID)}
			}
			seen[id.ID] = true
			all = append(all, it)
		}
		info := res.Info
		if info == nil {
			info = &ResultInfo{}
		}
		if info.TotalCount > 0 && len(all) > info.TotalCount {
			return nil, &PagingError{Endpoint: endpoint, Problem: fmt.Sprintf("%d items read, more than the total_count of %d", len(all), info.TotalCount)}
		}
		size := perPage
		if info.PerPage > 0 {
			size = info.PerPage
		}
		switch {
		case len(items) == 0,
			size > 0 && len(items) < size,
			info.TotalCount > 0 && len(all) == info.TotalCount,
			res.Info == nil && perPage == 0: // not a paged list
			return all, nil
		}
	}
}

// ListWhole reads a list endpoint whose description defines no paging (the notification
// policies and webhook destinations: Cloudflare's own SDK reads them with one GET, "a list
// of all"). A result_info saying the list holds more than the answer is a *PagingError: there
// is no documented way to read the rest.
func (c *Client) ListWhole(ctx context.Context, endpoint string) ([]json.RawMessage, error) {
	res, err := c.Do(ctx, http.MethodGet, endpoint, nil, nil)
	if err != nil {
		return nil, err
	}
	items, err := decodeItems(res)
	if err != nil {
		return nil, err
	}
	if res.Info != nil && res.Info.TotalCount > len(items) {
		return nil, &PagingError{Endpoint: endpoint, Problem: fmt.Sprintf("the answer holds %d of %d items and the endpoint documents no paging", len(items), res.Info.TotalCount)}
	}
	return items, nil
}

func decodeItems(res Response) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if len(res.Result) > 0 && string(res.Result) != "null" {
		if err := json.Unmarshal(res.Result, &items); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
	}
	return items, nil
}

// ListInto reads every page of a list endpoint into a slice of T.
func ListInto[T any](ctx context.Context, c *Client, endpoint, query string, perPage int) ([]T, error) {
	raw, err := c.List(ctx, endpoint, query, perPage)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// GraphQL posts an Analytics query and decodes its data into v. A non-200 answer, a 200
// carrying errors (a *GraphQLError), or a body that is not JSON are errors; a rate limit the
// policy gives up on is a *retry.RateLimitedError.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, v any) error {
	return c.red.Error(c.graphql(ctx, query, vars, v))
}

// GraphQLError is an Analytics answer that carries errors, under HTTP 200 or not: a field the
// plan lacks, a range too wide, a zone the token cannot read ("does not have access to the
// path"), or a token without the Analytics permission (extensions.code "authz"; see
// docs/getting-started.md). A rate limit is a *retry.RateLimitedError wrapping one.
type GraphQLError struct {
	Status   int
	Messages []string
	Codes    []string // extensions.code of each error, "" when it has none
	// Paths are each error's path, its elements as strings: ["viewer", "zones", "0",
	// "httpRequestsAdaptiveGroups"] names the first zone of the zones scope (aliased or not).
	Paths [][]string
}

func (e *GraphQLError) Error() string {
	msgs := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		msgs[i] = m
		if e.Codes[i] != "" {
			msgs[i] += " (" + e.Codes[i] + ")"
		}
	}
	return fmt.Sprintf("graphql: HTTP %d: %s", e.Status, strings.Join(msgs, "; "))
}

// Unauthorized says whether Cloudflare refused the query for want of a permission: an error
// coded "authz", or HTTP 401 or 403.
func (e *GraphQLError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || slices.Contains(e.Codes, "authz")
}

func (c *Client) graphql(ctx context.Context, query string, vars map[string]any, v any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	c.authorize(req)
	resp, err := c.gql.Do(req)
	if err != nil {
		if err = retry.RequestError(err); isRateLimited(err) {
			return err
		}
		return fmt.Errorf("graphql: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string `json:"message"`
			Path       []any  `json:"path"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	jerr := httpbody.DecodeJSON(resp.Body, c.maxGQL, &out)
	var tl *httpbody.TooLargeError
	if errors.As(jerr, &tl) {
		return fmt.Errorf("graphql: read: %w", jerr)
	}
	if len(out.Errors) > 0 {
		ge := &GraphQLError{Status: resp.StatusCode}
		for _, e := range out.Errors {
			ge.Messages = append(ge.Messages, e.Message)
			ge.Codes = append(ge.Codes, e.Extensions.Code)
			path := make([]string, len(e.Path))
			for i, p := range e.Path {
				path[i] = fmt.Sprint(p)
			}
			ge.Paths = append(ge.Paths, path)
		}
		if reset, ok := graphQLRateLimit(ge, c.now()); ok {
			return &retry.RateLimitedError{Reset: reset, Err: ge}
		}
		return ge
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("graphql: HTTP %d", resp.StatusCode)
	}
	if jerr != nil {
		return fmt.Errorf("graphql: malformed answer: %w", jerr)
	}
	if len(out.Data) == 0 || string(out.Data) == "null" {
		return errors.New("graphql: answer without data")
	}
	if err := json.Unmarshal(out.Data, v); err != nil {
		return fmt.Errorf("graphql: unexpected data: %w", err)
	}
	return nil
}

// graphQLRateLimit tells whether an Analytics answer is a rate limit, and until when. Cloudflare
// answers these with HTTP 200 and one of the messages its documentation lists
// (developers.cloudflare.com/analytics/graphql-api/errors, "Rate limits exceeded"), or with
// HTTP 429: "rate limiter budget depleted, try again after 5 minutes" (the user's 300 queries
// per five minutes are spent), "quota exceeded, please repeat your request in the next minute",
// and "limit reached, please try reduced time period". Like a REST 429 they make the data
// stale, not failed.
func graphQLRateLimit(e *GraphQLError, now time.Time) (time.Time, bool) {
	if e.Status == http.StatusTooManyRequests {
		return time.Time{}, true
	}
	for _, m := range e.Messages {
		m = strings.ToLower(m)
		switch {
		case strings.Contains(m, "rate limiter budget depleted"):
			return now.Add(5 * time.Minute).Truncate(time.Second), true
		case strings.Contains(m, "quota exceeded"):
			return now.Truncate(time.Minute).Add(time.Minute), true
		case strings.Contains(m, "limit reached"):
			return time.Time{}, true
		}
	}
	return time.Time{}, false
}
