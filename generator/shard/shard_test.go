package shard

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/store"
)

func products(ids ...string) []config.Product {
	var ps []config.Product
	for _, id := range ids {
		ps = append(ps, config.Product{ID: id})
	}
	return ps
}

func TestOwner(t *testing.T) {
	for path, want := range map[string]string{
		"snapshots/2026-06/shop.30.jsonl":        "shop",
		"snapshots/2026-06/shop.jsonl":           "shop", // a version 1 month log
		"snapshots/2026-06/shop.30.jsonl.torn":   "shop",
		"snapshots/2026-06/shop.30.jsonl.ahead":  "shop",
		"products/payments-api/deployments.json": "payments-api",
		"state/github/payments-api.json":         "payments-api",
		"meta.json":                              "",
		"alerts.json":                            "",
		"state/posthog-sent.json":                "",
		"state/github/x.tmp.json":                "",
		"snapshots/2026-06":                      "",
	} {
		got, ok := Owner(path)
		if got != want || ok != (want != "") {
			t.Errorf("Owner(%s) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

func TestPlan(t *testing.T) {
	m, err := Plan(products("a", "b", "c", "d", "e"), 2)
	if err != nil || len(m.Include) != 2 || m.Include[0] != (Entry{"1/2", 1, 2, 3}) || m.Include[1] != (Entry{"2/2", 2, 2, 2}) {
		t.Errorf("Plan(5 products, 2) = %+v, %v", m, err)
	}
	if m, _ := Plan(products("a", "b"), 8); len(m.Include) != 2 || m.Include[1].Shard != "2/2" {
		t.Errorf("more shards than products: %+v, want cut to 2", m)
	}
	if m, _ := Plan(nil, 3); len(m.Include) != 1 || m.Include[0].Products != 0 {
		t.Errorf("no products: %+v, want one empty shard", m)
	}
	if _, err := Plan(products("a"), 0); err == nil {
		t.Error("count 0: want an error")
	}
}

var runAt = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

// tarOf builds an archive by hand, to feed Merge what Pack would never write.
func tarOf(t *testing.T, entries ...[2]string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg})
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "a.tar")
	os.WriteFile(p, b.Bytes(), 0o644)
	return p
}

func packed(t *testing.T, data string, m Manifest) string {
	t.Helper()
	var b bytes.Buffer
	if err := Pack(&b, data, m); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "shard.tar")
	os.WriteFile(p, b.Bytes(), 0o644)
	return p
}

func TestMergeRefuses(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "products", "a"), 0o755)
	os.WriteFile(filepath.Join(src, "products", "a", "deployments.json"), []byte("x"), 0o644)
	ps := products("a", "b")
	good := func(shard string, now time.Time, prods ...string) string {
		return packed(t, src, Manifest{Shard: shard, Now: now, Products: prods, Files: []string{"products/a/deployments.json"}})
	}
	for _, tc := range []struct {
		name     string
		archives []string
		count    int
		want     string
	}{
		{"another count", []string{good("1/3", runAt, "a")}, 2, "a run split in 3, this merge expects 2 shards"},
		{"another time", []string{good("1/2", runAt, "a"), packed(t, src, Manifest{Shard: "2/2", Now: runAt.Add(time.Minute), Products: []string{"b"}})}, 2,
			"shard 2/2 collected at 2026-06-30T12:01:00Z, this run is at 2026-06-30T12:00:00Z"},
		{"a shard twice", []string{good("1/2", runAt, "a"), good("1/2", runAt, "a")}, 2, "shard 1/2 is packed twice"},
		{"another config", []string{packed(t, src, Manifest{Shard: "2/2", Now: runAt, Products: []string{"a"}, Files: []string{"products/a/deployments.json"}})}, 2,
			"shard 2/2 collected [a], the config gives it [b]"},
		{"the same file twice", []string{good("1/2", runAt, "a"), packed(t, src, Manifest{Shard: "2/2", Now: runAt, Products: []string{"a"}, Files: []string{"products/a/deployments.json"}})}, 2,
			"data/products/a/deployments.json: written by shard 1/2 and by shard 2/2"},
		{"a path out of data/", []string{tarOf(t, [2]string{"manifest.json", `{"format":1,"shard":"1/2","now":"2026-06-30T12:00:00Z","products":["a"],"files":["../x"]}`},
			[2]string{"data/../x", "x"})}, 2, `entry "data/../x": want a regular file under data/`},
		{"files not in the manifest", []string{tarOf(t, [2]string{"manifest.json", `{"format":1,"shard":"1/2","now":"2026-06-30T12:00:00Z","products":["a"],"files":[]}`},
			[2]string{"data/products/a/x.json", "x"})}, 2, "do not match the manifest"},
		{"another format", []string{tarOf(t, [2]string{"manifest.json", `{"format":9}`})}, 2, "archive format 9, this portfolio reads 1"},
		{"not an archive", []string{tarOf(t, [2]string{"data/x", "x"})}, 2, "not a shard archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st := store.Open(dir)
			_, err := Merge(MergeOptions{Store: st, Products: ps, Count: tc.count, Sources: []string{"probe"}, Archives: tc.archives})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Merge: %v, want an error saying %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a refused merge wrote %d entries into data/", len(entries))
			}
		})
	}
	var ce *ConflictError
	_, err := Merge(MergeOptions{Store: store.Open(t.TempDir()), Products: ps, Archives: []string{good("1/2", runAt, "a"),
		packed(t, src, Manifest{Shard: "2/2", Now: runAt, Products: []string{"a"}, Files: []string{"products/a/deployments.json"}})}})
	if !errors.As(err, &ce) || ce.Path != "products/a/deployments.json" {
		t.Errorf("Merge of two archives holding one file: %v, want a *ConflictError", err)
	}
}

