package demo

import (
	"fmt"
	"hash/fnv"

	"github.com/portfolio-report/portfolio/generator/config"
)

// Config synthesises a valid portfolio of n products for benchmarks, with the mix of a real
// one: every other product behind Cloudflare, every third with a worker, every other with
// PostHog analytics, deployments from workflow runs or the Deployments API. Defaults are applied.
func Config(n int) *config.Config {
	groups := []string{"Commerce", "Platform", "Content", "Data"}
	cfg := &config.Config{
		Site: config.Site{Title: fmt.Sprintf("Demo portfolio of %d products", n), BaseURL: "https://status.example.com", Timezone: "UTC"},
	}
	for i := range n {
		id := fmt.Sprintf("product-%03d", i+1)
		p := config.Product{
			ID:             id,
			Name:           fmt.Sprintf("Product %03d", i+1),
			Group:          groups[i%len(groups)],
			Description:    fmt.Sprintf("Synthetic product number **%d**, made by `portfolio demo`.", i+1),
			Repository:     "acme/" + id,
			URL:            "https://" + id + ".example.com",
			HealthEndpoint: "/healthz",
			Deploy:         config.Deploy{Source: config.DeploySourceWorkflowRuns, Workflow: "deploy.yml"},
		}
		if i%2 == 0 {
			p.Cloudflare = config.Cloudflare{ZoneID: hex32(id), Hostname: id + ".example.com"}
			p.PostHog = config.PostHog{Host: id + ".example.com", KeyEvents: []string{"signup", "checkout_completed"}}
		}
		if i%3 == 0 {
			p.Cloudflare.Worker = id + "-edge"
		}
		if i%4 == 3 {
			p.Deploy = config.Deploy{Source: config.DeploySourceDeployments, Environment: "production"}
		}
		cfg.Products = append(cfg.Products, p)
	}
	cfg.ApplyDefaults()
	return cfg
}

// hex32 is a zone-id-like 32 hex digits derived from s.
func hex32(s string) string {
	a, b := fnv.New64a(), fnv.New64()
	a.Write([]byte(s))
	b.Write([]byte(s))
	return fmt.Sprintf("%016x%016x", a.Sum64(), b.Sum64())
}
