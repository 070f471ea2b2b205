package osm

import (
	"fmt"
	"strconv"
)

// WarningKind classifies a warning.
type WarningKind string

// Warning kinds. An element that draws a warning of a kind marked "skips"
// produces no feature; the others only degrade it.
const (
	// WarnBadElement: an element without a valid id, or a node without
	// valid coordinates (skips the element).
	WarnBadElement WarningKind = "bad-element"
	// WarnMissingNode: a way refers to nodes not in the input. Lines keep
	// the runs of at least two nodes that remain (a MultiLineString when
	// the gap is inside); areas and relation rings are skipped.
	WarnMissingNode WarningKind = "missing-node"
	// WarnMissingMember: a multipolygon or boundary relation has member
	// ways that are not in the input, as at the edge of an extract (skips).
	WarnMissingMember WarningKind = "missing-member"
	// WarnOpenRing: a relation's member ways do not join into closed
	// rings (skips).
	WarnOpenRing WarningKind = "open-ring"
	// WarnBadGeometry: a way or relation whose geometry is degenerate
	// (fewer than 2 distinct points for a line, fewer than 3 or no area for
	// a ring) or otherwise fails spatial.Feature.Prepare (skips).
	WarnBadGeometry WarningKind = "bad-geometry"
	// WarnInnerOutside: an inner ring of a relation lies in no outer ring;
	// the inner ring is dropped and the feature kept.
	WarnInnerOutside WarningKind = "inner-outside"
	// WarnDuplicateMember: a relation lists the same way twice; the
	// repetition is ignored.
	WarnDuplicateMember WarningKind = "duplicate-member"
	// WarnBadTag: a tag value that should be a number (height, lanes,
	// maxspeed …) does not parse; it is kept as text under key + "_raw".
	WarnBadTag WarningKind = "bad-tag"
)

// DefaultMaxWarnings is the number of warnings Stats.Warnings keeps when
// Importer.MaxWarnings is 0.
const DefaultMaxWarnings = 1000

// Warning is a problem that did not stop the import.
type Warning struct {
	Kind WarningKind
	// Element is the OSM element, "n789", "w123" or "r456".
	Element string
	// File, Line and Column locate the element's start tag (the position
	// just after it, as xml.Decoder.InputPos reports).
	File   string
	Line   int
	Column int
	// Msg says what is wrong and what was done about it.
	Msg string
}

// String formats as "FILE:LINE:COL: ELEMENT: KIND: MSG".
func (w Warning) String() string {
	s := w.File
	if s == "" {
		s = "input"
	}
	if w.Line > 0 {
		s += ":" + strconv.Itoa(w.Line)
		if w.Column > 0 {
			s += ":" + strconv.Itoa(w.Column)
		}
	}
	return fmt.Sprintf("%s: %s: %s: %s", s, w.Element, w.Kind, w.Msg)
}

// Stats describes an import. Import returns it also when it fails, with
// the counts up to the failure.
type Stats struct {
	// Passes is 2 when the input was an io.ReadSeeker read twice (a first
	// pass finds the ways that relations need), else 1.
	Passes int
	// Nodes, Ways and Relations count the elements read.
	Nodes, Ways, Relations int64
	// Features counts the features given to the sink; Layers splits them
	// by base layer name (LayerBuildings …).
	Features int64
	Layers   map[string]int64
	// Skipped counts elements that would have made a feature but were
	// left out with a warning.
	Skipped int64
	// StoredNodes is the number of node coordinates held for building
	// ways; UnsortedNodes of them were out of id order and went to the
	// store's overflow map.
	StoredNodes, UnsortedNodes int64
	// NodeStoreBytes estimates the memory that held node coordinates at
	// the end of the import (about 12 bytes per sorted node).
	NodeStoreBytes int64
	// KeptWays is the number of way node lists held for relations, in
	// WayStoreBytes bytes.
	KeptWays      int64
	WayStoreBytes int64
	// WarningCount counts every warning; WarningsByKind splits the count
	// by kind; Warnings keeps the first Importer.MaxWarnings of them.
	WarningCount   int64
	WarningsByKind map[WarningKind]int64
	Warnings       []Warning
}
