// Package progress shows how `portfolio collect` goes: a live status line on a terminal, plain
// lines in a log, and in GitHub Actions `::group::` blocks per product, `::warning::`
// annotations for failed sources and a Markdown summary appended to $GITHUB_STEP_SUMMARY.
package progress

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
)

// Mode is how progress is shown.
type Mode int

// Modes.
const (
	Plain  Mode = iota // one line per finished call
	TTY                // a live status line, failures as lines above it
	GitHub             // ::group:: per product, ::warning:: per failure, step summary
	Quiet              // nothing until the summary
)

// DetectMode picks GitHub when GITHUB_ACTIONS=true, TTY when w is a terminal, else Plain.
func DetectMode(w io.Writer, getenv func(string) string) Mode {
	if getenv("GITHUB_ACTIONS") == "true" {
		return GitHub
	}
	if isTerminal(w) {
		return TTY
	}
	return Plain
}

// isTerminal reports whether w is a character device. Hand-written with os.File.Stat rather
// than a terminal library: this is the one question asked, and no module of ours exposes it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Reporter is a source.Observer that writes progress to W.
type Reporter struct {
	W     io.Writer
	Mode  Mode
	Total int // calls expected (products × sources), for the TTY counter

	mu      sync.Mutex
	done    int
	failed  int
	running map[string]time.Time // "product/source" → start
	width   int                  // of the status line last drawn
}

var _ source.Observer = (*Reporter)(nil)

// New returns a reporter writing to w in mode.
func New(w io.Writer, mode Mode, total int) *Reporter {
	return &Reporter{W: w, Mode: mode, Total: total, running: map[string]time.Time{}}
}

// Started implements source.Observer.
func (r *Reporter) Started(product, src string) {
	if r.Mode != TTY {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[product+"/"+src] = time.Now()
	r.draw()
}

// Finished implements source.Observer.
func (r *Reporter) Finished(o source.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if o.Status.Failed() {
		r.failed++
	}
	switch r.Mode {
	case Plain:
		fmt.Fprintln(r.W, line(o))
	case TTY:
		delete(r.running, o.Product+"/"+o.Source)
		if o.Status.State != record.StateOK {
			r.clear()
			fmt.Fprintln(r.W, line(o))
		}
		r.draw()
	}
}

// ProductDone implements source.Observer: in GitHub mode, one folded group per product.
func (r *Reporter) ProductDone(product string, outcomes []source.Outcome) {
	if r.Mode != GitHub {
		return
	}
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o.Status.State]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "::group::%s: %s\n", escapeData(product), countText(counts))
	for _, o := range outcomes {
		b.WriteString(escapeData(line(o)))
		b.WriteByte('\n')
	}
	b.WriteString("::endgroup::\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	io.WriteString(r.W, b.String())
}

// Finish ends the live line and writes the summary: a short one on a terminal or in a log,
// warnings for failed sources in GitHub mode.
func (r *Reporter) Finish(sum source.Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Mode == TTY {
		r.clear()
	}
	if r.Mode == GitHub {
		for _, o := range sum.FailedOutcomes() {
			fmt.Fprintf(r.W, "::warning title=%s::%s\n", escapeProperty("collect "+o.Product+"/"+o.Source),
				escapeData(o.Status.State+": "+o.Status.Msg))
		}
		for _, d := range sum.Damaged {
			fmt.Fprintf(r.W, "::error title=%s::%s\n", escapeProperty("collect "+d.Product), escapeData(d.Text()))
		}
		for _, n := range sum.Notes {
			fmt.Fprintf(r.W, "::warning title=data repaired::%s\n", escapeData(n))
		}
	}
	fmt.Fprintln(r.W, SummaryLine(sum))
}

// SummaryLine is the one-line account of a run.
func SummaryLine(sum source.Summary) string {
	shard := ""
	if sum.Shard.Count > 1 {
		shard = " (shard " + sum.Shard.String() + ")"
	}
	line := fmt.Sprintf("collected %d products × %d sources in %s%s: %s; %d deployments, %d incidents, %d analytics days changed",
		len(sum.Products), len(sum.Sources), sum.Duration.Round(10*time.Millisecond), shard, countText(sum.Counts),
		sum.Deployments, sum.Incidents, sum.AnalyticsDays)
	if n := len(sum.Already); n > 0 {
		line += fmt.Sprintf("; %d already collected at this time, left as they are", n)
	}
	if n := len(sum.Damaged); n > 0 {
		line += fmt.Sprintf("; %d not collected: data damaged", n)
	}
	return line
}

func countText(counts map[string]int) string {
	var parts []string
	for _, s := range []string{record.StateOK, record.StateSkipped, record.StateError, record.StateRateLimited, record.StateTimedOut} {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(s, "_", " ")))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// line is one outcome: product, source, state, time and the message.
func line(o source.Outcome) string {
	s := fmt.Sprintf("%-20s %-10s %-12s %6s", o.Product, o.Source, o.Status.State, o.Duration.Round(time.Millisecond))
	if o.Status.Msg != "" {
		s += "  " + oneLine(o.Status.Msg)
	}
	return strings.TrimRight(s, " ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// draw redraws the status line (the caller holds mu).
func (r *Reporter) draw() {
	names := make([]string, 0, len(r.running))
	for k := range r.running {
		names = append(names, k)
	}
	sort.Strings(names)
	more := ""
	if len(names) > 3 {
		more = fmt.Sprintf(" +%d", len(names)-3)
		names = names[:3]
	}
	s := fmt.Sprintf("collecting %d/%d", r.done, r.Total)
	if r.failed > 0 {
		s += fmt.Sprintf(" (%d failed)", r.failed)
	}
	if len(names) > 0 {
		s += "  " + strings.Join(names, " ") + more
	}
	r.clear()
	io.WriteString(r.W, s)
	r.width = len(s)
}

func (r *Reporter) clear() {
	if r.width > 0 {
		io.WriteString(r.W, "\r\x1b[K")
		r.width = 0
	}
}

// escapeData escapes a workflow command's message (actions/toolkit command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
