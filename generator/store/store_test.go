package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func snap(t time.Time, ms int) record.Snapshot {
	return record.Snapshot{Time: t, Probe: &record.Probe{Code: 200, Ms: ms}}
}

// snapshotPath is where the product's log for the month of t lives.
func snapshotPath(st *Store, product string, t time.Time) string {
	return st.path(snapshotFile(product, t.UTC().Format(monthLayout)))
}

// leftovers lists the temporary files left in dir and below.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var tmp []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			tmp = append(tmp, p)
		}
		return nil
	})
	return tmp
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteDocFormat(t *testing.T) {
	st := Open(t.TempDir())
	k := Kind{Name: "things", Version: 3}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"slice one element a line", []map[string]int{{"a": 1}, {"b": 2}},
			"{\"schema_version\":3,\"kind\":\"things\",\"data\":[\n{\"a\":1},\n{\"b\":2}\n]}\n"},
		{"empty slice", []int{}, "{\"schema_version\":3,\"kind\":\"things\",\"data\":[\n]}\n"},
		{"object: a field a line, HTML not escaped", map[string]string{"title": "<b>&</b>"},
			"{\"schema_version\":3,\"kind\":\"things\",\"data\":\n{\n\"title\":\"<b>&</b>\"\n}\n}\n"},
		{"object: array fields one element a line", struct {
			LastRun string           `json:"last_run"`
			Alerts  []map[string]int `json:"alerts"`
			None    []int            `json:"none"`
		}{"t", []map[string]int{{"a": 1}, {"b": 2}}, []int{}},
			"{\"schema_version\":3,\"kind\":\"things\",\"data\":\n{\n\"last_run\":\"t\",\n\"alerts\":[\n{\"a\":1},\n{\"b\":2}\n],\n\"none\":[]\n}\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := st.WriteDoc("x.json", k, tt.v); err != nil {
				t.Fatal(err)
			}
			if got := string(mustRead(t, st.path("x.json"))); got != tt.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tt.want)
			}
			// What was written reads back.
			back := reflect.New(reflect.TypeOf(tt.v))
			if ok, err := st.ReadDoc("x.json", k, back.Interface()); !ok || err != nil {
				t.Fatalf("ReadDoc = %v, %v", ok, err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), tt.v) {
				t.Errorf("read back %v, want %v", back.Elem().Interface(), tt.v)
			}
		})
	}
}

// TestCrashSafety fails a write at each step and checks that the previous file is intact and
// readable and that no temporary file is left behind.
func TestCrashSafety(t *testing.T) {
	errDisk := errors.New("no space left on device")
	faultsTable := []struct {
		name    string
		faults  faults
		wantErr string
	}{
		{"write fails halfway", faults{write: func(f *os.File, b []byte) (int, error) {
			n, _ := f.Write(b[:len(b)/2])
			return n, errDisk
		}}, "write "},
		{"rename fails", faults{rename: func(string, string) error { return errDisk }}, "rename "},
	}
	writers := []struct {
		name  string
		file  func(st *Store) string
		first func(st *Store) error // writes the previous version
		next  func(st *Store) error // the write that fails
		check func(t *testing.T, st *Store)
	}{
		{
			name: "WriteDoc",
			file: func(st *Store) string { return st.path("products/api/deployments.json") },
			first: func(st *Store) error {
				return st.SaveDeployments("api", []record.Deployment{{ID: "run:1", Outcome: "success"}})
			},
			next: func(st *Store) error {
				return st.SaveDeployments("api", []record.Deployment{{ID: "run:1", Outcome: "success"}, {ID: "run:2", Outcome: "failure"}})
			},
			check: func(t *testing.T, st *Store) {
				d, err := st.Deployments("api")
				if err != nil || len(d) != 1 || d[0].ID != "run:1" {
					t.Errorf("Deployments after failed write = %+v, %v; want the previous run:1", d, err)
				}
			},
		},
		{
			name:  "AppendSnapshot",
			file:  func(st *Store) string { return snapshotPath(st, "api", t0) },
			first: func(st *Store) error { return st.AppendSnapshot("api", snap(t0, 100)) },
			next:  func(st *Store) error { return st.AppendSnapshot("api", snap(t0.Add(15*time.Minute), 200)) },
			check: func(t *testing.T, st *Store) {
				last, ok, err := st.LastSnapshot("api")
				if err != nil || !ok || !last.Time.Equal(t0) || last.Probe.Ms != 100 {
					t.Errorf("LastSnapshot after failed append = %+v, %v, %v; want the previous one at %s", last, ok, err, t0)
				}
			},
		},
	}
	for _, w := range writers {
		for _, f := range faultsTable {
			t.Run(w.name+"/"+f.name, func(t *testing.T) {
				dir := t.TempDir()
				st := Open(dir)
				if err := w.first(st); err != nil {
					t.Fatal(err)
				}
				before := mustRead(t, w.file(st))
				st.faults = &f.faults
				err := w.next(st)
				if err == nil || !errors.Is(err, errDisk) || !strings.Contains(err.Error(), f.wantErr+w.file(st)) {
					t.Fatalf("error = %v, want %q naming the file and wrapping %q", err, f.wantErr+w.file(st), errDisk)
				}
				if after := mustRead(t, w.file(st)); !bytes.Equal(before, after) {
					t.Errorf("file changed by a failed write:\n%s\nwant:\n%s", after, before)
				}
				if tmp := leftovers(t, dir); len(tmp) > 0 {
					t.Errorf("temporary files left behind: %v", tmp)
				}
				st.faults = nil
				w.check(t, st)
			})
		}
	}
}

