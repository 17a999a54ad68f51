package cloudflare_test

import (
	"context"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestDocumentedShapesTheSourceDoesNotRead: a health check list whose items carry only the
// fields the source reads plus ones it does not know, an envelope with messages, and a
// result_info with only the documented fields (no total_pages) are read as they come.
func TestDocumentedShapesTheSourceDoesNotRead(t *testing.T) {
	f, _ := setup(t)
	f.Inject(fake.InjectedFault{Match: "GET /zones/zone1/healthchecks?page=1", Body: `{"success":true,"errors":[],` +
		`"messages":[{"code":10010,"message":"health checks are moving to a new API"}],` +
		`"result":[{"id":"a1","name":"portfolio-api","status":"unhealthy","x_new_field":{"nested":[1,2]}},` +
		`{"id":"a2","name":"other"}],"result_info":{"page":1,"per_page":50,"count":2,"total_count":2}}`})
	p := config.Product{ID: "api", Cloudflare: config.Cloudflare{ZoneID: "zone1"}}
	res, err := newSource(t, f, now, nil).Collect(context.Background(), p, time.Time{})
	if err != nil || res.Snapshot.Health != "unhealthy" {
		t.Errorf("health %q, err %v", res.Snapshot.Health, err)
	}
}
