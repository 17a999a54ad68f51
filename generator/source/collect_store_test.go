package source_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/config"
	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
	"github.com/portfolio-report/portfolio/generator/store"
)

// endpointSource is a fakeSource that names its endpoints.
type endpointSource struct{ *fakeSource }

func (e endpointSource) Endpoint(p config.Product, kind string) string {
	return "GET /repos/acme/" + p.ID + "/" + kind + "s"
}

// TestCollectRefusesInvalidRecords: a record with a zero or missing field is not stored; the
// source's status says which endpoint answered it and which field was wrong; the valid records
// of the same answer are stored.
func TestCollectRefusesInvalidRecords(t *testing.T) {
	st := store.Open(t.TempDir())
	gh := endpointSource{&fakeSource{name: "github", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{Incidents: []record.Incident{
			{Number: 0, Title: "ghost"}, // an issue decoded from a malformed answer
			{Number: 8, Title: "checkout down", CreatedAt: t0.Add(-time.Hour)},
			{Number: 9, Title: "no date"},
		}}, nil
	}}}
	probe := &fakeSource{name: "probe", fn: func(context.Context, config.Product, time.Time) (source.Result, error) {
		return source.Result{Snapshot: record.Snapshot{Probe: &record.Probe{Code: 200, Ms: -3}}}, nil
	}}
	sum, err := source.Collect(context.Background(), source.Options{Products: products("shop"),
		Sources: []source.Source{gh, probe}, Store: st, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	incs, err := st.Incidents("shop")
	if err != nil || len(incs) != 1 || incs[0].Number != 8 {
		t.Errorf("stored incidents = %+v, %v; want #8 only", incs, err)
	}
	sn, _, _ := st.LastSnapshot("shop")
	want := "2 record(s) refused, not stored: github GET /repos/acme/shop/incidents: incident #0: number: want a positive number, got 0 (and 1 more)"
	if got := sn.Sources["github"]; got.State != record.StateError || got.Msg != want {
		t.Errorf("github status = %+v, want the error %q", got, want)
	}
	if sn.Probe != nil {
		t.Errorf("a probe of -3 ms was stored: %+v", sn.Probe)
	}
	if got := sn.Sources["probe"]; got.State != record.StateError || !strings.Contains(got.Msg, "probe.ms: want zero or more, got -3") {
		t.Errorf("probe status = %+v", got)
	}
	if !sum.Failed() || sum.Incidents != 1 {
		t.Errorf("Failed() = %v, incidents %d; want true, 1", sum.Failed(), sum.Incidents)
	}
}

// dataHash is a digest of every file under dir (names and bytes).
func dataHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00"))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

// TestCollectDamagedLogHurtsOneProduct damages one product's log in each way a log can be
// damaged: the other products are collected, the damaged one is left out and named with the
// file and line; a torn last line is repaired on the way and the product collected.
func TestCollectDamagedLogHurtsOneProduct(t *testing.T) {
	day := func(st *store.Store) string { return filepath.Join(st.Dir(), "snapshots/2026-06/web.30.jsonl") }
	header := `{"schema_version":2,"kind":"snapshots","product":"web","day":"2026-06-30"}` + "\n"
	line := `{"t":"2026-06-30T11:45:00Z"}` + "\n"
	tests := []struct {
		name    string
		content string // web's log
		where   string // the damage, after the path; "" for none
	}{
		{"garbage line", header + line + "#@!garbage\n", ":3"},
		{"out of order lines", header + line + `{"t":"2026-06-30T11:30:00Z"}` + "\n", ":3"},
		{"schema version from the future", strings.Replace(header, `"schema_version":2`, `"schema_version":9`, 1) + line, ":1"},
		{"unreadable file", "", ""},
		{"torn last line", header + line + `{"t":"2026-06-30T11:50:0`, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.Open(t.TempDir())
			path := day(st)
			os.MkdirAll(filepath.Dir(path), 0o755)
			if tt.name == "unreadable file" {
				os.MkdirAll(path, 0o755) // a folder where the file should be
			} else {
				os.WriteFile(path, []byte(tt.content), 0o644)
			}
			src := okSource("probe")
			sum, err := source.Collect(context.Background(), source.Options{Products: products("api", "web", "docs"),
				Sources: []source.Source{src}, Store: st, Now: t0})
			if err != nil {
				t.Fatalf("Collect failed for every product: %v", err)
			}
			for _, id := range []string{"api", "docs"} {
				if sn, ok, err := st.LastSnapshot(id); !ok || err != nil || !sn.Time.Equal(t0) {
					t.Errorf("%s not collected: %v, %v", id, ok, err)
				}
			}
			if tt.where == "-" { // repaired, collected
				if len(sum.Damaged) != 0 || len(sum.Notes) != 1 || !strings.Contains(sum.Notes[0], "moved to web.30.jsonl.torn") {
					t.Errorf("damaged %v, notes %q; want the torn line repaired", sum.Damaged, sum.Notes)
				}
				if sn, ok, err := st.LastSnapshot("web"); !ok || err != nil || !sn.Time.Equal(t0) {
					t.Errorf("web not collected after the repair: %v, %v", ok, err)
				}
				return
			}
			if len(sum.Damaged) != 1 || sum.Damaged[0].Product != "web" {
				t.Fatalf("Damaged = %+v, want web", sum.Damaged)
			}
			if txt := sum.Damaged[0].Text(); !strings.HasPrefix(txt, "data damaged: "+path+tt.where+": ") {
				t.Errorf("Text = %q, want data damaged: %s%s: …", txt, path, tt.where)
			}
			if slices.Contains(src.calls, "web") {
				t.Error("the sources were called for the damaged product")
			}
			if !sum.Failed() {
				t.Error("Failed() = false with a damaged product: the run must say some data is stale")
			}
			if tt.name != "unreadable file" {
				if b, _ := os.ReadFile(path); string(b) != tt.content {
					t.Errorf("the damaged log was changed:\n%s", b)
				}
			}
		})
	}
}

