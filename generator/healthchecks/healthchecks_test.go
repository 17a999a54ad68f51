package healthchecks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/healthchecks"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	zoneA    = "023e105f4ecef8ad9ca31a8372d0c353"
	zoneB    = "372e67954025e0ba6aaa6d586b9e0b59"
	slackURL = "https://hooks.slack.com/services/T0001/B0002/secretXYZsecretXYZ"
)

// testConfig is a portfolio of four products: two that get a health check (one with
// overrides, on http with a port and a base path), one without a health endpoint and one
// with its health check disabled.
func testConfig() *config.Config {
	cfg := &config.Config{
		Products: []config.Product{
			{ID: "shop", URL: "https://shop.example.com", HealthEndpoint: "/healthz", Cloudflare: config.Cloudflare{ZoneID: zoneA}},
			{ID: "pay", URL: "http://api.pay.example.com:8080/v1/", HealthEndpoint: "/health", Cloudflare: config.Cloudflare{ZoneID: zoneB},
				HealthCheck: config.HealthCheck{Interval: 30, Retries: 1, ExpectedCodes: []string{"2xx"}, CheckRegions: []string{"EEU", "WNAM"}}},
			{ID: "docs", URL: "https://docs.example.com", Cloudflare: config.Cloudflare{ZoneID: zoneA}},
			{ID: "blog", URL: "https://blog.example.com", HealthEndpoint: "/up", Cloudflare: config.Cloudflare{ZoneID: zoneA},
				HealthCheck: config.HealthCheck{Disabled: true}},
		},
		NotificationChannels: config.NotificationChannels{
			Email: &config.EmailChannel{Recipients: []string{"ops@example.com", "oncall@example.com"}},
		},
	}
	cfg.ApplyDefaults()
	return cfg
}

type world struct {
	t      *testing.T
	f      *fake.CloudflareHealthchecks
	client *healthchecks.Client
	cfg    *config.Config
	slack  string // the Slack webhook env var's value
	waits  []time.Duration
}

// sleep records a wait between retries instead of sleeping.
func (w *world) sleep(ctx context.Context, d time.Duration) error {
	w.waits = append(w.waits, d)
	return ctx.Err()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := fake.NewCloudflareHealthchecks(t)
	w := &world{t: t, f: f, cfg: testConfig()}
	w.connect(slackURL)
	w.slack = ""
	return w
}

