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

// snapshotPath is where the product's log for the day of t lives.
func snapshotPath(st *Store, product string, t time.Time) string {
	return st.path(dayRef(product, t).name())
}

// monthPath is where a version 1 log for the month of t lives.
func monthPath(st *Store, product string, t time.Time) string {
	return st.path(logRef{product: product, month: t.UTC().Format(monthLayout)}.name())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
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
		name   string
		faults faults
	}{
		{"write fails halfway", faults{write: func(f *os.File, b []byte) (int, error) {
			n, _ := f.Write(b[:len(b)/2])
			return n, errDisk
		}}},
		{"rename fails", faults{rename: func(string, string) error { return errDisk }}},
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
			name:  "AppendSnapshot to today's log",
			file:  func(st *Store) string { return snapshotPath(st, "api", t0) },
			first: func(st *Store) error { return st.AppendSnapshot("api", snap(t0, 100)) },
			next:  func(st *Store) error { return st.AppendSnapshot("api", snap(t0.Add(15*time.Minute), 200)) },
			check: func(t *testing.T, st *Store) {
				last, ok, err := st.LastSnapshot("api")
				if err != nil || !ok || !last.Time.Equal(t0) || last.Probe.Ms != 100 {
					t.Errorf("LastSnapshot after failed append = %+v, %v, %v; want the previous one at %s", last, ok, err, t0)
				}
				// The log takes the next append as if nothing happened.
				if err := st.AppendSnapshot("api", snap(t0.Add(30*time.Minute), 300)); err != nil {
					t.Fatal(err)
				}
				if got, err := st.Snapshots("api", t0, t0.Add(time.Hour)); err != nil || len(got) != 2 {
					t.Errorf("after the next append: %d snapshots, %v; want 2", len(got), err)
				}
			},
		},
		{
			name:  "AppendSnapshot starting a day's log",
			file:  func(st *Store) string { return snapshotPath(st, "api", t0.Add(24*time.Hour)) },
			first: func(st *Store) error { return st.AppendSnapshot("api", snap(t0, 100)) },
			next:  func(st *Store) error { return st.AppendSnapshot("api", snap(t0.Add(24*time.Hour), 200)) },
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
			if f.name == "rename fails" && w.name == "AppendSnapshot to today's log" {
				continue // an append renames nothing
			}
			t.Run(w.name+"/"+f.name, func(t *testing.T) {
				dir := t.TempDir()
				st := Open(dir)
				if err := w.first(st); err != nil {
					t.Fatal(err)
				}
				before, _ := os.ReadFile(w.file(st)) // nil: the write creates it
				st.faults = &f.faults
				err := w.next(st)
				if err == nil || !errors.Is(err, errDisk) || !strings.Contains(err.Error(), w.file(st)) {
					t.Fatalf("error = %v, want one naming %s and wrapping %q", err, w.file(st), errDisk)
				}
				if after, _ := os.ReadFile(w.file(st)); !bytes.Equal(before, after) {
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

const dayHeader = `{"schema_version":2,"kind":"snapshots","product":"api","day":"2026-11-28"}` + "\n"

func TestCorruptFilesAreRejected(t *testing.T) {
	header := dayHeader
	line1 := `{"t":"2026-11-28T12:00:00Z","probe":{"code":200,"ms":100}}` + "\n"
	h, l1 := len(header), len(line1)
	day := "snapshots/2026-11/api.28.jsonl"
	tests := []struct {
		name    string
		file    string // relative to the data folder
		content string
		read    func(st *Store) error
		offset  int64
		want    string // the message after "<path>: "
	}{
		{
			name: "snapshot log: garbage line", file: day,
			content: header + line1 + `{"t":"2026-11-28T12:15:00Z",probe}` + "\n",
			offset:  int64(h + l1 + 28),
			want:    fmt.Sprintf("byte %d (line 3): malformed JSON: invalid character 'p' looking for beginning of object key string", h+l1+28),
		},
		{
			name: "snapshot log: not JSON at all", file: day,
			content: header + line1 + "\x00\x00\x00garbage\n",
			offset:  int64(h + l1),
			want:    fmt.Sprintf("byte %d (line 3): malformed JSON: invalid character '\\x00' looking for beginning of value", h+l1),
		},
		{
			name: "snapshot log: wrong type", file: day,
			content: header + `{"t":"2026-11-28T12:00:00Z","probe":{"code":"200"}}` + "\n",
			offset:  int64(h + 49),
			want:    fmt.Sprintf("byte %d (line 2): malformed: json: cannot unmarshal string into Go struct field Probe.probe.code of type int", h+49),
		},
		{
			name: "snapshot log: empty line", file: day,
			content: header + "\n" + line1,
			offset:  int64(h),
			want:    fmt.Sprintf("byte %d (line 2): malformed: empty line", h),
		},
		{
			name: "snapshot log: out of order", file: day,
			content: header + line1 + line1,
			offset:  int64(h + l1),
			want:    fmt.Sprintf("byte %d (line 3): malformed: snapshot at 2026-11-28T12:00:00Z is not after the one before (2026-11-28T12:00:00Z)", h+l1),
		},
		{
			name: "snapshot log: a line of another day", file: day,
			content: header + `{"t":"2026-11-29T00:00:00Z"}` + "\n",
			offset:  int64(h),
			want:    fmt.Sprintf("byte %d (line 2): malformed: snapshot at 2026-11-29T00:00:00Z is not in the file's day 2026-11-28", h),
		},
		{
			name: "snapshot log: another product's header", file: day,
			content: strings.Replace(header, `"api"`, `"web"`, 1) + line1,
			want:    `byte 0 (line 1): malformed: the header names product "web", the file name "api"`,
		},
		{
			name: "snapshot log: empty file", file: day,
			content: "",
			want:    "byte 0 (line 1): truncated: empty file, want a header line",
		},
		{
			name: "version 1 month log: garbage line", file: "snapshots/2026-11/api.jsonl",
			content: v1Header + line1 + "{\n",
			offset:  int64(len(v1Header) + l1 + 1),
			want:    fmt.Sprintf("byte %d (line 3): truncated: unexpected end of JSON input", len(v1Header)+l1+1),
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
		{
			name: "document: wrong type", file: "products/api/incidents.json",
			content: "{\"schema_version\":1,\"kind\":\"incidents\",\"data\":[\n{\"number\":\"1\"}\n]}\n",
			read:    func(st *Store) error { _, err := st.Incidents("api"); return err },
			offset:  61,
			want:    "byte 61 (line 2): malformed: json: cannot unmarshal string into Go struct field Incident.number of type int",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			path := st.path(tt.file)
			writeFile(t, path, tt.content)
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
			if where, ok := Damage(err); !ok || where != fmt.Sprintf("%s:%d", path, ce.Line) {
				t.Errorf("Damage = %q, %v; want %s:%d", where, ok, path, ce.Line)
			}
			if strings.HasSuffix(tt.file, ".jsonl") {
				// Appending to a damaged log is refused too, and the file is left as it was.
				if err := st.AppendSnapshot("api", snap(t0.Add(time.Hour), 1)); !errors.As(err, &ce) {
					t.Errorf("AppendSnapshot error = %v, want a *CorruptError", err)
				}
				if _, _, err := st.LastSnapshot("api"); !errors.As(err, &ce) {
					t.Errorf("LastSnapshot error = %v, want a *CorruptError", err)
				}
				if got := string(mustRead(t, path)); got != tt.content {
					t.Errorf("file changed:\n%s", got)
				}
			}
		})
	}
}

func TestUnreadableFileIsDamage(t *testing.T) {
	st := Open(t.TempDir())
	path := snapshotPath(st, "api", t0)
	// A folder where the log should be: unreadable as a file, whoever runs the test (root
	// reads a file without permissions).
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := st.Snapshots("api", t0, t0.Add(time.Hour))
	var ue *UnreadableError
	if !errors.As(err, &ue) || ue.Path != path {
		t.Fatalf("error = %v, want an *UnreadableError for %s", err, path)
	}
	if where, ok := Damage(err); !ok || where != path {
		t.Errorf("Damage = %q, %v; want %s", where, ok, path)
	}
	if _, err := st.OpenLog("api"); !errors.As(err, &ue) {
		t.Errorf("OpenLog error = %v, want an *UnreadableError", err)
	}
}

// TestTornLastLine: a crash in the middle of an append leaves a last line without its
// newline. Readers leave it out; the next OpenLog moves it to a .torn file beside the log and
// says so, and the log goes on.
func TestTornLastLine(t *testing.T) {
	st := Open(t.TempDir())
	if err := st.AppendSnapshots("api", []record.Snapshot{snap(t0, 1), snap(t0.Add(15*time.Minute), 2)}); err != nil {
		t.Fatal(err)
	}
	path := snapshotPath(st, "api", t0)
	good := mustRead(t, path)
	torn := `{"t":"2026-11-28T12:30:00Z","pro`
	writeFile(t, path, string(good)+torn)

	got, err := st.Snapshots("api", t0, t0.Add(time.Hour))
	if err != nil || len(got) != 2 {
		t.Fatalf("Snapshots = %d, %v; want the 2 complete lines", len(got), err)
	}
	if last, ok, err := st.LastSnapshot("api"); err != nil || !ok || last.Probe.Ms != 2 {
		t.Fatalf("LastSnapshot = %+v, %v, %v; want the last complete line", last, ok, err)
	}
	if !bytes.Equal(mustRead(t, path), []byte(string(good)+torn)) {
		t.Fatal("a reader changed the file")
	}

	l, err := st.OpenLog("api")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Repaired) != 1 || !strings.Contains(l.Repaired[0], path+":4: the last line had no newline (32 bytes") ||
		!strings.Contains(l.Repaired[0], "moved to api.28.jsonl.torn") {
		t.Errorf("Repaired = %q", l.Repaired)
	}
	if got := string(mustRead(t, path+".torn")); got != torn+"\n" {
		t.Errorf(".torn holds %q, want the torn line", got)
	}
	if !bytes.Equal(mustRead(t, path), good) {
		t.Errorf("the log after the repair:\n%s\nwant:\n%s", mustRead(t, path), good)
	}
	if err := l.Append(snap(t0.Add(30*time.Minute), 3)); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Snapshots("api", t0, t0.Add(time.Hour)); err != nil || len(got) != 3 || got[2].Probe.Ms != 3 {
		t.Errorf("after the next append: %+v, %v", got, err)
	}
	if ids, _ := st.Products(); strings.Join(ids, " ") != "api" {
		t.Errorf("Products = %v: the .torn file is no product", ids)
	}
}

// TestAppendIsO1 appends to a product with a month of history: the append decodes today's
// log at most, writes one line with O_APPEND (the bytes before stay), and touches no other file.
func TestAppendIsO1(t *testing.T) {
	st := Open(t.TempDir())
	var hist []record.Snapshot
	start := t0.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour)
	for tm := start; !tm.After(t0); tm = tm.Add(15 * time.Minute) {
		hist = append(hist, snap(tm, len(hist)))
	}
	if err := st.AppendSnapshots("api", hist); err != nil {
		t.Fatal(err)
	}
	path := snapshotPath(st, "api", t0)
	before := mustRead(t, path)
	mtimes := map[string]time.Time{}
	filepath.WalkDir(st.Dir(), func(p string, d os.DirEntry, err error) error {
		if fi, err := d.Info(); err == nil && !d.IsDir() && p != path {
			mtimes[p] = fi.ModTime()
		}
		return nil
	})
	old := time.Now().Add(-time.Hour)
	for p := range mtimes {
		os.Chtimes(p, old, old)
	}

	decoded := st.LinesDecoded()
	if err := st.AppendSnapshot("api", snap(t0.Add(15*time.Minute), 1)); err != nil {
		t.Fatal(err)
	}
	today := int64(t0.Sub(t0.Truncate(24*time.Hour))/(15*time.Minute)) + 1
	if n := st.LinesDecoded() - decoded; n > today {
		t.Errorf("the append decoded %d lines, want at most today's %d", n, today)
	}
	after := mustRead(t, path)
	if !bytes.HasPrefix(after, before) || bytes.Count(after[len(before):], []byte{'\n'}) != 1 {
		t.Errorf("the log was not appended to with one line:\n%s", after[len(before):])
	}
	for p := range mtimes {
		if fi, _ := os.Stat(p); !fi.ModTime().Equal(old) {
			t.Errorf("%s was written by the append", p)
		}
	}
}

// TestStatusesOnlyWhenChanged writes statuses that stay, change, fail in a row, disappear
// and come back, across a day boundary: the log states each only where it changed (and all of
// them at the start of a day), and reading gives back exactly what was appended.
func TestStatusesOnlyWhenChanged(t *testing.T) {
	ok := record.SourceStatus{State: record.StateOK}
	skipped := record.SourceStatus{State: record.StateSkipped, Msg: "GITHUB_TOKEN not set"}
	at := func(i int) time.Time {
		return time.Date(2026, 11, 28, 23, 15, 0, 0, time.UTC).Add(time.Duration(i) * 15 * time.Minute)
	}
	lastOK := func(i int) *time.Time { t := at(i); return &t }
	failed := func(fails, okAt int) record.SourceStatus {
		return record.SourceStatus{State: record.StateError, Msg: "503", Fails: fails, LastOK: lastOK(okAt)}
	}
	src := func(kv ...any) map[string]record.SourceStatus {
		m := map[string]record.SourceStatus{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(record.SourceStatus)
		}
		return m
	}
	snaps := []record.Snapshot{
		{Time: at(0), Sources: src("github", skipped, "probe", ok)},
		{Time: at(1), Sources: src("github", skipped, "probe", ok)},                          // nothing changed
		{Time: at(2), Sources: src("github", skipped, "probe", failed(1, 1))},                // probe fails
		{Time: at(3), Sources: src("github", skipped, "probe", failed(2, 1))},                // next day: all stated
		{Time: at(4), Sources: src("github", skipped, "probe", failed(3, 1))},                // and again: implied
		{Time: at(5), Sources: src("github", skipped, "probe", ok)},                          // recovered
		{Time: at(6), Sources: src("probe", ok)},                                             // github no longer runs
		{Time: at(7), Sources: src("probe", ok, "github", skipped)},                          // and is back
		{Time: at(8), Sources: src("probe", ok, "github", skipped, "posthog", failed(7, 3))}, // odd but stored as is
		{Time: at(9)}, // no source ran
	}
	for i := range snaps {
		snaps[i].Probe = &record.Probe{Code: 200, Ms: i}
	}
	st := Open(t.TempDir())
	for _, sn := range snaps {
		if err := st.AppendSnapshot("api", sn); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Snapshots("api", at(0), at(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(snaps) {
		t.Fatalf("%d snapshots, want %d", len(got), len(snaps))
	}
	for i := range snaps {
		a, _ := json.Marshal(snaps[i])
		b, _ := json.Marshal(got[i])
		if string(a) != string(b) {
			t.Errorf("snapshot %d read back as\n%s\nwant\n%s", i, b, a)
		}
	}
	wantLines := map[string][]string{
		"2026-11-28": {
			`{"t":"2026-11-28T23:15:00Z","src":{"github":{"s":"skipped","msg":"GITHUB_TOKEN not set"},"probe":"ok"},"probe":{"code":200,"ms":0}}`,
			`{"t":"2026-11-28T23:30:00Z","probe":{"code":200,"ms":1}}`,
			`{"t":"2026-11-28T23:45:00Z","src":{"probe":{"s":"error","msg":"503","last_ok":"2026-11-28T23:30:00Z","fails":1}},"probe":{"code":200,"ms":2}}`,
		},
		"2026-11-29": {
			`{"t":"2026-11-29T00:00:00Z","src":{"github":{"s":"skipped","msg":"GITHUB_TOKEN not set"},"probe":{"s":"error","msg":"503","last_ok":"2026-11-28T23:30:00Z","fails":2}},"probe":{"code":200,"ms":3}}`,
			`{"t":"2026-11-29T00:15:00Z","probe":{"code":200,"ms":4}}`,
			`{"t":"2026-11-29T00:30:00Z","src":{"probe":"ok"},"probe":{"code":200,"ms":5}}`,
			`{"t":"2026-11-29T00:45:00Z","src":{"github":null},"probe":{"code":200,"ms":6}}`,
			`{"t":"2026-11-29T01:00:00Z","src":{"github":{"s":"skipped","msg":"GITHUB_TOKEN not set"}},"probe":{"code":200,"ms":7}}`,
			`{"t":"2026-11-29T01:15:00Z","src":{"posthog":{"s":"error","msg":"503","last_ok":"2026-11-29T00:00:00Z","fails":7}},"probe":{"code":200,"ms":8}}`,
			`{"t":"2026-11-29T01:30:00Z","src":{"github":null,"posthog":null,"probe":null},"probe":{"code":200,"ms":9}}`,
		},
	}
	for day, lines := range wantLines {
		d, _ := time.Parse(time.DateOnly, day)
		want := `{"schema_version":2,"kind":"snapshots","product":"api","day":"` + day + `"}` + "\n" + strings.Join(lines, "\n") + "\n"
		if got := string(mustRead(t, snapshotPath(st, "api", d))); got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", day, got, want)
		}
	}
	// A window that starts in the middle of a day still sees the statuses in force then.
	mid, err := st.Snapshots("api", at(4), at(5))
	if err != nil || len(mid) != 1 || !mid[0].Sources["probe"].Equal(failed(3, 1)) || !mid[0].Sources["github"].Equal(skipped) {
		t.Errorf("Snapshots from 00:15 = %+v, %v", mid, err)
	}
}

func TestNewerSchemaIsRefusedAndNotRewritten(t *testing.T) {
	newer := func(kind string) string {
		return `{"schema_version":99,"kind":"` + kind + `","data":[` + "\n" + `{"id":"run:1","future":true}` + "\n]}\n"
	}
	newerLog := `{"schema_version":99,"kind":"snapshots","product":"api","day":"2026-11-28"}` + "\n" + `{"t":"2026-11-28T11:00:00Z","new":1}` + "\n"
	day := "snapshots/2026-11/api.28.jsonl"
	tests := []struct {
		name    string
		file    string
		content string
		op      func(st *Store) error
		current int
	}{
		{"WriteDoc", "products/api/deployments.json", newer("deployments"),
			func(st *Store) error { return st.SaveDeployments("api", []record.Deployment{{ID: "run:2"}}) }, 1},
		{"WriteDoc with a long first line", "products/api/incidents.json",
			`{"schema_version":99,"kind":"incidents","data":[{"number":1,"title":"` + strings.Repeat("x", 5000) + `"}]}`,
			func(st *Store) error { return st.SaveIncidents("api", nil) }, 1},
		{"ReadDoc", "products/api/deployments.json", newer("deployments"),
			func(st *Store) error { _, err := st.Deployments("api"); return err }, 1},
		{"AppendSnapshot", day, newerLog,
			func(st *Store) error { return st.AppendSnapshot("api", snap(t0, 1)) }, 2},
		{"AppendSnapshot on a later day", day, newerLog,
			func(st *Store) error { return st.AppendSnapshot("api", snap(t0.Add(48*time.Hour), 1)) }, 2},
		{"Snapshots", day, newerLog,
			func(st *Store) error { _, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0); return err }, 2},
		{"LastSnapshot", day, newerLog,
			func(st *Store) error { _, _, err := st.LastSnapshot("api"); return err }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Open(t.TempDir())
			path := st.path(tt.file)
			writeFile(t, path, tt.content)
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			os.Chtimes(path, old, old)

			err := tt.op(st)
			var ne *NewerSchemaError
			if !errors.As(err, &ne) || ne.Found != 99 || ne.Current != tt.current {
				t.Fatalf("error = %v, want a *NewerSchemaError 99 > %d", err, tt.current)
			}
			want := fmt.Sprintf("%s: schema_version 99 is newer than this portfolio binary knows (%d): upgrade portfolio; the file was left untouched", path, tt.current)
			if err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
			if got := string(mustRead(t, path)); got != tt.content {
				t.Errorf("file rewritten:\n%s", got)
			}
			if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
				t.Errorf("mtime changed to %s", fi.ModTime())
			}
			if where, ok := Damage(err); !ok || where != path+":1" {
				t.Errorf("Damage = %q, %v", where, ok)
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

// snapshotsV3 is a next version of the snapshot logs that moves a top-level "ms" into the
// probe, one line at a time, after the real v1 → v2 step.
var snapshotsV3 = Kind{Name: "snapshots", Version: 3, Migrations: []Migration{
	KindSnapshots.Migrations[0],
	func(line json.RawMessage) (json.RawMessage, error) {
		var v map[string]any
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, err
		}
		if ms, ok := v["ms"]; ok {
			v["probe"] = map[string]any{"code": 200, "ms": ms}
			delete(v, "ms")
		}
		return json.Marshal(v)
	},
}}

// v1Log is a version 1 month log as portfolio wrote it before day logs: every line complete,
// and (as `portfolio demo` wrote them) only the sources that were not ok listed.
const v1Header = `{"schema_version":1,"kind":"snapshots","product":"api","month":"2026-11"}` + "\n"

const v1Log = v1Header + `{"t":"2026-11-28T11:00:00Z","src":{"posthog":{"s":"error","msg":"503","fails":1}},"probe":{"code":200,"ms":120}}
{"t":"2026-11-28T11:15:00Z","probe":{"code":200,"ms":130}}
`

func TestMigrations(t *testing.T) {
	t.Run("document v1 read through the migration", func(t *testing.T) {
		st := Open(t.TempDir())
		writeFile(t, st.path("w.json"), "{\"schema_version\":1,\"kind\":\"widgets\",\"data\":[\n{\"n\":3},\n{\"n\":5}\n]}\n")
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
	t.Run("snapshot log v1: every line as it is, no status carried", func(t *testing.T) {
		st := Open(t.TempDir())
		writeFile(t, monthPath(st, "api", t0), v1Log)
		got, err := st.Snapshots("api", t0.Add(-2*time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Probe.Ms != 120 || got[1].Probe.Ms != 130 {
			t.Fatalf("got %+v, want probes of 120 and 130 ms", got)
		}
		if got[0].Sources["posthog"].State != record.StateError || got[1].Sources != nil {
			t.Errorf("statuses %v then %v: a v1 line states its own, nothing is carried", got[0].Sources, got[1].Sources)
		}
	})
	t.Run("append after a v1 log starts a day log and leaves the month log", func(t *testing.T) {
		st := Open(t.TempDir())
		path := monthPath(st, "api", t0)
		writeFile(t, path, v1Log)
		if err := st.AppendSnapshot("api", snap(t0, 140)); err != nil {
			t.Fatal(err)
		}
		if got := string(mustRead(t, path)); got != v1Log {
			t.Errorf("the v1 log changed:\n%s", got)
		}
		want := dayHeader + `{"t":"2026-11-28T12:00:00Z","probe":{"code":200,"ms":140}}` + "\n"
		if got := string(mustRead(t, snapshotPath(st, "api", t0))); got != want {
			t.Errorf("day log:\n%s\nwant:\n%s", got, want)
		}
		if err := st.AppendSnapshot("api", snap(t0.Add(-time.Hour), 1)); err == nil {
			t.Error("a snapshot before the v1 log's last one was appended")
		}
		got, err := st.Snapshots("api", t0.Add(-2*time.Hour), t0.Add(time.Second))
		if err != nil || len(got) != 3 || got[2].Probe.Ms != 140 {
			t.Errorf("Snapshots = %+v, %v; want both logs, in order", got, err)
		}
	})
	t.Run("snapshot log read through two migrations", func(t *testing.T) {
		st := Open(t.TempDir())
		st.snapshots = snapshotsV3
		writeFile(t, monthPath(st, "api", t0), `{"schema_version":1,"kind":"snapshots","product":"api","month":"2026-11"}
{"t":"2026-11-28T11:00:00Z","ms":120}
`)
		got, err := st.Snapshots("api", t0.Add(-2*time.Hour), t0)
		if err != nil || len(got) != 1 || got[0].Probe == nil || got[0].Probe.Ms != 120 {
			t.Errorf("got %+v, %v; want a probe of 120 ms", got, err)
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
			writeFile(t, st.path("w.json"), "{\"schema_version\":1,\"kind\":\"widgets\",\"data\":[\n]}\n")
			writeFile(t, monthPath(st, "api", t0), v1Log)
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
		path := monthPath(st, "api", t0)
		writeFile(t, path, v1Log)
		_, err := st.Snapshots("api", t0.AddDate(0, -1, 0), t0)
		want := fmt.Sprintf("%s: byte %d (line 3): migrate schema_version 1 to 2: cannot convert 130", path, strings.Index(v1Log, "\n{\"t\":\"2026-11-28T11:15")+1)
		if err == nil || err.Error() != want {
			t.Errorf("error:\n%v\nwant:\n%s", err, want)
		}
	})
}

// TestReadsAreBoundedByTheWindow reads windows of a long history: each decodes at most its
// lines and the part of its first day before it, in day logs and in a v1 month log alike.
func TestReadsAreBoundedByTheWindow(t *testing.T) {
	st := Open(t.TempDir())
	end := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	// October as a version 1 month log, then day logs.
	var v1 strings.Builder
	v1.WriteString(`{"schema_version":1,"kind":"snapshots","product":"api","month":"2026-10"}` + "\n")
	var all []time.Time
	for tm := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); tm.Before(end); tm = tm.Add(15 * time.Minute) {
		all = append(all, tm)
		if tm.Month() == time.October {
			fmt.Fprintf(&v1, `{"t":"%s","probe":{"code":200,"ms":1}}`+"\n", tm.Format(time.RFC3339))
		}
	}
	writeFile(t, st.path("snapshots/2026-10/api.jsonl"), v1.String())
	var days []record.Snapshot
	for _, tm := range all {
		if tm.Month() != time.October {
			days = append(days, snap(tm, 1))
		}
	}
	if err := st.AppendSnapshots("api", days); err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name     string
		from, to time.Time
	}{
		{"7 days in day logs", end.Add(-7 * 24 * time.Hour), end.Add(time.Second)},
		{"30 days across the v1 month log", end.Add(-30 * 24 * time.Hour), end.Add(time.Second)},
		{"a day in the middle of the v1 month", time.Date(2026, 10, 15, 6, 0, 0, 0, time.UTC), time.Date(2026, 10, 16, 6, 0, 0, 0, time.UTC)},
		{"25 hours, as the alerts read", end.Add(-25 * time.Hour), end.Add(time.Nanosecond)},
	} {
		t.Run(w.name, func(t *testing.T) {
			want := 0
			for _, tm := range all {
				if !tm.Before(w.from) && tm.Before(w.to) {
					want++
				}
			}
			before := st.LinesDecoded()
			got, err := st.Snapshots("api", w.from, w.to)
			if err != nil || len(got) != want {
				t.Fatalf("%d snapshots, %v; want %d", len(got), err, want)
			}
			if n := st.LinesDecoded() - before; n > int64(want+96) {
				t.Errorf("decoded %d lines for a window of %d: more than the window and a day", n, want)
			}
		})
	}
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
		{"earlier day than the last log", []record.Snapshot{snap(dec, 1)}, []record.Snapshot{snap(nov, 2)},
			"{dec}: snapshot at 2026-11-28T12:00:00Z is not after the last one (2026-12-01T00:00:00Z)"},
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
			var oe *OrderError
			if !errors.As(err, &oe) || err.Error() != want {
				t.Errorf("error:\n%v\nwant an *OrderError:\n%s", err, want)
			}
			for p, b := range before {
				if got, _ := os.ReadFile(p); string(got) != b {
					t.Errorf("%s changed:\n%s", p, got)
				}
			}
		})
	}
}

func TestAppendRefusesInvalidSnapshots(t *testing.T) {
	st := Open(t.TempDir())
	bad := []record.Snapshot{
		{},
		{Time: t0, Probe: &record.Probe{Code: 200, Ms: -1}},
		{Time: t0, Sources: map[string]record.SourceStatus{"github": {Msg: "no state"}}},
	}
	for _, sn := range bad {
		var ie *record.InvalidError
		if err := st.AppendSnapshot("api", sn); !errors.As(err, &ie) {
			t.Errorf("AppendSnapshot(%+v) = %v, want a *record.InvalidError", sn, err)
		}
	}
	if ids, _ := st.Products(); len(ids) != 0 {
		t.Errorf("a refused snapshot left files: %v", ids)
	}
}

func TestSnapshotsSplitPerUTCDay(t *testing.T) {
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
	files := map[string][]int{"2026-11/api.30": {0, 1}, "2026-12/api.01": {2}, "2027-01/api.01": {3}}
	for name, ms := range files {
		path := st.path("snapshots/" + name + ".jsonl")
		var want strings.Builder
		fmt.Fprintf(&want, `{"schema_version":2,"kind":"snapshots","product":"api","day":"%s"}`+"\n", times[ms[0]].UTC().Format(time.DateOnly))
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
		{"across the day and month boundary", times[1], times[2].Add(time.Second), []int{1, 2}},
		{"none", times[3].Add(time.Second), times[3].Add(time.Hour), nil},
		{"from the beginning of time", time.Time{}, times[1].Add(time.Second), []int{0, 1}},
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

// TestSetAside: snapshots stamped by a clock that ran ahead are moved beside their logs, and
// collection goes on at the right time.
func TestSetAside(t *testing.T) {
	st := Open(t.TempDir())
	future := []record.Snapshot{snap(t0, 1), snap(t0.Add(15*time.Minute), 2), snap(t0.Add(48*time.Hour), 3)}
	if err := st.AppendSnapshots("api", future); err != nil {
		t.Fatal(err)
	}
	l, err := st.OpenLog("api")
	if err != nil {
		t.Fatal(err)
	}
	notes, err := l.SetAside(t0.Add(5 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "1 snapshot(s) from 2026-11-30T12:00:00Z") ||
		!strings.Contains(notes[1], "1 snapshot(s) from 2026-11-28T12:15:00Z to 2026-11-28T12:15:00Z are after now (2026-11-28T12:05:00Z): moved to api.28.jsonl.ahead") {
		t.Errorf("notes = %q", notes)
	}
	if last, ok := l.Last(); !ok || last.Probe.Ms != 1 {
		t.Errorf("Last after SetAside = %+v, %v; want the 12:00 one", last, ok)
	}
	if err := l.Append(snap(t0.Add(10*time.Minute), 4)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Snapshots("api", t0, t0.Add(72*time.Hour))
	if err != nil || len(got) != 2 || got[1].Probe.Ms != 4 {
		t.Errorf("Snapshots = %+v, %v; want 12:00 and 12:10", got, err)
	}
	if _, err := os.Stat(snapshotPath(st, "api", t0.Add(48*time.Hour)) + ".ahead"); err != nil {
		t.Errorf("the later day's log was not set aside: %v", err)
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
	writeFile(t, monthPath(st, "old", t0), strings.ReplaceAll(v1Log, `"api"`, `"old"`))
	st.SaveIncidents("docs", nil) // records without snapshots
	if ids, err := st.Products(); err != nil || strings.Join(ids, " ") != "api docs old web" {
		t.Errorf("Products = %v, %v; want api docs old web", ids, err)
	}
	st.SaveDeployments("api", nil)
	writeFile(t, snapshotPath(st, "api", t0)+".torn", "x\n")
	if err := st.RemoveProduct("api"); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveProduct("old"); err != nil {
		t.Fatal(err)
	}
	if ids, err := st.Products(); err != nil || strings.Join(ids, " ") != "docs web" {
		t.Errorf("after RemoveProduct(api): Products = %v, %v; want docs web", ids, err)
	}
	if _, err := os.Stat(snapshotPath(st, "api", t0) + ".torn"); !os.IsNotExist(err) {
		t.Errorf("the set-aside file stayed: %v", err)
	}
	if snaps, err := st.Snapshots("web", t0, dec.Add(time.Second)); err != nil || len(snaps) != 2 {
		t.Errorf("web's snapshots after removing api: %d, %v; want 2", len(snaps), err)
	}
	for _, bad := range []string{"", "..", "a/b", "a.b"} {
		if err := st.RemoveProduct(bad); err == nil {
			t.Errorf("RemoveProduct(%q) succeeded", bad)
		}
	}
}

// TestCheckNamesWhatRepairCannotFix: a damaged document or a log whose header is damaged is
// listed with advice and no plan; Repair refuses it.
func TestCheckNamesWhatRepairCannotFix(t *testing.T) {
	st := Open(t.TempDir())
	writeFile(t, st.path("products/api/incidents.json"), "{\"schema_version\":1,\"kind\":\"incidents\",\"data\":[\n{\"number\":")
	writeFile(t, snapshotPath(st, "api", t0), "{not a header\n"+`{"t":"2026-11-28T12:00:00Z"}`+"\n")
	problems, err := st.Check()
	if err != nil || len(problems) != 2 {
		t.Fatalf("Check = %+v, %v; want two problems", problems, err)
	}
	for _, p := range problems {
		if p.Plan != "" || !strings.Contains(p.Advice, "git") {
			t.Errorf("%s: plan %q, advice %q; want no plan and the way back from git", p.Where(), p.Plan, p.Advice)
		}
		if _, err := st.Repair(p); err == nil {
			t.Errorf("%s: Repair went ahead", p.Where())
		}
	}
	if problems[0].Where() != st.path("products/api/incidents.json")+":2" {
		t.Errorf("Where = %s", problems[0].Where())
	}
}
