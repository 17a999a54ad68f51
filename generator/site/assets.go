package site

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// loadAssets copies static/ into the site under fingerprinted names (a content hash before the
// extension: css/site.css → static/css/site.1a2b3c4d5e.css), so _headers can let browsers cache
// them forever. Templates ask for them by their plain name through the asset function.
func (b *build) loadAssets() error {
	b.assets = map[string]string{}
	err := fs.WalkDir(b.opts.FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() && p != "static" {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(b.opts.FS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:5])
		ext := path.Ext(name)
		fp := "static/" + strings.TrimSuffix(name, ext) + "." + hash + ext
		b.assets[name] = b.url("/" + fp)
		b.put(fp, data)
		return nil
	})
	if err != nil {
		return fmt.Errorf("site: static files: %w", err)
	}
	return nil
}

// asset returns the URL of a static file by its name under static/.
func (b *build) asset(name string) (string, error) {
	u, ok := b.assets[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return u, nil
}
