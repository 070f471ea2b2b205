package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"citytwin/spatial"
	"citytwin/spatial/storetest"
)

// crash stops a store without its clean shutdown: no flush, no marker, as
// if the process had died after the last acknowledged write.
func crash(t *testing.T, s *Store) {
	t.Helper()
	if !s.gate.close() {
		t.Fatal("crash: store already closed")
	}
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a store directory (flat: pebble keeps no subdirectories).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// files returns the store's files whose names end in suffix, largest
// first.
func files(t *testing.T, dir, suffix string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	size := map[string]int64{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) || (suffix == "MANIFEST" && strings.HasPrefix(e.Name(), "MANIFEST-")) {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, filepath.Join(dir, e.Name()))
			size[out[len(out)-1]] = info.Size()
		}
	}
	slices.SortFunc(out, func(a, b string) int { return int(size[b] - size[a]) })
	return out
}

// edit applies fn to a file's bytes.
func edit(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readAll opens the store in dir and reads everything in every way: Scan,
// ScanCell, Get of every wanted feature, Layers and Check. It returns the
// first error, or the features Scan found. Panics fail the test.
func readAll(t *testing.T, dir, layer string, want []*spatial.Feature) (map[string]*spatial.Feature, error) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	ctx := context.Background()
	got := map[string]*spatial.Feature{}
	if err := s.Scan(ctx, layer, func(f *spatial.Feature) error { got[f.ID] = f; return nil }); err != nil {
		return nil, err
	}
	if err := s.ScanCell(ctx, layer, want[0].Code.ParentAt(3), func(*spatial.Feature) error { return nil }); err != nil {
		return nil, err
	}
	for _, f := range want {
		if _, err := s.Get(ctx, layer, f.ID); err != nil && !errors.Is(err, spatial.ErrNotFound) {
			return nil, err
		}
	}
	if _, err := s.Layers(ctx); err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return got, nil
}

// intact reports how got differs from want.
func intact(want []*spatial.Feature, got map[string]*spatial.Feature) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d features, want %d", len(got), len(want))
	}
	for _, w := range want {
		if d := storetest.Diff(w, got[w.ID]); d != "" {
			return errors.New(d)
		}
	}
	return nil
}

