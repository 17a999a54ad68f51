package cloudflare_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
	"github.com/portfolio-report/portfolio/generator/redact"
	"github.com/portfolio-report/portfolio/generator/retry"
)

const token = "cf-secret-token-0001"

// server answers every request with h, under the /client/v4 prefix a real base URL has.
func server(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(http.StripPrefix("/client/v4", h))
	t.Cleanup(s.Close)
	return s.URL + "/client/v4"
}

func TestDoReadsTheEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantErr    string // empty: success
		wantStatus int
		transient  bool
	}{
		{name: "success", status: 200, body: `{"success":true,"errors":[],"result":{"id":"x"}}`},
		{name: "success:false under HTTP 200 is an error", status: 200,
			body:    `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}],"result":null}`,
			wantErr: "API error: 10000 Authentication error", wantStatus: 200},
		{name: "success:false without errors", status: 200, body: `{"success":false,"errors":[],"result":null}`,
			wantErr: "API error: success:false without errors", wantStatus: 200},
		{name: "an error status names every code", status: 400,
			body:    `{"success":false,"errors":[{"code":1002,"message":"interval too short"},{"code":1003,"message":"bad port"}]}`,
			wantErr: "HTTP 400: 1002 interval too short; 1003 bad port", wantStatus: 400},
		{name: "a 5xx without an envelope", status: 503, body: `<html>busy</html>`, wantErr: "HTTP 503", wantStatus: 503, transient: true},
		{name: "a 429 says how long to wait", status: 429, header: map[string]string{"Retry-After": "5"},
			body:    `{"success":false,"errors":[{"code":10429,"message":"Too Many Requests"}]}`,
			wantErr: "HTTP 429: 10429 Too Many Requests (retry after 5s)", wantStatus: 429, transient: true},
		{name: "a malformed answer", status: 200, body: `{"success":tru`, wantErr: "malformed answer (HTTP 200)", wantStatus: 200, transient: true},
		{name: "an error echoing the token is redacted", status: 403,
			body:    `{"success":false,"errors":[{"code":9109,"message":"token ` + token + ` is not valid"}]}`,
			wantErr: "HTTP 403: 9109 token [redacted] is not valid", wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth []string
			url := server(t, func(w http.ResponseWriter, r *http.Request) {
				auth = append(auth, r.Header.Get("Authorization"))
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url, Redactor: redact.Of(token)}, nil)
			res, err := c.Do(context.Background(), http.MethodGet, "/zones/z/healthchecks/x", nil, nil)
			if tt.wantErr == "" {
				if err != nil || string(res.Result) != `{"id":"x"}` {
					t.Fatalf("result %s, err %v", res.Result, err)
				}
			} else {
				var e *cloudflare.APIError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &e) {
					t.Fatalf("err %v, want an *APIError containing %q", err, tt.wantErr)
				}
				if e.Status != tt.wantStatus || e.Transient() != tt.transient {
					t.Errorf("status %d transient %v, want %d %v", e.Status, e.Transient(), tt.wantStatus, tt.transient)
				}
			}
			if !slices.Equal(auth, []string{"Bearer " + token}) || c.Requests() != 1 {
				t.Errorf("authorization %v, %d requests: want one request with the bearer token", auth, c.Requests())
			}
		})
	}
}

func TestNoAnswerIsATransientAPIError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: s.URL}, nil)
	_, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil)
	var e *cloudflare.APIError
	if !errors.As(err, &e) || e.Status != 0 || !e.Transient() || strings.Contains(err.Error(), s.URL) {
		t.Errorf("err %v: want a transient *APIError without the request URL", err)
	}
}

func TestWithTokenSendsTheOtherTokenThroughTheSameCounter(t *testing.T) {
	var auth []string
	var mu sync.Mutex
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		fmt.Fprint(w, `{"success":true,"result":null}`)
	})
	c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil)
	jwt := c.WithToken("upload.jwt.value")
	c.Do(context.Background(), http.MethodGet, "/a", nil, nil)
	jwt.Do(context.Background(), http.MethodPost, "/b", []byte(`{}`), nil)
	if !slices.Equal(auth, []string{"Bearer " + token, "Bearer upload.jwt.value"}) || c.Requests() != 2 || jwt.Requests() != 2 {
		t.Errorf("authorization %v, requests %d/%d", auth, c.Requests(), jwt.Requests())
	}
}

