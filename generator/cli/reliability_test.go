package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/store"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

// TestCollectDeadline: GitHub hangs; at --deadline collect records github as timed_out, keeps
// every other source's data, writes every product and exits 3.
func TestCollectDeadline(t *testing.T) {
	w := newCollectWorld(t)
	w.gh.Inject(fake.InjectedFault{Hang: true})
	began := time.Now()
	code, out := w.run("--deadline", "400ms")
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("collect took %s with --deadline 400ms", took)
	}
	if code != ExitSourcesFailed {
		t.Fatalf("exit %d, want 3:\n%s", code, out)
	}
	st := store.Open(w.data)
	shop, ok, err := st.LastSnapshot("shop")
	if err != nil || !ok {
		t.Fatalf("no shop snapshot: %v", err)
	}
	if gh := shop.Sources["github"]; gh.State != "timed_out" || !strings.Contains(gh.Msg, "deadline") {
		t.Errorf("shop github = %+v, want timed_out at the deadline", gh)
	}
	for _, src := range []string{"cloudflare", "posthog", "probe"} {
		if shop.Sources[src].State != "ok" {
			t.Errorf("shop %s = %+v: finished before the deadline, want ok", src, shop.Sources[src])
		}
	}
	if shop.HTTP == nil || shop.HTTP.Requests != 100 {
		t.Errorf("shop's Cloudflare data was not kept: %+v", shop.HTTP)
	}
	for _, id := range []string{"docs", "blog"} {
		if _, ok, _ := st.LastSnapshot(id); !ok {
			t.Errorf("%s: no snapshot", id)
		}
	}
	if !strings.Contains(out, "timed out") {
		t.Errorf("output does not say what timed out:\n%s", out)
	}
}

func TestDeadlineMustBePositive(t *testing.T) {
	w := newCollectWorld(t)
	for _, d := range []string{"0s", "-1m"} {
		if code, out := w.run("--deadline", d); code != ExitUsage || !strings.Contains(out, "--deadline") {
			t.Errorf("--deadline %s: exit %d, want 2:\n%s", d, code, out)
		}
	}
}

// TestLockTimeout: another run holds the data; collect says who holds it and gives up after
// --lock-timeout with exit 1.
func TestLockTimeout(t *testing.T) {
	w := newCollectWorld(t)
	release, err := store.Open(w.data).Lock(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	began := time.Now()
	code, out := w.run("--lock-timeout", "300ms")
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("gave up after %s, want about --lock-timeout", took)
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("pid %d on %s since ", os.Getpid(), host)
	if code != ExitFailure || !strings.Contains(out, "waiting for the data lock") || !strings.Contains(out, holder) ||
		!strings.Contains(out, "gave up after waiting") {
		t.Errorf("exit %d, want 1 naming %q and giving up:\n%s", code, holder, out)
	}
	if _, ok, _ := store.Open(w.data).LastSnapshot("shop"); ok {
		t.Error("collected without the lock")
	}
}

// TestRunDeadlineStillBuilds: at the deadline run records the hanging source, then alerts and
// builds the site as usual.
func TestRunDeadlineStillBuilds(t *testing.T) {
	w := newCollectWorld(t)
	w.gh.Inject(fake.InjectedFault{Hang: true})
	out := filepath.Join(w.dir, "public")
	var stdout, stderr bytes.Buffer
	args := []string{"run", "--config", w.config, "--data", w.data, "--out", out, "--now", collectNow, "--deadline", "400ms"}
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return w.env[k] }, Sleep: noSleep}).Main(args)
	if code != ExitSourcesFailed {
		t.Fatalf("exit %d, want 3:\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 timed out") || !strings.Contains(stdout.String(), "build              ok") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	page, err := os.ReadFile(filepath.Join(out, "products", "shop", "index.html"))
	if err != nil || !strings.Contains(string(page), "timed_out") {
		t.Errorf("the shop page does not show GitHub as timed out (%v)", err)
	}
}