// pristine writes features in batches and closes the store cleanly.
func pristine(t *testing.T, n, batch int) (string, []*spatial.Feature) {
	t.Helper()
	s, dir := open(t)
	fs := storetest.DalianFeatures(20, "c", 0, n)
	for i := 0; i < n; i += batch {
		if err := s.Put(context.Background(), fs[i:min(i+batch, n)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, fs
}

// TestCorruptSSTable flips bytes in the store's sstables, reopens it and
// reads everything: each damage must be reported as an error wrapping
// spatial.ErrCorrupt, or else read back no different (a flip that lands
// where no read looks). Damage inside data blocks must be reported by Scan.
func TestCorruptSSTable(t *testing.T) {
	dir, fs := pristine(t, 3000, 1000)
	tables := files(t, dir, ".sst")
	if len(tables) == 0 {
		t.Fatal("no sstables after Close")
	}
	info, err := os.Stat(tables[0])
	if err != nil {
		t.Fatal(err)
	}
	size := int(info.Size())
	t.Logf("%d sstables, largest %d bytes", len(tables), size)

	// Damage in the middle of the table, where feature records lie, must
	// surface through Scan itself; damage in the first block (bound keys,
	// which sort first) through the reads that use them.
	for _, off := range []int{size / 2, 200} {
		d := copyDir(t, dir)
		edit(t, filepath.Join(d, filepath.Base(tables[0])), func(b []byte) []byte { b[off] ^= 0x5a; return b })
		if off == 200 {
			if _, err := readAll(t, d, "c", fs); !errors.Is(err, spatial.ErrCorrupt) {
				t.Errorf("offset %d: %v, want an error wrapping spatial.ErrCorrupt", off, err)
			} else {
				t.Logf("offset %d: %v", off, err)
			}
			continue
		}
		s, err := Open(d)
		if err != nil {
			t.Fatalf("offset %d: Open: %v", off, err)
		}
		n := 0
		err = s.Scan(context.Background(), "c", func(*spatial.Feature) error { n++; return nil })
		if !errors.Is(err, spatial.ErrCorrupt) {
			t.Errorf("offset %d: Scan after %d features: %v, want an error wrapping spatial.ErrCorrupt", off, n, err)
		} else {
			t.Logf("offset %d: Scan stopped after %d features: %v", off, n, err)
		}
		s.Close()
	}

	// Random flips anywhere in any table.
	rng := rand.New(rand.NewPCG(7, 7))
	reported, harmless := 0, 0
	for range 12 {
		d := copyDir(t, dir)
		tbl := filepath.Join(d, filepath.Base(tables[rng.IntN(len(tables))]))
		var off int
		edit(t, tbl, func(b []byte) []byte {
			off = rng.IntN(len(b))
			b[off] ^= byte(1 + rng.IntN(255))
			return b
		})
		got, err := readAll(t, d, "c", fs)
		switch {
		case err != nil && errors.Is(err, spatial.ErrCorrupt):
			reported++
		case err != nil:
			t.Errorf("%s offset %d: %v, want an error wrapping spatial.ErrCorrupt", filepath.Base(tbl), off, err)
		default:
			if err := intact(fs, got); err != nil {
				t.Errorf("%s offset %d: silent damage: %v", filepath.Base(tbl), off, err)
			}
			harmless++
		}
	}
	t.Logf("random flips: %d reported, %d read back intact", reported, harmless)
}

// walRecords returns the offsets of the records (full or first chunks) of
// a log.
func walRecords(data []byte, logNum uint32) []int {
	var out []int
	for pos := 0; pos+walHeaderSize <= len(data); {
		if rest := walBlockSize - pos%walBlockSize; rest < walHeaderSize {
			pos += rest
			continue
		}
		n, t, _, ok := walChunk(data, pos, func(n uint32) bool { return n == logNum })
		if !ok {
			break
		}
		if t == walFull || t == walFirst {
			out = append(out, pos)
		}
		pos += n
	}
	return out
}

// TestCorruptWAL damages the write-ahead log of a store that crashed after
// 20 acknowledged batches. Damage that only a crash could have caused (the
// last record torn or zeroed) must open cleanly with every earlier batch;
// damage before the last record, which pebble alone would treat as the end
// of the log and silently drop the batches after it, must be reported.
func TestCorruptWAL(t *testing.T) {
	const batches, size = 20, 100
	s, dir := open(t)
	fs := storetest.DalianFeatures(21, "c", 0, batches*size)
	for i := 0; i < len(fs); i += size {
		if err := s.Put(context.Background(), fs[i:i+size]); err != nil {
			t.Fatal(err)
		}
	}
	crash(t, s)
	logs := files(t, dir, ".log")
	if len(logs) == 0 {
		t.Fatal("no WAL after crash")
	}
	wal := logs[0]
	num, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(wal), ".log"), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	// Pebble starts with a small memtable and grows it, so the first
	// batches may be in older, already flushed logs; the newest holds the
	// last len(recs).
	recs := walRecords(data, uint32(num))
	if len(recs) < 8 {
		t.Fatalf("WAL %s has %d records, want at least 8", wal, len(recs))
	}
	last := recs[len(recs)-1]
	end := len(data)
	for end > last && data[end-1] == 0 {
		end-- // preallocated space
	}
	t.Logf("newest WAL %s: %d bytes, %d records, the last at %d", filepath.Base(wal), len(data), len(recs), last)

	cases := []struct {
		name   string
		damage func(b []byte) []byte
		// keep is how many batches must survive; -1: Open must fail.
		keep int
	}{
		{"Intact", func(b []byte) []byte { return b }, batches},
		{"TornLastRecord", func(b []byte) []byte { return b[:last+(end-last)/2] }, batches - 1},
		{"ZeroedTail", func(b []byte) []byte { clear(b[last+100:]); return b }, batches - 1},
		{"ZeroedPagesInsideLastRecord", func(b []byte) []byte { clear(b[last+20 : last+(end-last)/2]); return b }, batches - 1},
		{"FlipInLastRecord", func(b []byte) []byte { b[last+(end-last)/2] ^= 1; return b }, batches - 1},
		{"FlipInMiddleRecord", func(b []byte) []byte { b[recs[5]+500] ^= 1; return b }, -1},
		{"FlipInMiddleHeader", func(b []byte) []byte { b[recs[7]+4] ^= 0x80; return b }, -1},
		{"FlipInFirstRecord", func(b []byte) []byte { b[20] ^= 0xff; return b }, -1},
		{"ZeroedMiddle", func(b []byte) []byte { clear(b[recs[3] : recs[3]+4096]); return b }, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, dir)
			edit(t, filepath.Join(d, filepath.Base(wal)), c.damage)
			got, err := readAll(t, d, "c", fs)
			if c.keep < 0 {
				if !errors.Is(err, spatial.ErrCorrupt) {
					t.Fatalf("got %d features, error %v; want an error wrapping spatial.ErrCorrupt", len(got), err)
				}
				t.Logf("reported: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("a crash-like tail was not tolerated: %v", err)
			}
			if err := intact(fs[:c.keep*size], got); err != nil {
				t.Errorf("want exactly the first %d batches: %v", c.keep, err)
			}
		})
	}
}

// TestCorruptAfterCleanClose damages the WAL and the MANIFEST of a store
// closed cleanly: the WAL then holds nothing that is not in sstables, so
// flips there must lose nothing; MANIFEST damage must be reported (by
// pebble, or by the clean-shutdown marker check when pebble's lenient
// MANIFEST replay drops the newest tables) or lose nothing.
func TestCorruptAfterCleanClose(t *testing.T) {
	dir, fs := pristine(t, 2000, 500)
	for _, kind := range []string{".log", "MANIFEST"} {
		paths := files(t, dir, kind)
		if len(paths) == 0 {
			t.Logf("no %s files after a clean close", kind)
			continue
		}
		rng := rand.New(rand.NewPCG(8, 8))
		for _, p := range paths {
			info, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size() == 0 {
				continue
			}
			flips := 4
			if kind == ".log" {
				flips = 2
			}
			for range flips {
				d := copyDir(t, dir)
				off := rng.IntN(int(info.Size()))
				edit(t, filepath.Join(d, filepath.Base(p)), func(b []byte) []byte { b[off] ^= 0x21; return b })
				got, err := readAll(t, d, "c", fs)
				switch {
				case err != nil:
					t.Logf("%s offset %d: reported: %v", filepath.Base(p), off, err)
				default:
					if err := intact(fs, got); err != nil {
						t.Errorf("%s offset %d: silent loss: %v", filepath.Base(p), off, err)
					}
				}
			}
		}
	}
}

// TestMarkerDetectsLostWrites replaces a cleanly closed store's pebble
// state with an older one (as a MANIFEST that lost its last edits would):
// Open must refuse it.
func TestMarkerDetectsLostWrites(t *testing.T) {
	ctx := context.Background()
	s, dir := open(t)
	if err := s.Put(ctx, storetest.DalianFeatures(22, "m", 0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	old := copyDir(t, dir)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storetest.DalianFeatures(22, "m", 10, 10)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	marker, err := os.ReadFile(filepath.Join(dir, markerName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, markerName), marker, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(old); !errors.Is(err, spatial.ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of a store older than its marker: %v", err)
	}
	// A damaged marker is reported too.
	edit(t, filepath.Join(dir, markerName), func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	if s, err := Open(dir); !errors.Is(err, spatial.ErrCorrupt) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open with a damaged marker: %v", err)
	}
	// After a crash there is no marker and the store opens.
	if err := os.Remove(filepath.Join(dir, markerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
