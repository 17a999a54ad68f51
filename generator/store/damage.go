package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// UnreadableError says a data file exists but cannot be read (permissions, I/O error).
type UnreadableError struct {
	Path string
	Err  error
}

func (e *UnreadableError) Error() string { return fmt.Sprintf("%s: cannot read: %v", e.Path, e.Err) }
func (e *UnreadableError) Unwrap() error { return e.Err }

// Damage says whether err is about a damaged data file: truncated or malformed
// (*CorruptError), written by a newer portfolio (*NewerSchemaError), or unreadable
// (*UnreadableError). It returns where: "data/snapshots/2026-11/api.28.jsonl:7" (file:line),
// or the file alone when the problem is the whole file. Such an error is one product's: the
// commands record it for that product ("data damaged: file:line") and go on with the others.
func Damage(err error) (where string, ok bool) {
	var ce *CorruptError
	var ne *NewerSchemaError
	var ue *UnreadableError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("%s:%d", ce.Path, ce.Line), true
	case errors.As(err, &ne):
		return ne.Path + ":1", true
	case errors.As(err, &ue):
		return ue.Path, true
	}
	return "", false
}

// DamageText is the one line a page or a summary shows for a damaged file:
// "data damaged: file:line: what is wrong; run portfolio repair". Paths are shown relative to
// the working folder when they are below it.
func DamageText(err error) string {
	where, ok := Damage(err)
	if !ok {
		return err.Error()
	}
	what := err.Error()
	var ce *CorruptError
	if errors.As(err, &ce) {
		what = ce.Err.Error()
	}
	var ne *NewerSchemaError
	hint := "see portfolio repair"
	if errors.As(err, &ne) {
		what = fmt.Sprintf("schema_version %d is newer than this portfolio binary knows (%d)", ne.Found, ne.Current)
		hint = "upgrade portfolio"
	}
	var ue *UnreadableError
	if errors.As(err, &ue) {
		what = ue.Err.Error()
		hint = "check the file's permissions"
	}
	return fmt.Sprintf("data damaged: %s: %s (%s)", relPath(where), what, hint)
}

// relPath shows p relative to the working folder when it is below it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(p) {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(r) {
		return r
	}
	return p
}
