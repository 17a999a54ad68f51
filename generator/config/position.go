package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// positions maps every value of a JSON document to where it starts, so a problem found by the
// schema (which knows only a JSON pointer) or by a Go check (which knows a field path) can be
// reported as file:line:col.
//
// encoding/json has no position API beyond Decoder.InputOffset, so the document is walked token
// by token here (the technique of hugo's common/herrors and actionlint's error positions).
type positions struct {
	data  []byte
	lines []int           // byte offset of the start of each line
	nodes map[string]node // key: joinPointer(segments)
	dups  [][]string      // object members whose key appeared before in the same object
}

// node is where one value of the document starts.
type node struct {
	key int // offset of the member's key; -1 for the root and array elements
	val int // offset of the value's first byte
}

// indexPositions walks data, which must be syntactically valid JSON.
func indexPositions(data []byte) (*positions, error) {
	p := &positions{data: data, nodes: map[string]node{}, lines: []int{0}}
	for i, b := range data {
		if b == '\n' {
			p.lines = append(p.lines, i+1)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := p.walk(dec, nil, -1); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *positions) walk(dec *json.Decoder, path []string, keyOff int) error {
	start := p.skip(int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	p.nodes[joinPointer(path)] = node{key: keyOff, val: start}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			koff := p.skip(int(dec.InputOffset()))
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, ok := kt.(string)
			if !ok {
				return errors.New("object key is not a string")
			}
			child := append(path[:len(path):len(path)], k)
			if seen[k] {
				p.dups = append(p.dups, child)
			}
			seen[k] = true
			if err := p.walk(dec, child, koff); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := p.walk(dec, append(path[:len(path):len(path)], strconv.Itoa(i)), -1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	return err
}

// skip returns the offset of the next token at or after off: Decoder.InputOffset points just
// past the previous token, before the whitespace and the ',' or ':' that separate tokens.
func (p *positions) skip(off int) int {
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// lineCol turns a byte offset into a 1-based line and a 1-based column counted in characters.
func (p *positions) lineCol(off int) (line, col int) {
	off = min(max(off, 0), len(p.data))
	// The last line start at or before off.
	lo, hi := 0, len(p.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if p.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, utf8.RuneCount(p.data[p.lines[lo]:off]) + 1
}

// at returns the position of the value at path (or of its key when key is true and it has one),
// falling back to the nearest ancestor that exists (a missing field is reported at its object).
func (p *positions) at(path []string, key bool) (line, col int) {
	for n := len(path); n >= 0; n-- {
		if nd, ok := p.nodes[joinPointer(path[:n])]; ok {
			off := nd.val
			if key && n == len(path) && nd.key >= 0 {
				off = nd.key
			}
			return p.lineCol(off)
		}
	}
	return 1, 1
}

// joinPointer joins path segments into a map key (NUL cannot appear unescaped in JSON text
// but can in a decoded key, which at worst merges two pathological keys' positions).
func joinPointer(path []string) string { return strings.Join(path, "\x00") }

// lineColOf turns a byte offset into line:col without building an index (for syntax errors).
func lineColOf(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, utf8.RuneCount(data[ls:off]) + 1
}

// syntaxProblem turns a decoding error of malformed JSON into one positioned problem.
func syntaxProblem(data []byte, err error) Problem {
	off := len(data)
	msg := err.Error()
	var se *json.SyntaxError
	var td *trailingDataError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		off = max(int(se.Offset)-1, 0)
	case errors.As(err, &td):
		off, msg = td.off, "want one JSON object, got more text after it"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "unexpected end of file"
	}
	line, col := lineColOf(data, off)
	return Problem{Line: line, Col: col, Msg: "invalid JSON: " + msg}
}

// trailingDataError is text after the config's one JSON value.
type trailingDataError struct{ off int }

func (e *trailingDataError) Error() string {
	return fmt.Sprintf("text after the JSON value at byte %d", e.off)
}
