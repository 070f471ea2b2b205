package pebblelog

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"citytwin/twin/live"
)

// The latest-state snapshot makes start-up fast: Latest would otherwise
// seek twice per object ever seen (about 5 s for a million). On a clean
// shutdown the twin hands its current state to SaveLatest, which writes it
// beside the database; the next Open finds it, and Latest streams it
// instead of scanning, as long as nothing was appended since. The first
// Append after Open removes the file (durably, before the append is
// acknowledged), so a crash later can never make a stale snapshot look
// current: without the file, Latest scans.
//
// File: "citytwin-latest 1\n", then records (uvarint id length, id,
// uvarint record length, live.Object.AppendRecord), then an empty id as the
// end mark and the CRC-32C of everything before it (4 bytes, little
// endian).
const (
	snapshotName  = "latest.snapshot"
	snapshotMagic = "citytwin-latest 1\n"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SaveLatest implements live.LatestSaver: it writes the snapshot of the
// objects each yields (every id's newest state, tombstones included). Call
// it when nothing else appends, just before Close.
func (l *Log) SaveLatest(ctx context.Context, each func(yield func(*live.Object) bool)) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	tmp, err := os.CreateTemp(l.dir, ".latest-*")
	if err != nil {
		return fmt.Errorf("pebblelog: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(tmp, crc), 1<<20)
	var werr error
	var buf []byte
	put := func(b []byte) {
		if werr == nil {
			buf = binary.AppendUvarint(buf[:0], uint64(len(b)))
			if _, werr = w.Write(buf); werr == nil {
				_, werr = w.Write(b)
			}
		}
	}
	_, werr = w.WriteString(snapshotMagic)
	var rec []byte
	each(func(o *live.Object) bool {
		put([]byte(o.ID))
		rec = o.AppendRecord(rec[:0])
		put(rec)
		return werr == nil && ctx.Err() == nil
	})
	put(nil)
	if werr == nil {
		werr = w.Flush()
	}
	if err := errors.Join(werr, ctx.Err()); err != nil {
		tmp.Close()
		return fmt.Errorf("pebblelog: snapshot: %w", err)
	}
	sum := binary.LittleEndian.AppendUint32(nil, crc.Sum32())
	_, werr = tmp.Write(sum)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("pebblelog: snapshot: %w", err)
	}
	// From here an Append in this process must drop the file again.
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if err := os.Rename(tmp.Name(), filepath.Join(l.dir, snapshotName)); err != nil {
		return fmt.Errorf("pebblelog: snapshot: %w", err)
	}
	l.snapshot = true
	return syncDir(l.dir)
}

// readSnapshot streams the snapshot's objects to fn; ok is false when
// there is no usable snapshot (missing or damaged: Latest then scans).
func readSnapshot(path string, fn func(*live.Object) error) (ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) < len(snapshotMagic)+4 || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return false, nil
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return false, nil
	}
	b := body[len(snapshotMagic):]
	next := func() ([]byte, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	// Decode everything before calling fn, so that a damaged file yields
	// nothing rather than part of the state.
	var objs []*live.Object
	for {
		id, good := next()
		if !good {
			return false, nil
		}
		if len(id) == 0 {
			break
		}
		rec, good := next()
		if !good {
			return false, nil
		}
		o, err := live.DecodeRecord(string(id), rec)
		if err != nil {
			return false, nil
		}
		objs = append(objs, o)
	}
	for _, o := range objs {
		if err := fn(o); err != nil {
			return true, err
		}
	}
	return true, nil
}

// dropSnapshot removes the snapshot durably (before the first append).
func (l *Log) dropSnapshot() error {
	err := os.Remove(filepath.Join(l.dir, snapshotName))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pebblelog: remove snapshot: %w", err)
	}
	return syncDir(l.dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pebblelog: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("pebblelog: sync %s: %w", dir, err)
	}
	return nil
}