// connect makes the client, redacting secret.
func (w *world) connect(secret string) {
	w.t.Helper()
	c, err := healthchecks.New(healthchecks.Options{Token: w.f.Token, AccountID: w.f.Account, BaseURL: w.f.URL,
		Sleep: w.sleep, Redactor: redact.Of(secret)}, w.f.Server.Client(), nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.client = c
}

func (w *world) plan() *healthchecks.Plan {
	w.t.Helper()
	p, err := w.tryPlan()
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) tryPlan() (*healthchecks.Plan, error) {
	d, err := healthchecks.DesiredState(w.cfg, w.slack)
	if err != nil {
		return nil, err
	}
	r, err := w.client.Read(context.Background(), d.Zones)
	if err != nil {
		return nil, err
	}
	return healthchecks.Compute(d, r), nil
}

// apply plans and applies, returning the printed steps and summary.
func (w *world) apply() (healthchecks.Report, string, error) {
	w.t.Helper()
	p := w.plan()
	var out bytes.Buffer
	rep, err := healthchecks.Apply(context.Background(), w.client, p, func(st healthchecks.Step) { healthchecks.WriteStep(&out, st) })
	rep.WriteSummary(&out)
	return rep, out.String(), err
}

func (w *world) mustApply() {
	w.t.Helper()
	if _, out, err := w.apply(); err != nil {
		w.t.Fatalf("apply: %v\n%s", err, out)
	}
}

func (w *world) check(zone, name string) cf.Healthcheck {
	w.t.Helper()
	for _, hc := range w.f.Healthchecks(zone) {
		if hc.Name == name {
			return hc
		}
	}
	w.t.Fatalf("no health check %s in zone %s", name, zone)
	return cf.Healthcheck{}
}

func (w *world) policy(name string) cf.NotificationPolicy {
	w.t.Helper()
	for _, p := range w.f.Policies() {
		if p.Name == name {
			return p
		}
	}
	w.t.Fatalf("no policy %s", name)
	return cf.NotificationPolicy{}
}

func text(t *testing.T, p *healthchecks.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/healthchecks -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update and read the diff):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestName(t *testing.T) {
	if got := healthchecks.Name("payments-api"); got != "portfolio-payments-api" {
		t.Errorf("Name = %q", got)
	}
}

func TestPlanOnEmptyZone(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	if p.InSync() {
		t.Fatal("plan on an empty zone is in sync")
	}
	if p.Summary != (healthchecks.Summary{Create: 4}) {
		t.Errorf("summary %+v, want 4 creates (2 checks, 2 policies)", p.Summary)
	}
	golden(t, "plan_empty.txt", text(t, p))
	var b bytes.Buffer
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_empty.json", b.String())
	if n := len(w.f.Mutations()); n != 0 {
		t.Errorf("plan made %d mutating calls", n)
	}
}

func TestPlanJSONIsStable(t *testing.T) {
	w := newWorld(t)
	var a, b bytes.Buffer
	w.plan().WriteJSON(&a)
	w.plan().WriteJSON(&b)
	if a.String() != b.String() {
		t.Error("two plans of the same state differ")
	}
	var v map[string]any
	if err := json.Unmarshal(a.Bytes(), &v); err != nil {
		t.Fatalf("plan JSON does not parse: %v", err)
	}
}

func TestApplyCreatesWhatThePlanSays(t *testing.T) {
	w := newWorld(t)
	_, out, err := w.apply()
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	shop := w.check(zoneA, "portfolio-shop")
	want := cf.Healthcheck{Name: "portfolio-shop", Description: "managed by portfolio (product shop); do not edit",
		Address: "shop.example.com", Type: "HTTPS", Interval: 60, Retries: 2, Timeout: 5, CheckRegions: []string{"ENAM", "WEU"},
		HTTPConfig: &cf.HealthcheckHTTPConfig{Method: "GET", Port: 443, Path: "/healthz", ExpectedCodes: []string{"200"}}}
	assertCheck(t, shop, want)
	pay := w.check(zoneB, "portfolio-pay")
	want = cf.Healthcheck{Name: "portfolio-pay", Description: "managed by portfolio (product pay); do not edit",
		Address: "api.pay.example.com", Type: "HTTP", Interval: 30, Retries: 1, Timeout: 5, CheckRegions: []string{"EEU", "WNAM"},
		HTTPConfig: &cf.HealthcheckHTTPConfig{Method: "GET", Port: 8080, Path: "/v1/health", ExpectedCodes: []string{"2xx"}}}
	assertCheck(t, pay, want)
	if got := len(w.f.Healthchecks(zoneA)); got != 1 {
		t.Errorf("zone A has %d checks, want 1 (docs has no endpoint, blog is disabled)", got)
	}
	pol := w.policy("portfolio-shop")
	if pol.AlertType != "health_check_status_notification" || !pol.Enabled ||
		!reflect.DeepEqual(pol.Filters, map[string][]string{"health_check_id": {shop.ID}}) {
		t.Errorf("policy %+v", pol)
	}
	if got := mechIDs(pol.Mechanisms["email"]); !reflect.DeepEqual(got, []string{"oncall@example.com", "ops@example.com"}) {
		t.Errorf("email mechanisms %v", got)
	}
	if !strings.Contains(pol.Description, "managed by portfolio (product shop, zone "+zoneA+")") {
		t.Errorf("policy description %q lacks the marker", pol.Description)
	}
	for _, line := range []string{"+ created healthcheck portfolio-shop (id " + shop.ID + ")", "Apply complete: 4 changes applied."} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

func assertCheck(t *testing.T, got, want cf.Healthcheck) {
	t.Helper()
	got.ID, got.CreatedOn, got.ModifiedOn, got.Status, got.FailureReason = "", nil, nil, "", ""
	got.ConsecutiveFails, got.ConsecutiveSuccesses = 0, 0
	if got.HTTPConfig != nil {
		got.HTTPConfig.Header = nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("health check\n got %+v %+v\nwant %+v %+v", got, got.HTTPConfig, want, want.HTTPConfig)
	}
}

func mechIDs(m cf.NotificationMechanismIntegrations) []string {
	var ids []string
	for _, x := range m {
		ids = append(ids, x.ID)
	}
	return ids
}

func TestApplyTwiceChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.slack = slackURL
	w.cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
	w.mustApply()
	before := len(w.f.Mutations())
	p := w.plan()
	if !p.InSync() {
		t.Fatalf("plan after apply is not in sync:\n%s", text(t, p))
	}
	if !strings.Contains(text(t, p), "No changes: Cloudflare matches portfolio.json (2 managed health checks in 2 zones).") {
		t.Errorf("in-sync plan text:\n%s", text(t, p))
	}
	rep, _, err := w.apply()
	if err != nil || len(rep.Applied) != 0 {
		t.Fatalf("second apply: %v, %d applied", err, len(rep.Applied))
	}
	if got := w.f.Mutations()[before:]; len(got) != 0 {
		t.Errorf("second apply made changing calls: %+v", got)
	}
}

func TestPlanOnDrift(t *testing.T) {
	tests := []struct {
		name  string
		drift func(w *world)
		want  map[string][]healthchecks.Field // change name → the fields it sets
	}{
		{
			name: "interval changed in the dashboard",
			drift: func(w *world) {
				w.f.EditHealthcheck(zoneA, w.check(zoneA, "portfolio-shop").ID, func(m map[string]any) { m["interval"] = 120 })
			},
			want: map[string][]healthchecks.Field{"portfolio-shop": {{Name: "interval", Old: 120, New: 60}}},
		},
		{
			name: "regions, codes and path changed",
			drift: func(w *world) {
				w.f.EditHealthcheck(zoneB, w.check(zoneB, "portfolio-pay").ID, func(m map[string]any) {
					m["check_regions"] = []any{"WNAM"}
					hc := m["http_config"].(map[string]any)
					hc["expected_codes"] = []any{"200", "301"}
					hc["path"] = "/health"
				})
			},
			want: map[string][]healthchecks.Field{"portfolio-pay": {
				{Name: "check_regions", Old: []string{"WNAM"}, New: []string{"EEU", "WNAM"}},
				{Name: "http_config.path", Old: "/health", New: "/v1/health"},
				{Name: "http_config.expected_codes", Old: []string{"200", "301"}, New: []string{"2xx"}},
			}},
		},
		{
			name: "suspended by hand",
			drift: func(w *world) {
				w.f.EditHealthcheck(zoneA, w.check(zoneA, "portfolio-shop").ID, func(m map[string]any) { m["suspended"] = true })
			},
			want: map[string][]healthchecks.Field{"portfolio-shop": {{Name: "suspended", Old: true, New: false}}},
		},
		{
			name: "fields it does not manage are not drift",
			drift: func(w *world) {
				w.f.EditHealthcheck(zoneA, w.check(zoneA, "portfolio-shop").ID, func(m map[string]any) {
					m["consecutive_fails"] = 3
					m["http_config"].(map[string]any)["header"] = map[string]any{"Host": []any{"shop.example.com"}}
				})
			},
			want: map[string][]healthchecks.Field{},
		},
		{
			name: "policy recipient added and policy disabled",
			drift: func(w *world) {
				w.f.EditPolicy(w.policy("portfolio-pay").ID, func(m map[string]any) {
					m["enabled"] = false
					m["mechanisms"].(map[string]any)["email"] = []any{map[string]any{"id": "ops@example.com"}, map[string]any{"id": "intruder@example.com"}}
				})
			},
			want: map[string][]healthchecks.Field{"portfolio-pay": {
				{Name: "enabled", Old: false, New: true},
				{Name: "mechanisms.email", Old: []string{"intruder@example.com", "ops@example.com"}, New: []string{"oncall@example.com", "ops@example.com"}},
			}},
		},
		{
			name: "policy points at another check",
			drift: func(w *world) {
				w.f.EditPolicy(w.policy("portfolio-shop").ID, func(m map[string]any) {
					m["filters"] = map[string]any{"health_check_id": []any{"elsewhere"}, "status": []any{"Unhealthy"}}
				})
			},
			want: map[string][]healthchecks.Field{"portfolio-shop": {
				{Name: "filters.health_check_id", Old: []string{"elsewhere"}, New: []string{"@shop"}},
				{Name: "filters.status", Old: []string{"Unhealthy"}},
			}},
		},
		{
			name: "method and redirects overridden in the config",
			drift: func(w *world) {
				w.cfg.Products[1].HealthCheck.Method = "HEAD"
				w.cfg.Products[1].HealthCheck.FollowRedirects = true
			},
			want: map[string][]healthchecks.Field{"portfolio-pay": {
				{Name: "http_config.method", Old: "GET", New: "HEAD"},
				{Name: "http_config.follow_redirects", Old: false, New: true},
			}},
		},
		{
			name: "config override changed",
			drift: func(w *world) {
				w.cfg.Products[0].HealthCheck.Timeout = 8
				w.cfg.Products[0].HealthCheck.ExpectedCodes = []string{"204", "200"}
			},
			want: map[string][]healthchecks.Field{"portfolio-shop": {
				{Name: "timeout", Old: 5, New: 8},
				{Name: "http_config.expected_codes", Old: []string{"200"}, New: []string{"200", "204"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.mustApply()
			tt.drift(w)
			p := w.plan()
			got := map[string][]healthchecks.Field{}
			for _, c := range p.Changes {
				if c.Action != healthchecks.Update {
					t.Errorf("unexpected %s %s", c.Action, c.Name)
				}
				got[c.Name] = normFields(c.Fields)
			}
			want := map[string][]healthchecks.Field{}
			for name, fs := range tt.want {
				for _, f := range fs {
					if ids, ok := f.New.([]string); ok && len(ids) == 1 && strings.HasPrefix(ids[0], "@") {
						f.New = []string{w.check(zoneA, healthchecks.Name(ids[0][1:])).ID}
					}
					want[name] = append(want[name], f)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("changed fields\n got %v\nwant %v\n%s", got, want, text(t, p))
			}
			if p.InSync() == (len(tt.want) > 0) {
				t.Errorf("InSync = %v", p.InSync())
			}
			// Apply repairs the drift and keeps what it does not manage.
			w.mustApply()
			if p := w.plan(); !p.InSync() {
				t.Errorf("still drifted after apply:\n%s", text(t, p))
			}
			if tt.name == "fields it does not manage are not drift" {
				m := w.f.HealthcheckJSON(zoneA, w.check(zoneA, "portfolio-shop").ID)
				if m["consecutive_fails"] != 3.0 || m["http_config"].(map[string]any)["header"] == nil {
					t.Errorf("unmanaged fields lost: %v", m)
				}
			}
		})
	}
}

// normFields makes field values comparable with literals: JSON numbers as int.
func normFields(fs []healthchecks.Field) []healthchecks.Field {
	out := make([]healthchecks.Field, len(fs))
	for i, f := range fs {
		if n, ok := f.Old.(float64); ok {
			f.Old = int(n)
		}
		out[i] = f
	}
	return out
}

func TestUpdateKeepsUnmanagedFields(t *testing.T) {
	w := newWorld(t)
	w.mustApply()
	id := w.check(zoneA, "portfolio-shop").ID
	w.f.EditHealthcheck(zoneA, id, func(m map[string]any) {
		m["interval"] = 120
		m["consecutive_successes"] = 4
		m["http_config"].(map[string]any)["expected_body"] = "ok"
	})
	w.mustApply()
	m := w.f.HealthcheckJSON(zoneA, id)
	hc := m["http_config"].(map[string]any)
	if m["interval"] != 60.0 || m["consecutive_successes"] != 4.0 || hc["expected_body"] != "ok" {
		t.Errorf("after update: interval %v, consecutive_successes %v, expected_body %v", m["interval"], m["consecutive_successes"], hc["expected_body"])
	}
	muts := w.f.Mutations()
	last := muts[len(muts)-1]
	if last.Method != "PUT" || !strings.HasSuffix(last.Path, "/healthchecks/"+id) {
		t.Errorf("last call %s %s, want PUT of the check", last.Method, last.Path)
	}
}

func TestUnmanagedObjectsAreLeftAlone(t *testing.T) {
	w := newWorld(t)
	legacy := w.f.AddHealthcheck(zoneA, cf.Healthcheck{Name: "legacy-origin", Description: "hand made", Address: "origin.example.com", Interval: 30})
	squatter := w.f.AddHealthcheck(zoneA, cf.Healthcheck{Name: "portfolio-shop", Description: "made by hand before portfolio", Address: "shop.example.com"})
	other := w.f.AddPolicy(cf.NotificationPolicy{Name: "billing", Description: "finance team", Enabled: true, AlertType: "billing_usage_alert",
		Mechanisms: map[string]cf.NotificationMechanismIntegrations{"email": {{ID: "cfo@example.com"}}}})
	hook := w.f.AddWebhook("team-hook", "https://example.com/hook")
	before := snapshot(w, legacy, squatter, other)

	p := w.plan()
	out := text(t, p)
	if len(p.Conflicts) != 1 || p.Conflicts[0].ID != squatter {
		t.Errorf("conflicts %+v, want the unmarked portfolio-shop", p.Conflicts)
	}
	for _, c := range p.Changes {
		if c.Product == "shop" || c.ID == legacy || c.ID == other || c.ID == hook {
			t.Errorf("plan touches %s %s %s", c.Action, c.Kind, c.Name)
		}
	}
	for _, line := range []string{"! healthcheck portfolio-shop (zone " + zoneA + ", id " + squatter + ") has the managed name but not the marker",
		"Left alone (not managed by portfolio): 2 health checks, 1 notification policy, 1 webhook destination.",
		"Plan: 2 to create, 0 to update, 0 to delete; 1 conflict to resolve by hand."} {
		if !strings.Contains(out, line) {
			t.Errorf("plan lacks %q:\n%s", line, out)
		}
	}
	w.mustApply()
	if after := snapshot(w, legacy, squatter, other); after != before {
		t.Errorf("unmanaged objects changed:\n%s\n%s", before, after)
	}
	for _, m := range w.f.Mutations() {
		for _, id := range []string{legacy, squatter, other, hook} {
			if strings.Contains(m.Path, id) {
				t.Errorf("%s %s touches an unmanaged object", m.Method, m.Path)
			}
		}
	}
	if p := w.plan(); len(p.Changes) != 0 || len(p.Conflicts) != 1 {
		t.Errorf("after apply: %d changes, %d conflicts", len(p.Changes), len(p.Conflicts))
	}
}

func snapshot(w *world, checkA1, checkA2, policy string) string {
	b, _ := json.Marshal([]any{w.f.HealthcheckJSON(zoneA, checkA1), w.f.HealthcheckJSON(zoneA, checkA2), w.f.PolicyJSON(policy), w.f.Webhooks()})
	return string(b)
}

func TestRemovedProductIsDeleted(t *testing.T) {
	w := newWorld(t)
	w.mustApply()
	payCheck, payPolicy := w.check(zoneB, "portfolio-pay").ID, w.policy("portfolio-pay").ID
	// pay was the only product in zone B: the zone is still read because its policy names it.
	w.cfg.Products = w.cfg.Products[:1]
	p := w.plan()
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+string(c.Kind)+" "+c.ID)
	}
	want := []string{"delete notification_policy " + payPolicy, "delete healthcheck " + payCheck}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes %v, want %v (policy first)", got, want)
	}
	w.mustApply()
	if n := len(w.f.Healthchecks(zoneB)); n != 0 {
		t.Errorf("zone B still has %d checks", n)
	}
}

func TestDisablingAProductDeletesItsObjects(t *testing.T) {
	w := newWorld(t)
	w.mustApply()
	w.cfg.Products[0].HealthCheck.Disabled = true
	p := w.plan()
	if p.Summary != (healthchecks.Summary{Delete: 2}) {
		t.Errorf("summary %+v, want 2 deletes:\n%s", p.Summary, text(t, p))
	}
}

func TestApplyStopsAtTheFirstFailure(t *testing.T) {
	tests := []struct {
		name        string
		failAt      int
		failure     fake.CloudflareFailure
		wantErr     string
		wantApplied int
		wantChecks  int // in both zones after the failed apply
		wantNot     []string
	}{
		{
			name:    "policy rejected",
			failAt:  3,
			failure: fake.CloudflareFailure{Status: 400, Code: 17000, Message: "invalid mechanism"},
			wantErr: "create notification_policy portfolio-pay: HTTP 400: 17000 invalid mechanism", wantApplied: 2, wantChecks: 2,
			wantNot: []string{"not applied: create notification_policy portfolio-shop (product shop)"},
		},
		{
			name:    "server error on the second check",
			failAt:  2,
			failure: fake.CloudflareFailure{Status: 500, Code: 10500, Message: "internal"},
			wantErr: "create healthcheck portfolio-shop: HTTP 500: 10500 internal", wantApplied: 1, wantChecks: 1,
			wantNot: []string{"not applied: create notification_policy portfolio-pay (product pay)", "not applied: create notification_policy portfolio-shop (product shop)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.f.FailMutation(tt.failAt, tt.failure)
			rep, out, err := w.apply()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if len(rep.Applied) != tt.wantApplied || rep.Failed == nil {
				t.Errorf("applied %d (want %d), failed %v", len(rep.Applied), tt.wantApplied, rep.Failed)
			}
			for _, line := range append([]string{"✗ create", "Apply stopped at the first failure"}, tt.wantNot...) {
				if !strings.Contains(out, line) {
					t.Errorf("output lacks %q:\n%s", line, out)
				}
			}
			// Nothing is claimed that did not happen: every applied step is in Cloudflare, and
			// nothing else is.
			if got := len(w.f.Healthchecks(zoneA)) + len(w.f.Healthchecks(zoneB)); got != tt.wantChecks {
				t.Errorf("%d checks exist, want %d", got, tt.wantChecks)
			}
			if got := len(w.f.Policies()); got != 0 {
				t.Errorf("%d policies exist, want 0", got)
			}
			for _, st := range rep.Applied {
				if st.Change.Kind == healthchecks.KindHealthcheck && w.f.HealthcheckJSON(st.Change.Zone, st.ID) == nil {
					t.Errorf("step claims %s %s (id %s) but it does not exist", st.Change.Action, st.Change.Name, st.ID)
				}
			}
			// Running apply again carries on and finishes.
			w.mustApply()
			if p := w.plan(); !p.InSync() {
				t.Errorf("not in sync after the second apply:\n%s", text(t, p))
			}
		})
	}
}

func TestSlackWebhookDestination(t *testing.T) {
	w := newWorld(t)
	w.cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
	w.slack = slackURL
	p := w.plan()
	var b bytes.Buffer
	p.WriteJSON(&b)
	out := text(t, p) + b.String()
	if strings.Contains(out, "secretXYZ") || strings.Contains(out, "hooks.slack.com") {
		t.Errorf("plan shows the Slack URL:\n%s", out)
	}
	if !strings.Contains(out, "+ webhook_destination "+healthchecks.WebhookNameFor(slackURL)) || !strings.Contains(out, "url:   (hidden, from $SLACK_WEBHOOK_URL)") {
		t.Errorf("plan lacks the destination:\n%s", out)
	}
	if !regexp.MustCompile(`mechanisms\.webhooks:\s+\(known after apply\)`).MatchString(out) {
		t.Errorf("plan lacks the pending webhook id:\n%s", out)
	}
	w.mustApply()
	hooks := w.f.Webhooks()
	if len(hooks) != 1 || hooks[0].URL != slackURL || hooks[0].Type != "slack" {
		t.Fatalf("destinations %+v", hooks)
	}
	if got := mechIDs(w.policy("portfolio-shop").Mechanisms["webhooks"]); !reflect.DeepEqual(got, []string{hooks[0].ID}) {
		t.Errorf("policy webhooks %v, want %s", got, hooks[0].ID)
	}

	t.Run("env var unset keeps the destination", func(t *testing.T) {
		w.slack = ""
		p := w.plan()
		if !p.InSync() {
			t.Errorf("without the secret the plan reports drift:\n%s", text(t, p))
		}
		if !strings.Contains(text(t, p), "Warning: SLACK_WEBHOOK_URL is not set") {
			t.Errorf("no warning:\n%s", text(t, p))
		}
		w.slack = slackURL
	})
	t.Run("in sync whatever Cloudflare shows of the URL", func(t *testing.T) {
		w.f.MaskWebhookURLs = true
		defer func() { w.f.MaskWebhookURLs = false }()
		if p := w.plan(); !p.InSync() {
			t.Errorf("a masked URL reads as drift:\n%s", text(t, p))
		}
		before := len(w.f.Mutations())
		w.mustApply()
		if n := len(w.f.Mutations()) - before; n != 0 {
			t.Errorf("apply in sync made %d changing calls", n)
		}
	})
	t.Run("rotated URL replaces the destination", func(t *testing.T) {
		old := hooks[0].ID
		w.slack = slackURL + "rotated"
		w.connect(w.slack)
		p := w.plan()
		var got []string
		for _, c := range p.Changes {
			got = append(got, string(c.Action)+" "+string(c.Kind)+" "+c.Name)
		}
		want := []string{"create webhook_destination " + healthchecks.WebhookNameFor(w.slack), "update notification_policy portfolio-pay",
			"update notification_policy portfolio-shop", "delete webhook_destination " + healthchecks.WebhookNameFor(slackURL)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("changes %v, want %v", got, want)
		}
		w.mustApply()
		hooks := w.f.Webhooks()
		if len(hooks) != 1 || hooks[0].ID == old || hooks[0].URL != w.slack {
			t.Errorf("destinations after rotation %+v", hooks)
		}
		if p := w.plan(); !p.InSync() {
			t.Errorf("not in sync:\n%s", text(t, p))
		}
	})
	t.Run("a destination named before the digest is replaced once when its URL is not shown", func(t *testing.T) {
		w2 := newWorld(t)
		w2.cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
		w2.slack = slackURL
		legacy := w2.f.AddWebhook(healthchecks.WebhookName, slackURL)
		if p := w2.plan(); p.Summary.Create != 4 || p.Summary.Delete != 0 {
			t.Errorf("with its URL shown the old destination is kept: %+v\n%s", p.Summary, text(t, p))
		}
		w2.f.MaskWebhookURLs = true
		w2.mustApply()
		hooks := w2.f.Webhooks()
		if len(hooks) != 1 || hooks[0].ID == legacy || hooks[0].Name != healthchecks.WebhookNameFor(slackURL) {
			t.Errorf("destinations %+v, want the old one replaced by %s", hooks, healthchecks.WebhookNameFor(slackURL))
		}
		if p := w2.plan(); !p.InSync() {
			t.Errorf("not in sync:\n%s", text(t, p))
		}
	})
	t.Run("slack-only product without the URL gets no empty policy", func(t *testing.T) {
		w2 := newWorld(t)
		w2.cfg.NotificationChannels.Email = nil
		w2.cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
		p := w2.plan()
		if p.Summary != (healthchecks.Summary{Create: 2}) {
			t.Errorf("summary %+v, want the 2 checks only:\n%s", p.Summary, text(t, p))
		}
		if !strings.Contains(text(t, p), "would send only to Slack, whose URL is not set here") {
			t.Errorf("no warning:\n%s", text(t, p))
		}
		w2.mustApply()
	})
	t.Run("errors do not show the URL", func(t *testing.T) {
		w2 := newWorld(t)
		w2.cfg.NotificationChannels.Slack = &config.SlackChannel{WebhookURLEnv: "SLACK_WEBHOOK_URL"}
		w2.slack = slackURL
		w2.f.FailMutation(1, fake.CloudflareFailure{Status: 400, Code: 17000, Message: "cannot reach " + slackURL})
		_, out, err := w2.apply()
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error()+out, "secretXYZ") {
			t.Errorf("the Slack URL leaks: %v\n%s", err, out)
		}
		if !strings.Contains(err.Error(), "cannot reach [redacted]") {
			t.Errorf("error %v", err)
		}
	})
}

func TestReadsEveryPage(t *testing.T) {
	w := newWorld(t)
	for i := range 27 {
		w.f.AddHealthcheck(zoneA, cf.Healthcheck{Name: "other-" + string(rune('a'+i)), Address: "x.example.com"})
		w.f.AddPolicy(cf.NotificationPolicy{Name: "other", AlertType: "billing_usage_alert",
			Mechanisms: map[string]cf.NotificationMechanismIntegrations{"email": {{ID: "x@example.com"}}}})
	}
	w.mustApply() // the managed objects come after 27 unmanaged ones: on page 2 of policies
	p := w.plan()
	if !p.InSync() {
		t.Errorf("managed objects on later pages were not found:\n%s", text(t, p))
	}
	if p.Unmanaged.Healthchecks != 27 || p.Unmanaged.Policies != 27 {
		t.Errorf("unmanaged %+v, want 27 each", p.Unmanaged)
	}
	// Health checks are paged (page, per_page); the policies are not: one plain GET.
	var pages, policies []string
	for _, c := range w.f.Calls() {
		switch {
		case strings.HasPrefix(c, "GET /zones/"+zoneA+"/healthchecks?"):
			pages = append(pages, c)
		case strings.HasPrefix(c, "GET /accounts/") && strings.Contains(c, "/policies"):
			policies = append(policies, c)
		}
	}
	if len(pages) < 2 {
		t.Errorf("health checks read in %d requests: %v", len(pages), pages)
	}
	for _, c := range policies {
		if strings.Contains(c, "?") {
			t.Errorf("policies read with a query the endpoint does not define: %s", c)
		}
	}
}

// TestAListTheAPICutsIsAnError: were Cloudflare to answer part of the policies (result_info
// counting more), plan must not take the rest for missing and re-create them.
func TestAListTheAPICutsIsAnError(t *testing.T) {
	w := newWorld(t)
	w.mustApply()
	w.f.NotificationListCap = 1
	_, err := w.tryPlan()
	if err == nil || !strings.Contains(err.Error(), "the answer holds 1 of 2 items and the endpoint documents no paging") {
		t.Errorf("err = %v", err)
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name    string
		fault   fake.InjectedFault
		wantErr string
		rate    bool
	}{
		{name: "success false in a 200", fault: fake.InjectedFault{Match: "GET /accounts", Status: 200,
			Body: `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"messages":[],"result":null}`},
			wantErr: "list webhook destinations: API error: 10000 Authentication error"},
		{name: "rate limited beyond the wait", fault: fake.InjectedFault{Match: "GET /zones", Status: 429, RetryAfter: "300"},
			wantErr: "list health checks of zone " + zoneA + ": page 1: rate limited until", rate: true},
		{name: "malformed JSON", fault: fake.InjectedFault{Match: "GET /zones", Status: 200, Body: `{"success":tru`},
			wantErr: "list health checks of zone " + zoneA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.f.Inject(tt.fault)
			_, err := w.tryPlan()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var rl *retry.RateLimitedError
			if errors.As(err, &rl) != tt.rate {
				t.Errorf("rate limited = %v, want %v", !tt.rate, tt.rate)
			}
			if strings.Contains(err.Error(), w.f.Token) {
				t.Error("the token leaks")
			}
		})
	}
}

