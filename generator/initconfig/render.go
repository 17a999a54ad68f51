package initconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Document is the proposed portfolio.json: only what was found, so the file stays short and
// the defaults (docs/configuration.md) fill in the rest.
type Document struct {
	Schema   string    `json:"$schema,omitempty"`
	Site     Site      `json:"site"`
	Products []Product `json:"products"`
}

// Site is the proposed site block.
type Site struct {
	Title string `json:"title,omitempty"`
}

// Product is one proposed product, in the order of the fields of the configuration.
type Product struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	// HealthEndpoint is "/" with a url: the probe and the health check fetch the home page
	// until a real health endpoint is named.
	HealthEndpoint string      `json:"health_endpoint,omitempty"`
	Repository     string      `json:"repository,omitempty"`
	Cloudflare     *Cloudflare `json:"cloudflare,omitempty"`
	Deploy         *Deploy     `json:"deploy,omitempty"`
	Incidents      *Incidents  `json:"incidents,omitempty"`
	PostHog        *PostHog    `json:"posthog,omitempty"`
}

// Cloudflare is the product's zone.
type Cloudflare struct {
	ZoneID   string `json:"zone_id,omitempty"`
	Hostname string `json:"hostname,omitempty"`
}

// Deploy is where the product's deployments come from.
type Deploy struct {
	Source      string `json:"source,omitempty"`
	Workflow    string `json:"workflow,omitempty"`
	Environment string `json:"environment,omitempty"`
}

// Incidents names the incident label when it is not the default.
type Incidents struct {
	Label string `json:"label,omitempty"`
}

// PostHog is the host the product's events carry.
type PostHog struct {
	Host string `json:"host,omitempty"`
}

// JSON is the document as portfolio.json holds it (two-space indent, a final newline), once it
// passed the same checks as a config that is loaded: portfolio.schema.json and the config's
// own rules. path names the file in the error.
func (p *Proposal) JSON(path string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Document); err != nil {
		return nil, err
	}
	if _, err := config.Parse(path, b.Bytes()); err != nil {
		return nil, fmt.Errorf("init: the proposed config does not validate: %w", err)
	}
	return b.Bytes(), nil
}

// WriteReasons prints, per product, the reason for each guess; then what was left out and the
// notes. Names read from GitHub are quoted where they could hold anything.
func (p *Proposal) WriteReasons(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Why each product looks as it does (%d %s):\n", len(p.Products), pluralWord(len(p.Products), "product", "products"))
	for _, pr := range p.Products {
		fmt.Fprintf(&b, "\n%s  (%s)\n", pr.ID, pr.Repository)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, r := range pr.Reasons {
			fmt.Fprintf(tw, "  %s\t%s\n", r.Field, r.Why)
		}
		tw.Flush()
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(&b, "\nLeft out:\n")
		for _, s := range p.Skipped {
			fmt.Fprintf(&b, "  %s  %s\n", s.Repository, s.Why)
		}
	}
	if len(p.Notes) > 0 {
		fmt.Fprintf(&b, "\nNotes:\n")
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
