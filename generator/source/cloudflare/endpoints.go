package cloudflare

import (
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

var _ source.Endpoints = (*Source)(nil)

// Endpoint names the API endpoints the snapshot's Cloudflare fields come from, for the message
// of a value refused before it is stored.
func (s *Source) Endpoint(_ config.Product, kind string) string {
	if kind == source.KindSnapshot {
		return "POST /graphql (httpRequestsAdaptiveGroups, workersInvocationsAdaptive) and GET /zones/{zone}/healthchecks"
	}
	return ""
}