func TestCorruptFilesAreRejected(t *testing.T) {
	header := `{"schema_version":1,"kind":"snapshots","product":"api","month":"2026-11"}` + "\n"
	line1 := `{"t":"2026-11-28T12:00:00Z","probe":{"code":200,"ms":100}}` + "\n"
	h, l1 := len(header), len(line1)
	tests := []struct {
		name    string
		file    string // relative to the data folder
		content string
		read    func(st *Store) error
		offset  int64
		want    string // the message after "<path>: "
	}{
		{
			name: "snapshot log: truncated last line", file: "snapshots/2026-11/api.jsonl",
			content: header + line1 + `{"t":"2026-11-28T12:15:00Z","pro`,
			offset:  int64(h + l1 + 32),
			want:    fmt.Sprintf("byte %d (line 3): truncated: the last line (from byte %d) has no newline", h+l1+32, h+l1),
		},
		{
			name: "snapshot log: malformed line", file: "snapshots/2026-11/api.jsonl",
			content: header + line1 + `{"t":"2026-11-28T12:15:00Z",probe}` + "\n",
			offset:  int64(h + l1 + 28),
			want:    fmt.Sprintf("byte %d (line 3): malformed JSON: invalid character 'p' looking for beginning of object key string", h+l1+28),
		},
		{
			name: "snapshot log: wrong type", file: "snapshots/2026-11/api.jsonl",
			content: header + `{"t":"2026-11-28T12:00:00Z","probe":{"code":"200"}}` + "\n",
			offset:  int64(h + 49),
			want:    fmt.Sprintf("byte %d (line 2): malformed: json: cannot unmarshal string into Go struct field Probe.probe.code of type int", h+49),
		},
		{
			name: "snapshot log: empty line", file: "snapshots/2026-11/api.jsonl",
			content: header + "\n" + line1,
			offset:  int64(h),
			want:    fmt.Sprintf("byte %d (line 2): malformed: empty line", h),
		},
		{
			name: "snapshot log: out of order", file: "snapshots/2026-11/api.jsonl",
			content: header + line1 + line1,
			offset:  int64(h + l1),
			want:    fmt.Sprintf("byte %d (line 3): malformed: snapshot at 2026-11-28T12:00:00Z is not after the one before (2026-11-28T12:00:00Z)", h+l1),
		},
		{
			name: "snapshot log: empty file", file: "snapshots/2026-11/api.jsonl",
			content: "",
			want:    "byte 0 (line 1): truncated: empty file, want a header line",
		},
		{
			name: "document: truncated", file: "products/api/deployments.json",
			content: "{\"schema_version\":1,\"kind\":\"deployments\",\"data\":[\n{\"id\":\"run:1\"",
			read:    func(st *Store) error { _, err := st.Deployments("api"); return err },
			offset:  63,
			want:    "byte 63 (line 2): truncated: unexpected end of JSON input",
		},
		{
			name: "document: malformed", file: "products/api/incidents.json",
			content: "{\"schema_version\":1,\"kind\":\"incidents\",\"data\":[\n{\"number\":1,}\n]}\n",
			read:    func(st *Store) error { _, err := st.Incidents("api"); return err },
			offset:  60,
			want:    "byte 60 (line 2): malformed JSON: invalid character '}' looking for beginning of object key string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			path := st.path(tt.file)
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			read := tt.read
			if read == nil {
				read = func(st *Store) error {
					_, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0.AddDate(0, 1, 0))
					return err
				}
			}
			err := read(st)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a *CorruptError", err)
			}
			if want := path + ": " + tt.want; err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
			if ce.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d", ce.Offset, tt.offset)
			}
			if strings.HasSuffix(tt.file, ".jsonl") {
				// Appending to a damaged log is refused too, and the file is left as it was.
				if err := st.AppendSnapshot("api", snap(t0.Add(time.Hour), 1)); !errors.As(err, &ce) {
					t.Errorf("AppendSnapshot error = %v, want a *CorruptError", err)
				}
				if got := string(mustRead(t, path)); got != tt.content {
					t.Errorf("file changed:\n%s", got)
				}
			}
		})
	}
}

