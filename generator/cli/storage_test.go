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
)

// TestWritingCommandsRefuseNowAhead: --now more than 5 minutes ahead of the wall clock is
// refused with exit 2 by every command that writes data/, before anything is written; a little
// ahead, or a command that writes no data, goes on.
func TestWritingCommandsRefuseNowAhead(t *testing.T) {
	wall, _ := time.Parse(time.RFC3339, collectNow)
	tests := []struct {
		name    string
		args    []string
		ahead   time.Duration
		refused bool
	}{
		{"collect 6 minutes ahead", []string{"collect"}, 6 * time.Minute, true},
		{"run 1 hour ahead", []string{"run", "--skip", "publish"}, time.Hour, true},
		{"alert a day ahead", []string{"alert"}, 24 * time.Hour, true},
		{"demo a year ahead", []string{"demo", "--days", "1"}, 365 * 24 * time.Hour, true},
		{"collect 4 minutes ahead", []string{"collect"}, 4 * time.Minute, false},
		{"alert --dry-run writes nothing", []string{"alert", "--dry-run"}, 24 * time.Hour, false},
		{"build writes no data", []string{"build"}, 24 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCollectWorld(t)
			now := wall.Add(tt.ahead).Format(time.RFC3339)
			var stdout, stderr bytes.Buffer
			args := append([]string{tt.args[0], "--config", w.config, "--data", w.data, "--out", filepath.Join(w.dir, "public"), "--now", now}, tt.args[1:]...)
			code := (&Command{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return w.env[k] }, Sleep: noSleep,
				Clock: func() time.Time { return wall }}).Main(args)
			out := stdout.String() + stderr.String()
			if tt.refused {
				if code != ExitUsage || !strings.Contains(out, "ahead of the clock (2026-06-30T12:00:00Z): refusing to write data stamped in the future") {
					t.Fatalf("exit %d, want 2 and the reason:\n%s", code, out)
				}
				if _, err := os.Stat(w.data); !os.IsNotExist(err) {
					t.Errorf("data/ was written before the refusal: %v", err)
				}
				return
			}
			if code == ExitUsage {
				t.Fatalf("exit 2:\n%s", out)
			}
		})
	}
}

// TestCollectTwiceAtTheSameNowCLI: the second collect at the same --now exits 0 and changes
// nothing in data/.
func TestCollectTwiceAtTheSameNowCLI(t *testing.T) {
	w := newCollectWorld(t)
	if code, out := w.run(); code != ExitOK {
		t.Fatalf("first collect: exit %d:\n%s", code, out)
	}
	before := digestTree(t, w.data)
	code, out := w.run()
	if code != ExitOK {
		t.Fatalf("second collect: exit %d, want 0:\n%s", code, out)
	}
	if after := digestTree(t, w.data); after != before {
		t.Error("the second collect at the same --now changed data/")
	}
	if !strings.Contains(out, "3 already collected at this time") {
		t.Errorf("the output does not say so:\n%s", out)
	}
}

func digestTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		b.WriteString(p + "\x00" + string(data) + "\x00")
		return nil
	})
	return b.String()
}

// TestRepairCommand: repair shows what it would do and changes nothing (exit 4); --write
// repairs, keeping the damaged file beside the log; a log of a newer schema is left alone.
func TestRepairCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st := store.Open(data)
	t0 := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := st.AppendSnapshot("shop", record.Snapshot{Time: t0.Add(time.Duration(i) * 15 * time.Minute), Probe: &record.Probe{Code: 200, Ms: i + 1}}); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(data, "snapshots", "2026-06", "shop.30.jsonl")
	good, _ := os.ReadFile(log)
	lines := strings.SplitAfter(string(good), "\n")
	damaged := lines[0] + lines[1] + "not json\n" + lines[3] + lines[2] + `{"t":"2026-06-30T13:00:00Z","pro`
	os.WriteFile(log, []byte(damaged), 0o644)

	repair := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := (&Command{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}).Main(append([]string{"repair", "--data", data}, args...))
		return code, out.String()
	}
	code, out := repair()
	if code != ExitChanges || !strings.Contains(out, log+":3: malformed JSON") ||
		!strings.Contains(out, "would drop line(s) 3, 5 and move the unterminated last line to shop.30.jsonl.torn, keeping 2 snapshot(s); the file as it is now is kept as shop.30.jsonl.damaged") {
		t.Fatalf("repair: exit %d, want 4 and the plan:\n%s", code, out)
	}
	if b, _ := os.ReadFile(log); string(b) != damaged {
		t.Fatal("repair without --write changed the log")
	}
	if code, out := repair("--write"); code != ExitOK || !strings.Contains(out, "repaired") {
		t.Fatalf("repair --write: exit %d:\n%s", code, out)
	}
	if b, _ := os.ReadFile(log + ".damaged"); string(b) != damaged {
		t.Error("the damaged file was not kept as .damaged")
	}
	snaps, err := st.Snapshots("shop", t0, t0.Add(time.Hour))
	if err != nil || len(snaps) != 2 || snaps[0].Probe.Ms != 1 || snaps[1].Probe.Ms != 3 {
		t.Errorf("after the repair: %+v, %v; want the 12:00 and 12:30 snapshots", snaps, err)
	}
	if code, out := repair(); code != ExitOK || !strings.Contains(out, "no damaged file") {
		t.Errorf("repair after --write: exit %d:\n%s", code, out)
	}

	newer := filepath.Join(data, "snapshots", "2026-07", "shop.01.jsonl")
	os.MkdirAll(filepath.Dir(newer), 0o755)
	os.WriteFile(newer, []byte(`{"schema_version":7,"kind":"snapshots","product":"shop","day":"2026-07-01"}`+"\n"), 0o644)
	if code, out := repair("--write"); code != ExitFailure || !strings.Contains(out, newer+":1: schema_version 7 is newer") || !strings.Contains(out, "upgrade portfolio") {
		t.Errorf("repair of a newer log: exit %d, want 1:\n%s", code, out)
	}
}

// TestDoraWithOneDamagedProduct: `portfolio dora` prints the other products and names the
// damaged file, exit 3.
func TestDoraWithOneDamagedProduct(t *testing.T) {
	w := newCollectWorld(t)
	if code, out := w.run(); code != ExitOK {
		t.Fatalf("collect: exit %d:\n%s", code, out)
	}
	bad := filepath.Join(w.data, "products", "shop", "incidents.json")
	os.WriteFile(bad, []byte("{\"schema_version\":1,\"kind\":\"incidents\",\"data\":[\n{\"number\":"), 0o644)
	var out bytes.Buffer
	code := (&Command{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}).Main(
		[]string{"dora", "--config", w.config, "--data", w.data, "--now", collectNow})
	if code != ExitSourcesFailed || !strings.Contains(out.String(), "shop: data damaged: "+bad+":2: ") || !strings.Contains(out.String(), "docs") {
		t.Errorf("exit %d, want 3, the other products and the damaged file:\n%s", code, out.String())
	}
}
