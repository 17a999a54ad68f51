package impact

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// run describes the snapshots of a stretch of time, one every 15 minutes.
type run struct {
	from, to             time.Duration // offsets from t0, [from, to)
	req                  int64         // Cloudflare requests a run (0: no HTTP stats)
	fivexx               float64       // share of 5xx
	p95                  float64       // Cloudflare p95, ms
	probeMs              int           // probe time (0: no probe)
	probeErr             bool          // the probe failed
	workerReq, workerErr int64
}

func snaps(runs ...run) []record.Snapshot {
	var out []record.Snapshot
	for _, r := range runs {
		for d := r.from; d < r.to; d += 15 * time.Minute {
			s := record.Snapshot{Time: t0.Add(d)}
			if r.req > 0 {
				s.HTTP = &record.HTTPStats{Requests: r.req, Status5x: int64(float64(r.req) * r.fivexx), P50Ms: r.p95 / 3, P95Ms: r.p95}
				s.Health = "healthy"
			}
			if r.probeMs > 0 || r.probeErr {
				s.Probe = &record.Probe{Code: 200, Ms: r.probeMs}
				if r.probeErr {
					s.Probe = &record.Probe{Code: 503, Ms: 20, Err: "wrong status 503, want 200"}
					if s.Health != "" {
						s.Health = "unhealthy"
					}
				}
			}
			if r.workerReq > 0 {
				s.Worker = &record.WorkerStats{Requests: r.workerReq, Errors: r.workerErr}
			}
			out = append(out, s)
		}
	}
	return out
}

func dep(id string, at time.Duration) record.Deployment {
	return record.Deployment{ID: id, SHA: strings.Repeat(id[len(id)-1:], 40), Time: t0.Add(at), Outcome: record.OutcomeSuccess,
		URL: "https://github.com/acme/shop/actions/runs/" + id}
}

var (
	edgeProduct = config.Product{ID: "shop", URL: "https://shop.example.com", HealthEndpoint: "/healthz",
		Cloudflare: config.Cloudflare{ZoneID: "z", Worker: "edge"}}
	probeProduct = config.Product{ID: "docs", URL: "https://docs.example.com", HealthEndpoint: "/"}
)

func analyze(p config.Product, s []record.Snapshot, deps []record.Deployment, now time.Duration, tweak func(*Settings)) []Report {
	set := SettingsOf(config.Impact{})
	if tweak != nil {
		tweak(&set)
	}
	return Analyze(Input{Product: p, Snapshots: s, Deployments: deps, Settings: set, From: t0.Add(-30 * 24 * time.Hour), Now: t0.Add(now)})
}

func metric(t *testing.T, r Report, key string) Comparison {
	t.Helper()
	for _, c := range r.Metrics {
		if c.Key() == key {
			return c
		}
	}
	t.Fatalf("deployment %s has no %s comparison (has %v)", r.Deployment.ID, key, keys(r))
	return Comparison{}
}

