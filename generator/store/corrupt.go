package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// CorruptError says a file is truncated or malformed.
type CorruptError struct {
	Path   string
	Offset int64 // byte offset of the problem, from the start of the file; -1 when unknown
	Line   int   // 1-based line of Offset
	Err    error
}

func (e *CorruptError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: line %d: %v", e.Path, e.Line, e.Err)
	}
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
