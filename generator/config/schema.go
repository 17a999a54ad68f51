package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	portfolio "github.com/portfolio-report/portfolio"
)

// schemaURL is the $id of portfolio.schema.json; the embedded copy is registered under it, so
// compiling never touches the file system or the network.
const schemaURL = "https://github.com/portfolio-report/portfolio/portfolio.schema.json"

// compiledSchema is portfolio.schema.json decoded and compiled once. The schema is embedded and
// immutable, so this cache is the one package-level value (it holds no state between calls).
var compiledSchema = sync.OnceValues(func() (*schema, error) {
	return compileSchema(portfolio.Schema)
})

// schema is the compiled schema plus its decoded document, which messages are phrased from.
type schema struct {
	doc      any
	compiled *jsonschema.Schema
}

func compileSchema(data []byte) (*schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("portfolio.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("portfolio.schema.json: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("portfolio.schema.json: %w", err)
	}
	return &schema{doc: doc, compiled: sch}, nil
}

// issue is a problem before it has a position: the path to the value and whether to point at
// the member's key (unknown and duplicate fields) rather than its value.
type issue struct {
	path  []string
	atKey bool
	msg   string
}

// validate checks doc against the schema and returns one issue per failed rule.
func (s *schema) validate(doc any) []issue {
	err := s.compiled.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []issue{{msg: "schema: " + err.Error()}}
	}
	var out []issue
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		out = append(out, s.explain(doc, e)...)
	}
	walk(ve)
	return out
}

// explain rephrases one failed schema rule as "want X, got Y".
func (s *schema) explain(doc any, e *jsonschema.ValidationError) []issue {
	path := e.InstanceLocation
	rule := s.node(e.SchemaURL)
	got := valueAt(doc, path)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		var out []issue
		known := propertyNames(rule)
		for _, p := range k.Properties {
			msg := "unknown field"
			if near := closest(p, known); near != "" {
				msg += "; did you mean " + near + "?"
			} else {
				msg += "; want one of " + strings.Join(known, ", ")
			}
			out = append(out, issue{path: child(path, p), atKey: true, msg: msg})
		}
		return out
	case *kind.Required:
		var out []issue
		for _, p := range k.Missing {
			want := describe(s.resolve(property(rule, p)))
			out = append(out, issue{path: child(path, p), msg: "want " + want + ", got nothing (the field is required)"})
		}
		return out
	case *kind.UniqueItems:
		i, j := k.Duplicates[0], k.Duplicates[1]
		return []issue{{path: child(path, fmt.Sprint(j)), msg: fmt.Sprintf("want each value once, got %s again (as at [%d])", show(valueAt(doc, child(path, fmt.Sprint(j)))), i)}}
	case *kind.Pattern:
		if isEnvField(path) {
			return []issue{{path: path, msg: envMessage(path)}}
		}
	case *kind.Type, *kind.Enum, *kind.Const, *kind.Minimum, *kind.Maximum, *kind.ExclusiveMinimum,
		*kind.ExclusiveMaximum, *kind.MinLength, *kind.MaxLength, *kind.MinItems, *kind.MaxItems,
		*kind.MultipleOf, *kind.Format:
	default:
		return []issue{{path: path, msg: fmt.Sprintf("breaks the schema's %q rule, got %s", strings.Join(k.KeywordPath(), "/"), showAt(path, got))}}
	}
	return []issue{{path: path, msg: "want " + describe(rule) + ", got " + showAt(path, got)}}
}

// showAt is show, except that the values of *_env fields are never echoed: a secret pasted where
// an environment variable name belongs must not end up in CI logs.
func showAt(path []string, v any) string {
	if _, ok := v.(string); ok && isEnvField(path) {
		return "a literal value (not shown: it may be a secret)"
	}
	return show(v)
}

func isEnvField(path []string) bool {
	return len(path) > 0 && strings.HasSuffix(path[len(path)-1], "_env")
}

