package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func testSchema(t *testing.T) *schema {
	t.Helper()
	s, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonFields lists the JSON members of a struct type, flattening embedded structs as
// encoding/json does.
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				v.Index = append(slices.Clone(f.Index), v.Index...)
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// TestSchemaMatchesStructs keeps portfolio.schema.json and the Go types from drifting: every
// struct field is in the schema with a matching type and vice versa, every object is closed
// (additionalProperties false) and every field has a description for editors.
func TestSchemaMatchesStructs(t *testing.T) {
	s := testSchema(t)
	var walk func(path string, typ reflect.Type, n map[string]any)
	walk = func(path string, typ reflect.Type, n map[string]any) {
		if n == nil {
			t.Errorf("%s: no schema", path)
			return
		}
		if path != "" && n["description"] == nil && s.resolve(n)["description"] == nil {
			t.Errorf("%s: no description in the schema", path)
		}
		n = s.resolve(n)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		want := map[reflect.Kind]string{
			reflect.Struct: "object", reflect.Slice: "array", reflect.String: "string",
			reflect.Int: "integer", reflect.Float64: "number", reflect.Bool: "boolean",
		}[typ.Kind()]
		if n["type"] != want && !nullable(n["type"], want) {
			t.Errorf("%s: schema type %v, Go type %s wants %q", path, n["type"], typ, want)
		}
		switch typ.Kind() {
		case reflect.Slice:
			items, _ := n["items"].(map[string]any)
			walk(path+"[]", typ.Elem(), items)
		case reflect.Struct:
			if n["additionalProperties"] != false {
				t.Errorf("%s: schema object without additionalProperties: false", path)
			}
			fields := jsonFields(typ)
			props, _ := n["properties"].(map[string]any)
			for name := range props {
				if _, ok := fields[name]; !ok {
					t.Errorf("%s.%s: in the schema, not in Go type %s", path, name, typ)
				}
			}
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				p, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s.%s: field of Go type %s missing from the schema", path, name, typ)
					continue
				}
				walk(strings.TrimPrefix(path+"."+name, "."), fields[name].Type, p)
			}
		}
	}
	walk("", reflect.TypeFor[Config](), s.node("#"))
}

// nullable reports whether a schema type is [want, "null"] (a pointer field whose null means
// something, like products[].repository_settings.branch_protection).
func nullable(types any, want string) bool {
	l, ok := types.([]any)
	return ok && len(l) == 2 && slices.Contains(l, any(want)) && slices.Contains(l, any("null"))
}

// TestSchemaDefaultsMatchApplyDefaults checks every "default" of the schema against what
// ApplyDefaults fills in, so editors show the defaults the program uses.
func TestSchemaDefaultsMatchApplyDefaults(t *testing.T) {
	s := testSchema(t)
	cfg, err := Parse("portfolio.json", []byte(`{"products": [{"id": "a"}],
	  "notification_channels": {"slack": {}, "email": {"recipients": ["a@example.com"]}, "pagerduty": {},
	    "github_issues": {"repository": "acme/ops"}},
	  "publish": {"cloudflare_pages": {"project": "p"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Defaults that are not filled in by ApplyDefaults, with the reason.
	skip := map[string]string{
		"products[].healthcheck.retries": "0 is a valid count, so the caller applies the default",
	}
	checked := 0
	var walk func(path string, v reflect.Value, n map[string]any)
	walk = func(path string, v reflect.Value, n map[string]any) {
		if def, ok := n["default"]; ok && skip[path] == "" {
			checked++
			if got, want := normJSON(t, v.Interface()), normJSON(t, def); got != want {
				t.Errorf("%s: schema default %s, ApplyDefaults gives %s", path, want, got)
			}
		}
		n = s.resolve(n)
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Slice:
			items, _ := n["items"].(map[string]any)
			for i := range v.Len() {
				walk(path+"[]", v.Index(i), items)
			}
		case reflect.Struct:
			props, _ := n["properties"].(map[string]any)
			for name, f := range jsonFields(v.Type()) {
				p, _ := props[name].(map[string]any)
				walk(strings.TrimPrefix(path+"."+name, "."), v.FieldByIndex(f.Index), p)
			}
		}
	}
	walk("", reflect.ValueOf(cfg).Elem(), s.node("#"))
	if checked < 20 {
		t.Errorf("checked %d defaults, want every one of the schema's 20+", checked)
	}
}

// normJSON renders a value as canonical JSON so 1.0 and 1 compare equal.
func normJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(x)
}

// TestSchemaMessages checks that every rule the schema uses is phrased by explain, and every
// pattern carries a patternErrorMessage that reads as "must be ...".
func TestSchemaMessages(t *testing.T) {
	s := testSchema(t)
	handled := map[string]bool{
		"type": true, "enum": true, "minimum": true, "maximum": true, "exclusiveMinimum": true,
		"minLength": true, "maxLength": true, "minItems": true, "pattern": true, "required": true,
		"additionalProperties": true, "uniqueItems": true, "format": true,
	}
	annotations := map[string]bool{
		"$schema": true, "$id": true, "$ref": true, "$defs": true, "title": true, "description": true,
		"default": true, "properties": true, "items": true, "patternErrorMessage": true,
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				isKeyword := !strings.HasSuffix(path, "/properties") && !strings.HasSuffix(path, "/$defs")
				if isKeyword && !handled[k] && !annotations[k] {
					t.Errorf("%s: keyword %q has no message in explain", path, k)
				}
				if isKeyword && k == "pattern" {
					if m, _ := v["patternErrorMessage"].(string); !strings.HasPrefix(m, "must be ") {
						t.Errorf("%s: pattern without a patternErrorMessage starting with \"must be \"", path)
					}
				}
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("#", s.doc)
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name string
		node string
		want string
	}{
		{"a bounded number", `{"type": "number", "minimum": 0, "maximum": 100}`, "a number from 0 to 100"},
		{"a positive number", `{"type": "number", "exclusiveMinimum": 0}`, "a number above 0"},
		{"a count", `{"type": "integer", "minimum": 1}`, "a whole number of at least 1"},
		{"two choices", `{"type": "string", "enum": ["a", "b"]}`, "a or b"},
		{"three choices", `{"type": "string", "enum": ["a", "b", "c"]}`, "one of a, b, c"},
		{"a pattern with a message", `{"type": "string", "pattern": "^x$", "patternErrorMessage": "must be x"}`, "x"},
		{"a non-empty string", `{"type": "string", "minLength": 1}`, "a non-empty string"},
		{"a URL", `{"type": "string", "format": "uri"}`, "an http(s) URL"},
		{"a flag", `{"type": "boolean"}`, "true or false"},
		{"a non-empty list", `{"type": "array", "minItems": 1}`, "a non-empty list"},
		{"an object or null", `{"type": ["object", "null"]}`, "an object or null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n map[string]any
			if err := json.Unmarshal([]byte(tc.node), &n); err != nil {
				t.Fatal(err)
			}
			if got := describe(n); got != tc.want {
				t.Errorf("describe(%s) = %q, want %q", tc.node, got, tc.want)
			}
		})
	}
}
