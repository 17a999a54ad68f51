// Command apisubset cuts the parts portfolio uses out of a vendor's full API description, so
// the contract tests keep tens of kilobytes of test data instead of megabytes.
//
//	apisubset openapi    -in full.json -ops ops.txt -out subset.json [-drop-ext x-octokit] [-drop-examples]
//	apisubset jsonschema -in schema.json -wrap wrapper.json -ops ops.txt -out subset.json
//	apisubset graphql    -in schema.graphql -ops ops.txt -out subset.graphql
//
// ops.txt is the manifest of what to keep, one entry a line ('#' starts a comment). Its
// "source:", "version:" and "date:" lines are copied into the subset as provenance.
//   - openapi: "METHOD /path" lines; every component they reference, transitively, is kept.
//   - jsonschema: "def Name" lines (definitions kept with what they reference, rewritten from
//     #/definitions/ to #/components/schemas/ and placed into the OpenAPI wrapper) and
//     "opaque Name" lines (definitions replaced by an empty schema: portfolio neither sends nor
//     reads them). A "deprecated" note string becomes deprecated: true plus x-deprecated.
//   - graphql: "Type.field" lines. A type named that way keeps only the listed fields; every
//     type reached through a kept field (its type, its arguments' types) is kept whole, with
//     what it reaches in turn.
//
// The output is deterministic (keys sorted, fixed indentation), so a regenerated subset diffs
// cleanly. docs/contracts.md says where each full description comes from.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "apisubset:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("want a mode: openapi, jsonschema or graphql")
	}
	mode := args[0]
	fs := flag.NewFlagSet("apisubset "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "the full description")
	out := fs.String("out", "", "where to write the subset")
	opsFile := fs.String("ops", "", "the manifest of what to keep")
	wrap := fs.String("wrap", "", "jsonschema: the OpenAPI document the definitions go into")
	dropExt := fs.String("drop-ext", "", "openapi: comma-separated extension keys to remove (x-octokit)")
	dropExamples := fs.Bool("drop-examples", false, "openapi: remove examples (illustrative, and most of the size)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *in == "" || *out == "" || *opsFile == "" {
		return errors.New("-in, -out and -ops are required")
	}
	m, err := readManifest(*opsFile)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	var res []byte
	switch mode {
	case "openapi":
		res, err = subsetOpenAPI(src, m, splitList(*dropExt), *dropExamples)
	case "jsonschema":
		var w []byte
		if w, err = os.ReadFile(*wrap); err == nil {
			res, err = subsetJSONSchema(src, w, m)
		}
	case "graphql":
		res, err = subsetGraphQL(src, m)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	return os.WriteFile(*out, res, 0o644)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// manifest is an ops.txt file: provenance and the entries to keep.
type manifest struct {
	meta    map[string]string // source, version, date
	entries []string
}

func readManifest(path string) (manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return manifest{}, err
	}
	defer f.Close()
	m := manifest{meta: map[string]string{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.Contains(k, " ") {
			m.meta[k] = strings.TrimSpace(v)
			continue
		}
		m.entries = append(m.entries, line)
	}
	return m, sc.Err()
}

// provenance is what the subset records of where it came from.
func (m manifest) provenance() map[string]any {
	p := map[string]any{"kept": m.entries}
	for k, v := range m.meta {
		p[k] = v
	}
	return p
}

// ---- OpenAPI ----

func subsetOpenAPI(src []byte, m manifest, dropExt []string, dropExamples bool) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)
	keptPaths := map[string]any{}
	for _, e := range m.entries {
		method, path, ok := strings.Cut(e, " ")
		if !ok {
			return nil, fmt.Errorf("manifest entry %q: want METHOD /path", e)
		}
		item, _ := paths[path].(map[string]any)
		op, ok := item[strings.ToLower(method)]
		if !ok {
			return nil, fmt.Errorf("no operation %s in the description", e)
		}
		kp, _ := keptPaths[path].(map[string]any)
		if kp == nil {
			kp = map[string]any{}
			for k, v := range item { // path-level parameters, summary…
				if !isMethod(k) {
					kp[k] = v
				}
			}
			keptPaths[path] = kp
		}
		kp[strings.ToLower(method)] = op
	}
	out := map[string]any{"openapi": doc["openapi"], "info": doc["info"], "paths": keptPaths}
	for _, k := range []string{"servers", "security"} {
		if v, ok := doc[k]; ok {
			out[k] = v
		}
	}
	clean := func(v any) any { return cleanJSON(v, dropExt, dropExamples) }
	out = clean(out).(map[string]any)
	// Every component the kept operations reference, transitively.
	keptComp := map[string]map[string]any{}
	queue := collectRefs(out, "#/components/")
	if sec, ok := components["securitySchemes"].(map[string]any); ok {
		for name := range sec { // referenced by name from "security", not by $ref
			queue = append(queue, "securitySchemes/"+name)
		}
	}
	for len(queue) > 0 {
		ref := queue[0]
		queue = queue[1:]
		kind, name, _ := strings.Cut(ref, "/")
		if keptComp[kind] != nil && keptComp[kind][name] != nil {
			continue
		}
		group, _ := components[kind].(map[string]any)
		v, ok := group[unescapePointer(name)]
		if !ok {
			return nil, fmt.Errorf("dangling reference #/components/%s", ref)
		}
		v = clean(v)
		if keptComp[kind] == nil {
			keptComp[kind] = map[string]any{}
		}
		keptComp[kind][unescapePointer(name)] = v
		queue = append(queue, collectRefs(v, "#/components/")...)
	}
	if dropExamples {
		delete(keptComp, "examples")
	}
	comp := map[string]any{}
	for k, v := range keptComp {
		comp[k] = v
	}
	out["components"] = comp
	info, _ := out["info"].(map[string]any)
	if info == nil {
		info = map[string]any{}
	}
	info["x-portfolio-subset"] = m.provenance()
	out["info"] = info
	return marshal(out)
}