func TestPackRefusesOtherProductsFiles(t *testing.T) {
	err := Pack(&bytes.Buffer{}, t.TempDir(), Manifest{Shard: "1/2", Products: []string{"a"}, Files: []string{"products/b/incidents.json", "meta.json"},
		Deleted: []string{"snapshots/2026-06/a.30.jsonl"}})
	var oe *OutsideError
	if !errors.As(err, &oe) || strings.Join(oe.Paths, " ") != "meta.json products/b/incidents.json" {
		t.Errorf("Pack: %v, want an *OutsideError naming meta.json and b's file", err)
	}
}

// TestMergeMarksMissingShardsTimedOut: without shard 2's archive, its product gets a snapshot at
// the run's time with every source timed_out (last_ok and the failure count carried as the
// collect loop carries them; a skipped source stays skipped), once: a second merge adds nothing.
func TestMergeMarksMissingShardsTimedOut(t *testing.T) {
	st := store.Open(t.TempDir())
	before := runAt.Add(-15 * time.Minute)
	prev := record.Snapshot{Time: before, Sources: map[string]record.SourceStatus{
		"github": {State: record.StateOK}, "probe": {State: record.StateSkipped, Msg: "no health_endpoint"},
		"posthog": record.SourceStatus{}.Next(before.Add(-time.Hour), record.StateError, "HTTP 500"),
	}}
	for _, id := range []string{"a", "b"} {
		if err := st.AppendSnapshot(id, prev); err != nil {
			t.Fatal(err)
		}
	}
	opts := MergeOptions{Store: st, Products: products("a", "b", "c"), Count: 2, Now: runAt, Sources: []string{"github", "posthog", "probe"}}
	res, err := Merge(opts)
	if err != nil || len(res.Missing) != 2 || len(res.Stale) != 3 || !res.Failed() {
		t.Fatalf("Merge = %+v, %v; want both shards missing and a, b, c stale", res, err)
	}
	b, ok, err := st.LastSnapshot("b")
	if err != nil || !ok || !b.Time.Equal(runAt) {
		t.Fatalf("b: %+v, %v", b, err)
	}
	gh, ph, pr := b.Sources["github"], b.Sources["posthog"], b.Sources["probe"]
	if gh.State != record.StateTimedOut || gh.Fails != 1 || gh.LastOK == nil || !gh.LastOK.Equal(before) ||
		!strings.Contains(gh.Msg, "shard 2/2 delivered no data") {
		t.Errorf("github = %+v, want timed_out, 1 failure, last ok at the previous run", gh)
	}
	if ph.State != record.StateTimedOut || ph.Fails != 2 {
		t.Errorf("posthog = %+v, want timed_out and its second failure in a row", ph)
	}
	if pr.State != record.StateSkipped || pr.Msg != "no health_endpoint" {
		t.Errorf("probe = %+v, want still skipped for its reason", pr)
	}
	c, _, _ := st.LastSnapshot("c")
	if c.Sources["probe"].State != record.StateTimedOut || !c.Time.Equal(runAt) {
		t.Errorf("c (no history) = %+v, want every source timed_out", c)
	}
	again, err := Merge(opts)
	if err != nil || len(again.Stale) != 0 {
		t.Errorf("a second merge at the same time: %+v, %v; want nothing marked", again, err)
	}
	if snaps, _ := st.Snapshots("b", before, runAt.Add(time.Hour)); len(snaps) != 2 {
		t.Errorf("b has %d snapshots, want 2", len(snaps))
	}
}
