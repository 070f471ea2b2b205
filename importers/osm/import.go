package osm

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// Importer imports OpenStreetMap XML with settings beyond
// importers.Options. The zero value besides Options is ready to use. An
// Importer holds no state between imports and may be used by several
// goroutines at once.
type Importer struct {
	// Options are the shared importer options. Options.Layer, when set,
	// prefixes the layer names (see LayerName). Options.CRS, when set and
	// not EPSG:4326, is the CRS the lat/lon attributes are in (such as
	// GCJ-02); they are converted to WGS 84 as nodes are read.
	Options importers.Options
	// MaxWarnings caps Stats.Warnings: 0 means DefaultMaxWarnings, a
	// negative value keeps none. Stats.WarningCount counts them all.
	MaxWarnings int
	// OnWarning, when set, is called with every warning as it happens,
	// from the importing goroutine.
	OnWarning func(Warning)
	// SinglePass reads an io.ReadSeeker once, as any io.Reader, keeping
	// the node list of every way in case a relation needs it.
	SinglePass bool
}

// Import reads OpenStreetMap XML from r and gives each feature to sink;
// it is (&Importer{Options: opts}).Import(r, sink).
func Import(r io.Reader, opts importers.Options, sink importers.Sink) (*Stats, error) {
	im := &Importer{Options: opts}
	return im.Import(r, sink)
}

// Import reads OpenStreetMap XML from r and gives each feature to sink.
// Features are Prepared (valid, with their grid code) before the sink
// sees them; the sink may keep them.
//
// When r is an io.ReadSeeker (such as *os.File) it is read twice, from
// its current offset: a quick first pass collects the ids of the ways that
// multipolygon and boundary relations use, and the main pass keeps the
// node lists of those ways only. Any other reader is read once and the
// node lists of all ways are kept.
//
// Problems with single elements (missing nodes, broken relations,
// unparseable tag values) are warnings in the returned Stats and the
// import goes on. Input that is not well-formed XML or not OSM XML fails
// with an *importers.Error wrapping importers.ErrFormat, with the line
// and column where the decoder stopped and the element being read; a
// read error or a sink error fails with an *importers.Error wrapping it.
// The Stats are returned in every case.
func (im *Importer) Import(r io.Reader, sink importers.Sink) (*Stats, error) {
	st := &Stats{Passes: 1, Layers: map[string]int64{}, WarningsByKind: map[WarningKind]int64{}}
	opts := im.Options
	if sink == nil {
		return st, &importers.Error{File: opts.File, Err: errors.New("osm: nil sink")}
	}
	ru := &run{im: im, opts: opts, sink: sink, st: st, maxWarn: im.MaxWarnings}
	if ru.maxWarn == 0 {
		ru.maxWarn = DefaultMaxWarnings
	}
	if opts.CRS != nil && opts.CRS.Code() != "EPSG:4326" {
		ru.crs = opts.CRS
	}
	if rs, ok := r.(io.ReadSeeker); ok && !im.SinglePass {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			want, err := prescan(rs, start)
			if err != nil {
				return st, &importers.Error{File: opts.File, Err: fmt.Errorf("osm: first pass: %w", err)}
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return st, &importers.Error{File: opts.File, Err: fmt.Errorf("osm: rewind for second pass: %w", err)}
			}
			ru.want = want
			st.Passes = 2
		}
		// A Seek failure (a pipe behind *os.File) means one pass.
	}
	err := ru.decode(r)
	st.StoredNodes = ru.nodes.n
	st.UnsortedNodes = ru.nodes.overflow
	st.NodeStoreBytes = ru.nodes.bytes()
	st.KeptWays = int64(ru.ways.len())
	st.WayStoreBytes = ru.ways.bytes()
	return st, err
}

// element is the node, way or relation being read.
type element struct {
	kind      byte // 'n', 'w', 'r'; 0 outside such an element
	id        int64
	skip      bool // deleted, invisible or invalid
	line, col int
	lon, lat  int32 // a node's coordinates
}

func (e *element) name() string { return elementName(e.kind, e.id) }

func elementName(kind byte, id int64) string {
	return string(kind) + strconv.FormatInt(id, 10)
}

type member struct {
	way  bool
	ref  int64
	role string
}

// run is the state of one import.
type run struct {
	im      *Importer
	opts    importers.Options
	sink    importers.Sink
	st      *Stats
	maxWarn int
	crs     crs.CRS
	rep     *importers.Reporter
	dec     *xml.Decoder
	readErr error

	nodes nodeStore
	ways  wayStore
	want  *idSet // ways to keep; nil keeps all

	el       element
	tags     tagList
	refs     []int64
	members  []member
	problems []tagProblem
}

