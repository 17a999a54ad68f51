package plandiff

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "notification policy", "1 notification policy"},
		{2, "notification policy", "2 notification policies"},
		{0, "repository", "0 repositories"},
		{3, "protected branch", "3 protected branches"},
		{2, "health check", "2 health checks"},
		{2, "key", "2 keys"},
		{5, "zone", "5 zones"},
	} {
		if got := Plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("Plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}

func TestWriteChangeAlignsFields(t *testing.T) {
	var b strings.Builder
	WriteChange(&b, "~", "label \"incident\" (repository acme/shop)", []Field{
		{"color", Value("d73a4a", true) + " → " + Value("b60205", true)},
		{"description", Value(nil, false) + " → " + Value("Production incident", true)},
	})
	want := "  ~ label \"incident\" (repository acme/shop)\n" +
		"      color:        \"d73a4a\" → \"b60205\"\n" +
		"      description:  (none) → \"Production incident\"\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteJSONKeepsHTMLCharacters(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]string{"name": "a <b> & c"}); err != nil {
		t.Fatal(err)
	}
	if b.String() != "{\n  \"name\": \"a <b> & c\"\n}\n" {
		t.Errorf("got %q", b.String())
	}
}
