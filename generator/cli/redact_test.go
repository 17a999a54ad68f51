package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestCustomNamedSecretNeverLeaks: a secret in a variable the config names in a *_env field
// (not a standard name) comes back in an API's error message. It must not reach the output,
// the log (text or JSON), data/ or the built site; the stored message says [redacted], and a
// page built from older data that still holds the secret shows [redacted] too.
func TestCustomNamedSecretNeverLeaks(t *testing.T) {
	const secret = "ghp_customNAMEDissuesTOKEN0042"
	dir := t.TempDir()
	cf := fake.NewCloudflare(t)
	cf.Inject(fake.InjectedFault{Match: "/graphql", Body: fake.CloudflareGraphQLErrorBody("token "+secret+" may not read this zone", "authz")})
	config := filepath.Join(dir, "portfolio.json")
	os.WriteFile(config, []byte(`{"products": [{"id": "shop", "url": "https://shop.example.com",
  "cloudflare": {"zone_id": "023e105f4ecef8ad9ca31a8372d0c353"}, "probe": {"disabled": true}}],
"notification_channels": {"github_issues": {"repository": "acme/ops", "token_env": "OPS_ISSUES_PAT"}}}`), 0o644)
	env := map[string]string{"CLOUDFLARE_API_TOKEN": cf.Token, "CLOUDFLARE_API_BASE_URL": cf.URL, "OPS_ISSUES_PAT": secret}
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "public")
	for i, format := range []string{"text", "json"} {
		var stdout, stderr bytes.Buffer
		now := []string{"2026-06-30T12:00:00Z", "2026-06-30T12:15:00Z"}[i]
		args := []string{"collect", "--config", config, "--data", data, "--now", now, "--log-format", format}
		code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}).Main(args)
		if code != ExitSourcesFailed {
			t.Fatalf("collect exit %d, want %d:\n%s%s", code, ExitSourcesFailed, stdout.String(), stderr.String())
		}
		if s := stdout.String() + stderr.String(); strings.Contains(s, secret) || !strings.Contains(s, "[redacted]") {
			t.Errorf("collect output (%s log) holds the secret or lost the message:\n%s", format, s)
		}
	}
	redacted := false
	filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in %s", path)
		}
		if bytes.Contains(b, []byte("token [redacted] may not read")) {
			redacted = true
			// Data written before the secret was known (an older version, a renamed variable)
			// still holds it: the site must not show it.
			os.WriteFile(path, bytes.ReplaceAll(b, []byte("[redacted]"), []byte(secret)), 0o644)
		}
		return nil
	})
	if !redacted {
		t.Fatal("no snapshot in data/ records the redacted error")
	}
	var stdout, stderr bytes.Buffer
	args := []string{"build", "--config", config, "--data", data, "--out", out, "--now", "2026-06-30T12:15:00Z"}
	if code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }}).Main(args); code != ExitOK {
		t.Fatalf("build exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	shown := false
	filepath.Walk(out, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is in %s", path)
		}
		shown = shown || bytes.Contains(b, []byte("token [redacted] may not read"))
		return nil
	})
	if !shown {
		t.Error("the site does not show the source's (redacted) error")
	}
}
