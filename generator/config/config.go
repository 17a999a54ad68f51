// Package config loads and validates portfolio.json, the one file that describes the portfolio.
//
// Secrets never live in the file: fields ending in _env name environment variables, and the
// standard names below are used when a field is empty.
package config

import (
	"time"
)

// Standard environment variable names, used when the config does not name another one.
const (
	EnvGitHubToken         = "GITHUB_TOKEN"
	EnvGitHubAPIURL        = "GITHUB_API_URL"
	EnvCloudflareToken     = "CLOUDFLARE_API_TOKEN"
	EnvCloudflareAccount   = "CLOUDFLARE_ACCOUNT_ID"
	EnvCloudflareBaseURL   = "CLOUDFLARE_API_BASE_URL"
	EnvPostHogHost         = "POSTHOG_HOST"
	EnvPostHogPersonalKey  = "POSTHOG_PERSONAL_API_KEY"
	EnvPostHogProjectID    = "POSTHOG_PROJECT_ID"
	EnvPostHogAPIKey       = "POSTHOG_API_KEY"
	EnvSlackWebhookURL     = "SLACK_WEBHOOK_URL"
	EnvSMTPURL             = "SMTP_URL"
	EnvPagerDutyRoutingKey = "PAGERDUTY_ROUTING_KEY"
	EnvPagerDutyEventsURL  = "PAGERDUTY_EVENTS_URL"
)

// Config is the whole of portfolio.json.
type Config struct {
	Schema               string               `json:"$schema,omitempty"`
	Site                 Site                 `json:"site"`
	DORA                 DORA                 `json:"dora"`
	Products             []Product            `json:"products"`
	NotificationChannels NotificationChannels `json:"notification_channels"`
	Publish              Publish              `json:"publish"`
	// Impact configures the deployment impact analysis for every product (docs/impact.md);
	// products[].impact overrides it field by field.
	Impact Impact `json:"impact"`
	// Repositories is what `portfolio repos` manages in every repository (see repositories.go).
	Repositories *RepositorySettings `json:"repositories,omitempty"`
	// Digest is when the weekly digest is due and what it covers (see digest.go).
	Digest Digest `json:"digest"`

	// Path is the file the config was read from, for error messages. Not part of the JSON.
	Path string `json:"-"`
}

// Site configures the generated website.
type Site struct {
	Title    string `json:"title"`
	BaseURL  string `json:"base_url"`
	Timezone string `json:"timezone"` // IANA name, default "UTC"
	// RunInterval is how often the report runs (its CI schedule), a Go duration, default "15m":
	// an open page calls its data stale after 3 intervals without a new run.
	RunInterval string `json:"run_interval,omitempty"`
}

// DefaultRunInterval is site.run_interval when unset: the schedule of the shipped workflow.
const DefaultRunInterval = 15 * time.Minute

// RunEvery returns site.run_interval (DefaultRunInterval when unset or invalid; validation
// reports an invalid one).
func (s Site) RunEvery() time.Duration {
	if d, err := time.ParseDuration(s.RunInterval); err == nil && d >= time.Minute {
		return d
	}
	return DefaultRunInterval
}