// TestCollectTwiceAtTheSameNow: the second run finds every product collected at that time,
// calls no source, changes nothing, and is not a failure.
func TestCollectTwiceAtTheSameNow(t *testing.T) {
	st := store.Open(t.TempDir())
	src := okSource("probe")
	o := source.Options{Products: products("api", "web"), Sources: []source.Source{src}, Store: st, Now: t0}
	if _, err := source.Collect(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	before := dataHash(t, st.Dir())
	calls := len(src.calls)
	sum, err := source.Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if after := dataHash(t, st.Dir()); after != before {
		t.Error("the second collect at the same now changed data/")
	}
	if len(src.calls) != calls || strings.Join(sum.Already, ",") != "api,web" || sum.Failed() {
		t.Errorf("calls %d → %d, Already %v, Failed %v; want no call, both already collected, no failure",
			calls, len(src.calls), sum.Already, sum.Failed())
	}
}

// TestCollectAfterALogAheadOfNow: snapshots stamped after now (a clock that ran ahead) are
// set aside and reported, and the run appends at now: never a permanent block.
func TestCollectAfterALogAheadOfNow(t *testing.T) {
	st := store.Open(t.TempDir())
	o := source.Options{Products: products("api"), Sources: []source.Source{okSource("probe")}, Store: st}
	for _, at := range []time.Time{t0, t0.AddDate(1, 0, 0)} { // a run a year ahead
		o.Now = at
		if _, err := source.Collect(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	o.Now = t0.Add(15 * time.Minute)
	sum, err := source.Collect(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Notes) != 1 || !strings.Contains(sum.Notes[0], "after now") || !strings.Contains(sum.Notes[0], ".ahead") {
		t.Errorf("Notes = %q, want the snapshot after now reported as set aside", sum.Notes)
	}
	if sn, ok, _ := st.LastSnapshot("api"); !ok || !sn.Time.Equal(o.Now) {
		t.Errorf("last snapshot = %v, want the one at now", sn.Time)
	}
}