// pages serves n items a page at a time, as the v4 API does; info decides which result_info
// fields it sends (the health checks list documents no total_pages).
func pages(t *testing.T, n int, info func(page, perPage, count int) map[string]any, ignorePage bool) (string, *[]string) {
	var calls []string
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.URL.RawQuery)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if perPage == 0 {
			perPage = 20
		}
		perPage = min(perPage, 25) // the server's largest page
		if ignorePage {
			page = 1
		}
		var items []map[string]string
		for i := (page - 1) * perPage; i < min(page*perPage, n); i++ {
			items = append(items, map[string]string{"id": fmt.Sprint("id", i)})
		}
		env := map[string]any{"success": true, "errors": []any{}, "result": items}
		if ri := info(page, perPage, len(items)); ri != nil {
			env["result_info"] = ri
		}
		json.NewEncoder(w).Encode(env)
	})
	return url, &calls
}

func TestListReadsEveryPage(t *testing.T) {
	full := func(page, perPage, count int) map[string]any {
		return map[string]any{"page": page, "per_page": perPage, "count": count, "total_count": 57, "total_pages": (57 + perPage - 1) / perPage}
	}
	documented := func(page, perPage, count int) map[string]any {
		return map[string]any{"page": page, "per_page": perPage, "count": count, "total_count": 57}
	}
	noCount := func(page, perPage, count int) map[string]any {
		return map[string]any{"page": page, "per_page": perPage}
	}
	tests := []struct {
		name       string
		items      int
		info       func(page, perPage, count int) map[string]any
		perPage    int
		ignorePage bool
		wantItems  int
		wantCalls  int
		wantErr    string
	}{
		{name: "with total_pages", items: 57, info: full, perPage: 25, wantItems: 57, wantCalls: 3},
		{name: "without total_pages (the health checks list)", items: 57, info: documented, perPage: 25, wantItems: 57, wantCalls: 3},
		{name: "total_count reached on a full page: no empty page asked for", items: 50, info: func(p, pp, c int) map[string]any {
			return map[string]any{"page": p, "per_page": pp, "count": c, "total_count": 50}
		}, perPage: 25, wantItems: 50, wantCalls: 2},
		{name: "only paging fields: stop at the short page", items: 57, info: noCount, perPage: 25, wantItems: 57, wantCalls: 3},
		{name: "no page size asked for: the server's", items: 57, info: noCount, perPage: 0, wantItems: 57, wantCalls: 3},
		{name: "a server that sends fewer than asked for is not a short page", items: 57, info: noCount, perPage: 50, wantItems: 57, wantCalls: 3},
		{name: "an API that ignores page: the repeated page stops the listing", items: 57, info: noCount, perPage: 25, ignorePage: true,
			wantCalls: 2, wantErr: "listing /zones/z/healthchecks: page 2 repeats id0 of an earlier page: the endpoint does not advance"},
		{name: "an API that ignores page, with total_count", items: 57, info: documented, perPage: 25, ignorePage: true,
			wantCalls: 2, wantErr: "page 2 repeats id0"},
		{name: "more items than total_count", items: 57, info: func(p, pp, c int) map[string]any {
			return map[string]any{"page": p, "per_page": pp, "count": c, "total_count": 30}
		}, perPage: 25, wantCalls: 2, wantErr: "50 items read, more than the total_count of 30"},
		{name: "an empty list", items: 0, info: documented, perPage: 25, wantItems: 0, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, calls := pages(t, tt.items, tt.info, tt.ignorePage)
			c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil)
			items, err := c.List(context.Background(), "/zones/z/healthchecks", "", tt.perPage)
			if tt.wantErr != "" {
				var pe *cloudflare.PagingError
				if !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.wantErr) || items != nil {
					t.Errorf("items %d, err %v, want a *PagingError %q and nothing listed", len(items), err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(items) != tt.wantItems || len(*calls) != tt.wantCalls {
				t.Errorf("%d items in %d calls %v, want %d in %d", len(items), len(*calls), *calls, tt.wantItems, tt.wantCalls)
			}
		})
	}
}

// TestListStopsAfterMaxPages: an endpoint that answers full pages of new items forever is
// stopped with an error, not followed.
func TestListStopsAfterMaxPages(t *testing.T) {
	n := 0
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		fmt.Fprintf(w, `{"success":true,"result":[{"id":"a%d"},{"id":"b%d"}],"result_info":{"page":%d,"per_page":2}}`, n, n, n)
	})
	_, err := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil).List(context.Background(), "/x", "", 2)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d pages", cloudflare.MaxPages)) || n != cloudflare.MaxPages {
		t.Errorf("err %v after %d requests", err, n)
	}
}