// errReader remembers the first read error that is not io.EOF, to tell
// read errors from format errors.
type errReader struct {
	r   io.Reader
	err *error
}

func (e errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && *e.err == nil {
		*e.err = err
	}
	return n, err
}

func (ru *run) decode(r io.Reader) error {
	cr := &importers.CountingReader{R: errReader{r: r, err: &ru.readErr}}
	ru.rep = importers.NewReporter(ru.opts, cr)
	d := xml.NewDecoder(bufio.NewReaderSize(cr, 256<<10))
	ru.dec = d
	depth, root := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if !root {
				return ru.formatError(errors.New("no <osm> element"))
			}
			break
		}
		if err != nil {
			return ru.xmlError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if t.Name.Local != "osm" {
					return ru.formatError(fmt.Errorf("root element <%s> is not <osm> (osmChange and other formats are not supported)", t.Name.Local))
				}
				root = true
			case 2:
				ru.start(t)
			case 3:
				ru.child(t)
			}
		case xml.EndElement:
			if depth == 2 && ru.el.kind != 0 {
				if err := ru.end(); err != nil {
					return err
				}
			}
			depth--
		}
	}
	ru.rep.Done()
	return nil
}

// xmlError turns a decoder error into an *importers.Error.
func (ru *run) xmlError(err error) error {
	line, col := ru.dec.InputPos()
	if ru.readErr != nil && errors.Is(err, ru.readErr) {
		return &importers.Error{File: ru.opts.File, Line: line, Column: col, Err: fmt.Errorf("osm: read%s: %w", ru.inElement(), err)}
	}
	var syn *xml.SyntaxError
	if errors.As(err, &syn) && syn.Line > 0 {
		line = syn.Line
	}
	return &importers.Error{File: ru.opts.File, Line: line, Column: col, Err: fmt.Errorf("%w: osm: malformed XML%s: %w", importers.ErrFormat, ru.inElement(), err)}
}

func (ru *run) formatError(err error) error {
	line, col := ru.dec.InputPos()
	return &importers.Error{File: ru.opts.File, Line: line, Column: col, Err: fmt.Errorf("%w: osm: %w", importers.ErrFormat, err)}
}

func (ru *run) inElement() string {
	switch ru.el.kind {
	case 'n':
		return " in node " + ru.el.name()
	case 'w':
		return " in way " + ru.el.name()
	case 'r':
		return " in relation " + ru.el.name()
	}
	return ""
}

func (ru *run) warn(kind WarningKind, elem string, msg string) {
	w := Warning{Kind: kind, Element: elem, File: ru.opts.File, Line: ru.el.line, Column: ru.el.col, Msg: msg}
	ru.st.WarningCount++
	ru.st.WarningsByKind[kind]++
	if len(ru.st.Warnings) < ru.maxWarn {
		ru.st.Warnings = append(ru.st.Warnings, w)
	}
	if ru.im.OnWarning != nil {
		ru.im.OnWarning(w)
	}
}

// start begins a node, way or relation.
func (ru *run) start(t xml.StartElement) {
	var kind byte
	switch t.Name.Local {
	case "node":
		kind = 'n'
		ru.st.Nodes++
	case "way":
		kind = 'w'
		ru.st.Ways++
		ru.refs = ru.refs[:0]
	case "relation":
		kind = 'r'
		ru.st.Relations++
		ru.members = ru.members[:0]
	default: // bounds, changeset, note …
		ru.el = element{}
		return
	}
	line, col := ru.dec.InputPos()
	ru.el = element{kind: kind, line: line, col: col}
	ru.tags = ru.tags[:0]
	var idS, latS, lonS string
	haveID, haveLat, haveLon := false, false, false
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "id":
			idS, haveID = a.Value, true
		case "lat":
			latS, haveLat = a.Value, true
		case "lon":
			lonS, haveLon = a.Value, true
		case "visible":
			if a.Value == "false" {
				ru.el.skip = true
			}
		case "action":
			if a.Value == "delete" {
				ru.el.skip = true
			}
		}
	}
	id, err := strconv.ParseInt(idS, 10, 64)
	if err != nil {
		ru.el.skip = true
		what := "no id attribute"
		if haveID {
			what = fmt.Sprintf("id %q is not an integer", idS)
		}
		ru.warn(WarnBadElement, string(kind)+"?", fmt.Sprintf("%s %s; element skipped", t.Name.Local, what))
		return
	}
	ru.el.id = id
	if kind != 'n' || ru.el.skip {
		return
	}
	if !haveLat || !haveLon {
		ru.el.skip = true
		ru.warn(WarnBadElement, ru.el.name(), "node without lat/lon; skipped")
		return
	}
	lon, lat, err := ru.coord(lonS, latS)
	if err != nil {
		ru.el.skip = true
		ru.warn(WarnBadElement, ru.el.name(), fmt.Sprintf("%v; node skipped", err))
		return
	}
	ru.nodes.add(id, lon, lat)
	ru.el.lon, ru.el.lat = lon, lat
}

