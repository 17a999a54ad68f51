package httpbody_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/httpbody"
)

func TestCap(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		limit   int64
		tooLong bool
	}{
		{"shorter", "abc", 4, false},
		{"exactly the cap", "abcd", 4, false},
		{"one byte more", "abcde", 4, true},
		{"much more", strings.Repeat("x", 1<<20), 1 << 10, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := io.ReadAll(httpbody.Cap(strings.NewReader(tc.body), tc.limit))
			var tl *httpbody.TooLargeError
			if errors.As(err, &tl) != tc.tooLong {
				t.Fatalf("err %v, want too long %v", err, tc.tooLong)
			}
			if int64(len(got)) > tc.limit {
				t.Errorf("read %d bytes past a cap of %d", len(got), tc.limit)
			}
			if !tc.tooLong && string(got) != tc.body {
				t.Errorf("read %q", got)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	var v struct{ A []int }
	if err := httpbody.DecodeJSON(strings.NewReader(`{"A":[1,2,3]}`+"\n"), 64, &v); err != nil || len(v.A) != 3 {
		t.Errorf("v %+v, err %v", v, err)
	}
	var tl *httpbody.TooLargeError
	if err := httpbody.DecodeJSON(strings.NewReader(`{"A":[`+strings.Repeat("1,", 100)+`1]}`), 64, &v); !errors.As(err, &tl) ||
		!strings.Contains(err.Error(), "larger than") {
		t.Errorf("err %v, want a *TooLargeError", err)
	}
	if err := httpbody.DecodeJSON(strings.NewReader(`{"A":[1]} {"A":[2]}`), 64, &v); err == nil {
		t.Error("a second value after the first was accepted")
	}
}

func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 5000))
	}))
	defer srv.Close()
	c := &http.Client{Transport: &httpbody.Transport{Limit: 4096}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tl *httpbody.TooLargeError
	if _, err := io.ReadAll(resp.Body); !errors.As(err, &tl) {
		t.Errorf("err %v, want a *TooLargeError", err)
	}
}
