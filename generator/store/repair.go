package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
)

// Problem is one damaged data file, and what Repair would do about it.
type Problem struct {
	Path string // the file
	Line int    // the first line at fault; 0 for the whole file
	What string // what is wrong
	// Plan says what Repair does; empty when it cannot repair the file (Advice says what to do).
	Plan   string
	Advice string

	keep []byte // the file's bytes after the repair (snapshot logs)
	torn []byte // an unterminated last line, for the .torn file
}

// Where is "path:line", or the path alone.
func (p Problem) Where() string {
	if p.Line == 0 {
		return p.Path
	}
	return fmt.Sprintf("%s:%d", p.Path, p.Line)
}

// Check reads every snapshot log and document in the store and lists the damaged ones, with
// what Repair would do about each, in file order. It changes nothing.
func (s *Store) Check() ([]Problem, error) {
	var out []Problem
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == s.dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, _ := filepath.Rel(s.dir, path)
		rel = filepath.ToSlash(rel)
		var p *Problem
		switch {
		case strings.HasPrefix(rel, "snapshots/") && strings.HasSuffix(rel, ".jsonl"):
			parts := strings.Split(rel, "/")
			if len(parts) != 3 {
				return nil
			}
			ref, ok := parseLogName(parts[1], parts[2])
			if !ok {
				return nil
			}
			p = s.checkLog(path, ref)
		case strings.HasSuffix(rel, ".json"):
			p = checkDoc(path)
		}
		if p != nil {
			out = append(out, *p)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// checkDoc checks that a document is whole JSON with a schema_version.
func checkDoc(path string) *Problem {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Problem{Path: path, What: "cannot read: " + err.Error(), Advice: "check the file's permissions"}
	}
	var env struct {
		SchemaVersion int `json:"schema_version"`
	}
	advice := "restore it from git (git log -- FILE; git checkout <commit> -- FILE); a file under state/ may be deleted instead: it is rebuilt by the next run"
	if err := json.Unmarshal(data, &env); err != nil {
		ce := corrupt(path, data, 0, data, err)
		var c *CorruptError
		errors.As(ce, &c)
		return &Problem{Path: path, Line: c.Line, What: c.Err.Error(), Advice: advice}
	}
	if env.SchemaVersion < 1 {
		return &Problem{Path: path, Line: 1, What: "no schema_version", Advice: advice}
	}
	return nil
}

// checkLog checks one snapshot log and plans its repair: keep the lines that decode, in
// order and in the file's day, and set the others aside.
func (s *Store) checkLog(path string, ref logRef) *Problem {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Problem{Path: path, What: "cannot read: " + err.Error(), Advice: "check the file's permissions"}
	}
	_, perr := s.parseLog(path, data, ref, readOpts{})
	var torn []byte
	body := data
	if n := len(data); n > 0 && data[n-1] != '\n' {
		cut := bytes.LastIndexByte(data, '\n') + 1
		torn, body = data[cut:], data[:cut]
	}
	if perr == nil && torn == nil {
		return nil
	}
	p := &Problem{Path: path, torn: torn}
	var ne *NewerSchemaError
	var ce *CorruptError
	switch {
	case errors.As(perr, &ne):
		p.Line, p.What = 1, fmt.Sprintf("schema_version %d is newer than this portfolio binary knows (%d)", ne.Found, ne.Current)
		p.Advice = "upgrade portfolio: the file is fine for the version that wrote it"
		return p
	case errors.As(perr, &ce):
		p.Line, p.What = ce.Line, ce.Err.Error()
	case perr != nil:
		p.Line, p.What = 1, perr.Error()
	default:
		p.Line = 1 + bytes.Count(body, []byte{'\n'})
		p.What = fmt.Sprintf("the last line has no newline (%d bytes: a crash while appending)", len(torn))
	}
	end := bytes.IndexByte(body, '\n')
	var h snapshotHeader
	if end < 0 || json.Unmarshal(body[:end], &h) != nil || h.Kind != s.snapshots.Name || s.snapshots.readable(path, h.SchemaVersion) != nil {
		p.Advice = "the header line is damaged: restore the file from git (git log -- FILE; git checkout <commit> -- FILE)"
		return p
	}
	// Keep each line that reads as a snapshot of the file's span, after the last one kept.
	from, to := ref.span()
	keep := append([]byte(nil), body[:end+1]...)
	var dropped []int
	var last time.Time
	line := 1
	for off := end + 1; off < len(body); {
		lineEnd := off + bytes.IndexByte(body[off:], '\n')
		raw := body[off:lineEnd]
		line++
		off = lineEnd + 1
		var sn record.Snapshot
		ok := len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{'
		if ok {
			up, err := s.snapshots.upgrade(h.SchemaVersion, raw)
			ok = err == nil && json.Unmarshal(up, &sn) == nil && !sn.Time.IsZero() &&
				!sn.Time.Before(from) && sn.Time.Before(to) && (last.IsZero() || sn.Time.After(last))
		}
		if !ok {
			dropped = append(dropped, line)
			continue
		}
		last = sn.Time
		keep = append(append(keep, raw...), '\n')
	}
	p.keep = keep
	var parts []string
	if len(dropped) > 0 {
		parts = append(parts, fmt.Sprintf("drop line(s) %s", lineList(dropped)))
	}
	if torn != nil {
		parts = append(parts, fmt.Sprintf("move the unterminated last line to %s.torn", filepath.Base(path)))
	}
	kept := bytes.Count(keep, []byte{'\n'}) - 1
	p.Plan = fmt.Sprintf("%s, keeping %d snapshot(s); the file as it is now is kept as %s",
		strings.Join(parts, " and "), kept, filepath.Base(backupName(path)))
	return p
}

func lineList(ls []int) string {
	var parts []string
	for i, l := range ls {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… (%d in all)", len(ls)))
			break
		}
		parts = append(parts, fmt.Sprint(l))
	}
	return strings.Join(parts, ", ")
}

// backupName is where Repair keeps the file as it was: path.damaged, or path.damaged-2, … when
// an earlier repair kept one already.
func backupName(path string) string {
	name := path + ".damaged"
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.damaged-%d", path, i)
	}
}

// Repair carries out p.Plan: it copies the file as it is to a .damaged file beside it, moves an
// unterminated last line to a .torn file, and writes the lines kept, atomically. The caller holds
// the data lock. It returns what it did.
func (s *Store) Repair(p Problem) (string, error) {
	if p.Plan == "" {
		return "", fmt.Errorf("%s: cannot be repaired here: %s", p.Where(), p.Advice)
	}
	data, err := os.ReadFile(p.Path)
	if err != nil {
		return "", err
	}
	backup := backupName(p.Path)
	if err := writeAtomic(backup, data, s.faults); err != nil {
		return "", err
	}
	if p.torn != nil {
		if err := appendSide(p.Path+".torn", append(append([]byte(nil), p.torn...), '\n')); err != nil {
			return "", err
		}
	}
	if err := writeAtomic(p.Path, p.keep, s.faults); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: repaired: %s", p.Where(), p.Plan), nil
}
