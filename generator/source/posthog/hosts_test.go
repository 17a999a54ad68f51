package posthog_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-report/portfolio/generator/source/posthog"
	"github.com/portfolio-report/portfolio/generator/testutil/fake"
)

func TestHostsListsTheBusiestFirst(t *testing.T) {
	f := fake.NewPostHog(t)
	f.SetHostEvents("docs.example.com", 40)
	f.SetHostEvents("shop.example.com", 1200)
	hosts, err := posthog.New(options(f), f.Server.Client(), nil).Hosts(context.Background(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := []posthog.HostEvents{{"shop.example.com", 1200}, {"docs.example.com", 40}}
	if !reflect.DeepEqual(hosts, want) {
		t.Errorf("hosts %v, want %v", hosts, want)
	}
	q := f.Queries()
	if len(q) != 1 || q[0] != posthog.HostsQuery(now, 7*24*time.Hour) ||
		!strings.Contains(q[0], "timestamp >= toDateTime('2026-06-23 12:00:00', 'UTC') AND timestamp < toDateTime('2026-06-30 12:00:00', 'UTC')") {
		t.Errorf("queries %q, want the seven days before now", q)
	}
}

func TestHostsSaysWhatIsWrong(t *testing.T) {
	tests := []struct {
		name       string
		opt        func(*posthog.Options)
		wantStatus int
		wantErr    string
	}{
		{"a wrong key", func(o *posthog.Options) { o.PersonalKey = "phx_wrong_key_000000000000" }, http.StatusUnauthorized, "HTTP 401: Personal API key found in request Authorization header is invalid. (authentication_failed)"},
		{"another project", func(o *posthog.Options) { o.ProjectID = "1" }, http.StatusForbidden, "HTTP 403: You don't have access to the project. (permission_denied)"},
		{"no key", func(o *posthog.Options) { o.PersonalKey = "" }, 0, "POSTHOG_PERSONAL_API_KEY not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fake.NewPostHog(t)
			o := options(f)
			tt.opt(&o)
			_, err := posthog.New(o, f.Server.Client(), nil).Hosts(context.Background(), time.Hour)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			var ae *posthog.APIError
			if got := errors.As(err, &ae); got != (tt.wantStatus != 0) || got && ae.Status != tt.wantStatus {
				t.Errorf("err %#v: want an *APIError with status %d", err, tt.wantStatus)
			}
		})
	}
}
