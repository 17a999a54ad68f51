package healthchecks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

// DefaultBaseURL is the Cloudflare v4 API.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Options configure the Client. Only the token (and the Slack URL, which is not here) is secret.
type Options struct {
	Token     string // CLOUDFLARE_API_TOKEN, required
	AccountID string // CLOUDFLARE_ACCOUNT_ID, required: notification policies are per account
	BaseURL   string // CLOUDFLARE_API_BASE_URL, default DefaultBaseURL
	// PerFiveMin is the request budget per five minutes (Cloudflare: 1200 per user, shared
	// with every other client of the token); default 1200. Burst is how many may go at once
	// (default 100).
	PerFiveMin, Burst int
	// Retries of reads (and of PUT/DELETE, which are idempotent) after a 5xx or a transport
	// error, default 2; POST is never retried after a 5xx, so a create is never made twice.
	// A 429 is retried after its Retry-After when that is at most MaxRetryAfter (default 60 s).
	Retries       int
	Backoff       time.Duration // first backoff, default 1 s
	MaxRetryAfter time.Duration
	// Secrets are more values to redact from error messages (the Slack URL).
	Secrets []string
}

// OptionsFromEnv reads the standard environment variables.
func OptionsFromEnv(getenv func(string) string) Options {
	return Options{
		Token:     getenv(config.EnvCloudflareToken),
		AccountID: getenv(config.EnvCloudflareAccount),
		BaseURL:   getenv(config.EnvCloudflareBaseURL),
	}
}

// Client reads and changes health checks, notification policies and webhook destinations
// through cloudflare-go's Raw call rather than its typed ones, which in v0.119.0 read one page
// only, take an HTTP 200 with success:false for success, drop "retries": 0 (omitempty) and, as
// a PUT of their struct, would reset the fields of a check this program does not manage.
type Client struct {
	api     *cf.API
	account string
	secrets []string
	log     *slog.Logger
}

// New returns a client. It fails, naming the env var, when the token or account is missing.
func New(o Options, httpClient *http.Client, log *slog.Logger) (*Client, error) {
	var missing []string
	if o.Token == "" {
		missing = append(missing, config.EnvCloudflareToken)
	}
	if o.AccountID == "" {
		missing = append(missing, config.EnvCloudflareAccount+" (notification policies belong to the account)")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cloudflare: %s not set", strings.Join(missing, " and "))
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.PerFiveMin <= 0 {
		o.PerFiveMin = 1200
	}
	if o.Burst <= 0 {
		o.Burst = 100
	}
	if o.Retries == 0 {
		o.Retries = 2
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = time.Minute
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limiter := source.Budget(o.PerFiveMin, 5*time.Minute, o.Burst)
	transport := func(retries int) *source.Transport {
		return &source.Transport{Base: httpClient.Transport, Limiter: limiter, MaxRetries: retries,
			Backoff: o.Backoff, MaxRetryAfter: o.MaxRetryAfter}
	}
	hc := *httpClient
	hc.Transport = &byMethod{idempotent: transport(o.Retries), post: transport(0)}
	// Retries and the request budget live in source.Transport, so cloudflare-go's are off: its
	// retry loop would hide a 429's Retry-After and retry a POST after a 5xx.
	api, err := cf.NewWithAPIToken(o.Token,
		cf.BaseURL(strings.TrimRight(o.BaseURL, "/")),
		cf.HTTPClient(&hc),
		cf.UsingRetryPolicy(0, 1, 1),
		cf.UsingRateLimit(1e6),
		cf.UserAgent("portfolio"),
	)
	if err != nil {
		return nil, fmt.Errorf("cloudflare: %w", err)
	}
	return &Client{api: api, account: o.AccountID, secrets: append([]string{o.Token}, o.Secrets...), log: log}, nil
}

// byMethod sends POSTs through a transport that does not retry after a 5xx (the object may
// have been created) and everything else through one that does. Both share one budget.
type byMethod struct{ idempotent, post http.RoundTripper }

func (b *byMethod) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		return b.post.RoundTrip(r)
	}
	return b.idempotent.RoundTrip(r)
}

// RemoteCheck is a health check as Cloudflare has it.
type RemoteCheck struct {
	Zone string
	cf.Healthcheck
	raw json.RawMessage // the object as read, the base of an update
}

// RemotePolicy is a notification policy as Cloudflare has it.
type RemotePolicy struct {
	cf.NotificationPolicy
	raw json.RawMessage
}

// RemoteWebhook is a webhook destination as Cloudflare has it.
type RemoteWebhook struct {
	ID, Name, Type string
	URL            string `json:"-"` // a secret
}

// Remote is what Cloudflare has: the health checks of the zones read, and the account's
// notification policies and webhook destinations.
type Remote struct {
	Zones    []string // the zones read, sorted
	Checks   []RemoteCheck
	Policies []RemotePolicy
	Webhooks []RemoteWebhook
}