// Location returns the site's time zone (UTC when unset or unknown; validation reports unknown).
func (s Site) Location() *time.Location {
	if s.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// DORA configures the DORA computation (docs/dora.md defines the figures).
type DORA struct {
	WindowDays       int    `json:"window_days"`       // default 30
	AttributionHours int    `json:"attribution_hours"` // default 24
	Levels           Levels `json:"levels"`
}

// Levels are the thresholds of the performance levels. A value on a boundary takes the better level.
type Levels struct {
	DeploymentFrequency LevelBands `json:"deployment_frequency"` // per_day, higher is better
	LeadTime            LevelBands `json:"lead_time"`            // seconds, lower is better
	ChangeFailureRate   LevelBands `json:"change_failure_rate"`  // ratio 0..1, lower is better
	TimeToRestore       LevelBands `json:"time_to_restore"`      // seconds, lower is better
}

// LevelBands holds the boundary of each level better than low.
type LevelBands struct {
	Elite  float64 `json:"elite"`
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

// Product is one product of the portfolio.
type Product struct {
	ID          string `json:"id"` // lowercase slug: file and URL name
	Name        string `json:"name"`
	Description string `json:"description,omitempty"` // Markdown
	URL         string `json:"url,omitempty"`
	Group       string `json:"group,omitempty"`
	Repository  string `json:"repository,omitempty"` // owner/name

	Cloudflare             Cloudflare     `json:"cloudflare"`
	DeploymentEnvironments []string       `json:"deployment_environments,omitempty"`
	HealthEndpoint         string         `json:"health_endpoint,omitempty"` // path appended to URL
	Probe                  Probe          `json:"probe"`
	AlertingConfig         AlertingConfig `json:"alerting_config"`
	Maintenance            []Maintenance  `json:"maintenance,omitempty"`
	Deploy                 Deploy         `json:"deploy"`
	Incidents              Incidents      `json:"incidents"`
	PostHog                PostHog        `json:"posthog"`
	HealthCheck            HealthCheck    `json:"healthcheck"`
	// Impact overrides the portfolio's impact settings for this product; after ApplyDefaults
	// it holds the product's resolved settings.
	Impact Impact `json:"impact"`
	// RepositorySettings overrides the portfolio-wide repositories block for this product.
	RepositorySettings *RepositorySettings `json:"repository_settings,omitempty"`
}

// Cloudflare names the product's Cloudflare objects.
type Cloudflare struct {
	ZoneID        string `json:"zone_id,omitempty"`
	Hostname      string `json:"hostname,omitempty"`
	HealthcheckID string `json:"healthcheck_id,omitempty"`
	Worker        string `json:"worker,omitempty"`
}

// Probe configures the HTTP probe of the health endpoint.
type Probe struct {
	Method         string `json:"method,omitempty"`          // default GET
	ExpectedStatus int    `json:"expected_status,omitempty"` // default 200
	TimeoutSeconds int    `json:"timeout_seconds,omitempty"` // default 10
	ExpectedBody   string `json:"expected_body,omitempty"`   // substring, optional
	Disabled       bool   `json:"disabled,omitempty"`
}

// AlertingConfig holds the product's alert thresholds.
type AlertingConfig struct {
	UptimeThreshold       float64 `json:"uptime_threshold"`        // percent, default 99.5; also the 30-day SLO
	ErrorRateThreshold    float64 `json:"error_rate_threshold"`    // percent, default 1.0
	ResponseTimeThreshold float64 `json:"response_time_threshold"` // ms (p95), default 1000
	FailureThreshold      int     `json:"failure_threshold"`       // breaches in a row before firing, default 2
	SuccessThreshold      int     `json:"success_threshold"`       // recoveries in a row before resolving, default 2
}

// Maintenance is a planned maintenance window: while it covers now and no incident is open,
// the product's status is maintenance.
type Maintenance struct {
	Start   string `json:"start"` // RFC 3339
	End     string `json:"end"`   // RFC 3339, after Start
	Summary string `json:"summary,omitempty"`
}

// Window returns the window's times; ok is false when either does not parse (validation
// reports it) or the window is empty.
func (m Maintenance) Window() (start, end time.Time, ok bool) {
	start, err1 := time.Parse(time.RFC3339, m.Start)
	end, err2 := time.Parse(time.RFC3339, m.End)
	return start, end, err1 == nil && err2 == nil && end.After(start)
}

// Impact configures the deployment impact analysis (docs/impact.md): the windows compared
// before and after each deployment, the volume a verdict needs, the rules' thresholds and the
// deployment_regression alert. An unset field (zero, empty or null) takes the portfolio's
// value, then the default.
type Impact struct {
	BeforeWindow string `json:"before_window,omitempty"` // Go duration, default 1h
	AfterWindow  string `json:"after_window,omitempty"`  // Go duration, default 1h
	// MinRequests is the requests (or Worker invocations) each window needs for a rate's verdict.
	MinRequests int `json:"min_requests,omitempty"` // default 1000
	// MinSamples is the runs with a response time (or checks) each window needs.
	MinSamples int `json:"min_samples,omitempty"` // default 3
	// MinEvents is the key events each window needs for their verdict.
	MinEvents int `json:"min_events,omitempty"` // default 50
	// ChangeRatio is how much response time or key events per hour must change (after over
	// before, or before over after) to count.
	ChangeRatio float64 `json:"change_ratio,omitempty"` // default 1.5
	// LatencyFloorMs is the least change of response time that counts, in milliseconds.
	LatencyFloorMs *float64 `json:"latency_floor_ms,omitempty"` // default 20
	// RateFloor is the least change of a rate that counts, in percentage points.
	RateFloor *float64 `json:"rate_floor,omitempty"` // default 0.1
	// Z is the two-proportion z-score (and the Poisson rate z-score) a rate's change needs.
	Z float64 `json:"z,omitempty"` // default 3
	// AlertSeverity is the severity of the deployment_regression alert, or "off".
	AlertSeverity string `json:"alert_severity,omitempty"` // critical | warning | info | off; default warning
}

// Impact defaults (docs/impact.md explains each).
const (
	DefaultImpactWindow         = time.Hour
	DefaultImpactMinRequests    = 1000
	DefaultImpactMinSamples     = 3
	DefaultImpactMinEvents      = 50
	DefaultImpactChangeRatio    = 1.5
	DefaultImpactLatencyFloorMs = 20.0
	DefaultImpactRateFloor      = 0.1
	DefaultImpactZ              = 3.0
	DefaultImpactAlertSeverity  = "warning"
	// ImpactAlertOff turns the deployment_regression alert off.
	ImpactAlertOff = "off"
)

// Over returns i with every unset field taken from base.
func (i Impact) Over(base Impact) Impact {
	if i.BeforeWindow == "" {
		i.BeforeWindow = base.BeforeWindow
	}
	if i.AfterWindow == "" {
		i.AfterWindow = base.AfterWindow
	}
	if i.MinRequests == 0 {
		i.MinRequests = base.MinRequests
	}
	if i.MinSamples == 0 {
		i.MinSamples = base.MinSamples
	}
	if i.MinEvents == 0 {
		i.MinEvents = base.MinEvents
	}
	if i.ChangeRatio == 0 {
		i.ChangeRatio = base.ChangeRatio
	}
	if i.LatencyFloorMs == nil {
		i.LatencyFloorMs = base.LatencyFloorMs
	}
	if i.RateFloor == nil {
		i.RateFloor = base.RateFloor
	}
	if i.Z == 0 {
		i.Z = base.Z
	}
	if i.AlertSeverity == "" {
		i.AlertSeverity = base.AlertSeverity
	}
	return i
}

// DefaultImpact is the impact settings with every default filled in.
func DefaultImpact() Impact {
	floor, rate := DefaultImpactLatencyFloorMs, DefaultImpactRateFloor
	return Impact{BeforeWindow: "1h", AfterWindow: "1h", MinRequests: DefaultImpactMinRequests,
		MinSamples: DefaultImpactMinSamples, MinEvents: DefaultImpactMinEvents, ChangeRatio: DefaultImpactChangeRatio,
		LatencyFloorMs: &floor, RateFloor: &rate, Z: DefaultImpactZ, AlertSeverity: DefaultImpactAlertSeverity}
}

// Windows returns the before and after windows; an unset or invalid one (validation reports
// it) is the default hour.
func (i Impact) Windows() (before, after time.Duration) {
	parse := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return DefaultImpactWindow
		}
		return d
	}
	return parse(i.BeforeWindow), parse(i.AfterWindow)
}

