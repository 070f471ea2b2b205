package fencedir

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoadDelete(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids := map[string]string{"f1": `{"id":"f1"}`, "a/b c%": `{"id":"odd"}`, "围栏": `{"id":"cjk"}`}
	for id, def := range ids {
		if err := d.SaveFence(ctx, id, []byte(def)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SaveFence(ctx, "f1", []byte(`{"id":"f1","v":2}`)); err != nil {
		t.Fatal(err)
	}
	// A crash's leftover temporary file is ignored and cleaned up.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-123"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadFences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids["f1"] = `{"id":"f1","v":2}`
	if len(got) != len(ids) {
		t.Fatalf("loaded %d fences, want %d", len(got), len(ids))
	}
	for id, def := range ids {
		if string(got[id]) != def {
			t.Errorf("%q: %s, want %s", id, got[id], def)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-123")); !os.IsNotExist(err) {
		t.Error("temporary file not removed")
	}
	if err := d.DeleteFence(ctx, "f1"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteFence(ctx, "never"); err != nil {
		t.Fatal(err)
	}
	got, _ = d.LoadFences(ctx)
	if _, ok := got["f1"]; ok || len(got) != 2 {
		t.Errorf("after delete: %v", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LoadFences(ctx); err == nil {
		t.Error("a stray file with a non-hex name loaded silently")
	}
}
