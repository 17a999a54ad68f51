package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
)

// Load reads, decodes, defaults and validates the config file at path.
// Validation problems come back as a *ValidationError listing every problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates data read from path (path is used in messages only).
// Every problem comes back at once in a *ValidationError: malformed JSON as one problem at the
// syntax error; otherwise each failed rule of portfolio.schema.json and of the Go checks.
func Parse(path string, data []byte) (*Config, error) {
	sch, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	verr := &ValidationError{File: path}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM some editors write; not a column

	doc, err := decodeDocument(data)
	if err != nil {
		verr.Problems = []Problem{syntaxProblem(data, err)}
		return nil, verr
	}
	pos, err := indexPositions(data)
	if err != nil { // cannot happen after a successful decode; report rather than panic
		verr.Problems = []Problem{syntaxProblem(data, err)}
		return nil, verr
	}

	issues := sch.validate(doc)
	for _, dup := range pos.dups {
		issues = append(issues, issue{path: dup, atKey: true, msg: "want each field once, got it again (the last one would win)"})
	}

	// Decode as far as the types allow, so the Go checks run even when the schema found problems.
	var c Config
	typeErr := json.Unmarshal(data, &c)
	c.markUnmanagedBranches(doc)
	issues = append(issues, c.checks()...)
	if is, ok := typeIssue(typeErr, pos); ok && !slices.ContainsFunc(issues, func(o issue) bool { return slices.Equal(o.path, is.path) }) {
		issues = append(issues, is)
	}

	for _, is := range issues {
		line, col := pos.at(is.path, is.atKey)
		verr.Problems = append(verr.Problems, Problem{Line: line, Col: col, Path: formatPath(doc, is.path), Msg: is.msg})
	}
	if len(verr.Problems) > 0 {
		verr.Problems = sortProblems(verr.Problems)
		return nil, verr
	}
	c.Path = path
	c.ApplyDefaults()
	return &c, nil
}

// decodeDocument decodes data as one generic JSON value (numbers kept exact for the schema)
// and rejects anything after it.
func decodeDocument(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	for off := int(dec.InputOffset()); off < len(data); off++ {
		switch data[off] {
		case ' ', '\t', '\r', '\n':
		default:
			return nil, &trailingDataError{off: off}
		}
	}
	return doc, nil
}

// ApplyDefaults fills every unset field with its documented default.
func (c *Config) ApplyDefaults() {
	if c.Site.Title == "" {
		c.Site.Title = "Portfolio"
	}
	if c.Site.Timezone == "" {
		c.Site.Timezone = "UTC"
	}
	if c.Site.RunInterval == "" {
		c.Site.RunInterval = "15m"
	}
	if c.DORA.WindowDays == 0 {
		c.DORA.WindowDays = 30
	}
	if c.DORA.AttributionHours == 0 {
		c.DORA.AttributionHours = 24
	}
	c.Digest = c.Digest.WithDefaults()
	if c.Digest.Enabled == nil {
		yes := true
		c.Digest.Enabled = &yes
	}
	def := DefaultLevels()
	fillBands(&c.DORA.Levels.DeploymentFrequency, def.DeploymentFrequency)
	fillBands(&c.DORA.Levels.LeadTime, def.LeadTime)
	fillBands(&c.DORA.Levels.ChangeFailureRate, def.ChangeFailureRate)
	fillBands(&c.DORA.Levels.TimeToRestore, def.TimeToRestore)
	c.Impact = c.Impact.Over(DefaultImpact())
	for i := range c.Products {
		c.Products[i].applyDefaults()
		c.Products[i].Impact = c.Products[i].Impact.Over(c.Impact)
	}
	if pg := c.Publish.CloudflarePages; pg != nil && pg.Branch == "" {
		pg.Branch = "main"
	}
	nc := &c.NotificationChannels
	if ch := nc.Slack; ch != nil {
		ch.Route.applyDefaults()
		fillString(&ch.WebhookURLEnv, EnvSlackWebhookURL)
	}
	if ch := nc.Email; ch != nil {
		ch.Route.applyDefaults()
		fillString(&ch.SMTPURLEnv, EnvSMTPURL)
	}
	if ch := nc.PagerDuty; ch != nil {
		ch.Route.applyDefaults()
		fillString(&ch.RoutingKeyEnv, EnvPagerDutyRoutingKey)
	}
	if ch := nc.GitHubIssues; ch != nil {
		ch.Route.applyDefaults()
		fillString(&ch.TokenEnv, EnvGitHubToken)
	}
}