func keys(r Report) []string {
	var out []string
	for _, c := range r.Metrics {
		out = append(out, c.Key())
	}
	return out
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// expect is what one metric of one deployment should say.
type expect struct {
	metric        string
	verdict       string
	before, after string // figures as show prints them; "" to skip
	reason        string // a part of the reason; "" to skip
	stat          string
}

func TestAnalyze(t *testing.T) {
	h := time.Hour
	m := time.Minute
	steady := func(from, to time.Duration) run {
		return run{from: from, to: to, req: 20000, fivexx: 0.0005, p95: 120, probeMs: 80, workerReq: 18000, workerErr: 4}
	}
	for _, tc := range []struct {
		name    string
		product config.Product
		snaps   []record.Snapshot
		deps    []record.Deployment
		now     time.Duration
		tweak   func(*Settings)
		dep     string // which deployment's report to check
		suspect bool
		want    []expect
		check   func(t *testing.T, r Report)
	}{
		{
			name: "a clear regression: p95 and 5xx up, well above the noise", product: edgeProduct,
			snaps: snaps(steady(-3*h, 0), run{from: 0, to: 3 * h, req: 20000, fivexx: 0.02, p95: 310, probeMs: 85, workerReq: 18000, workerErr: 900}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1", suspect: true,
			want: []expect{
				{metric: MetricResponseTime, verdict: Regression, before: "120", after: "310", stat: StatP95, reason: "×2.58, +190 ms"},
				{metric: MetricErrorRate, verdict: Regression, before: "0.05", after: "2", reason: "+1.95 pp"},
				{metric: MetricWorkerErrors, verdict: Regression, before: "0.022", after: "5"},
				{metric: MetricAvailability, verdict: NotEnoughData, before: "100", after: "100", reason: "together too few"},
			},
		},
		{
			name: "an improvement: p95 and 5xx down", product: edgeProduct,
			snaps: snaps(run{from: -3 * h, to: 0, req: 20000, fivexx: 0.02, p95: 300, probeMs: 90}, steady(0, 3*h)),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1",
			want: []expect{
				{metric: MetricResponseTime, verdict: Improvement, before: "300", after: "120", reason: "×0.4, −180 ms"},
				{metric: MetricErrorRate, verdict: Improvement, before: "2", after: "0.05", reason: "−1.95 pp"},
			},
		},
		{
			name: "noise below the floors: small ratio, small ms, tiny rate change on huge volume", product: edgeProduct,
			snaps: snaps(run{from: -3 * h, to: 0, req: 1_000_000, fivexx: 0.0002, p95: 30, probeMs: 80},
				run{from: 0, to: 3 * h, req: 1_000_000, fivexx: 0.0005, p95: 48, probeMs: 95}),
			deps: []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1",
			want: []expect{
				// ×1.6 is past the ratio, but +18 ms is under the 20 ms floor.
				{metric: MetricResponseTime, verdict: NoChange, before: "30", after: "48", reason: "×1.6, +18 ms (rule: ×1.5 and 20 ms)"},
				// z is huge on 4 million requests, but +0.03 pp is under the 0.1 pp floor.
				{metric: MetricErrorRate, verdict: NoChange, before: "0.02", after: "0.05", reason: "+0.03 pp"},
			},
		},
		{
			name: "a small ratio over the floor is still no change", product: edgeProduct,
			snaps: snaps(run{from: -3 * h, to: 0, req: 20000, p95: 400}, run{from: 0, to: 3 * h, req: 20000, p95: 460}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1",
			want: []expect{{metric: MetricResponseTime, verdict: NoChange, reason: "×1.15, +60 ms"}},
		},
		{
			name: "thin data: two runs after and few requests", product: edgeProduct,
			snaps: snaps(run{from: -3 * h, to: 0, req: 200, fivexx: 0.01, p95: 100}, run{from: 0, to: 45 * m, req: 200, fivexx: 0.2, p95: 900}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1",
			want: []expect{
				{metric: MetricResponseTime, verdict: NotEnoughData, before: "100", after: "900", reason: "4 runs with a response time before and 2 after; each window needs 3"},
				{metric: MetricErrorRate, verdict: NotEnoughData, reason: "800 requests before and 400 after; each window needs 1,000"},
			},
		},
		{
			name: "no data at all", product: edgeProduct,
			deps: []record.Deployment{dep("run:1", 0)}, now: 3 * h, dep: "run:1",
			want: []expect{
				{metric: MetricResponseTime, verdict: NotEnoughData, before: "nil", after: "nil", reason: "no response time in either window"},
				{metric: MetricErrorRate, verdict: NotEnoughData, reason: "no Cloudflare data in either window"},
				{metric: MetricAvailability, verdict: NotEnoughData, reason: "no check in either window"},
				{metric: MetricWorkerErrors, verdict: NotEnoughData, reason: "no Workers data in either window"},
			},
		},
		{
			name: "missing source: Cloudflare failed after the deployment, the probe carries response time", product: edgeProduct,
			snaps: snaps(run{from: -3 * h, to: 0, req: 20000, p95: 120, probeMs: 80}, run{from: 0, to: 3 * h, probeMs: 200}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1", suspect: true,
			want: []expect{
				{metric: MetricResponseTime, verdict: Regression, before: "80", after: "200", stat: StatMedian},
				{metric: MetricErrorRate, verdict: NotEnoughData, reason: "no Cloudflare data after the deployment"},
				{metric: MetricWorkerErrors, verdict: NotEnoughData, reason: "no Workers data in either window"},
			},
		},
		{
			name: "missing source: a probe-only product has no error rate or Workers row", product: probeProduct,
			snaps: snaps(run{from: -3 * h, to: 3 * h, probeMs: 60}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 3 * h, dep: "run:1",
			want: []expect{{metric: MetricResponseTime, verdict: NoChange, stat: StatMedian, before: "60", after: "60"}},
			check: func(t *testing.T, r Report) {
				if got := strings.Join(keys(r), ","); got != "response_time,availability" {
					t.Errorf("metrics %s, want response_time,availability", got)
				}
			},
		},
		{
			name: "overlapping deployments: the time after the second belongs to it", product: edgeProduct,
			snaps: snaps(steady(-3*h, 45*m), run{from: 45 * m, to: 4 * h, req: 20000, fivexx: 0.02, p95: 310}),
			deps:  []record.Deployment{dep("run:1", 0), dep("run:2", 30*m)}, now: 4 * h, dep: "run:1",
			want: []expect{
				{metric: MetricResponseTime, verdict: NotEnoughData, before: "120", after: "120", reason: "2 after"},
				{metric: MetricErrorRate, verdict: NoChange},
			},
			check: func(t *testing.T, r Report) {
				if r.Next == nil || r.Next.ID != "run:2" || !r.After.To.Equal(t0.Add(30*m)) {
					t.Errorf("next %+v, after-window to %v: want cut at run:2 at +30m", r.Next, r.After.To)
				}
				if r.After.Runs != 2 {
					t.Errorf("after-window runs %d, want 2 (+15m and +30m)", r.After.Runs)
				}
			},
		},
		{
			name: "overlapping deployments: the second's before-window starts at the first", product: edgeProduct,
			snaps: snaps(steady(-3*h, 45*m), run{from: 45 * m, to: 4 * h, req: 20000, fivexx: 0.02, p95: 310}),
			deps:  []record.Deployment{dep("run:1", -15*m), dep("run:2", 30*m)}, now: 4 * h, dep: "run:2", suspect: true,
			want: []expect{
				{metric: MetricResponseTime, verdict: Regression, before: "120", after: "310"},
				{metric: MetricErrorRate, verdict: Regression},
			},
			check: func(t *testing.T, r Report) {
				if r.Previous == nil || r.Previous.ID != "run:1" || !r.Before.From.Equal(t0.Add(-15*m)) {
					t.Errorf("previous %+v, before-window from %v: want run:1 at -15m", r.Previous, r.Before.From)
				}
				if r.Before.Runs != 3 { // 0, +15m, +30m: none reaching back past run:1
					t.Errorf("before-window runs %d, want 3", r.Before.Runs)
				}
			},
		},
		{
			name: "a deployment at now: its after-window is open and empty", product: edgeProduct,
			snaps: snaps(steady(-3*h, 15*m)),
			deps:  []record.Deployment{dep("run:1", 0)}, now: 0, dep: "run:1",
			want: []expect{{metric: MetricResponseTime, verdict: NotEnoughData, after: "nil", reason: "no response time after the deployment"}},
			check: func(t *testing.T, r Report) {
				if !r.Open || r.After.Runs != 0 {
					t.Errorf("open %v with %d runs after, want open and none", r.Open, r.After.Runs)
				}
			},
		},
		{
			name: "a deployment 50 minutes before now: judged on the runs so far, marked open", product: edgeProduct,
			snaps: snaps(steady(-3*h, 0), run{from: 0, to: 50 * m, req: 20000, fivexx: 0.0005, p95: 400}),
			deps:  []record.Deployment{dep("run:1", 0)}, now: 50 * m, dep: "run:1", suspect: true,
			want: []expect{{metric: MetricResponseTime, verdict: Regression, after: "400"}},
			check: func(t *testing.T, r Report) {
				if !r.Open || r.After.Runs != 3 {
					t.Errorf("open %v with %d runs after, want open with 3", r.Open, r.After.Runs)
				}
			},
		},
		{
			name: "a deployment at the start of the data: nothing before it", product: edgeProduct,
			snaps: snaps(steady(15*m, 3*h)), // the first run's data begin at the deployment
			deps:  []record.Deployment{dep("run:1", 0)}, now: 3 * h, dep: "run:1",
			want: []expect{
				{metric: MetricResponseTime, verdict: NotEnoughData, before: "nil", reason: "no response time before the deployment"},
				{metric: MetricErrorRate, verdict: NotEnoughData, reason: "no Cloudflare data before the deployment"},
			},
		},
		{
			name: "availability: a whole outage over long windows is a regression", product: probeProduct,
			snaps: snaps(run{from: -4 * h, to: 0, probeMs: 60}, run{from: 0, to: 4 * h, probeErr: true}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 4 * h, dep: "run:1", suspect: true,
			tweak: func(s *Settings) { s.Before, s.After = 3*h, 3*h },
			want: []expect{
				{metric: MetricAvailability, verdict: Regression, before: "100", after: "0", reason: "−100 pp, z = −4.9"},
				{metric: MetricResponseTime, verdict: NotEnoughData, reason: "no response time after"},
			},
		},
		{
			name: "availability: an hour of probes is too few to judge", product: probeProduct,
			snaps: snaps(run{from: -2 * h, to: 0, probeMs: 60}, run{from: 0, to: 2 * h, probeErr: true}),
			deps:  []record.Deployment{dep("run:1", -1*m)}, now: 2 * h, dep: "run:1",
			want: []expect{{metric: MetricAvailability, verdict: NotEnoughData, before: "100", after: "0", reason: "4 checks before and 4 after: together too few for any change to reach z = 3 (need more than 9)"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reps := analyze(tc.product, tc.snaps, tc.deps, tc.now, tc.tweak)
			var r *Report
			for i := range reps {
				if reps[i].Deployment.ID == tc.dep {
					r = &reps[i]
				}
			}
			if r == nil {
				t.Fatalf("no report for %s among %d", tc.dep, len(reps))
			}
			if r.Suspect() != tc.suspect {
				t.Errorf("suspect %v, want %v (regressions %v)", r.Suspect(), tc.suspect, r.Regressions())
			}
			for _, w := range tc.want {
				c := metric(t, *r, w.metric)
				if c.Verdict != w.verdict {
					t.Errorf("%s: verdict %s (%s), want %s", w.metric, c.Verdict, c.Reason, w.verdict)
				}
				if w.before != "" && show(c.Before) != w.before {
					t.Errorf("%s: before %s, want %s", w.metric, show(c.Before), w.before)
				}
				if w.after != "" && show(c.After) != w.after {
					t.Errorf("%s: after %s, want %s", w.metric, show(c.After), w.after)
				}
				if w.reason != "" && !strings.Contains(c.Explain(), w.reason) {
					t.Errorf("%s: reason %q, want it to say %q", w.metric, c.Reason, w.reason)
				}
				if w.stat != "" && c.Stat != w.stat {
					t.Errorf("%s: statistic %q, want %q", w.metric, c.Stat, w.stat)
				}
			}
			if tc.check != nil {
				tc.check(t, *r)
			}
		})
	}
}

// TestKeyEvents: PostHog counts per UTC day, so hour windows cannot compare key events, and
// windows of days compare the whole days inside them.
func TestKeyEvents(t *testing.T) {
	p := edgeProduct
	p.PostHog = config.PostHog{Host: "shop.example.com", KeyEvents: []string{"checkout_completed"}}
	day := func(d string, n int64) record.AnalyticsDay {
		return record.AnalyticsDay{Day: d, DAU: 1000, Events: map[string]int64{"checkout_completed": n}}
	}
	days := []record.AnalyticsDay{day("2026-06-26", 2400), day("2026-06-27", 2350), day("2026-06-28", 2450),
		day("2026-06-29", 2420), day("2026-06-30", 1200), day("2026-07-01", 1150), day("2026-07-02", 1180)}
	deps := []record.Deployment{dep("run:1", -12*time.Hour)} // 2026-06-30 00:00
	for _, tc := range []struct {
		name          string
		window        time.Duration
		verdict       string
		before, after string
		reason        string
	}{
		{"hour windows hold no whole day", time.Hour, NotEnoughData, "nil", "nil", "PostHog counts key events per UTC day; the 1 h windows hold no whole day"},
		{"two-day windows compare whole days: a halving is a regression", 48 * time.Hour, Regression, "101.46", "48.96", "×0.48, z = −29.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := SettingsOf(config.Impact{})
			set.Before, set.After = tc.window, tc.window
			reps := Analyze(Input{Product: p, Deployments: deps, Days: days, Settings: set,
				From: t0.Add(-30 * 24 * time.Hour), Now: t0.Add(3 * 24 * time.Hour)})
			c := metric(t, reps[0], "key_event:checkout_completed")
			if c.Verdict != tc.verdict || show(c.Before) != tc.before || show(c.After) != tc.after || !strings.Contains(c.Explain(), tc.reason) {
				t.Errorf("got %s %s → %s (%s), want %s %s → %s (…%s…)", c.Verdict, show(c.Before), show(c.After), c.Reason,
					tc.verdict, tc.before, tc.after, tc.reason)
			}
		})
	}
}

// TestCurrentAndWithin: the alert reads the latest run the way the comparison measured, and
// calls it back to normal inside the before-window's range.
func TestCurrentAndWithin(t *testing.T) {
	s := snaps(run{from: -2 * time.Hour, to: 0, req: 20000, p95: 120, probeMs: 80},
		run{from: 0, to: time.Hour, req: 20000, fivexx: 0.03, p95: 300, probeMs: 80},
		run{from: time.Hour, to: 90 * time.Minute, req: 20000, p95: 118, probeMs: 80})
	reps := analyze(edgeProduct, s, []record.Deployment{dep("run:1", -time.Minute)}, 75*time.Minute, nil)
	lat := metric(t, reps[0], MetricResponseTime)
	errs := metric(t, reps[0], MetricErrorRate)
	for _, tc := range []struct {
		name   string
		c      Comparison
		at     time.Duration
		value  float64
		within bool
	}{
		{"p95 still high", lat, 45 * time.Minute, 300, false},
		{"p95 back in range", lat, 75 * time.Minute, 118, true},
		{"5xx still high", errs, 45 * time.Minute, 3, false},
		{"5xx back to none", errs, 75 * time.Minute, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := Current(tc.c, s, nil, t0.Add(tc.at))
			if !ok || v != tc.value || tc.c.Within(v) != tc.within {
				t.Errorf("current %v (ok %v), within %v; want %v within %v (range %s–%s)", v, ok, tc.c.Within(v), tc.value, tc.within, show(tc.c.Low), show(tc.c.High))
			}
		})
	}
}
