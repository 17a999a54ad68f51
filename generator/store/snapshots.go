package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Snapshot logs. Version 2 (this binary's) keeps one file per product per UTC day,
// snapshots/<YYYY-MM>/<product>.<DD>.jsonl: a header line, then one snapshot a line in time
// order. The first line of a day states every source's status; each later line states a
// source only where its status differs from what the line before implies
// (record.SourceStatus.Next), and a source that stopped running is null. A reader carries the
// statuses forward, so every snapshot it returns has them all, as the collect loop computed them.
//
// Why a file a day: a run appends one line to today's file, which is never rewritten and
// never read whole beyond today; a window of N days reads N+1 files, whatever the history's
// length; and git packs a day's versions of a file, which has a name of its own (the day is
// in it, so git's delta search keeps each file's versions together), far smaller than the
// versions of a month-long file (data/README.md, "Growth", has the measurements).
//
// Version 1 logs, one file a month (snapshots/<YYYY-MM>/<product>.jsonl) with every line
// complete, are still read, and never written again.

// KindSnapshots is the kind of the snapshot logs. Its v1 → v2 migration is per line and
// changes nothing: a v1 line is a v2 line that states every status; what changed is the file
// layout and that v2 lines leave unchanged statuses out, which parseLog reads by the header's version.
var KindSnapshots = Kind{Name: "snapshots", Version: 2, Migrations: []Migration{
	func(line json.RawMessage) (json.RawMessage, error) { return line, nil },
}}

// carryFrom is the first schema version whose lines leave unchanged statuses out.
const carryFrom = 2

const (
	monthLayout = "2006-01"
	dayLayout   = time.DateOnly
)

// snapshotHeader is the first line of a snapshot log. The schema_version applies to every
// line below it.
type snapshotHeader struct {
	SchemaVersion int    `json:"schema_version"`
	Kind          string `json:"kind"`
	Product       string `json:"product"`
	Month         string `json:"month,omitempty"` // version 1: a log per month
	Day           string `json:"day,omitempty"`   // version 2: a log per day
}

// logRef names one snapshot log of a product: a month's (version 1) when day is 0, else a day's.
type logRef struct {
	product string
	month   string // YYYY-MM
	day     int    // 1–31; 0 for a version 1 month log
}

func (r logRef) name() string {
	if r.day == 0 {
		return "snapshots/" + r.month + "/" + r.product + ".jsonl"
	}
	return fmt.Sprintf("snapshots/%s/%s.%02d.jsonl", r.month, r.product, r.day)
}

// span is the time the log covers: its day or its month.
func (r logRef) span() (from, to time.Time) {
	m, _ := time.Parse(monthLayout, r.month)
	if r.day == 0 {
		return m, m.AddDate(0, 1, 0)
	}
	d := m.AddDate(0, 0, r.day-1)
	return d, d.AddDate(0, 0, 1)
}

func dayRef(product string, t time.Time) logRef {
	t = t.UTC()
	return logRef{product: product, month: t.Format(monthLayout), day: t.Day()}
}

// parseLogName reads a log's file name in a month folder: "<product>.jsonl" or
// "<product>.<DD>.jsonl". Product ids are slugs without dots (config).
func parseLogName(month, name string) (logRef, bool) {
	base, ok := strings.CutSuffix(name, ".jsonl")
	if !ok || base == "" || strings.HasPrefix(base, ".") {
		return logRef{}, false
	}
	id, dd, hasDay := strings.Cut(base, ".")
	if !hasDay {
		return logRef{product: id, month: month}, true
	}
	d, err := strconv.Atoi(dd)
	if err != nil || len(dd) != 2 || d < 1 || d > 31 || id == "" || strings.Contains(dd, ".") {
		return logRef{}, false
	}
	return logRef{product: id, month: month, day: d}, true
}

// months lists the month folders under snapshots/, oldest first.
func (s *Store) months() ([]string, error) {
	entries, err := os.ReadDir(s.path("snapshots"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := time.Parse(monthLayout, e.Name()); err == nil && e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// logsDesc calls yield with the product's logs from the newest back, until yield returns
// false. It probes the file names (a stat each) rather than listing the month folders, which
// hold every product's files: finding the newest log costs a few stats, not a listing of
// thousands of names.
func (s *Store) logsDesc(product string, yield func(logRef) (bool, error)) error {
	months, err := s.months()
	if err != nil {
		return err
	}
	for i := len(months) - 1; i >= 0; i-- {
		for d := 31; d >= 0; d-- {
			r := logRef{product: product, month: months[i], day: d}
			if _, err := os.Stat(s.path(r.name())); err != nil {
				continue
			}
			more, err := yield(r)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// parsed is a decoded log.
type parsed struct {
	header snapshotHeader
	snaps  []record.Snapshot
	// torn is the offset of an unterminated last line (a crash while appending, or an append
	// in progress), or -1. The line is not part of snaps.
	torn int
	// end is the size of the file without its torn line.
	end int
}

// readOpts say which lines of a log to decode.
type readOpts struct {
	from, to time.Time // keep from <= t < to; zero to: no upper bound
	lastOnly bool      // a version 1 log: only its last line (appends need no more)
}

// parseLog decodes the log at path, whose bytes are data, as ref: the header, then the lines
// opts asks for, checking each (JSON, a time, in order, in the file's day) and carrying the
// statuses forward in version 2 logs. Any problem is a *CorruptError with the file, byte and
// line; a newer schema a *NewerSchemaError.
func (s *Store) parseLog(path string, data []byte, ref logRef, opts readOpts) (parsed, error) {
	p := parsed{torn: -1, end: len(data)}
	k := s.snapshots
	if len(data) == 0 {
		return p, corruptAt(path, data, 0, errors.New("truncated: empty file, want a header line"))
	}
	if data[len(data)-1] != '\n' {
		cut := bytes.LastIndexByte(data, '\n') + 1
		if cut == 0 {
			return p, corruptAt(path, data, int64(len(data)), errors.New("truncated: the header line has no newline"))
		}
		p.torn, p.end = cut, cut
		data = data[:cut]
	}
	end := bytes.IndexByte(data, '\n')
	h := &p.header
	if err := json.Unmarshal(data[:end], h); err != nil {
		return p, corrupt(path, data, 0, data[:end], err)
	}
	if h.Kind != k.Name {
		return p, fmt.Errorf("%s: kind %q, want %q", path, h.Kind, k.Name)
	}
	if err := k.readable(path, h.SchemaVersion); err != nil {
		return p, err
	}
	if h.Product != "" && h.Product != ref.product {
		return p, corruptAt(path, data, 0, fmt.Errorf("malformed: the header names product %q, the file name %q", h.Product, ref.product))
	}
	dayFrom, dayTo := ref.span()
	if ref.day != 0 && h.SchemaVersion >= carryFrom && h.Day != dayFrom.Format(dayLayout) {
		return p, corruptAt(path, data, 0, fmt.Errorf("malformed: the header names day %q, the file name %s", h.Day, dayFrom.Format(dayLayout)))
	}
	carry := h.SchemaVersion >= carryFrom
	migrate := h.SchemaVersion < k.Version

	start := end + 1
	if opts.lastOnly && !carry && start < len(data) {
		start = bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	} else if !carry && !opts.from.IsZero() {
		start = seek(data, start, opts.from)
	}

	var (
		prev  time.Time
		cur   map[string]record.SourceStatus
		first = true
		dec   = json.NewDecoder(bytes.NewReader(data[start:]))
		n     int64
	)
	defer func() { s.decoded.Add(n) }()
	for off := start; off < len(data); {
		lineEnd := off + bytes.IndexByte(data[off:], '\n')
		line := data[off:lineEnd]
		if !opts.to.IsZero() {
			if t, ok := lineTime(line); ok && !t.Before(opts.to) {
				break
			}
		}
		var sn record.Snapshot
		n++
		if migrate {
			if len(bytes.TrimSpace(line)) == 0 {
				return p, corruptAt(path, data, int64(off), errors.New("malformed: empty line"))
			}
			raw, err := k.upgrade(h.SchemaVersion, line)
			if err != nil {
				return p, corruptAt(path, data, int64(off), err)
			}
			if err := json.Unmarshal(raw, &sn); err != nil {
				if bytes.Equal(raw, line) { // the migration left it as it was: the offset is the file's
					return p, lineError(path, data, off, line)
				}
				return p, corruptAt(path, data, int64(off), fmt.Errorf("after migration: %w", err))
			}
		} else if err := decodeLine(dec, data, start, off, lineEnd, &sn); err != nil {
			return p, lineError(path, data, off, line)
		}
		if sn.Time.IsZero() {
			return p, corruptAt(path, data, int64(off), errors.New(`malformed: no "t" (time)`))
		}
		sn.Time = sn.Time.UTC()
		if !prev.IsZero() && !sn.Time.After(prev) {
			return p, corruptAt(path, data, int64(off), fmt.Errorf("malformed: snapshot at %s is not after the one before (%s)",
				sn.Time.Format(time.RFC3339), prev.Format(time.RFC3339)))
		}
		if sn.Time.Before(dayFrom) || !sn.Time.Before(dayTo) {
			return p, corruptAt(path, data, int64(off), fmt.Errorf("malformed: snapshot at %s is not in the file's %s %s",
				sn.Time.Format(time.RFC3339), map[bool]string{true: "month", false: "day"}[ref.day == 0], ref.label()))
		}
		if carry {
			cur = carryStatuses(cur, prev, sn.Sources, first)
			sn.Sources = cur
		}
		first = false
		prev = sn.Time
		if !sn.Time.Before(opts.from) {
			p.snaps = append(p.snaps, sn)
		}
		off = lineEnd + 1
	}
	return p, nil
}

func (r logRef) label() string {
	if r.day == 0 {
		return r.month
	}
	from, _ := r.span()
	return from.Format(dayLayout)
}

// decodeLine decodes the line data[off:lineEnd] with dec, which reads data from start on and
// is positioned at off: one decoder for the whole file is about 30% faster than a
// json.Unmarshal a line (BenchmarkSnapshots90Days). The line must hold exactly one object.
func decodeLine(dec *json.Decoder, data []byte, start, off, lineEnd int, sn *record.Snapshot) error {
	if off == lineEnd || data[off] != '{' {
		return errors.New("not an object")
	}
	if err := dec.Decode(sn); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[start+int(dec.InputOffset()) : lineEnd]); len(rest) > 0 || start+int(dec.InputOffset()) > lineEnd {
		return errors.New("more than one value on the line")
	}
	return nil
}

// lineError says what is wrong with a line the fast path refused, with the byte at fault.
func lineError(path string, data []byte, off int, line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return corruptAt(path, data, int64(off), errors.New("malformed: empty line"))
	}
	var sn record.Snapshot
	if err := json.Unmarshal(line, &sn); err != nil {
		return corrupt(path, data, int64(off), line, err)
	}
	if line[0] != '{' {
		return corruptAt(path, data, int64(off), errors.New("malformed: the line does not start with {"))
	}
	return corruptAt(path, data, int64(off), errors.New("malformed: more than one value on the line"))
}

// lineTime reads a line's time without decoding it: the writer puts "t" first, as
// {"t":"2006-01-02T15:04:05Z",…}. False when the line is not in that form.
func lineTime(line []byte) (time.Time, bool) {
	const pre = `{"t":"`
	if len(line) < len(pre)+21 || !bytes.HasPrefix(line, []byte(pre)) || line[len(pre)+20] != '"' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, string(line[len(pre):len(pre)+20]))
	return t, err == nil
}

// seek returns the offset of the first line from start on whose time is at or after from,
// by binary search over the line starts of a version 1 log (its lines are complete, so
// reading can begin anywhere). A line whose time cannot be read without decoding stops the
// search where it is, so that line is decoded and checked.
func seek(data []byte, start int, from time.Time) int {
	var starts []int
	for off := start; off < len(data); {
		starts = append(starts, off)
		off += bytes.IndexByte(data[off:], '\n') + 1
	}
	i := sort.Search(len(starts), func(i int) bool {
		lineEnd := starts[i] + bytes.IndexByte(data[starts[i]:], '\n')
		t, ok := lineTime(data[starts[i]:lineEnd])
		return !ok || !t.Before(from)
	})
	if i > 0 {
		i-- // the line before: its order is checked against the first one kept
	}
	if i == len(starts) {
		return len(data)
	}
	return starts[i]
}

// carryStatuses returns the statuses of a line of a version 2 log: the first line of a day
// states them all; a later one only what changed (null: the source no longer runs), the rest
// being what the line before implies. The map is shared with the line before when nothing
// moved (callers must not change a snapshot's Sources).
func carryStatuses(cur map[string]record.SourceStatus, prevT time.Time, stated map[string]record.SourceStatus, first bool) map[string]record.SourceStatus {
	if first {
		out := map[string]record.SourceStatus{}
		for name, st := range stated {
			if st.State != "" {
				out[name] = st
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	moving := false
	for _, st := range cur {
		if st.Failed() {
			moving = true // its fails count goes up by one a run
		}
	}
	if !moving && len(stated) == 0 {
		return cur
	}
	out := make(map[string]record.SourceStatus, len(cur)+len(stated))
	for name, st := range cur {
		out[name] = st.Next(prevT, st.State, st.Msg)
	}
	for name, st := range stated {
		if st.State == "" {
			delete(out, name)
		} else {
			out[name] = st
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// statedStatuses is what a line stores of next's statuses after a line at prevT with the
// statuses cur: only those that differ from what cur implies, and null for a source gone.
func statedStatuses(cur map[string]record.SourceStatus, prevT time.Time, next map[string]record.SourceStatus) map[string]record.SourceStatus {
	out := map[string]record.SourceStatus{}
	for name, st := range next {
		if c, ok := cur[name]; ok && c.Next(prevT, c.State, c.Msg).Equal(st) {
			continue
		}
		out[name] = st
	}
	for name := range cur {
		if _, ok := next[name]; !ok {
			out[name] = record.SourceStatus{} // null
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readLog reads and parses one log. A missing file is ok=false; an unreadable one an
// *UnreadableError.
func (s *Store) readLog(ref logRef, opts readOpts) (parsed, bool, error) {
	path := s.path(ref.name())
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return parsed{}, false, nil
	}
	if err != nil {
		return parsed{}, false, &UnreadableError{Path: path, Err: err}
	}
	p, err := s.parseLog(path, data, ref, opts)
	return p, true, err
}

// Snapshots returns the product's snapshots with from <= t < to, oldest first. It reads the
// day logs of the window (and a version 1 month log from the first line at or after from),
// decoding at most the window and the part of its first day before from.
func (s *Store) Snapshots(product string, from, to time.Time) ([]record.Snapshot, error) {
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, nil
	}
	months, err := s.months()
	if err != nil {
		return nil, err
	}
	var out []record.Snapshot
	add := func(ref logRef, snaps []record.Snapshot) error {
		if len(snaps) == 0 {
			return nil
		}
		if n := len(out); n > 0 && !snaps[0].Time.After(out[n-1].Time) {
			path := s.path(ref.name())
			return &CorruptError{Path: path, Offset: -1, Line: 2, Err: fmt.Errorf("malformed: snapshot at %s is not after the last one of the log before (%s)",
				snaps[0].Time.Format(time.RFC3339), out[n-1].Time.Format(time.RFC3339))}
		}
		if out == nil {
			out = snaps // the common case of one file: no copy
			return nil
		}
		out = append(out, snaps...)
		return nil
	}
	opts := readOpts{from: from, to: to}
	for _, m := range months {
		mref := logRef{product: product, month: m}
		mFrom, mTo := mref.span()
		if !mTo.After(from) || !mFrom.Before(to) {
			continue
		}
		p, ok, err := s.readLog(mref, opts)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := add(mref, p.snaps); err != nil {
				return nil, err
			}
		}
		first := from
		if mFrom.After(first) {
			first = mFrom
		}
		first = first.Truncate(24 * time.Hour)
		for d := first; d.Before(to) && d.Before(mTo); d = d.AddDate(0, 0, 1) {
			ref := dayRef(product, d)
			p, ok, err := s.readLog(ref, opts)
			if err != nil {
				return nil, err
			}
			if ok {
				if err := add(ref, p.snaps); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// LastSnapshot returns the product's most recent snapshot, or false when there is none. It
// reads only the newest log (an unterminated last line is left out: an append in progress, or
// a crash that the next OpenLog repairs).
func (s *Store) LastSnapshot(product string) (record.Snapshot, bool, error) {
	var last record.Snapshot
	var found bool
	err := s.logsDesc(product, func(ref logRef) (bool, error) {
		p, ok, err := s.readLog(ref, readOpts{lastOnly: true})
		if err != nil || !ok || len(p.snaps) == 0 {
			return err == nil, err
		}
		last, found = p.snaps[len(p.snaps)-1], true
		return false, nil
	})
	return last, found, err
}

// LinesDecoded is how many snapshot lines this Store decoded so far: benchmarks and tests
// check that a read of N days decodes about N days.
func (s *Store) LinesDecoded() int64 { return s.decoded.Load() }

// OrderError refuses a snapshot at or before the product's last one, so a re-run with an old
// --now cannot reorder history.
type OrderError struct {
	Path       string // the log of the last snapshot
	Time, Last time.Time
}

func (e *OrderError) Error() string {
	return fmt.Sprintf("%s: snapshot at %s is not after the last one (%s)", e.Path,
		e.Time.UTC().Format(time.RFC3339), e.Last.UTC().Format(time.RFC3339))
}

// Log is a product's snapshot log opened for appending. Only a writer holding the data lock
// opens one: OpenLog repairs what a crash left.
type Log struct {
	s       *Store
	product string
	last    record.Snapshot
	has     bool
	tail    logRef // the log of last
	// open says tail is a current-version day log that takes more lines, size bytes long.
	open bool
	size int64
	// Repaired says what OpenLog fixed: an unterminated last line moved aside.
	Repaired []string
}

// OpenLog opens the product's snapshot log for appending. It reads only the newest log (a
// day's lines at most). A last line without its newline, which only a crash in the middle of
// an append leaves, is moved to a .torn file beside the log and reported in Log.Repaired; any
// other damage is an error naming the file and line (see Damage).
func (s *Store) OpenLog(product string) (*Log, error) {
	l := &Log{s: s, product: product}
	err := s.logsDesc(product, func(ref logRef) (bool, error) {
		path := s.path(ref.name())
		data, err := os.ReadFile(path)
		if err != nil {
			return false, &UnreadableError{Path: path, Err: err}
		}
		p, err := s.parseLog(path, data, ref, readOpts{lastOnly: true})
		if err != nil {
			return false, err
		}
		if p.torn >= 0 {
			note, err := moveTorn(path, data, p.torn)
			if err != nil {
				return false, err
			}
			l.Repaired = append(l.Repaired, note)
		}
		if len(p.snaps) == 0 {
			if ref.day != 0 && p.torn >= 0 {
				// Only the header is left: the day starts over with the next line.
				return true, os.Remove(path)
			}
			return true, nil
		}
		l.last, l.has, l.tail = p.snaps[len(p.snaps)-1], true, ref
		l.open = ref.day != 0 && p.header.SchemaVersion == s.snapshots.Version
		l.size = int64(p.end)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Last returns the newest snapshot of the log, and false when it has none.
func (l *Log) Last() (record.Snapshot, bool) { return l.last, l.has }

// LastPath is the file of the newest snapshot ("" when none).
func (l *Log) LastPath() string {
	if !l.has {
		return ""
	}
	return l.s.path(l.tail.name())
}

// moveTorn moves the unterminated last line of the log at path (from byte cut of data) to
// path.torn, then cuts the log after its last complete line.
func moveTorn(path string, data []byte, cut int) (string, error) {
	side := path + ".torn"
	if err := appendSide(side, append(append([]byte(nil), data[cut:]...), '\n')); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", fmt.Errorf("repair %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(cut)); err != nil {
		return "", fmt.Errorf("repair %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("repair %s: %w", path, err)
	}
	line := 1 + bytes.Count(data[:cut], []byte{'\n'})
	return fmt.Sprintf("%s:%d: the last line had no newline (%d bytes: a crash while appending); moved to %s",
		path, line, len(data)-cut, filepath.Base(side)), nil
}

// appendSide appends b to a side file (created when missing) and syncs it.
func appendSide(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Append adds snap after the last snapshot: one line appended to today's log (O_APPEND, then
// fsync), or a new day's log written whole (header and first line, atomically). A snapshot
// at or before the last one is an *OrderError; an invalid one a *record.InvalidError.
func (l *Log) Append(snap record.Snapshot) error { return l.AppendBatch([]record.Snapshot{snap}) }

// AppendBatch appends snapshots in time order, writing each day's lines at once.
func (l *Log) AppendBatch(snaps []record.Snapshot) error {
	for i := 0; i < len(snaps); {
		ref := dayRef(l.product, snaps[i].Time)
		j := i + 1
		for j < len(snaps) && dayRef(l.product, snaps[j].Time) == ref {
			j++
		}
		if err := l.appendDay(ref, snaps[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (l *Log) appendDay(ref logRef, snaps []record.Snapshot) error {
	path := l.s.path(ref.name())
	appending := l.has && l.open && l.tail == ref
	var buf []byte
	if !appending {
		h, _ := json.Marshal(snapshotHeader{SchemaVersion: l.s.snapshots.Version, Kind: l.s.snapshots.Name, Product: l.product,
			Day: snaps[0].Time.UTC().Format(dayLayout)})
		buf = append(h, '\n')
	}
	last, has, first, lastRef := l.last, l.has, !appending, l.tail
	for _, sn := range snaps {
		sn.Time = sn.Time.UTC()
		if err := sn.Validate(time.Time{}); err != nil {
			return fmt.Errorf("%s: refused: %w", path, err)
		}
		if has && !sn.Time.After(last.Time) {
			return &OrderError{Path: l.s.path(lastRef.name()), Time: sn.Time, Last: last.Time}
		}
		full := maps.Clone(sn.Sources)
		if len(full) == 0 {
			full = nil
		}
		line := sn
		if first {
			line.Sources = full
		} else {
			line.Sources = statedStatuses(last.Sources, last.Time, full)
		}
		b, err := marshalCompact(line)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		buf = append(append(buf, b...), '\n')
		sn.Sources = full
		last, has, first, lastRef = sn, true, false, ref
	}
	if appending {
		if err := appendLines(path, buf, l.size, l.s.faults); err != nil {
			return err
		}
		l.size += int64(len(buf))
	} else {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: exists already, and is not the product's newest log", path)
		}
		if err := writeAtomic(path, buf, l.s.faults); err != nil {
			return err
		}
		l.size = int64(len(buf))
	}
	l.last, l.has, l.tail, l.open = last, true, ref, true
	return nil
}

// appendLines appends b to the log at path, which must be size bytes long, in one write with
// O_APPEND, then fsyncs. A failed write is cut off again, so the log never ends in half a line.
func appendLines(path string, b []byte, size int64, fl *faults) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("append %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("append %s: %w", path, err)
	}
	if fi.Size() != size {
		return fmt.Errorf("append %s: the file is %d bytes, %d when it was opened: another process writes to it", path, fi.Size(), size)
	}
	write := func(f *os.File, b []byte) (int, error) { return f.Write(b) }
	if fl != nil && fl.write != nil {
		write = fl.write
	}
	if _, err := write(f, b); err != nil {
		f.Truncate(size)
		f.Sync()
		return fmt.Errorf("append %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Truncate(size)
		f.Sync()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// AppendSnapshot adds snap to the product's log (see Log.Append). The caller holds the data lock.
func (s *Store) AppendSnapshot(product string, snap record.Snapshot) error {
	return s.AppendSnapshots(product, []record.Snapshot{snap})
}

// AppendSnapshots appends snapshots of one product, in time order (see Log.AppendBatch).
func (s *Store) AppendSnapshots(product string, snaps []record.Snapshot) error {
	if len(snaps) == 0 {
		return nil
	}
	l, err := s.OpenLog(product)
	if err != nil {
		return err
	}
	return l.AppendBatch(snaps)
}

// SetAside moves every snapshot after t out of the product's logs, into a .ahead file beside
// each log, and reopens the log. It is for snapshots stamped by a clock that ran ahead: they
// stay in git beside the log, and collection goes on at the right time. It returns what it
// moved, one line per log.
func (l *Log) SetAside(t time.Time) ([]string, error) {
	var notes []string
	s := l.s
	err := s.logsDesc(l.product, func(ref logRef) (bool, error) {
		path := s.path(ref.name())
		data, err := os.ReadFile(path)
		if err != nil {
			return false, &UnreadableError{Path: path, Err: err}
		}
		p, err := s.parseLog(path, data, ref, readOpts{})
		if err != nil {
			return false, err
		}
		n := len(p.snaps)
		if n == 0 || !p.snaps[n-1].Time.After(t) {
			return false, nil
		}
		// Split the lines at the first one after t.
		body := bytes.IndexByte(data, '\n') + 1
		cut, kept := body, 0
		for off := body; off < p.end; {
			lineEnd := off + bytes.IndexByte(data[off:p.end], '\n')
			if kept < n && !p.snaps[kept].Time.After(t) {
				kept++
				cut = lineEnd + 1
			}
			off = lineEnd + 1
		}
		side := path + ".ahead"
		if err := appendSide(side, data[cut:p.end]); err != nil {
			return false, err
		}
		if kept == 0 {
			if err := os.Remove(path); err != nil {
				return false, err
			}
		} else if err := writeAtomic(path, data[:cut], s.faults); err != nil {
			return false, err
		}
		notes = append(notes, fmt.Sprintf("%s: %d snapshot(s) from %s to %s are after now (%s): moved to %s",
			path, n-kept, p.snaps[kept].Time.Format(time.RFC3339), p.snaps[n-1].Time.Format(time.RFC3339),
			t.UTC().Format(time.RFC3339), filepath.Base(side)))
		return kept == 0, nil
	})
	if err != nil {
		return notes, err
	}
	nl, err := s.OpenLog(l.product)
	if err != nil {
		return notes, err
	}
	nl.Repaired = append(l.Repaired, nl.Repaired...)
	*l = *nl
	return notes, nil
}

// Products lists the products with data in the store (records or snapshots), sorted.
func (s *Store) Products() ([]string, error) {
	seen := map[string]bool{}
	entries, err := os.ReadDir(s.path("products"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			seen[e.Name()] = true
		}
	}
	months, err := s.months()
	if err != nil {
		return nil, err
	}
	for _, m := range months {
		files, err := os.ReadDir(s.path("snapshots/" + m))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if ref, ok := parseLogName(m, f.Name()); ok {
				seen[ref.product] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// RemoveProduct deletes the product's data: its snapshot logs (and the files set aside
// beside them), deployments, incidents and analytics. It is for `portfolio demo`, which
// replaces a history whole.
func (s *Store) RemoveProduct(product string) error {
	if product == "" || strings.ContainsAny(product, `/\.`) {
		return fmt.Errorf("remove product %q: not a product id", product)
	}
	months, err := s.months()
	if err != nil {
		return err
	}
	for _, m := range months {
		dir := s.path("snapshots/" + m)
		files, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, f := range files {
			base, _, _ := strings.Cut(f.Name(), ".jsonl")
			if ref, ok := parseLogName(m, base+".jsonl"); ok && ref.product == product {
				if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
		os.Remove(dir) // only when empty: the other products' logs stay
	}
	return os.RemoveAll(s.path(productDoc(product, "")))
}
