package healthchecks_test

import (
	"context"
	"fmt"
	"testing"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/healthchecks"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// BenchmarkCompute diffs 200 products (all in sync, one drifted) against a zone that also holds
// 1000 unmanaged checks and an account with 1000 unmanaged policies.
func BenchmarkCompute(b *testing.B) {
	f := fake.NewCloudflareHealthchecks(b)
	f.DefaultPerPage = 1000
	cfg := &config.Config{NotificationChannels: config.NotificationChannels{Email: &config.EmailChannel{Recipients: []string{"ops@example.com"}}}}
	for i := range 200 {
		cfg.Products = append(cfg.Products, config.Product{ID: fmt.Sprintf("p%d", i), URL: fmt.Sprintf("https://p%d.example.com", i),
			HealthEndpoint: "/healthz", Cloudflare: config.Cloudflare{ZoneID: zoneA}})
	}
	cfg.ApplyDefaults()
	for i := range 1000 {
		f.AddHealthcheck(zoneA, cf.Healthcheck{Name: fmt.Sprintf("other-%d", i), Address: "x.example.com"})
		f.AddPolicy(cf.NotificationPolicy{Name: "other", AlertType: "billing_usage_alert"})
	}
	c, err := healthchecks.New(healthchecks.Options{Token: f.Token, AccountID: f.Account, BaseURL: f.URL, PerFiveMin: 1e6, Burst: 1e6}, f.Server.Client(), nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := healthchecks.DesiredState(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	r, err := c.Read(context.Background(), d.Zones)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := healthchecks.Apply(context.Background(), c, healthchecks.Compute(d, r), nil); err != nil {
		b.Fatal(err)
	}
	r, err = c.Read(context.Background(), d.Zones)
	if err != nil {
		b.Fatal(err)
	}
	d.Checks[7].Interval = 30
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := healthchecks.Compute(d, r)
		if p.Summary.Update != 1 {
			b.Fatalf("summary %+v", p.Summary)
		}
	}
}