func (r *Route) applyDefaults() {
	fillString(&r.RepeatInterval, "4h")
	if r.SendResolved == nil {
		yes := true
		r.SendResolved = &yes
	}
}

func fillString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func fillBands(b *LevelBands, def LevelBands) {
	if *b == (LevelBands{}) {
		*b = def
	}
}

// DefaultLevels are the contract's default level thresholds.
func DefaultLevels() Levels {
	return Levels{
		DeploymentFrequency: LevelBands{Elite: 1, High: 1.0 / 7, Medium: 1.0 / 30},
		LeadTime:            LevelBands{Elite: 3600, High: 7 * 86400, Medium: 30 * 86400},
		ChangeFailureRate:   LevelBands{Elite: 0.05, High: 0.10, Medium: 0.15},
		TimeToRestore:       LevelBands{Elite: 3600, High: 86400, Medium: 7 * 86400},
	}
}

func (p *Product) applyDefaults() {
	if p.Name == "" {
		p.Name = p.ID
	}
	a := &p.AlertingConfig
	if a.UptimeThreshold == 0 {
		a.UptimeThreshold = 99.5
	}
	if a.ErrorRateThreshold == 0 {
		a.ErrorRateThreshold = 1.0
	}
	if a.ResponseTimeThreshold == 0 {
		a.ResponseTimeThreshold = 1000
	}
	if a.FailureThreshold == 0 {
		a.FailureThreshold = 2
	}
	if a.SuccessThreshold == 0 {
		a.SuccessThreshold = 2
	}
	if p.Deploy.Source == "" {
		p.Deploy.Source = DeploySourceWorkflowRuns
	}
	if p.Deploy.Environment == "" {
		p.Deploy.Environment = "production"
	}
	if p.Incidents.Label == "" {
		p.Incidents.Label = "incident"
	}
	if p.Probe.Method == "" {
		p.Probe.Method = "GET"
	}
	if p.Probe.ExpectedStatus == 0 {
		p.Probe.ExpectedStatus = 200
	}
	if p.Probe.TimeoutSeconds == 0 {
		p.Probe.TimeoutSeconds = 10
	}
	// healthcheck.retries is left alone: 0 is a valid count, so its default belongs to the caller.
	if p.HealthCheck.Interval == 0 {
		p.HealthCheck.Interval = 60
	}
	if p.HealthCheck.Timeout == 0 {
		p.HealthCheck.Timeout = 5
	}
}

// HealthURL is the URL the probe fetches: url + health_endpoint, or "" when either is missing.
func (p Product) HealthURL() string {
	if p.URL == "" || p.HealthEndpoint == "" {
		return ""
	}
	u := p.URL
	for len(u) > 0 && u[len(u)-1] == '/' {
		u = u[:len(u)-1]
	}
	ep := p.HealthEndpoint
	if ep[0] != '/' {
		ep = "/" + ep
	}
	return u + ep
}

// typeIssue turns the first value the Go types could not hold into an issue. The schema rejects
// nearly all of these first; what gets through is a number like 200.0 or 2e2, which JSON Schema
// counts as an integer and encoding/json does not.
func typeIssue(err error, pos *positions) (issue, bool) {
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		return issue{}, false
	}
	// The value is the last one that starts before the offset the decoder stopped at.
	best, bestOff := "", -1
	for k, n := range pos.nodes {
		if n.val < int(ute.Offset) && n.val > bestOff {
			best, bestOff = k, n.val
		}
	}
	if bestOff < 0 {
		return issue{}, false
	}
	var path []string
	if best != "" {
		path = strings.Split(best, "\x00")
	}
	want := "a " + ute.Type.String()
	switch ute.Type.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		want = "a whole number without a fraction or exponent"
	}
	return issue{path: path, msg: "want " + want + ", got " + show(json.Number(strings.TrimSpace(string(pos.data[bestOff:min(int(ute.Offset), len(pos.data))]))))}, true
}
