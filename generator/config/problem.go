package config

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with the config, found by the schema or by a Go check.
type Problem struct {
	Line, Col int    // 1-based; the column counts characters
	Path      string // like products[2].alerting_config.uptime_threshold; "" for the whole file
	Msg       string // what was expected and what was found, never a secret
}

// ValidationError lists every problem of a config file, sorted by position.
type ValidationError struct {
	File     string // the path the config was read from
	Problems []Problem
}

// Error prints every problem, one per line, as file:line:col: path: message.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.format(p))
	}
	return b.String()
}

func (e *ValidationError) format(p Problem) string {
	if p.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, p.Line, p.Col, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, p.Line, p.Col, p.Path, p.Msg)
}

// Lines returns Error() split into one string per problem.
func (e *ValidationError) Lines() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = e.format(p)
	}
	return out
}

// sortProblems orders problems by position, then path and message, and drops repeats.
func sortProblems(ps []Problem) []Problem {
	slices.SortFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Path, b.Path), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.Compact(ps)
}

// formatPath renders JSON pointer segments as a path a reader recognises:
// products[2].alerting_config.uptime_threshold. doc tells array indexes from object keys.
func formatPath(doc any, path []string) string {
	var b strings.Builder
	cur := doc
	for _, seg := range path {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + seg + "]")
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
			continue
		case map[string]any:
			cur = v[seg]
		default:
			cur = nil
		}
		if identRE.MatchString(seg) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
		} else {
			b.WriteString("[" + strconv.Quote(seg) + "]")
		}
	}
	return b.String()
}

var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

// valueAt returns the value at path in doc, or nil.
func valueAt(doc any, path []string) any {
	cur := doc
	for _, seg := range path {
		switch v := cur.(type) {
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		case map[string]any:
			cur = v[seg]
		default:
			return nil
		}
	}
	return cur
}

// secretRE matches values that look like credentials: GitHub, Slack, PostHog and Stripe-style
// tokens, and webhook URLs that carry their secret in the path.
var secretRE = regexp.MustCompile(`(?i)(gh[pousr]_[A-Za-z0-9]|github_pat_|xox[abposr]-|ph[xc]_[A-Za-z0-9]|sk_(live|test)_|hooks\.slack\.com|://[^/\s]*:[^/\s]*@|(token|key|secret|password|signature)=)`)

// looksSecret reports whether s might be a credential that must not be echoed.
func looksSecret(s string) bool { return secretRE.MatchString(s) }

// hiddenValue is what a message says instead of a value that must not be echoed.
const hiddenValue = "a value that looks like a secret (not shown)"

// show renders a JSON value for a message: strings quoted and shortened, containers by kind,
// and anything that looks like a secret not at all.
func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case string:
		if looksSecret(v) {
			return hiddenValue
		}
		if utf8.RuneCountInString(v) > 60 {
			r := []rune(v)
			v = string(r[:57]) + "..."
		}
		return strconv.Quote(v)
	case []any:
		if len(v) == 0 {
			return "an empty list"
		}
		return "a list"
	case map[string]any:
		return "an object"
	default: // json.Number
		return fmt.Sprint(v)
	}
}