// Deploy says where the product's deployments come from.
type Deploy struct {
	Source      string `json:"source,omitempty"`      // workflow_runs (default) | deployments
	Workflow    string `json:"workflow,omitempty"`    // workflow file name, e.g. deploy.yml
	Branch      string `json:"branch,omitempty"`      // default: the repository's default branch
	Environment string `json:"environment,omitempty"` // for source deployments, default production
}

// Deploy sources.
const (
	DeploySourceWorkflowRuns = "workflow_runs"
	DeploySourceDeployments  = "deployments"
)

// Incidents says how incidents are found in the repository's issues.
type Incidents struct {
	Label string `json:"label,omitempty"` // default "incident"
}

// PostHog configures product analytics for the product.
type PostHog struct {
	Host      string   `json:"host,omitempty"`       // the product's $host to filter events by
	Product   string   `json:"product,omitempty"`    // value of properties.product, alternative filter
	KeyEvents []string `json:"key_events,omitempty"` // event names counted per day
}

// HealthCheck overrides the defaults of the Cloudflare health check managed for the product.
type HealthCheck struct {
	Interval      int      `json:"interval,omitempty"` // seconds, default 60
	Retries       int      `json:"retries,omitempty"`  // default 2
	Timeout       int      `json:"timeout,omitempty"`  // seconds, default 5
	ExpectedCodes []string `json:"expected_codes,omitempty"`
	CheckRegions  []string `json:"check_regions,omitempty"`
	Disabled      bool     `json:"disabled,omitempty"`
	// Method is GET or HEAD (default GET); FollowRedirects makes a redirect to a healthy
	// answer count as healthy (default false).
	Method          string `json:"method,omitempty"`
	FollowRedirects bool   `json:"follow_redirects,omitempty"`
}

