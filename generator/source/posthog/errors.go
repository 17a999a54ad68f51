package posthog

import "fmt"

// APIError is an answer of PostHog's API that is not a success: the status, and the detail
// and code of Django REST framework's error body when it has one (401 authentication_failed:
// the key is wrong; 403 permission_denied: the key lacks a scope or the project).
type APIError struct {
	Status       int
	Detail, Code string
}

func (e *APIError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s (%s)", e.Status, e.Detail, e.Code)
}
