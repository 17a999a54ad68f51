// Package plandiff writes the terraform-style plans of the commands that make a remote service
// match portfolio.json (`healthchecks plan`, `repos plan`): a change a line ("+" create,
// "~" update, "-" delete) with its fields aligned below it, values as JSON, counts in words.
// Each command's plan says what its changes are; this package says how every plan reads, so
// the two read alike.
package plandiff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Field is one line under a change: a field's name and what the plan says of it (the new
// value, or "old → new").
type Field struct {
	Name, Text string
}

// WriteChange writes one change: "  <symbol> <title>", then its fields, names aligned.
func WriteChange(b *strings.Builder, symbol, title string, fields []Field) {
	fmt.Fprintf(b, "  %s %s\n", symbol, title)
	width := 0
	for _, f := range fields {
		width = max(width, len(f.Name))
	}
	for _, f := range fields {
		fmt.Fprintf(b, "      %-*s  %s\n", width+1, f.Name+":", f.Text)
	}
}

// Value is a field's value as a plan shows it: JSON, or "(none)" when it is absent.
func Value(v any, present bool) string {
	if !present {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Reasons lists skipped items as "a (why), b (why)".
func Reasons[T any](items []T, text func(T) (name, reason string)) string {
	parts := make([]string, len(items))
	for i, it := range items {
		name, reason := text(it)
		parts[i] = name + " (" + reason + ")"
	}
	return strings.Join(parts, ", ")
}

// Plural counts n of an English noun: "1 zone", "2 zones", "2 policies", "2 branches".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok && !strings.ContainsAny(stem[len(stem)-1:], "aeiou") {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	for _, s := range []string{"ch", "sh", "s", "x"} {
		if strings.HasSuffix(noun, s) {
			return fmt.Sprintf("%d %ses", n, noun)
		}
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteJSON writes a plan as indented JSON without HTML escaping; plans keep their changes in
// apply order and everything else sorted, so the same state gives the same bytes.
func WriteJSON(w io.Writer, plan any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(plan)
}
