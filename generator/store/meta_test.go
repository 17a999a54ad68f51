package store

import (
	"testing"
	"time"
)

func TestMetaRules(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		meta Meta
		demo bool
		want Rules
	}{
		{"collected data: writable, the current time", Meta{}, false, Rules{}},
		{"demo data: read only, as of its last snapshot", Meta{Generator: GeneratorDemo, Seed: 1, AsOf: asOf}, true,
			Rules{ReadOnly: true, Clock: asOf}},
		{"another generator is not demo data", Meta{Generator: "import", AsOf: asOf}, false, Rules{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.meta.Demo(); got != tt.demo {
				t.Errorf("Demo() = %v, want %v", got, tt.demo)
			}
			if got := tt.meta.Rules(); got != tt.want {
				t.Errorf("Rules() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	st := Open(t.TempDir())
	if m, err := st.Meta(); err != nil || m.Demo() {
		t.Fatalf("a new folder: %+v, %v; want collected data", m, err)
	}
	want := Meta{Generator: GeneratorDemo, Seed: 7, AsOf: time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)}
	if err := st.SaveMeta(want); err != nil {
		t.Fatal(err)
	}
	got, err := st.Meta()
	if err != nil || got != want || !got.Rules().ReadOnly {
		t.Errorf("read back %+v, %v; want %+v, read only", got, err, want)
	}
}
