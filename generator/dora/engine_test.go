package dora

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
)

var now = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)

// at is a time n days (fractional) before now.
func at(daysAgo float64) time.Time { return now.Add(-time.Duration(daysAgo * 24 * float64(time.Hour))) }

func hoursBefore(t time.Time, h float64) time.Time {
	return t.Add(-time.Duration(h * float64(time.Hour)))
}

func ok(id, sha string, t time.Time, changes ...record.Change) record.Deployment {
	if changes == nil {
		changes = []record.Change{}
	}
	return record.Deployment{ID: id, SHA: sha, Time: t, Outcome: record.OutcomeSuccess, Changes: changes}
}

func failed(id, sha string, t time.Time) record.Deployment {
	return record.Deployment{ID: id, SHA: sha, Time: t, Outcome: record.OutcomeFailure}
}

func ch(sha string, t time.Time) record.Change { return record.Change{SHA: sha, AuthorDate: t} }

func incident(n int, created time.Time, closed *time.Time) record.Incident {
	return record.Incident{Number: n, Title: fmt.Sprint("incident ", n), CreatedAt: created, ClosedAt: closed}
}

func tp(t time.Time) *time.Time { return &t }

func cfg() config.DORA {
	return config.DORA{WindowDays: 30, AttributionHours: 24, Levels: config.DefaultLevels()}
}

func product(id string, deps []record.Deployment, incs []record.Incident) Input {
	return Input{Product: config.Product{ID: id}, Deployments: deps, Incidents: incs}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestFigures(t *testing.T) {
	d1 := at(10)
	tests := []struct {
		name string
		in   Input
		// want maps a JSON path-ish name to the JSON of the current window's figure.
		want Figures
		// check asserts only some fields when set.
		check func(t *testing.T, f Figures)
	}{
		{
			name: "empty window: per_day 0 level low, everything else null",
			in:   product("a", nil, nil),
			check: func(t *testing.T, f Figures) {
				want := `{"deployment_frequency":{"successful":0,"failed":0,"per_day":0,"level":"low"},` +
					`"lead_time":{"changes":0,"median_seconds":null,"mean_seconds":null,"p90_seconds":null,"level":null},` +
					`"change_failure_rate":{"failed":0,"incident_deployments":0,"total":0,"rate":null,"level":null},` +
					`"time_to_restore":{"incidents":0,"median_seconds":null,"mean_seconds":null,"open_incidents":0,"oldest_open_seconds":null,"level":null},` +
					`"failed_deployment_recovery_time":{"failures":0,"recovered":0,"unrecovered":0,"median_seconds":null,"mean_seconds":null,"level":null},` +
					`"rework_rate":{"rework":0,"successful":0,"rate":null,"level":null}}`
				if got := js(f); got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			},
		},
		{
			name: "window is [now-W, now): a deploy at now-W counts, one at now does not",
			in: product("a", []record.Deployment{
				ok("run:1", "a1", at(30)), ok("run:2", "a2", now), ok("run:0", "a0", at(30).Add(-time.Second)),
			}, nil),
			check: func(t *testing.T, f Figures) {
				if f.DeploymentFrequency.Successful != 1 {
					t.Errorf("successful = %d, want 1", f.DeploymentFrequency.Successful)
				}
			},
		},
		{
			name: "per_day rounds to 4 decimals; 13 in 30 days is high",
			in:   product("a", nDeploys(13, 0), nil),
			check: func(t *testing.T, f Figures) {
				if got := js(f.DeploymentFrequency); got != `{"successful":13,"failed":0,"per_day":0.4333,"level":"high"}` {
					t.Errorf("got %s", got)
				}
			},
		},
		{
			name: "exact boundary takes the better level: 1 deploy in 30 days is medium, not low",
			in:   product("a", nDeploys(1, 0), nil),
			check: func(t *testing.T, f Figures) {
				if got := *f.DeploymentFrequency.Level; got != Medium {
					t.Errorf("level = %s, want medium", got)
				}
			},
		},
		{
			name: "lead time: first deployment's changes are its head commit; median of two middles; nearest-rank p90",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d1, ch("c1", hoursBefore(d1, 1)), ch("c2", hoursBefore(d1, 2)),
					ch("c3", hoursBefore(d1, 3)), ch("c4", hoursBefore(d1, 10))),
			}, nil),
			check: func(t *testing.T, f Figures) {
				// 1h,2h,3h,10h: median (2+3)/2 = 2.5 h = 9000 s; mean 4 h = 14400; p90 rank ceil(3.6)=4 → 10 h.
				if got := js(f.LeadTime); got != `{"changes":4,"median_seconds":9000,"mean_seconds":14400,"p90_seconds":36000,"level":"high"}` {
					t.Errorf("got %s", got)
				}
			},
		},
		{
			name: "redeploy of the same sha: a deployment with no changes",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(12), ch("c1", at(12.5))),
				ok("run:2", "s1", at(11), ch("c1", at(12.5))), // collector would store none; engine enforces it
			}, nil),
			check: func(t *testing.T, f Figures) {
				if f.DeploymentFrequency.Successful != 2 || f.LeadTime.Changes != 1 || *f.LeadTime.MedianSeconds != 43200 {
					t.Errorf("got %s, want 2 deployments, 1 change of 12 h", js(f))
				}
			},
		},
		{
			name: "rollback to an older sha then forward again: old commits are not re-credited",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(20), ch("s1", at(20.5))),
				ok("run:2", "s2", at(15), ch("s2", at(15.5))),
				ok("run:3", "s1", at(14)),                     // rollback: compare is behind, no commits
				ok("run:4", "s2", at(13), ch("s2", at(15.5))), // compare s1...s2 lists s2 again
			}, nil),
			check: func(t *testing.T, f Figures) {
				if f.DeploymentFrequency.Successful != 4 || f.LeadTime.Changes != 2 {
					t.Errorf("got %d deployments, %d changes; want 4 and 2", f.DeploymentFrequency.Successful, f.LeadTime.Changes)
				}
				if *f.LeadTime.MedianSeconds != 43200 {
					t.Errorf("median = %v, want 43200 (each commit at its first deployment)", *f.LeadTime.MedianSeconds)
				}
			},
		},
		{
			name: "a commit deployed twice counts once, at its first deployment (in the previous window)",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(40), ch("c1", at(41))),
				ok("run:2", "s2", at(5), ch("c1", at(41)), ch("c2", at(6))),
			}, nil),
			check: func(t *testing.T, f Figures) {
				if f.LeadTime.Changes != 1 || *f.LeadTime.MedianSeconds != 86400 {
					t.Errorf("got %s; want only c2 (1 day)", js(f.LeadTime))
				}
			},
		},
		{
			name: "author date after deployment (skewed clock) is left out",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d1, ch("c1", hoursBefore(d1, 2)), ch("c2", d1.Add(time.Hour))),
			}, nil),
			check: func(t *testing.T, f Figures) {
				if f.LeadTime.Changes != 1 || *f.LeadTime.MedianSeconds != 7200 {
					t.Errorf("got %s", js(f.LeadTime))
				}
			},
		},
		{
			name: "failed deployments count in total and rate; an incident within 24 h marks its deployment",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(20)), failed("run:2", "s2", at(19)), ok("run:3", "s3", at(18)),
				ok("run:4", "s4", at(17)), failed("run:5", "s5", at(16)), failed("run:6", "s6", at(15)),
				ok("run:7", "s7", at(14)), ok("run:8", "s8", at(13)),
			}, []record.Incident{
				incident(1, hoursBefore(at(17), -5), tp(at(16))), // 5 h after run:4
				incident(2, hoursBefore(at(17), -6), tp(at(16))), // same deployment: counted once
				incident(3, hoursBefore(at(13), -30), nil),       // 30 h after run:8: too late
			}),
			check: func(t *testing.T, f Figures) {
				if got := js(f.ChangeFailureRate); got != `{"failed":3,"incident_deployments":1,"total":8,"rate":0.5,"level":"low"}` {
					t.Errorf("got %s", got)
				}
			},
		},
		{
			name: "attribution at exactly attribution_hours counts, and a failed run is never the culprit",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(20)), failed("run:2", "s2", at(19.9)),
			}, []record.Incident{incident(1, hoursBefore(at(20), -24), nil)}),
			check: func(t *testing.T, f Figures) {
				if f.ChangeFailureRate.IncidentDeployments != 1 {
					t.Errorf("got %s", js(f.ChangeFailureRate))
				}
			},
		},
		{
			name: "Caused-by sha (short) attributes to the deployment that shipped the commit, however long before",
			in: product("a", []record.Deployment{
				ok("run:1", "aaaaaaa111", at(20), ch("bad0c0ffee", at(21))),
				ok("run:2", "bbbbbbb222", at(10), ch("bbbbbbb222", at(11))),
			}, []record.Incident{{Number: 7, CreatedAt: hoursBefore(at(10), -1), CausedBy: "BAD0C0F"}}),
			check: func(t *testing.T, f Figures) {
				if f.ChangeFailureRate.IncidentDeployments != 1 || *f.ChangeFailureRate.Rate != 0.5 {
					t.Errorf("got %s", js(f.ChangeFailureRate))
				}
			},
		},
		{
			name: "Caused-by sha of a deployment in the previous window does not mark the current one",
			in: product("a", []record.Deployment{
				ok("run:1", "aaaaaaa111", at(40), ch("aaaaaaa111", at(41))),
				ok("run:2", "bbbbbbb222", at(10), ch("bbbbbbb222", at(11))),
			}, []record.Incident{{Number: 7, CreatedAt: hoursBefore(at(10), -1), CausedBy: "aaaaaaa111"}}),
			check: func(t *testing.T, f Figures) {
				if f.ChangeFailureRate.IncidentDeployments != 0 {
					t.Errorf("got %s", js(f.ChangeFailureRate))
				}
			},
		},
		{
			name: "not_planned incidents are excluded everywhere",
			in: product("a", []record.Deployment{ok("run:1", "s1", at(10))}, []record.Incident{
				{Number: 1, CreatedAt: hoursBefore(at(10), -1), ClosedAt: tp(hoursBefore(at(10), -2)), StateReason: "not_planned"},
				{Number: 2, CreatedAt: at(3), StateReason: "not_planned"},
			}),
			check: func(t *testing.T, f Figures) {
				if f.ChangeFailureRate.IncidentDeployments != 0 || f.TimeToRestore.Incidents != 0 || f.TimeToRestore.OpenIncidents != 0 {
					t.Errorf("got %s", js(f))
				}
			},
		},
		{
			name: "restore: incidents closed in the window; open ones counted apart with the oldest age",
			in: product("a", nil, []record.Incident{
				incident(1, at(40), tp(hoursBefore(at(29), 0))),    // opened before, closed in window: 11 days
				incident(2, at(10), tp(hoursBefore(at(10), -0.5))), // 30 min
				incident(3, at(5), tp(hoursBefore(at(5), -1))),     // 1 h
				incident(4, at(45), tp(at(31))),                    // closed in previous window
				incident(5, at(2), nil),                            // open 2 days
				incident(6, at(1), nil),                            // open 1 day
				incident(7, at(0.5), tp(now.Add(time.Hour))),       // closed after now: open at now
				incident(8, now.Add(time.Hour), nil),               // created after now: ignored
			}),
			check: func(t *testing.T, f Figures) {
				want := `{"incidents":3,"median_seconds":3600,"mean_seconds":318600,"open_incidents":3,"oldest_open_seconds":172800,"level":"elite"}`
				if got := js(f.TimeToRestore); got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			},
		},
		{
			name: "restore with only open incidents: medians null, open counted",
			in:   product("a", nil, []record.Incident{incident(1, at(3), nil)}),
			check: func(t *testing.T, f Figures) {
				want := `{"incidents":0,"median_seconds":null,"mean_seconds":null,"open_incidents":1,"oldest_open_seconds":259200,"level":null}`
				if got := js(f.TimeToRestore); got != want {
					t.Errorf("got %s", got)
				}
			},
		},
		{
			name: "deployments at or after now are ignored (a past --now)",
			in:   product("a", []record.Deployment{ok("run:1", "s1", now.Add(time.Minute)), failed("run:2", "s2", now)}, nil),
			check: func(t *testing.T, f Figures) {
				if f.DeploymentFrequency.Successful+f.DeploymentFrequency.Failed != 0 {
					t.Errorf("got %s", js(f.DeploymentFrequency))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Compute(cfg(), []Input{tc.in}, now)
			tc.check(t, r.Products[0].Current)
		})
	}
}

