package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestDoctor runs the command on the config init wrote, as a new user would: exit codes, one
// line per check, the job summary, and no secret in either.
func TestDoctor(t *testing.T) {
	w := newOnboardWorld(t)
	if code, _, errs := w.run("init", "--org", "acme", "--write"); code != ExitOK {
		t.Fatalf("init: exit %d: %s", code, errs)
	}
	summary := filepath.Join(t.TempDir(), "summary.md")

	code, out, errs := w.run("doctor", "--summary", summary)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0:\n%s%s", code, out, errs)
	}
	for _, want := range []string{"config " + w.config + ": 2 products", "ok    github acme/shop", "ok    cloudflare token", "all good"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "### portfolio doctor\n") || !strings.Contains(string(md), "| ✅ | github acme/shop |") {
		t.Errorf("summary:\n%s", md)
	}

	w.gh.UseToken("github_pat_11NoActions_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", fake.GitHubToken{Kind: fake.GitHubTokenFineGrained,
		Permissions: map[string]string{"contents": "read", "issues": "read", "deployments": "read"}})
	w.env["GITHUB_TOKEN"] = "github_pat_11NoActions_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	code, out, _ = w.run("doctor", "--summary", summary)
	if code != 1 || !strings.Contains(out, `FAIL  github acme/shop`) || !strings.Contains(out, `(needs actions=read)`) {
		t.Errorf("a fine-grained token without Actions read: exit %d:\n%s", code, out)
	}
	if md, _ := os.ReadFile(summary); strings.Count(string(md), "### portfolio doctor") != 2 {
		t.Errorf("--summary appends: %s", md)
	}

	delete(w.env, "CLOUDFLARE_API_TOKEN")
	w.env["GITHUB_TOKEN"] = ""
	code, out, _ = w.run("doctor")
	if code != 3 || !strings.Contains(out, "CLOUDFLARE_API_TOKEN is not set") || !strings.Contains(out, "WARN  cloudflare token") {
		t.Errorf("missing credentials: exit %d, want 3:\n%s", code, out)
	}

	os.WriteFile(w.config, []byte(`{"products": []}`), 0o644)
	if code, _, errs := w.run("doctor"); code != ExitUsage || !strings.Contains(errs, "products") {
		t.Errorf("an invalid config: exit %d, %s", code, errs)
	}
}
