// Package skip is the one error for work that did not happen because it does not apply or is
// not configured: a source a product does not use, a source or a publisher without its
// credentials. Callers record it as skipped with its reason, never as failed, and recognise it
// by type (errors.As), never by its text.
package skip

import "errors"

// Error is a skip; its message is the reason alone, so callers can show it as they like
// ("skipped: <reason>", or a summary row in the skipped column).
type Error struct {
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Because returns a skip with the reason, like "GITHUB_TOKEN not set".
func Because(reason string) error { return &Error{Reason: reason} }

// Reason returns the reason of the skip in err's chain, and whether there is one.
func Reason(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}
