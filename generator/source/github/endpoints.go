package github

import (
	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
)

var _ source.Endpoints = (*Source)(nil)

// Endpoint names the API endpoint a kind of record comes from, for the message of a record
// refused before it is stored (docs/dora.md lists the calls).
func (s *Source) Endpoint(p config.Product, kind string) string {
	repo := "/repos/" + p.Repository
	switch kind {
	case source.KindIncident:
		return "GET " + repo + "/issues"
	case source.KindDeployment:
		switch {
		case p.Deploy.Source == config.DeploySourceDeployments:
			return "GET " + repo + "/deployments (and its statuses, compare)"
		case p.Deploy.Workflow != "":
			return "GET " + repo + "/actions/workflows/" + p.Deploy.Workflow + "/runs (and compare)"
		}
		return "GET " + repo + "/actions/runs (and compare)"
	}
	return ""
}