func TestNewerSchemaIsRefusedAndNotRewritten(t *testing.T) {
	newer := func(kind string) string {
		return `{"schema_version":99,"kind":"` + kind + `","data":[` + "\n" + `{"id":"run:1","future":true}` + "\n]}\n"
	}
	tests := []struct {
		name    string
		file    string
		content string
		op      func(st *Store) error
	}{
		{"WriteDoc", "products/api/deployments.json", newer("deployments"),
			func(st *Store) error { return st.SaveDeployments("api", []record.Deployment{{ID: "run:2"}}) }},
		{"WriteDoc with a long first line", "products/api/incidents.json",
			`{"schema_version":99,"kind":"incidents","data":[{"number":1,"title":"` + strings.Repeat("x", 5000) + `"}]}`,
			func(st *Store) error { return st.SaveIncidents("api", nil) }},
		{"ReadDoc", "products/api/deployments.json", newer("deployments"),
			func(st *Store) error { _, err := st.Deployments("api"); return err }},
		{"AppendSnapshot", "snapshots/2026-11/api.jsonl",
			`{"schema_version":99,"kind":"snapshots","product":"api","month":"2026-11"}` + "\n" + `{"t":"2026-11-28T11:00:00Z","new":1}` + "\n",
			func(st *Store) error { return st.AppendSnapshot("api", snap(t0, 1)) }},
		{"AppendSnapshots", "snapshots/2026-11/api.jsonl",
			`{"schema_version":99,"kind":"snapshots","product":"api","month":"2026-11"}` + "\n",
			func(st *Store) error {
				return st.AppendSnapshots("api", []record.Snapshot{snap(t0, 1), snap(t0.Add(time.Hour), 2)})
			}},
		{"Snapshots", "snapshots/2026-11/api.jsonl",
			`{"schema_version":99,"kind":"snapshots","product":"api","month":"2026-11"}` + "\n",
			func(st *Store) error { _, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			path := st.path(tt.file)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, []byte(tt.content), 0o644)
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			os.Chtimes(path, old, old)

			err := tt.op(st)
			var ne *NewerSchemaError
			if !errors.As(err, &ne) || ne.Found != 99 || ne.Current != 1 {
				t.Fatalf("error = %v, want a *NewerSchemaError 99 > 1", err)
			}
			want := path + ": schema_version 99 is newer than this portfolio binary knows (1): upgrade portfolio; the file was left untouched"
			if err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
			if got := string(mustRead(t, path)); got != tt.content {
				t.Errorf("file rewritten:\n%s", got)
			}
			if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
				t.Errorf("mtime changed to %s", fi.ModTime())
			}
		})
	}
}

