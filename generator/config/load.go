package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
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
func Parse(path string, data []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Path = path
	c.ApplyDefaults()
	return &c, nil
}

// ApplyDefaults fills every unset field with its documented default.
func (c *Config) ApplyDefaults() {
	if c.Site.Title == "" {
		c.Site.Title = "Portfolio"
	}
	if c.Site.Timezone == "" {
		c.Site.Timezone = "UTC"
	}
	if c.DORA.WindowDays == 0 {
		c.DORA.WindowDays = 30
	}
	if c.DORA.AttributionHours == 0 {
		c.DORA.AttributionHours = 24
	}
	def := DefaultLevels()
	fillBands(&c.DORA.Levels.DeploymentFrequency, def.DeploymentFrequency)
	fillBands(&c.DORA.Levels.LeadTime, def.LeadTime)
	fillBands(&c.DORA.Levels.ChangeFailureRate, def.ChangeFailureRate)
	fillBands(&c.DORA.Levels.TimeToRestore, def.TimeToRestore)
	for i := range c.Products {
		c.Products[i].applyDefaults()
	}
	if pg := c.Publish.CloudflarePages; pg != nil && pg.Branch == "" {
		pg.Branch = "main"
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
