package alert

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
)

var t0 = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// tick is one scripted evaluation.
type tick struct {
	after time.Duration // since the previous tick; default 15 minutes
	// obs are the rules' verdicts this tick; nil reports nothing (every alert's subject recovered).
	obs     []Observation
	acks    map[string]bool
	fail    []string // channels whose sends fail this tick
	product *config.Product

	want     string   // status of the scenario's alert after the tick; "" for not in the state
	wantSent []string // "channel:kind" delivered this tick, sorted
	wantOwed []string // "channel:kind" that failed this tick, sorted
}

func product(id string) config.Product {
	p := config.Product{ID: id, Name: strings.ToUpper(id[:1]) + id[1:]}
	p.AlertingConfig = config.AlertingConfig{UptimeThreshold: 99.5, ErrorRateThreshold: 1, ResponseTimeThreshold: 1000,
		FailureThreshold: 2, SuccessThreshold: 2}
	return p
}

func testRoutes() []Route {
	return []Route{
		{Channel: ChannelGitHubIssues, Severities: []string{Critical}, RepeatInterval: 4 * time.Hour, SendResolved: true},
		{Channel: ChannelPagerDuty, Severities: []string{Critical}, RepeatInterval: 4 * time.Hour, SendResolved: true},
		{Channel: ChannelSlack, RepeatInterval: 4 * time.Hour, SendResolved: true},
	}
}

// observation makes a scripted verdict for product "api".
func observation(rule, severity string, breach bool, fireAfter int) Observation {
	return Observation{Product: "api", Rule: rule, Severity: severity, Breach: breach, Value: 1, Threshold: 1,
		FireAfter: fireAfter, ResolveAfter: 2, Summary: fmt.Sprintf("%s breach=%v", rule, breach)}
}

func errRate(breach bool) []Observation {
	return []Observation{observation(RuleErrorRate, Warning, breach, 2)}
}

func probeDown(breach bool) []Observation {
	return []Observation{observation(RuleProbeDown, Critical, breach, 1)}
}

func noData(rule, severity string) []Observation {
	o := observation(rule, severity, false, 2)
	o.NoData = true
	return []Observation{o}
}

// play runs the ticks through evaluate, delivering each notification (or failing it) as Run
// does, and checks the alert's status and what was sent after each tick.
func play(t *testing.T, routes []Route, fp string, ticks []tick) State {
	t.Helper()
	var st State
	now := t0
	p := product("api")
	for i, tk := range ticks {
		if i > 0 {
			d := tk.after
			if d == 0 {
				d = 15 * time.Minute
			}
			now = now.Add(d)
		}
		if tk.product != nil {
			p = *tk.product
		}
		obs := tk.obs
		rules := func(in ProductInput, _ time.Time) []Observation {
			if in.Product.ID != "api" {
				return nil
			}
			return obs
		}
		in := Input{Products: []ProductInput{{Product: p}}, Routes: routes, Acks: tk.acks, SiteURL: "https://status.example.com"}
		if p.ID != "api" {
			in.Products = []ProductInput{{Product: p}}
		}
		next, notes := evaluate(st, in, now, rules)
		var sent, owed []string
		for _, n := range notes {
			key := n.Channel + ":" + n.Kind
			if slices.Contains(tk.fail, n.Channel) {
				Record(&next, n, Receipt{}, errors.New(n.Channel+" is down"), now)
				owed = append(owed, key)
				continue
			}
			Record(&next, n, Receipt{MessageID: "m-" + n.Alert.Fingerprint, IssueNumber: 7, DedupKey: n.Alert.Fingerprint}, nil, now)
			sent = append(sent, key)
		}
		slices.Sort(sent)
		slices.Sort(owed)
		got := ""
		if a, ok := next.Find(fp); ok {
			got = a.Status
		}
		if got != tk.want {
			t.Errorf("tick %d (%s): status %q, want %q", i, now.Format("15:04"), got, tk.want)
		}
		if !slices.Equal(sent, tk.wantSent) {
			t.Errorf("tick %d (%s): sent %v, want %v", i, now.Format("15:04"), sent, tk.wantSent)
		}
		if !slices.Equal(owed, tk.wantOwed) {
			t.Errorf("tick %d (%s): failed %v, want %v", i, now.Format("15:04"), owed, tk.wantOwed)
		}
		st = next
	}
	return st
}

