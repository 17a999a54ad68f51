package cloudflarepages

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The vectors wrangler's deploy-helpers tests expect (docs/publishing.md, the hash).
func TestHashMatchesWranglerVectors(t *testing.T) {
	tests := []struct {
		name, content, file, want string
	}{
		{"png", "foobar", "image.png", "2082190357cfd3617ccfe04f340c6247"},
		{"txt", "foobar", "notes.txt", "1a98fb08af91aca4a7df1764a2c4ddb0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hash([]byte(tt.content), tt.file); got != tt.want {
				t.Errorf("Hash(%q, %q) = %s, want %s", tt.content, tt.file, got, tt.want)
			}
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, err := hashFile(p, tt.file); err != nil || got != tt.want {
				t.Errorf("hashFile = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}

func TestHashDependsOnExtension(t *testing.T) {
	if Hash([]byte("x"), "a.css") == Hash([]byte("x"), "a.js") {
		t.Error("the same content with another extension must get another hash")
	}
	if Hash([]byte("x"), "a/b.css") != Hash([]byte("x"), "c.css") {
		t.Error("the folder must not change the hash")
	}
}

func TestExtensionIsNodeExtname(t *testing.T) {
	tests := map[string]string{
		"index.html":      "html",
		"a.tar.gz":        "gz",
		".htaccess":       "",
		"README":          "",
		"dir.v1/file":     "",
		"dir/.hidden.txt": "txt",
		"trailing.":       "",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got := extension(name); got != want {
				t.Errorf("extension(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

func TestContentTypeIsBareMimeType(t *testing.T) {
	tests := map[string]string{
		"logo.png":          "image/png",
		"notes.txt":         "text/plain",
		"index.html":        "text/html",
		"css/site.css":      "text/css",
		"js/charts.js":      "application/javascript",
		"data/report.json":  "application/json",
		"favicon.ico":       "image/vnd.microsoft.icon",
		"icon.svg":          "image/svg+xml",
		"font.woff2":        "font/woff2",
		"PHOTO.JPG":         "image/jpeg",
		"feed.xml":          "application/xml",
		"archive.unknown":   "application/octet-stream",
		"LICENSE":           "application/octet-stream",
		"site.webmanifest":  "application/manifest+json",
		"js/echarts.min.js": "application/javascript",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			got := ContentType(name)
			if got != want {
				t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
			}
			if strings.Contains(got, ";") {
				t.Errorf("ContentType(%q) = %q has parameters; Pages wants a bare type", name, got)
			}
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScanFollowsWranglersRules(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"index.html":                 "<h1>hi</h1>",
		"css/site.css":               "body{}",
		"_headers":                   "/*\n  X-Frame-Options: DENY\n",
		"_redirects":                 "/old /new 301\n",
		"_routes.json":               "{}",
		"_worker.js":                 "export default {}",
		"functions/api.js":           "ignored",
		".wrangler/state":            "ignored",
		".DS_Store":                  "ignored",
		"img/.DS_Store":              "ignored",
		"node_modules/x/index.js":    "ignored",
		"deep/node_modules/y.js":     "ignored",
		".git/HEAD":                  "ignored",
		"sub/_headers":               "kept: only the root one is special",
		"sub/functions/f.js":         "kept: functions is ignored at the root only",
		".well-known/security.txt":   "kept",
		"products/api/index.html":    "<h1>api</h1>",
		"products/api/_redirects.md": "kept",
	})
	if err := os.Symlink(filepath.Join(dir, "index.html"), filepath.Join(dir, "link.html")); err != nil {
		t.Fatal(err)
	}
	site, err := Scan(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range site.Files {
		got = append(got, f.Path)
	}
	want := []string{".well-known/security.txt", "css/site.css", "index.html", "products/api/_redirects.md",
		"products/api/index.html", "sub/_headers", "sub/functions/f.js"}
	if !slices.Equal(got, want) {
		t.Errorf("files:\n got %q\nwant %q", got, want)
	}
	if string(site.Headers) != "/*\n  X-Frame-Options: DENY\n" || string(site.Redirects) != "/old /new 301\n" {
		t.Errorf("root _headers/_redirects not kept for the deployment: %q %q", site.Headers, site.Redirects)
	}
	m := site.Manifest()
	if m["/index.html"] != Hash([]byte("<h1>hi</h1>"), "index.html") || len(m) != len(want) {
		t.Errorf("manifest = %v", m)
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string) string
		maxFiles int
		want     string
	}{
		{"missing folder", func(t *testing.T, dir string) string { return filepath.Join(dir, "public") }, 0,
			"no such folder (run portfolio build first)"},
		{"empty folder", func(t *testing.T, dir string) string { return dir }, 0, "no files to publish"},
		{"file over 25 MiB", func(t *testing.T, dir string) string {
			writeFiles(t, dir, map[string]string{"index.html": "x"})
			f, err := os.Create(filepath.Join(dir, "big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(MaxFileSize + 1); err != nil { // sparse: cheap
				t.Fatal(err)
			}
			return dir
		}, 0, "big.bin: 25.0 MiB is over the 25.0 MiB limit of Cloudflare Pages"},
		{"too many files", func(t *testing.T, dir string) string {
			writeFiles(t, dir, map[string]string{"a.html": "a", "b.html": "b", "c.html": "c"})
			return dir
		}, 2, "3 files is over the limit of 2 files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Scan(tt.setup(t, t.TempDir()), tt.maxFiles)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Scan error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestScanAcceptsFileOfExactlyTheLimit(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "edge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxFileSize)
	f.Close()
	if _, err := Scan(dir, 0); err != nil {
		t.Errorf("a file of exactly 25 MiB must pass: %v", err)
	}
}

func TestBucketsHoldLimits(t *testing.T) {
	tests := []struct {
		name        string
		files       []File
		wantBuckets int
	}{
		{"nothing", nil, 0},
		{"one file", sized(1, 100), 1},
		{"three files spread over three buckets", sized(3, 100), 3},
		{"4500 small files: at most 2000 per bucket", sized(4500, 10), 3},
		{"7000 small files need a fourth bucket", sized(7000, 10), 4},
		{"ten 20 MiB files: at most 40 MiB per bucket", sized(10, 20<<20), 5},
		{"a 25 MiB file and many small ones", append([]File{{Path: "big", Size: 25 << 20}}, sized(50, 1<<20)...), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Buckets(tt.files)
			if len(got) != tt.wantBuckets {
				t.Errorf("%d buckets, want %d", len(got), tt.wantBuckets)
			}
			seen := map[string]int{}
			for i, b := range got {
				var size int64
				for _, f := range b {
					size += f.Size
					seen[f.Path]++
				}
				if len(b) == 0 || len(b) > MaxBucketFiles || size > MaxBucketBytes {
					t.Errorf("bucket %d: %d files, %d bytes; limits are 1..%d files and %d bytes", i, len(b), size, MaxBucketFiles, MaxBucketBytes)
				}
			}
			if len(seen) != len(tt.files) {
				t.Errorf("%d distinct files in buckets, want %d", len(seen), len(tt.files))
			}
			for p, n := range seen {
				if n != 1 {
					t.Errorf("%s is in %d buckets", p, n)
				}
			}
		})
	}
}

func TestBucketsPutLargestFirstAndRotate(t *testing.T) {
	files := []File{{Path: "s", Size: 1}, {Path: "l", Size: 30}, {Path: "m", Size: 20}, {Path: "xs", Size: 0}}
	got := Buckets(files)
	var firsts []string
	for _, b := range got {
		firsts = append(firsts, b[0].Path)
	}
	// Largest first, one per bucket thanks to the rotating offset; the 4th wraps to bucket 1.
	if !slices.Equal(firsts, []string{"l", "m", "s"}) || len(got[0]) != 2 || got[0][1].Path != "xs" {
		t.Errorf("buckets = %v", got)
	}
}

func sized(n int, size int64) []File {
	out := make([]File, n)
	for i := range out {
		out[i] = File{Path: fmt.Sprintf("f%05d", i), Size: size}
	}
	return out
}

func BenchmarkHash1MiB(b *testing.B) {
	content := []byte(strings.Repeat("portfolio ", 1<<20/10))
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		Hash(content, "chart.js")
	}
}