func TestWaitsOutAShortRateLimit(t *testing.T) {
	w := newWorld(t)
	w.f.Inject(fake.InjectedFault{Match: "GET /zones", Status: 429, RetryAfter: "3", Times: 1})
	if _, err := w.tryPlan(); err != nil {
		t.Fatalf("a 429 with Retry-After: 3 was not waited out: %v", err)
	}
	if !slices.Equal(w.waits, []time.Duration{3 * time.Second}) {
		t.Errorf("waits %v, want the 3 s the server asked for", w.waits)
	}
}

func TestACreateIsRetriedOnlyWhenItWasNotTaken(t *testing.T) {
	w := newWorld(t)
	w.f.Inject(fake.InjectedFault{Match: "POST /zones", Status: 429, RetryAfter: "2", Times: 1})
	if _, _, err := w.apply(); err != nil {
		t.Fatalf("a create refused with 429 must be sent again after the wait: %v", err)
	}
	if !slices.Equal(w.waits, []time.Duration{2 * time.Second}) {
		t.Errorf("waits %v, want 2 s", w.waits)
	}
	w2 := newWorld(t)
	w2.f.Inject(fake.InjectedFault{Match: "POST /zones", Status: 502, Times: 1})
	if _, _, err := w2.apply(); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("err %v, want the 502: a create that may have been made is not sent twice", err)
	}
	if len(w2.waits) != 0 {
		t.Errorf("waits %v: a POST must not be repeated after a 5xx", w2.waits)
	}
}

