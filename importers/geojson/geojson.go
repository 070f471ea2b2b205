package geojson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// DefaultLayer is the layer used when Options.Layer is empty.
const DefaultLayer = "geojson"

// Stats summarises an import.
type Stats struct {
	// Form is how the input was laid out: "FeatureCollection", "Feature",
	// "Geometry" (a bare geometry), "array" (a JSON array of Features) or
	// "sequence" (several texts: GeoJSONSeq, NDJSON, RFC 8142).
	Form string
	// CRS is the code of the system the coordinates were converted from:
	// Options.CRS, else the "crs" of the top-level FeatureCollection, else
	// "EPSG:4326". Other "crs" members (of features, geometries, later
	// texts of a sequence) are not reflected.
	CRS string
	// Features counts the features passed to the sink, Vertices their
	// positions.
	Features, Vertices int64
	// Bytes counts the bytes read.
	Bytes int64
}

// Import reads GeoJSON from r and passes each feature, prepared, to sink.
// The Stats count what was delivered, also when there is an error.
//
// The input may be a FeatureCollection (streamed feature by feature), a
// single Feature or geometry, a JSON array of Features, or a sequence of
// any of these: newline-delimited GeoJSON (GeoJSONSeq, NDJSON) or an
// RFC 8142 text sequence with RS separators. See the package
// documentation for the rules.
//
// Every error that concerns the input, including the sink's, is an
// *importers.Error with the file name, the 1-based line and byte column
// and, inside a feature, the 1-based feature number; errors.Is matches
// importers.ErrFormat for input that is not GeoJSON, spatial.ErrInvalid for
// features that Prepare rejects, crs.ErrUnknownCRS and the other crs
// errors, and the sink's own error. Features before the error have already
// been delivered.
func Import(r io.Reader, opts importers.Options, sink importers.Sink) (Stats, error) {
	if r == nil || sink == nil {
		return Stats{}, &importers.Error{File: opts.File, Err: errors.New("geojson: nil reader or sink")}
	}
	if opts.Layer == "" {
		opts.Layer = DefaultLayer
	}
	counter := &importers.CountingReader{R: r}
	im := &importer{
		opts: opts,
		sink: sink,
		lr:   newLineReader(counter),
		rep:  importers.NewReporter(opts, counter),
	}
	im.dec = json.NewDecoder(im.lr)
	im.geom.fixed = opts.CRS != nil
	im.stats.CRS = "EPSG:4326"
	if opts.CRS != nil {
		im.stats.CRS = opts.CRS.Code()
	}
	err := im.run()
	im.rep.Done()
	im.stats.Features = im.rep.Features()
	im.stats.Bytes = counter.Count()
	if err != nil {
		return im.stats, im.wrap(err)
	}
	return im.stats, nil
}

// importer is the state of one Import.
type importer struct {
	opts importers.Options
	sink importers.Sink
	lr   *lineReader
	rep  *importers.Reporter
	dec  *json.Decoder

	n       int             // features seen
	cur     int             // the feature being read, 0 between features
	collCRS crs.CRS         // the enclosing FeatureCollection's "crs"
	raw     json.RawMessage // reused buffer for one feature
	geom    parser
	stats   Stats
}

// run reads the first JSON text, streaming it, then any further texts of a
// sequence.
func (im *importer) run() error {
	tok, err := im.dec.Token()
	if err == io.EOF {
		return badAt(im.lr.Offset(), "no GeoJSON: the input is empty")
	}
	if err != nil {
		return im.tokenErr(err)
	}
	switch tok {
	case json.Delim('{'):
		err = im.streamObject(im.dec.InputOffset() - 1)
	case json.Delim('['):
		im.stats.Form = "array"
		err = im.featureArray("the top-level array", true)
	default:
		err = badAt(im.lr.firstByte, "the input is %s, want a GeoJSON object", tokenKind(tok))
	}
	if err != nil {
		return err
	}
	im.collCRS = nil // a collection's "crs" does not reach later texts
	for {
		im.lr.forget(im.dec.InputOffset())
		if !im.dec.More() {
			tok, err := im.dec.Token()
			switch {
			case err == io.EOF:
				return nil
			case err != nil:
				return im.tokenErr(err)
			}
			return badAt(im.dec.InputOffset()-1, "unexpected %v", tok)
		}
		im.stats.Form = "sequence"
		im.cur = im.n + 1 // provisional: the text is a feature unless a collection
		if err := im.dec.Decode(&im.raw); err != nil {
			return im.decodeErr(err)
		}
		if err := im.text(span{b: im.raw, off: im.dec.InputOffset() - int64(len(im.raw))}); err != nil {
			return err
		}
	}
}

