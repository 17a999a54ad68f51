package skip_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/portfolio-report/portfolio/generator/skip"
)

func TestReason(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantSkip   bool
	}{
		{"a skip", skip.Because("GITHUB_TOKEN not set"), "GITHUB_TOKEN not set", true},
		{"a wrapped skip keeps its reason", fmt.Errorf("source github: %w", skip.Because("no repository configured")), "no repository configured", true},
		{"a failure is not a skip", errors.New("HTTP 500"), "", false},
		{"a failure whose text says skipped is not a skip", errors.New("skipped: HTTP 500"), "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, ok := skip.Reason(tt.err)
			if reason != tt.wantReason || ok != tt.wantSkip {
				t.Errorf("Reason(%v) = %q, %v; want %q, %v", tt.err, reason, ok, tt.wantReason, tt.wantSkip)
			}
		})
	}
	if got := skip.Because("off").Error(); got != "off" {
		t.Errorf("the message is %q, want the reason alone", got)
	}
}
