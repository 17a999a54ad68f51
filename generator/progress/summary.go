package progress

import (
	"fmt"
	"html"
	"os"
	"strings"

	"github.com/portfolio-report/portfolio/generator/record"
	"github.com/portfolio-report/portfolio/generator/source"
)

// Markdown renders the run as a GitHub step summary: the counts, a product × source table and
// the failures with their messages. Messages are escaped: they may quote API answers.
func Markdown(sum source.Summary) string {
	var b strings.Builder
	b.WriteString("### portfolio collect\n\n")
	b.WriteString(html.EscapeString(SummaryLine(sum)) + ".\n\n")
	if len(sum.Products) == 0 || len(sum.Sources) == 0 {
		return b.String()
	}
	b.WriteString("| Product |")
	for _, s := range sum.Sources {
		b.WriteString(" " + s + " |")
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(sum.Sources)))
	b.WriteString("\n")
	for i, p := range sum.Products {
		b.WriteString("| " + cell(p) + " |")
		for j := range sum.Sources {
			k := i*len(sum.Sources) + j
			if k < len(sum.Outcomes) {
				b.WriteString(" " + stateCell(sum.Outcomes[k].Status) + " |")
			}
		}
		b.WriteString("\n")
	}
	if failed := sum.FailedOutcomes(); len(failed) > 0 {
		b.WriteString("\n**Failed sources** (their data is stale; the site shows its age):\n\n")
		for _, o := range failed {
			fmt.Fprintf(&b, "- %s / %s: %s", cell(o.Product), cell(o.Source), cell(o.Status.Msg))
			if o.Status.Fails > 1 {
				fmt.Fprintf(&b, " (%d runs in a row)", o.Status.Fails)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func stateCell(s record.SourceStatus) string {
	switch s.State {
	case record.StateOK:
		return "✅ ok"
	case record.StateSkipped:
		return "⏭️ skipped"
	case record.StateRateLimited:
		return "⏳ rate limited"
	case record.StateTimedOut:
		return "⌛ timed out"
	default:
		return "❌ error"
	}
}

// cell makes untrusted text safe in a Markdown table cell: one line, HTML escaped, pipes and
// Markdown punctuation that could start a link or code escaped.
func cell(s string) string {
	s = oneLine(s)
	s = html.EscapeString(s)
	return strings.NewReplacer("|", `\|`, "`", "\\`", "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`).Replace(s)
}

// AppendStepSummary appends the Markdown summary to the file $GITHUB_STEP_SUMMARY names; it
// does nothing when the variable is unset.
func AppendStepSummary(getenv func(string) string, sum source.Summary) error {
	path := getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("step summary: %w", err)
	}
	if _, err := f.WriteString(Markdown(sum) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("step summary: %w", err)
	}
	return f.Close()
}