func isMethod(k string) bool {
	return slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, k)
}

// cleanJSON copies v without the dropped extension keys and, when asked, without examples.
func cleanJSON(v any, dropExt []string, dropExamples bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			if slices.Contains(dropExt, k) || (dropExamples && k == "examples" && isExamplesMap(vv)) {
				continue
			}
			out[k] = cleanJSON(vv, dropExt, dropExamples)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = cleanJSON(vv, dropExt, dropExamples)
		}
		return out
	}
	return v
}

// isExamplesMap tells an OpenAPI "examples" map (name → Example object or $ref) from a
// property that happens to be called "examples".
func isExamplesMap(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, e := range m {
		em, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := em["value"]; !ok {
			if _, ok := em["$ref"]; !ok {
				return false
			}
		}
	}
	return true
}

// collectRefs lists the "$ref" values under v that start with prefix, without the prefix.
func collectRefs(v any, prefix string) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok && strings.HasPrefix(r, prefix) {
				out = append(out, strings.TrimPrefix(r, prefix))
			}
			for _, vv := range x {
				walk(vv)
			}
		case []any:
			for _, vv := range x {
				walk(vv)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return slices.Compact(out)
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---- JSON Schema definitions into an OpenAPI wrapper ----

func subsetJSONSchema(src, wrapper []byte, m manifest) ([]byte, error) {
	var full struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(src, &full); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(wrapper, &doc); err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	opaque := map[string]bool{}
	var queue []string
	for _, e := range m.entries {
		kind, name, ok := strings.Cut(e, " ")
		switch {
		case ok && kind == "def":
			queue = append(queue, name)
		case ok && kind == "opaque":
			opaque[name] = true
		default:
			return nil, fmt.Errorf("manifest entry %q: want 'def Name' or 'opaque Name'", e)
		}
	}
	// The wrapper's own references name definitions too.
	queue = append(queue, collectRefs(doc, "#/components/schemas/")...)
	schemas := map[string]any{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, done := schemas[name]; done {
			continue
		}
		if opaque[name] {
			schemas[name] = map[string]any{"description": "Not kept in this subset: portfolio neither sends nor reads it."}
			continue
		}
		def, ok := full.Definitions[name]
		if !ok {
			return nil, fmt.Errorf("no definition %q", name)
		}
		def = normalizeSchema(rewriteRefs(def, "#/definitions/", "#/components/schemas/"))
		schemas[name] = def
		queue = append(queue, collectRefs(def, "#/components/schemas/")...)
	}
	comp, _ := doc["components"].(map[string]any)
	if comp == nil {
		comp = map[string]any{}
	}
	comp["schemas"] = schemas
	doc["components"] = comp
	info, _ := doc["info"].(map[string]any)
	if info == nil {
		info = map[string]any{}
	}
	info["x-portfolio-subset"] = m.provenance()
	doc["info"] = info
	return marshal(doc)
}

func rewriteRefs(v any, from, to string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			if s, ok := vv.(string); ok && k == "$ref" && strings.HasPrefix(s, from) {
				out[k] = to + strings.TrimPrefix(s, from)
				continue
			}
			out[k] = rewriteRefs(vv, from, to)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = rewriteRefs(vv, from, to)
		}
		return out
	}
	return v
}

