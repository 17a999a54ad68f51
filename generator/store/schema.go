package store

import (
	"encoding/json"
	"fmt"
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

// NewerSchemaError says a file was written by a newer portfolio than this one.
type NewerSchemaError struct {
	Path           string
	Found, Current int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("%s: schema_version %d is newer than this portfolio binary knows (%d): upgrade portfolio; the file was left untouched",
		e.Path, e.Found, e.Current)
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
