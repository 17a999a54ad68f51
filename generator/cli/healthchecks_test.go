package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cf "github.com/cloudflare/cloudflare-go"

	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

const hcConfig = `{"products": [
  {"id": "shop", "url": "https://shop.example.com", "health_endpoint": "/healthz",
   "cloudflare": {"zone_id": "023e105f4ecef8ad9ca31a8372d0c353"}},
  {"id": "pay", "url": "https://api.pay.example.com", "health_endpoint": "/health",
   "cloudflare": {"zone_id": "372e67954025e0ba6aaa6d586b9e0b59"}, "healthcheck": {"interval": 30}},
  {"id": "docs", "url": "https://docs.example.com"}
],
"notification_channels": {"email": {"recipients": ["ops@example.com"]}, "slack": {}}}`

type hcWorld struct {
	t      *testing.T
	f      *fake.CloudflareHealthchecks
	config string
	env    map[string]string
}

func newHCWorld(t *testing.T) *hcWorld {
	t.Helper()
	w := &hcWorld{t: t, f: fake.NewCloudflareHealthchecks(t), config: filepath.Join(t.TempDir(), "portfolio.json")}
	if err := os.WriteFile(w.config, []byte(hcConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = map[string]string{"CLOUDFLARE_API_TOKEN": w.f.Token, "CLOUDFLARE_ACCOUNT_ID": w.f.Account, "CLOUDFLARE_API_BASE_URL": w.f.URL,
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T1/B2/cli-secret-value"}
	return w
}

func (w *hcWorld) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	args = append([]string{"healthchecks"}, args...)
	args = append(args, "--config", w.config)
	code = (&Command{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return w.env[k] }}).Main(args)
	if s := out.String() + errb.String(); strings.Contains(s, "cli-secret-value") || strings.Contains(s, w.f.Token) {
		w.t.Errorf("a secret leaks into the output:\n%s", s)
	}
	return code, out.String(), errb.String()
}

func TestHealthchecksPlanAndApply(t *testing.T) {
	w := newHCWorld(t)
	// Cloudflare never returns a destination's secret and may mask a Slack URL: plan after
	// apply must still be in sync (exit 0) and a second apply make no changing call.
	w.f.MaskWebhookURLs = true
	steps := []struct {
		name       string
		args       []string
		before     func()
		wantCode   int
		wantOut    []string
		mutations  int // mutating calls this step may make; -1: any
		wantStderr string
	}{
		{name: "plan on an empty account", args: []string{"plan"}, wantCode: ExitChanges,
			wantOut: []string{"+ webhook_destination portfolio-slack", "url:   (hidden, from $SLACK_WEBHOOK_URL)",
				"+ healthcheck portfolio-shop (product shop, zone 023e105f4ecef8ad9ca31a8372d0c353)",
				"No health check for: docs (no cloudflare.zone_id).", "Plan: 5 to create, 0 to update, 0 to delete."}},
		{name: "apply creates everything", args: []string{"apply"}, wantCode: ExitOK, mutations: -1,
			wantOut: []string{"Applying:", "+ created healthcheck portfolio-pay (id ", "+ created notification_policy portfolio-shop (id ",
				"Apply complete: 5 changes applied."}},
		{name: "plan when in sync", args: []string{"plan"}, wantCode: ExitOK,
			wantOut: []string{"No changes: Cloudflare matches portfolio.json (2 managed health checks in 2 zones)."}},
		{name: "apply when in sync makes no changing call", args: []string{"apply"}, wantCode: ExitOK,
			wantOut: []string{"No changes"}},
		{name: "plan on drift", args: []string{"plan"}, wantCode: ExitChanges,
			before: func() {
				for _, hc := range w.f.Healthchecks("372e67954025e0ba6aaa6d586b9e0b59") {
					w.f.EditHealthcheck("372e67954025e0ba6aaa6d586b9e0b59", hc.ID, func(m map[string]any) { m["interval"] = 300 })
				}
			},
			wantOut: []string{"~ healthcheck portfolio-pay (product pay, zone 372e67954025e0ba6aaa6d586b9e0b59, id ", "interval:  300 → 30",
				"Plan: 0 to create, 1 to update, 0 to delete."}},
		{name: "apply fails midway", args: []string{"apply"}, wantCode: ExitFailure, mutations: -1,
			before: func() {
				w.f.AddHealthcheck("023e105f4ecef8ad9ca31a8372d0c353", cf.Healthcheck{Name: "hand-made", Address: "x.example.com"})
				w.f.Inject(fake.InjectedFault{Match: "PUT /zones/", Status: 400, Body: fake.CloudflareErrorBody(1002, "interval too short"), Times: 1})
			},
			wantOut: []string{"✗ update healthcheck portfolio-pay failed: HTTP 400: 1002 interval too short",
				"Apply stopped at the first failure: 0 applied, 1 failed, 0 not applied."},
			wantStderr: "portfolio: healthchecks apply: update healthcheck portfolio-pay: HTTP 400: 1002 interval too short"},
		{name: "apply again finishes", args: []string{"apply"}, wantCode: ExitOK, mutations: 1,
			wantOut: []string{"~ updated healthcheck portfolio-pay", "Left alone (not managed by portfolio): 1 health check, 0 notification policies, 0 webhook destinations."}},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			before := len(w.f.Mutations())
			code, out, errOut := w.run(st.args...)
			if code != st.wantCode {
				t.Errorf("exit %d, want %d\n%s%s", code, st.wantCode, out, errOut)
			}
			for _, s := range st.wantOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if st.wantStderr != "" && !strings.Contains(errOut, st.wantStderr) {
				t.Errorf("stderr %q, want %q", errOut, st.wantStderr)
			}
			if n := len(w.f.Mutations()) - before; st.mutations >= 0 && n != st.mutations {
				t.Errorf("%d mutating calls, want %d", n, st.mutations)
			}
		}) {
			return
		}
	}
}