// normalizeSchema makes the one change JSON Schema validators need in PostHog's generated
// schema: "deprecated" holds a note string where JSON Schema wants a boolean, so it becomes
// true and the note moves to "x-deprecated".
func normalizeSchema(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			if note, ok := vv.(string); ok && k == "deprecated" {
				out["deprecated"], out["x-deprecated"] = true, note
				continue
			}
			out[k] = normalizeSchema(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = normalizeSchema(vv)
		}
		return out
	}
	return v
}

// ---- GraphQL ----

func subsetGraphQL(src []byte, m manifest) ([]byte, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphql", Input: string(src)})
	if err != nil {
		return nil, err
	}
	defs := map[string]*ast.Definition{}
	for _, d := range doc.Definitions {
		defs[d.Name] = d
	}
	partial := map[string][]string{} // type → the fields kept
	var queue []string
	for _, e := range m.entries {
		typ, field, ok := strings.Cut(e, ".")
		if !ok {
			return nil, fmt.Errorf("manifest entry %q: want Type.field", e)
		}
		d := defs[typ]
		if d == nil || d.Fields.ForName(field) == nil {
			return nil, fmt.Errorf("no field %s in the schema", e)
		}
		partial[typ] = append(partial[typ], field)
		queue = append(queue, typ)
	}
	kept := map[string]*ast.Definition{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if kept[name] != nil {
			continue
		}
		d := defs[name]
		if d == nil {
			continue // a built-in scalar
		}
		c := *d
		if fields, ok := partial[name]; ok {
			c.Fields = nil
			for _, f := range d.Fields {
				if slices.Contains(fields, f.Name) {
					c.Fields = append(c.Fields, f)
				}
			}
		}
		kept[name] = &c
		for _, f := range c.Fields {
			queue = append(queue, f.Type.Name())
			for _, a := range f.Arguments {
				queue = append(queue, a.Type.Name())
			}
		}
		queue = append(queue, c.Interfaces...)
		queue = append(queue, c.Types...)
	}
	out := &ast.SchemaDocument{Schema: doc.Schema, Directives: doc.Directives}
	for _, d := range doc.Definitions { // in the order of the full schema
		if k := kept[d.Name]; k != nil {
			out.Definitions = append(out.Definitions, k)
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Subset of a vendor's GraphQL schema, cut by generator/testutil/contract/cmd/apisubset.\n")
	for _, k := range []string{"source", "version", "date"} {
		if v := m.meta[k]; v != "" {
			fmt.Fprintf(&buf, "# %s: %s\n", k, v)
		}
	}
	for _, e := range m.entries {
		fmt.Fprintf(&buf, "# kept: %s\n", e)
	}
	buf.WriteString("\n")
	formatter.NewFormatter(&buf, formatter.WithIndent("  ")).FormatSchemaDocument(out)
	return buf.Bytes(), nil
}
