package healthchecks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

// Options configure the Client. Only the token (and the Slack URL, which is not here) is secret.
type Options struct {
	Token     string // CLOUDFLARE_API_TOKEN, required
	AccountID string // CLOUDFLARE_ACCOUNT_ID, required: notification policies are per account
	BaseURL   string // CLOUDFLARE_API_BASE_URL, default cloudflare.DefaultBaseURL
	// PerFiveMin is the request budget per five minutes (Cloudflare: 1200 per user, shared
	// with every other client of the token); default 1200. Burst is how many may go at once
	// (default 100).
	PerFiveMin, Burst int
	// Sleep waits between retries (retry.CloudflareHealthchecks: reads, PUT and DELETE after a
	// 5xx or a network error; a POST only after a 429, so a create is never made twice).
	Sleep retry.Sleeper
	// Redactor scrubs every error (the token, the Slack URL); nil: URL credentials only.
	Redactor *redact.Redactor
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
// through the Cloudflare client's JSON calls rather than typed ones, which in cloudflare-go
// v0.119.0 read one page only, take an HTTP 200 with success:false for success, drop
// "retries": 0 (omitempty) and, as a PUT of their struct, would reset the fields of a check
// this program does not manage.
type Client struct {
	api     *cloudflare.Client
	account string
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
	if o.PerFiveMin <= 0 {
		o.PerFiveMin = 1200
	}
	if o.Burst <= 0 {
		o.Burst = 100
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	red := o.Redactor
	if red == nil {
		red = redact.Of()
	}
	red.Add(o.Token)
	policy := retry.CloudflareHealthchecks().WithSleep(o.Sleep)
	api := cloudflare.New(cloudflare.Options{
		Token:    o.Token,
		BaseURL:  o.BaseURL,
		REST:     cloudflare.Limits{Budget: retry.Budget(o.PerFiveMin, 5*time.Minute, o.Burst), Retry: &policy},
		Redactor: red,
	}, httpClient)
	return &Client{api: api, account: o.AccountID, log: log}, nil
}

// RemoteCheck is a health check as Cloudflare has it.
type RemoteCheck struct {
	Zone string
	cloudflare.Healthcheck
	raw json.RawMessage // the object as read, the base of an update
}

// RemotePolicy is a notification policy as Cloudflare has it.
type RemotePolicy struct {
	cloudflare.NotificationPolicy
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
	hooks, err := c.api.ListWhole(ctx, acct+"/destinations/webhooks")
	if err != nil {
		return r, fmt.Errorf("list webhook destinations: %w", err)
	}
	for _, raw := range hooks {
		var w cloudflare.NotificationWebhookIntegration
		if err := json.Unmarshal(raw, &w); err != nil {
			return r, fmt.Errorf("list webhook destinations: decode: %w", err)
		}
		r.Webhooks = append(r.Webhooks, RemoteWebhook{ID: w.ID, Name: w.Name, Type: w.Type, URL: w.URL})
	}
	pols, err := c.api.ListWhole(ctx, acct+"/policies")
	if err != nil {
		return r, fmt.Errorf("list notification policies: %w", err)
	}
	want := map[string]bool{}
	for _, z := range zones {
		want[z] = true
	}
	for _, raw := range pols {
		var p cloudflare.NotificationPolicy
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
		items, err := c.api.List(ctx, "/zones/"+url.PathEscape(z)+"/healthchecks", "", 50)
		if err != nil {
			return r, fmt.Errorf("list health checks of zone %s: %w", z, err)
		}
		for _, raw := range items {
			var hc cloudflare.Healthcheck
			if err := json.Unmarshal(raw, &hc); err != nil {
				return r, fmt.Errorf("list health checks of zone %s: decode: %w", z, err)
			}
			r.Checks = append(r.Checks, RemoteCheck{Zone: z, Healthcheck: hc, raw: raw})
		}
	}
	return r, nil
}

// do sends one request; the Cloudflare client treats success:false as an error even under
// HTTP 200 and redacts the error.
func (c *Client) do(ctx context.Context, method, endpoint string, body []byte) (cloudflare.Response, error) {
	c.log.Debug("cloudflare request", "method", method, "endpoint", endpoint)
	return c.api.Do(ctx, method, endpoint, body, nil)
}

// created reads the id of a created object from a result.
func created(raw cloudflare.Response) (string, error) {
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

// remove DELETEs the object, with body when its operation wants one.
func (c *Client) remove(ctx context.Context, path string, body []byte) error {
	_, err := c.do(ctx, http.MethodDelete, path, body)
	return err
}
