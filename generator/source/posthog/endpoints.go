package posthog

import (
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

var _ source.Endpoints = (*Source)(nil)

// Endpoint names the API endpoint the analytics come from, for the message of a record
// refused before it is stored.
func (s *Source) Endpoint(_ config.Product, kind string) string {
	if kind == source.KindAnalytics {
		return "POST /api/projects/" + s.opt.ProjectID + "/query/"
	}
	return ""
}
