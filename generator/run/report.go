package run

import (
	"fmt"
	"strings"
	"time"
)

// Row states. Rows under a step may also carry an alert's new state (firing, resolved) or
// "failing" for a channel whose sends keep failing.
const (
	StateOK      = "ok"
	StateSkipped = "skipped"
	StateFailed  = "failed"
	StateWarning = "warning"
	StateFailing = "failing"
	// StateDamaged marks a product whose data file is damaged: the row says "data damaged:
	// file:line"; the rest of the portfolio went on, and the run exits 3.
	StateDamaged = "damaged"
	// StateRepaired marks what the store repaired on its own (a torn last line moved aside).
	StateRepaired = "repaired"
)

// Outcome is how a run ended, worst first when compared: Failed > SourcesFailed > OK.
type Outcome int

// Outcomes.
const (
	OK            Outcome = iota // every step did its job
	SourcesFailed                // finished, but some source failed: its data is stale
	Failed                       // a step failed
)

// Report is what a run did, step by step, for the one-screen summary.
type Report struct {
	Now     time.Time // the run's clock
	Demo    bool      // the data is demo data: nothing was collected or written
	Rows    []Row
	Outcome Outcome
}

// Row is one line of the summary: a step, or a detail under the step above it (Sub).
type Row struct {
	Name   string
	State  string
	Detail string // one line
	Sub    bool
}

// Row returns the first row named name, and whether there is one.
func (r Report) Row(name string) (Row, bool) {
	for _, row := range r.Rows {
		if row.Name == name {
			return row, true
		}
	}
	return Row{}, false
}

func (r *Report) add(name, state, detail string) {
	r.Rows = append(r.Rows, Row{Name: name, State: state, Detail: firstLine(detail)})
}

func (r *Report) sub(name, state, detail string) {
	r.Rows = append(r.Rows, Row{Name: name, State: state, Detail: firstLine(detail), Sub: true})
}

// fail records step as failed with err, and the run as failed.
func (r *Report) fail(step string, err error) {
	r.add(step, StateFailed, err.Error())
	r.worsen(Failed)
}

func (r *Report) worsen(o Outcome) { r.Outcome = max(r.Outcome, o) }

// damage records a product's damaged data file under the current step, once per file and
// problem whichever steps meet it, and makes the run end with exit 3: the other products went on.
func (r *Report) damage(product, text string) {
	r.worsen(SourcesFailed)
	for _, row := range r.Rows {
		if row.State == StateDamaged && row.Detail == firstLine(text) {
			return
		}
	}
	r.sub(product, StateDamaged, text)
}

// firstLine keeps a summary row to one line: the first line of s and how many more there were.
func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%s (+%d more)", lines[0], len(lines)-1)
}

// ByteSize is n for a person: 512 B, 40 KB, 3.1 MB.
func ByteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
