package osm

import (
	"encoding/binary"
	"slices"
)

// wayStore keeps the node lists of the ways that multipolygon and boundary
// relations need. Lists are delta-encoded zigzag varints in one byte arena
// (node ids within a way are usually close, so a reference costs 2-4 bytes
// instead of 8), indexed by a map from way id to the list's place in the
// arena (about 40 bytes per way).
type wayStore struct {
	arena []byte
	index map[int64]wayLoc
}

type wayLoc struct {
	off int64
	n   int32
}

// add records a way's node list, replacing an earlier one of the same id.
func (s *wayStore) add(id int64, refs []int64) {
	if s.index == nil {
		s.index = make(map[int64]wayLoc)
	}
	loc := wayLoc{off: int64(len(s.arena)), n: int32(len(refs))}
	var prev int64
	for _, r := range refs {
		s.arena = binary.AppendVarint(s.arena, r-prev)
		prev = r
	}
	s.index[id] = loc
}

// get appends a way's node list to dst.
func (s *wayStore) get(id int64, dst []int64) ([]int64, bool) {
	loc, ok := s.index[id]
	if !ok {
		return dst, false
	}
	b := s.arena[loc.off:]
	var prev int64
	for range loc.n {
		d, k := binary.Varint(b)
		b = b[k:]
		prev += d
		dst = append(dst, prev)
	}
	return dst, true
}

func (s *wayStore) len() int { return len(s.index) }

// bytes estimates the memory held by the store.
func (s *wayStore) bytes() int64 {
	return int64(cap(s.arena)) + int64(len(s.index))*40
}

// idSet is a sorted set of ids (8 bytes per id).
type idSet struct{ ids []int64 }

func (s *idSet) add(id int64) { s.ids = append(s.ids, id) }

// seal sorts and deduplicates the set; call it before has.
func (s *idSet) seal() {
	slices.Sort(s.ids)
	s.ids = slices.Compact(s.ids)
	s.ids = slices.Clip(s.ids)
}

func (s *idSet) has(id int64) bool {
	_, ok := slices.BinarySearch(s.ids, id)
	return ok
}
