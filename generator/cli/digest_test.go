package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func runDigest(env map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Sleep: noSleep}).Main(append([]string{"digest"}, args...))
	return code, stdout.String(), stderr.String()
}

func TestDigestCommandOnTheDemoHistory(t *testing.T) {
	repo := []string{"--config", filepath.Join("..", "..", "portfolio.json"), "--data", filepath.Join("..", "..", "data"), "--now", "2026-11-30T07:00:00Z"}
	t.Run("dry run prints the digest as text", func(t *testing.T) {
		code, out, errOut := runDigest(nil, append(repo, "--dry-run")...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{
			"Acme portfolio weekly digest, 23 Nov – 30 Nov 2026: 3 of 3 products degraded",
			"Payments API's p95 response time rose from 257 ms to 935 ms after Saturday's deployment of e2832db",
			"digest: period 2026-11-30 (23 Nov – 30 Nov 2026): due (dry run) for email, slack",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("preview writes the email's HTML", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out.html")
		code, out, errOut := runDigest(nil, append(repo, "--preview", file)...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		html, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(html), "<!doctype html>") || !strings.Contains(string(html), "<h1") || !strings.Contains(out, file) {
			t.Errorf("preview: %s\n%.200s", out, html)
		}
	})
	t.Run("a period that is not a digest day is a usage error", func(t *testing.T) {
		code, _, errOut := runDigest(nil, append(repo, "--period", "2026-12-01", "--dry-run")...)
		if code != ExitUsage || !strings.Contains(errOut, "a Tuesday, but digests are sent on Mondays") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

func TestDigestCommandSendsOnce(t *testing.T) {
	dir := t.TempDir()
	cfgFile, data := filepath.Join(dir, "portfolio.json"), filepath.Join(dir, "data")
	if err := os.WriteFile(cfgFile, []byte(`{"site": {"base_url": "https://status.example.com"},
  "products": [{"id": "shop", "name": "Shop", "url": "https://shop.example.com", "health_endpoint": "/healthz"}],
  "notification_channels": {"slack": {}, "email": {"recipients": ["oncall@example.com"], "from": "portfolio@example.com", "digest": {"enabled": false}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 29, 8, 5, 0, 0, time.UTC)
	st := store.Open(data)
	var snaps []record.Snapshot
	for at := now.AddDate(0, 0, -7); at.Before(now); at = at.Add(time.Hour) {
		snaps = append(snaps, record.Snapshot{Time: at, Probe: &record.Probe{Code: 200, Ms: 90}})
	}
	if err := st.AppendSnapshots("shop", snaps); err != nil {
		t.Fatal(err)
	}
	sl := fake.NewSlack(t)
	env := map[string]string{"SLACK_WEBHOOK_URL": sl.URL}
	args := []string{"--config", cfgFile, "--data", data, "--now", now.Format(time.RFC3339)}
	code, out, errOut := runDigest(env, args...)
	if code != ExitOK || !strings.Contains(out, "digest: period 2026-06-29 (22 Jun – 29 Jun 2026): sent to slack") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	code, out, _ = runDigest(env, args...)
	if code != ExitOK || !strings.Contains(out, "already sent to slack") {
		t.Errorf("second call: exit %d: %s", code, out)
	}
	if len(sl.Messages()) != 1 {
		t.Errorf("%d Slack messages, want 1", len(sl.Messages()))
	}
	if strings.Contains(out, "email") {
		t.Errorf("the email channel opted out, but: %s", out)
	}
}