// widgetsV2 renames v1's "n" to "count" in each element.
var widgetsV2 = Kind{Name: "widgets", Version: 2, Migrations: []Migration{
	func(data json.RawMessage) (json.RawMessage, error) {
		var v1 []struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(data, &v1); err != nil {
			return nil, err
		}
		v2 := make([]map[string]int, len(v1))
		for i, w := range v1 {
			v2[i] = map[string]int{"count": w.N}
		}
		return json.Marshal(v2)
	},
}}

// snapshotsV2 moves v1's top-level "ms" into the probe: one line at a time.
var snapshotsV2 = Kind{Name: "snapshots", Version: 2, Migrations: []Migration{
	func(line json.RawMessage) (json.RawMessage, error) {
		var v1 map[string]any
		if err := json.Unmarshal(line, &v1); err != nil {
			return nil, err
		}
		if ms, ok := v1["ms"]; ok {
			v1["probe"] = map[string]any{"code": 200, "ms": ms}
			delete(v1, "ms")
		}
		return json.Marshal(v1)
	},
}}

func TestMigrations(t *testing.T) {
	const v1Snapshots = `{"schema_version":1,"kind":"snapshots","product":"api","month":"2026-11"}
{"t":"2026-11-28T11:00:00Z","ms":120}
{"t":"2026-11-28T11:15:00Z","ms":130}
`
	t.Run("document v1 read through the migration", func(t *testing.T) {
		st := Open(t.TempDir())
		os.WriteFile(st.path("w.json"), []byte("{\"schema_version\":1,\"kind\":\"widgets\",\"data\":[\n{\"n\":3},\n{\"n\":5}\n]}\n"), 0o644)
		var got []struct {
			Count int `json:"count"`
		}
		if ok, err := st.ReadDoc("w.json", widgetsV2, &got); !ok || err != nil {
			t.Fatalf("ReadDoc = %v, %v", ok, err)
		}
		if len(got) != 2 || got[0].Count != 3 || got[1].Count != 5 {
			t.Errorf("got %+v, want counts 3 and 5", got)
		}
	})
	t.Run("snapshot log v1 read line by line", func(t *testing.T) {
		st := Open(t.TempDir())
		st.snapshots = snapshotsV2
		path := snapshotPath(st, "api", t0)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(v1Snapshots), 0o644)
		got, err := st.Snapshots("api", t0.Add(-2*time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Probe.Ms != 120 || got[1].Probe.Ms != 130 {
			t.Errorf("got %+v, want probes of 120 and 130 ms", got)
		}
	})
	t.Run("append to a v1 log rewrites it at v2 once", func(t *testing.T) {
		st := Open(t.TempDir())
		st.snapshots = snapshotsV2
		path := snapshotPath(st, "api", t0)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(v1Snapshots), 0o644)
		if err := st.AppendSnapshot("api", snap(t0, 140)); err != nil {
			t.Fatal(err)
		}
		want := `{"schema_version":2,"kind":"snapshots","product":"api","month":"2026-11"}
{"t":"2026-11-28T11:00:00Z","probe":{"code":200,"ms":120}}
{"t":"2026-11-28T11:15:00Z","probe":{"code":200,"ms":130}}
{"t":"2026-11-28T12:00:00Z","probe":{"code":200,"ms":140}}
`
		if got := string(mustRead(t, path)); got != want {
			t.Errorf("file:\n%s\nwant:\n%s", got, want)
		}
	})
	missing := []struct {
		name string
		run  func(st *Store) error
		file string
		want string
	}{
		{"document", func(st *Store) error {
			var v any
			_, err := st.ReadDoc("w.json", Kind{Name: "widgets", Version: 3, Migrations: widgetsV2.Migrations}, &v)
			return err
		}, "w.json", `: schema_version 1 of kind "widgets" cannot be read: this binary has no migration from version 2 to 3`},
		{"snapshot log", func(st *Store) error {
			st.snapshots = Kind{Name: "snapshots", Version: 2}
			_, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0)
			return err
		}, "snapshots/2026-11/api.jsonl", `: schema_version 1 of kind "snapshots" cannot be read: this binary has no migration from version 1 to 2`},
	}
	for _, tt := range missing {
		t.Run("missing migration/"+tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			os.WriteFile(st.path("w.json"), []byte("{\"schema_version\":1,\"kind\":\"widgets\",\"data\":[\n]}\n"), 0o644)
			path := snapshotPath(st, "api", t0)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, []byte(v1Snapshots), 0o644)
			err := tt.run(st)
			if want := st.path(tt.file) + tt.want; err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
	t.Run("a failing migration names the line", func(t *testing.T) {
		st := Open(t.TempDir())
		st.snapshots = Kind{Name: "snapshots", Version: 2, Migrations: []Migration{
			func(line json.RawMessage) (json.RawMessage, error) {
				if bytes.Contains(line, []byte("130")) {
					return nil, errors.New("cannot convert 130")
				}
				return line, nil
			},
		}}
		path := snapshotPath(st, "api", t0)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(v1Snapshots), 0o644)
		_, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0)
		want := path + ": byte 112 (line 3): migrate schema_version 1 to 2: cannot convert 130"
		if err == nil || err.Error() != want {
			t.Errorf("error:\n%v\nwant:\n%s", err, want)
		}
	})
}

