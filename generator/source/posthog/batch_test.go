package posthog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestOneQueryForEveryProduct: 200 products, filtered by host or by product name with key
// events of their own, cost one HogQL query a run (PostHog throttles HogQL to 120 queries an
// hour: a run every 15 minutes spends 4), and each gets its own figures.
func TestOneQueryForEveryProduct(t *testing.T) {
	f := fake.NewPostHog(t)
	var ps []config.Product
	for i := range 200 {
		p := config.Product{ID: fmt.Sprintf("p%03d", i)}
		filter := fmt.Sprintf("p%03d.example.com", i)
		if i%4 == 0 {
			filter = fmt.Sprintf("product-%03d", i)
			p.PostHog.Product = filter
		} else {
			p.PostHog.Host = filter
		}
		p.PostHog.KeyEvents = []string{fmt.Sprintf("event %d", i%3), "signed up"}
		f.SetDay(filter, "2026-06-29", fake.PostHogDay{DAU: int64(i), Pageviews: int64(2 * i),
			Events: map[string]int64{fmt.Sprintf("event %d", i%3): int64(i + 1), "signed up": 1}})
		ps = append(ps, p)
	}
	st := store.Open(t.TempDir())
	for run := range 4 { // an hour of runs
		src := posthog.New(options(f), f.Server.Client(), nil)
		sum, err := source.Collect(context.Background(), source.Options{Products: ps, Sources: []source.Source{src}, Store: st,
			Now: now.Add(time.Duration(run) * 15 * time.Minute)})
		if err != nil || sum.Failed() {
			t.Fatalf("run %d: %v %+v", run, err, sum.FailedOutcomes())
		}
	}
	if n := len(f.Queries()); n != 4 {
		t.Errorf("%d HogQL queries in an hour of runs, want 4 (one a run)", n)
	}
	if q := f.Queries()[0]; !strings.Contains(q, " UNION ALL ") || !strings.HasSuffix(q, "LIMIT 1400") {
		t.Errorf("query %s: want a host part and a product part, and a LIMIT of 200 × 7 rows", q)
	}
	for _, i := range []int{0, 1, 199} {
		days, _ := st.Analytics(ps[i].ID)
		d := days[5] // 2026-06-29
		if d.Day != "2026-06-29" || d.DAU != int64(i) || d.Pageviews != int64(2*i) ||
			d.Events[fmt.Sprintf("event %d", i%3)] != int64(i+1) || d.Events["signed up"] != 1 || len(d.Events) != 2 {
			t.Errorf("%s: %+v", ps[i].ID, d)
		}
	}
}

// TestQueriesSplitOnlyBeyondPostHogsRowLimit: a query returns at most 50,000 rows, 7 a key:
// 7,143 hosts take two queries.
func TestQueriesSplitOnlyBeyondPostHogsRowLimit(t *testing.T) {
	f := fake.NewPostHog(t)
	var ps []config.Product
	for i := range 7143 {
		ps = append(ps, config.Product{ID: fmt.Sprintf("p%04d", i), PostHog: config.PostHog{Host: fmt.Sprintf("p%04d.example.com", i)}})
	}
	f.SetDay("p7142.example.com", "2026-06-30", fake.PostHogDay{DAU: 42})
	src := posthog.New(options(f), f.Server.Client(), nil)
	if err := src.Prepare(context.Background(), ps, nil); err != nil {
		t.Fatal(err)
	}
	res, err := src.Collect(context.Background(), ps[7142], time.Time{})
	if err != nil || res.Analytics[6].DAU != 42 {
		t.Fatalf("last product: %+v, %v", res.Analytics, err)
	}
	if n := len(f.Queries()); n != 2 {
		t.Errorf("%d queries, want 2", n)
	}
}

// TestAnAnswerLongerThanTheCapIsAnError: PostHog answers are capped (32 MiB; 1 MiB here) and
// decoded as they stream: a longer one is an error naming the cap, nothing is stored.
func TestAnAnswerLongerThanTheCapIsAnError(t *testing.T) {
	f := fake.NewPostHog(t)
	f.Inject(fake.InjectedFault{Match: "/query/", Body: `{"results":[["` + strings.Repeat("x", 2<<20) + `"]]}`})
	o := options(f)
	o.MaxAnswer = 1 << 20
	_, err := posthog.New(o, f.Server.Client(), nil).Collect(context.Background(), shop(), time.Time{})
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("err = %v", err)
	}
}

// TestDocumentedShapesOfTheQueryAnswer: HogQLQueryResponse fields the source does not read
// (clickhouse, explain, modifiers, query_status, types absent) are passed over; an "error"
// inside an HTTP 200 is the query's failure, and nothing is stored from it.
func TestDocumentedShapesOfTheQueryAnswer(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
	}{
		{"fields not read", `{"results":[["host","shop.example.com","2026-06-30",3,4,1,0]],"columns":["by","key","day","dau","pageviews","k0","k1"],` +
			`"clickhouse":"SELECT 1","explain":[],"modifiers":{},"query_status":null,"hasMore":false}`, ""},
		{"an error in a 200", `{"results":[],"columns":[],"error":"Query exceeded the memory limit"}`, "posthog: query: Query exceeded the memory limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := fake.NewPostHog(t)
			f.Inject(fake.InjectedFault{Match: "/query/", Body: tc.body})
			res, err := posthog.New(options(f), f.Server.Client(), nil).Collect(context.Background(), shop(), time.Time{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || len(res.Analytics) != 0 {
					t.Errorf("analytics %d days, err %v; want %q", len(res.Analytics), err, tc.wantErr)
				}
				return
			}
			if err != nil || res.Analytics[6].DAU != 3 || res.Analytics[6].Events["$autocapture"] != 1 { // k0: the key events sorted
				t.Errorf("analytics %+v, err %v", res.Analytics, err)
			}
		})
	}
}
