package publish

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// Commit finds the commit the site was built from, for a deployment's label: GITHUB_SHA when
// CI sets it, and the hash and message of `git log -1` when git is on the PATH and dir is in a
// repository. Anything missing is left empty; git is never required.
func Commit(ctx context.Context, dir string, getenv func(string) string) (hash, message string) {
	hash = strings.TrimSpace(getenv("GITHUB_SHA"))
	git, err := exec.LookPath("git")
	if err != nil {
		return hash, ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rev := "HEAD"
	if hash != "" {
		rev = hash
	}
	cmd := exec.CommandContext(ctx, git, "log", "-1", "--format=%H%x00%B", rev, "--")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return hash, ""
	}
	h, msg, ok := strings.Cut(string(out), "\x00")
	if !ok {
		return hash, ""
	}
	if hash == "" {
		hash = strings.TrimSpace(h)
	}
	return hash, strings.TrimSpace(msg)
}
