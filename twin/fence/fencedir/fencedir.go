// Package fencedir keeps fence definitions as files in a directory, one
// JSON file per fence, for the embedded store (a fence.Saver). Each write
// goes to a temporary file that is fsynced and renamed into place, and the
// directory is fsynced, so a saved fence survives a crash and a torn write
// never replaces a good definition.
package fencedir

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir is a fence.Saver over a directory.
type Dir struct {
	path string
}

// Open returns the saver for dir, creating it if needed.
func Open(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fencedir: %w", err)
	}
	return &Dir{path: dir}, nil
}

// file names a fence's file: the id hex-encoded, so any id is a safe name.
func (d *Dir) file(id string) string {
	return filepath.Join(d.path, hex.EncodeToString([]byte(id))+".json")
}

// SaveFence writes a definition durably.
func (d *Dir) SaveFence(ctx context.Context, id string, def []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d.path, ".tmp-*")
	if err != nil {
		return fmt.Errorf("fencedir: save %q: %w", id, err)
	}
	_, werr := tmp.Write(def)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fencedir: save %q: %w", id, err)
	}
	if err := os.Rename(tmp.Name(), d.file(id)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fencedir: save %q: %w", id, err)
	}
	return d.syncDir()
}

// DeleteFence removes a definition durably; a missing one is not an error.
func (d *Dir) DeleteFence(ctx context.Context, id string) error {
	if err := os.Remove(d.file(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fencedir: delete %q: %w", id, err)
	}
	return d.syncDir()
}

// LoadFences reads every definition. Leftover temporary files of a crash
// are removed.
func (d *Dir) LoadFences(ctx context.Context) (map[string][]byte, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return nil, fmt.Errorf("fencedir: %w", err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(d.path, name))
			continue
		}
		stem, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue
		}
		id, err := hex.DecodeString(stem)
		if err != nil {
			return nil, fmt.Errorf("fencedir: %s: not a fence file (name is not a hex-encoded id)", filepath.Join(d.path, name))
		}
		b, err := os.ReadFile(filepath.Join(d.path, name))
		if err != nil {
			return nil, fmt.Errorf("fencedir: %w", err)
		}
		out[string(id)] = b
	}
	return out, nil
}

func (d *Dir) syncDir() error {
	f, err := os.Open(d.path)
	if err != nil {
		return fmt.Errorf("fencedir: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fencedir: sync %s: %w", d.path, err)
	}
	return nil
}
