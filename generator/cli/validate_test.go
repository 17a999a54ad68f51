package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"products": [{"id": "a"}, {"id": "b"}]}`)
	one := write("one.json", `{"products": [{"id": "a"}]}`)
	bad := write("bad.json", `{"products": [
  {"id": "Shop", "alerting_config": {"uptime_threshold": "high"}},
  {"id": "b", "url": "nope"}
], "notification_channels": {"slack": {"webhook_url_env": "https://hooks.slack.com/services/T0/B0/SECRET"}}}`)
	broken := write("broken.json", `{"products": [`)

	for _, tc := range []struct {
		name        string
		args        []string
		code        int
		stdout      string
		stderr      string
		notInOutput string
	}{
		{name: "the example portfolio.json", args: []string{"validate", "--config", "../../portfolio.json"}, code: ExitOK,
			stdout: "../../portfolio.json: ok (3 products)\n"},
		{name: "a valid config", args: []string{"validate", "--config", good}, code: ExitOK,
			stdout: good + ": ok (2 products)\n"},
		{name: "one product", args: []string{"validate", "--config", one}, code: ExitOK,
			stdout: one + ": ok (1 product)\n"},
		{name: "every problem, sorted, then a count", args: []string{"validate", "--config", bad}, code: ExitUsage,
			stderr: bad + `:2:10: products[0].id: want a lowercase slug of at most 63 characters like payments-api, got "Shop"
` + bad + `:2:58: products[0].alerting_config.uptime_threshold: want a number from 0 to 100, got "high"
` + bad + `:3:22: products[1].url: want an absolute http(s) URL like https://shop.example.com, got "nope"
` + bad + `:4:59: notification_channels.slack.webhook_url_env: want the name of an environment variable like SLACK_WEBHOOK_URL, got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)
` + bad + ": 4 problems\n",
			notInOutput: "SECRET"},
		{name: "malformed JSON", args: []string{"validate", "--config", broken}, code: ExitUsage,
			stderr: broken + ":1:15: invalid JSON: unexpected end of file\n" + broken + ": 1 problem\n"},
		{name: "a missing file", args: []string{"validate", "--config", filepath.Join(dir, "nope.json")}, code: ExitUsage,
			stderr: "portfolio: config: open " + filepath.Join(dir, "nope.json") + ": no such file or directory\n"},
		{name: "the schema for editors", args: []string{"validate", "--print-schema"}, code: ExitOK,
			stdout: `"$schema": "https://json-schema.org/draft/2020-12/schema"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}).Main(tc.args)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if tc.name == "the schema for editors" {
				if !strings.Contains(stdout.String(), tc.stdout) {
					t.Errorf("stdout does not contain %q", tc.stdout)
				}
				return
			}
			if stdout.String() != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tc.stdout)
			}
			if stderr.String() != tc.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), tc.stderr)
			}
			if tc.notInOutput != "" && strings.Contains(stdout.String()+stderr.String(), tc.notInOutput) {
				t.Errorf("output contains %q", tc.notInOutput)
			}
		})
	}
}
