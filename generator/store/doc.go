// Package store keeps portfolio's history in data/: versioned JSON documents written atomically,
// monthly snapshot logs with one snapshot per line, migrations of older schema versions, and a
// lock so two runs never write at once. See data/README.md for the layout.
package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
)

// Migration upgrades a document's data from one schema version to the next.
type Migration func(data json.RawMessage) (json.RawMessage, error)

// Kind describes one kind of document: its name, the schema version this binary writes, and
// the migrations from older versions (Migrations[i] turns version i+1 into version i+2).
type Kind struct {
	Name       string
	Version    int
	Migrations []Migration
}

// envelope is the on-disk form of every document.
type envelope struct {
	SchemaVersion int             `json:"schema_version"`
	Kind          string          `json:"kind"`
	Data          json.RawMessage `json:"data"`
}

// NewerSchemaError says a file was written by a newer portfolio than this one.
type NewerSchemaError struct {
	Path           string
	Found, Current int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("%s: schema_version %d is newer than this portfolio binary knows (%d): upgrade portfolio; the file was left untouched",
		e.Path, e.Found, e.Current)
}

// CorruptError says a file is truncated or malformed.
type CorruptError struct {
	Path   string
	Offset int64 // byte offset of the problem, from the start of the file
	Line   int   // 1-based line of Offset
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s: byte %d (line %d): %v", e.Path, e.Offset, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// corruptAt builds a *CorruptError at offset off of file.
func corruptAt(path string, file []byte, off int64, err error) *CorruptError {
	off = min(max(off, 0), int64(len(file)))
	return &CorruptError{Path: path, Offset: off, Line: 1 + bytes.Count(file[:off], []byte{'\n'}), Err: err}
}

// corrupt wraps the JSON decoding error of part, which starts at byte base of file, with the
// file offset of the problem.
func corrupt(path string, file []byte, base int64, part []byte, err error) error {
	off := int64(len(part))
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		err = errors.New("truncated: unexpected end of JSON input")
	case errors.As(err, &se):
		off = se.Offset - 1 // Offset counts the bad byte as read
		err = fmt.Errorf("malformed JSON: %w", err)
	case errors.As(err, &te):
		off = te.Offset
		err = fmt.Errorf("malformed: %w", err)
	default:
		err = fmt.Errorf("malformed: %w", err)
	}
	return corruptAt(path, file, base+off, err)
}

// ReadDoc reads the document name (a slash-separated path below the data folder) of kind k
// into v, migrating older versions in memory. It returns false, nil when the file does not exist.
func (s *Store) ReadDoc(name string, k Kind, v any) (bool, error) {
	path := s.path(name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	raw, err := decodeEnvelope(path, data, k)
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%s: data: %w", path, err)
	}
	return true, nil
}

func decodeEnvelope(path string, data []byte, k Kind) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, corrupt(path, data, 0, data, err)
	}
	if env.Kind != k.Name {
		return nil, fmt.Errorf("%s: kind %q, want %q", path, env.Kind, k.Name)
	}
	if env.Data == nil {
		return nil, corruptAt(path, data, int64(len(data)), errors.New(`no "data" field`))
	}
	if err := k.readable(path, env.SchemaVersion); err != nil {
		return nil, err
	}
	raw, err := k.upgrade(env.SchemaVersion, env.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return raw, nil
}

// readable checks that this binary can read a file of kind k at schema version found: not
// newer than k.Version, at least 1, and every migration from found up to k.Version present.
func (k Kind) readable(path string, found int) error {
	switch {
	case found > k.Version:
		return &NewerSchemaError{Path: path, Found: found, Current: k.Version}
	case found < 1:
		return fmt.Errorf("%s: schema_version %d: want 1 to %d", path, found, k.Version)
	}
	for v := found; v < k.Version; v++ {
		if v-1 >= len(k.Migrations) || k.Migrations[v-1] == nil {
			return fmt.Errorf("%s: schema_version %d of kind %q cannot be read: this binary has no migration from version %d to %d",
				path, found, k.Name, v, v+1)
		}
	}
	return nil
}

// upgrade runs raw, written at schema version found, through k's migrations up to k.Version.
// Call readable first: it reports a missing migration with the file's name.
func (k Kind) upgrade(found int, raw json.RawMessage) (json.RawMessage, error) {
	for v := found; v < k.Version; v++ {
		if v-1 >= len(k.Migrations) || k.Migrations[v-1] == nil {
			return nil, fmt.Errorf("no migration from schema_version %d to %d", v, v+1)
		}
		var err error
		if raw, err = k.Migrations[v-1](raw); err != nil {
			return nil, fmt.Errorf("migrate schema_version %d to %d: %w", v, v+1, err)
		}
	}
	return raw, nil
}

