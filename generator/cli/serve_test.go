package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/demo"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

// TestBuildCommand builds the example config's demo data and prints what it wrote.
func TestBuildCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg, err := config.Load(filepath.Join("..", "..", "portfolio.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	if err := demo.Generate(cfg, store.Open(data), demo.Options{Seed: 1, Days: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "public")
	var stdout, stderr bytes.Buffer
	code := (&Command{Stdout: &stdout, Stderr: &stderr}).Main([]string{"build",
		"--config", filepath.Join("..", "..", "portfolio.json"), "--data", data, "--out", out, "--now", "2026-06-30T00:00:00Z"})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "14 pages") { // 12, and the digests: digest/ and the week of 29 Jun
		t.Errorf("build printed %q, want the page count", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "products", "storefront", "index.html")); err != nil {
		t.Error(err)
	}
}

// TestServe serves a built site on a free port, answers like Cloudflare Pages, and rebuilds
// when the data changes.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join("..", "..", "portfolio.json")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	st := store.Open(filepath.Join(dir, "data"))
	if err := demo.Generate(cfg, st, demo.Options{Seed: 1, Days: 2, Now: now}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
		configPath: cfgPath, dataDir: st.Dir(), outDir: filepath.Join(dir, "public"),
		nowFlag: "2026-06-30T00:00:00Z", logFormat: "text", quiet: true}
	if err := a.setup(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, 20*time.Millisecond) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}()

	get := func(path string) (int, http.Header, string) {
		t.Helper()
		var resp *http.Response
		for i := 0; i < 100; i++ { // the first build runs before the server answers
			resp, err = http.Get(base + path)
			if err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/", "Acme portfolio", 200},
		{"/products/storefront/", "Storefront", 200},
		{"/api/summary.json", `"schema_version":`, 200},
		{"/no/such/page", "Page not found", 404},
		{"/_headers", "Page not found", 404},
	} {
		code, h, body := get(tc.path)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, body without %q; want %d", tc.path, code, tc.want, tc.code)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q, want the site's", tc.path, csp)
		}
	}
	if !strings.Contains(stdout.String(), "Serving ") {
		t.Errorf("serve printed %q, want the address", stdout.String())
	}

	// A new incident in the data shows after the rebuild.
	incs, err := st.Incidents("docs")
	if err != nil {
		t.Fatal(err)
	}
	incs = append(incs, record.Incident{Number: 4242, Title: "Docs search is down", CreatedAt: now.Add(-time.Hour)})
	if err := st.SaveIncidents("docs", incs); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, _, body := get("/"); strings.Contains(body, "Docs search is down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the overview did not show the new incident: no rebuild after the data changed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