// coord parses and, when a CRS is set, converts a node's coordinates.
func (ru *run) coord(lonS, latS string) (lon, lat int32, err error) {
	if ru.crs == nil {
		x, okx := parseFixed(lonS)
		y, oky := parseFixed(latS)
		if !okx || !oky {
			return 0, 0, fmt.Errorf("coordinates lat=%q lon=%q are not decimal numbers", latS, lonS)
		}
		if x < -180*fixedScale || x > 180*fixedScale || y < -90*fixedScale || y > 90*fixedScale {
			return 0, 0, fmt.Errorf("coordinates lat=%s lon=%s are outside longitude/latitude range", latS, lonS)
		}
		return int32(x), int32(y), nil
	}
	x, errx := strconv.ParseFloat(strings.TrimSpace(lonS), 64)
	y, erry := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	if errx != nil || erry != nil {
		return 0, 0, fmt.Errorf("coordinates lat=%q lon=%q are not numbers", latS, lonS)
	}
	glon, glat, err := ru.crs.ToWGS84(x, y)
	if err != nil {
		return 0, 0, fmt.Errorf("coordinates lat=%s lon=%s: %s to WGS 84: %w", latS, lonS, ru.crs.Code(), err)
	}
	if !(glon >= -180 && glon <= 180 && glat >= -90 && glat <= 90) {
		return 0, 0, fmt.Errorf("coordinates lat=%s lon=%s convert outside longitude/latitude range", latS, lonS)
	}
	return int32(math.Round(glon * fixedScale)), int32(math.Round(glat * fixedScale)), nil
}

// child reads a tag, nd or member element.
func (ru *run) child(t xml.StartElement) {
	if ru.el.kind == 0 || ru.el.skip {
		return
	}
	switch t.Name.Local {
	case "tag":
		var k, v string
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "k":
				k = a.Value
			case "v":
				v = a.Value
			}
		}
		if k != "" {
			ru.tags = append(ru.tags, tag{k, v})
		}
	case "nd":
		if ru.el.kind != 'w' {
			return
		}
		ref := int64(math.MinInt64) // never a stored node: counts as missing
		for _, a := range t.Attr {
			if a.Name.Local == "ref" {
				if r, err := strconv.ParseInt(a.Value, 10, 64); err == nil {
					ref = r
				}
			}
		}
		ru.refs = append(ru.refs, ref)
	case "member":
		if ru.el.kind != 'r' {
			return
		}
		var m member
		refOK := false
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "type":
				m.way = a.Value == "way"
			case "ref":
				ref, err := strconv.ParseInt(a.Value, 10, 64)
				m.ref, refOK = ref, err == nil
			case "role":
				m.role = a.Value
			}
		}
		if !refOK {
			m.ref = math.MinInt64 // never a stored way: counts as missing
		}
		ru.members = append(ru.members, m)
	}
}

// end finishes the current element.
func (ru *run) end() error {
	el := &ru.el
	defer func() { ru.el = element{} }()
	if el.skip {
		return nil
	}
	switch el.kind {
	case 'n':
		if len(ru.tags) == 0 || !isPOI(ru.tags) {
			return nil
		}
		return ru.emit(LayerPOIs, el.name(), orb.Point{toDegrees(el.lon), toDegrees(el.lat)}, ru.tags)
	case 'w':
		return ru.way()
	case 'r':
		return ru.relation()
	}
	return nil
}