// TestListWhole reads an endpoint that documents no paging with one plain GET, and refuses an
// answer whose result_info says it holds only part of the list.
func TestListWhole(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		want                int
	}{
		{"the whole list", `{"success":true,"result":[{"id":"a"},{"id":"b"}],"result_info":{"page":1,"per_page":2,"count":2,"total_count":2}}`, "", 2},
		{"without result_info", `{"success":true,"result":[{"id":"a"}]}`, "", 1},
		{"an empty list", `{"success":true,"result":[]}`, "", 0},
		{"cut short", `{"success":true,"result":[{"id":"a"}],"result_info":{"page":1,"per_page":1,"count":1,"total_count":30}}`,
			"the answer holds 1 of 30 items and the endpoint documents no paging", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var queries []string
			url := server(t, func(w http.ResponseWriter, r *http.Request) {
				queries = append(queries, r.URL.RawQuery)
				fmt.Fprint(w, tt.body)
			})
			items, err := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil).ListWhole(context.Background(), "/accounts/a/alerting/v3/policies")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || len(items) != tt.want {
				t.Errorf("%d items, err %v; want %d", len(items), err, tt.want)
			}
			if !slices.Equal(queries, []string{""}) {
				t.Errorf("queries %q, want one GET with no query parameter (none is documented)", queries)
			}
		})
	}
}

func TestListNamesThePageThatFailed(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			fmt.Fprint(w, `{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}`)
			return
		}
		fmt.Fprint(w, `{"success":true,"result":[{"id":"a"},{"id":"b"}],"result_info":{"page":1,"per_page":2}}`)
	})
	_, err := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil).List(context.Background(), "/x", "", 2)
	if err == nil || err.Error() != "page 2: API error: 10000 Authentication error" {
		t.Errorf("err %v", err)
	}
}

func TestRetryPolicyApplies(t *testing.T) {
	var calls []string
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls = append(calls, r.Method)
		if len(calls) == 1 || r.Method == http.MethodPost {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		fmt.Fprint(w, `{"success":true,"result":{}}`)
	})
	var waits []time.Duration
	policy := retry.Policy{Attempts: 3, Backoff: time.Second, Sleep: func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}}
	c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url, REST: cloudflare.Limits{Retry: &policy}}, nil)
	if _, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil); err != nil {
		t.Fatalf("a GET after a 502: %v", err)
	}
	if _, err := c.Do(context.Background(), http.MethodPost, "/x", []byte(`{}`), nil); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("a POST that may have been taken must not be repeated: %v", err)
	}
	if !slices.Equal(calls, []string{"GET", "GET", "POST"}) || !slices.Equal(waits, []time.Duration{time.Second}) {
		t.Errorf("calls %v, waits %v", calls, waits)
	}
}

func TestGraphQL(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "data", status: 200, body: `{"data":{"viewer":{"n":1}},"errors":null}`},
		{name: "errors in a 200", status: 200, body: `{"data":null,"errors":[{"message":"no access","extensions":{"code":"authz"}}]}`,
			wantErr: "graphql: HTTP 200: no access (authz)"},
		{name: "a bad status", status: 400, body: `{}`, wantErr: "graphql: HTTP 400"},
		{name: "no data", status: 200, body: `{"data":null}`, wantErr: "graphql: answer without data"},
		{name: "malformed", status: 200, body: `{"data":`, wantErr: "graphql: malformed answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			url := server(t, func(w http.ResponseWriter, r *http.Request) {
				json.NewDecoder(r.Body).Decode(&got)
				if r.URL.Path != "/graphql" || r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+token {
					t.Errorf("%s %s with %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			var out struct {
				Viewer struct{ N int } `json:"viewer"`
			}
			err := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil).GraphQL(context.Background(), "query{viewer{n}}", map[string]any{"z": "1"}, &out)
			switch {
			case tt.wantErr == "" && (err != nil || out.Viewer.N != 1):
				t.Errorf("out %+v, err %v", out, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
			if got["query"] != "query{viewer{n}}" || got["variables"].(map[string]any)["z"] != "1" {
				t.Errorf("request body %v", got)
			}
		})
	}
}

// TestAnswersLongerThanTheCapAreErrors: a REST or GraphQL answer past its cap stops reading
// with an error naming the cap, rather than cut JSON or a huge read.
func TestAnswersLongerThanTheCapAreErrors(t *testing.T) {
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := 2 << 20
		fmt.Fprint(w, `{"success":true,"data":{"x":"`)
		chunk := strings.Repeat("x", 1<<16)
		for i := 0; i <= n/len(chunk); i++ {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return // the client stopped reading
			}
		}
		fmt.Fprint(w, `"}}`)
	})
	// The caps are 32 and 16 MiB; the test lowers them, as a slow machine would take seconds.
	c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url, MaxREST: 1 << 20, MaxGraphQL: 1 << 20}, nil)
	if _, err := c.Do(context.Background(), http.MethodGet, "/x", nil, nil); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("REST: %v", err)
	}
	var out any
	if err := c.GraphQL(context.Background(), "query{viewer{x}}", nil, &out); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("GraphQL: %v", err)
	}
}