func TestUnchangedWriteDocKeepsTheFile(t *testing.T) {
	st := Open(t.TempDir())
	deps := []record.Deployment{{ID: "run:1", SHA: "abc", Time: t0, Outcome: "success"}}
	if err := st.SaveDeployments("api", deps); err != nil {
		t.Fatal(err)
	}
	path := st.path("products/api/deployments.json")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	os.Chtimes(path, old, old)
	if err := st.SaveDeployments("api", deps); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Errorf("unchanged write touched the file: mtime %s, want %s", fi.ModTime(), old)
	}
	deps = append(deps, record.Deployment{ID: "run:2", Time: t0.Add(time.Hour), Outcome: "failure"})
	if err := st.SaveDeployments("api", deps); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.ModTime().Equal(old) {
		t.Errorf("changed write did not write the file")
	}
}

func TestAppendSnapshotRefusesOutOfOrder(t *testing.T) {
	nov, dec := t0, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		existing []record.Snapshot
		add      []record.Snapshot
		want     string // error, with {nov} and {dec} for the files
	}{
		{"same time", []record.Snapshot{snap(nov, 1)}, []record.Snapshot{snap(nov, 2)},
			"{nov}: snapshot at 2026-11-28T12:00:00Z is not after the last one (2026-11-28T12:00:00Z)"},
		{"earlier time", []record.Snapshot{snap(nov, 1)}, []record.Snapshot{snap(nov.Add(-15*time.Minute), 2)},
			"{nov}: snapshot at 2026-11-28T11:45:00Z is not after the last one (2026-11-28T12:00:00Z)"},
		{"same instant in another zone", []record.Snapshot{snap(nov, 1)}, []record.Snapshot{snap(nov.In(time.FixedZone("CET", 3600)), 2)},
			"{nov}: snapshot at 2026-11-28T12:00:00Z is not after the last one (2026-11-28T12:00:00Z)"},
		{"earlier month than the last file", []record.Snapshot{snap(dec, 1)}, []record.Snapshot{snap(nov, 2)},
			"{nov}: snapshot at 2026-11-28T12:00:00Z is not after the last one, in {dec}"},
		{"out of order within a batch", nil, []record.Snapshot{snap(nov, 1), snap(nov.Add(-time.Minute), 2)},
			"{nov}: snapshot at 2026-11-28T11:59:00Z is not after the last one (2026-11-28T12:00:00Z)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			if err := st.AppendSnapshots("api", tt.existing); err != nil {
				t.Fatal(err)
			}
			before := map[string]string{}
			for _, m := range []time.Time{nov, dec} {
				b, _ := os.ReadFile(snapshotPath(st, "api", m))
				before[snapshotPath(st, "api", m)] = string(b)
			}
			err := st.AppendSnapshots("api", tt.add)
			want := strings.NewReplacer("{nov}", snapshotPath(st, "api", nov), "{dec}", snapshotPath(st, "api", dec)).Replace(tt.want)
			if err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
			for p, b := range before {
				if got, _ := os.ReadFile(p); string(got) != b {
					t.Errorf("%s changed:\n%s", p, got)
				}
			}
		})
	}
}

