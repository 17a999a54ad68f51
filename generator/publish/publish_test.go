package publish

import (
	"context"
	"os/exec"
	"testing"
)

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		d    Deployment
		want string
	}{
		{"production", Deployment{URL: "https://abc.p.pages.dev", Environment: "production", Status: "success",
			Stats: Stats{Files: 214, Uploaded: 3, UploadedBytes: 42_188, Requests: 9}},
			"deployed https://abc.p.pages.dev (production): 214 files, 3 uploaded (41.2 KiB), 9 requests"},
		{"preview", Deployment{URL: "https://abc.p.pages.dev", Environment: "preview", Branch: "try", Status: "success",
			Stats: Stats{Files: 2, Requests: 5}},
			"deployed https://abc.p.pages.dev (preview, branch try): 2 files, 0 uploaded (0 B), 5 requests"},
		{"still deploying", Deployment{URL: "https://abc.p.pages.dev", Stage: "queued", Status: "active",
			Stats: Stats{Files: 1, Uploaded: 1, UploadedBytes: 3 << 20, Requests: 13}},
			"deployed https://abc.p.pages.dev: 1 files, 1 uploaded (3.0 MiB), 13 requests, stage queued active"},
		{"dry run", Deployment{DryRun: true, Stats: Stats{Files: 8, Missing: 1, UploadedBytes: 10, Buckets: 1}},
			"dry run: would upload 1 of 8 files (10 B) in 1 bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Summary(); got != tt.want {
				t.Errorf("Summary() =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestCommit(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	outside := t.TempDir() // not a repository: git fails, which is fine
	if h, msg := Commit(context.Background(), outside, env(map[string]string{"GITHUB_SHA": "4f1c0de"})); h != "4f1c0de" || msg != "" {
		t.Errorf("outside a repository: %q %q", h, msg)
	}
	if h, msg := Commit(context.Background(), outside, env(nil)); h != "" || msg != "" {
		t.Errorf("nothing known: %q %q", h, msg)
	}

	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed (exec.LookPath failed); Commit without git is tested above")
	}
	repo := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "data: snapshot", "-m", "body line"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	h, msg := Commit(context.Background(), repo, env(nil))
	if len(h) != 40 || msg != "data: snapshot\n\nbody line" {
		t.Errorf("in a repository: %q %q", h, msg)
	}
}