// NotificationChannels configures where alerts go.
type NotificationChannels struct {
	Slack        *SlackChannel        `json:"slack,omitempty"`
	Email        *EmailChannel        `json:"email,omitempty"`
	PagerDuty    *PagerDutyChannel    `json:"pagerduty,omitempty"`
	GitHubIssues *GitHubIssuesChannel `json:"github_issues,omitempty"`
}

// Route selects which alerts a channel gets.
type Route struct {
	Severities     []string `json:"severities,omitempty"`      // default: all
	Products       []string `json:"products,omitempty"`        // default: all
	RepeatInterval string   `json:"repeat_interval,omitempty"` // Go duration, default "4h"
	SendResolved   *bool    `json:"send_resolved,omitempty"`   // default true
}

// SlackChannel posts to an incoming webhook.
type SlackChannel struct {
	Route
	WebhookURLEnv string `json:"webhook_url_env,omitempty"` // default SLACK_WEBHOOK_URL
	// Digest routes the weekly digest to the channel (default: on, the route's products).
	Digest *DigestRoute `json:"digest,omitempty"`
}

// EmailChannel sends mail over SMTP.
type EmailChannel struct {
	Route
	Recipients []string `json:"recipients"`
	From       string   `json:"from,omitempty"`
	SMTPURLEnv string   `json:"smtp_url_env,omitempty"` // default SMTP_URL
	// Digest routes the weekly digest to the channel (default: on, the route's products).
	Digest *DigestRoute `json:"digest,omitempty"`
}

// PagerDutyChannel sends Events API v2 events.
type PagerDutyChannel struct {
	Route
	RoutingKeyEnv string `json:"routing_key_env,omitempty"` // default PAGERDUTY_ROUTING_KEY
}

// GitHubIssuesChannel opens an issue per firing critical alert.
type GitHubIssuesChannel struct {
	Route
	Repository string   `json:"repository"` // owner/name
	Labels     []string `json:"labels,omitempty"`
	TokenEnv   string   `json:"token_env,omitempty"` // default GITHUB_TOKEN
}

// Publish configures where the site goes.
type Publish struct {
	CloudflarePages *CloudflarePages `json:"cloudflare_pages,omitempty"`
}

// CloudflarePages names the Pages project.
type CloudflarePages struct {
	Project string `json:"project"`
	Branch  string `json:"branch,omitempty"` // production branch, default "main"
}

// ProductByID returns the product with the id, or false.
func (c *Config) ProductByID(id string) (Product, bool) {
	for _, p := range c.Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}
