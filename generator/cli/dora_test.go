package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// doraFixture writes a config and data/ for three products: storefront (busy, with incidents),
// payments-api (two deployments this window, none before) and docs (no repository, no data).
func doraFixture(t *testing.T) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "portfolio.json")
	err := os.WriteFile(cfgPath, []byte(`{
  "dora": {"window_days": 30, "attribution_hours": 24},
  "products": [
    {"id": "storefront", "name": "Storefront", "repository": "acme/storefront", "deploy": {"workflow": "deploy.yml"}},
    {"id": "payments-api", "name": "Payments API", "repository": "acme/payments", "deploy": {"source": "deployments"}},
    {"id": "docs", "name": "Docs"}
  ]
}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	dataDir = filepath.Join(dir, "data")
	st := store.Open(dataDir)
	now := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	h := func(x float64) time.Duration { return time.Duration(x * float64(time.Hour)) }
	sha := func(n int) string { return strings.Repeat(fmt.Sprintf("%02x", n), 20) }

	var deps []record.Deployment
	add := func(n int, t time.Time, outcome string, lead ...float64) {
		d := record.Deployment{ID: fmt.Sprintf("run:%d", 1000+n), SHA: sha(n), Time: t, Outcome: outcome,
			URL: fmt.Sprintf("https://github.com/acme/storefront/actions/runs/%d", 1000+n)}
		if outcome == record.OutcomeSuccess {
			d.Changes = []record.Change{}
			for i, l := range lead {
				d.Changes = append(d.Changes, record.Change{SHA: fmt.Sprintf("%s%02d", sha(n)[:38], i), AuthorDate: t.Add(-h(l))})
			}
		}
		deps = append(deps, d)
	}
	// Previous window: 8 successful, 2 failed, slower changes.
	for i := range 10 {
		outcome := record.OutcomeSuccess
		if i%5 == 4 {
			outcome = record.OutcomeFailure
		}
		add(i+1, now.AddDate(0, 0, -58+3*i), outcome, 20, 30+float64(i))
	}
	// Current window: 13 successful, 1 failed.
	for i := range 14 {
		outcome := record.OutcomeSuccess
		if i == 6 {
			outcome = record.OutcomeFailure
		}
		add(i+20, now.AddDate(0, 0, -29+2*i).Add(h(10)), outcome, 0.5, 1.5+float64(i%3), 48)
	}
	if err := st.SaveDeployments("storefront", deps); err != nil {
		t.Fatal(err)
	}
	tp := func(t time.Time) *time.Time { return &t }
	firstCur := now.AddDate(0, 0, -29).Add(h(10))
	incs := []record.Incident{
		{Number: 11, Title: "Checkout errors", CreatedAt: firstCur.Add(h(2)), ClosedAt: tp(firstCur.Add(h(2.5)))},
		{Number: 12, Title: "Slow search", CreatedAt: now.AddDate(0, 0, -10), ClosedAt: tp(now.AddDate(0, 0, -10).Add(h(0.75)))},
		{Number: 13, Title: "Image CDN down", CreatedAt: now.AddDate(0, 0, -5), ClosedAt: tp(now.AddDate(0, 0, -5).Add(h(3)))},
		{Number: 14, Title: "False alarm", CreatedAt: now.AddDate(0, 0, -4), ClosedAt: tp(now.AddDate(0, 0, -4).Add(h(1))), StateReason: "not_planned"},
		{Number: 15, Title: "Cart emails delayed", CreatedAt: now.Add(-h(6))},
		{Number: 9, Title: "Old outage", CreatedAt: now.AddDate(0, 0, -45), ClosedAt: tp(now.AddDate(0, 0, -45).Add(h(30)))},
	}
	if err := st.SaveIncidents("storefront", incs); err != nil {
		t.Fatal(err)
	}
	pay := []record.Deployment{
		{ID: "deployment:1", SHA: sha(90), Time: now.AddDate(0, 0, -12), Outcome: record.OutcomeSuccess, Changes: []record.Change{{SHA: sha(90), AuthorDate: now.AddDate(0, 0, -14)}}},
		{ID: "deployment:2", SHA: sha(91), Time: now.AddDate(0, 0, -2), Outcome: record.OutcomeSuccess, Changes: []record.Change{{SHA: sha(91), AuthorDate: now.AddDate(0, 0, -3)}}},
	}
	if err := st.SaveDeployments("payments-api", pay); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dataDir
}

func TestDoraGolden(t *testing.T) {
	cfgPath, dataDir := doraFixture(t)
	common := []string{"--config", cfgPath, "--data", dataDir, "--now", "2026-06-30T00:00:00Z"}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"dora.json", []string{"dora", "--json"}},
		{"dora-product.json", []string{"dora", "--json", "--product", "storefront"}},
		{"dora.txt", []string{"dora"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}).Main(append(tc.args, common...))
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			path := filepath.Join("testdata", "dora", tc.golden+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./generator/cli -run TestDoraGolden -update)", err)
			}
			if stdout.String() != string(want) {
				t.Errorf("output differs from %s:\n%s", path, stdout.String())
			}
		})
	}
}

func TestDoraErrors(t *testing.T) {
	cfgPath, dataDir := doraFixture(t)
	var stdout, stderr bytes.Buffer
	code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}).Main(
		[]string{"dora", "--product", "nope", "--config", cfgPath, "--data", dataDir})
	if code != ExitUsage || !strings.Contains(stderr.String(), `--product: no product "nope"`) || !strings.Contains(stderr.String(), "storefront, payments-api, docs") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
