package posthog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/skip"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func options(f *fake.PostHog) posthog.Options {
	return posthog.Options{Host: f.URL, PersonalKey: f.PersonalKey, ProjectID: f.ProjectID, ProjectKey: f.ProjectKey,
		Now: func() time.Time { return now }, Sleep: noSleep}
}

func shop() config.Product {
	return config.Product{ID: "shop", PostHog: config.PostHog{Host: "shop.example.com", KeyEvents: []string{"checkout completed", "$autocapture"}}}
}

func TestCollectReadsTheLastSevenDays(t *testing.T) {
	f := fake.NewPostHog(t)
	f.SetDay("shop.example.com", "2026-06-30", fake.PostHogDay{DAU: 12, Pageviews: 80, Events: map[string]int64{"checkout completed": 3}})
	f.SetDay("shop.example.com", "2026-06-25", fake.PostHogDay{DAU: 5, Pageviews: 9, Events: map[string]int64{"$autocapture": 7}})
	f.SetDay("shop.example.com", "2026-06-23", fake.PostHogDay{DAU: 99}) // outside the range
	f.SetDay("other.example.com", "2026-06-30", fake.PostHogDay{DAU: 1000})
	res, err := posthog.New(options(f), f.Server.Client(), nil).Collect(context.Background(), shop(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Analytics) != 7 || res.Analytics[0].Day != "2026-06-24" || res.Analytics[6].Day != "2026-06-30" {
		t.Fatalf("days = %+v, want 2026-06-24 … 2026-06-30", res.Analytics)
	}
	got := map[string]record.AnalyticsDay{}
	for _, d := range res.Analytics {
		got[d.Day] = d
	}
	if d := got["2026-06-30"]; d.DAU != 12 || d.Pageviews != 80 || d.Events["checkout completed"] != 3 || d.Events["$autocapture"] != 0 {
		t.Errorf("2026-06-30 = %+v", d)
	}
	if d := got["2026-06-25"]; d.DAU != 5 || d.Events["$autocapture"] != 7 {
		t.Errorf("2026-06-25 = %+v", d)
	}
	if d := got["2026-06-26"]; d.DAU != 0 || d.Events == nil {
		t.Errorf("a day without events should be zero: %+v", d)
	}
	calls := f.Calls()
	if len(calls) != 1 || !strings.HasPrefix(calls[0], "POST /api/projects/4242/query/ ") {
		t.Errorf("calls = %v, want one POST to the query endpoint with its trailing slash", calls)
	}
}

func TestCollectFiltersByProductProperty(t *testing.T) {
	f := fake.NewPostHog(t)
	f.SetDay("billing", "2026-06-29", fake.PostHogDay{DAU: 4, Pageviews: 4})
	p := config.Product{ID: "billing", PostHog: config.PostHog{Product: "billing"}}
	res, err := posthog.New(options(f), f.Server.Client(), nil).Collect(context.Background(), p, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Analytics[5].Day != "2026-06-29" || res.Analytics[5].DAU != 4 {
		t.Errorf("analytics = %+v", res.Analytics)
	}
	if q := f.Queries()[0]; !strings.Contains(q, "properties.product IN ('billing')") {
		t.Errorf("query = %s", q)
	}
}

func TestQueryRefusesWhatIsNotOnTheAllowList(t *testing.T) {
	tests := []struct {
		name string
		p    config.PostHog
	}{
		{"quote in host", config.PostHog{Host: "x.com' OR 1=1 --"}},
		{"backslash in product", config.PostHog{Product: `a\'b`}},
		{"quote in key event", config.PostHog{Host: "x.com", KeyEvents: []string{"it's"}}},
		{"newline in key event", config.PostHog{Host: "x.com", KeyEvents: []string{"a\nb"}}},
		{"empty key event", config.PostHog{Host: "x.com", KeyEvents: []string{""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.NewPostHog(t)
			_, err := posthog.New(options(f), f.Server.Client(), nil).Collect(context.Background(), config.Product{ID: "x", PostHog: tt.p}, time.Time{})
			if err == nil || errors.As(err, new(*skip.Error)) {
				t.Fatalf("err = %v, want a config error", err)
			}
			if n := len(f.Calls()); n != 0 {
				t.Errorf("an unchecked value reached PostHog (%d calls)", n)
			}
		})
	}
}

func FuzzQueryNeverSplicesAQuote(f *testing.F) {
	for _, s := range []string{"app.example.com", "x' OR '1'='1", `a\`, "signed up"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, host, event string) {
		q, err := posthog.Query(config.PostHog{Host: host, KeyEvents: []string{event}}, now)
		if err != nil {
			return
		}
		// The query has exactly the quotes it was built with: 2 per literal.
		if strings.Contains(host, "'") || strings.Contains(event, "'") || strings.Contains(host+event, `\`) {
			t.Errorf("a quote or backslash got through: %s", q)
		}
	})
}

func TestSkips(t *testing.T) {
	f := fake.NewPostHog(t)
	tests := []struct {
		name string
		opt  posthog.Options
		p    config.Product
		want string
	}{
		{"no filter", options(f), config.Product{ID: "a"}, "no posthog.host or posthog.product configured"},
		{"no credentials", posthog.Options{}, shop(), "POSTHOG_HOST, POSTHOG_PERSONAL_API_KEY, POSTHOG_PROJECT_ID not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := posthog.New(tt.opt, f.Server.Client(), nil).Collect(context.Background(), tt.p, time.Time{})
			if !errors.As(err, new(*skip.Error)) || err.Error() != tt.want {
				t.Errorf("err = %v, want skipped %q", err, tt.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     fake.InjectedFault
		wantState string
		wantMsg   string
	}{
		{"429 with a long retry-after", fake.InjectedFault{Match: "shop.example.com", Status: 429, RetryAfter: "3600"},
			"rate_limited", "rate limited until 2026-06-30T13:00:00Z"},
		{"429 without retry-after, then ok", fake.InjectedFault{Match: "shop.example.com", Status: 429, Times: 2}, "ok", ""},
		{"429 every time", fake.InjectedFault{Match: "shop.example.com", Status: 429}, "rate_limited", "rate limited: HTTP 429"},
		{"hasMore", fake.InjectedFault{Match: "shop.example.com", Body: fake.PostHogHasMoreBody()},
			"error", "posthog: query: result incomplete (hasMore)"},
		{"malformed JSON", fake.InjectedFault{Match: "shop.example.com", Body: `{"results": [[`},
			"error", "posthog: query: malformed answer"},
		{"5xx", fake.InjectedFault{Match: "shop.example.com", Status: 502}, "error", "posthog: query: HTTP 502: Bad Gateway (502)"},
		{"timeout", fake.InjectedFault{Match: "shop.example.com", Hang: true}, "timed_out", "posthog: timed out: query"},
		{"DRF error", fake.InjectedFault{Match: "shop.example.com", Status: 400,
			Body: `{"type":"validation_error","code":"query_error","detail":"Unable to resolve field: $host"}`},
			"error", "posthog: query: HTTP 400: Unable to resolve field: $host (query_error)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.NewPostHog(t)
			f.SetDay("shop.example.com", "2026-06-30", fake.PostHogDay{DAU: 1})
			f.SetDay("docs.example.com", "2026-06-30", fake.PostHogDay{DAU: 2})
			f.Inject(tt.fault)
			st := store.Open(t.TempDir())
			docs := config.Product{ID: "docs", PostHog: config.PostHog{Host: "docs.example.com"}}
			sum, err := source.Collect(context.Background(), source.Options{
				Products: []config.Product{shop(), docs},
				Sources:  []source.Source{posthog.New(options(f), f.Server.Client(), nil)},
				Store:    st, Now: now,
				Limits:   map[string]source.Limits{"posthog": {Timeout: 500 * time.Millisecond}},
				Redactor: redact.Of(f.PersonalKey),
			})
			if err != nil {
				t.Fatal(err)
			}
			sn, _, _ := st.LastSnapshot("shop")
			got := sn.Sources["posthog"]
			if got.State != tt.wantState || !strings.Contains(got.Msg, tt.wantMsg) {
				t.Errorf("shop posthog = %+v, want %s containing %q", got, tt.wantState, tt.wantMsg)
			}
			// One query asks about both products: its fault is docs' too.
			dsn, _, _ := st.LastSnapshot("docs")
			if dsn.Sources["posthog"].State != tt.wantState {
				t.Errorf("docs posthog = %+v, want %s like shop's: they share the query", dsn.Sources["posthog"], tt.wantState)
			}
			if days, _ := st.Analytics("docs"); tt.wantState == "ok" && (len(days) != 7 || days[6].DAU != 2) {
				t.Errorf("docs analytics = %+v", days)
			}
			shopDays, _ := st.Analytics("shop")
			if tt.wantState != "ok" && len(shopDays) != 0 {
				t.Errorf("incomplete or failed data was stored: %+v", shopDays)
			}
			if sum.Failed() != (tt.wantState != "ok") {
				t.Errorf("Failed() = %v", sum.Failed())
			}
		})
	}
}

// noSleep stands for the waits between retries: tests do not really sleep.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }
