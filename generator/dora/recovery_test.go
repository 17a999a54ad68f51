package dora

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// One test per sentence of docs/dora.md's "Failed deployment recovery time" and "Deployment
// rework rate": the current window's figures as JSON, and the details that name them.
func TestRecoveryAndRework(t *testing.T) {
	h := func(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }
	d0 := at(10)
	tests := []struct {
		name     string
		in       Input
		recovery string // JSON of failed_deployment_recovery_time
		rework   string // JSON of rework_rate
		check    func(t *testing.T, c Comparison)
	}{
		{
			name: "a failed deployment is recovered by the next successful one, which is rework",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d0), failed("run:2", "s2", d0.Add(h(1))), ok("run:3", "s3", d0.Add(h(3.5))), ok("run:4", "s4", d0.Add(h(5))),
			}, nil),
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":9000,"mean_seconds":9000,"level":"high"}`,
			rework:   `{"rework":1,"successful":3,"rate":0.3333,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				f := c.Detail.Failures
				if len(f) != 1 || f[0].SHA != "s2" || f[0].Kind != FailureDeployment || !f[0].Recovered || f[0].RecoveredBy != "s3" || f[0].Seconds != 9000 {
					t.Errorf("failures %+v", f)
				}
				if r := c.Detail.Rework; len(r) != 1 || r[0].SHA != "s3" || !slices.Equal(r[0].AfterFailed, []string{"s2"}) {
					t.Errorf("rework %+v", r)
				}
			},
		},
		{
			name: "two failures in a row are both recovered by the same success, rework once",
			in: product("a", []record.Deployment{
				failed("run:1", "s1", d0), failed("run:2", "s2", d0.Add(h(1))), ok("run:3", "s3", d0.Add(h(2))),
			}, nil),
			recovery: `{"failures":2,"recovered":2,"unrecovered":0,"median_seconds":5400,"mean_seconds":5400,"level":"high"}`,
			rework:   `{"rework":1,"successful":1,"rate":1,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				if r := c.Detail.Rework; len(r) != 1 || !slices.Equal(r[0].AfterFailed, []string{"s1", "s2"}) {
					t.Errorf("rework %+v", r)
				}
			},
		},
		{
			name: "a success at the same second as the failure is not after it",
			in: product("a", []record.Deployment{
				failed("run:1", "s1", d0), ok("run:2", "s2", d0), ok("run:3", "s3", d0.Add(h(0.5))),
			}, nil),
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":1800,"mean_seconds":1800,"level":"elite"}`,
			rework:   `{"rework":1,"successful":2,"rate":0.5,"level":null}`,
		},
		{
			name: "a failed deployment never followed by a success is unrecovered: no median, no level",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d0), failed("run:2", "s2", d0.Add(h(1))), failed("run:3", "s3", d0.Add(h(2))),
			}, nil),
			recovery: `{"failures":2,"recovered":0,"unrecovered":2,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":1,"rate":0,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				f := c.Detail.Failures // newest first; an unrecovered failure's seconds are its age at now
				if len(f) != 2 || f[0].SHA != "s3" || f[0].Recovered || f[0].Seconds != now.Sub(d0.Add(h(2))).Seconds() {
					t.Errorf("failures %+v", f)
				}
			},
		},
		{
			name:     "a success at or after now does not recover (records at or after now are ignored)",
			in:       product("a", []record.Deployment{failed("run:1", "s1", d0), ok("run:2", "s2", now)}, nil),
			recovery: `{"failures":1,"recovered":0,"unrecovered":1,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":0,"rate":null,"level":null}`,
		},
		{
			name: "an incident deployment recovers when its last incident closes",
			in: product("a", []record.Deployment{ok("run:1", "s1", d0)}, []record.Incident{
				incident(1, d0.Add(h(1)), tp(d0.Add(h(2)))),
				incident(2, d0.Add(h(1.5)), tp(d0.Add(h(30)))),
			}),
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":108000,"mean_seconds":108000,"level":"medium"}`,
			rework:   `{"rework":0,"successful":1,"rate":0,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				f := c.Detail.Failures
				if len(f) != 1 || f[0].Kind != FailureIncident || !slices.Equal(f[0].Incidents, []int{1, 2}) || f[0].RecoveredBy != "" {
					t.Errorf("failures %+v", f)
				}
			},
		},
		{
			name: "an incident deployment with one incident still open is unrecovered",
			in: product("a", []record.Deployment{ok("run:1", "s1", d0)}, []record.Incident{
				incident(1, d0.Add(h(1)), tp(d0.Add(h(2)))),
				incident(2, d0.Add(h(1.5)), nil),
			}),
			recovery: `{"failures":1,"recovered":0,"unrecovered":1,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":1,"rate":0,"level":null}`,
		},
		{
			name: "an incident closed at or after now is open at now",
			in: product("a", []record.Deployment{ok("run:1", "s1", d0)}, []record.Incident{
				incident(1, d0.Add(h(1)), tp(now)),
			}),
			recovery: `{"failures":1,"recovered":0,"unrecovered":1,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":1,"rate":0,"level":null}`,
		},
		{
			name: "a fix rolled forward during an incident is rework; the next one is not",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d0), ok("run:2", "s2", d0.Add(h(2))), ok("run:3", "s3", d0.Add(h(2.5))),
			}, []record.Incident{incident(7, d0.Add(h(1)), tp(d0.Add(h(3))))}),
			// The incident is attributed to s1 (an hour before it), and recovers at its close.
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":10800,"mean_seconds":10800,"level":"high"}`,
			rework:   `{"rework":1,"successful":3,"rate":0.3333,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				if r := c.Detail.Rework; len(r) != 1 || r[0].SHA != "s2" || !slices.Equal(r[0].DuringIncidents, []int{7}) || r[0].AfterFailed != nil {
					t.Errorf("rework %+v", r)
				}
			},
		},
		{
			name: "a deployment exactly at the incident's close is rework; one at its start is not",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d0.Add(h(1))), ok("run:2", "s2", d0.Add(h(3))),
			}, []record.Incident{{Number: 7, CreatedAt: d0.Add(h(1)), ClosedAt: tp(d0.Add(h(3))), CausedBy: "0000000"}}),
			// s1 at the start: the time rule attributes the incident to it (at or before the start).
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":7200,"mean_seconds":7200,"level":"high"}`,
			rework:   `{"rework":1,"successful":2,"rate":0.5,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				if r := c.Detail.Rework; len(r) != 1 || r[0].SHA != "s2" {
					t.Errorf("rework %+v", r)
				}
			},
		},
		{
			name: "the first deployment after a closed incident is not rework",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", d0.Add(h(4))),
			}, []record.Incident{incident(7, d0.Add(h(1)), tp(d0.Add(h(3))))}),
			recovery: `{"failures":0,"recovered":0,"unrecovered":0,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":1,"rate":0,"level":null}`,
		},
		{
			name: "an open incident counts up to now",
			in: product("a", []record.Deployment{
				ok("run:1", "s1", at(3)),
			}, []record.Incident{incident(7, at(5), nil)}),
			recovery: `{"failures":0,"recovered":0,"unrecovered":0,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":1,"successful":1,"rate":1,"level":null}`,
		},
		{
			name: "a deployment that is rework for two reasons counts once",
			in: product("a", []record.Deployment{
				failed("run:1", "s1", d0.Add(h(2))), ok("run:2", "s2", d0.Add(h(3))),
			}, []record.Incident{incident(7, d0.Add(h(1)), tp(d0.Add(h(4)))), incident(8, d0.Add(h(1.5)), nil)}),
			// The incidents are attributed to no successful deployment: no incident failure.
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":3600,"mean_seconds":3600,"level":"elite"}`,
			rework:   `{"rework":1,"successful":1,"rate":1,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				r := c.Detail.Rework
				if len(r) != 1 || !slices.Equal(r[0].AfterFailed, []string{"s1"}) || !slices.Equal(r[0].DuringIncidents, []int{7, 8}) {
					t.Errorf("rework %+v", r)
				}
			},
		},
		{
			name: "a failed deployment and an incident deployment are two failures; median of both",
			in: product("a", []record.Deployment{
				failed("run:1", "s1", d0), ok("run:2", "s2", d0.Add(h(1))),
			}, []record.Incident{incident(7, d0.Add(h(2)), tp(d0.Add(h(6))))}),
			// s1 recovers in 1 h; s2 (the incident's deployment) in 5 h; median 3 h.
			recovery: `{"failures":2,"recovered":2,"unrecovered":0,"median_seconds":10800,"mean_seconds":10800,"level":"high"}`,
			rework:   `{"rework":1,"successful":1,"rate":1,"level":null}`,
		},
		{
			name: "not_planned incidents make neither failures nor rework",
			in: product("a", []record.Deployment{ok("run:1", "s1", d0), ok("run:2", "s2", d0.Add(h(2)))}, []record.Incident{
				{Number: 1, CreatedAt: d0.Add(h(1)), ClosedAt: tp(d0.Add(h(3))), StateReason: "not_planned"},
			}),
			recovery: `{"failures":0,"recovered":0,"unrecovered":0,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":2,"rate":0,"level":null}`,
		},
		{
			name: "windows: a failure counts in the window of its time; its recovery may come later",
			in: product("a", []record.Deployment{
				failed("run:1", "s1", at(30).Add(-time.Second)), // previous window
				failed("run:3", "s3", at(30)),                   // exactly at now−W: current window
				ok("run:2", "s2", at(29)),                       // recovers both, and is rework (once), in the current window
				ok("run:4", "s4", at(28)),
			}, nil),
			recovery: `{"failures":1,"recovered":1,"unrecovered":0,"median_seconds":86400,"mean_seconds":86400,"level":"high"}`,
			rework:   `{"rework":1,"successful":2,"rate":0.5,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				p := c.Previous.FailedDeploymentRecoveryTime
				if p.Failures != 1 || p.Recovered != 1 || *p.MedianSeconds != 86401 {
					t.Errorf("previous %s", js(p))
				}
				if got := js(c.Previous.ReworkRate); got != `{"rework":0,"successful":0,"rate":null,"level":null}` {
					t.Errorf("previous rework %s", got)
				}
			},
		},
		{
			name:     "a previous window's failure still unrecovered at now is unrecovered there too",
			in:       product("a", []record.Deployment{failed("run:1", "s1", at(40))}, nil),
			recovery: `{"failures":0,"recovered":0,"unrecovered":0,"median_seconds":null,"mean_seconds":null,"level":null}`,
			rework:   `{"rework":0,"successful":0,"rate":null,"level":null}`,
			check: func(t *testing.T, c Comparison) {
				if p := c.Previous.FailedDeploymentRecoveryTime; p.Failures != 1 || p.Unrecovered != 1 {
					t.Errorf("previous %s", js(p))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ProductFigures(cfg(), tc.in, now)
			if got := js(c.Current.FailedDeploymentRecoveryTime); got != tc.recovery {
				t.Errorf("recovery\ngot  %s\nwant %s", got, tc.recovery)
			}
			if got := js(c.Current.ReworkRate); got != tc.rework {
				t.Errorf("rework\ngot  %s\nwant %s", got, tc.rework)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestRecoveryAndReworkPooled(t *testing.T) {
	h := func(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }
	d0 := at(10)
	// a: one failure recovered in 1 h, one unrecovered; 2 successful, 1 rework.
	a := product("a", []record.Deployment{
		failed("run:1", "a1", d0), ok("run:2", "a2", d0.Add(h(1))), ok("run:3", "a3", d0.Add(h(2))), failed("run:4", "a4", d0.Add(h(3))),
	}, nil)
	// b: failures recovered in 2 h and 10 h; 4 successful, 2 rework.
	b := product("b", []record.Deployment{
		failed("run:1", "b1", d0), ok("run:2", "b2", d0.Add(h(2))),
		failed("run:3", "b3", d0.Add(h(5))), ok("run:4", "b4", d0.Add(h(15))),
		ok("run:5", "b5", d0.Add(h(16))), ok("run:6", "b6", d0.Add(h(17))),
	}, nil)
	c := product("c", nil, nil)
	r := Compute(cfg(), []Input{a, b, c}, now)
	p := r.Portfolio.Current
	// Pooled median of 1 h, 2 h, 10 h is 2 h (the median of the products' medians, 1 h and 6 h, would be 3.5 h).
	if got := js(p.FailedDeploymentRecoveryTime); got != `{"failures":4,"recovered":3,"unrecovered":1,"median_seconds":7200,"mean_seconds":15600,"level":"high"}` {
		t.Errorf("recovery %s", got)
	}
	// 3 of 6, not the mean of 1/2 and 2/4 and nothing.
	if got := js(p.ReworkRate); got != `{"rework":3,"successful":6,"rate":0.5,"level":null}` {
		t.Errorf("rework %s", got)
	}
	d := r.Portfolio.Detail
	if len(d.Failures) != 4 || d.Failures[0].Product != "b" || d.Failures[0].SHA != "b3" || d.Failures[1].SHA != "a4" || len(d.Rework) != 3 || d.Rework[0].SHA != "b4" {
		t.Errorf("pooled detail %+v", d)
	}
	// The weekly series pools the same way.
	ws := Weekly(cfg(), []Input{a, b, c}, now)
	var failures, rework int
	for _, f := range ws.Portfolio {
		failures += f.FailedDeploymentRecoveryTime.Failures
		rework += f.ReworkRate.Rework
	}
	if failures != 4 || rework != 3 {
		t.Errorf("weekly: %d failures, %d rework; want 4 and 3", failures, rework)
	}
}

func TestRecoveryTrend(t *testing.T) {
	h := func(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }
	// Previous window: recovered in 10 h, rework 1 of 1. Current: recovered in 1 h, rework 1 of 4.
	deps := []record.Deployment{
		failed("run:1", "s1", at(40)), ok("run:2", "s2", at(40).Add(h(10))),
		failed("run:3", "s3", at(10)), ok("run:4", "s4", at(10).Add(h(1))),
		ok("run:5", "s5", at(5)), ok("run:6", "s6", at(4)), ok("run:7", "s7", at(3)),
	}
	c := ProductFigures(cfg(), product("a", deps, nil), now)
	if c.Trend.FailedDeploymentRecoveryTime != Improving || c.Trend.ReworkRate != Improving {
		t.Errorf("trend %+v", c.Trend)
	}
	// Swapped, both decline.
	for i := range deps {
		deps[i].Time = deps[i].Time.Add(-30 * 24 * time.Hour)
	}
	deps = append(deps, failed("run:8", "s8", at(12)), ok("run:9", "s9", at(12).Add(h(10))))
	c = ProductFigures(cfg(), product("a", deps, nil), now)
	if c.Trend.FailedDeploymentRecoveryTime != Declining || c.Trend.ReworkRate != Declining {
		t.Errorf("swapped trend %+v (current %s, previous %s)", c.Trend, js(c.Current.ReworkRate), js(c.Previous.ReworkRate))
	}
}

func TestRecoveryLevelsFollowTimeToRestoreBands(t *testing.T) {
	c := cfg()
	c.Levels.TimeToRestore.Elite = 7200 // 2 h
	deps := []record.Deployment{failed("run:1", "s1", at(10)), ok("run:2", "s2", at(10).Add(2*time.Hour))}
	f := ProductFigures(c, product("a", deps, nil), now).Current.FailedDeploymentRecoveryTime
	if f.Level == nil || *f.Level != Elite {
		t.Errorf("2 h against a configured 2 h elite bar: %s", js(f))
	}
}

func ExampleCompute_recovery() {
	deps := []record.Deployment{
		ok("run:1", "s1", at(10)), failed("run:2", "s2", at(9)), ok("run:3", "s3", at(9).Add(90*time.Minute)),
	}
	r := Compute(cfg(), []Input{product("a", deps, nil)}, now)
	fmt.Println(js(r.Portfolio.Current.FailedDeploymentRecoveryTime))
	fmt.Println(js(r.Portfolio.Current.ReworkRate))
	// Output:
	// {"failures":1,"recovered":1,"unrecovered":0,"median_seconds":5400,"mean_seconds":5400,"level":"high"}
	// {"rework":1,"successful":2,"rate":0.5,"level":null}
}