// nDeploys returns n successful deployments spread over the current window, starting offset days ago.
func nDeploys(n int, offset float64) []record.Deployment {
	var out []record.Deployment
	for i := range n {
		t := at(offset + 0.5 + float64(i)*(29.0/float64(max(n, 1))))
		out = append(out, ok(fmt.Sprintf("run:%d", i), fmt.Sprintf("sha%d", i), t))
	}
	return out
}

func TestLevelOf(t *testing.T) {
	b := config.DefaultLevels()
	tests := []struct {
		metric string
		value  float64
		bands  config.LevelBands
		want   string
	}{
		{MetricDeploymentFrequency, 1, b.DeploymentFrequency, Elite},
		{MetricDeploymentFrequency, 0.99, b.DeploymentFrequency, High},
		{MetricDeploymentFrequency, 1.0 / 7, b.DeploymentFrequency, High},
		{MetricDeploymentFrequency, 4.0 / 28, b.DeploymentFrequency, High},
		{MetricDeploymentFrequency, 1.0 / 30, b.DeploymentFrequency, Medium},
		{MetricDeploymentFrequency, 0.03, b.DeploymentFrequency, Low},
		{MetricDeploymentFrequency, 0, b.DeploymentFrequency, Low},
		{MetricLeadTime, 3600, b.LeadTime, Elite},
		{MetricLeadTime, 3601, b.LeadTime, High},
		{MetricLeadTime, 7 * 86400, b.LeadTime, High},
		{MetricLeadTime, 30 * 86400, b.LeadTime, Medium},
		{MetricLeadTime, 30*86400 + 1, b.LeadTime, Low},
		{MetricChangeFailureRate, 0, b.ChangeFailureRate, Elite},
		{MetricChangeFailureRate, 1.0 / 20, b.ChangeFailureRate, Elite},
		{MetricChangeFailureRate, 3.0 / 60, b.ChangeFailureRate, Elite},
		{MetricChangeFailureRate, 0.1, b.ChangeFailureRate, High},
		{MetricChangeFailureRate, 3.0 / 20, b.ChangeFailureRate, Medium},
		{MetricChangeFailureRate, 0.1501, b.ChangeFailureRate, Low},
		{MetricTimeToRestore, 3600, b.TimeToRestore, Elite},
		{MetricTimeToRestore, 86400, b.TimeToRestore, High},
		{MetricTimeToRestore, 7 * 86400, b.TimeToRestore, Medium},
		{MetricTimeToRestore, 7*86400 + 1, b.TimeToRestore, Low},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s=%v", tc.metric, tc.value), func(t *testing.T) {
			if got := LevelOf(tc.metric, tc.value, tc.bands); got != tc.want {
				t.Errorf("LevelOf = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTrendOf(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name      string
		metric    string
		cur, prev *float64
		want      string
	}{
		{"more deployments is improving", MetricDeploymentFrequency, f(0.5), f(0.4), Improving},
		{"fewer deployments is declining", MetricDeploymentFrequency, f(0.3), f(0.4), Declining},
		{"from zero deployments is improving", MetricDeploymentFrequency, f(0.1), f(0), Improving},
		{"zero both sides is flat", MetricDeploymentFrequency, f(0), f(0), Flat},
		{"under 5 % is flat", MetricLeadTime, f(104), f(100), Flat},
		{"exactly 5 % is not flat", MetricLeadTime, f(105), f(100), Declining},
		{"shorter lead time is improving", MetricLeadTime, f(50), f(100), Improving},
		{"lower rate is improving", MetricChangeFailureRate, f(0.1), f(0.2), Improving},
		{"rate up from zero is declining", MetricChangeFailureRate, f(0.1), f(0), Declining},
		{"longer restore is declining", MetricTimeToRestore, f(7200), f(3600), Declining},
		{"null current is flat", MetricTimeToRestore, nil, f(3600), Flat},
		{"null previous is flat", MetricLeadTime, f(1), nil, Flat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TrendOf(tc.metric, tc.cur, tc.prev); got != tc.want {
				t.Errorf("TrendOf = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPortfolioIsPooled(t *testing.T) {
	// a: 1 of 2 deployments failed; b: 0 of 8. Averaged rates would say 25 %; pooled is 10 %.
	a := product("a", []record.Deployment{ok("run:1", "s1", at(5), ch("a1", hoursBefore(at(5), 1))), failed("run:2", "s2", at(4))}, nil)
	var bd []record.Deployment
	for i := range 8 {
		d := at(20 - float64(i))
		bd = append(bd, ok(fmt.Sprint("run:", i), fmt.Sprint("b", i), d, ch(fmt.Sprint("b", i), hoursBefore(d, 10))))
	}
	b := product("b", bd, []record.Incident{
		incident(1, at(3), tp(hoursBefore(at(3), -1))),
		incident(2, at(2), tp(hoursBefore(at(2), -3))),
	})
	c := product("c", nil, []record.Incident{incident(3, at(1), tp(hoursBefore(at(1), -2)))})
	r := Compute(cfg(), []Input{a, b, c}, now)

	if ids := []string{r.Products[0].ID, r.Products[1].ID, r.Products[2].ID}; strings.Join(ids, ",") != "a,b,c" {
		t.Fatalf("products out of order: %v", ids)
	}
	p := r.Portfolio.Current
	if got := js(p.DeploymentFrequency); got != `{"successful":9,"failed":1,"per_day":0.3,"level":"high"}` {
		t.Errorf("frequency %s", got)
	}
	if got := js(p.ChangeFailureRate); got != `{"failed":1,"incident_deployments":0,"total":10,"rate":0.1,"level":"high"}` {
		t.Errorf("rate %s", got)
	}
	// Lead times: one of 1 h and eight of 10 h: the pooled median is 10 h (a median of medians would be 5.5 h).
	if *p.LeadTime.MedianSeconds != 36000 || p.LeadTime.Changes != 9 {
		t.Errorf("lead time %s", js(p.LeadTime))
	}
	// Restore: 1 h, 3 h, 2 h pooled: median 2 h.
	if *p.TimeToRestore.MedianSeconds != 7200 || p.TimeToRestore.Incidents != 3 {
		t.Errorf("restore %s", js(p.TimeToRestore))
	}
}

func TestTrendsAndPrevious(t *testing.T) {
	deps := append(nDeploys(10, 0), nDeploys(5, 30)...)
	for i := range deps {
		deps[i].ID = fmt.Sprint("run:", i)
	}
	r := Compute(cfg(), []Input{product("a", deps, nil)}, now)
	c := r.Products[0]
	if c.Previous.DeploymentFrequency.Successful != 5 || c.Current.DeploymentFrequency.Successful != 10 {
		t.Fatalf("got current %d previous %d", c.Current.DeploymentFrequency.Successful, c.Previous.DeploymentFrequency.Successful)
	}
	want := Trend{DeploymentFrequency: Improving, LeadTime: Flat, ChangeFailureRate: Flat, TimeToRestore: Flat,
		FailedDeploymentRecoveryTime: Flat, ReworkRate: Flat}
	if c.Trend != want {
		t.Errorf("trend %+v, want %+v", c.Trend, want)
	}
}

func TestWeekly(t *testing.T) {
	// now is Tuesday 2026-06-30; the current week started Monday 2026-06-29.
	deps := []record.Deployment{
		ok("run:1", "s1", time.Date(2026, 6, 29, 10, 0, 0, 0, time.UTC)),
		ok("run:2", "s2", time.Date(2026, 6, 28, 23, 59, 59, 0, time.UTC)), // Sunday: previous week
		ok("run:3", "s3", time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)),     // Monday, 12 weeks before
		ok("run:4", "s4", time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)),     // before the series
	}
	ws := Weekly(cfg(), []Input{product("a", deps, nil)}, now)
	if len(ws.Weeks) != 13 {
		t.Fatalf("%d weeks, want 13", len(ws.Weeks))
	}
	if got := ws.Weeks[0].Start; !got.Equal(time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("first week starts %s", got)
	}
	last := ws.Weeks[12]
	if !last.Partial || !last.Start.Equal(time.Date(2026, 6, 29, 0, 0, 0, 0, time.UTC)) || !last.End.Equal(now) {
		t.Errorf("current week %+v", last)
	}
	counts := make([]int, 13)
	for k, f := range ws.Products[0].Figures {
		counts[k] = f.DeploymentFrequency.Successful
	}
	if fmt.Sprint(counts) != "[1 0 0 0 0 0 0 0 0 0 0 1 1]" {
		t.Errorf("weekly deployments %v", counts)
	}
	// Partial week of one day with one deployment: 1 a day.
	if got := ws.Portfolio[12].DeploymentFrequency.PerDay; got != 1 {
		t.Errorf("current week per_day %v, want 1", got)
	}
	if got := ws.Portfolio[11].DeploymentFrequency.PerDay; got != 0.1429 {
		t.Errorf("last full week per_day %v, want 0.1429", got)
	}
}

// recDeps are 8 deployments three days apart, every third one failed; each has a distinct hex sha.
func recDeps() []record.Deployment {
	var deps []record.Deployment
	for i := range 8 {
		d := at(25 - 3*float64(i))
		sha := fmt.Sprintf("%x%07d", 0xabc+i, i)
		if i%3 == 1 {
			deps = append(deps, failed(fmt.Sprint("run:", i), sha, d))
			continue
		}
		deps = append(deps, ok(fmt.Sprint("run:", i), sha, d, ch(sha, hoursBefore(d, 50))))
	}
	return deps
}

func recIncs() []record.Incident {
	return []record.Incident{
		incident(1, hoursBefore(at(25), -2), tp(hoursBefore(at(25), -5))),
		incident(2, hoursBefore(at(19), -3), tp(hoursBefore(at(19), -4))),
		incident(3, at(1), nil),
	}
}

func TestRecommendations(t *testing.T) {
	deps, incs := recDeps(), recIncs()
	c := ProductFigures(cfg(), product("a", deps, incs), now)
	recs := Recommendations(cfg(), c)
	got := map[string]string{}
	for _, r := range recs {
		got[r.Metric] = r.Level + ": " + r.Markdown
	}
	wants := map[string][]string{
		MetricDeploymentFrequency: {"high: ", "5 successful deployments in the last 30 days (1.2 a week), and 3 more runs failed.", "at least once a day"},
		MetricLeadTime:            {"high: ", "Half of the 5 changes shipped in the last 30 days took more than 2.1 days"},
		MetricChangeFailureRate:   {"low: ", "5 of 8 deployments failed or caused an incident (62.5 %): 3 deployments failed; 2 deployments were followed by an incident within 24 h"},
		MetricTimeToRestore:       {"high: ", "The 2 incidents closed in the last 30 days took a median of 2 h to resolve (mean 2 h). 1 incident is still open, the oldest for 24 h."},
		MetricFailedDeploymentRecoveryTime: {"medium: ", "The 4 failures recovered in the last 30 days took a median of 38.5 h (mean 38.3 h)", "1 failure is not recovered yet.",
			"Slowest: the failed deployment `ac30000` (26 Jun 00:00 UTC), not recovered after 4 days; the failed deployment `ac00000` (17 Jun 00:00 UTC), recovered by `ac10000` after 3 days;",
			"; and 2 more.", "Elite teams recover within 60 min."},
		MetricReworkRate: {": **Ship less rework.** 2 of 5 successful deployments in the last 30 days (40 %) were unplanned rework: 2 recovered a failed deployment.",
			"Latest: `ac10000` (20 Jun 00:00 UTC), after the failed `ac00000`; `abe0000` (11 Jun 00:00 UTC), after the failed `abd0000`."},
	}
	for m, subs := range wants {
		for _, s := range subs {
			if !strings.Contains(got[m], s) {
				t.Errorf("%s recommendation\n%s\nlacks %q", m, got[m], s)
			}
		}
	}
	if len(recs) != 6 {
		t.Errorf("%d recommendations, want 6", len(recs))
		for _, r := range recs {
			t.Log(r.Metric, r.Level, r.Markdown)
		}
	}

	// The pooled comparison names the products of the failures it lists.
	pooled := Compute(cfg(), []Input{product("a", deps, incs), product("b", nil, nil)}, now).Portfolio
	for _, r := range Recommendations(cfg(), pooled) {
		if r.Metric == MetricFailedDeploymentRecoveryTime && !strings.Contains(r.Markdown, "Slowest: a's failed deployment `ac30000`") {
			t.Errorf("pooled recovery advice does not name the product: %s", r.Markdown)
		}
	}

	// Rework at or under the change failure rate's elite bar gets none; an incident
	// deployment's recovery is named with its incidents.
	var many []record.Deployment
	for i := range 20 {
		many = append(many, ok(fmt.Sprint("run:", i), fmt.Sprintf("%07x", i+1), at(20-float64(i))))
	}
	many = append(many, failed("run:f", "fa11ed0", at(10).Add(time.Minute)))
	incs2 := []record.Incident{incident(12, hoursBefore(at(5), -1), tp(hoursBefore(at(5), -20))), incident(14, hoursBefore(at(5), -2), tp(hoursBefore(at(5), -3)))}
	recs = Recommendations(cfg(), ProductFigures(cfg(), product("a", many, incs2), now))
	got = map[string]string{}
	for _, r := range recs {
		got[r.Metric] = r.Markdown
	}
	if _, ok := got[MetricReworkRate]; ok {
		t.Errorf("1 rework in 20 (exactly 5 %%) is advised against: %s", got[MetricReworkRate])
	}
	if !strings.Contains(got[MetricFailedDeploymentRecoveryTime], "the deployment `0000010` (25 Jun 00:00 UTC), which caused incidents #12 and #14, recovered after 20 h") {
		t.Errorf("recovery advice %q", got[MetricFailedDeploymentRecoveryTime])
	}

	// Elite metrics get none.
	elite := Comparison{Current: Figures{DeploymentFrequency: DeploymentFrequency{Successful: 40, PerDay: 1.3333, Level: ptr(Elite)}}}
	if r := Recommendations(cfg(), elite); len(r) != 0 {
		t.Errorf("elite got %v", r)
	}
}

func TestRecommendationsQuoteNoTextFromGitHub(t *testing.T) {
	// A sha is the only GitHub string a recommendation quotes; one that is not hex is left out.
	deps := []record.Deployment{failed("run:1", "`<script>`", at(10)), ok("run:2", "abc1234def", at(10).Add(3*time.Hour))}
	recs := Recommendations(cfg(), ProductFigures(cfg(), product("a", deps, nil), now))
	for _, r := range recs {
		if strings.Contains(r.Markdown, "script") {
			t.Errorf("%s quotes GitHub text: %s", r.Metric, r.Markdown)
		}
		if r.Metric != MetricFailedDeploymentRecoveryTime {
			continue
		}
		for _, want := range []string{"The one failure recovered in the last 30 days took 3 h.", "the failed deployment (20 Jun 00:00 UTC), recovered by `abc1234` after 3 h"} {
			if !strings.Contains(r.Markdown, want) {
				t.Errorf("recovery advice %s\nlacks %q", r.Markdown, want)
			}
		}
	}
}

func TestFrequency(t *testing.T) {
	for v, want := range map[float64]string{2.7667: "2.8 a day", 1: "1 a day", 11.0 / 30: "2.6 a week", 1.0 / 7: "1 a week", 1.0 / 30: "1 a month", 0: "none"} {
		if got := Frequency(v); got != want {
			t.Errorf("Frequency(%v) = %q, want %q", v, got, want)
		}
	}
}
