package initconfig

import (
	"strings"
	"testing"

	"github.com/portfolio-report/portfolio/generator/config"
)

// TestSlugFitsAProductID: a repository name of GitHub's maximum 100 characters becomes an id the
// schema accepts, even with uniqueID's suffix.
func TestSlugFitsAProductID(t *testing.T) {
	taken := map[string]int{}
	for _, name := range []string{strings.Repeat("Payments_API-", 8), strings.Repeat("x", 100), strings.Repeat("x", 100), "Shop"} {
		id := uniqueID(slug(name), taken)
		if !config.ValidProductID(id) {
			t.Errorf("slug(%q) = %q (%d characters): not a valid product id", name, id, len(id))
		}
	}
}
