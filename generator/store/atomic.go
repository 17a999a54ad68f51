package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// writeIfChanged writes data to path atomically unless the file already holds exactly data,
// so an unchanged document keeps its mtime and git sees nothing.
func (s *Store) writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return writeAtomic(path, data, s.faults)
}

// WriteFileAtomic writes data to a temporary file in path's folder, syncs it and renames it over
// path, so a crash leaves either the old file or the new one, never a truncated one.
func WriteFileAtomic(path string, data []byte) error { return writeAtomic(path, data, nil) }

// faults lets tests fail a write at a chosen step; nil fields use the real operation.
type faults struct {
	write  func(f *os.File, data []byte) (int, error)
	rename func(oldpath, newpath string) error
}

func writeAtomic(path string, data []byte, fl *faults) error {
	write := func(f *os.File, b []byte) (int, error) { return f.Write(b) }
	rename := os.Rename
	if fl != nil && fl.write != nil {
		write = fl.write
	}
	if fl != nil && fl.rename != nil {
		rename = fl.rename
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := write(f, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename durable; not all filesystems support it
		d.Close()
	}
	return nil
}