func TestSnapshotsSplitPerUTCMonth(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	// 00:30 on 1 December in Berlin is still 30 November in UTC.
	times := []time.Time{
		time.Date(2026, 11, 30, 23, 15, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 0, 30, 0, 0, berlin),
		time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	st := Open(t.TempDir())
	for i, tm := range times[:2] {
		if err := st.AppendSnapshot("api", snap(tm, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AppendSnapshots("api", []record.Snapshot{snap(times[2], 2), snap(times[3], 3)}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]int{"2026-11": {0, 1}, "2026-12": {2}, "2027-01": {3}}
	for month, ms := range files {
		path := st.path(snapshotFile("api", month))
		var want strings.Builder
		fmt.Fprintf(&want, `{"schema_version":1,"kind":"snapshots","product":"api","month":"%s"}`+"\n", month)
		for _, i := range ms {
			fmt.Fprintf(&want, `{"t":"%s","probe":{"code":200,"ms":%d}}`+"\n", times[i].UTC().Format(time.RFC3339), i)
		}
		if got := string(mustRead(t, path)); got != want.String() {
			t.Errorf("%s:\n%s\nwant:\n%s", path, got, want.String())
		}
	}
	ranges := []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"all", times[0], times[3].Add(time.Second), []int{0, 1, 2, 3}},
		{"to is exclusive", times[0], times[3], []int{0, 1, 2}},
		{"across the month boundary", times[1], times[2].Add(time.Second), []int{1, 2}},
		{"none", times[3].Add(time.Second), times[3].Add(time.Hour), nil},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			got, err := st.Snapshots("api", r.from, r.to)
			if err != nil {
				t.Fatal(err)
			}
			var ms []int
			for _, s := range got {
				ms = append(ms, s.Probe.Ms)
			}
			if !reflect.DeepEqual(ms, r.want) {
				t.Errorf("got %v, want %v", ms, r.want)
			}
		})
	}
	if last, ok, err := st.LastSnapshot("api"); err != nil || !ok || last.Probe.Ms != 3 {
		t.Errorf("LastSnapshot = %+v, %v, %v; want the January one", last, ok, err)
	}
	if _, ok, err := st.LastSnapshot("none"); ok || err != nil {
		t.Errorf("LastSnapshot of a product without data = %v, %v; want false, nil", ok, err)
	}
}

func TestProductsAndRemoveProduct(t *testing.T) {
	st := Open(t.TempDir())
	dec := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, id := range []string{"api", "web"} {
		if err := st.AppendSnapshots(id, []record.Snapshot{snap(t0, 1), snap(dec, 2)}); err != nil {
			t.Fatal(err)
		}
	}
	st.SaveIncidents("docs", nil) // records without snapshots
	if ids, err := st.Products(); err != nil || strings.Join(ids, " ") != "api docs web" {
		t.Errorf("Products = %v, %v; want api docs web", ids, err)
	}
	st.SaveDeployments("api", nil)
	if err := st.RemoveProduct("api"); err != nil {
		t.Fatal(err)
	}
	if ids, err := st.Products(); err != nil || strings.Join(ids, " ") != "docs web" {
		t.Errorf("after RemoveProduct(api): Products = %v, %v; want docs web", ids, err)
	}
	if snaps, err := st.Snapshots("web", t0, dec.Add(time.Second)); err != nil || len(snaps) != 2 {
		t.Errorf("web's snapshots after removing api: %d, %v; want 2", len(snaps), err)
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if err := st.RemoveProduct(bad); err == nil {
			t.Errorf("RemoveProduct(%q) succeeded", bad)
		}
	}
}