func TestNewNamesMissingEnvVars(t *testing.T) {
	_, err := healthchecks.New(healthchecks.Options{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID") {
		t.Errorf("error %v", err)
	}
}

func TestDesiredState(t *testing.T) {
	d, err := healthchecks.DesiredState(testConfig(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []healthchecks.Skip{{Product: "blog", Reason: "healthcheck.disabled is set"}, {Product: "docs", Reason: "no health_endpoint"}}
	if !reflect.DeepEqual(d.Skipped, want) {
		t.Errorf("skipped %+v", d.Skipped)
	}
	if !reflect.DeepEqual(d.Zones, []string{zoneA, zoneB}) {
		t.Errorf("zones %v", d.Zones)
	}
	cfg := testConfig()
	cfg.NotificationChannels.Email = nil
	d, _ = healthchecks.DesiredState(cfg, "")
	if len(d.Policies) != 0 || len(d.Checks) != 2 || !strings.Contains(strings.Join(d.Warnings, "\n"), "gets no notification policy") {
		t.Errorf("without channels: %d policies, %d checks, warnings %v", len(d.Policies), len(d.Checks), d.Warnings)
	}
	cfg = testConfig()
	cfg.Products[0].URL = "ftp://shop.example.com"
	if _, err := healthchecks.DesiredState(cfg, ""); err == nil || !strings.Contains(err.Error(), "want an http or https URL") {
		t.Errorf("ftp url: %v", err)
	}
}