func TestStateMachine(t *testing.T) {
	errFP := Fingerprint("api", RuleErrorRate, "")
	probeFP := Fingerprint("api", RuleProbeDown, "")
	srcFP := Fingerprint("api", RuleSourceFailing, "github")
	depFP := Fingerprint("api", RuleDeployment, "run:1")
	all3 := func(kind string) []string {
		return []string{"github_issues:" + kind, "pagerduty:" + kind, "slack:" + kind}
	}
	gone := product("web")
	uptimeFP := Fingerprint("api", RuleUptime, "")
	outage := func(down, uptime bool) []Observation {
		return append(probeDown(down), observation(RuleUptime, Critical, uptime, 2))
	}

	tests := []struct {
		name   string
		routes []Route
		fp     string
		ticks  []tick
	}{
		{name: "a warning fires after failure_threshold breaches and is sent once", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: errRate(true), want: Firing},
			{obs: errRate(true), want: Firing},
		}},
		{name: "flapping input never fires", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(false), want: ""},
			{obs: errRate(true), want: Pending},
			{obs: errRate(false), want: ""},
			{obs: errRate(true), want: Pending},
			{obs: errRate(false), want: ""},
		}},
		{name: "flapping while firing does not resolve", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: errRate(false), want: Firing},
			{obs: errRate(true), want: Firing},
			{obs: errRate(false), want: Firing},
			{obs: errRate(true), want: Firing},
		}},
		{name: "resolves after success_threshold recoveries and says so once", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: errRate(false), want: Firing},
			{obs: errRate(false), want: Resolved, wantSent: []string{"slack:resolved"}},
			{obs: errRate(false), want: Resolved},
		}},
		{name: "send_resolved false keeps quiet on recovery", fp: errFP,
			routes: []Route{{Channel: ChannelSlack, RepeatInterval: 4 * time.Hour, SendResolved: false}},
			ticks: []tick{
				{obs: errRate(true), want: Pending},
				{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
				{obs: errRate(false), want: Firing},
				{obs: errRate(false), want: Resolved},
			}},
		{name: "no data holds a firing alert", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: noData(RuleErrorRate, Warning), want: Firing},
			{obs: noData(RuleErrorRate, Warning), want: Firing},
			{obs: noData(RuleErrorRate, Warning), want: Firing},
		}},
		{name: "a critical outage pages every channel at once", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(true), want: Firing},
		}},
		{name: "an unacknowledged critical repeats every repeat_interval, not before", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(true), after: 4*time.Hour - time.Second, want: Firing},
			{obs: probeDown(true), after: time.Second, want: Firing, wantSent: all3("repeat")},
			{obs: probeDown(true), after: 15 * time.Minute, want: Firing},
			{obs: probeDown(true), after: 4 * time.Hour, want: Firing, wantSent: all3("repeat")},
		}},
		{name: "an acknowledged critical stops repeating and still resolves", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(true), acks: map[string]bool{probeFP: true}, want: Firing},
			{obs: probeDown(true), after: 4 * time.Hour, want: Firing},
			{obs: probeDown(false), want: Firing},
			{obs: probeDown(false), want: Resolved, wantSent: all3("resolved")},
		}},
		{name: "an acknowledgement taken back starts the repeats again", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(true), acks: map[string]bool{probeFP: true}, want: Firing},
			{obs: probeDown(true), after: 4 * time.Hour, acks: map[string]bool{probeFP: false}, want: Firing, wantSent: all3("repeat")},
		}},
		{name: "a warning never repeats", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: errRate(true), after: 24 * time.Hour, want: Firing},
		}},
		{name: "a failed send is retried next run on that channel only", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), fail: []string{ChannelSlack}, want: Firing,
				wantSent: []string{"github_issues:firing", "pagerduty:firing"}, wantOwed: []string{"slack:firing"}},
			{obs: probeDown(true), fail: []string{ChannelSlack}, want: Firing, wantOwed: []string{"slack:firing"}},
			{obs: probeDown(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: probeDown(true), want: Firing},
		}},
		{name: "a resolve is not sent where the firing never arrived", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), fail: []string{ChannelSlack}, want: Firing,
				wantSent: []string{"github_issues:firing", "pagerduty:firing"}, wantOwed: []string{"slack:firing"}},
			{obs: probeDown(false), fail: []string{ChannelSlack}, want: Firing, wantOwed: []string{"slack:firing"}},
			{obs: probeDown(false), want: Resolved, wantSent: []string{"github_issues:resolved", "pagerduty:resolved"}},
		}},
		{name: "a failed resolve is retried", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(false), want: Firing},
			{obs: probeDown(false), fail: []string{ChannelPagerDuty}, want: Resolved,
				wantSent: []string{"github_issues:resolved", "slack:resolved"}, wantOwed: []string{"pagerduty:resolved"}},
			{obs: probeDown(false), want: Resolved, wantSent: []string{"pagerduty:resolved"}},
			{obs: probeDown(false), want: Resolved},
		}},
		{name: "firing again after a resolve is a new episode, notified again", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(false), want: Firing},
			{obs: probeDown(false), want: Resolved, wantSent: all3("resolved")},
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
		}},
		{name: "a failing data source warns and recovers when it is no longer reported", fp: srcFP, ticks: []tick{
			{obs: []Observation{{Product: "api", Rule: RuleSourceFailing, Subject: "github", Severity: Warning, Breach: true,
				Value: 4, Threshold: 4, FireAfter: 1, ResolveAfter: 2}}, want: Firing, wantSent: []string{"slack:firing"}},
			{obs: nil, want: Firing},
			{obs: nil, want: Resolved, wantSent: []string{"slack:resolved"}},
		}},
		{name: "a deployment is told once and leaves quietly", fp: depFP, ticks: []tick{
			{obs: []Observation{{Product: "api", Rule: RuleDeployment, Subject: "run:1", Severity: Info, Breach: true,
				FireAfter: 1, ResolveAfter: 1, Event: true}}, want: Firing, wantSent: []string{"slack:firing"}},
			{obs: []Observation{{Product: "api", Rule: RuleDeployment, Subject: "run:1", Severity: Info, Breach: true,
				FireAfter: 1, ResolveAfter: 1, Event: true}}, want: Firing},
			{obs: nil, want: ""},
		}},
		{name: "a product removed from the config resolves at once", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), want: Firing, wantSent: all3("firing")},
			{product: &gone, want: Resolved, wantSent: all3("resolved")},
		}},
		{name: "an outage silences the availability alerts it explains until it resolves", fp: uptimeFP, ticks: []tick{
			{obs: outage(true, true), want: Pending, wantSent: all3("firing")},
			{obs: outage(true, true), want: Firing},
			{obs: outage(false, true), want: Firing},
			// The outage resolves; the 24-hour uptime is still under the objective, but the
			// outage was paged: only its resolve goes out.
			{obs: outage(false, true), want: Firing, wantSent: all3("resolved")},
			{obs: outage(false, true), want: Firing},
			{obs: outage(false, false), want: Firing},
			{obs: outage(false, false), want: Resolved}, // never notified, so no resolve either
		}},
		{name: "an uptime breach without an outage (a leak) pages", fp: uptimeFP, ticks: []tick{
			{obs: outage(false, true), want: Pending},
			{obs: outage(false, true), want: Firing, wantSent: all3("firing")},
		}},
		{name: "a resolved alert is forgotten after a week", fp: errFP, ticks: []tick{
			{obs: errRate(true), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
			{obs: errRate(false), want: Firing},
			{obs: errRate(false), want: Resolved, wantSent: []string{"slack:resolved"}},
			{obs: errRate(false), after: ResolvedRetention - time.Minute, want: Resolved},
			{obs: errRate(false), after: time.Minute, want: ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := tt.routes
			if routes == nil {
				routes = testRoutes()
			}
			play(t, routes, tt.fp, tt.ticks)
		})
	}
}

