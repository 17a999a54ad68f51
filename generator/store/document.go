package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
)

// envelope is the on-disk form of every document.
type envelope struct {
	SchemaVersion int             `json:"schema_version"`
	Kind          string          `json:"kind"`
	Data          json.RawMessage `json:"data"`
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
		return false, &UnreadableError{Path: path, Err: err}
	}
	raw, err := decodeEnvelope(path, data, k)
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		if base := bytes.Index(data, raw); base >= 0 { // not migrated: the offset is the file's
			return false, corrupt(path, data, int64(base), raw, err)
		}
		return false, &CorruptError{Path: path, Offset: -1, Line: 1, Err: fmt.Errorf("malformed: data after migration: %w", err)}
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
