package contract_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/healthchecks"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/source/cloudflare"
	"github.com/portfolio-report/portfolio/generator/testutil/contract"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// noSleep stands for the waits between retries: the tests do not really sleep.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func cloudflareAPI(base string) contract.API {
	return contract.API{Name: "cloudflare", Base: base,
		Specs:   []string{contract.CloudflareV4, contract.CloudflarePagesUpload},
		GraphQL: contract.CloudflareGraphQL}
}

// TestCloudflareSourceContract runs the cloudflare source over a zone whose health checks
// fill two pages, and checks every request it sends and every answer the fake gives, and that
// the second page is read on the paging fields the description promises.
func TestCloudflareSourceContract(t *testing.T) {
	f := fake.NewCloudflare(t)
	f.Now = func() time.Time { return now }
	rec := contract.NewRecorder(f.Server.Client().Transport)
	src, err := cloudflare.New(cloudflare.Options{Token: f.Token, AccountID: "acc123", BaseURL: f.URL,
		Now: func() time.Time { return now }, Sleep: noSleep}, rec.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.SetHTTP("zone1", "api.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 900, 404: 60, 503: 40}, P50Ms: 41.26, P95Ms: 180.04})
	for i := range 57 {
		f.AddHealthcheck("zone1", cf.Healthcheck{Name: fmt.Sprintf("other-%02d", i), Address: "x.example.com", Status: "healthy"})
	}
	f.AddHealthcheck("zone1", cf.Healthcheck{Name: "portfolio-api", Address: "api.example.com", Status: "unhealthy", FailureReason: "HTTP timeout"})
	f.SetWorker("acc123", "api-worker", fake.CloudflareWorker{Requests: 500, Errors: 3, CPUP50: 206.44, CPUP99: 1500})
	p := config.Product{ID: "api", URL: "https://api.example.com", Cloudflare: config.Cloudflare{ZoneID: "zone1", Worker: "api-worker"}}
	// Eleven more products in zones of their own, some with a longer range (a failed run
	// before): the batched queries hold two zones scopes and two ranges each.
	ps := []config.Product{p}
	since := map[string]time.Time{"api": now.Add(-15 * time.Minute)}
	for i := range 11 {
		id := fmt.Sprintf("p%02d", i)
		zone := fmt.Sprintf("zone-%02d", i)
		f.SetHTTP(zone, id+".example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 10, 502: 1}})
		f.SetWorker("acc123", id+"-worker", fake.CloudflareWorker{Requests: 5})
		ps = append(ps, config.Product{ID: id, URL: "https://" + id + ".example.com", HealthCheck: config.HealthCheck{Disabled: true},
			Cloudflare: config.Cloudflare{ZoneID: zone, Worker: id + "-worker"}})
		since[id] = now.Add(-time.Duration(15+15*(i%2)) * time.Minute)
	}
	if err := src.Prepare(context.Background(), ps, since); err != nil {
		t.Fatal(err)
	}
	res, err := src.Collect(context.Background(), p, since["api"])
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range ps[1:] {
		if r, err := src.Collect(context.Background(), q, since[q.ID]); err != nil || r.Snapshot.HTTP == nil || r.Snapshot.HTTP.Status5x != 1 || r.Snapshot.Worker == nil {
			t.Errorf("%s: %+v, %v", q.ID, r.Snapshot, err)
		}
	}
	// The product's check is on page 2, and the fake's result_info holds only what the
	// description promises (no total_pages): the list is read whole by that alone.
	if res.Snapshot.Health != "unhealthy" {
		t.Errorf("health = %q, want unhealthy from the check on page 2", res.Snapshot.Health)
	}
	r := contract.Checker{APIs: []contract.API{cloudflareAPI(f.URL)}, Known: knownDivergences}.Check(t, rec.Exchanges())
	if n := r.Operations["cloudflare POST graphql"]; n != 3 {
		t.Errorf("%d GraphQL queries checked, want the settings, HTTP and Workers queries for all 12 products", n)
	}
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}

// TestHealthchecksContract plans and applies a portfolio's health checks, notification policy
// and Slack webhook destination, changes one, deletes what is no longer wanted, and applies
// once more with nothing to change.
func TestHealthchecksContract(t *testing.T) {
	f := fake.NewCloudflareHealthchecks(t)
	f.MaskWebhookURLs = true // the comparison must not rest on the URL coming back
	rec := contract.NewRecorder(f.Server.Client().Transport)
	const slackURL = "https://hooks.slack.com/services/T0001/B0002/secretXYZsecretXYZ"
	c, err := healthchecks.New(healthchecks.Options{Token: f.Token, AccountID: f.Account, BaseURL: f.URL,
		Sleep: noSleep, Redactor: redact.Of(slackURL)}, rec.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const zone = "023e105f4ecef8ad9ca31a8372d0c353"
	cfg := &config.Config{
		Products: []config.Product{
			{ID: "shop", URL: "https://shop.example.com", HealthEndpoint: "/healthz", Cloudflare: config.Cloudflare{ZoneID: zone}},
			{ID: "pay", URL: "http://api.pay.example.com:8080/v1/", HealthEndpoint: "/health", Cloudflare: config.Cloudflare{ZoneID: zone},
				HealthCheck: config.HealthCheck{Interval: 30, Retries: 1, ExpectedCodes: []string{"2xx"}, CheckRegions: []string{"EEU", "WNAM"}}},
		},
		NotificationChannels: config.NotificationChannels{Email: &config.EmailChannel{Recipients: []string{"ops@example.com"}},
			Slack: &config.SlackChannel{}},
	}
	cfg.ApplyDefaults()
	for i := range 27 { // unmanaged objects before the managed ones
		f.AddHealthcheck(zone, cf.Healthcheck{Name: fmt.Sprintf("other-%02d", i), Address: "x.example.com", Type: "HTTPS"})
	}
	apply := func() {
		t.Helper()
		d, err := healthchecks.DesiredState(cfg, slackURL)
		if err != nil {
			t.Fatal(err)
		}
		read, err := c.Read(context.Background(), d.Zones)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := healthchecks.Apply(context.Background(), c, healthchecks.Compute(d, read), func(st healthchecks.Step) { healthchecks.WriteStep(&out, st) }); err != nil {
			t.Fatalf("apply: %v\n%s", err, out.String())
		}
	}
	apply()
	cfg.Products[0].HealthCheck.Interval = 120 // an update
	cfg.Products = cfg.Products[:1]            // and a delete
	apply()
	// Nothing changed since, and the API returns no webhook secret to compare with the Slack
	// URL: a third apply must change nothing.
	before := len(f.Mutations())
	apply()
	if m := f.Mutations(); len(m) != before {
		t.Errorf("an apply with nothing to change made %d changing call(s): %+v", len(m)-before, m[before:])
	}
	r := contract.Checker{APIs: []contract.API{cloudflareAPI(f.URL)}, Known: knownDivergences}.Check(t, rec.Exchanges())
	t.Logf("%d exchanges:\n%s", r.Exchanges, r.Summary())
}