func TestEvaluateRecordsTransitionsAndReferences(t *testing.T) {
	fp := Fingerprint("api", RuleProbeDown, "")
	st := play(t, testRoutes(), fp, []tick{
		{obs: probeDown(true), want: Firing, wantSent: []string{"github_issues:firing", "pagerduty:firing", "slack:firing"}},
		{obs: probeDown(false), want: Firing},
		{obs: probeDown(false), want: Resolved, wantSent: []string{"github_issues:resolved", "pagerduty:resolved", "slack:resolved"}},
	})
	var got []string
	for _, tr := range st.Transitions {
		got = append(got, tr.From+"→"+tr.To)
	}
	if want := []string{"→firing", "firing→resolved"}; !slices.Equal(got, want) {
		t.Errorf("transitions %v, want %v", got, want)
	}
	a, _ := st.Find(fp)
	if d := a.Deliveries[ChannelGitHubIssues]; d.IssueNumber != 7 || d.State != Resolved || !d.Episode.Equal(t0) {
		t.Errorf("github delivery %+v: want issue 7, resolved, episode %s", d, t0)
	}
	if d := a.Deliveries[ChannelPagerDuty]; d.DedupKey != fp {
		t.Errorf("pagerduty dedup key %q, want the fingerprint %q", d.DedupKey, fp)
	}
	if a.FiringSince != t0 || a.ResolvedAt != t0.Add(30*time.Minute) {
		t.Errorf("firing since %s resolved at %s", a.FiringSince, a.ResolvedAt)
	}
}

