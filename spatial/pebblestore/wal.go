package pebblestore

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"citytwin/spatial"
)

// Pebble (v1) replays the newest write-ahead log leniently: the first
// chunk that fails its checksum is taken for the torn tail of a crash and
// ends the replay, silently. That is right for a torn tail, but a flipped
// bit in the middle of the log would drop every acknowledged batch after
// it. checkWAL looks for that case before pebble opens the store: a damaged
// chunk followed by the start of another valid record of the same log. A
// crash cannot produce that here, because the store commits one fsynced
// batch at a time, so only the last record can be torn.
//
// WAL format (pebble/record): 32 KiB blocks of chunks that never straddle
// a block; the writer uses only "recyclable" chunks: masked CRC-32C (4,
// little-endian) over type, log number and payload; length (2,
// little-endian); type (1: 5 full, 6 first, 7 middle, 8 last); log number
// (4, little-endian); payload. A block's last < 11 bytes are padding.
const (
	walBlockSize  = 32 << 10
	walHeaderSize = 11
	walFull       = 5
	walFirst      = 6
	walLast       = 8
)

// checkWAL checks the newest WAL file in dir.
func checkWAL(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("pebblestore: check WAL: %w", err)
	}
	var newest string
	var num uint64
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		n, err := strconv.ParseUint(base, 10, 64)
		if err != nil {
			continue
		}
		if newest == "" || n > num {
			newest, num = e.Name(), n
		}
	}
	if newest == "" {
		return nil
	}
	path := filepath.Join(dir, newest)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("pebblestore: check WAL: %w", err)
	}
	bad, after := scanWAL(data, uint32(num))
	if after < 0 {
		return nil
	}
	return fmt.Errorf("pebblestore: open %s: %w: write-ahead log %s is damaged at offset %d but holds a valid record at offset %d; pebble would silently drop every write from the damage on (move the file aside to accept that loss)", dir, spatial.ErrCorrupt, newest, bad, after)
}

// scanWAL returns the offset of the first chunk of a log that is not a
// valid chunk of this log, and the offset of the first valid full or first
// chunk of this log after it (-1 if none). The search after the damage
// stops at the first valid chunk of an older log: pebble recycles log
// files, and what follows the new log's end is the old log's content. A
// log that does not start with a recyclable chunk is not checked.
func scanWAL(data []byte, logNum uint32) (bad, after int) {
	pos := 0
	this := func(n uint32) bool { return n == logNum }
	for {
		if rest := walBlockSize - pos%walBlockSize; rest < walHeaderSize {
			pos += rest
		}
		if pos >= len(data) {
			return pos, -1
		}
		n, _, _, ok := walChunk(data, pos, this)
		if !ok {
			break
		}
		pos += n
	}
	if pos == 0 && (len(data) < walHeaderSize || data[6] < walFull || data[6] > walLast) {
		return 0, -1 // empty, or not a log this check understands
	}
	notNewer := func(n uint32) bool { return n <= logNum }
	for p := pos; p+walHeaderSize <= len(data); {
		if rest := walBlockSize - p%walBlockSize; rest < walHeaderSize {
			p += rest
			continue
		}
		n, typ, num, ok := walChunk(data, p, notNewer)
		switch {
		case !ok:
			p++
		case num != logNum:
			return pos, -1 // an older log's leftovers: this log ended before
		case typ == walFull || typ == walFirst:
			return pos, p
		default:
			p += n // the rest of a damaged record
		}
	}
	return pos, -1
}

// walChunk checks the chunk at pos: a recyclable type, a log number that
// want accepts, a length within the block, and the checksum. It returns the
// chunk's total length, type and log number.
func walChunk(data []byte, pos int, want func(uint32) bool) (n int, typ byte, num uint32, ok bool) {
	if pos+walHeaderSize > len(data) {
		return 0, 0, 0, false
	}
	h := data[pos : pos+walHeaderSize]
	typ = h[6]
	if typ < walFull || typ > walLast {
		return 0, 0, 0, false
	}
	num = binary.LittleEndian.Uint32(h[7:])
	if !want(num) {
		return 0, 0, 0, false
	}
	length := int(binary.LittleEndian.Uint16(h[4:]))
	end := pos + walHeaderSize + length
	if end > len(data) || end > (pos/walBlockSize+1)*walBlockSize {
		return 0, 0, 0, false
	}
	c := crc32c(data[pos+6 : end])
	if (c>>15|c<<17)+0xa282ead8 != binary.LittleEndian.Uint32(h) { // pebble's masked CRC
		return 0, 0, 0, false
	}
	return walHeaderSize + length, typ, num, true
}
