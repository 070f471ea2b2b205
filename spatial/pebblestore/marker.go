package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"citytwin/spatial"
)

// markerName is the clean-shutdown marker: Close writes it with the commit
// counter after flushing; Open checks pebble's counter against it and
// removes it. It is absent while the store is open and after a crash, when
// pebble's WAL replay (which keeps every fsynced batch) is trusted alone.
const markerName = "CITYTWIN-CLEAN"

// markerMagic starts the marker file.
const markerMagic = "citytwin-pebblestore-clean-v1\n"

// crc32c returns the CRC-32C (Castagnoli) of b.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// writeMarker durably writes the marker (temporary file, fsync, rename,
// fsync of the directory).
func writeMarker(dir string, commits uint64) error {
	b := append(make([]byte, 0, len(markerMagic)+12), markerMagic...)
	b = binary.BigEndian.AppendUint64(b, commits)
	b = binary.BigEndian.AppendUint32(b, crc32c(b))
	path := filepath.Join(dir, markerName)
	tmp := path + ".tmp"
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("pebblestore: write clean-shutdown marker: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pebblestore: write clean-shutdown marker: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("pebblestore: write clean-shutdown marker: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// readMarker returns the commit counter recorded by the last clean Close,
// and whether there is one.
func readMarker(dir string) (commits uint64, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, markerName))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pebblestore: read clean-shutdown marker: %w", err)
	}
	n := len(markerMagic)
	if len(b) != n+12 || string(b[:n]) != markerMagic ||
		crc32c(b[:n+8]) != binary.BigEndian.Uint32(b[n+8:]) {
		return 0, false, fmt.Errorf("pebblestore: clean-shutdown marker %s: %w: bad contents", filepath.Join(dir, markerName), spatial.ErrCorrupt)
	}
	return binary.BigEndian.Uint64(b[n:]), true, nil
}

// removeMarker durably removes the marker, so that a crash from now on is
// not mistaken for a clean shutdown.
func removeMarker(dir string) error {
	if err := os.Remove(filepath.Join(dir, markerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pebblestore: remove clean-shutdown marker: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("pebblestore: remove clean-shutdown marker: %w", err)
	}
	return nil
}

// decodeCount reads an 8-byte big-endian counter value.
func decodeCount(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("counter of %d bytes (want 8)", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
