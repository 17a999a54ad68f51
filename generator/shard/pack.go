package shard

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FormatVersion is the version of the archive Pack writes; Merge refuses another.
const FormatVersion = 1

// manifestName is the archive's first entry.
const manifestName = "manifest.json"

// Manifest says what a shard's archive holds. It is the archive's first entry.
type Manifest struct {
	Format int       `json:"format"`
	Shard  string    `json:"shard"` // "i/n"
	Now    time.Time `json:"now"`   // the collect's --now: the run's time
	// Products are the shard's products, in config order.
	Products []string `json:"products"`
	// Files are what the shard's collect wrote (new or changed), relative to data/ with
	// slashes, sorted; Deleted what it removed. Every one belongs to one of Products.
	Files   []string `json:"files"`
	Deleted []string `json:"deleted,omitempty"`
}

// Changed lists the files under dataDir that differ from git's index (changed or new, and
// deleted), relative to dataDir, slash-separated and sorted, as `git ls-files --modified
// --others --exclude-standard` sees them: what git would commit, so files git ignores
// (data/.lock, the ETag cache in data/.cache) are not listed. dataDir must be in a git work
// tree: in CI, the checkout the collect wrote into. git does this because only it knows what
// the checkout held; a copy of data/ taken before collecting would double the job's disk and time.
func Changed(ctx context.Context, dataDir string) (changed, deleted []string, err error) {
	list := func(args ...string) ([]string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dataDir, "ls-files", "-z"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git ls-files in %s: %w: %s", dataDir, err, strings.TrimSpace(stderr.String()))
		}
		var paths []string
		for p := range strings.SplitSeq(string(out), "\x00") {
			if p != "" {
				paths = append(paths, p)
			}
		}
		return paths, nil
	}
	if _, err := os.Stat(dataDir); err != nil {
		return nil, nil, fmt.Errorf("list changed data: %w", err)
	}
	all, err := list("--modified", "--others", "--exclude-standard", "--", ".")
	if err != nil {
		return nil, nil, err
	}
	if deleted, err = list("--deleted", "--", "."); err != nil {
		return nil, nil, err
	}
	for _, p := range all {
		if !slices.Contains(deleted, p) {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	slices.Sort(deleted)
	return slices.Compact(changed), slices.Compact(deleted), nil
}

// OutsideError is a file a shard changed that belongs to none of its products: packing it would
// let two shards write one file, or a shard overwrite what the merging job owns.
type OutsideError struct {
	Shard string
	Paths []string
}

func (e *OutsideError) Error() string {
	return fmt.Sprintf("shard %s changed %s, which belong(s) to none of its products: a shard may change only its own products' files (were the shards run with different configs?)",
		e.Shard, strings.Join(e.Paths, ", "))
}

// Pack writes the archive of m to w: the manifest, then every file of m.Files read from
// dataDir. It refuses (*OutsideError) a file or deletion that belongs to none of m.Products.
// The archive is a tar with fixed modes and times, so the same files give the same bytes.
func Pack(w io.Writer, dataDir string, m Manifest) error {
	m.Format = FormatVersion
	var outside []string
	for _, p := range append(slices.Clone(m.Files), m.Deleted...) {
		if id, ok := Owner(p); !ok || !slices.Contains(m.Products, id) {
			outside = append(outside, p)
		}
	}
	if len(outside) > 0 {
		slices.Sort(outside)
		return &OutsideError{Shard: m.Shard, Paths: outside}
	}
	m.Files, m.Deleted = slices.Sorted(slices.Values(m.Files)), slices.Sorted(slices.Values(m.Deleted))
	if m.Files == nil {
		m.Files = []string{}
	}
	head, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(manifestName, append(head, '\n')); err != nil {
		return fmt.Errorf("pack shard %s: %w", m.Shard, err)
	}
	for _, p := range m.Files {
		data, err := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(p)))
		if err != nil {
			return fmt.Errorf("pack shard %s: %w", m.Shard, err)
		}
		if err := add("data/"+p, data); err != nil {
			return fmt.Errorf("pack shard %s: %s: %w", m.Shard, p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("pack shard %s: %w", m.Shard, err)
	}
	return nil
}

// archive is one shard's archive read back: its manifest and files.
type archive struct {
	path     string
	manifest Manifest
	files    map[string][]byte // by path relative to data/
}

// readArchive reads and checks an archive Pack wrote: the manifest first, then exactly the
// files it lists, each a clean relative path (never "..", never absolute).
func readArchive(name string) (*archive, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a := &archive{path: name, files: map[string][]byte{}}
	tr := tar.NewReader(f)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a shard archive: %w", name, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, h.Name, err)
		}
		if i == 0 {
			if h.Name != manifestName {
				return nil, fmt.Errorf("%s: not a shard archive: the first entry is %q, want %s", name, h.Name, manifestName)
			}
			if err := json.Unmarshal(data, &a.manifest); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", name, manifestName, err)
			}
			if a.manifest.Format != FormatVersion {
				return nil, fmt.Errorf("%s: archive format %d, this portfolio reads %d: pack and merge with the same portfolio", name, a.manifest.Format, FormatVersion)
			}
			continue
		}
		rel, ok := strings.CutPrefix(h.Name, "data/")
		if h.Typeflag != tar.TypeReg || !ok || !fs.ValidPath(rel) || rel == "." || strings.HasPrefix(rel, ".") {
			return nil, fmt.Errorf("%s: entry %q: want a regular file under data/", name, h.Name)
		}
		a.files[rel] = data
	}
	if a.manifest.Format == 0 {
		return nil, fmt.Errorf("%s: not a shard archive: empty", name)
	}
	listed := slices.Sorted(func(yield func(string) bool) {
		for p := range a.files {
			if !yield(p) {
				return
			}
		}
	})
	if !slices.Equal(listed, a.manifest.Files) {
		return nil, fmt.Errorf("%s: the files do not match the manifest's list (a damaged archive?)", name)
	}
	return a, nil
}
