package probe

import (
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

var _ source.Endpoints = (*Source)(nil)

// Endpoint names the URL the probe measured, for the message of a value refused before it is
// stored.
func (s *Source) Endpoint(p config.Product, kind string) string {
	if kind == source.KindSnapshot {
		return "GET " + p.HealthURL()
	}
	return ""
}
