package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func TestPublish(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "portfolio.json")
	if err := os.WriteFile(cfgPath, []byte(`{"products": [{"id": "api"}], "publish": {"cloudflare_pages": {"project": "portfolio"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "public")
	for name, content := range map[string]string{"index.html": "<h1>Portfolio</h1>", "static/css/site.css": "body{}"} {
		p := filepath.Join(out, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	pages := fake.NewPages(t)
	creds := map[string]string{
		"CLOUDFLARE_API_TOKEN":    pages.Token,
		"CLOUDFLARE_ACCOUNT_ID":   pages.AccountID,
		"CLOUDFLARE_API_BASE_URL": pages.URL,
		"GITHUB_SHA":              "4f1c0de",
	}
	base := []string{"publish", "--config", cfgPath, "--out", out}

	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		stdout   []string // each must appear
		stderr   string
		deployed int // deployments the fake holds afterwards
	}{
		{name: "no token: skipped, exit 0", env: map[string]string{}, code: ExitOK,
			stdout: []string{"publish: skipped: CLOUDFLARE_API_TOKEN not set\n"}},
		{name: "dry run without a token lists every file", env: map[string]string{}, args: []string{"--dry-run"}, code: ExitOK,
			stdout: []string{"listing every file", "  upload index.html  18 B  text/html  ", "  upload static/css/site.css  6 B  text/css  ",
				"publish: dry run: would upload 2 of 2 files (24 B) in 2 buckets"}},
		{name: "dry run asks Cloudflare and uploads nothing", env: creds, args: []string{"--dry-run"}, code: ExitOK,
			stdout: []string{"  upload index.html", "publish: dry run: would upload 2 of 2 files"}},
		{name: "publish prints the deployment URL", env: creds, code: ExitOK, deployed: 1,
			stdout: []string{"publish: deployed https://", "(production, branch main): 2 files, 2 uploaded (24 B)", ".portfolio.pages.dev\n"}},
		{name: "republishing uploads nothing", env: creds, code: ExitOK, deployed: 2,
			stdout: []string{"2 files, 0 uploaded (0 B), 5 requests"}},
		{name: "--branch makes a preview", env: creds, args: []string{"--branch", "try-colors", "--commit-message", "try colors"}, code: ExitOK, deployed: 3,
			stdout: []string{"(preview, branch try-colors)"}},
		{name: "no site built", env: creds, args: []string{"--out", filepath.Join(dir, "nope")}, code: ExitFailure, deployed: 3,
			stderr: "no such folder (run portfolio build first)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return tc.env[k] }, Sleep: noSleep}).
				Main(append(append([]string{}, base...), tc.args...))
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), pages.Token) {
				t.Error("the API token was printed")
			}
			if n := len(pages.Deployments()); n != tc.deployed {
				t.Errorf("%d deployments, want %d", n, tc.deployed)
			}
		})
	}

	deps := pages.Deployments()
	if deps[0].CommitHash != "4f1c0de" || deps[2].Branch != "try-colors" || deps[2].CommitMessage != "try colors" {
		t.Errorf("deployment labels: %q; %q %q", deps[0].CommitHash, deps[2].Branch, deps[2].CommitMessage)
	}
}
