package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOpenAPIKeepsTheOperationsAndWhatTheyReference(t *testing.T) {
	dir := t.TempDir()
	full := write(t, dir, "full.json", `{"openapi":"3.0.3","info":{"title":"x","version":"1"},
 "paths":{
  "/a":{"get":{"x-octokit":{},"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/A"},
     "examples":{"default":{"$ref":"#/components/examples/ex"}}}}}}},
        "post":{"responses":{"200":{"description":"ok"}}}},
  "/b":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/B"}}}}}}}},
 "components":{"schemas":{"A":{"type":"object","properties":{"c":{"$ref":"#/components/schemas/C"},"examples":{"type":"string"}}},
   "B":{"type":"string"},"C":{"type":"integer"}},"examples":{"ex":{"value":1}}}}`)
	ops := write(t, dir, "ops.txt", "source: somewhere\nversion: v1\n# a comment\nGET /a\n")
	out := filepath.Join(dir, "out.json")
	if err := run([]string{"openapi", "-in", full, "-ops", ops, "-out", out, "-drop-ext", "x-octokit", "-drop-examples"}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	var doc struct {
		Info       map[string]any
		Paths      map[string]map[string]any
		Components map[string]map[string]any
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) != 1 || doc.Paths["/a"]["get"] == nil || doc.Paths["/a"]["post"] != nil {
		t.Errorf("paths = %v, want only GET /a", doc.Paths)
	}
	schemas := doc.Components["schemas"]
	if schemas["A"] == nil || schemas["C"] == nil || schemas["B"] != nil {
		t.Errorf("schemas = %v, want A and C (referenced), not B", schemas)
	}
	if doc.Components["examples"] != nil || strings.Contains(string(b), "x-octokit") || strings.Contains(string(b), `"default"`) {
		t.Errorf("examples or x-octokit kept:\n%s", b)
	}
	if !strings.Contains(string(b), `"examples": {`) { // a property named examples is not an examples map
		t.Errorf("the property called examples was dropped:\n%s", b)
	}
	if p, _ := doc.Info["x-portfolio-subset"].(map[string]any); p["source"] != "somewhere" || p["version"] != "v1" {
		t.Errorf("provenance = %v", doc.Info["x-portfolio-subset"])
	}
	bad := write(t, dir, "bad.txt", "GET /nope\n")
	if err := run([]string{"openapi", "-in", full, "-ops", bad, "-out", out}, os.Stderr); err == nil || !strings.Contains(err.Error(), "GET /nope") {
		t.Errorf("an operation the description lacks: err = %v", err)
	}
}

func TestGraphQLKeepsTheListedFieldsAndWhatTheyReach(t *testing.T) {
	dir := t.TempDir()
	full := write(t, dir, "s.graphql", `type Query { viewer: viewer  other: Other }
type viewer { zones(filter: ZoneFilter): [zone!]!  budget: Int }
type zone { tag: String  rows(limit: Int): [Row!]! }
type Row { count: Int  dims: Dims }
type Dims { status: Int }
input ZoneFilter { tag: String }
type Other { x: Int }
`)
	ops := write(t, dir, "ops.txt", "Query.viewer\nviewer.zones\n")
	out := filepath.Join(dir, "out.graphql")
	if err := run([]string{"graphql", "-in", full, "-ops", ops, "-out", out}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	s := string(b)
	for _, want := range []string{"type zone", "type Row", "type Dims", "input ZoneFilter", "zones(filter: ZoneFilter)"} {
		if !strings.Contains(s, want) {
			t.Errorf("subset lacks %q:\n%s", want, s)
		}
	}
	for _, unwanted := range []string{"Other", "budget"} {
		if strings.Contains(s, unwanted) {
			t.Errorf("subset keeps %q:\n%s", unwanted, s)
		}
	}
}