// WriteDoc writes v as the document name of kind k, atomically. A slice is written one element
// a line, so adding a record is a one-line diff. A file whose bytes would not change is not
// rewritten. A file with a newer schema version is refused, never overwritten.
func (s *Store) WriteDoc(name string, k Kind, v any) error {
	path := s.path(name)
	if err := s.refuseNewer(path, k); err != nil {
		return err
	}
	data, err := encodeDoc(k, v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return s.writeIfChanged(path, data)
}

// refuseNewer returns a *NewerSchemaError when the file at path carries a newer version of k.
func (s *Store) refuseNewer(path string, k Kind) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // missing or unreadable: the write will tell
	}
	defer f.Close()
	var head struct {
		SchemaVersion int `json:"schema_version"`
	}
	// Only the leading schema_version is needed; a decoder stops at the first value.
	first, _ := readFirstLine(f)
	if json.Unmarshal(first, &head) == nil && head.SchemaVersion > k.Version {
		return &NewerSchemaError{Path: path, Found: head.SchemaVersion, Current: k.Version}
	}
	if head.SchemaVersion == 0 {
		// Fall back to the whole file (a document not written by us, or a long first line).
		data, err := os.ReadFile(path)
		if err == nil && json.Unmarshal(data, &head) == nil && head.SchemaVersion > k.Version {
			return &NewerSchemaError{Path: path, Found: head.SchemaVersion, Current: k.Version}
		}
	}
	return nil
}

func readFirstLine(r io.Reader) ([]byte, error) {
	buf := make([]byte, 4096)
	n, err := io.ReadFull(r, buf)
	buf = buf[:n]
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return buf[:i], nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return buf, err
}

// encodeDoc renders the envelope: the header on the first line and, for a slice, one element a line.
func encodeDoc(k Kind, v any) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"schema_version":%d,"kind":%q,"data":`, k.Version, k.Name)
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Slice && !rv.IsNil() {
		b.WriteString("[")
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n")
			line, err := marshalCompact(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			b.Write(line)
		}
		b.WriteString("\n]}\n")
		return b.Bytes(), nil
	}
	body, err := marshalCompact(v)
	if err != nil {
		return nil, err
	}
	b.WriteString("\n")
	b.Write(linesPerElement(body))
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// linesPerElement lays out a JSON object with one top-level field a line and, for a field that
// is an array, one element a line, so a state document (alerts, cursors) changes by a few lines
// per run instead of as one long line. Anything that is not an object is returned unchanged.
func linesPerElement(obj []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return obj
	}
	var b bytes.Buffer
	b.WriteString("{")
	first := true
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return obj
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return obj
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString("\n")
		name, _ := marshalCompact(key)
		b.Write(name)
		b.WriteString(":")
		var elems []json.RawMessage
		if len(val) > 0 && val[0] == '[' && json.Unmarshal(val, &elems) == nil && len(elems) > 0 {
			b.WriteString("[")
			for i, e := range elems {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString("\n")
				b.Write(e)
			}
			b.WriteString("\n]")
			continue
		}
		b.Write(val)
	}
	b.WriteString("\n}")
	return b.Bytes()
}

// marshalCompact is json.Marshal without HTML escaping, so "<" in an issue title stays readable
// in git diffs (the site escapes on output).
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// writeIfChanged writes data to path atomically unless the file already holds exactly data,
// so an unchanged document keeps its mtime and git sees nothing.
func (s *Store) writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return writeAtomic(path, data, s.faults)
}

// WriteFileAtomic writes data to a temporary file in path's folder, syncs it and renames it over
// path, so a crash leaves either the old file or the new one, never a truncated one.
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data, nil) }

// faults lets tests fail a write at a chosen step; nil fields use the real operation.
type faults struct {
	write  func(f *os.File, data []byte) (int, error)
	rename func(oldpath, newpath string) error
}

func writeAtomic(path string, data []byte, fl *faults) error {
	write := func(f *os.File, b []byte) (int, error) { return f.Write(b) }
	rename := os.Rename
	if fl != nil && fl.write != nil {
		write = fl.write
	}
	if fl != nil && fl.rename != nil {
		rename = fl.rename
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := write(f, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all filesystems support it
		d.Close()
	}
	return nil
}
