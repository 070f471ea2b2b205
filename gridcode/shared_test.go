package gridcode

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir returns ../shared/data/gridcode, or skips the test with a clear
// message when the team's shared reference data is not beside the project.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data", "gridcode")
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("shared reference data not found at %s (it lives beside the project as ../shared): %v", dir, err)
	}
	return dir
}

// readCSV returns the rows of a CSV file in the shared data, header first,
// with each field trimmed.
func readCSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	r.LazyQuotes = true // DMS fields carry bare \" for seconds
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, rec)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no data rows", name)
	}
	return rows
}

// readVectors decodes published_vectors.json.
func readVectors(t testing.TB) map[string][]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "published_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	for k, v := range raw {
		var list []map[string]any
		if json.Unmarshal(v, &list) == nil {
			out[k] = list
		}
	}
	return out
}

// column returns the index of a named column in a CSV header.
func column(t testing.TB, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}