// tokenKind names a JSON token for error messages.
func tokenKind(tok json.Token) string {
	switch tok.(type) {
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// streamObject reads the members of the top-level object whose '{' is at
// start, streaming a "features" array.
func (im *importer) streamObject(start int64) error {
	m := members{start: start}
	var typ string
	streamed := false
	for im.dec.More() {
		keyOff := im.nextValue()
		tok, err := im.dec.Token()
		if err != nil {
			return im.tokenErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return badAt(keyOff, "want a member name, got %s", tokenKind(tok))
		}
		if key == "features" && (typ == "" || typ == typeFeatureCollection) {
			if err := im.featureArray(`"features"`, false); err != nil {
				return err
			}
			streamed = true
			continue
		}
		var raw json.RawMessage
		if err := im.dec.Decode(&raw); err != nil {
			return im.decodeErr(err)
		}
		v := span{b: raw, off: im.dec.InputOffset() - int64(len(raw))}
		c := v.cursor()
		if err := im.geom.readMember(&m, key, &c); err != nil {
			return err
		}
		switch key {
		case "type":
			if typ, err = typeName(v); err != nil {
				return err
			}
			if !isGeoJSONType(typ) {
				return badAt(v.off, "unknown GeoJSON type %q (want FeatureCollection, Feature or a geometry type)", typ)
			}
			if streamed && typ != typeFeatureCollection {
				return badAt(v.off, `a %s cannot have a "features" member`, typ)
			}
			im.stats.Form = typ
			if isGeometryType(typ) {
				im.stats.Form = "Geometry"
			}
		case "crs":
			c, err := parseCRS(v)
			if err != nil {
				return err
			}
			if streamed && im.opts.CRS == nil && c != nil && !isLonLat(c) {
				return badAt(v.off, `"crs" %s comes after "features": put it first, or set Options.CRS`, c.Code())
			}
			im.collCRS = c
			if c != nil && im.opts.CRS == nil {
				im.stats.CRS = c.Code()
			}
		}
	}
	endOff := im.nextByte()
	if _, err := im.dec.Token(); err != nil {
		return im.tokenErr(err)
	}
	switch {
	case typ == "":
		return badAt(endOff, `the object has no "type" member`)
	case typ == typeFeatureCollection:
		if !streamed {
			return badAt(m.typ.off, `FeatureCollection has no "features" array`)
		}
		return nil
	}
	return im.single(&m, typ)
}

// isLonLat reports whether c is WGS 84 or CGCS2000 longitude/latitude,
// which need no conversion.
func isLonLat(c crs.CRS) bool { return c.Code() == "EPSG:4326" || c.Code() == "EPSG:4490" }

// featureArray streams an array of Features; what names it in errors and
// opened tells whether its '[' has been read.
func (im *importer) featureArray(what string, opened bool) error {
	if !opened {
		off := im.nextValue()
		tok, err := im.dec.Token()
		if err != nil {
			return im.tokenErr(err)
		}
		if tok != json.Delim('[') {
			return badAt(off, "%s must be an array, got %s", what, tokenKind(tok))
		}
	}
	for im.dec.More() {
		im.n++
		im.cur = im.n
		if err := im.dec.Decode(&im.raw); err != nil {
			return im.decodeErr(err)
		}
		v := span{b: im.raw, off: im.dec.InputOffset() - int64(len(im.raw))}
		if err := im.feature(v); err != nil {
			return err
		}
		im.lr.forget(im.dec.InputOffset())
	}
	if _, err := im.dec.Token(); err != nil {
		return im.tokenErr(err)
	}
	return nil
}

// text handles a complete JSON text after the first one of a sequence.
func (im *importer) text(v span) error {
	c := v.cursor()
	if c.peek() != '{' {
		return badAt(v.off, "a GeoJSON text sequence holds %s, want a GeoJSON object", kind(c.peek()))
	}
	m, err := im.geom.readMembers(v)
	if err != nil {
		return err
	}
	typ, err := typeName(m.typ)
	if err != nil {
		return err
	}
	switch {
	case typ == "":
		return badAt(m.start, `the object has no "type" member`)
	case typ == typeFeatureCollection:
		return im.embeddedCollection(&m)
	case !isGeoJSONType(typ):
		return badAt(m.typ.off, "unknown GeoJSON type %q (want FeatureCollection, Feature or a geometry type)", typ)
	}
	return im.single(&m, typ)
}

// embeddedCollection reads the features of a FeatureCollection held in
// memory (a later text of a sequence).
func (im *importer) embeddedCollection(m *members) error {
	im.cur = 0
	outer := im.collCRS
	defer func() { im.collCRS = outer }()
	if m.crs.present() {
		c, err := parseCRS(m.crs)
		if err != nil {
			return err
		}
		im.collCRS = c
	}
	if !m.features.present() {
		return badAt(m.typ.off, `FeatureCollection has no "features" array`)
	}
	c := m.features.cursor()
	if c.peek() != '[' {
		return badAt(m.features.off, `"features" must be an array, got %s`, kind(c.peek()))
	}
	return c.array(func() error {
		start := c.i
		if !c.skip() {
			return c.malformed()
		}
		im.n++
		im.cur = im.n
		return im.feature(span{b: c.b[start:c.i], off: c.offAt(start)})
	})
}

// single handles a lone Feature or geometry object.
func (im *importer) single(m *members, typ string) error {
	im.n++
	im.cur = im.n
	if typ == typeFeature {
		return im.buildFeature(m)
	}
	return im.buildGeometry(m)
}

// feature handles an element of a features array.
func (im *importer) feature(v span) error {
	m, err := im.geom.readMembers(v)
	if err != nil {
		return err
	}
	typ, err := typeName(m.typ)
	switch {
	case err != nil:
		return err
	case typ == "":
		return badAt(m.start, `the feature has no "type" member`)
	case typ != typeFeature:
		return badAt(m.typ.off, `a features array holds type %q, want "Feature"`, typ)
	}
	return im.buildFeature(&m)
}

// featureCRS returns the CRS of a feature: Options.CRS, else its own
// "crs", else the collection's.
func (im *importer) featureCRS(m *members) (crs.CRS, error) {
	if im.opts.CRS != nil {
		return im.opts.CRS, nil
	}
	if m.crs.present() {
		c, err := parseCRS(m.crs)
		if err != nil || c != nil {
			return c, err
		}
	}
	return im.collCRS, nil
}

// buildFeature converts a Feature object and emits it.
func (im *importer) buildFeature(m *members) error {
	c, err := im.featureCRS(m)
	if err != nil {
		return err
	}
	switch {
	case !m.geometry.present():
		return at(m.start, errNoGeometry)
	case m.geometry.null():
		return at(m.geometry.off, errNoGeometry)
	case !m.hasGeom:
		cur := m.geometry.cursor()
		return badAt(m.geometry.off, `"geometry" must be an object or null, got %s`, kind(cur.peek()))
	case m.properties.present() && !m.properties.null() && m.props == nil && m.properties.b[0] != '{':
		cur := m.properties.cursor()
		return badAt(m.properties.off, `"properties" must be an object or null, got %s`, kind(cur.peek()))
	}
	g, z, hasZ, err := im.geom.build(&m.geom, c, 0)
	if err != nil {
		return err
	}
	f := &spatial.Feature{Layer: im.opts.Layer, Geometry: g, Properties: m.props}
	if m.id.present() && !m.id.null() {
		cur := m.id.cursor()
		v, err := cur.value()
		if err != nil {
			return err
		}
		switch v.(type) {
		case string, int64, float64:
			f.ID, _ = idString(v)
		default:
			return badAt(m.id.off, `"id" must be a string or a number, got %s`, importers.Kind(v))
		}
	}
	if f.ID == "" {
		if id, ok := idString(f.Properties["id"]); ok {
			f.ID = id
		}
	}
	return im.finish(f, c, z, hasZ, m.propOffs, m.start, m.geometry.off)
}

// buildGeometry converts a bare geometry object into a feature and emits
// it.
func (im *importer) buildGeometry(m *members) error {
	o, err := geomFromMembers(m)
	if err != nil {
		return err
	}
	c := im.opts.CRS
	if c == nil {
		c = im.collCRS
	}
	g, z, hasZ, err := im.geom.build(&o, c, 0)
	if err != nil {
		return err
	}
	f := &spatial.Feature{Layer: im.opts.Layer, Geometry: g}
	return im.finish(f, c, z, hasZ, propOffsets{}, m.start, m.start)
}

// finish completes a feature (default id, z, typed properties), prepares
// it and passes it to the sink. start and geomOff locate the feature and
// its geometry for errors.
func (im *importer) finish(f *spatial.Feature, c crs.CRS, z float64, hasZ bool, offs propOffsets, start, geomOff int64) error {
	if f.ID == "" {
		f.ID = strconv.Itoa(im.n)
	}
	if hasZ {
		if f.Properties == nil {
			f.Properties = make(map[string]any, 1)
		}
		f.Properties["z"] = z
	}
	if k, err := importers.ApplyTypedProperties(f, importers.PropertyRules{}); err != nil {
		return at(offs[propertyKey(k)], fmt.Errorf("property %q: %w", k, err))
	}
	if err := f.Prepare(); err != nil {
		if gerr := spatial.CheckGeometry(f.Geometry); gerr != nil {
			if c == nil && outsideLonLat(f.Geometry) {
				err = fmt.Errorf(`%w (projected coordinates? declare them with a "crs" member or Options.CRS)`, err)
			}
			return at(geomOff, err)
		}
		return at(start, err)
	}
	if err := im.sink(f); err != nil {
		return at(start, err)
	}
	im.rep.Feature()
	im.stats.Vertices += int64(vertices(f.Geometry))
	im.cur = 0
	return nil
}

// vertices counts the positions of a geometry.
func vertices(g orb.Geometry) int {
	switch v := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(v)
	case orb.LineString:
		return len(v)
	case orb.MultiLineString:
		n := 0
		for _, l := range v {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range v {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range v {
			n += vertices(p)
		}
		return n
	case orb.Collection:
		n := 0
		for _, m := range v {
			n += vertices(m)
		}
		return n
	}
	return 0
}

// nextByte returns the input offset of the next non-space byte the
// decoder holds (or of the end of its buffer).
func (im *importer) nextByte() int64 {
	b, _ := io.ReadAll(im.dec.Buffered())
	return im.dec.InputOffset() + int64(len(b)-len(bytes.TrimLeft(b, " \t\r\n")))
}

// nextValue returns the input offset of the next value or member name the
// decoder holds, past a ',' or ':' that the decoder has not consumed yet.
func (im *importer) nextValue() int64 {
	b, _ := io.ReadAll(im.dec.Buffered())
	rest := bytes.TrimLeft(b, " \t\r\n")
	if len(rest) > 0 && (rest[0] == ',' || rest[0] == ':') {
		rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	}
	return im.dec.InputOffset() + int64(len(b)-len(rest))
}

// tokenErr converts an error from Decoder.Token.
func (im *importer) tokenErr(err error) error {
	var se *json.SyntaxError
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return badAt(im.lr.Offset(), "unexpected end of input (truncated JSON)")
	case errors.As(err, &se):
		return badAtCause(im.nextByte(), se, "invalid JSON")
	}
	return at(im.lr.Offset(), fmt.Errorf("read: %w", err))
}

// decodeErr converts an error from Decoder.Decode. The decoder's syntax
// error offsets are not input offsets, so the offending byte is found
// again from the bytes the decoder still holds.
func (im *importer) decodeErr(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badAt(im.lr.Offset(), "unexpected end of input (truncated JSON)")
	case errors.As(err, &se):
		b, _ := io.ReadAll(im.dec.Buffered())
		return badAtCause(im.dec.InputOffset()+syntaxErrorAt(b), se, "invalid JSON")
	}
	return at(im.lr.Offset(), fmt.Errorf("read: %w", err))
}

// syntaxErrorAt returns the index in b of the first byte that makes b not
// start with a valid JSON value, after white space and one separator.
// When that value is valid, the separator before it was missing and its
// first byte is returned.
func syntaxErrorAt(b []byte) int64 {
	i := len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
	if i < len(b) && (b[i] == ',' || b[i] == ':') {
		i++
		i += len(b[i:]) - len(bytes.TrimLeft(b[i:], " \t\r\n"))
	}
	var raw json.RawMessage
	if json.NewDecoder(bytes.NewReader(b[i:])).Decode(&raw) == nil {
		return int64(i)
	}
	var se *json.SyntaxError
	if errors.As(json.Unmarshal(b[i:], &raw), &se) && se.Offset > 0 {
		return int64(i) + se.Offset - 1
	}
	return int64(i)
}

// wrap converts an internal error into an *importers.Error.
func (im *importer) wrap(err error) error {
	e := &importers.Error{File: im.opts.File, Feature: im.cur, Err: err}
	off := im.lr.Offset()
	var pe *posError
	if errors.As(err, &pe) {
		off, e.Err = pe.off, pe.err
	}
	e.Line, e.Column = im.lr.position(off)
	return e
}