func TestTransitionsKeptNinetyDays(t *testing.T) {
	old := Transition{At: t0.Add(-TransitionRetention), Fingerprint: "a", To: Firing}
	recent := Transition{At: t0.Add(-TransitionRetention + time.Second), Fingerprint: "b", To: Firing}
	next, _ := Evaluate(State{Transitions: []Transition{old, recent}}, Input{}, t0)
	if len(next.Transitions) != 1 || next.Transitions[0].Fingerprint != "b" {
		t.Errorf("transitions %+v: want only the one younger than 90 days", next.Transitions)
	}
}

func TestRoutesFromConfig(t *testing.T) {
	no := false
	rs, err := Routes(config.NotificationChannels{
		Slack:        &config.SlackChannel{Route: config.Route{RepeatInterval: "1h", SendResolved: &no}},
		PagerDuty:    &config.PagerDutyChannel{Route: config.Route{Severities: []string{Critical, Warning}}},
		GitHubIssues: &config.GitHubIssuesChannel{Repository: "acme/ops"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Channel: ChannelGitHubIssues, Severities: []string{Critical}, RepeatInterval: 4 * time.Hour, SendResolved: true},
		{Channel: ChannelPagerDuty, Severities: []string{Critical, Warning}, RepeatInterval: 4 * time.Hour, SendResolved: true},
		{Channel: ChannelSlack, RepeatInterval: time.Hour, SendResolved: false},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Errorf("routes\n got %+v\nwant %+v", rs, want)
	}
	if _, err := Routes(config.NotificationChannels{Slack: &config.SlackChannel{Route: config.Route{RepeatInterval: "often"}}}); err == nil {
		t.Error("a bad repeat_interval: want an error")
	}
}

func TestRouteFiltersProducts(t *testing.T) {
	r := Route{Channel: ChannelSlack, Products: []string{"web"}, Severities: []string{Warning}}
	for _, tc := range []struct {
		a    Alert
		want bool
	}{
		{Alert{Product: "web", Severity: Warning}, true},
		{Alert{Product: "api", Severity: Warning}, false},
		{Alert{Product: "web", Severity: Critical}, false},
	} {
		if got := r.Matches(tc.a); got != tc.want {
			t.Errorf("Matches(%s %s) = %v, want %v", tc.a.Product, tc.a.Severity, got, tc.want)
		}
	}
}

func TestRecordLeavesThePreviousStateAlone(t *testing.T) {
	in := Input{Products: []ProductInput{{Product: product("api")}}, Routes: testRoutes()}
	rules := func(ProductInput, time.Time) []Observation { return probeDown(true) }
	first, notes := evaluate(State{}, in, t0, rules)
	for _, n := range notes {
		Record(&first, n, Receipt{}, nil, t0)
	}
	before := fmt.Sprint(first.Alerts[0].Deliveries)
	second, notes := evaluate(first, in, t0.Add(4*time.Hour), rules)
	for _, n := range notes {
		Record(&second, n, Receipt{}, errors.New("down"), t0.Add(4*time.Hour))
	}
	if got := fmt.Sprint(first.Alerts[0].Deliveries); got != before {
		t.Errorf("recording into the next state changed the previous one:\n%s\n%s", before, got)
	}
}

// TestMaintenanceMutes: during a product's maintenance window its alerts move through their
// states as usual, marked muted, and notify nothing; what they owe is sent once it closes.
func TestMaintenanceMutes(t *testing.T) {
	errFP := Fingerprint("api", RuleErrorRate, "")
	probeFP := Fingerprint("api", RuleProbeDown, "")
	window := func(from, to time.Duration) *config.Product {
		p := product("api")
		p.Maintenance = []config.Maintenance{{Start: t0.Add(from).Format(time.RFC3339), End: t0.Add(to).Format(time.RFC3339), Summary: "database upgrade"}}
		return &p
	}
	all3 := func(kind string) []string {
		return []string{"github_issues:" + kind, "pagerduty:" + kind, "slack:" + kind}
	}
	tests := []struct {
		name  string
		fp    string
		ticks []tick
	}{
		{name: "an alert that fires in the window is told when it closes, if still firing", fp: errFP, ticks: []tick{
			{obs: errRate(true), product: window(0, time.Hour), want: Pending},
			{obs: errRate(true), want: Firing},
			{obs: errRate(true), want: Firing},
			{obs: errRate(true), want: Firing},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}}, // t0+1h: the window is over
		}},
		{name: "an outage that pages in the window pages no one", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), product: window(0, time.Hour), want: Firing},
			{obs: probeDown(false), want: Firing},
			{obs: probeDown(false), want: Resolved},
			{obs: probeDown(false), want: Resolved},
			{obs: probeDown(false), want: Resolved}, // the window closed: nothing owed, nothing sent
		}},
		{name: "an alert told before the window resolves in it: the resolve waits for its end", fp: probeFP, ticks: []tick{
			{obs: probeDown(true), product: window(15*time.Minute, time.Hour), want: Firing, wantSent: all3("firing")},
			{obs: probeDown(false), want: Firing},
			{obs: probeDown(false), want: Resolved},
			{obs: probeDown(false), want: Resolved},
			{obs: probeDown(false), want: Resolved, wantSent: all3("resolved")},
		}},
		{name: "a window in the future mutes nothing", fp: errFP, ticks: []tick{
			{obs: errRate(true), product: window(2*time.Hour, 3*time.Hour), want: Pending},
			{obs: errRate(true), want: Firing, wantSent: []string{"slack:firing"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			play(t, testRoutes(), tt.fp, tt.ticks)
		})
	}

	// The state says why it is quiet: the alerts page shows "muted: maintenance".
	in := Input{Products: []ProductInput{{Product: *window(-time.Hour, time.Hour)}}, Routes: testRoutes()}
	st, notes := evaluate(State{}, in, t0, func(ProductInput, time.Time) []Observation { return probeDown(true) })
	if a, _ := st.Find(probeFP); a.Status != Firing || a.Muted != MutedMaintenance || len(notes) != 0 {
		t.Errorf("in the window: status %q muted %q with %d notifications; want firing, muted: maintenance, none", a.Status, a.Muted, len(notes))
	}
	st, notes = evaluate(st, in, t0.Add(time.Hour), func(ProductInput, time.Time) []Observation { return probeDown(true) })
	if a, _ := st.Find(probeFP); a.Muted != "" || len(notes) != 3 {
		t.Errorf("at the window's end: muted %q with %d notifications; want unmuted and all three channels told", a.Muted, len(notes))
	}
}
