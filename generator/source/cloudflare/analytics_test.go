package cloudflare_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/cloudflare"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// portfolioOf makes n products, each in its own zone with a host and a Worker, with figures
// in the fake that tell them apart.
func portfolioOf(f *fake.Cloudflare, n int) []config.Product {
	var ps []config.Product
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		zone := fmt.Sprintf("zone%02d", i)
		host := id + ".example.com"
		f.SetHTTP(zone, host, fake.CloudflareHTTP{ByStatus: map[int]int64{200: int64(100 + i), 404: 2, 500: 1}, P50Ms: float64(i), P95Ms: float64(10 * i)})
		f.SetWorker(account, id+"-worker", fake.CloudflareWorker{Requests: int64(1000 + i), Errors: 1, CPUP50: 2, CPUP99: 9})
		ps = append(ps, config.Product{ID: id, URL: "https://" + host, HealthCheck: config.HealthCheck{Disabled: true},
			Cloudflare: config.Cloudflare{ZoneID: zone, Worker: id + "-worker"}})
	}
	return ps
}

func collectAll(t *testing.T, src source.Source, st *store.Store, at time.Time, ps []config.Product) source.Summary {
	t.Helper()
	sum, err := source.Collect(context.Background(), source.Options{Products: ps, Sources: []source.Source{src}, Store: st, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func newSource(t *testing.T, f *fake.Cloudflare, at time.Time, st *store.Store, modify ...func(*cloudflare.Options)) *cloudflare.Source {
	t.Helper()
	o := cloudflare.Options{Token: f.Token, AccountID: account, BaseURL: f.URL, Store: st,
		Now: func() time.Time { return at }, Sleep: noSleep}
	for _, m := range modify {
		m(&o)
	}
	src, err := cloudflare.New(o, f.Server.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestOneQueryAcrossZones: 25 products in 25 zones cost one settings query and one HTTP query
// (three zones scopes of at most 10 zones each) and one Workers query, and each product gets
// its own figures.
func TestOneQueryAcrossZones(t *testing.T) {
	f, _ := setup(t)
	ps := portfolioOf(f, 25)
	st := store.Open(t.TempDir())
	sum := collectAll(t, newSource(t, f, now, st), st, now, ps)
	if sum.Failed() {
		t.Fatalf("failed: %+v", sum.FailedOutcomes())
	}
	var kinds []string
	for _, c := range f.GraphQLCalls() {
		switch {
		case strings.Contains(c.Query, "settings"):
			kinds = append(kinds, "settings")
		case strings.Contains(c.Query, "httpRequestsAdaptiveGroups"):
			kinds = append(kinds, "http")
		case strings.Contains(c.Query, "workersInvocationsAdaptive"):
			kinds = append(kinds, "workers")
		}
	}
	if got := strings.Join(kinds, ","); got != "settings,http,workers" {
		t.Errorf("GraphQL requests = %s, want settings,http,workers", got)
	}
	for i, p := range ps {
		sn, _, _ := st.LastSnapshot(p.ID)
		wantHTTP := record.HTTPStats{From: now.Add(-20 * time.Minute), To: now.Add(-5 * time.Minute),
			Requests: int64(103 + i), Status4x: 2, Status5x: 1, P50Ms: float64(i), P95Ms: float64(10 * i)}
		if sn.HTTP == nil || *sn.HTTP != wantHTTP {
			t.Errorf("%s http = %+v, want %+v", p.ID, sn.HTTP, wantHTTP)
		}
		if sn.Worker == nil || sn.Worker.Requests != int64(1000+i) {
			t.Errorf("%s worker = %+v", p.ID, sn.Worker)
		}
	}
}

// TestRequestsSplitOnlyWhenTheQueryLimitForcesIt: with room for 4 queries a request, the HTTP
// nodes of 25 zones (3 scopes × 2 nodes) take two requests; the settings (3 × 1) one.
func TestRequestsSplitOnlyWhenTheQueryLimitForcesIt(t *testing.T) {
	f, _ := setup(t)
	f.MaxQueriesPerRequest = 4
	ps := portfolioOf(f, 25)
	st := store.Open(t.TempDir())
	src := newSource(t, f, now, st, func(o *cloudflare.Options) { o.MaxQueriesPerRequest = 4 })
	if sum := collectAll(t, src, st, now, ps); sum.Failed() {
		t.Fatalf("failed: %+v", sum.FailedOutcomes())
	}
	n := 0
	for _, c := range f.GraphQLCalls() {
		if strings.Contains(c.Query, "httpRequestsAdaptiveGroups(") {
			n++
		}
	}
	if n != 2 || f.GraphQLQueries() != 4 {
		t.Errorf("%d HTTP requests of %d GraphQL requests, want 2 of 4 (settings, 2 HTTP, workers)", n, f.GraphQLQueries())
	}
}

// TestRangesFollowEachOtherAndCountEachRequestOnce: the fake's analytics arrive 3 minutes late,
// and one run fails. Every range ends 5 minutes before its run and the next starts where the
// last stored one ended, so the stored figures add up to every request of the covered time,
// once each.
func TestRangesFollowEachOtherAndCountEachRequestOnce(t *testing.T) {
	f, _ := setup(t)
	f.Lag = 3 * time.Minute
	clock := now
	f.Now = func() time.Time { return clock }
	for m := -60; m < 60; m++ {
		f.AddHTTPEvents("zone1", "api.example.com", now.Add(time.Duration(m)*time.Minute), 200, 1)
		f.AddWorkerEvents(account, "api-worker", now.Add(time.Duration(m)*time.Minute), 2, 0)
	}
	p := apiProduct()
	p.HealthCheck.Disabled = true
	st := store.Open(t.TempDir())
	runs := []time.Time{now, now.Add(15 * time.Minute), now.Add(30 * time.Minute)}
	for i, at := range runs {
		clock = at
		if i == 1 {
			f.Inject(fake.InjectedFault{Match: "/graphql", Status: 502})
		}
		collectAll(t, newSource(t, f, at, st), st, at, []config.Product{p})
		f.ClearFaults()
	}
	snaps, err := st.Snapshots(p.ID, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var total, workers int64
	var ranges []string
	for _, sn := range snaps {
		if sn.HTTP != nil {
			total += sn.HTTP.Requests
			ranges = append(ranges, sn.HTTP.From.Format("15:04")+"–"+sn.HTTP.To.Format("15:04"))
		}
		if sn.Worker != nil {
			workers += sn.Worker.Requests
		}
	}
	if got := strings.Join(ranges, " "); got != "11:40–11:55 11:55–12:25" {
		t.Errorf("ranges = %s, want 11:40–11:55 then, after the failed run, 11:55–12:25", got)
	}
	if total != 45 || workers != 90 {
		t.Errorf("stored %d requests and %d invocations, want 45 and 90: every minute of 11:40–12:25 once", total, workers)
	}
}

// TestAZoneTheTokenCannotReadFailsOnlyItsProducts: Cloudflare names the zone of an error in
// its path (viewer, scope, zone index); its products get the error, the others their figures,
// with one more settings query that leaves the zone out.
func TestAZoneTheTokenCannotReadFailsOnlyItsProducts(t *testing.T) {
	f, _ := setup(t)
	ps := portfolioOf(f, 12)
	f.DenyZone("zone11")
	st := store.Open(t.TempDir())
	sum := collectAll(t, newSource(t, f, now, st), st, now, ps)
	for _, oc := range sum.Outcomes {
		want := record.StateOK
		if oc.Product == "p11" {
			want = record.StateError
		}
		if oc.Status.State != want {
			t.Errorf("%s: %+v, want %s", oc.Product, oc.Status, want)
		}
	}
	if msg := sum.Outcomes[11].Status.Msg; !strings.Contains(msg, "zone 'zone11' does not have access to the path") {
		t.Errorf("p11's message %q does not say why", msg)
	}
	if n := f.GraphQLQueries(); n != 4 {
		t.Errorf("%d GraphQL requests, want 4: settings, settings without zone11, HTTP, Workers", n)
	}
}

// TestMoreGroupsThanTheLimitIsAnError: a zone whose maxPageSize the answer fills may have more
// groups than it returned; its figures would be short, so they are not stored.
func TestMoreGroupsThanTheLimitIsAnError(t *testing.T) {
	f, _ := setup(t)
	seed(f)
	f.SetMaxPageSize("zone1", 2)
	f.SetHTTP("zone1", "www.example.com", fake.CloudflareHTTP{ByStatus: map[int]int64{200: 5}})
	p := apiProduct()
	p.Cloudflare.Worker = ""
	p.HealthCheck.Disabled = true
	_, err := newSource(t, f, now, nil).Collect(context.Background(), p, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "more groups than the query's limit of 2") {
		t.Errorf("err = %v, want the truncation named", err)
	}
}