func TestHealthchecksPlanJSON(t *testing.T) {
	w := newHCWorld(t)
	code, out, errOut := w.run("plan", "--json")
	if code != ExitChanges {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join("testdata", "healthchecks", "plan.json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./generator/cli -run TestHealthchecksPlanJSON -update)", err)
	}
	if out != string(want) {
		t.Errorf("plan --json differs from %s:\n%s", path, out)
	}
}

func TestHealthchecksNeedsCredentials(t *testing.T) {
	tests := []struct {
		name    string
		unset   []string
		wantErr string
	}{
		{name: "no token", unset: []string{"CLOUDFLARE_API_TOKEN"}, wantErr: "portfolio: healthchecks: cloudflare: CLOUDFLARE_API_TOKEN not set"},
		{name: "no account", unset: []string{"CLOUDFLARE_ACCOUNT_ID"}, wantErr: "CLOUDFLARE_ACCOUNT_ID (notification policies belong to the account) not set"},
	}
	for _, tt := range tests {
		for _, sub := range []string{"plan", "apply"} {
			t.Run(tt.name+"/"+sub, func(t *testing.T) {
				w := newHCWorld(t)
				for _, k := range tt.unset {
					delete(w.env, k)
				}
				code, _, errOut := w.run(sub)
				if code != ExitFailure || !strings.Contains(errOut, tt.wantErr) {
					t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.wantErr)
				}
			})
		}
	}
}

func TestHealthchecksBadConfigIsAUsageError(t *testing.T) {
	w := newHCWorld(t)
	os.WriteFile(w.config, []byte(`{"products": [{"id": "Bad ID"}]}`), 0o644)
	if code, _, _ := w.run("plan"); code != ExitUsage {
		t.Errorf("exit %d, want %d", code, ExitUsage)
	}
}