// envExamples are the standard variable names of the *_env fields, for messages.
var envExamples = map[string]string{
	"webhook_url_env": EnvSlackWebhookURL,
	"smtp_url_env":    EnvSMTPURL,
	"routing_key_env": EnvPagerDutyRoutingKey,
	"token_env":       EnvGitHubToken,
}

func envMessage(path []string) string {
	ex := envExamples[path[len(path)-1]]
	if ex == "" {
		ex = "SECRET_NAME"
	}
	return "want the name of an environment variable like " + ex +
		", got a literal value (not shown: it may be a secret; put it in the environment and name the variable here)"
}

// node returns the schema object at an absolute schema location like <schemaURL>#/$defs/product.
func (s *schema) node(loc string) map[string]any {
	_, frag, _ := strings.Cut(loc, "#")
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	cur := s.doc
	for _, seg := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if seg == "" {
			continue
		}
		seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
		switch v := cur.(type) {
		case map[string]any:
			cur = v[seg]
		case []any:
			var i int
			if _, err := fmt.Sscan(seg, &i); err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

// resolve follows a local $ref ("#/$defs/x"), keeping the referring node's own description.
func (s *schema) resolve(n map[string]any) map[string]any {
	for range 8 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		n = s.node(ref)
	}
	return n
}

func property(obj map[string]any, name string) map[string]any {
	props, _ := obj["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	return p
}

func propertyNames(obj map[string]any) []string {
	props, _ := obj["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func child(path []string, seg string) []string {
	return append(path[:len(path):len(path)], seg)
}

// describe says what a schema node accepts, in words: "a number from 0 to 100",
// "workflow_runs or deployments", "a lowercase slug like payments-api".
func describe(n map[string]any) string {
	if n == nil {
		return "a valid value"
	}
	if m, ok := n["patternErrorMessage"].(string); ok {
		return strings.TrimPrefix(m, "must be ")
	}
	if enum, ok := n["enum"].([]any); ok {
		vals := make([]string, len(enum))
		for i, v := range enum {
			vals[i] = fmt.Sprint(v)
		}
		if len(vals) == 2 {
			return vals[0] + " or " + vals[1]
		}
		return "one of " + strings.Join(vals, ", ")
	}
	if types, ok := n["type"].([]any); ok {
		words := make([]string, len(types))
		for i, t := range types {
			words[i] = "null"
			if t != "null" {
				words[i] = describe(map[string]any{"type": t})
			}
		}
		return strings.Join(words, " or ")
	}
	switch n["type"] {
	case "number", "integer":
		what := "a number"
		if n["type"] == "integer" {
			what = "a whole number"
		}
		lo, hasLo := n["minimum"]
		hi, hasHi := n["maximum"]
		xlo, hasXlo := n["exclusiveMinimum"]
		switch {
		case hasLo && hasHi:
			return fmt.Sprintf("%s from %v to %v", what, lo, hi)
		case hasXlo:
			return fmt.Sprintf("%s above %v", what, xlo)
		case hasLo:
			return fmt.Sprintf("%s of at least %v", what, lo)
		case hasHi:
			return fmt.Sprintf("%s of at most %v", what, hi)
		}
		return what
	case "string":
		if f, ok := n["format"].(string); ok {
			switch f {
			case "uri":
				return "an http(s) URL"
			case "email":
				return "an email address"
			}
		}
		if m, ok := n["minLength"]; ok && fmt.Sprint(m) != "0" {
			return "a non-empty string"
		}
		return "a string"
	case "boolean":
		return "true or false"
	case "array":
		if m, ok := n["minItems"]; ok && fmt.Sprint(m) == "1" {
			return "a non-empty list"
		}
		return "a list"
	case "object":
		return "an object"
	}
	return "a valid value"
}

// closest returns the known name nearest to name when it is plausibly a typo of it.
func closest(name string, known []string) string {
	best, bestD := "", len(name)/3+2
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance; hand-written because it is ten lines and no kept
// library offers it.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
