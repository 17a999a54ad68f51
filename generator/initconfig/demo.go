package initconfig

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/portfolio-report/portfolio/generator/store"
)

// ClearDemoData removes the demo history from the data folder, so the first real run starts
// clean: when meta.json says `portfolio demo` wrote the folder, everything in it but its
// README.md and hidden files (the lock) goes, meta.json included. Data of any other origin is
// never touched: it returns no names then. It takes the folder's lock while it works and
// returns what it removed, sorted.
func ClearDemoData(ctx context.Context, dir string, log *slog.Logger) ([]string, error) {
	st := store.Open(dir)
	meta, err := st.Meta()
	if err != nil {
		return nil, fmt.Errorf("init: %w (not removed: only demo data is)", err)
	}
	if !meta.Demo() {
		return nil, nil
	}
	unlock, err := st.Lock(ctx, log)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	defer unlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	var removed []string
	for _, e := range entries {
		n := e.Name()
		if n == "README.md" || strings.HasPrefix(n, ".") || n == "meta.json" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return removed, fmt.Errorf("init: remove the demo data: %w", err)
		}
		if e.IsDir() {
			n += "/"
		}
		removed = append(removed, n)
	}
	// meta.json last: should anything above fail, the folder still says it is demo data.
	if err := os.Remove(filepath.Join(dir, "meta.json")); err != nil {
		return removed, fmt.Errorf("init: remove the demo data: %w", err)
	}
	removed = append(removed, "meta.json")
	slices.Sort(removed)
	return removed, nil
}