// Read lists the account's webhook destinations and notification policies, then every health
// check of each zone given and of each zone a managed policy names (so the checks of a product
// removed from portfolio.json are still found).
func (c *Client) Read(ctx context.Context, zones []string) (Remote, error) {
	var r Remote
	acct := "/accounts/" + url.PathEscape(c.account) + "/alerting/v3"
	hooks, err := c.list(ctx, acct+"/destinations/webhooks", "")
	if err != nil {
		return r, fmt.Errorf("list webhook destinations: %w", err)
	}
	for _, raw := range hooks {
		var w cf.NotificationWebhookIntegration
		if err := json.Unmarshal(raw, &w); err != nil {
			return r, fmt.Errorf("list webhook destinations: decode: %w", err)
		}
		r.Webhooks = append(r.Webhooks, RemoteWebhook{ID: w.ID, Name: w.Name, Type: w.Type, URL: w.URL})
	}
	pols, err := c.list(ctx, acct+"/policies", "")
	if err != nil {
		return r, fmt.Errorf("list notification policies: %w", err)
	}
	want := map[string]bool{}
	for _, z := range zones {
		want[z] = true
	}
	for _, raw := range pols {
		var p cf.NotificationPolicy
		if err := json.Unmarshal(raw, &p); err != nil {
			return r, fmt.Errorf("list notification policies: decode: %w", err)
		}
		r.Policies = append(r.Policies, RemotePolicy{NotificationPolicy: p, raw: raw})
		if _, z, ok := parseMarker(p.Description); ok && z != "" {
			want[z] = true
		}
	}
	for z := range want {
		r.Zones = append(r.Zones, z)
	}
	slices.Sort(r.Zones)
	for _, z := range r.Zones {
		items, err := c.list(ctx, "/zones/"+url.PathEscape(z)+"/healthchecks", "per_page=50")
		if err != nil {
			return r, fmt.Errorf("list health checks of zone %s: %w", z, err)
		}
		for _, raw := range items {
			var hc cf.Healthcheck
			if err := json.Unmarshal(raw, &hc); err != nil {
				return r, fmt.Errorf("list health checks of zone %s: decode: %w", z, err)
			}
			r.Checks = append(r.Checks, RemoteCheck{Zone: z, Healthcheck: hc, raw: raw})
		}
	}
	return r, nil
}

// list reads every page of a list endpoint. cloudflare-go v0.119.0's Healthchecks and
// ListNotification* send no paging parameters and so return the first page only; this asks
// for page after page until result_info says there are no more. An API that ignores the page
// parameter is caught by seeing an id again.
func (c *Client) list(ctx context.Context, endpoint, query string) ([]json.RawMessage, error) {
	var all []json.RawMessage
	seen := map[string]bool{}
	for page := 1; page <= 1000; page++ {
		q := fmt.Sprintf("page=%d", page)
		if query != "" {
			q += "&" + query
		}
		raw, err := c.do(ctx, http.MethodGet, endpoint+"?"+q, nil)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		var items []json.RawMessage
		if len(raw.Result) > 0 && string(raw.Result) != "null" {
			if err := json.Unmarshal(raw.Result, &items); err != nil {
				return nil, fmt.Errorf("page %d: decode: %w", page, err)
			}
		}
		repeated := false
		for _, it := range items {
			var id struct {
				ID string `json:"id"`
			}
			json.Unmarshal(it, &id)
			if id.ID != "" && seen[id.ID] {
				repeated = true
				continue
			}
			seen[id.ID] = true
			all = append(all, it)
		}
		info := raw.ResultInfo
		if repeated || len(items) == 0 || info == nil || page >= info.TotalPages {
			return all, nil
		}
	}
	return all, nil
}

// do sends one request through cloudflare-go and treats an envelope with success:false as an
// error even under HTTP 200 (spec §0).
func (c *Client) do(ctx context.Context, method, endpoint string, body []byte) (cf.RawResponse, error) {
	var data any
	if body != nil {
		data = body // []byte: a fresh reader on every attempt
	}
	c.log.Debug("cloudflare request", "method", method, "endpoint", endpoint)
	raw, err := c.api.Raw(ctx, method, endpoint, data, nil)
	if err != nil {
		return raw, c.apiError(err)
	}
	if !raw.Success {
		return raw, errors.New(c.redact("API error: " + envelopeErrors(raw.Errors)))
	}
	return raw, nil
}

// apiError keeps a rate limit recognisable and gives cloudflare-go's typed errors a message
// that names the status and the API's error codes, with secrets redacted.
func (c *Client) apiError(err error) error {
	var rl *source.RateLimitedError
	if errors.As(err, &rl) {
		return &source.RateLimitedError{Reset: rl.Reset, Err: errors.New(c.redact(rl.Err.Error()))}
	}
	var ce *cf.Error
	if errors.As(err, &ce) {
		return errors.New(c.redact(fmt.Sprintf("HTTP %d: %s", ce.StatusCode, envelopeErrors(ce.Errors))))
	}
	return errors.New(c.redact(err.Error()))
}

func (c *Client) redact(msg string) string { return source.Redact(msg, c.secrets...) }

func envelopeErrors(errs []cf.ResponseInfo) string {
	if len(errs) == 0 {
		return "success:false without errors"
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = fmt.Sprintf("%d %s", e.Code, e.Message)
	}
	return strings.Join(msgs, "; ")
}

// created reads the id of a created object from a result.
func created(raw cf.RawResponse) (string, error) {
	var res struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw.Result, &res); err != nil || res.ID == "" {
		return "", fmt.Errorf("the answer has no id of the new object")
	}
	return res.ID, nil
}

func (c *Client) checkPath(zone, id string) string {
	p := "/zones/" + url.PathEscape(zone) + "/healthchecks"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

func (c *Client) policyPath(id string) string {
	p := "/accounts/" + url.PathEscape(c.account) + "/alerting/v3/policies"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

func (c *Client) webhookPath(id string) string {
	p := "/accounts/" + url.PathEscape(c.account) + "/alerting/v3/destinations/webhooks"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

// create POSTs body and returns the new object's id.
func (c *Client) create(ctx context.Context, path string, body []byte) (string, error) {
	raw, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return "", err
	}
	return created(raw)
}

// replace PUTs the whole object.
func (c *Client) replace(ctx context.Context, path string, body []byte) error {
	_, err := c.do(ctx, http.MethodPut, path, body)
	return err
}

// remove DELETEs the object.
func (c *Client) remove(ctx context.Context, path string) error {
	_, err := c.do(ctx, http.MethodDelete, path, nil)
	return err
}
