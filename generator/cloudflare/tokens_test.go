package cloudflare_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/cloudflare"
)

const invalidToken = `{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"messages":[],"result":null}`

func TestVerifyToken(t *testing.T) {
	valid := `{"success":true,"errors":[],"messages":[{"code":10000,"message":"This API Token is valid and active"}],
		"result":{"id":"ed17574386854bf78a67040be0a770b0","status":"active","expires_on":"2026-12-31T00:00:00Z"}}`
	tests := []struct {
		name         string
		user, acct   string // bodies of the two endpoints ("" : not called / 404)
		userStatus   int
		account      string
		wantStatus   string
		wantOwned    bool
		wantErr      string
		wantAccounts int // calls to the account endpoint
	}{
		{name: "a user token", user: valid, userStatus: 200, account: "acc1", wantStatus: "active"},
		{name: "an account-owned token is verified under its account", user: invalidToken, userStatus: 401,
			acct: valid, account: "acc1", wantStatus: "active", wantOwned: true, wantAccounts: 1},
		{name: "an unknown token without an account", user: invalidToken, userStatus: 401,
			wantErr: "HTTP 401: 1000 Invalid API Token"},
		{name: "an unknown token, account known", user: invalidToken, userStatus: 401, acct: invalidToken, account: "acc1",
			wantErr: "HTTP 401: 1000 Invalid API Token", wantAccounts: 1},
		{name: "an account that does not exist keeps the user endpoint's answer", user: invalidToken, userStatus: 401,
			account: "nope", wantErr: "HTTP 401: 1000 Invalid API Token", wantAccounts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts := 0
			url := server(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/user/tokens/verify":
					w.WriteHeader(tt.userStatus)
					fmt.Fprint(w, tt.user)
				case "/accounts/" + tt.account + "/tokens/verify":
					accounts++
					if tt.acct == "" {
						w.WriteHeader(404)
						fmt.Fprint(w, `{"success":false,"errors":[{"code":7003,"message":"Could not route"}],"messages":[],"result":null}`)
						return
					}
					if tt.acct == invalidToken {
						w.WriteHeader(401)
					}
					fmt.Fprint(w, tt.acct)
				default:
					t.Errorf("unexpected %s", r.URL.Path)
				}
			})
			c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil)
			st, err := c.VerifyToken(context.Background(), tt.account)
			if accounts != tt.wantAccounts {
				t.Errorf("account endpoint called %d times, want %d", accounts, tt.wantAccounts)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != tt.wantStatus || st.AccountOwned != tt.wantOwned || !st.ExpiresOn.Equal(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("got %+v, want status %s, account-owned %v, expiry 2026-12-31", st, tt.wantStatus, tt.wantOwned)
			}
		})
	}
}

func TestZonesReadsEveryPage(t *testing.T) {
	var queries []string
	url := server(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		total := 120 // 50 + 50 + 20
		var items []string
		for i := (page - 1) * per; i < min(page*per, total); i++ {
			items = append(items, fmt.Sprintf(`{"id":"z%03d","name":"site%03d.example","status":"active","account":{"id":"acc1","name":"Acme"}}`, i, i))
		}
		fmt.Fprintf(w, `{"success":true,"errors":[],"messages":[],"result":[%s],"result_info":{"page":%d,"per_page":%d,"count":%d,"total_count":%d}}`,
			strings.Join(items, ","), page, per, len(items), total)
	})
	c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil)
	zones, err := c.Zones(context.Background(), "acc1")
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 120 || zones[119].Name != "site119.example" || zones[0].Account.ID != "acc1" {
		t.Fatalf("got %d zones (last %+v)", len(zones), zones[len(zones)-1])
	}
	want := []string{"page=1&per_page=50&account.id=acc1", "page=2&per_page=50&account.id=acc1", "page=3&per_page=50&account.id=acc1"}
	if strings.Join(queries, " ") != strings.Join(want, " ") {
		t.Errorf("queries %q, want %q", queries, want)
	}
}

func TestGraphQLErrorSaysWhenAPermissionIsMissing(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		unauth bool
	}{
		{"authz under 200", 200, `{"data":null,"errors":[{"message":"Actor does not have permission 'com.cloudflare.api.account.zone.analytics.read' for zone z1","extensions":{"code":"authz"}}]}`, true},
		{"a range too old is not a permission", 200, `{"data":null,"errors":[{"message":"cannot request data older than 2678400s"}]}`, false},
		{"HTTP 403", 403, `{"data":null,"errors":[{"message":"forbidden"}]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c := cloudflare.New(cloudflare.Options{Token: token, BaseURL: url}, nil)
			var v any
			err := c.GraphQL(context.Background(), "{viewer{zones{zoneTag}}}", nil, &v)
			var ge *cloudflare.GraphQLError
			if !errors.As(err, &ge) {
				t.Fatalf("err %v, want a *GraphQLError", err)
			}
			if ge.Unauthorized() != tt.unauth {
				t.Errorf("Unauthorized() = %v, want %v (%v)", ge.Unauthorized(), tt.unauth, err)
			}
		})
	}
}
