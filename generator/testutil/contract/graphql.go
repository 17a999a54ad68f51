package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// GraphQLSchema is one loaded GraphQL schema.
type GraphQLSchema struct {
	Name   string
	schema *ast.Schema
}

var (
	gqlMu      sync.Mutex
	gqlSchemas = map[string]*GraphQLSchema{}
)

// LoadGraphQL loads a GraphQL schema kept under testdata/ (once per test binary).
func LoadGraphQL(name string) (*GraphQLSchema, error) {
	gqlMu.Lock()
	defer gqlMu.Unlock()
	if s, ok := gqlSchemas[name]; ok {
		return s, nil
	}
	data, err := descriptions.ReadFile("testdata/" + name)
	if err != nil {
		return nil, err
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: name, Input: string(data)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &GraphQLSchema{Name: name, schema: schema}
	gqlSchemas[name] = s
	return s, nil
}

// GraphQLRequest is the body of a GraphQL POST.
type GraphQLRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// ValidateQuery checks a query and its variables against the schema and returns the operation
// it runs.
func (s *GraphQLSchema) ValidateQuery(req GraphQLRequest) (*ast.OperationDefinition, error) {
	doc, errs := gqlparser.LoadQueryWithRules(s.schema, req.Query, nil) // nil: the default rules
	if len(errs) > 0 {
		return nil, fmt.Errorf("query does not validate: %w", errs)
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		return nil, fmt.Errorf("no operation %q in the query", req.OperationName)
	}
	vars := req.Variables
	if vars == nil {
		vars = map[string]any{}
	}
	if _, err := validator.VariableValues(s.schema, op, vars); err != nil {
		return op, fmt.Errorf("variables do not validate: %w", err)
	}
	for name := range vars {
		if op.VariableDefinitions.ForName(name) == nil {
			return op, fmt.Errorf("variable $%s is sent but the query does not declare it", name)
		}
	}
	return op, nil
}

// ValidateAnswer checks a GraphQL answer to op: an object with data and/or errors, every
// error with a message, and data shaped exactly as the selection asks — every selected field
// present under its alias, no field that was not selected, values of the schema's types.
func (s *GraphQLSchema) ValidateAnswer(op *ast.OperationDefinition, body []byte) error {
	var ans map[string]json.RawMessage
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("answer is not a JSON object: %w", err)
	}
	for k := range ans {
		if k != "data" && k != "errors" && k != "extensions" {
			return fmt.Errorf("answer has %q beside data, errors and extensions", k)
		}
	}
	var errs []struct {
		Message *string `json:"message"`
	}
	if raw, ok := ans["errors"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &errs); err != nil {
			return fmt.Errorf("errors is not a list of objects: %w", err)
		}
		for i, e := range errs {
			if e.Message == nil {
				return fmt.Errorf("errors[%d] has no message", i)
			}
		}
	}
	raw, hasData := ans["data"]
	if !hasData && len(errs) == 0 {
		return errors.New("answer has neither data nor errors")
	}
	if !hasData || string(raw) == "null" {
		if len(errs) == 0 {
			return errors.New("data is null without errors")
		}
		return nil
	}
	var data any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		return err
	}
	root := s.schema.Query
	if op.Operation == ast.Mutation {
		root = s.schema.Mutation
	}
	return s.checkSelection("data", op.SelectionSet, root, data, len(errs) > 0)
}

func (s *GraphQLSchema) checkSelection(path string, set ast.SelectionSet, def *ast.Definition, v any, partial bool) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: want an object of type %s, got %s", path, def.Name, jsonKind(v))
	}
	fields := collectFields(set)
	for key := range obj {
		if !slices.ContainsFunc(fields, func(f *ast.Field) bool { return f.Alias == key }) {
			return fmt.Errorf("%s.%s: not selected by the query (GraphQL answers only what is selected)", path, key)
		}
	}
	for _, f := range fields {
		val, ok := obj[f.Alias]
		if !ok {
			if partial {
				continue
			}
			return fmt.Errorf("%s.%s: selected but missing", path, f.Alias)
		}
		if f.Name == "__typename" {
			continue
		}
		fd := def.Fields.ForName(f.Name)
		if fd == nil {
			return fmt.Errorf("%s.%s: %s has no field %s", path, f.Alias, def.Name, f.Name)
		}
		if err := s.checkValue(path+"."+f.Alias, fd.Type, f.SelectionSet, val, partial); err != nil {
			return err
		}
	}
	return nil
}

// collectFields flattens fragments (inline and named) into the fields they select.
func collectFields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			out = append(out, x)
		case *ast.InlineFragment:
			out = append(out, collectFields(x.SelectionSet)...)
		case *ast.FragmentSpread:
			if x.Definition != nil {
				out = append(out, collectFields(x.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func (s *GraphQLSchema) checkValue(path string, t *ast.Type, set ast.SelectionSet, v any, partial bool) error {
	if v == nil {
		if t.NonNull && !partial {
			return fmt.Errorf("%s: null for non-null %s", path, t.String())
		}
		return nil
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list (%s), got %s", path, t.String(), jsonKind(v))
		}
		for i, e := range list {
			if err := s.checkValue(fmt.Sprintf("%s[%d]", path, i), t.Elem, set, e, partial); err != nil {
				return err
			}
		}
		return nil
	}
	def := s.schema.Types[t.NamedType]
	if def == nil {
		return fmt.Errorf("%s: unknown type %s", path, t.NamedType)
	}
	switch def.Kind {
	case ast.Object, ast.Interface, ast.Union:
		return s.checkSelection(path, set, def, v, partial)
	case ast.Enum:
		str, ok := v.(string)
		if !ok || def.EnumValues.ForName(str) == nil {
			return fmt.Errorf("%s: %v is not a value of enum %s", path, v, def.Name)
		}
		return nil
	}
	return checkScalar(path, def.Name, v)
}

// checkScalar checks the JSON kind of a scalar: GraphQL's own and the names Cloudflare uses
// (uint64, float64, string, bool, Time, Date…). Scalars it does not know take any value.
func checkScalar(path, name string, v any) error {
	want := ""
	switch name {
	case "Int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
		n, ok := v.(json.Number)
		if !ok {
			want = "an integer"
			break
		}
		if f, err := n.Float64(); err != nil || f != math.Trunc(f) || (strings.HasPrefix(name, "u") && f < 0) {
			want = "an integer"
		}
	case "Float", "float32", "float64":
		if _, ok := v.(json.Number); !ok {
			want = "a number"
		}
	case "String", "string", "ID", "Time", "Date", "bytes":
		if _, ok := v.(string); !ok {
			want = "a string"
		}
	case "Boolean", "bool":
		if _, ok := v.(bool); !ok {
			want = "a boolean"
		}
	}
	if want != "" {
		return fmt.Errorf("%s: want %s (%s), got %s %v", path, want, name, jsonKind(v), v)
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
