package config

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const reposConfig = `{
  "products": [
    {"id": "shop", "repository": "acme/shop"},
    {"id": "pay", "repository": "acme/pay",
     "repository_settings": {
       "labels": [{"name": "NEEDS-TRIAGE", "color": "ff0000"}, {"name": "pci", "color": "000000", "description": ""}],
       "branch_protection": {"required_approving_review_count": 2, "required_status_checks": []}}},
    {"id": "docs", "repository": "acme/docs", "repository_settings": {"branch_protection": null}},
    {"id": "blog", "repository": "acme/blog", "repository_settings": {"labels": []}}
  ],
  "repositories": {
    "labels": [{"name": "needs-triage", "color": "fbca04", "description": "New, not yet looked at"}],
    "branch_protection": {
      "required_approving_review_count": 1,
      "dismiss_stale_reviews": true,
      "require_code_owner_reviews": false,
      "required_status_checks": ["test"],
      "strict": true,
      "enforce_admins": false,
      "required_linear_history": false,
      "allow_force_pushes": false,
      "allow_deletions": false
    }
  }
}`

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := Parse("portfolio.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// flat renders a protection as JSON for comparison.
func flat(t *testing.T, b *BranchProtection) string {
	t.Helper()
	if b == nil {
		return "unmanaged"
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestBranchProtectionFor(t *testing.T) {
	cfg := mustParse(t, reposConfig)
	for _, tc := range []struct {
		product string
		want    string
	}{
		{"shop", `{"required_approving_review_count":1,"dismiss_stale_reviews":true,"require_code_owner_reviews":false,"required_status_checks":["test"],"strict":true,"enforce_admins":false,"required_linear_history":false,"allow_force_pushes":false,"allow_deletions":false}`},
		// The product's fields override one by one; [] is a value, not "unset".
		{"pay", `{"required_approving_review_count":2,"dismiss_stale_reviews":true,"require_code_owner_reviews":false,"strict":true,"enforce_admins":false,"required_linear_history":false,"allow_force_pushes":false,"allow_deletions":false}`},
		{"docs", "unmanaged"},
		{"blog", `{"required_approving_review_count":1,"dismiss_stale_reviews":true,"require_code_owner_reviews":false,"required_status_checks":["test"],"strict":true,"enforce_admins":false,"required_linear_history":false,"allow_force_pushes":false,"allow_deletions":false}`},
	} {
		t.Run(tc.product, func(t *testing.T) {
			p, _ := cfg.ProductByID(tc.product)
			got := cfg.BranchProtectionFor(p)
			if s := flat(t, got); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
			if got != nil && got.RequiredStatusChecks == nil {
				t.Error("required_status_checks is nil; want a list (maybe empty) once resolved")
			}
		})
	}
}

func TestBranchProtectionUnsetAnywhereIsUnmanaged(t *testing.T) {
	cfg := mustParse(t, `{"products": [{"id": "a", "repository": "acme/a"}], "repositories": {"labels": [{"name": "x", "color": "000000"}]}}`)
	if got := cfg.BranchProtectionFor(cfg.Products[0]); got != nil {
		t.Errorf("got %s; want nil: without branch_protection nothing about protection is managed", flat(t, got))
	}
	cfg = mustParse(t, `{"products": [{"id": "a", "repository": "acme/a", "repository_settings": {"branch_protection": {"enforce_admins": true}}}]}`)
	got := cfg.BranchProtectionFor(cfg.Products[0])
	want := DefaultBranchProtection()
	yes := true
	want.EnforceAdmins = &yes
	if flat(t, got) != flat(t, &want) {
		t.Errorf("a product-only block over the defaults: got %s, want %s", flat(t, got), flat(t, &want))
	}
}

func TestRepositoryLabels(t *testing.T) {
	cfg := mustParse(t, reposConfig)
	names := func(ls []Label) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Name+"/"+l.Color)
		}
		return out
	}
	pay, _ := cfg.ProductByID("pay")
	if got, want := names(cfg.RepositoryLabels(pay)), []string{"NEEDS-TRIAGE/ff0000", "pci/000000"}; !slices.Equal(got, want) {
		t.Errorf("pay: %v, want %v (the product's label replaces the top-level one of the same name, any case)", got, want)
	}
	shop, _ := cfg.ProductByID("shop")
	if got, want := names(cfg.RepositoryLabels(shop)), []string{"needs-triage/fbca04"}; !slices.Equal(got, want) {
		t.Errorf("shop: %v, want %v", got, want)
	}
}

// TestBranchProtectionSchemaDefaults keeps the schema's documented defaults and
// DefaultBranchProtection the same.
func TestBranchProtectionSchemaDefaults(t *testing.T) {
	s := testSchema(t)
	props, _ := s.node("#/$defs/branchProtection")["properties"].(map[string]any)
	def := DefaultBranchProtection()
	fields := jsonFields(reflect.TypeOf(def))
	if len(props) != len(fields) {
		t.Fatalf("schema has %d fields, Go type %d", len(props), len(fields))
	}
	for name, f := range fields {
		p, _ := props[name].(map[string]any)
		d, ok := p["default"]
		if !ok {
			t.Errorf("%s: no default in the schema", name)
			continue
		}
		got := normJSON(t, reflect.ValueOf(def).FieldByIndex(f.Index).Interface())
		if want := normJSON(t, d); got != want {
			t.Errorf("%s: schema default %s, DefaultBranchProtection %s", name, want, got)
		}
	}
}

func TestRepositoriesProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want string
	}{
		{"colour with a hash", `{"products": [{"id": "a"}], "repositories": {"labels": [{"name": "x", "color": "#fbca04"}]}}`,
			`repositories.labels[0].color: want a colour of six hex digits without '#', like fbca04, got "#fbca04"`},
		{"colour missing", `{"products": [{"id": "a"}], "repositories": {"labels": [{"name": "x"}]}}`,
			`repositories.labels[0].color: want a colour of six hex digits without '#', like fbca04, got nothing (the field is required)`},
		{"names differing in case only", `{"products": [{"id": "a"}], "repositories": {"labels": [{"name": "Bug", "color": "000000"}, {"name": "bug", "color": "111111"}]}}`,
			`repositories.labels[1].name: want each label name once (GitHub compares names case-insensitively), got "bug" again (as [0])`},
		{"name too long", `{"products": [{"id": "a", "repository_settings": {"labels": [{"name": "` + strings.Repeat("x", 51) + `", "color": "000000"}]}}]}`,
			`products[0].repository_settings.labels[0].name: want a label name of at most 50 characters (GitHub's limit), got 51`},
		{"description too long", `{"products": [{"id": "a"}], "repositories": {"labels": [{"name": "x", "color": "000000", "description": "` + strings.Repeat("é", 101) + `"}]}}`,
			`repositories.labels[0].description: want a description of at most 100 characters (GitHub's limit), got 101`},
		{"too many reviews", `{"products": [{"id": "a"}], "repositories": {"branch_protection": {"required_approving_review_count": 7}}}`,
			`repositories.branch_protection.required_approving_review_count: want a whole number from 0 to 6, got 7`},
		{"protection of the wrong type", `{"products": [{"id": "a", "repository_settings": {"branch_protection": true}}]}`,
			`products[0].repository_settings.branch_protection: want an object or null, got true`},
		{"unknown protection field", `{"products": [{"id": "a"}], "repositories": {"branch_protection": {"required_reviews": 1}}}`,
			`repositories.branch_protection.required_reviews: unknown field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(problems(t, tc.src), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing:\n%s", got, tc.want)
			}
		})
	}
}
