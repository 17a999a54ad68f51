package store

import "time"

// GeneratorDemo is Meta.Generator for the history `portfolio demo` writes.
const GeneratorDemo = "demo"

// Meta describes where the data came from.
type Meta struct {
	// Generator is GeneratorDemo when `portfolio demo` wrote the data; empty for collected data.
	Generator string `json:"generator,omitempty"`
	Seed      int64  `json:"seed,omitempty"`
	// AsOf is the time of the demo's last snapshot: the default clock for demo data, so the
	// example site shows the demo as it was, not hours of staleness since.
	AsOf time.Time `json:"as_of,omitzero"`
}

// Meta reads data/meta.json (zero Meta when missing).
func (s *Store) Meta() (Meta, error) {
	var m Meta
	_, err := s.ReadDoc("meta.json", KindMeta, &m)
	return m, err
}

// SaveMeta writes data/meta.json.
func (s *Store) SaveMeta(m Meta) error { return s.WriteDoc("meta.json", KindMeta, m) }

// Demo reports whether the data is the made-up history of `portfolio demo`; the site then
// shows a banner.
func (m Meta) Demo() bool { return m.Generator == GeneratorDemo }

// Rules are what the commands may do with a data folder. Meta.Rules is the one place they are
// decided; collect, alert, run and the default clock follow them.
type Rules struct {
	// ReadOnly forbids every write: no snapshot, no alert state, no sent log, and so no lock is
	// needed. Collect refuses, alert evaluates as a dry run, run only builds and publishes.
	ReadOnly bool
	// Clock is the default time when none is given (zero: the current time).
	Clock time.Time
}

// Rules returns the rules of the data m describes. Demo data is read only (collecting into it
// would mix real and made-up history) and is shown as of its last snapshot.
func (m Meta) Rules() Rules {
	if !m.Demo() {
		return Rules{}
	}
	return Rules{ReadOnly: true, Clock: m.AsOf}
}
