package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The pipeline itself is tested in generator/run; these tests check the flag layer: flags
// reach run.Run, the report is printed as the one-screen summary, and its outcome becomes the
// exit code.

// noSleep replaces every retry's wait.
func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// runCLI runs the portfolio command with env and returns the exit code, stdout and stderr.
func runCLI(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Sleep: noSleep}).Main(args)
	return code, stdout.String(), stderr.String()
}

// summaryLine matches one row of the run summary: name, state, detail.
func summaryLine(name, state, detail string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^ +` + regexp.QuoteMeta(name) + ` +` + regexp.QuoteMeta(state) + ` +.*` + regexp.QuoteMeta(detail) + `.*$`)
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	repo := filepath.Join("..", "..")
	demoData := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.CopyFS(dir, os.DirFS(filepath.Join(repo, "data"))); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// A GitHub API that refuses the token: the github source fails, the others are skipped.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
	}))
	t.Cleanup(refuse.Close)
	oneRepo := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "portfolio.json")
		cfg := `{"products": [{"id": "shop", "name": "Shop", "repository": "acme/shop", "deploy": {"workflow": "deploy.yml"}}]}`
		if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	tests := []struct {
		name   string
		args   func(t *testing.T) []string // after "run"
		env    map[string]string
		code   int
		stdout []*regexp.Regexp
		stderr string
	}{
		{
			name: "demo data: builds, says what each source needs, exit 0",
			args: func(t *testing.T) []string {
				return []string{"--config", filepath.Join(repo, "portfolio.json"), "--data", demoData(t), "--out", filepath.Join(t.TempDir(), "public")}
			},
			code: ExitOK,
			stdout: []*regexp.Regexp{
				regexp.MustCompile(`(?m)^portfolio run at 2026-11-29T00:00:00Z \(demo data\)$`),
				summaryLine("collect", "skipped", "holds the demo history"),
				summaryLine("  github", "skipped", "GITHUB_TOKEN not set"),
				summaryLine("  probe", "skipped", "not run against demo data"),
				summaryLine("alert", "skipped", "demo data"),
				summaryLine("build", "ok", "pages"),
				summaryLine("publish", "skipped", "CLOUDFLARE_API_TOKEN not set"),
				regexp.MustCompile(`(?m)^Preview: portfolio serve --out .*public, then open http://localhost:3000$`),
			},
		},
		{
			name: "a failing source: the run goes on, exit 3",
			args: func(t *testing.T) []string {
				return []string{"--config", oneRepo(t), "--data", filepath.Join(t.TempDir(), "data"), "--out", filepath.Join(t.TempDir(), "public"),
					"--now", "2026-06-30T12:00:00Z"}
			},
			env:  map[string]string{"GITHUB_TOKEN": "ghp_test", "GITHUB_API_URL": refuse.URL},
			code: ExitSourcesFailed,
			stdout: []*regexp.Regexp{
				regexp.MustCompile(`(?m)^portfolio run at 2026-06-30T12:00:00Z$`),
				summaryLine("collect", "warning", "1 error"),
				summaryLine("  cloudflare", "skipped", "no cloudflare.zone_id or cloudflare.worker configured (all products)"),
				summaryLine("alert", "ok", "0 firing"),
				summaryLine("build", "ok", "pages"),
			},
		},
		{
			name: "--skip and --dry-run reach the pipeline",
			args: func(t *testing.T) []string {
				return []string{"--config", oneRepo(t), "--data", filepath.Join(t.TempDir(), "data"), "--out", filepath.Join(t.TempDir(), "public"),
					"--now", "2026-06-30T12:00:00Z", "--skip", "collect,build", "--dry-run"}
			},
			code: ExitOK,
			stdout: []*regexp.Regexp{
				summaryLine("collect", "skipped", "--skip"),
				summaryLine("alert", "ok", "none sent (dry run)"),
				summaryLine("build", "skipped", "--skip"),
				summaryLine("publish", "skipped", "--dry-run"),
			},
		},
		{
			name: "a failed build publishes nothing, exit 1",
			args: func(t *testing.T) []string {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"--config", oneRepo(t), "--data", filepath.Join(t.TempDir(), "data"), "--out", filepath.Join(file, "public"),
					"--now", "2026-06-30T12:00:00Z", "--skip", "collect"}
			},
			code: ExitFailure,
			stdout: []*regexp.Regexp{
				summaryLine("build", "failed", ""),
				summaryLine("publish", "skipped", "the build failed"),
			},
		},
		{
			name: "an unknown step is a usage error, exit 2",
			args: func(t *testing.T) []string { return []string{"--config", oneRepo(t), "--skip", "deploy"} },
			code: ExitUsage, stderr: `--skip: unknown step "deploy"; want some of collect, alert, digest, build, publish`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(tt.env, append([]string{"run"}, tt.args(t)...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n--- stdout:\n%s--- stderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, re := range tt.stdout {
				if !re.MatchString(stdout) {
					t.Errorf("stdout does not match %s:\n%s", re, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"nope"},                      // an unknown command
		{"run", "now"},                // an argument to a command that takes none
		{"healthchecks", "plan", "x"}, // the same, a level down
		{"run", "--bogus"},            // an unknown flag
		{"build", "--now", "yesterday"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(nil, append(args, "--config", filepath.Join("..", "..", "portfolio.json"), "--data", t.TempDir())...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if !strings.HasPrefix(stderr, "portfolio: ") {
				t.Errorf("stderr does not say what is wrong:\n%s", stderr)
			}
		})
	}
}
