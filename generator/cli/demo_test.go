package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

func TestDemo(t *testing.T) {
	const now = "2026-11-29T00:00:00Z"
	tests := []struct {
		name   string
		before func(t *testing.T, data string) // prepares the data folder
		args   []string                        // after demo --data DIR --now NOW
		code   int
		stdout string // {data} and {dir} are replaced
		stderr string // substring
		check  func(t *testing.T, dir, data string)
	}{
		{
			name: "the example config into a new folder", args: []string{"--days", "2"},
			stdout: "{data}: 2 days of demo data for 3 products, ending 2026-11-29T00:00:00Z (seed 1)\n",
			check: func(t *testing.T, dir, data string) {
				st := store.Open(data)
				if m, err := st.Meta(); err != nil || m.Generator != "demo" || m.Seed != 1 {
					t.Errorf("meta = %+v, %v", m, err)
				}
				if ids, _ := st.Products(); strings.Join(ids, " ") != "docs payments-api storefront" {
					t.Errorf("products %v", ids)
				}
			},
		},
		{
			name: "over demo data, dropping products no longer configured",
			before: func(t *testing.T, data string) {
				demoMain(t, "demo", "--data", data, "--now", now, "--days", "1", "--products", "2")
			},
			args:   []string{"--days", "1", "--seed", "5"},
			stdout: "{data}: 1 days of demo data for 3 products, ending 2026-11-29T00:00:00Z (seed 5)\n",
			check: func(t *testing.T, dir, data string) {
				if ids, _ := store.Open(data).Products(); strings.Join(ids, " ") != "docs payments-api storefront" {
					t.Errorf("products %v, want only the config's", ids)
				}
			},
		},
		{
			name: "refuses collected data",
			before: func(t *testing.T, data string) {
				if err := store.Open(data).AppendSnapshot("shop", record.Snapshot{Time: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}); err != nil {
					t.Fatal(err)
				}
			},
			args:   []string{"--days", "1"},
			code:   ExitFailure,
			stderr: "portfolio: demo: {data} holds data not written by demo (snapshots/): use --force to replace it, or --data to write elsewhere\n",
			check: func(t *testing.T, dir, data string) {
				if _, ok, _ := store.Open(data).LastSnapshot("shop"); !ok {
					t.Error("the collected snapshot is gone")
				}
			},
		},
		{
			name: "--force replaces collected data",
			before: func(t *testing.T, data string) {
				store.Open(data).SaveDeployments("storefront", nil)
			},
			args:   []string{"--days", "1", "--force"},
			stdout: "{data}: 1 days of demo data for 3 products, ending 2026-11-29T00:00:00Z (seed 1)\n",
		},
		{
			name: "the data folder's README is not data",
			before: func(t *testing.T, data string) {
				os.MkdirAll(data, 0o755)
				os.WriteFile(filepath.Join(data, "README.md"), []byte("# data\n"), 0o644)
			},
			args:   []string{"--days", "1"},
			stdout: "{data}: 1 days of demo data for 3 products, ending 2026-11-29T00:00:00Z (seed 1)\n",
		},
		{
			name: "synthetic products with their config",
			args: []string{"--days", "1", "--products", "5", "--write-config", "{dir}/big.json"},
			stdout: "{data}: 1 days of demo data for 5 products, ending 2026-11-29T00:00:00Z (seed 1)\n" +
				"{dir}/big.json: the config of the 5 synthetic products\n",
			check: func(t *testing.T, dir, data string) {
				cfg, err := config.Load(filepath.Join(dir, "big.json"))
				if err != nil || len(cfg.Products) != 5 {
					t.Fatalf("written config: %v", err)
				}
				if ids, _ := store.Open(data).Products(); len(ids) != 5 {
					t.Errorf("products %v", ids)
				}
			},
		},
		{name: "days below 1", args: []string{"--days", "0"}, code: ExitUsage,
			stderr: "portfolio: --days: want at least 1, got 0\n"},
		{name: "negative products", args: []string{"--products", "-1"}, code: ExitUsage,
			stderr: "portfolio: --products: want 0 (the config's products) or more, got -1\n"},
		{name: "--write-config without --products", args: []string{"--write-config", "x.json"}, code: ExitUsage,
			stderr: "portfolio: --write-config: only with --products N, which synthesises the config it writes\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			if tt.before != nil {
				tt.before(t, data)
			}
			r := strings.NewReplacer("{data}", data, "{dir}", dir)
			args := []string{"demo", "--config", "../../portfolio.json", "--data", data, "--now", now}
			for _, a := range tt.args {
				args = append(args, r.Replace(a))
			}
			var stdout, stderr bytes.Buffer
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}).Main(args)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if want := r.Replace(tt.stdout); stdout.String() != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
			}
			if want := r.Replace(tt.stderr); !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
			}
			if tt.check != nil {
				tt.check(t, dir, data)
			}
		})
	}
}

func demoMain(t *testing.T, args ...string) {
	t.Helper()
	var out bytes.Buffer
	if code := (&Command{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}).Main(args); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, out.String())
	}
}