// way keeps the way's node list when relations need it and emits it when
// its tags make it a feature.
func (ru *run) way() error {
	id, refs := ru.el.id, ru.refs
	if ru.want == nil || ru.want.has(id) {
		ru.ways.add(id, refs)
	}
	closed := len(refs) > 2 && refs[0] == refs[len(refs)-1]
	layer, kind := classifyWay(ru.tags, closed)
	if kind == geomNone {
		return nil
	}
	name := ru.el.name()
	switch kind {
	case geomLine:
		parts, missing := ru.lineParts(refs)
		if len(missing) > 0 {
			msg := fmt.Sprintf("%s not in input", describeMissing(missing, len(refs)))
			if len(parts) == 0 {
				ru.warn(WarnMissingNode, name, msg+"; no part of 2 or more nodes remains, way skipped")
				ru.st.Skipped++
				return nil
			}
			ru.warn(WarnMissingNode, name, fmt.Sprintf("%s; kept %d part(s) of the line", msg, len(parts)))
		}
		switch len(parts) {
		case 0:
			ru.warn(WarnBadGeometry, name, fmt.Sprintf("line of %d node(s) has fewer than 2 distinct points; skipped", len(refs)))
			ru.st.Skipped++
			return nil
		case 1:
			return ru.emit(layer, name, parts[0], ru.tags)
		default:
			return ru.emit(layer, name, orb.MultiLineString(parts), ru.tags)
		}
	default:
		ring, missing := ru.ring(refs)
		if len(missing) > 0 {
			ru.warn(WarnMissingNode, name, fmt.Sprintf("%s not in input; area skipped", describeMissing(missing, len(refs))))
			ru.st.Skipped++
			return nil
		}
		if err := orientRing(ring, orb.CCW); err != nil {
			ru.warn(WarnBadGeometry, name, err.Error()+"; area skipped")
			ru.st.Skipped++
			return nil
		}
		return ru.emit(layer, name, orb.Polygon{ring}, ru.tags)
	}
}

// describeMissing says which node references were not found.
func describeMissing(missing []int64, total int) string {
	const show = 5
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d node references (", len(missing), total)
	for i, id := range missing {
		if i == show {
			fmt.Fprintf(&b, ", … %d more", len(missing)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if id == math.MinInt64 {
			b.WriteString("invalid ref")
		} else {
			b.WriteString(elementName('n', id))
		}
	}
	b.WriteString(")")
	return b.String()
}

// lineParts resolves a line's nodes into the runs of consecutive found
// nodes that have at least 2 distinct points, and the missing ids.
func (ru *run) lineParts(refs []int64) (parts []orb.LineString, missing []int64) {
	var cur orb.LineString
	flush := func() {
		if len(cur) >= 2 {
			parts = append(parts, cur)
		}
		cur = nil
	}
	for _, ref := range refs {
		lon, lat, ok := ru.nodes.get(ref)
		if !ok {
			missing = append(missing, ref)
			flush()
			continue
		}
		p := orb.Point{toDegrees(lon), toDegrees(lat)}
		if len(cur) > 0 && cur[len(cur)-1] == p {
			continue
		}
		cur = append(cur, p)
	}
	flush()
	return parts, missing
}

// ring resolves a closed node list into a ring without repeated
// consecutive points.
func (ru *run) ring(refs []int64) (orb.Ring, []int64) {
	var missing []int64
	ring := make(orb.Ring, 0, len(refs))
	for _, ref := range refs {
		lon, lat, ok := ru.nodes.get(ref)
		if !ok {
			missing = append(missing, ref)
			continue
		}
		p := orb.Point{toDegrees(lon), toDegrees(lat)}
		if len(ring) > 0 && ring[len(ring)-1] == p {
			continue
		}
		ring = append(ring, p)
	}
	return ring, missing
}

// emit builds, checks and hands on a feature.
func (ru *run) emit(layer, id string, g orb.Geometry, tags tagList) error {
	ru.problems = ru.problems[:0]
	props, height, floors := properties(tags, &ru.problems)
	for _, p := range ru.problems {
		ru.warn(WarnBadTag, id, fmt.Sprintf("%s=%q is not %s; kept as text in %s_raw", p.key, p.value, p.want, p.key))
	}
	if layer != LayerBuildings && layer != LayerBuildingParts {
		floors = 0
		if _, ok := props["height"]; !ok {
			height = 0
		}
	}
	f := &spatial.Feature{
		Layer:      LayerName(ru.opts.Layer, layer),
		ID:         id,
		Geometry:   g,
		Properties: props,
		Height:     height,
		Floors:     floors,
	}
	if err := f.Prepare(); err != nil {
		ru.warn(WarnBadGeometry, id, fmt.Sprintf("%v; skipped", err))
		ru.st.Skipped++
		return nil
	}
	if err := ru.sink(f); err != nil {
		return &importers.Error{File: ru.opts.File, Line: ru.el.line, Column: ru.el.col, Feature: int(ru.st.Features + 1),
			Err: fmt.Errorf("osm: %s: sink: %w", id, err)}
	}
	ru.st.Features++
	ru.st.Layers[layer]++
	ru.rep.Feature()
	return nil
}
